import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

/**
 * The whole policy set as plain objects, for the pack, tools and tests alike. The pack lands with
 * the guardrails issue; until then it is empty and `pulumi preview --policy-pack policy` passes.
 */
export const resourcePolicies: ResourceValidationPolicy[] = [];
export const stackPolicies: StackValidationPolicy[] = [];
