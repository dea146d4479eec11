import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { dependenciesOf, identities, stackPolicy } from "./links";
import { isAwsManagedAlias, isUnknown, Reader, Unknown } from "./props";

/**
 * Topics that AWS services publish to: SES (receipt rule actions) and CloudWatch (alarm actions)
 * can only publish to an encrypted topic whose key policy lets them use the key, which rules out
 * AWS-managed keys such as `alias/aws/sns` (their policies cannot be changed). The key must be one
 * this stack creates, or one given by ARN; a bare key ID or alias cannot be told apart from an
 * AWS-managed key.
 */

const TOPIC_TYPE = "aws:sns/topic:Topic";
const KEY_TYPE = "aws:kms/key:Key";
const ALIAS_TYPE = "aws:kms/alias:Alias";
const ALARM_TYPES = ["aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm"];
const ALARM_ACTION_KEYS = ["alarmActions", "okActions", "insufficientDataActions"];
const RECEIPT_RULE_TYPE = "aws:ses/receiptRule:ReceiptRule";

interface Publisher {
    readonly resource: PolicyResource;
    readonly service: "SES" | "CloudWatch";
}

/** Every topic in the stack a publisher sends to, by ARN or, at preview, by where the ARN came from. */
function targetedTopics(reader: Reader, resources: PolicyResource[]): Map<PolicyResource, Publisher[]> {
    const topics = resources.filter((r) => r.type === TOPIC_TYPE);
    const byArn = new Map(topics.flatMap((t) => identities(reader, t, ["arn", "id"]).map((arn) => [arn, t] as const)));
    const targeted = new Map<PolicyResource, Publisher[]>();
    const target = (topic: PolicyResource, publisher: Publisher) => {
        const list = targeted.get(topic) ?? [];
        if (!list.includes(publisher)) list.push(publisher);
        targeted.set(topic, list);
    };
    const visit = (publisher: Publisher, property: string, arns: unknown[]) => {
        for (const arn of arns) {
            const topic = typeof arn === "string" ? byArn.get(arn) : undefined;
            if (topic) target(topic, publisher);
        }
        for (const dependency of dependenciesOf(publisher.resource, property)) if (dependency.type === TOPIC_TYPE) target(dependency, publisher);
    };
    for (const resource of resources) {
        if (ALARM_TYPES.includes(resource.type)) {
            const publisher: Publisher = { resource, service: "CloudWatch" };
            for (const key of ALARM_ACTION_KEYS) {
                const arns = reader.peekList(resource.props, key);
                visit(publisher, key, Array.isArray(arns) ? arns : []);
            }
        } else if (resource.type === RECEIPT_RULE_TYPE) {
            const publisher: Publisher = { resource, service: "SES" };
            // Every action that notifies a topic: s3Actions, snsActions, lambdaActions, bounceActions, stopActions, workmailActions.
            for (const key of Object.keys(resource.props).filter((k) => k.endsWith("Actions"))) {
                const actions = reader.peekList(resource.props, key);
                visit(publisher, key, Array.isArray(actions) ? actions.map((action) => reader.peek(action, "topicArn")) : []);
            }
        }
    }
    return targeted;
}

/** What is wrong with a targeted topic's key: "" when nothing, an Unknown when that is not known yet. */
function keyProblem(reader: Reader, topic: PolicyResource, resources: PolicyResource[]): string | Unknown {
    const keyId = reader.peek(topic.props, "kmsMasterKeyId");
    const fromStackKey = dependenciesOf(topic, "kmsMasterKeyId").some((d) => d.type === KEY_TYPE || d.type === ALIAS_TYPE);
    if (isUnknown(keyId)) return fromStackKey ? "" : keyId;
    if (typeof keyId !== "string" || keyId.trim() === "") return "it is not encrypted";
    if (isAwsManagedAlias(keyId)) return `it is encrypted with the AWS-managed key ${keyId}, whose key policy cannot let SES or CloudWatch use it`;
    if (fromStackKey || keyId.startsWith("arn:")) return "";
    const stackKeys = resources.filter((r) => r.type === KEY_TYPE).flatMap((k) => identities(reader, k, ["arn", "keyId", "id"]));
    const stackAliases = resources.filter((r) => r.type === ALIAS_TYPE).flatMap((a) => identities(reader, a, ["name", "arn"]));
    if (stackKeys.includes(keyId) || stackAliases.includes(keyId)) return "";
    return `its kmsMasterKeyId ${JSON.stringify(keyId)} is neither a key created in this stack nor an ARN, so it cannot be told from an AWS-managed key`;
}

const SERVICE_PRINCIPALS = { SES: "ses.amazonaws.com", CloudWatch: "cloudwatch.amazonaws.com" } as const;

export const alertTopicsCustomerManagedKey: StackValidationPolicy = stackPolicy({
    name: "alert-topics-customer-managed-key",
    description:
        "Every SNS topic that an SES receipt rule or a CloudWatch alarm publishes to is encrypted with a customer-managed KMS key created in this stack or given by ARN, not alias/aws/sns.",
    check: (resources, reader, report) => {
        for (const [topic, publishers] of targetedTopics(reader, resources)) {
            const problem = keyProblem(reader, topic, resources);
            if (isUnknown(problem)) {
                reader.deferIfUnknown(problem);
                continue;
            }
            if (problem === "") continue;
            const services = [...new Set(publishers.map((p) => p.service))];
            const names = publishers.map((p) => `"${p.resource.name}"`);
            const from = names.length > 3 ? `${names.slice(0, 3).join(", ")} and ${names.length - 3} more` : names.join(", ");
            report(
                `SNS topic "${topic.name}" receives from ${services.join(" and ")} (${from}) but ${problem}: set kmsMasterKeyId to the ARN of an aws.kms.Key ` +
                    `created in this stack, whose key policy lets ${services.map((s) => SERVICE_PRINCIPALS[s]).join(" and ")} ` +
                    "use kms:GenerateDataKey* and kms:Decrypt (with an aws:SourceAccount condition).",
                topic.urn,
            );
        }
    },
});

export const alertTopicPolicies: StackValidationPolicy[] = [alertTopicsCustomerManagedKey];
