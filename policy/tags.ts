import type { ResourceValidationPolicy } from "@pulumi/policy";
import { AWS_TAGGABLE_TYPES } from "./aws-taggable-types";
import { isUnknown, resourcePolicy } from "./props";

/**
 * Every taggable resource carries the tags cost reports and ownership queries rely on. "Taggable"
 * means an AWS resource whose inputs have a `tags` map (the list is generated from @pulumi/aws, see
 * aws-taggable-types.ts); resources without one (policies, attachments, routes…) are out of scope.
 */

export const REQUIRED_TAGS = ["environment", "managed-by"] as const;

export const requiredTags = resourcePolicy({
    name: "required-tags",
    description: `Every taggable AWS resource carries the tags ${REQUIRED_TAGS.map((t) => `"${t}"`).join(" and ")}.`,
    types: AWS_TAGGABLE_TYPES,
    check: (props, reader, { name, type }) => {
        const tags = reader.need(props, "tags");
        if (isUnknown(tags)) return [];
        // A tag set to a value not known at preview is there all the same.
        const missing = REQUIRED_TAGS.filter((tag) => {
            const value = reader.peek(tags, tag);
            return !isUnknown(value) && (typeof value !== "string" || value.trim() === "");
        });
        if (missing.length === 0) return [];
        return [
            `${type.split(":").at(-1)} "${name}" lacks the tag${missing.length > 1 ? "s" : ""} ${missing.map((t) => `"${t}"`).join(" and ")}: ` +
                'add tags: { environment: <stack environment>, "managed-by": "alertline", … } (components use standardTags() from components/shared/tags.ts).',
        ];
    },
});

export const tagPolicies: ResourceValidationPolicy[] = [requiredTags];
