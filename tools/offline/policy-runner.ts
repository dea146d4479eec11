import type {
    EnforcementLevel,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as path from "node:path";
import { resourcePolicies as packResourcePolicies, stackPolicies as packStackPolicies } from "../../policy/policies";
import { Registration, SecretValue, UnknownValue } from "./mock-engine";

/**
 * Runs CrossGuard policies over what the mock engine recorded, the way `pulumi preview
 * --policy-pack policy` runs them over a real deployment, for the tests, the offline plan and the
 * benchmark. It mirrors @pulumi/policy 1.21's analyzer server (server.js), which has no test
 * harness of its own (pulumi-policy#445):
 *
 * - every custom resource goes through every enabled resource policy, with its inputs as props:
 *   secrets unwrapped to plain values, values not known at preview as the engine's unknown
 *   sentinel, behind the same `unknownCheckingProxy`, rebuilt for each validation;
 * - every resource (components and the stack included) goes to each enabled stack policy, with its
 *   outputs as props (the engine runs stack policies on the final state), its parent, and its
 *   dependencies and property dependencies as resource objects;
 * - a policy that reads an unknown value is "not run": an advisory `can't run policy … during
 *   preview` verdict, worded as the engine words it; `notApplicable()` skips quietly; any other error
 *   fails the run, as it fails `pulumi preview`.
 *
 * Not modelled: resource options other than `parent` (the mock does not record them; defaults are
 * given), provider resources, stack tags and policy configuration (the pack uses neither).
 */

/** How much a policy's violations matter: the engine's levels, without `remediate`. */
export type PolicyLevel = "advisory" | "mandatory" | "disabled";
export const POLICY_LEVELS: readonly PolicyLevel[] = ["advisory", "mandatory", "disabled"];

/** One verdict: which policy, about which resource, how much it matters, and what to do. */
export interface Violation {
    readonly policy: string;
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly level: "advisory" | "mandatory";
    readonly message: string;
}

export interface RunPoliciesOptions {
    /** Per-policy levels that replace the policies' own (validate them with validatePolicyLevels). */
    readonly levels?: Readonly<Record<string, PolicyLevel>>;
    /** Policies to run instead of the pack's: for tests of the runner and the benchmark's baseline. */
    readonly policies?: { readonly resource?: readonly ResourceValidationPolicy[]; readonly stack?: readonly StackValidationPolicy[] };
}

/** @pulumi/policy as the pack itself loads it, so the proxy and its errors are the pack's own copy. */
const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");
const policySdk = require(require.resolve("@pulumi/policy", { paths: [POLICY_DIR] })) as typeof import("@pulumi/policy");
/** The engine marshals every value not known at preview as this sentinel (proxy.js `unknownStringValue`). */
const UNKNOWN_SENTINEL = (require(require.resolve("@pulumi/policy/proxy", { paths: [POLICY_DIR] })) as { unknownStringValue: string }).unknownStringValue;

/** The pack as the engine names it in its messages: `alertline-guardrails@v0.1.0`. */
const PACK = (() => {
    const { name, version } = require(path.join(POLICY_DIR, "package.json")) as { name: string; version: string };
    return `${name}@v${version}`;
})();

/** Names of the pack's policies, resource policies first, in pack order. */
export function policyNames(): string[] {
    return [...packResourcePolicies, ...packStackPolicies].map((p) => p.name);
}

/**
 * Checks a levels map (from stack config, a CLI flag…) against the pack: every key must name one
 * of its policies and every value be a level. Throws naming the first thing wrong and the choices.
 */
export function validatePolicyLevels(levels: unknown, names: readonly string[] = policyNames()): Record<string, PolicyLevel> {
    if (levels === null || typeof levels !== "object" || Array.isArray(levels)) {
        throw new Error(`policy levels must be a map of policy name to level (${POLICY_LEVELS.join(", ")}), got ${JSON.stringify(levels)}`);
    }
    for (const [name, level] of Object.entries(levels)) {
        if (!names.includes(name)) {
            throw new Error(`policy levels name an unknown policy "${name}"; the policies of alertline-guardrails are: ${names.join(", ")}`);
        }
        if (!POLICY_LEVELS.includes(level as PolicyLevel)) {
            throw new Error(`policy "${name}" has level ${JSON.stringify(level)}; use one of ${POLICY_LEVELS.join(", ")}`);
        }
    }
    return levels as Record<string, PolicyLevel>;
}

/** A recorded value as the engine hands it to a policy: secrets revealed, unknowns as the sentinel. */
function engineValue(value: unknown): unknown {
    if (value instanceof SecretValue) return engineValue(value.value);
    if (value instanceof UnknownValue) return UNKNOWN_SENTINEL;
    if (Array.isArray(value)) return value.map(engineValue);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, engineValue(v)]));
}

