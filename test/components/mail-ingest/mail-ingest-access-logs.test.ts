import { runSimulation } from "@cloud-copilot/iam-simulate";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { ACCESS_LOG_PREFIX, accessLogBucketPolicy, accessLogRetentionDays, serverAccessLogs } from "../../../components/mail-ingest/access-logs";
import { MailIngest } from "../../../components/mail-ingest/mail-ingest";
import { MOCK_ACCOUNT_ID, RecordingEngine } from "../../../tools/offline/mock-engine";
import { policyDocument, recordResources } from "../../harness/record";
import { mailIngestArgs } from "./mail-ingest-args";

const LOG_BUCKET_ARN = "arn:aws:s3:::mail-access-logs";
const MAIL_BUCKET_ARN = "arn:aws:s3:::mail-bucket";
const ACCOUNT = "123456789012";

/** The log bucket policy evaluated by IAM's rules (iam-simulate) for one PutObject by S3's logging service. */
async function logDelivery(context: { sourceArn: string; sourceAccount?: string; secureTransport?: boolean; key?: string }): Promise<string> {
    const response = await runSimulation(
        {
            identityPolicies: [],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: accessLogBucketPolicy({ logBucketArn: LOG_BUCKET_ARN, sourceBucketArn: MAIL_BUCKET_ARN, accountId: ACCOUNT }),
            request: {
                action: "s3:PutObject",
                principal: "logging.s3.amazonaws.com",
                resource: { accountId: ACCOUNT, resource: `${LOG_BUCKET_ARN}/${context.key ?? `${ACCESS_LOG_PREFIX}2026-12-05-10-00-00-ABCDEF`}` },
                contextVariables: {
                    "aws:SourceArn": context.sourceArn,
                    "aws:SourceAccount": context.sourceAccount ?? ACCOUNT,
                    "aws:SecureTransport": String(context.secureTransport ?? true),
                },
            },
        } as Parameters<typeof runSimulation>[0],
        {},
    );
    if (response.resultType === "error") throw new Error(JSON.stringify(response.errors));
    return response.overallResult;
}

describe("accessLogBucketPolicy", () => {
    it("is the S3 User Guide's statement for logging.s3.amazonaws.com, scoped to the prefix, the source bucket and the account", () => {
        const policy = accessLogBucketPolicy({ logBucketArn: LOG_BUCKET_ARN, sourceBucketArn: MAIL_BUCKET_ARN, accountId: ACCOUNT });
        expect(policy.Statement[0]).toEqual({
            Sid: "S3ServerAccessLogsPolicy",
            Effect: "Allow",
            Principal: { Service: "logging.s3.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: "arn:aws:s3:::mail-access-logs/access/*",
            Condition: { ArnLike: { "aws:SourceArn": MAIL_BUCKET_ARN }, StringEquals: { "aws:SourceAccount": ACCOUNT } },
        });
    });

    it("lets the logging service deliver the mail bucket's logs over TLS", async () => {
        expect(await logDelivery({ sourceArn: MAIL_BUCKET_ARN })).toBe("Allowed");
    });

    it("refuses delivery for another bucket, another account, outside the prefix, or without TLS", async () => {
        expect(await logDelivery({ sourceArn: "arn:aws:s3:::someone-elses-bucket" })).toBe("ImplicitlyDenied");
        expect(await logDelivery({ sourceArn: MAIL_BUCKET_ARN, sourceAccount: "999999999999" })).toBe("ImplicitlyDenied");
        expect(await logDelivery({ sourceArn: MAIL_BUCKET_ARN, key: "elsewhere/object" })).toBe("ImplicitlyDenied");
        expect(await logDelivery({ sourceArn: MAIL_BUCKET_ARN, secureTransport: false })).toBe("ExplicitlyDenied");
    });
});

describe("MailIngest access logging", () => {
    let engine: RecordingEngine;
    beforeAll(async () => {
        engine = await recordResources(() => new MailIngest("mail", mailIngestArgs()));
    });

    const mailBucket = () => engine.get("aws:s3/bucket:Bucket", "mail-mail");
    const logBucket = () => engine.get("aws:s3/bucket:Bucket", "mail-mail-access-logs");

    it("logs every request to the mail bucket into its own log bucket, under the granted prefix", () => {
        const logging = engine.get("aws:s3/bucketLogging:BucketLogging", "mail-mail-access-logs-logging");
        expect(logging.inputs).toMatchObject({ bucket: mailBucket().id, targetBucket: logBucket().id, targetPrefix: ACCESS_LOG_PREFIX });
        expect(logBucket().id).not.toBe(mailBucket().id);
        expect(engine.ofType("aws:s3/bucketLogging:BucketLogging")).toHaveLength(1);
    });

    it("keeps the log bucket private, owner-enforced, SSE-S3 encrypted (the only default a log target may have) and expiring", () => {
        const companion = (type: string, suffix: string) => engine.get(type, `mail-mail-access-logs-${suffix}`).inputs;
        expect(companion("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "public-access")).toMatchObject({
            bucket: logBucket().id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        expect(companion("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ownership")).toEqual(expect.objectContaining({ rule: { objectOwnership: "BucketOwnerEnforced" } }));
        expect(companion("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "encryption").rules).toEqual([
            { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        ]);
        expect(companion("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lifecycle").rules).toEqual([
            expect.objectContaining({ status: "Enabled", filter: { prefix: ACCESS_LOG_PREFIX }, expiration: { days: 365 } }),
        ]);
    });

    it("lets only the logging service write, for the mail bucket of this account, and only over TLS", () => {
        const policy = policyDocument(engine.get("aws:s3/bucketPolicy:BucketPolicy", "mail-mail-access-logs-policy").inputs.policy);
        const mailArn = mailBucket().state.arn;
        expect(policy.Statement.find((s) => s.Sid === "S3ServerAccessLogsPolicy")!.Condition).toEqual({
            ArnLike: { "aws:SourceArn": mailArn },
            StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID },
        });
        expect(policy.Statement.find((s) => s.Sid === "TlsOnly")!.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    });
});

describe("serverAccessLogs", () => {
    it("keeps logs 365 days unless told otherwise, and refuses a retention that is not a whole number of days", () => {
        expect(accessLogRetentionDays("logs", undefined)).toBe(365);
        expect(accessLogRetentionDays("logs", 30)).toBe(30);
        expect(() => accessLogRetentionDays("logs", 0)).toThrow('serverAccessLogs "logs": retentionDays must be a whole number of days, at least 1; got 0');
        expect(() => accessLogRetentionDays("logs", 7.5)).toThrow(/got 7.5/);
    });

    it("expires log objects after the given retention", async () => {
        const engine = await recordResources(() => {
            const parent = new pulumi.ComponentResource("test:index:Parent", "parent");
            serverAccessLogs(parent, "source-logs", { sourceBucket: new aws.s3.Bucket("source", {}, { parent }), accountId: ACCOUNT, retentionDays: 30, tags: {} });
        });
        expect(engine.get("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "source-logs-lifecycle").inputs.rules).toEqual([
            expect.objectContaining({ expiration: { days: 30 } }),
        ]);
    });
});
