import { describe, expect, it } from "vitest";
import { KEY_ARN, keys, resource, TAGS, unknown, urnOf, verdicts, verdictsOf } from "./registrations";

const BUCKET = "aws:s3/bucket:Bucket";
const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const LOGGING = "aws:s3/bucketLogging:BucketLogging";
const POLICY = "s3-bucket-encrypted-and-private";
const LOGGING_POLICY = "s3-bucket-logging-enabled";
const ALL_ON = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };

const bucket = (name: string) => resource(BUCKET, name, { tags: TAGS }, { state: { tags: TAGS, bucket: `${name}-bucket`, arn: `arn:aws:s3:::${name}-bucket` } });
const encryption = (name: string, bucketName: unknown, sseAlgorithm: unknown, extras = {}) =>
    resource(SSE, name, { bucket: bucketName, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm, kmsMasterKeyId: KEY_ARN }, bucketKeyEnabled: true }] }, extras);
const block = (name: string, bucketName: unknown, flags: Record<string, unknown> = ALL_ON, extras = {}) => resource(PAB, name, { bucket: bucketName, ...flags }, extras);
const logging = (name: string, bucketName: unknown, targetBucket: unknown, extras = {}) => resource(LOGGING, name, { bucket: bucketName, targetBucket, targetPrefix: "access/" }, extras);
/** A log bucket as alertline builds one: SSE-S3, fully blocked, receiving `source`'s access logs. */
const logBucket = (name: string, source: string) => [
    bucket(name),
    encryption(`${name}-sse`, `${name}-bucket`, "AES256"),
    block(`${name}-pab`, `${name}-bucket`),
    logging(`${name}-logging`, `${source}-bucket`, `${name}-bucket`),
];

