import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parseSettings, rawSettings, requiredSecrets } from "../../components/shared/stack-config";

/** Repository root: where Pulumi.yaml lives. */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** Stack configuration as `pulumi preview` hands it to the program. */
export interface StackConfigMap {
    /** Project name from Pulumi.yaml. */
    readonly project: string;
    /** `namespace:key` → value as text (structured values as JSON). */
    readonly config: Record<string, string>;
    /** Keys whose values are secrets. */
    readonly secretKeys: string[];
    /** Secret keys the offline plan filled with placeholders, since the stack file holds none. */
    readonly placeholders: string[];
}

/** Reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the CLI would for `pulumi preview --stack <stack>`. */
export function readStackConfig(stack: string, overrides: Record<string, unknown> = {}): StackConfigMap {
    const projectFile = path.join(PROJECT_ROOT, "Pulumi.yaml");
    const stackFile = path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
    if (!existsSync(stackFile)) {
        throw new Error(`no stack file ${path.basename(stackFile)}: stacks here are ${listStacks().join(", ")}`);
    }
    const project = parse(readFileSync(projectFile, "utf8")) as { name: string };
    const stackDoc = (parse(readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries({ ...stackDoc.config, ...overrides })) {
        if (value === undefined) continue;
        if (isSecure(value)) {
            // An encrypted value cannot be read offline: it counts as set, with a placeholder.
            secretKeys.push(key);
            continue;
        }
        config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const placeholders: string[] = [];
    const settings = tryParseSettings(config);
    if (settings) {
        for (const secret of requiredSecrets(settings)) {
            if (config[secret.key] !== undefined && !(secret.key in overrides)) {
                throw new Error(
                    `${secret.key} is stored in plain text in ${path.basename(stackFile)}: remove it and run ` +
                        `pulumi config set --secret ${secret.key} <value> --stack ${stack}`,
                );
            }
            if (!secretKeys.includes(secret.key)) secretKeys.push(secret.key);
            if (config[secret.key] !== undefined) continue;
            config[secret.key] = secret.placeholder;
            placeholders.push(secret.key);
        }
    }
    return { project: project.name, config, secretKeys, placeholders };
}

function isSecure(value: unknown): boolean {
    return value !== null && typeof value === "object" && "secure" in value;
}

/** Settings if they parse; otherwise undefined, and the program itself reports the problem. */
function tryParseSettings(config: Record<string, string>) {
    try {
        return parseSettings(rawSettings(config, "placeholder"));
    } catch {
        return undefined;
    }
}

/** Stacks with a `Pulumi.<stack>.yaml` beside Pulumi.yaml. */
export function listStacks(): string[] {
    return readdirSync(PROJECT_ROOT)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined);
}
