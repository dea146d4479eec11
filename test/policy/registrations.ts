import type { Registration } from "../../tools/offline/mock-engine";
import { SecretValue, UnknownValue } from "../../tools/offline/mock-engine";
import { runPolicies, Violation } from "../../tools/offline/policy-runner";

/**
 * Hand-built registrations for policy tests: what the mock engine would have recorded for a
 * resource, with the stack's URN scheme. Values may be SecretValue (a secret input) or UnknownValue
 * (an output not known at preview), which the runner turns into what the engine sends.
 */

export const STACK_URN = "urn:pulumi:test::alertline::pulumi:pulumi:Stack::alertline-test";

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::alertline::${type}::${name}`;
}

export interface ResourceExtras {
    /** Outputs, for stack policies; default: the inputs. */
    readonly state?: Record<string, unknown>;
    readonly custom?: boolean;
    readonly parent?: string;
    readonly dependencies?: string[];
    readonly propertyDependencies?: Record<string, string[]>;
}

export function resource(type: string, name: string, inputs: Record<string, unknown>, extras: ResourceExtras = {}): Registration {
    return {
        type,
        name,
        urn: urnOf(type, name),
        parent: extras.parent ?? STACK_URN,
        custom: extras.custom ?? true,
        id: `${name}-id`,
        inputs,
        state: extras.state ?? inputs,
        dependencies: extras.dependencies ?? Object.values(extras.propertyDependencies ?? {}).flat(),
        propertyDependencies: extras.propertyDependencies ?? {},
    };
}

/** The stack resource every test stack starts with. */
export function stackResource(): Registration {
    return { type: "pulumi:pulumi:Stack", name: "alertline-test", urn: STACK_URN, parent: undefined, custom: false, id: "", inputs: {}, state: {} };
}

/** Tags every taggable resource carries, so tests of other policies are not about tags. */
export const TAGS = { environment: "test", "managed-by": "alertline", component: "test" };

export const KEY_ARN = "arn:aws:kms:ap-northeast-1:123456789012:key/1111aaaa-2222-3333-4444-555566667777";

export const unknown = () => new UnknownValue();
export const secret = (value: unknown) => new SecretValue(value);

/** Every verdict of the whole pack on these resources (with a stack resource added). */
export function verdicts(...registrations: Registration[]): Violation[] {
    return runPolicies([stackResource(), ...registrations]);
}

/** The verdicts of one policy, as `policy resource-name level` keys plus the messages. */
export function verdictsOf(policy: string, ...registrations: Registration[]): Violation[] {
    return verdicts(...registrations).filter((v) => v.policy === policy);
}

/** A short key per verdict for exact comparisons: "policy type name level". */
export function keys(violations: readonly Violation[]): string[] {
    return violations.map((v) => `${v.policy} ${v.type} ${v.name} ${v.level}`).sort();
}
