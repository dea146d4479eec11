import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../tools/offline/stack-files";

/**
 * The AWS calls a function's code makes, read from its source: every `new XxxCommand(` whose class
 * is imported from an `@aws-sdk/client-*` package or `@aws-sdk/lib-dynamodb`, in the function's
 * folder and in every module of functions/ it imports, transitively. A new call appears here
 * without anyone listing it, and the IAM simulation then demands a grant for it.
 */

export interface SdkCommandUse {
    /** The package the command class comes from, e.g. "@aws-sdk/client-ssm". */
    readonly pkg: string;
    /** The command class, e.g. "CancelCommandCommand". */
    readonly command: string;
    /** Where it is constructed, relative to the project root. */
    readonly file: string;
}

const FUNCTIONS = path.join(PROJECT_ROOT, "functions");

/** The folders under functions/ that are deployed as functions (they have a handler.ts). */
export function functionFolders(): string[] {
    return readdirSync(FUNCTIONS).filter((name) => existsSync(path.join(FUNCTIONS, name, "handler.ts")));
}

interface ImportClause {
    readonly names: { imported: string; local: string }[];
    readonly from: string;
}

/** `import { A, type B, C as D } from "x"` and `export { … } from "x"` clauses of a module. */
function importsOf(source: string): ImportClause[] {
    const clauses: ImportClause[] = [];
    for (const match of source.matchAll(/(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
        const names = match[1]
            .split(",")
            .map((part) => part.trim())
            .filter((part) => part !== "" && !part.startsWith("type "))
            .map((part) => {
                const [imported, local] = part.split(/\s+as\s+/);
                return { imported: imported.trim(), local: (local ?? imported).trim() };
            });
        clauses.push({ names, from: match[2] });
    }
    for (const match of source.matchAll(/(?:import|export)\s+(?:\*\s+as\s+[\w$]+|[\w$]+)\s+from\s*"([^"]+)"/g)) clauses.push({ names: [], from: match[1] });
    return clauses;
}

function resolveRelative(fromFile: string, specifier: string): string {
    const base = path.resolve(path.dirname(fromFile), specifier);
    for (const candidate of [`${base}.ts`, path.join(base, "index.ts"), base]) if (existsSync(candidate) && candidate.endsWith(".ts")) return candidate;
    throw new Error(`${path.relative(PROJECT_ROOT, fromFile)} imports "${specifier}", which resolves to no .ts file`);
}

/** Every SDK command a function folder's code constructs, with the files it is constructed in. */
export function sdkCommandsOf(folder: string): SdkCommandUse[] {
    const root = path.join(FUNCTIONS, folder);
    const queue = readdirSync(root)
        .filter((name) => name.endsWith(".ts"))
        .map((name) => path.join(root, name));
    const seen = new Set<string>();
    const uses: SdkCommandUse[] = [];
    while (queue.length > 0) {
        const file = queue.shift()!;
        if (seen.has(file)) continue;
        seen.add(file);
        const source = readFileSync(file, "utf8");
        const sdkClasses = new Map<string, { pkg: string; imported: string }>();
        for (const clause of importsOf(source)) {
            if (clause.from.startsWith(".")) {
                const target = resolveRelative(file, clause.from);
                if (!target.startsWith(FUNCTIONS + path.sep)) throw new Error(`${path.relative(PROJECT_ROOT, file)} imports ${path.relative(PROJECT_ROOT, target)}, outside functions/`);
                queue.push(target);
            } else if (clause.from.startsWith("@aws-sdk/")) {
                if (!/^@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb)$/.test(clause.from)) {
                    throw new Error(`${path.relative(PROJECT_ROOT, file)} imports ${clause.from}: teach test/iam/sdk-calls.ts which AWS calls that package makes`);
                }
                for (const name of clause.names) sdkClasses.set(name.local, { pkg: clause.from, imported: name.imported });
            }
        }
        for (const match of source.matchAll(/new\s+([\w$]+)\s*\(/g)) {
            const sdk = sdkClasses.get(match[1]);
            if (sdk !== undefined && sdk.imported.endsWith("Command")) uses.push({ pkg: sdk.pkg, command: sdk.imported, file: path.relative(PROJECT_ROOT, file) });
        }
    }
    return uses;
}
