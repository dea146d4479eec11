import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/**
 * Finds the taggable AWS resource types in the installed @pulumi/aws: every resource class whose
 * arguments include a `tags` key-value map. `npx tsx test/policy/aws-taggable-scan.ts`
 * regenerates policy/aws-taggable-types.ts after an @pulumi/aws upgrade; a test keeps the two equal.
 */

export const AWS_PACKAGE_DIR = path.dirname(require.resolve("@pulumi/aws/package.json"));
export const GENERATED_FILE = path.resolve(__dirname, "..", "..", "policy", "aws-taggable-types.ts");

function* jsFiles(dir: string): Generator<string> {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory() && entry.name !== "node_modules") yield* jsFiles(full);
        else if (entry.isFile() && entry.name.endsWith(".js")) yield full;
    }
}

/** Sorted Pulumi types of the taggable resources in an @pulumi/aws install. */
export function scanTaggableAwsTypes(packageDir = AWS_PACKAGE_DIR): string[] {
    const types: string[] = [];
    for (const file of jsFiles(packageDir)) {
        const source = readFileSync(file, "utf8");
        const type = /static __pulumiType = '(aws:[^']+)'/.exec(source)?.[1];
        if (type === undefined || !/resourceInputs\["tags"\] = args/.test(source)) continue;
        // A key-value map, not the list (autoscaling groups) or filter (DevOps Guru) that two resources call `tags`.
        const args = /export interface \w+Args \{([\s\S]*?)\n\}/.exec(readFileSync(file.replace(/\.js$/, ".d.ts"), "utf8"))?.[1] ?? "";
        if (/^\s+tags\??: pulumi\.Input<\{/m.test(args)) types.push(type);
    }
    return types.sort();
}

export function awsPackageVersion(packageDir = AWS_PACKAGE_DIR): string {
    return (JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string }).version;
}

/** The generated module's text. */
export function renderTaggableTypes(types: readonly string[], version: string): string {
    return [
        `// Generated from @pulumi/aws ${version} by \`npx tsx test/policy/aws-taggable-scan.ts\`: every AWS resource`,
        "// whose inputs have a `tags` map. Do not edit by hand; regenerate after upgrading @pulumi/aws.",
        "export const AWS_TAGGABLE_TYPES: readonly string[] = [",
        ...types.map((t) => `    ${JSON.stringify(t)},`),
        "];",
        "",
    ].join("\n");
}

if (require.main === module) {
    const types = scanTaggableAwsTypes();
    writeFileSync(GENERATED_FILE, renderTaggableTypes(types, awsPackageVersion()));
    process.stdout.write(`wrote ${types.length} taggable types to ${path.relative(process.cwd(), GENERATED_FILE)}\n`);
}
