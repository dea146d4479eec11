import { parseArgs, type ParseArgsConfig } from "node:util";
import { listStacks } from "./offline/stack-files";

/**
 * What every operator command does with its command line, so they all answer alike: a bad flag,
 * a missing value or an unknown stack is one sentence and the usage on stderr with exit 2 (a bad
 * command line), `--help` the usage on stdout with exit 0; never a Node.js stack trace.
 */

/** The exit code of a bad command line, for every tool. */
export const USAGE_EXIT = 2;

export type CommandLine<V> = { readonly values: V } | { readonly exit: number };

/**
 * Parses `args` (default the process's) with `options` plus `--help`. On a problem writes
 * `<command>: <problem>` and the usage to stderr and gives `{ exit: 2 }`; on `--help` the usage to
 * stdout and `{ exit: 0 }`.
 */
export function readCommandLine<V>(command: string, options: NonNullable<ParseArgsConfig["options"]>, usage: () => string, args?: string[]): CommandLine<V & { help?: boolean }> {
    try {
        const { values } = parseArgs({ args, options: { ...options, help: { type: "boolean", default: false } } });
        if (values.help === true) {
            process.stdout.write(usage());
            return { exit: 0 };
        }
        return { values: values as V & { help?: boolean } };
    } catch (error) {
        return usageProblem(command, error instanceof Error ? error.message : String(error), usage);
    }
}

/** Writes the problem and the usage to stderr; `{ exit: 2 }`. */
export function usageProblem(command: string, problem: string, usage: () => string): { exit: number } {
    process.stderr.write(`${command}: ${problem}\n${usage()}`);
    return { exit: USAGE_EXIT };
}

/** Why `stack` cannot be planned here (missing, or no `Pulumi.<stack>.yaml`), or undefined. */
export function stackProblem(stack: string | undefined): string | undefined {
    const stacks = listStacks();
    if (stack === undefined || stack === "") return `--stack is required (stacks here: ${stacks.join(", ")})`;
    if (!stacks.includes(stack)) return `no stack "${stack}" here (no Pulumi.${stack}.yaml); stacks here: ${stacks.join(", ")}`;
    return undefined;
}
