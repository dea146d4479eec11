import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isAwsManagedAlias, isUnknown, keySet, Reader, resourcePolicy, show } from "./props";

/** Encryption at rest, one resource at a time. S3 buckets need their companion resources: see s3.ts. */

const CMK_HINT = "a customer-managed KMS key's ARN (e.g. `key.arn` of an aws.kms.Key with enableKeyRotation: true)";

export const snsTopicEncrypted = resourcePolicy({
    name: "sns-topic-encrypted",
    description: "SNS topics are encrypted at rest with KMS (kmsMasterKeyId).",
    types: ["aws:sns/topic:Topic"],
    check: (props, reader, { name }) =>
        keySet(reader, props, "kmsMasterKeyId") ? [] : [`SNS topic "${name}" is not encrypted at rest: set kmsMasterKeyId to ${CMK_HINT}.`],
});

export const sqsQueueEncrypted = resourcePolicy({
    name: "sqs-queue-encrypted",
    description: "SQS queues are encrypted at rest with KMS (kmsMasterKeyId), not only SQS-managed keys.",
    types: ["aws:sqs/queue:Queue"],
    check: (props, reader, { name }) =>
        keySet(reader, props, "kmsMasterKeyId")
            ? []
            : [`SQS queue "${name}" has no KMS key: set kmsMasterKeyId to ${CMK_HINT} (SQS-managed SSE gives no control over who can decrypt).`],
});

export const logGroupEncrypted = resourcePolicy({
    name: "log-group-encrypted",
    description: "CloudWatch log groups are encrypted with a KMS key (kmsKeyId).",
    types: ["aws:cloudwatch/logGroup:LogGroup"],
    check: (props, reader, { name }) =>
        keySet(reader, props, "kmsKeyId")
            ? []
            : [`CloudWatch log group "${name}" has no kmsKeyId: set kmsKeyId to ${CMK_HINT} whose policy lets logs.<region>.amazonaws.com use it.`],
});

export const dynamodbTableCmk = resourcePolicy({
    name: "dynamodb-table-cmk",
    description: "DynamoDB tables are encrypted with a customer-managed KMS key (serverSideEncryption.kmsKeyArn).",
    types: ["aws:dynamodb/table:Table"],
    check: (props, reader, { name }) => {
        const fix = `set serverSideEncryption: { enabled: true, kmsKeyArn: <${CMK_HINT}> }`;
        const sse = reader.need(props, "serverSideEncryption");
        if (isUnknown(sse)) return [];
        if (sse === undefined) return [`DynamoDB table "${name}" uses the default AWS-owned key: ${fix}.`];
        const problems: string[] = [];
        const enabled = reader.need(sse, "enabled");
        if (enabled !== true && !isUnknown(enabled)) problems.push(`serverSideEncryption.enabled is ${show(enabled)}`);
        const key = reader.peek(sse, "kmsKeyArn");
        if (!keySet(reader, sse, "kmsKeyArn")) problems.push("no serverSideEncryption.kmsKeyArn (the AWS-managed aws/dynamodb key would be used)");
        else if (typeof key === "string" && isAwsManagedAlias(key)) problems.push(`serverSideEncryption.kmsKeyArn is the AWS-managed key ${key}`);
        return problems.length === 0 ? [] : [`DynamoDB table "${name}" is not encrypted with a customer-managed key: ${problems.join("; ")}. Fix: ${fix}.`];
    },
});

/** Problems with one block device (`rootBlockDevice`, `ebsBlockDevices[i]`) of an instance. */
function blockDeviceProblem(reader: Reader, device: unknown, label: string): string | undefined {
    if (isUnknown(device)) return undefined;
    const encrypted = reader.need(device, "encrypted");
    if (encrypted === true || isUnknown(encrypted)) return undefined;
    return `${label}.encrypted is ${show(encrypted)}`;
}

export const ebsEncrypted = resourcePolicy({
    name: "ebs-encrypted",
    description: "EBS volumes and every block device of an EC2 instance, the root device included, are encrypted.",
    types: ["aws:ebs/volume:Volume", "aws:ec2/instance:Instance"],
    check: (props, reader, { type, name }) => {
        if (type === "aws:ebs/volume:Volume") {
            const encrypted = reader.need(props, "encrypted");
            if (encrypted === true || isUnknown(encrypted)) return [];
            return [`EBS volume "${name}" is not encrypted (encrypted is ${show(encrypted)}): set encrypted: true and kmsKeyId to ${CMK_HINT}.`];
        }
        const problems: string[] = [];
        const root = reader.need(props, "rootBlockDevice");
        if (root === undefined) problems.push("no rootBlockDevice, so the root volume is encrypted only if the AMI or the account's EBS default says so");
        else {
            const problem = blockDeviceProblem(reader, root, "rootBlockDevice");
            if (problem) problems.push(problem);
        }
        const ebs = reader.needList(props, "ebsBlockDevices");
        if (Array.isArray(ebs)) {
            ebs.forEach((device, i) => {
                const problem = blockDeviceProblem(reader, device, `ebsBlockDevices[${i}]`);
                if (problem) problems.push(problem);
            });
        }
        return problems.length === 0
            ? []
            : [`EC2 instance "${name}" has unencrypted storage: ${problems.join("; ")}. Set rootBlockDevice (and every ebsBlockDevices entry) to { encrypted: true, kmsKeyId: <${CMK_HINT}> }.`];
    },
});

export const lambdaEnvironmentEncrypted = resourcePolicy({
    name: "lambda-environment-encrypted",
    description: "Lambda functions with environment variables encrypt them with a customer-managed KMS key (kmsKeyArn).",
    types: ["aws:lambda/function:Function"],
    check: (props, reader, { name }) => {
        const environment = reader.peek(props, "environment");
        if (environment === undefined) return [];
        const variables = reader.peek(environment, "variables");
        // An environment not known at preview may hold variables: it counts as set.
        const hasVariables = isUnknown(environment) || isUnknown(variables) || (typeof variables === "object" && variables !== null && Object.keys(variables).length > 0);
        if (!hasVariables) return [];
        const key = reader.peek(props, "kmsKeyArn");
        if (!keySet(reader, props, "kmsKeyArn")) {
            return [`Lambda function "${name}" has environment variables but no kmsKeyArn, so they are encrypted only with the AWS-managed aws/lambda key: set kmsKeyArn to ${CMK_HINT} and grant the function's role kms:Decrypt on it.`];
        }
        if (typeof key === "string" && isAwsManagedAlias(key)) {
            return [`Lambda function "${name}" encrypts its environment with the AWS-managed key ${key}: set kmsKeyArn to ${CMK_HINT}.`];
        }
        return [];
    },
});

export const encryptionPolicies: ResourceValidationPolicy[] = [
    snsTopicEncrypted,
    sqsQueueEncrypted,
    logGroupEncrypted,
    dynamodbTableCmk,
    ebsEncrypted,
    lambdaEnvironmentEncrypted,
];
