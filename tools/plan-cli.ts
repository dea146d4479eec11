import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runPlan } from "./offline/plan";
import { listStacks } from "./offline/stack-files";

const usage = () =>
    `usage: npm run --silent plan -- --stack <${listStacks().join("|")}> [--json] [--diff BEFORE.json]\n` +
    `  --stack   the stack to plan (required)\n` +
    `  --json    the plan as one JSON document on stdout (everything else on stderr)\n` +
    `  --diff    compare with BEFORE.json, a previous --json plan: added, removed, modified per resource\n` +
    `exit codes: 0 planned, 1 bad config or mandatory policy violation, 2 bad command line\n`;

/** `npm run plan -- --stack dev [--json | --diff BEFORE.json]`: see runPlan. Exit 2 for a bad command line. */
async function main(): Promise<number> {
    let values: { stack?: string; json?: boolean; diff?: string; help?: boolean };
    try {
        ({ values } = parseArgs({
            options: { stack: { type: "string" }, json: { type: "boolean", default: false }, diff: { type: "string" }, help: { type: "boolean", default: false } },
        }));
    } catch (error) {
        process.stderr.write(`alertline plan: ${error instanceof Error ? error.message : String(error)}\n${usage()}`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(usage());
        return 0;
    }
    if (values.stack === undefined) {
        process.stderr.write(`alertline plan: --stack is required (stacks here: ${listStacks().join(", ")})\n${usage()}`);
        return 2;
    }
    if (values.json && values.diff !== undefined) {
        process.stderr.write(`alertline plan: --json and --diff do not go together: make the JSON plan first, then --diff against it\n${usage()}`);
        return 2;
    }
    let before: unknown;
    if (values.diff !== undefined) {
        try {
            before = JSON.parse(readFileSync(values.diff, "utf8"));
        } catch (error) {
            process.stderr.write(
                `alertline plan: --diff ${values.diff} is not a readable --json plan (${error instanceof Error ? error.message : String(error)}); ` +
                    `make one with: npm run --silent plan -- --stack ${values.stack} --json > ${values.diff}\n`,
            );
            return 2;
        }
    }
    const result = await runPlan(values.stack, { json: values.json, before });
    process.stderr.write(result.stderr);
    // On a pipe stdout is asynchronous: exit only once the whole plan has been handed over.
    await new Promise<void>((resolve) => process.stdout.write(result.stdout, () => resolve()));
    return result.code;
}

main().then((code) => process.exit(code));
