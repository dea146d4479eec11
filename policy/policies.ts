import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { alertTopicPolicies } from "./alert-topics";
import { conflictPolicies } from "./conflicts";
import { encryptionPolicies } from "./encryption";
import { kmsPolicies } from "./kms";
import { monitoringPolicies } from "./monitoring";
import { networkPolicies } from "./network";
import { s3Policies } from "./s3";
import { sesPolicies } from "./ses";
import { tagPolicies } from "./tags";

/**
 * The whole alertline-guardrails set as plain objects, for the pack (index.ts), the offline plan and
 * the tests alike. Every policy is mandatory; a stack may lower one (`pulumi preview
 * --policy-pack-config`, or the plan's levels) to advisory or disabled.
 */
export const resourcePolicies: ResourceValidationPolicy[] = [...encryptionPolicies, ...kmsPolicies, ...sesPolicies, ...networkPolicies, ...monitoringPolicies, ...tagPolicies];
export const stackPolicies: StackValidationPolicy[] = [...s3Policies, ...alertTopicPolicies, ...conflictPolicies];