describe("s3-bucket-encrypted-and-private", () => {
    it("passes a bucket with SSE-KMS and a full public access block in separate resources (aws v7)", () => {
        expect(verdicts(bucket("mail"), encryption("mail-sse", "mail-bucket", "aws:kms"), block("mail-pab", "mail-bucket"), ...logBucket("mail-logs", "mail"))).toEqual([]);
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
        expect(verdictsOf(POLICY, bucket("mail"), encryption("mail-sse", "mail-bucket", "aws:kms"), account)).toEqual([]);
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
        expect(verdictsOf(POLICY, preview, encryption("mail-sse", unknown(), "aws:kms", link), block("mail-pab", unknown(), ALL_ON, link))).toEqual([]);
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

describe("s3-bucket-encrypted-and-private and server access log targets", () => {
    it("accepts SSE-S3 on a bucket exactly when it receives another bucket's access logs", () => {
        const found = verdictsOf(
            POLICY,
            bucket("mail"),
            encryption("mail-sse", "mail-bucket", "aws:kms"),
            block("mail-pab", "mail-bucket"),
            ...logBucket("mail-logs", "mail"),
            // the same SSE-S3 on a bucket nobody logs into is still refused
            bucket("plain"),
            encryption("plain-sse", "plain-bucket", "AES256"),
            block("plain-pab", "plain-bucket"),
        );
        expect(keys(found)).toEqual([`${POLICY} ${BUCKET} plain mandatory`]);
        expect(found[0].message).toContain('"AES256"');
        expect(found[0].message).toContain("is not SSE-KMS");
    });

    it("still requires a log target to be encrypted and private, and names SSE-S3 as its fix", () => {
        const found = verdictsOf(POLICY, bucket("mail"), encryption("mail-sse", "mail-bucket", "aws:kms"), block("mail-pab", "mail-bucket"), bucket("logs"), logging("mail-logging", "mail-bucket", "logs-bucket"));
        expect(keys(found)).toEqual([`${POLICY} ${BUCKET} logs mandatory`]);
        expect(found[0].message).toContain("neither SSE-S3 nor SSE-KMS");
        expect(found[0].message).toContain('sseAlgorithm: "AES256"');
        expect(found[0].message).toContain("no BucketPublicAccessBlock");
    });

    it("counts a bucket named by another bucket's deprecated inline logging as a log target", () => {
        const source = resource(BUCKET, "old", { tags: TAGS }, { state: { tags: TAGS, bucket: "old-bucket", logging: { targetBucket: "logs-bucket", targetPrefix: "x/" } } });
        expect(verdictsOf(POLICY, source, encryption("old-sse", "old-bucket", "aws:kms"), block("old-pab", "old-bucket"), bucket("logs"), encryption("logs-sse", "logs-bucket", "AES256"), block("logs-pab", "logs-bucket"))).toEqual([]);
    });

    it("links the target through property dependencies at preview, and defers when nothing can tell", () => {
        const preview = (name: string) => resource(BUCKET, name, { tags: TAGS }, { state: { tags: TAGS, bucket: unknown(), arn: unknown() } });
        const on = (name: string) => ({ propertyDependencies: { bucket: [urnOf(BUCKET, name)] } });
        const registrations = [
            preview("mail"),
            encryption("mail-sse", unknown(), "aws:kms", on("mail")),
            block("mail-pab", unknown(), ALL_ON, on("mail")),
            preview("logs"),
            encryption("logs-sse", unknown(), "AES256", on("logs")),
            block("logs-pab", unknown(), ALL_ON, on("logs")),
        ];
        const linked = logging("mail-logging", unknown(), unknown(), { propertyDependencies: { bucket: [urnOf(BUCKET, "mail")], targetBucket: [urnOf(BUCKET, "logs")] } });
        expect(verdictsOf(POLICY, ...registrations, linked)).toEqual([]);
        const untraceable = logging("mail-logging", unknown(), unknown());
        expect(verdictsOf(POLICY, ...registrations, untraceable).map((v) => v.level)).toEqual(["advisory"]);
    });
});

describe("s3-bucket-logging-enabled", () => {
    it("passes a bucket logging into a separate bucket, and exempts that log bucket", () => {
        expect(verdictsOf(LOGGING_POLICY, bucket("mail"), ...logBucket("mail-logs", "mail"))).toEqual([]);
    });

    it("flags a bucket without logging, naming the resource and the logging service's grant", () => {
        const found = verdictsOf(LOGGING_POLICY, bucket("mail"), ...logBucket("mail-logs", "mail"), bucket("bare"));
        expect(keys(found)).toEqual([`${LOGGING_POLICY} ${BUCKET} bare mandatory`]);
        expect(found[0].urn).toBe(urnOf(BUCKET, "bare"));
        expect(found[0].message).toContain("aws.s3.BucketLogging");
        expect(found[0].message).toContain("logging.s3.amazonaws.com");
        expect(found[0].message).toContain("aws:SourceArn");
    });

    it("refuses a bucket that logs into itself", () => {
        const found = verdictsOf(LOGGING_POLICY, bucket("loop"), logging("loop-logging", "loop-bucket", "loop-bucket"));
        expect(keys(found)).toEqual([`${LOGGING_POLICY} ${BUCKET} loop mandatory`]);
        expect(found[0].message).toContain("into itself");
    });

    it("accepts the deprecated inline logging of a v7 bucket when it names another bucket", () => {
        const inline = (name: string, targetBucket: string) =>
            resource(BUCKET, name, { tags: TAGS }, { state: { tags: TAGS, bucket: `${name}-bucket`, logging: { targetBucket, targetPrefix: "x/" } } });
        const found = verdictsOf(LOGGING_POLICY, inline("old", "logs-bucket"), bucket("logs"), inline("self", "self-bucket"));
        expect(keys(found)).toEqual([`${LOGGING_POLICY} ${BUCKET} self mandatory`]);
    });

    it("links a BucketLogging at preview through property dependencies; with neither name nor dependencies it defers", () => {
        const preview = (name: string) => resource(BUCKET, name, { tags: TAGS }, { state: { tags: TAGS, bucket: unknown() } });
        const linked = logging("mail-logging", unknown(), unknown(), { propertyDependencies: { bucket: [urnOf(BUCKET, "mail")], targetBucket: [urnOf(BUCKET, "logs")] } });
        expect(verdictsOf(LOGGING_POLICY, preview("mail"), preview("logs"), linked)).toEqual([]);
        const elsewhere = logging("other-logging", unknown(), unknown(), { propertyDependencies: { bucket: [urnOf(BUCKET, "other")], targetBucket: [urnOf(BUCKET, "logs")] } });
        expect(keys(verdictsOf(LOGGING_POLICY, preview("mail"), preview("logs"), elsewhere))).toEqual([`${LOGGING_POLICY} ${BUCKET} mail mandatory`]);
        const untraceable = verdictsOf(LOGGING_POLICY, preview("mail"), logging("mail-logging", unknown(), unknown()));
        expect(untraceable.map((v) => v.level)).toEqual(["advisory"]);
        expect(untraceable[0].message).toContain(`can't run policy '${LOGGING_POLICY}'`);
    });
});
