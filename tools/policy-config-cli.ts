import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { decodeConfigValue } from "../components/shared/stack-config";
import { validatePolicyLevels } from "./offline/policy-runner";
import { listStacks, readStackConfig } from "./offline/stack-files";
import { readCommandLine, stackProblem, usageProblem } from "./command-line";

/**
 * `npm run --silent policy-config -- --stack <s> --out <file>`: turns the stack's
 * `alertline:policyLevels` into the file `pulumi preview|up --policy-pack-config` reads, in
 * CrossGuard's format `{ "<policy>": { "enforcementLevel": "advisory" } }`
 * (https://www.pulumi.com/docs/iac/packages-and-automation/crossguard/configuration/).
 * Prints the file's path, or nothing (and writes nothing) when the stack lowers no policy. The
 * names are checked against the pack, because the Pulumi CLI ignores an unknown one silently.
 */
export function policyPackConfig(levelsText: string | undefined): Record<string, { enforcementLevel: string }> | undefined {
    if (levelsText === undefined) return undefined;
    const levels = validatePolicyLevels(decodeConfigValue(levelsText));
    const entries = Object.entries(levels);
    return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([name, level]) => [name, { enforcementLevel: level }]));
}

const usage = () =>
    `usage: npm run --silent policy-config -- --stack <${listStacks().join("|")}> --out <file.json>\n` +
    `  writes the stack's alertline:policyLevels as the file pulumi preview|up --policy-pack-config reads; prints its path, or nothing when the stack lowers no policy\n` +
    `exit codes: 0 written (or nothing to write), 1 bad alertline:policyLevels, 2 bad command line\n`;

function main(): number {
    const line = readCommandLine<{ stack?: string; out?: string }>("alertline policy-config", { stack: { type: "string" }, out: { type: "string" } }, usage);
    if ("exit" in line) return line.exit;
    const { values } = line;
    const problem = stackProblem(values.stack) ?? (values.out === undefined ? "--out is required" : undefined);
    if (problem !== undefined || values.stack === undefined || values.out === undefined) return usageProblem("alertline policy-config", problem ?? "", usage).exit;
    try {
        const config = policyPackConfig(readStackConfig(values.stack).config["alertline:policyLevels"]);
        if (config === undefined) return 0;
        writeFileSync(values.out, `${JSON.stringify(config, null, 2)}\n`);
        process.stdout.write(`${path.resolve(values.out)}\n`);
        return 0;
    } catch (error) {
        process.stderr.write(`alertline:policyLevels of stack "${values.stack}": ${error instanceof Error ? error.message : String(error)}\n`);
        return 1;
    }
}

if (require.main === module) process.exitCode = main();
