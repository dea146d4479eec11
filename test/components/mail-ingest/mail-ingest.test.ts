import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { MailIngest } from "../../../components/mail-ingest/mail-ingest";
import { mailIngestArgs } from "./mail-ingest-args";
import { RecordingEngine } from "../../../tools/offline/mock-engine";
import { policyDocument, recordResources } from "../../harness/record";

const args = mailIngestArgs;

let engine: RecordingEngine;
let dnsRecords: unknown;
beforeAll(async () => {
    engine = await recordResources(() => {
        const mail = new MailIngest("mail", args());
        mail.dnsRecordsToAdd.apply((r) => (dnsRecords = r));
    });
});

const key = () => engine.get("aws:kms/key:Key", "mail-key");
const bucket = () => engine.get("aws:s3/bucket:Bucket", "mail-mail");

describe("MailIngest receiving", () => {
    it("has one receipt rule for the alert address that requires TLS and scans", () => {
        const rule = engine.get("aws:ses/receiptRule:ReceiptRule", "mail-rule");
        expect(rule.inputs).toMatchObject({ recipients: ["patlite@alerts.example.jp"], tlsPolicy: "Require", scanEnabled: true, enabled: true, ruleSetName: "alertline-dev" });
    });

    it("stores mail with the S3 action, which takes up to 40 MB, and notifies the encrypted mail topic", () => {
        const rule = engine.get("aws:ses/receiptRule:ReceiptRule", "mail-rule");
        const topic = engine.get("aws:sns/topic:Topic", "mail-mail-topic");
        expect(rule.inputs.s3Actions).toEqual([expect.objectContaining({ bucketName: bucket().id, objectKeyPrefix: "mail/", topicArn: topic.state.arn })]);
        expect(rule.inputs.snsActions).toBeUndefined();
        expect(topic.inputs.kmsMasterKeyId).toBe(key().state.arn);
    });

    it("leaves the rule set inactive unless the stack asks for it", async () => {
        expect(engine.ofType("aws:ses/activeReceiptRuleSet:ActiveReceiptRuleSet")).toEqual([]);
        const active = await recordResources(() => new MailIngest("mail", args({ mail: { ...args().mail, activateRuleSet: true } })));
        expect(active.get("aws:ses/activeReceiptRuleSet:ActiveReceiptRuleSet", "mail-active-rule-set").inputs.ruleSetName).toBe("alertline-dev");
    });

    it("lets SES, and only for this rule, write to the bucket; and the key lets SES encrypt", () => {
        const policy = policyDocument(engine.get("aws:s3/bucketPolicy:BucketPolicy", "mail-mail-policy").inputs.policy);
        const ses = policy.Statement.find((s) => s.Sid === "SesWritesMail")!;
        expect(ses.Principal).toEqual({ Service: "ses.amazonaws.com" });
        expect(ses.Condition.ArnLike["aws:SourceArn"]).toBe("arn:aws:ses:ap-northeast-1:123456789012:receipt-rule-set/alertline-dev:receipt-rule/alertline-dev-alerts");
        const keyPolicy = policyDocument(key().inputs.policy);
        expect(keyPolicy.Statement.find((s) => s.Sid === "SesEncryptsMailAndNotifications")!.Principal).toEqual({ Service: "ses.amazonaws.com" });
    });

    it("encrypts the bucket with the mail key, blocks public access, and expires mail", () => {
        const encryption = engine.get("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "mail-mail-encryption");
        expect(encryption.inputs.rules).toEqual([expect.objectContaining({ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key().state.arn } })]);
        expect(engine.get("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "mail-mail-public-access").inputs).toMatchObject({
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        const lifecycle = engine.get("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "mail-mail-lifecycle");
        expect(lifecycle.inputs.rules).toContainEqual(expect.objectContaining({ expiration: { days: 30 } }));
    });

    it("outputs the DNS records to add when there is no hosted zone, and writes them when there is", async () => {
        expect(engine.ofType("aws:route53/record:Record")).toEqual([]);
        expect(dnsRecords).toContainEqual({ name: "alerts.example.jp", type: "MX", value: "10 inbound-smtp.ap-northeast-1.amazonaws.com" });
        expect(dnsRecords).toContainEqual({ name: "dkimtokenone._domainkey.alerts.example.jp", type: "CNAME", value: "dkimtokenone.dkim.amazonses.com" });
        const zoned = await recordResources(() => new MailIngest("mail", args({ mail: { ...args().mail, hostedZoneId: "Z0123456789ABC" } })));
        const written = zoned.ofType("aws:route53/record:Record").map((r) => `${r.inputs.type} ${r.inputs.name}`);
        expect(written.sort()).toEqual([
            "CNAME dkimtokenone._domainkey.alerts.example.jp",
            "CNAME dkimtokenthree._domainkey.alerts.example.jp",
            "CNAME dkimtokentwo._domainkey.alerts.example.jp",
            "MX alerts.example.jp",
            "TXT _amazonses.alerts.example.jp",
            "TXT _dmarc.alerts.example.jp",
        ]);
    });
});

describe("MailIngest functions and queues", () => {
    it("subscribes mail-ingest to the mail topic and packages the rules and towers with it", () => {
        const ingest = engine.get("aws:lambda/function:Function", "mail-ingest");
        const archive = (ingest.inputs.code as { archive: Record<string, string> }).archive;
        expect(Object.keys(archive).sort()).toEqual(["index.js", "ingest.json", "rules.yaml", "towers.json"]);
        expect(engine.get("aws:sns/topicSubscription:TopicSubscription", "mail-ingest-subscription").inputs).toMatchObject({
            protocol: "lambda",
            topic: engine.get("aws:sns/topic:Topic", "mail-mail-topic").state.arn,
        });
        expect(ingest.inputs.kmsKeyArn).toBe(key().state.arn);
    });

    it("feeds tower-dispatch from an encrypted FIFO queue with a FIFO dead-letter queue, reporting partial failures", () => {
        const queue = engine.get("aws:sqs/queue:Queue", "mail-signals");
        const dlq = engine.get("aws:sqs/queue:Queue", "mail-signals-dlq");
        expect(queue.inputs).toMatchObject({ fifoQueue: true, deduplicationScope: "messageGroup", kmsMasterKeyId: key().state.arn });
        expect(dlq.inputs.fifoQueue).toBe(true);
        expect(JSON.parse(String(queue.inputs.redrivePolicy)).deadLetterTargetArn).toBe(dlq.state.arn);
        expect(engine.get("aws:lambda/eventSourceMapping:EventSourceMapping", "mail-dispatch-source").inputs).toMatchObject({
            eventSourceArn: queue.state.arn,
            functionResponseTypes: ["ReportBatchItemFailures"],
        });
    });

    it("runs tower-dispatch in the private subnets with its own security group", () => {
        const dispatch = engine.get("aws:lambda/function:Function", "mail-dispatch");
        const sg = engine.get("aws:ec2/securityGroup:SecurityGroup", "mail-dispatch-sg");
        expect(dispatch.inputs.vpcConfig).toEqual({ subnetIds: ["subnet-private-1", "subnet-private-2"], securityGroupIds: [sg.id] });
        expect(sg.inputs.ingress ?? []).toEqual([]);
    });

    it("allows the dispatcher HTTPS out as a separate rule, never inline, so the sites' tower rules on its group survive updates", () => {
        const sg = engine.get("aws:ec2/securityGroup:SecurityGroup", "mail-dispatch-sg");
        expect(sg.inputs.egress).toBeUndefined();
        expect(engine.get("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "mail-dispatch-https-egress").inputs).toMatchObject({
            securityGroupId: sg.id,
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrIpv4: "0.0.0.0/0",
        });
    });

    it("keeps state in an encrypted table with TTL", () => {
        expect(engine.get("aws:dynamodb/table:Table", "mail-state").inputs).toMatchObject({
            hashKey: "pk",
            ttl: { attributeName: "expiresAt", enabled: true },
            serverSideEncryption: { enabled: true, kmsKeyArn: key().state.arn },
        });
    });

    it("alarms into the alert channel on every dead-letter queue and on function errors", () => {
        const alarms = engine.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
        expect(alarms.map((a) => a.name).sort()).toEqual(["mail-dispatch-errors-alarm", "mail-ingest-dlq-alarm", "mail-ingest-errors-alarm", "mail-signals-dlq-alarm"]);
        for (const alarm of alarms) expect(alarm.inputs.alarmActions).toEqual(["arn:aws:sns:ap-northeast-1:123456789012:alerts"]);
    });

    it("gives the dispatcher no SSM rights unless a site relays through a host", async () => {
        const policy = policyDocument(engine.get("aws:iam/rolePolicy:RolePolicy", "mail-dispatch-policy").inputs.policy);
        expect(policy.Statement.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith("ssm:"))).toEqual([]);
        const relayed = await recordResources(() => new MailIngest("mail", args({ relayInstanceIds: pulumi.output(["i-0relay"]) })));
        const relayPolicy = policyDocument(relayed.get("aws:iam/rolePolicy:RolePolicy", "mail-dispatch-policy").inputs.policy);
        const send = relayPolicy.Statement.find((s) => s.Sid === "RelayThroughHosts")!;
        expect(send.Resource).toEqual([relayed.get("aws:ssm/document:Document", "mail-relay-document").state.arn, "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-0relay"]);
    });
});

describe("MailIngest concurrency (issue 11)", () => {
    it("reserves 5 concurrent executions for mail-ingest by default, and none for tower-dispatch", () => {
        expect(engine.get("aws:lambda/function:Function", "mail-ingest").inputs.reservedConcurrentExecutions).toBe(5);
        expect(engine.get("aws:lambda/function:Function", "mail-dispatch").inputs.reservedConcurrentExecutions).toBeUndefined();
    });

    it("takes the reservation from alertline:mail.reservedConcurrency, and reserves none when it is false", async () => {
        const twelve = await recordResources(() => new MailIngest("mail", args({ mail: { ...args().mail, reservedConcurrency: 12 } })));
        expect(twelve.get("aws:lambda/function:Function", "mail-ingest").inputs.reservedConcurrentExecutions).toBe(12);
        const none = await recordResources(() => new MailIngest("mail", args({ mail: { ...args().mail, reservedConcurrency: false } })));
        expect(none.get("aws:lambda/function:Function", "mail-ingest").inputs).not.toHaveProperty("reservedConcurrentExecutions");
    });

    it("lets mail-ingest list only the mail prefix, so a missing mail answers 404 or can be told from a denial", () => {
        const policy = policyDocument(engine.get("aws:iam/rolePolicy:RolePolicy", "mail-ingest-policy").inputs.policy);
        const list = policy.Statement.filter((s) => JSON.stringify(s.Action).includes("s3:List"));
        expect(list).toEqual([{ Sid: "FindMissingMail", Effect: "Allow", Action: "s3:ListBucket", Resource: expect.not.stringContaining("/"), Condition: { StringLike: { "s3:prefix": "mail/*" } } }]);
    });
});
