import { parseArgs } from "node:util";
import { runRouter } from "./offline/router";
import { listStacks } from "./offline/stack-files";

const usage = () => `usage: npm run --silent router -- --stack <${listStacks().join("|")}> --site <name>\n`;

/** `npm run router -- --stack prod --site tokyo-office`: see runRouter. */
async function main(): Promise<number> {
    let values: { stack?: string; site?: string; help?: boolean };
    try {
        ({ values } = parseArgs({ options: { stack: { type: "string" }, site: { type: "string" }, help: { type: "boolean", default: false } } }));
    } catch (error) {
        process.stderr.write(`alertline router: ${error instanceof Error ? error.message : String(error)}\n${usage()}`);
        return 1;
    }
    if (values.help) {
        process.stdout.write(usage());
        return 0;
    }
    if (values.stack === undefined || values.site === undefined) {
        process.stderr.write(`alertline router: ${values.stack === undefined ? "--stack" : "--site"} is required\n${usage()}`);
        return 1;
    }
    const result = await runRouter(values.stack, values.site);
    process.stderr.write(result.stderr);
    await new Promise<void>((resolve) => process.stdout.write(result.stdout, () => resolve()));
    return result.code;
}

main().then((code) => process.exit(code));
