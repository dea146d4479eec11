import { parseArgs } from "node:util";
import { runPlan } from "./plan";
import { listStacks } from "./stack-files";

/** `npm run plan -- --stack dev [--json]`: see runPlan. */
async function main(): Promise<number> {
    const { values } = parseArgs({
        options: { stack: { type: "string", default: "dev" }, json: { type: "boolean", default: false }, help: { type: "boolean", default: false } },
    });
    if (values.help) {
        process.stdout.write(`usage: npm run plan -- --stack <${listStacks().join("|")}> [--json]\n`);
        return 0;
    }
    const result = await runPlan(values.stack ?? "dev", { json: values.json });
    process.stderr.write(result.stderr);
    // On a pipe stdout is asynchronous: exit only once the whole plan has been handed over.
    await new Promise<void>((resolve) => process.stdout.write(result.stdout, () => resolve()));
    return result.code;
}

main().then((code) => process.exit(code));
