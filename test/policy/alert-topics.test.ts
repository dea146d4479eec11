import { describe, expect, it } from "vitest";
import { keys, resource, TAGS, unknown, urnOf, verdicts, verdictsOf } from "./registrations";

const TOPIC = "aws:sns/topic:Topic";
const KEY = "aws:kms/key:Key";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const RULE = "aws:ses/receiptRule:ReceiptRule";
const POLICY = "alert-topics-customer-managed-key";
const REGION_ACCOUNT = "ap-northeast-1:123456789012";

const topicArn = (name: string) => `arn:aws:sns:${REGION_ACCOUNT}:${name}`;
const topic = (name: string, kmsMasterKeyId: unknown, extras = {}) =>
    resource(TOPIC, name, { kmsMasterKeyId, tags: TAGS }, { state: { kmsMasterKeyId, tags: TAGS, arn: topicArn(name) }, ...extras });
const key = (name: string) => resource(KEY, name, { enableKeyRotation: true, tags: TAGS }, { state: { enableKeyRotation: true, tags: TAGS, arn: `arn:aws:kms:${REGION_ACCOUNT}:key/key-${name}`, keyId: `key-${name}` } });
const alarm = (name: string, actions: Record<string, unknown>, extras = {}) =>
    resource(ALARM, name, { metricName: "CPUUtilization", namespace: "AWS/EC2", comparisonOperator: "GreaterThanThreshold", evaluationPeriods: 1, tags: TAGS, ...actions }, extras);
const rule = (name: string, topicArnValue: unknown, extras = {}) =>
    resource(RULE, name, { ruleSetName: "rs", tlsPolicy: "Require", scanEnabled: true, s3Actions: [{ position: 1, bucketName: "b", topicArn: topicArnValue }] }, extras);

describe("alert-topics-customer-managed-key", () => {
    it("passes topics that alarms and SES target when their key is created in this stack or given by ARN", () => {
        expect(
            verdicts(
                key("alerts-key"),
                topic("alerts", `arn:aws:kms:${REGION_ACCOUNT}:key/key-alerts-key`),
                topic("mail", "key-alerts-key"),
                topic("partner", "arn:aws:kms:us-east-1:210987654321:key/external"),
                alarm("cpu", { alarmActions: [topicArn("alerts")], okActions: [topicArn("partner")] }),
                rule("mail-rule", topicArn("mail")),
            ),
        ).toEqual([]);
    });

    it("flags alias/aws/sns on a topic an alarm targets, by okActions or insufficientDataActions as much as alarmActions", () => {
        const found = verdictsOf(
            POLICY,
            topic("managed", "alias/aws/sns"),
            topic("quiet", "alias/aws/sns"),
            topic("untargeted", "alias/aws/sns"),
            alarm("ok-only", { okActions: [topicArn("managed")] }),
            alarm("no-data", { insufficientDataActions: [topicArn("quiet")] }),
        );
        expect(keys(found)).toEqual([`${POLICY} ${TOPIC} managed mandatory`, `${POLICY} ${TOPIC} quiet mandatory`]);
        expect(found[0].message).toContain("CloudWatch");
        expect(found[0].message).toContain("alias/aws/sns");
        expect(found[0].message).toContain("cloudwatch.amazonaws.com");
    });

    it("flags the ARN form of the AWS-managed alias on a topic an SES receipt rule notifies, and names SES's principal", () => {
        const found = verdictsOf(POLICY, topic("mail", `arn:aws:kms:${REGION_ACCOUNT}:alias/aws/sns`), rule("mail-rule", topicArn("mail")));
        expect(found.map((v) => v.name)).toEqual(["mail"]);
        expect(found[0].message).toContain('SES ("mail-rule")');
        expect(found[0].message).toContain("ses.amazonaws.com");
    });

    it("flags a targeted topic with no key, and one keyed by a bare ID no resource here has", () => {
        const found = verdictsOf(POLICY, topic("plain", undefined), topic("by-id", "1234abcd-12ab-34cd-56ef-1234567890ab"), alarm("both", { alarmActions: [topicArn("plain"), topicArn("by-id")] }));
        expect(found.map((v) => v.name)).toEqual(["plain", "by-id"]);
        expect(found[0].message).toContain("is not encrypted");
        expect(found[1].message).toContain("neither a key created in this stack nor an ARN");
    });

    it("follows property dependencies at preview, when ARNs are not known yet", () => {
        const alertsTopicUrn = urnOf(TOPIC, "alerts");
        const preview = (name: string, kmsMasterKeyId: unknown, keyDeps: string[]) =>
            resource(TOPIC, name, { kmsMasterKeyId, tags: TAGS }, { state: { kmsMasterKeyId, tags: TAGS, arn: unknown() }, propertyDependencies: { kmsMasterKeyId: keyDeps, tags: [] } });
        const targeting = { propertyDependencies: { alarmActions: [alertsTopicUrn], okActions: [] } };
        // key not known yet, but it comes from a key in this stack: fine
        expect(verdicts(key("alerts-key"), preview("alerts", unknown(), [urnOf(KEY, "alerts-key")]), alarm("cpu", { alarmActions: [unknown()] }, targeting))).toEqual([]);
        // the AWS-managed key is known at preview, and the unknown ARN still leads to the topic
        const found = verdictsOf(POLICY, preview("alerts", "alias/aws/sns", []), alarm("cpu", { alarmActions: [unknown()] }, targeting));
        expect(keys(found)).toEqual([`${POLICY} ${TOPIC} alerts mandatory`]);
    });

    it("defers a targeted topic whose key is not known and not traceable to a key", () => {
        const found = verdictsOf(POLICY, topic("alerts", unknown()), alarm("cpu", { alarmActions: [topicArn("alerts")] }));
        expect(found.map((v) => v.level)).toEqual(["advisory"]);
        expect(found[0].message).toContain(`can't run policy '${POLICY}'`);
    });
});