/** Props behind the engine's proxy; like the engine, properties whose value is undefined are absent. */
function engineProps(recorded: Record<string, unknown>): Record<string, any> {
    const props: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(recorded)) if (value !== undefined) props[key] = engineValue(value);
    return policySdk.unknownCheckingProxy(props);
}

function resourceOptions(registration: Registration): PolicyResourceOptions {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(registration.parent ? { parent: registration.parent } : {}),
    };
}

/** `isType`/`asType` as the engine builds them: a class matches on its `__pulumiType`, else its `isInstance`. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
    const pulumiType = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
    if (typeof pulumiType === "string" && pulumiType.length > 0) return type === pulumiType;
    const isInstance = (resourceClass as { isInstance?: unknown } | undefined)?.isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason ?? "Policy does not apply");
};
const NO_STACK_TAGS: ReadonlyMap<string, string> = new Map();

function isUnknownValueError(error: unknown): error is Error {
    return error instanceof policySdk.UnknownValueError || (error instanceof Error && "unknownTypeSentinel" in error);
}

/** The engine's level for a policy: the configured one, else the policy's, else the pack default (advisory). */
function levelOf(policy: { name: string; enforcementLevel?: EnforcementLevel }, levels: Readonly<Record<string, PolicyLevel>>): PolicyLevel {
    const level = (levels[policy.name] ?? policy.enforcementLevel ?? "advisory") as EnforcementLevel;
    return level === "remediate" ? "mandatory" : level;
}

