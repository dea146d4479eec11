import { PublishCommand } from "@aws-sdk/client-sns";
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import type { SNSEventRecord, SQSEvent } from "aws-lambda";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readSesNotification } from "../../../functions/mail-ingest/ses-event";
import { LOCAL_ALERT_TOPIC_ARN, startSnsStub, type SnsStub } from "../../../tools/local/sns";
import { SES_HEADERS_MAX_BYTES, receiveMail, type SesReceiveOptions } from "../../../tools/local/ses";
import { startSqsStub, type SqsStub } from "../../../tools/local/sqs";

/**
 * The local AWS peers' own behaviour, beyond what the function tests use: the SQS stub as Lambda's
 * FIFO event source, the SNS stub's subscriptions, and the SES stand-in's notification.
 */

const FIXTURES = join(__dirname, "../../fixtures/mail");
const peers: { close(): Promise<void> }[] = [];
const clients: { destroy(): void }[] = [];
afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

async function sqsPeer(): Promise<SqsStub> {
    const sqs = await startSqsStub();
    peers.push(sqs);
    return sqs;
}

async function snsPeer(topics?: string[]): Promise<SnsStub> {
    const sns = await startSnsStub({ topics });
    peers.push(sns);
    return sns;
}

let sent = 0;
const entry = (group: string, body: string, dedup = `d-${++sent}`): SendMessageBatchRequestEntry => ({ Id: String(++sent), MessageBody: body, MessageGroupId: group, MessageDeduplicationId: dedup });

async function sendAll(sqs: SqsStub, entries: SendMessageBatchRequestEntry[]) {
    const client = sqs.client();
    clients.push(client);
    const results = [];
    for (let i = 0; i < entries.length; i += 10) results.push(await client.send(new SendMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: entries.slice(i, i + 10) })));
    return results;
}

