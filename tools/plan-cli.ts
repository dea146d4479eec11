import { readFileSync } from "node:fs";
import { readCommandLine, stackProblem, usageProblem } from "./command-line";
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
    const line = readCommandLine<{ stack?: string; json?: boolean; diff?: string }>(
        "alertline plan",
        { stack: { type: "string" }, json: { type: "boolean", default: false }, diff: { type: "string" } },
        usage,
    );
    if ("exit" in line) return line.exit;
    const { values } = line;
    const problem = stackProblem(values.stack);
    if (problem !== undefined || values.stack === undefined) return usageProblem("alertline plan", problem ?? "", usage).exit;
    if (values.json && values.diff !== undefined) {
        return usageProblem("alertline plan", "--json and --diff do not go together: make the JSON plan first, then --diff against it", usage).exit;
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
