import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketStatement } from "../shared/iam-documents";

/**
 * S3 server access logging for a bucket whose reads must leave a trail (the mail bucket): a log
 * bucket of its own, private, encrypted and expiring, that only S3's logging service may write to,
 * and only for the source bucket.
 *
 * Why server access logs and not a CloudTrail data-event trail: they cost nothing but storage,
 * live entirely in this stack (a trail is an account-level resource that may clash with an
 * organization trail and bills every data event), and record every request to the bucket,
 * anonymous and denied ones included. Their delivery is best effort (AWS: "Logging requests with
 * server access logging"), which is enough for an audit trail of who read stored alert mail.
 *
 * Why the log bucket uses SSE-S3, not the mail key: the S3 User Guide says a target bucket may use
 * default encryption only with SSE-S3 (AES256), SSE-KMS is not supported ("Enabling Amazon S3 server
 * access logging", "Troubleshoot server access logging"), and its current comparison of delivery
 * options ("Logging requests with server access logging") lists KMS encryption as "No (SSE-S3 only)"
 * for an S3 bucket destination, "Yes" only for delivery to CloudWatch Logs (billed per ingested GB).
 * The guardrail `s3-bucket-encrypted-and-private` allows exactly that: AES256 on a bucket that is
 * the target of a BucketLogging. (The AWS CDK reported SSE-KMS target buckets working in 2023,
 * aws/aws-cdk#25350; the documented setting is used.)
 */

/** Key prefix of the log objects in the log bucket; the bucket policy grants writes under it only. */
export const ACCESS_LOG_PREFIX = "access/";

/**
 * The log bucket's policy: S3's logging service may put log objects under the prefix, only on
 * behalf of the source bucket in this account (the statement of the S3 User Guide, "Grant
 * permissions to the logging service principal by using a bucket policy"); nobody may use it
 * without TLS, as with the mail bucket. Pure: tests call it directly.
 */
export function accessLogBucketPolicy(input: { logBucketArn: string; sourceBucketArn: string; accountId: string; prefix?: string }) {
    const prefix = input.prefix ?? ACCESS_LOG_PREFIX;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "S3ServerAccessLogsPolicy",
                Effect: "Allow",
                Principal: { Service: "logging.s3.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: `${input.logBucketArn}/${prefix}*`,
                Condition: {
                    ArnLike: { "aws:SourceArn": input.sourceBucketArn },
                    StringEquals: { "aws:SourceAccount": input.accountId },
                },
            },
            // Unconfirmed: that the logging service delivers over TLS, so this Deny never meets it
            // (AWS asks that Deny statements not prevent delivery). Check that logs arrive after the first deploy.
            tlsOnlyBucketStatement(input.logBucketArn),
        ],
    };
}

/** Days to keep access logs: the given whole number, or 365; anything else is refused, naming the setting. */
export function accessLogRetentionDays(name: string, days: number | undefined): number {
    const retention = days ?? 365;
    if (!Number.isInteger(retention) || retention < 1) {
        throw new Error(`serverAccessLogs "${name}": retentionDays must be a whole number of days, at least 1; got ${JSON.stringify(days)}`);
    }
    return retention;
}

/** Arguments for {@link serverAccessLogs}. */
export interface ServerAccessLogsArgs {
    /** The bucket whose requests are logged. */
    readonly sourceBucket: aws.s3.Bucket;
    /** Account that owns both buckets (aws:SourceAccount of the delivery). */
    readonly accountId: pulumi.Input<string>;
    /** Days log objects are kept. Default 365: longer than the mail they describe, for audits. */
    readonly retentionDays?: number;
    /** Tags of the log bucket (standardTags). */
    readonly tags: Record<string, string>;
}

/**
 * The log bucket (`${name}`), its ownership, public access block, SSE-S3 default encryption,
 * lifecycle and policy (`${name}-ownership`, `-public-access`, `-encryption`, `-lifecycle`,
 * `-policy`), and the source bucket's `aws.s3.BucketLogging` (`${name}-logging`), all under `parent`.
 * Returns the log bucket.
 */
export function serverAccessLogs(parent: pulumi.Resource, name: string, args: ServerAccessLogsArgs): aws.s3.Bucket {
    const retentionDays = accessLogRetentionDays(name, args.retentionDays);
    const logBucket = new aws.s3.Bucket(name, { forceDestroy: false, tags: args.tags }, { parent });
    // BucketOwnerEnforced disables ACLs, so delivery rests on the bucket policy alone (no LogDelivery group grant).
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: logBucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent });
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        { bucket: logBucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        { parent },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, { bucket: logBucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }, { parent });
    new aws.s3.BucketLifecycleConfiguration(
        `${name}-lifecycle`,
        {
            bucket: logBucket.id,
            rules: [{ id: "expire-access-logs", status: "Enabled", filter: { prefix: ACCESS_LOG_PREFIX }, expiration: { days: retentionDays } }],
        },
        { parent },
    );
    const policy = new aws.s3.BucketPolicy(
        `${name}-policy`,
        {
            bucket: logBucket.id,
            policy: pulumi
                .all([logBucket.arn, args.sourceBucket.arn, args.accountId])
                .apply(([logBucketArn, sourceBucketArn, accountId]) => JSON.stringify(accessLogBucketPolicy({ logBucketArn, sourceBucketArn, accountId }))),
        },
        { parent, dependsOn: [publicAccessBlock] },
    );
    new aws.s3.BucketLogging(
        `${name}-logging`,
        { bucket: args.sourceBucket.id, targetBucket: logBucket.id, targetPrefix: ACCESS_LOG_PREFIX },
        // The grant first, so no delivery is attempted before it may succeed.
        { parent, dependsOn: [policy] },
    );
    return logBucket;
}
