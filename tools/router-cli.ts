import { readCommandLine, stackProblem, usageProblem } from "./command-line";
import { runRouter } from "./offline/router";
import { listStacks } from "./offline/stack-files";

const usage = () => `usage: npm run --silent router -- --stack <${listStacks().join("|")}> --site <name>\nexit codes: 0 printed, 1 no such site or bad config, 2 bad command line\n`;

/** `npm run router -- --stack prod --site tokyo-office`: see runRouter. */
async function main(): Promise<number> {
    const line = readCommandLine<{ stack?: string; site?: string }>("alertline router", { stack: { type: "string" }, site: { type: "string" } }, usage);
    if ("exit" in line) return line.exit;
    const { values } = line;
    const problem = stackProblem(values.stack) ?? (values.site === undefined ? "--site is required" : undefined);
    if (problem !== undefined || values.stack === undefined || values.site === undefined) return usageProblem("alertline router", problem ?? "", usage).exit;
    const result = await runRouter(values.stack, values.site);
    process.stderr.write(result.stderr);
    await new Promise<void>((resolve) => process.stdout.write(result.stdout, () => resolve()));
    return result.code;
}

main().then((code) => process.exit(code));
