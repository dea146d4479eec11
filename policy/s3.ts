import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { dependenciesOf, identities, stackPolicy } from "./links";
import { isUnknown, Reader, Unknown } from "./props";

/**
 * S3 buckets: SSE-KMS by default and a full public access block. Since @pulumi/aws v7 both live in
 * separate resources (BucketServerSideEncryptionConfiguration, BucketPublicAccessBlock), so this is
 * a stack policy that looks at each bucket together with the resources that point at it.
 */

const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const SSE_TYPES = [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const BUCKET_PAB_TYPE = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ACCOUNT_PAB_TYPE = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock";
const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];
export const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

const LOGGING_TYPES = ["aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"];

/**
 * Whether `companion[property]` (default `bucket`) names this bucket, by where its value came from or
 * by the value itself; an Unknown when the name is not known and the engine gave no dependencies to tell.
 */
function pointsAt(reader: Reader, companion: PolicyResource, bucket: PolicyResource, bucketNames: readonly string[], property = "bucket"): boolean | Unknown {
    if (dependenciesOf(companion, property).some((d) => d.urn === bucket.urn)) return true;
    const name = reader.peek(companion.props, property);
    if (isUnknown(name)) return property in (companion.propertyDependencies ?? {}) ? false : name;
    return typeof name === "string" && bucketNames.includes(name);
}

/** The companions of a bucket, or the Unknown that keeps it open when none is linked but some may be. */
function companionsOf(reader: Reader, candidates: PolicyResource[], bucket: PolicyResource, bucketNames: readonly string[], property = "bucket"): PolicyResource[] | Unknown {
    const links = candidates.map((c) => pointsAt(reader, c, bucket, bucketNames, property));
    const linked = candidates.filter((_, i) => links[i] === true);
    return linked.length > 0 ? linked : (links.find(isUnknown) ?? []);
}

/** A verdict: "" when compliant, a problem, or the Unknown that keeps it open until the update. */
type Verdict = string | Unknown;

/**
 * Whether a list of SSE rules encrypts by default with what the bucket may use: KMS, or for a server
 * access log target also SSE-S3 (AES256), the only default encryption AWS delivers access logs into.
 */
function rulesVerdict(reader: Reader, rules: unknown[] | Unknown | undefined, source: string, allowed: readonly string[]): Verdict {
    if (isUnknown(rules)) return rules;
    if (rules === undefined || rules.length === 0) return `${source} has no rule`;
    const algorithms = rules.map((rule) => (isUnknown(rule) ? rule : reader.peek(reader.peek(rule, "applyServerSideEncryptionByDefault"), "sseAlgorithm")));
    const weak = algorithms.filter((a) => !isUnknown(a) && !(typeof a === "string" && allowed.includes(a)));
    if (weak.length > 0) return `${source} uses ${weak.map((a) => JSON.stringify(a ?? "no default algorithm")).join(", ")}`;
    return algorithms.find(isUnknown) ?? "";
}

/** The bucket's default-encryption verdict, from its separate configurations or else its own setting. */
function encryptionVerdict(reader: Reader, bucket: PolicyResource, configs: PolicyResource[], allowed: readonly string[]): Verdict {
    // The bucket's own serverSideEncryptionConfiguration output counts only without a separate
    // resource: after creation it shows the SSE-S3 default AWS applied before that resource ran.
    if (configs.length === 0) {
        const inline = reader.peek(bucket.props, "serverSideEncryptionConfiguration");
        if (isUnknown(inline)) return inline;
        if (inline === undefined) return "it has no BucketServerSideEncryptionConfiguration";
        return rulesVerdict(reader, reader.peekList(inline, "rule"), "its serverSideEncryptionConfiguration", allowed);
    }
    const verdicts = configs.map((c) => rulesVerdict(reader, reader.peekList(c.props, "rules"), `BucketServerSideEncryptionConfiguration "${c.name}"`, allowed));
    if (verdicts.includes("")) return "";
    const problems = verdicts.filter((v): v is string => typeof v === "string");
    return problems.length > 0 ? problems.join("; ") : (verdicts.find(isUnknown) as Unknown);
}

