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

/**
 * Whether `companion.bucket` names this bucket, by where its value came from or by the value itself;
 * an Unknown when the name is not known and the engine gave no dependencies to tell.
 */
function pointsAt(reader: Reader, companion: PolicyResource, bucket: PolicyResource, bucketNames: readonly string[]): boolean | Unknown {
    if (dependenciesOf(companion, "bucket").some((d) => d.urn === bucket.urn)) return true;
    const name = reader.peek(companion.props, "bucket");
    if (isUnknown(name)) return "bucket" in (companion.propertyDependencies ?? {}) ? false : name;
    return typeof name === "string" && bucketNames.includes(name);
}

/** The companions of a bucket, or the Unknown that keeps it open when none is linked but some may be. */
function companionsOf(reader: Reader, candidates: PolicyResource[], bucket: PolicyResource, bucketNames: readonly string[]): PolicyResource[] | Unknown {
    const links = candidates.map((c) => pointsAt(reader, c, bucket, bucketNames));
    const linked = candidates.filter((_, i) => links[i] === true);
    return linked.length > 0 ? linked : (links.find(isUnknown) ?? []);
}

/** A verdict: "" when compliant, a problem, or the Unknown that keeps it open until the update. */
type Verdict = string | Unknown;

/** Whether a list of SSE rules encrypts with KMS by default. */
function rulesVerdict(reader: Reader, rules: unknown[] | Unknown | undefined, source: string): Verdict {
    if (isUnknown(rules)) return rules;
    if (rules === undefined || rules.length === 0) return `${source} has no rule`;
    const algorithms = rules.map((rule) => (isUnknown(rule) ? rule : reader.peek(reader.peek(rule, "applyServerSideEncryptionByDefault"), "sseAlgorithm")));
    const weak = algorithms.filter((a) => !isUnknown(a) && !(typeof a === "string" && KMS_ALGORITHMS.includes(a)));
    if (weak.length > 0) return `${source} uses ${weak.map((a) => JSON.stringify(a ?? "no default algorithm")).join(", ")}`;
    return algorithms.find(isUnknown) ?? "";
}

/** The bucket's default-encryption verdict, from its separate configurations or else its own setting. */
function encryptionVerdict(reader: Reader, bucket: PolicyResource, configs: PolicyResource[]): Verdict {
    // The bucket's own serverSideEncryptionConfiguration output counts only without a separate
    // resource: after creation it shows the SSE-S3 default AWS applied before that resource ran.
    if (configs.length === 0) {
        const inline = reader.peek(bucket.props, "serverSideEncryptionConfiguration");
        if (isUnknown(inline)) return inline;
        if (inline === undefined) return "it has no BucketServerSideEncryptionConfiguration";
        return rulesVerdict(reader, reader.peekList(inline, "rule"), "its serverSideEncryptionConfiguration");
    }
    const verdicts = configs.map((c) => rulesVerdict(reader, reader.peekList(c.props, "rules"), `BucketServerSideEncryptionConfiguration "${c.name}"`));
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

export const s3BucketEncryptedAndPrivate: StackValidationPolicy = stackPolicy({
    name: "s3-bucket-encrypted-and-private",
    description:
        "Every S3 bucket has SSE-KMS default encryption (aws:kms or aws:kms:dsse) and a public access block with all four settings on (its own, or the account's).",
    check: (resources, reader, report) => {
        const sseConfigs = resources.filter((r) => SSE_TYPES.includes(r.type));
        const blocks = resources.filter((r) => r.type === BUCKET_PAB_TYPE);
        const accountBlocked = resources.some((r) => r.type === ACCOUNT_PAB_TYPE && isFullyBlocked(openFlags(reader, r)));
        for (const bucket of resources.filter((r) => BUCKET_TYPES.includes(r.type))) {
            const names = identities(reader, bucket, ["bucket", "id"]);
            const problems: string[] = [];
            const configs = companionsOf(reader, sseConfigs, bucket, names);
            const encryption = isUnknown(configs) ? configs : encryptionVerdict(reader, bucket, configs);
            if (typeof encryption === "string" && encryption !== "") {
                problems.push(
                    `default encryption is not SSE-KMS (${encryption}): add an aws.s3.BucketServerSideEncryptionConfiguration with ` +
                        'rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }]',
                );
            } else reader.deferIfUnknown(encryption);
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

export const s3Policies: StackValidationPolicy[] = [s3BucketEncryptedAndPrivate];
