import { describe, expect, it } from "vitest";
import { AWS_TAGGABLE_TYPES } from "../../policy/aws-taggable-types";
import { awsPackageVersion, renderTaggableTypes, scanTaggableAwsTypes } from "./aws-taggable-scan";
import { keys, resource, TAGS, unknown, verdicts, verdictsOf } from "./registrations";

const TOPIC = "aws:sns/topic:Topic";
const withKey = { kmsMasterKeyId: "arn:aws:kms:ap-northeast-1:123456789012:key/k" };

describe("required-tags", () => {
    it("passes a taggable resource with both tags, and a resource whose type has no tags at all", () => {
        expect(verdicts(resource(TOPIC, "tagged", { ...withKey, tags: TAGS }), resource("aws:iam/rolePolicy:RolePolicy", "inline", { role: "r", policy: "{}" }))).toEqual([]);
    });

    it("flags a missing managed-by tag, an empty environment tag and no tags, naming what is missing", () => {
        const found = verdictsOf(
            "required-tags",
            resource(TOPIC, "no-owner", { ...withKey, tags: { environment: "dev" } }),
            resource(TOPIC, "blank-env", { ...withKey, tags: { environment: " ", "managed-by": "alertline" } }),
            resource("aws:lambda/eventSourceMapping:EventSourceMapping", "untagged", { functionName: "f", eventSourceArn: "arn:aws:sqs:::q" }),
        );
        expect(keys(found)).toEqual([
            "required-tags aws:lambda/eventSourceMapping:EventSourceMapping untagged mandatory",
            `required-tags ${TOPIC} blank-env mandatory`,
            `required-tags ${TOPIC} no-owner mandatory`,
        ]);
        const byName = Object.fromEntries(found.map((v) => [v.name, v.message]));
        expect(byName["no-owner"]).toContain('lacks the tag "managed-by"');
        expect(byName["blank-env"]).toContain('lacks the tag "environment"');
        expect(byName.untagged).toContain('lacks the tags "environment" and "managed-by"');
    });

    it("counts a tag whose value is not known until the update as present, and cannot decide tags that are wholly unknown", () => {
        expect(verdicts(resource(TOPIC, "preview-value", { ...withKey, tags: { environment: unknown(), "managed-by": "alertline" } }))).toEqual([]);
        const found = verdictsOf("required-tags", resource(TOPIC, "preview-map", { ...withKey, tags: unknown() }));
        expect(found.map((v) => v.level)).toEqual(["advisory"]);
    });
});

describe("the taggable types list", () => {
    it("matches the installed @pulumi/aws (regenerate with `npx tsx test/policy/aws-taggable-scan.ts`)", () => {
        const scanned = scanTaggableAwsTypes();
        expect(AWS_TAGGABLE_TYPES).toEqual(scanned);
        // the header names the version it came from
        expect(renderTaggableTypes(scanned, awsPackageVersion())).toContain(`@pulumi/aws ${awsPackageVersion()}`);
    });

    it("has the map-tagged resources and leaves out untaggable ones and the two whose `tags` is not a map", () => {
        for (const type of [TOPIC, "aws:ec2/instance:Instance", "aws:lambda/eventSourceMapping:EventSourceMapping", "aws:s3/bucket:Bucket"]) expect(AWS_TAGGABLE_TYPES).toContain(type);
        for (const type of ["aws:iam/rolePolicy:RolePolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:autoscaling/group:Group", "aws:devopsguru/resourceCollection:ResourceCollection"]) {
            expect(AWS_TAGGABLE_TYPES).not.toContain(type);
        }
    });
});