/** Flags of a public access block that are not true; an Unknown when every known one is on but some are unknown. */
function openFlags(reader: Reader, block: PolicyResource): string[] | Unknown {
    const values = PUBLIC_ACCESS_FLAGS.map((flag) => [flag, reader.peek(block.props, flag)] as const);
    const open = values.filter(([, v]) => !isUnknown(v) && v !== true).map(([flag]) => flag);
    const unknown = values.map(([, v]) => v).find(isUnknown);
    return open.length === 0 && unknown ? unknown : open;
}

function isFullyBlocked(flags: string[] | Unknown): boolean {
    return Array.isArray(flags) && flags.length === 0;
}

/** The bucket's public-access verdict from the blocks that point at it. */
function publicAccessVerdict(reader: Reader, blocks: PolicyResource[]): Verdict {
    const all = PUBLIC_ACCESS_FLAGS.map((f) => `${f}: true`).join(", ");
    if (blocks.length === 0) return `it has no BucketPublicAccessBlock: add one with ${all}`;
    const verdicts = blocks.map((b) => openFlags(reader, b));
    if (verdicts.some(isFullyBlocked)) return "";
    const open = verdicts.find((v): v is string[] => Array.isArray(v));
    return open ? `its public access block leaves ${open.join(", ")} off: set ${all}` : (verdicts.find(isUnknown) as Unknown);
}

/** The log destination a bucket's deprecated inline `logging` names: its targetBucket, undefined when none, an Unknown when not known yet. */
function inlineLogTarget(reader: Reader, bucket: PolicyResource): string | Unknown | undefined {
    const target = reader.peek(reader.peek(bucket.props, "logging"), "targetBucket");
    if (isUnknown(target)) return target;
    return typeof target === "string" && target !== "" ? target : undefined;
}

/**
 * Whether the bucket receives server access logs: the target of a BucketLogging, or named by another
 * bucket's inline `logging`; an Unknown when some link cannot be told yet and none is certain.
 */
function isLogTarget(reader: Reader, resources: PolicyResource[], loggings: PolicyResource[], bucket: PolicyResource, names: readonly string[]): boolean | Unknown {
    const links: (boolean | Unknown)[] = loggings.map((l) => pointsAt(reader, l, bucket, names, "targetBucket"));
    for (const other of resources) {
        if (other === bucket || !BUCKET_TYPES.includes(other.type)) continue;
        const target = inlineLogTarget(reader, other);
        links.push(isUnknown(target) ? target : target !== undefined && names.includes(target));
    }
    return links.includes(true) ? true : (links.find(isUnknown) ?? false);
}

const KMS_FIX =
    'add an aws.s3.BucketServerSideEncryptionConfiguration with rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }]';
const LOG_TARGET_FIX =
    'add an aws.s3.BucketServerSideEncryptionConfiguration with rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] ' +
    "(SSE-S3: the only default encryption S3 delivers server access logs into)";

/** The bucket's encryption problem ("" when none), allowing SSE-S3 exactly when the bucket is a server access log target. */
function encryptionProblem(reader: Reader, bucket: PolicyResource, configs: PolicyResource[], logTarget: () => boolean | Unknown): Verdict {
    const strict = encryptionVerdict(reader, bucket, configs, KMS_ALGORITHMS);
    if (isUnknown(strict) || strict === "") return strict;
    const target = logTarget();
    if (target === false) return `default encryption is not SSE-KMS (${strict}): ${KMS_FIX}`;
    const relaxed = encryptionVerdict(reader, bucket, configs, [...KMS_ALGORITHMS, "AES256"]);
    if (relaxed === "") return isUnknown(target) ? target : "";
    if (isUnknown(relaxed)) return relaxed;
    return target === true ? `default encryption of this server access log target is neither SSE-S3 nor SSE-KMS (${relaxed}): ${LOG_TARGET_FIX}` : target;
}

