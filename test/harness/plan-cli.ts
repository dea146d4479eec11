import { parseArgs } from "node:util";
import { evaluateStack } from "./evaluate";
import { planJson, planText } from "./plan-format";
import { listStacks } from "./stack-files";

/**
 * `npm run plan -- --stack dev [--json]`: the real program with the real Pulumi.<stack>.yaml under
 * the mock engine the tests use. Prints what `pulumi preview` would create; exits 1 with the
 * program's own message on a bad config.
 */
async function main(): Promise<number> {
    const { values } = parseArgs({
        options: { stack: { type: "string", default: "dev" }, json: { type: "boolean", default: false }, help: { type: "boolean", default: false } },
    });
    if (values.help) {
        process.stdout.write(`usage: npm run plan -- --stack <${listStacks().join("|")}> [--json]\n`);
        return 0;
    }
    const stack = values.stack ?? "dev";
    try {
        const evaluation = await evaluateStack(stack, { loadProgram: () => import("../../index") });
        process.stdout.write(`${values.json ? planJson(evaluation) : planText(evaluation)}\n`);
        return 0;
    } catch (error) {
        process.stderr.write(`alertline plan for stack "${stack}" failed:\n${error instanceof Error ? error.message : String(error)}\n`);
        return 1;
    }
}

main().then((code) => process.exit(code));