/** Polls (a few ms at a time) until the condition holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
    const started = Date.now();
    while (!condition()) {
        if (Date.now() - started > 2000) throw new Error(`not within 2 s: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
    }
}

describe("local SQS FIFO queue", () => {
    it("delivers each message group in order, one group and at most 10 records per event, and deletes what succeeded", async () => {
        const sqs = await sqsPeer();
        const events: SQSEvent[] = [];
        sqs.onMessages(async (event) => void events.push(event));
        const a = Array.from({ length: 23 }, (_, i) => entry("tower-a", `a${i}`));
        const b = Array.from({ length: 3 }, (_, i) => entry("tower-b", `b${i}`));
        await sendAll(sqs, [...a, ...b]);
        await until(() => sqs.queue.length === 0, "the queue empties");
        await sqs.drain();

        const bodies = (group: string) => events.flatMap((e) => e.Records).filter((r) => r.attributes.MessageGroupId === group).map((r) => r.body);
        expect(bodies("tower-a")).toEqual(a.map((e) => e.MessageBody));
        expect(bodies("tower-b")).toEqual(b.map((e) => e.MessageBody));
        for (const event of events) {
            expect(event.Records.length).toBeLessThanOrEqual(10);
            expect(new Set(event.Records.map((r) => r.attributes.MessageGroupId)).size).toBe(1);
            expect(event.Records.every((r) => r.eventSourceARN === sqs.queueArn && r.eventSource === "aws:sqs")).toBe(true);
        }
    });

    it("keeps the records named in batchItemFailures and delivers them again after the visibility timeout, in order", async () => {
        const sqs = await sqsPeer();
        const done: string[] = [];
        let failOnce = true;
        sqs.onMessages(
            async (event) => {
                if (failOnce && event.Records.length === 3) {
                    failOnce = false;
                    done.push(event.Records[0].body);
                    return { batchItemFailures: event.Records.slice(1).map((r) => ({ itemIdentifier: r.messageId })) };
                }
                done.push(...event.Records.map((r) => r.body));
                return { batchItemFailures: [] };
            },
            { visibilityTimeoutMs: 5 },
        );
        await sendAll(sqs, [entry("t", "1"), entry("t", "2"), entry("t", "3")]);
        await until(() => sqs.queue.length === 0, "the queue empties");

        expect(done).toEqual(["1", "2", "3"]);
        expect(sqs.accepted.map((m) => m.receiveCount)).toEqual([1, 2, 2]);
    });

    it("moves a record that keeps failing to the dead letters after maxReceiveCount receives", async () => {
        const sqs = await sqsPeer();
        const errors: unknown[] = [];
        sqs.onMessages(
            async () => {
                throw new Error("tower-dispatch crashed");
            },
            { visibilityTimeoutMs: 1, maxReceiveCount: 2, onError: (error) => void errors.push(error) },
        );
        await sendAll(sqs, [entry("t", "poison")]);
        await until(() => sqs.deadLetters.length === 1, "the record reaches the dead letters");

        expect(errors).toHaveLength(2);
        expect(sqs.queue).toHaveLength(0);
    });

    it("refuses entries without a message group or deduplication ID, and takes a deduplication ID once", async () => {
        const sqs = await sqsPeer();
        const [result] = await sendAll(sqs, [
            { Id: "no-group", MessageBody: "x", MessageDeduplicationId: "d" },
            { Id: "no-dedup", MessageBody: "x", MessageGroupId: "g" },
            { Id: "first", MessageBody: "x", MessageGroupId: "g", MessageDeduplicationId: "same" },
            { Id: "again", MessageBody: "x", MessageGroupId: "g", MessageDeduplicationId: "same" },
        ]);

        expect(result.Failed?.map((f) => [f.Id, f.Code])).toEqual([
            ["no-group", "MissingParameter"],
            ["no-dedup", "InvalidParameterValue"],
        ]);
        expect(result.Successful?.map((s) => s.Id)).toEqual(["first", "again"]);
        expect(sqs.accepted).toHaveLength(1);
    });

    it("answers QueueDoesNotExist for another queue URL", async () => {
        const sqs = await sqsPeer();
        const client = sqs.client();
        clients.push(client);
        await expect(client.send(new SendMessageBatchCommand({ QueueUrl: `${sqs.endpoint}/123456789012/other.fifo`, Entries: [entry("g", "x")] }))).rejects.toMatchObject({ name: "QueueDoesNotExist" });
    });
});

describe("local SNS", () => {
    it("hands a publish to the topic's subscriber as an SNS event record, and no other topic's", async () => {
        const mailTopic = "arn:aws:sns:ap-northeast-1:123456789012:alertline-dev-mail";
        const sns = await snsPeer([LOCAL_ALERT_TOPIC_ARN, mailTopic]);
        const alerts: SNSEventRecord[] = [];
        const mail: SNSEventRecord[] = [];
        sns.onPublish(async (record) => void alerts.push(record));
        sns.onPublish(async (record) => void mail.push(record), { topicArn: mailTopic });
        const client = sns.client();
        clients.push(client);
        const { MessageId } = await client.send(new PublishCommand({ TopicArn: mailTopic, Subject: "Amazon SES Email Receipt Notification", Message: '{"notificationType":"Received"}' }));
        await sns.drain();

        expect(alerts).toHaveLength(0);
        expect(mail).toHaveLength(1);
        expect(mail[0].Sns).toMatchObject({ Type: "Notification", MessageId, TopicArn: mailTopic, Subject: "Amazon SES Email Receipt Notification", Message: '{"notificationType":"Received"}' });
        expect(sns.messages[0].json).toEqual({ notificationType: "Received" });
    });

    it("invokes a subscriber that failed again, as Lambda's asynchronous invocation does", async () => {
        const sns = await snsPeer();
        let calls = 0;
        const failures: boolean[] = [];
        sns.onPublish(
            async () => {
                calls++;
                if (calls === 1) throw new Error("busy");
            },
            { retryDelayMs: 1, onError: (_error, _record, _attempt, willRetry) => void failures.push(willRetry) },
        );
        const client = sns.client();
        clients.push(client);
        await client.send(new PublishCommand({ TopicArn: sns.topicArn, Message: "hello" }));
        await sns.drain();

        expect(calls).toBe(2);
        expect(failures).toEqual([true]);
    });

    it("refuses a topic that does not exist", async () => {
        const sns = await snsPeer();
        const client = sns.client();
        clients.push(client);
        await expect(client.send(new PublishCommand({ TopicArn: `${sns.topicArn}-typo`, Message: "x" }))).rejects.toMatchObject({ name: "NotFoundException" });
    });
});

describe("SES stand-in: the S3 action's notification", () => {
    const options = (overrides: Partial<SesReceiveOptions> = {}): SesReceiveOptions => ({
        messageId: "d6iitobk75ur44p8kdnnp7g2n800",
        receivedAt: new Date("2024-05-21T09:45:28.512Z"),
        bucketName: "alertline-dev-mail-local",
        topicArn: "arn:aws:sns:ap-northeast-1:123456789012:alertline-dev-mail",
        verdicts: "pass",
        ruleRecipients: ["patlite@alerts-dev.example.jp"],
        ...overrides,
    });
    const envelope = { mailFrom: "zabbix@zabbix.example.jp", recipients: ["patlite@alerts-dev.example.jp"], helo: "zabbix01.example.jp", remoteAddress: "127.0.0.1" };
    const raw = readFileSync(join(FIXTURES, "zabbix-ja-problem.eml"));
    /** The sample notification for this very mail (fixtures README). */
    const sample = JSON.parse(readFileSync(join(FIXTURES, "ses-s3-notification.json"), "utf8"));

    it("is read by mail-ingest as a received mail stored in S3 under mail/<messageId>", async () => {
        const mail = await receiveMail(raw, envelope, options());
        const reading = readSesNotification(JSON.stringify(mail.notification));

        expect(reading).toMatchObject({ kind: "received", source: { kind: "s3", bucket: "alertline-dev-mail-local", key: "mail/d6iitobk75ur44p8kdnnp7g2n800" } });
        expect(mail.objectKey).toBe("mail/d6iitobk75ur44p8kdnnp7g2n800");
        expect(mail.notification.mail).toMatchObject({ messageId: "d6iitobk75ur44p8kdnnp7g2n800", source: envelope.mailFrom, destination: envelope.recipients, timestamp: "2024-05-21T09:45:28.512Z" });
    });

    it("stores the mail unchanged behind a Return-Path and a Received header, and lists the headers unfolded", async () => {
        const mail = await receiveMail(raw, envelope, options());

        expect(mail.stored.subarray(mail.stored.length - raw.length).equals(raw)).toBe(true);
        expect(mail.notification.mail.headers?.slice(0, 2).map((h) => h.name)).toEqual(["Return-Path", "Received"]);
        expect(mail.notification.mail.headers?.[0].value).toBe("<zabbix@zabbix.example.jp>");
        expect(mail.notification.mail.headers?.every((h) => !/[\r\n]/.test(h.value))).toBe(true);
        expect(mail.notification.mail.commonHeaders).toMatchObject({
            returnPath: "zabbix@zabbix.example.jp",
            // The name generate.ts encodes in ISO-2022-JP for this fixture.
            from: ["Zabbix 監視サーバ <zabbix@zabbix.example.jp>"],
            subject: sample.mail.commonHeaders.subject,
            messageId: sample.mail.commonHeaders.messageId,
            date: sample.mail.commonHeaders.date,
        });
    });

    it("sets passing verdicts by default and failing ones like the failed-verdicts sample on request", async () => {
        const failedSample = JSON.parse(readFileSync(join(FIXTURES, "ses-s3-failed-verdicts.json"), "utf8"));
        const pick = (receipt: Record<string, unknown>) => ({ ...Object.fromEntries(["spamVerdict", "virusVerdict", "spfVerdict", "dkimVerdict", "dmarcVerdict", "dmarcPolicy"].map((k) => [k, receipt[k]])) });

        expect(pick((await receiveMail(raw, envelope, options())).notification.receipt as never)).toEqual(pick(sample.receipt));
        expect(pick((await receiveMail(raw, envelope, options({ verdicts: "fail" }))).notification.receipt as never)).toEqual(pick(failedSample.receipt));
    });

    it("cuts the header list beyond 10 KB and says so", async () => {
        const many = Buffer.from(`${Array.from({ length: 300 }, (_, i) => `X-Trace-${i}: ${"x".repeat(60)}`).join("\r\n")}\r\nSubject: big\r\n\r\nbody\r\n`);
        const mail = await receiveMail(many, envelope, options());
        const bytes = (mail.notification.mail.headers ?? []).reduce((sum, h) => sum + Buffer.byteLength(`${h.name}: ${h.value}`) + 2, 0);

        expect(mail.notification.mail.headersTruncated).toBe(true);
        expect(bytes).toBeLessThanOrEqual(SES_HEADERS_MAX_BYTES);
        expect(mail.notification.mail.headers!.length).toBeGreaterThan(100);
    });
});
