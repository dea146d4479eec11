import type { PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { Reader } from "./props";

/**
 * How stack policies tell which resource another one points at. After an update every output is
 * known and a reference is a matching ARN, ID or name; at preview the referenced resource's outputs
 * may not be known yet, and the engine's property dependencies (which resources a property's value
 * came from) say it instead. Both are consulted.
 */

/** The known string values of a resource's identifying outputs (`arn`, `id`, `bucket`…). */
export function identities(reader: Reader, resource: PolicyResource, keys: readonly string[]): string[] {
    return keys.map((key) => reader.peek(resource.props, key)).filter((v): v is string => typeof v === "string" && v !== "");
}

/** The resources a property's value came from, according to the engine. */
export function dependenciesOf(resource: PolicyResource, property: string): PolicyResource[] {
    return resource.propertyDependencies?.[property] ?? [];
}

/** A mandatory stack policy; its check reports through `report(message, urn)` and may use the reader. */
export function stackPolicy(spec: {
    name: string;
    description: string;
    check: (resources: PolicyResource[], reader: Reader, report: ReportViolation, args: StackValidationArgs) => void;
}): StackValidationPolicy {
    return {
        name: spec.name,
        description: spec.description,
        enforcementLevel: "mandatory",
        validateStack: (args, report) => {
            const reader = new Reader();
            spec.check(args.resources, reader, report, args);
            reader.done();
        },
    };
}