/** Runs one validation; the outcome of an error is decided as the engine decides it. */
function runValidation(policyName: string, subject: string, run: () => unknown, notRun: (message: string) => void): void {
    try {
        const result = run();
        if (result !== undefined && typeof (result as Promise<unknown>)?.then === "function") {
            throw new Error("it returned a promise; runPolicies runs synchronous policies only (every policy of alertline-guardrails is)");
        }
    } catch (error) {
        if (error instanceof NotApplicable) return;
        if (isUnknownValueError(error)) return notRun(`can't run policy '${policyName}' from policy pack '${PACK}' during preview: ${error.message}`);
        throw new Error(`policy "${policyName}" failed on ${subject}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
}

/**
 * Every verdict of the pack (or the given policies) on a recorded deployment, resource policies
 * first in registration order, then stack policies. Disabled policies do not run.
 */
export function runPolicies(registrations: readonly Registration[], options: RunPoliciesOptions = {}): Violation[] {
    const levels = options.levels ?? {};
    const resourcePolicies = options.policies?.resource ?? packResourcePolicies;
    const stackPolicies = options.policies?.stack ?? packStackPolicies;
    const violations: Violation[] = [];

    for (const registration of registrations) {
        if (!registration.custom) continue;
        const { type, name, urn } = registration;
        for (const policy of resourcePolicies) {
            const level = levelOf(policy, levels);
            if (level === "disabled" || policy.validateResource === undefined) continue;
            const validations: ResourceValidation[] = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
            // The engine's fast path: a single validation tagged with a type skips other types.
            const only = (policy.validateResource as { __pulumiType?: unknown }).__pulumiType;
            if (!Array.isArray(policy.validateResource) && typeof only === "string" && only !== "" && only !== type) continue;
            const report: ReportViolation = (message, reportedUrn) => violations.push({ policy: policy.name, type, name, urn: reportedUrn ?? urn, level, message });
            for (const validation of validations) {
                runValidation(
                    policy.name,
                    `${type} "${name}"`,
                    () => {
                        const props = engineProps(registration.inputs);
                        const args: ResourceValidationArgs = {
                            type,
                            props,
                            urn,
                            name,
                            opts: resourceOptions(registration),
                            stackTags: NO_STACK_TAGS,
                            isType: (resourceClass) => isTypeOf(type, resourceClass),
                            asType: ((resourceClass: unknown) => (isTypeOf(type, resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
                            getConfig: <T extends object>() => ({}) as T,
                            notApplicable,
                        };
                        return validation(args, report);
                    },
                    (message) => violations.push({ policy: policy.name, type, name, urn, level: "advisory", message }),
                );
            }
        }
    }

    const stack = registrations.find((r) => r.type === "pulumi:pulumi:Stack");
    const byUrn = new Map(registrations.map((r) => [r.urn, r] as const));
    for (const policy of stackPolicies) {
        const level = levelOf(policy, levels);
        if (level === "disabled") continue;
        const only = (policy.validateStack as { __pulumiType?: unknown }).__pulumiType;
        if (typeof only === "string" && only !== "" && !registrations.some((r) => r.type === only)) continue;
        const subject = (urn: string | undefined) => byUrn.get(urn ?? "") ?? stack;
        const report: ReportViolation = (message, urn) => {
            const about = subject(urn);
            violations.push({ policy: policy.name, type: about?.type ?? "", name: about?.name ?? "", urn: urn ?? about?.urn ?? "", level, message });
        };
        runValidation(
            policy.name,
            "the stack",
            () => {
                const args: StackValidationArgs = { resources: policyResources(registrations), stackTags: NO_STACK_TAGS, getConfig: <T extends object>() => ({}) as T, notApplicable };
                return policy.validateStack(args, report);
            },
            (message) => violations.push({ policy: policy.name, type: stack?.type ?? "", name: stack?.name ?? "", urn: stack?.urn ?? "", level: "advisory", message }),
        );
    }
    return violations;
}

/** Every registration as the engine's PolicyResource: outputs as props, links as resource objects. */
function policyResources(registrations: readonly Registration[]): PolicyResource[] {
    const resources = registrations.map((registration) => {
        const { type, name, urn } = registration;
        const props = engineProps(registration.state);
        const resource: PolicyResource = {
            type,
            name,
            urn,
            props,
            opts: resourceOptions(registration),
            dependencies: [],
            propertyDependencies: {},
            isType: (resourceClass) => isTypeOf(type, resourceClass),
            asType: ((resourceClass: unknown) => (isTypeOf(type, resourceClass) ? props : undefined)) as PolicyResource["asType"],
        };
        return resource;
    });
    const byUrn = new Map(resources.map((r) => [r.urn, r] as const));
    const resolve = (urns: readonly string[] | undefined) => (urns ?? []).map((u) => byUrn.get(u)).filter((r): r is PolicyResource => r !== undefined);
    registrations.forEach((registration, i) => {
        const resource = resources[i];
        const parent = registration.parent ? byUrn.get(registration.parent) : undefined;
        if (parent) resource.parent = parent;
        resource.dependencies = resolve(registration.dependencies);
        for (const [property, urns] of Object.entries(registration.propertyDependencies ?? {})) resource.propertyDependencies[property] = resolve(urns);
    });
    return resources;
}

/** Violations that block a deployment. */
export function mandatory(violations: readonly Violation[]): Violation[] {
    return violations.filter((v) => v.level === "mandatory");
}

/** One line per violation, for test failures and logs. */
export function formatViolations(violations: readonly Violation[]): string {
    return violations.map((v) => `[${v.level}] ${v.policy} — ${v.type} "${v.name}": ${v.message}`).join("\n");
}
