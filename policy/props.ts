import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

/**
 * Reading resource properties the way the engine hands them to policies. At preview, a value that
 * comes from another resource's output may not be known yet: the engine's proxy throws an
 * `UnknownValueError` when a policy reads it, and the engine then reports the whole policy as "not
 * run" for that resource. These helpers keep that from costing checks:
 *
 * - presence (`has`): a property set to an unknown value counts as set, with no error;
 * - content (`need`): a check that needs an unknown value cannot decide; the reader remembers it,
 *   the policy goes on reporting every violation that does not depend on it, and `done()` then
 *   rethrows the first such error so the engine still says the policy could not finish at preview.
 *   At `pulumi up` every value is known and the check runs in full.
 */

/** A value that is set but not known until the update; carries the engine's error for it. */
export class Unknown {
    constructor(readonly error: Error) {}
}

export function isUnknown(value: unknown): value is Unknown {
    return value instanceof Unknown;
}

/** An `UnknownValueError` from any copy of @pulumi/policy (the pack may load its own). */
function isUnknownValueError(error: unknown): error is Error {
    return error instanceof Error && "unknownTypeSentinel" in error && "props" in error;
}

function isObject(value: unknown): value is Record<string | number, unknown> {
    return value !== null && typeof value === "object" && !isUnknown(value);
}

/** Tracks, for one validation, the values a check needed but could not know. */
export class Reader {
    private deferred: Error | undefined;

    /** obj[key]: undefined when absent or null, an Unknown when set to a value not known yet. Defers nothing. */
    peek(obj: unknown, key: string | number): unknown {
        if (!isObject(obj) || !(key in obj)) return undefined;
        try {
            const value = obj[key];
            return value === null ? undefined : value;
        } catch (error) {
            if (isUnknownValueError(error)) return new Unknown(error);
            throw error;
        }
    }

    /** True when obj[key] is set; a value unknown at preview counts as set. */
    has(obj: unknown, key: string | number): boolean {
        return this.peek(obj, key) !== undefined;
    }

    /** obj[key] for a check that needs its content: an Unknown defers the check (see done()). */
    need(obj: unknown, key: string | number): unknown {
        return this.deferIfUnknown(this.peek(obj, key));
    }

    /**
     * The elements of obj[key] when it is a list (Unknown for unknown ones; a single value counts as
     * a list of one); undefined when unset; an Unknown when the list itself is unknown. Defers nothing.
     */
    peekList(obj: unknown, key: string | number): unknown[] | Unknown | undefined {
        const value = this.peek(obj, key);
        if (value === undefined || isUnknown(value)) return value;
        if (!Array.isArray(value)) return [value];
        const items: unknown[] = [];
        for (let i = 0; i < value.length; i++) items.push(this.peek(value, i));
        return items;
    }

    /** peekList for a check that needs every element: any Unknown among them defers the check. */
    needList(obj: unknown, key: string | number): unknown[] | Unknown | undefined {
        const items = this.peekList(obj, key);
        if (Array.isArray(items)) items.forEach((item) => this.deferIfUnknown(item));
        else this.deferIfUnknown(items);
        return items;
    }

    /** Marks the check that met this value as undecided, if it is unknown; returns the value. */
    deferIfUnknown<T>(value: T): T {
        if (isUnknown(value)) this.deferred ??= value.error;
        return value;
    }

    /**
     * Call after reporting: rethrows the first unknown a check could not decide without, so the
     * engine reports the policy as not run at preview, after every violation that did not depend on it.
     */
    done(): void {
        if (this.deferred) throw this.deferred;
    }
}

/** A property value for a message: JSON, or `unset` (with what that means, if given). */
export function show(value: unknown, unsetMeans?: string): string {
    return value === undefined ? (unsetMeans ? `unset (${unsetMeans})` : "unset") : JSON.stringify(value);
}

/** True for a reference to an AWS-managed key's alias: `alias/aws/sns`, or its ARN form `arn:aws:kms:…:alias/aws/sns`. */
export function isAwsManagedAlias(keyId: string): boolean {
    return /(^|:)alias\/aws\//.test(keyId);
}

/**
 * Whether a KMS key reference is set: a known non-empty string, or a value unknown at preview
 * (an output of a resource in this stack). Empty strings count as unset: the provider treats them so.
 */
export function keySet(reader: Reader, obj: unknown, key: string): boolean {
    const value = reader.peek(obj, key);
    return isUnknown(value) || (typeof value === "string" && value.trim() !== "");
}

/** A check of one resource: returns the violation messages (each naming the fix). */
export type ResourceCheck = (props: Record<string, unknown>, reader: Reader, args: ResourceValidationArgs) => string[];

/**
 * A mandatory resource policy for the given Pulumi types. With a single type the validation carries
 * `__pulumiType`, the engine's fast "not applicable" path (what `validateResourceOfType` sets);
 * the type is also checked inside, since the engine runs every validation of a list unconditionally.
 */
export function resourcePolicy(spec: { name: string; description: string; types: readonly string[]; check: ResourceCheck }): ResourceValidationPolicy {
    const types = new Set(spec.types);
    const validate = (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        if (!types.has(args.type)) return;
        const reader = new Reader();
        for (const message of spec.check(args.props, reader, args)) reportViolation(message);
        reader.done();
    };
    if (spec.types.length === 1) Object.assign(validate, { __pulumiType: spec.types[0] });
    return { name: spec.name, description: spec.description, enforcementLevel: "mandatory", validateResource: validate };
}
