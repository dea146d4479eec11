// @ts-check
"use strict";
/**
 * Turns a stack's `alertline:policyLevels` into the policy pack config file that
 * `pulumi preview|up --policy-pack policy --policy-pack-config <file>` reads.
 *
 *   node .github/scripts/policy-pack-config.cjs <stack> <output.json>
 *
 * Reads `Pulumi.<stack>.yaml` (and, when the stack file does not set the key, a project-level
 * `value:`/`default:` in `Pulumi.yaml`) from the current directory. When the key is set and not
 * empty it writes the file and prints its path; when the key is absent or `{}` it writes nothing
 * and prints nothing, and the workflow passes no config file (the pack's own levels apply).
 *
 * File format (CrossGuard "Configuring policy packs", enforcement level per policy):
 *   { "<policy-name>": { "enforcementLevel": "advisory" | "mandatory" | "disabled" } }
 * https://www.pulumi.com/docs/iac/packages-and-automation/crossguard/configuration/
 * `all` sets every policy's level (a per-policy entry still wins), as in that format.
 * The checks below mirror `policyLevels` in components/stack-config.ts, so CI refuses the same
 * values the program refuses, before any cloud call; and, because the Pulumi CLI silently ignores
 * a config entry for a policy the pack does not have, every name must be one of the pack's
 * (policy/policies.ts, loaded through tsx; that module never constructs the PolicyPack).
 */
const fs = require("node:fs");
const path = require("node:path");
const YAML = require("yaml");

const KEY = "alertline:policyLevels";
const LEVELS = ["advisory", "mandatory", "disabled"];
const POLICY_NAME = /^[a-z0-9-]+$/;

/**
 * The policy pack config for one stack's `alertline:policyLevels` value, or undefined when there
 * is nothing to lower. Throws an Error naming the bad entry and the fix.
 * @param {unknown} levels the value of `alertline:policyLevels` (undefined when absent)
 * @param {string} where where the value came from, for messages
 * @param {() => string[]} packPolicyNames the names of the pack's policies (asked only when needed)
 * @returns {Record<string, { enforcementLevel: string }> | undefined}
 */
function policyPackConfig(levels, where, packPolicyNames) {
    if (levels === undefined || levels === null) return undefined;
    if (typeof levels !== "object" || Array.isArray(levels)) {
        throw new Error(`${where}: ${KEY} must be a map of policy name to level, e.g.\n  ${KEY}:\n    sns-topic-encrypted: advisory`);
    }
    /** @type {Record<string, { enforcementLevel: string }>} */
    const config = {};
    for (const [name, level] of Object.entries(levels)) {
        if (!POLICY_NAME.test(name)) {
            throw new Error(`${where}: ${KEY} has "${name}", which is not a policy name; use the name the pack reports, e.g. sns-topic-encrypted`);
        }
        if (typeof level !== "string" || !LEVELS.includes(level)) {
            throw new Error(`${where}: ${KEY}.${name} is ${JSON.stringify(level)}; it must be one of ${LEVELS.join(", ")}`);
        }
        config[name] = { enforcementLevel: level };
    }
    if (Object.keys(config).length === 0) return undefined;
    const known = packPolicyNames();
    const unknown = Object.keys(config).filter((name) => name !== "all" && !known.includes(name));
    if (unknown.length > 0) {
        throw new Error(
            `${where}: ${KEY} names ${unknown.map((n) => `"${n}"`).join(", ")}, which the policy pack does not have ` +
                `(pulumi would ignore it without a word); use one of: ${known.length ? known.join(", ") : "(the pack has no policies yet)"}, or all`,
        );
    }
    return config;
}

/**
 * Names of the policies in policy/policies.ts (resource and stack policies).
 * @param {string} dir project directory
 * @returns {string[]}
 */
function packPolicyNames(dir) {
    // @ts-ignore -- tsx ships this entry's types as .d.mts only, unseen under moduleResolution node10
    const { require: tsxRequire } = require("tsx/cjs/api");
    /** @type {{ resourcePolicies: { name: string }[], stackPolicies: { name: string }[] }} */
    const pack = tsxRequire(path.join(dir, "policy", "policies.ts"), __filename);
    return [...pack.resourcePolicies, ...pack.stackPolicies].map((p) => p.name);
}

/**
 * `alertline:policyLevels` as Pulumi resolves it for a stack: the stack file's value, else the
 * project's `value:` (or `default:`) in Pulumi.yaml.
 * @param {string} dir project directory
 * @param {string} stack stack name
 * @returns {{ levels: unknown, where: string }}
 */
function readPolicyLevels(dir, stack) {
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        throw new Error(`${stackFile} does not exist: pass a stack that has a Pulumi.<stack>.yaml (dev, prod)`);
    }
    const stackConfig = YAML.parse(fs.readFileSync(stackFile, "utf8"))?.config ?? {};
    if (stackConfig[KEY] !== undefined) return { levels: stackConfig[KEY], where: `Pulumi.${stack}.yaml` };

    const projectFile = path.join(dir, "Pulumi.yaml");
    const declared = fs.existsSync(projectFile) ? YAML.parse(fs.readFileSync(projectFile, "utf8"))?.config?.[KEY] : undefined;
    if (declared === undefined || declared === null) return { levels: undefined, where: "Pulumi.yaml" };
    if (typeof declared === "object" && !Array.isArray(declared) && ("value" in declared || "default" in declared)) {
        return { levels: "value" in declared ? declared.value : declared.default, where: "Pulumi.yaml" };
    }
    throw new Error(`Pulumi.yaml: a project-level ${KEY} must be written as { value: { <policy>: <level> } }; or set it per stack in Pulumi.<stack>.yaml`);
}

/** @param {string[]} argv */
function main(argv) {
    const [stack, output] = argv;
    if (!stack || !output) {
        process.stderr.write("usage: node .github/scripts/policy-pack-config.cjs <stack> <output.json>\n");
        return 2;
    }
    try {
        const { levels, where } = readPolicyLevels(process.cwd(), stack);
        const config = policyPackConfig(levels, where, () => packPolicyNames(process.cwd()));
        if (config === undefined) return 0;
        fs.writeFileSync(output, `${JSON.stringify(config, null, 2)}\n`);
        process.stdout.write(`${path.resolve(output)}\n`);
        return 0;
    } catch (error) {
        process.stderr.write(`policy pack config for stack "${stack}": ${error instanceof Error ? error.message : String(error)}\n`);
        return 1;
    }
}

module.exports = { policyPackConfig, readPolicyLevels, packPolicyNames };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
