import { describe, expect, it } from "vitest";
import { KEY_ARN, keys, resource, TAGS, unknown, urnOf, verdicts, verdictsOf } from "./registrations";

const BUCKET = "aws:s3/bucket:Bucket";
const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const POLICY = "s3-bucket-encrypted-and-private";
const ALL_ON = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };

const bucket = (name: string) => resource(BUCKET, name, { tags: TAGS }, { state: { tags: TAGS, bucket: `${name}-bucket`, arn: `arn:aws:s3:::${name}-bucket` } });
const encryption = (name: string, bucketName: unknown, sseAlgorithm: unknown, extras = {}) =>
    resource(SSE, name, { bucket: bucketName, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm, kmsMasterKeyId: KEY_ARN }, bucketKeyEnabled: true }] }, extras);
const block = (name: string, bucketName: unknown, flags: Record<string, unknown> = ALL_ON, extras = {}) => resource(PAB, name, { bucket: bucketName, ...flags }, extras);

describe("s3-bucket-encrypted-and-private", () => {
    it("passes a bucket with SSE-KMS and a full public access block in separate resources (aws v7)", () => {
        expect(verdicts(bucket("mail"), encryption("mail-sse", "mail-bucket", "aws:kms"), block("mail-pab", "mail-bucket"))).toEqual([]);
    });

    it("flags only the bucket whose companions are missing, with both problems in one verdict", () => {
        const found = verdictsOf(POLICY, bucket("mail"), encryption("mail-sse", "mail-bucket", "aws:kms:dsse"), block("mail-pab", "mail-bucket"), bucket("bare"));
        expect(keys(found)).toEqual([`${POLICY} ${BUCKET} bare mandatory`]);
        expect(found[0].message).toContain("no BucketServerSideEncryptionConfiguration");
        expect(found[0].message).toContain("no BucketPublicAccessBlock");
        expect(found[0].urn).toBe(urnOf(BUCKET, "bare"));
    });

    it("flags SSE-S3 (AES256) and a block that leaves a setting off, naming them", () => {
        const found = verdictsOf(POLICY, bucket("weak"), encryption("weak-sse", "weak-bucket", "AES256"), block("weak-pab", "weak-bucket", { ...ALL_ON, restrictPublicBuckets: false }));
        expect(found).toHaveLength(1);
        expect(found[0].message).toContain('"AES256"');
        expect(found[0].message).toContain("leaves restrictPublicBuckets off");
        expect(found[0].message).not.toContain("blockPublicAcls off");
    });

    it("accepts the account's public access block in place of the bucket's", () => {
        const account = resource("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", ALL_ON);
        expect(verdicts(bucket("mail"), encryption("mail-sse", "mail-bucket", "aws:kms"), account)).toEqual([]);
    });

    it("judges the bucket's own encryption setting only when no separate configuration exists", () => {
        const inline = (name: string, sseAlgorithm: string) =>
            resource(BUCKET, name, { tags: TAGS }, { state: { tags: TAGS, bucket: `${name}-bucket`, serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm } } } } });
        const found = verdictsOf(
            POLICY,
            inline("inline-kms", "aws:kms"),
            block("inline-kms-pab", "inline-kms-bucket"),
            inline("inline-s3", "AES256"),
            block("inline-s3-pab", "inline-s3-bucket"),
            // after creation AWS reports its SSE-S3 default here; the separate resource decides
            inline("reported-default", "AES256"),
            encryption("reported-default-sse", "reported-default-bucket", "aws:kms"),
            block("reported-default-pab", "reported-default-bucket"),
        );
        expect(found.map((v) => v.name)).toEqual(["inline-s3"]);
    });

    it("links companions at preview through property dependencies when the bucket name is not known yet", () => {
        const link = { propertyDependencies: { bucket: [urnOf(BUCKET, "mail")] } };
        const preview = resource(BUCKET, "mail", { tags: TAGS }, { state: { tags: TAGS, bucket: unknown(), arn: unknown() } });
        expect(verdicts(preview, encryption("mail-sse", unknown(), "aws:kms", link), block("mail-pab", unknown(), ALL_ON, link))).toEqual([]);
        // dependencies that name another bucket leave this one unprotected
        const elsewhere = { propertyDependencies: { bucket: [urnOf(BUCKET, "other")] } };
        const found = verdictsOf(POLICY, preview, encryption("other-sse", unknown(), "aws:kms", elsewhere), block("other-pab", unknown(), ALL_ON, elsewhere));
        expect(found.map((v) => `${v.name} ${v.level}`)).toEqual(["mail mandatory"]);
        // with neither a known name nor dependencies nothing can be told yet: not run, not a violation
        const undecided = verdictsOf(POLICY, preview, encryption("mail-sse", unknown(), "aws:kms"), block("mail-pab", unknown()));
        expect(undecided.map((v) => v.level)).toEqual(["advisory"]);
    });

    it("reports what it knows and defers what it cannot: an unknown block setting beside a known AES256", () => {
        const found = verdictsOf(POLICY, bucket("half"), encryption("half-sse", "half-bucket", "AES256"), block("half-pab", "half-bucket", { ...ALL_ON, blockPublicPolicy: unknown() }));
        expect(found.map((v) => v.level)).toEqual(["mandatory", "advisory"]);
        expect(found[0].message).toContain("AES256");
        expect(found[0].message).not.toContain("public access");
    });
});