export const s3BucketEncryptedAndPrivate: StackValidationPolicy = stackPolicy({
    name: "s3-bucket-encrypted-and-private",
    description:
        "Every S3 bucket has SSE-KMS default encryption (aws:kms or aws:kms:dsse), or SSE-S3 if it is a server access log target (S3 delivers logs into nothing else), and a public access block with all four settings on (its own, or the account's).",
    check: (resources, reader, report) => {
        const sseConfigs = resources.filter((r) => SSE_TYPES.includes(r.type));
        const blocks = resources.filter((r) => r.type === BUCKET_PAB_TYPE);
        const loggings = resources.filter((r) => LOGGING_TYPES.includes(r.type));
        const accountBlocked = resources.some((r) => r.type === ACCOUNT_PAB_TYPE && isFullyBlocked(openFlags(reader, r)));
        for (const bucket of resources.filter((r) => BUCKET_TYPES.includes(r.type))) {
            const names = identities(reader, bucket, ["bucket", "id"]);
            const problems: string[] = [];
            const configs = companionsOf(reader, sseConfigs, bucket, names);
            const encryption = isUnknown(configs) ? configs : encryptionProblem(reader, bucket, configs, () => isLogTarget(reader, resources, loggings, bucket, names));
            if (typeof encryption === "string" && encryption !== "") problems.push(encryption);
            else reader.deferIfUnknown(encryption);
            if (!accountBlocked) {
                const own = companionsOf(reader, blocks, bucket, names);
                const access = isUnknown(own) ? own : publicAccessVerdict(reader, own);
                if (typeof access === "string" && access !== "") problems.push(access);
                else reader.deferIfUnknown(access);
            }
            if (problems.length > 0) report(`S3 bucket "${bucket.name}": ${problems.join("; ")}.`, bucket.urn);
        }
    },
});

/**
 * AWSGuard's `s3-bucket-logging-enabled`, for @pulumi/aws v7: logging is a separate
 * aws.s3.BucketLogging resource (AWSGuard reads the v4 inline `loggings`, which no v7 bucket has, so
 * it flags every bucket). A bucket passes with a BucketLogging (or the deprecated inline `logging`)
 * delivering to another bucket; a bucket that only receives other buckets' access logs is exempt
 * (logging a log bucket would log its own deliveries); logging into itself is refused, as the S3
 * User Guide advises ("an infinite loop of logs").
 */
export const s3BucketLoggingEnabled: StackValidationPolicy = stackPolicy({
    name: "s3-bucket-logging-enabled",
    description:
        "Every S3 bucket that is not itself a server access log target has server access logging (an aws.s3.BucketLogging) into another bucket.",
    check: (resources, reader, report) => {
        const loggings = resources.filter((r) => LOGGING_TYPES.includes(r.type));
        for (const bucket of resources.filter((r) => BUCKET_TYPES.includes(r.type))) {
            const names = identities(reader, bucket, ["bucket", "id"]);
            const own = companionsOf(reader, loggings, bucket, names);
            const inline = inlineLogTarget(reader, bucket);
            const selfLogging = (Array.isArray(own) ? own : []).filter((l) => pointsAt(reader, l, bucket, names, "targetBucket") === true);
            const intoItself = selfLogging.length > 0 || (typeof inline === "string" && names.includes(inline));
            const elsewhere = (Array.isArray(own) && own.length > selfLogging.length) || (typeof inline === "string" && !names.includes(inline)) || isUnknown(inline);
            if (elsewhere) {
                // Any delivery to another bucket satisfies the check; one that is not known yet counts too, as a presence.
                continue;
            }
            if (intoItself) {
                report(
                    `S3 bucket "${bucket.name}" delivers its server access logs into itself, which logs every delivery again (the S3 User Guide advises against it): ` +
                        "set the BucketLogging's targetBucket to a separate log bucket.",
                    bucket.urn,
                );
                continue;
            }
            const unknownLink = isUnknown(own) ? own : undefined;
            const target = isLogTarget(reader, resources, loggings, bucket, names);
            if (target === true) continue;
            const undecided = unknownLink ?? (isUnknown(target) ? target : undefined);
            if (undecided) {
                reader.deferIfUnknown(undecided);
                continue;
            }
            report(
                `S3 bucket "${bucket.name}" has no server access logging, so requests to it (reads included) leave no trail: add an aws.s3.BucketLogging ` +
                    "{ bucket: bucket.id, targetBucket: logBucket.id, targetPrefix } into a separate log bucket (private, SSE-S3, with a lifecycle expiry) whose " +
                    'policy lets Principal { Service: "logging.s3.amazonaws.com" } s3:PutObject under the prefix, with aws:SourceArn (this bucket) and aws:SourceAccount conditions.',
                bucket.urn,
            );
        }
    },
});

export const s3Policies: StackValidationPolicy[] = [s3BucketEncryptedAndPrivate, s3BucketLoggingEnabled];
