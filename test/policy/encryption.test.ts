import { describe, expect, it } from "vitest";
import { KEY_ARN, keys, resource, secret, TAGS, unknown, verdicts, verdictsOf } from "./registrations";

const TOPIC = "aws:sns/topic:Topic";
const QUEUE = "aws:sqs/queue:Queue";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const TABLE = "aws:dynamodb/table:Table";
const VOLUME = "aws:ebs/volume:Volume";
const INSTANCE = "aws:ec2/instance:Instance";
const FUNCTION = "aws:lambda/function:Function";

/** An instance that every policy but the one under test accepts. */
const goodInstance = {
    ami: "ami-1",
    instanceType: "t3.small",
    associatePublicIpAddress: false,
    monitoring: true,
    metadataOptions: { httpTokens: "required" },
    rootBlockDevice: { encrypted: true, kmsKeyId: KEY_ARN },
    tags: TAGS,
};

describe.each([
    { policy: "sns-topic-encrypted", type: TOPIC, key: "kmsMasterKeyId" },
    { policy: "sqs-queue-encrypted", type: QUEUE, key: "kmsMasterKeyId" },
    { policy: "log-group-encrypted", type: LOG_GROUP, key: "kmsKeyId" },
])("$policy", ({ policy, type, key }) => {
    it(`passes a resource whose ${key} is a key ARN, and nothing else in the pack objects`, () => {
        expect(verdicts(resource(type, "good", { [key]: KEY_ARN, tags: TAGS }))).toEqual([]);
    });

    it(`flags a resource without ${key}, naming it and the property to set`, () => {
        const found = verdictsOf(policy, resource(type, "plain", { tags: TAGS }));
        expect(keys(found)).toEqual([`${policy} ${type} plain mandatory`]);
        expect(found[0].message).toContain('"plain"');
        expect(found[0].message).toContain(`set ${key}`);
    });

    it(`counts an empty ${key} as unset`, () => {
        expect(verdictsOf(policy, resource(type, "empty", { [key]: "", tags: TAGS }))).toHaveLength(1);
    });

    it(`accepts a ${key} that is a secret (policies see it revealed) or not known until the update`, () => {
        expect(verdicts(resource(type, "secret", { [key]: secret(KEY_ARN), tags: TAGS }), resource(type, "preview", { [key]: unknown(), tags: TAGS }))).toEqual([]);
    });
});

describe("dynamodb-table-cmk", () => {
    const table = (name: string, serverSideEncryption?: unknown) =>
        resource(TABLE, name, { hashKey: "pk", ...(serverSideEncryption === undefined ? {} : { serverSideEncryption }), tags: TAGS });

    it("passes a table encrypted with a customer-managed key", () => {
        expect(verdicts(table("good", { enabled: true, kmsKeyArn: KEY_ARN }))).toEqual([]);
    });

    it("flags the default AWS-owned key, the AWS-managed key, an explicit aws/dynamodb alias and disabled encryption", () => {
        const found = verdictsOf(
            "dynamodb-table-cmk",
            table("default"),
            table("aws-managed", { enabled: true }),
            table("alias", { enabled: true, kmsKeyArn: "alias/aws/dynamodb" }),
            table("disabled", { enabled: false, kmsKeyArn: KEY_ARN }),
        );
        expect(found.map((v) => v.name)).toEqual(["default", "aws-managed", "alias", "disabled"]);
        expect(found[1].message).toContain("no serverSideEncryption.kmsKeyArn");
        expect(found[2].message).toContain("alias/aws/dynamodb");
        expect(found[3].message).toContain("serverSideEncryption.enabled is false");
    });

    it("accepts a key not known until the update", () => {
        expect(verdicts(table("preview", { enabled: true, kmsKeyArn: unknown() }))).toEqual([]);
    });
});

describe("ebs-encrypted", () => {
    it("passes an encrypted volume and an instance whose root and extra devices are encrypted", () => {
        const instance = { ...goodInstance, ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }] };
        expect(verdicts(resource(VOLUME, "data", { encrypted: true, kmsKeyId: KEY_ARN, tags: TAGS }), resource(INSTANCE, "host", instance))).toEqual([]);
    });

    it("flags an unencrypted volume", () => {
        const found = verdictsOf("ebs-encrypted", resource(VOLUME, "data", { size: 10, tags: TAGS }));
        expect(keys(found)).toEqual([`ebs-encrypted ${VOLUME} data mandatory`]);
    });

    it("flags an instance with no root device settings (the AMI's default applies) and one with an unencrypted extra device", () => {
        const { rootBlockDevice: _, ...noRoot } = goodInstance;
        const extra = { ...goodInstance, ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }, { deviceName: "/dev/sdg" }] };
        const found = verdictsOf("ebs-encrypted", resource(INSTANCE, "no-root", noRoot), resource(INSTANCE, "extra", extra));
        expect(found.map((v) => v.name)).toEqual(["no-root", "extra"]);
        expect(found[0].message).toContain("no rootBlockDevice");
        expect(found[1].message).toContain("ebsBlockDevices[1].encrypted");
        expect(found[1].message).not.toContain("ebsBlockDevices[0]");
    });

    it("flags a root device with encrypted: false", () => {
        const found = verdictsOf("ebs-encrypted", resource(INSTANCE, "host", { ...goodInstance, rootBlockDevice: { encrypted: false } }));
        expect(found).toHaveLength(1);
        expect(found[0].message).toContain("rootBlockDevice.encrypted is false");
    });
});

describe("lambda-environment-encrypted", () => {
    const fn = (name: string, extra: Record<string, unknown>) => resource(FUNCTION, name, { runtime: "nodejs20.x", handler: "index.handler", tags: TAGS, ...extra });

    it("passes a function whose environment has a customer-managed key, and functions with no variables at all", () => {
        expect(
            verdicts(
                fn("keyed", { environment: { variables: { A: "1" } }, kmsKeyArn: KEY_ARN }),
                fn("bare", {}),
                fn("empty", { environment: { variables: {} } }),
                fn("preview-key", { environment: { variables: { A: "1" } }, kmsKeyArn: unknown() }),
            ),
        ).toEqual([]);
    });

    it("flags variables without kmsKeyArn, with the AWS-managed key, and an environment not known at preview without a key", () => {
        const found = verdictsOf(
            "lambda-environment-encrypted",
            fn("no-key", { environment: { variables: { TOKEN: secret("s3cr3t") } } }),
            fn("aws-key", { environment: { variables: { A: "1" } }, kmsKeyArn: "arn:aws:kms:ap-northeast-1:123456789012:alias/aws/lambda" }),
            fn("preview-env", { environment: unknown() }),
        );
        expect(found.map((v) => v.name)).toEqual(["no-key", "aws-key", "preview-env"]);
        expect(found[0].message).toContain("no kmsKeyArn");
        expect(found[1].message).toContain("alias/aws/lambda");
        // the secret value is never echoed
        expect(found[0].message).not.toContain("s3cr3t");
    });
});
