import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, SNSEvent, SNSEventRecord } from "aws-lambda";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHandler, type HandlerLogger } from "../../../functions/mail-ingest/handler";
import { IDEMPOTENCY_TTL_SECONDS, MailBusyError, mailStateKey, type IngestConfig, type IngestTower } from "../../../functions/mail-ingest/ingest";
import { parseMailRules } from "../../../functions/shared/mail-rules";
import type { SignalIntent } from "../../../functions/shared/signal-intent";
import { parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";
import { MAIL_INGEST_TRANSLATION, startStateTable, type LocalStateTable } from "../../../functions/tools/local-aws/dynamo";
import { startS3Stub, type S3Stub } from "../../../functions/tools/local-aws/s3";
import { startSnsStub, type SnsStub } from "../../../functions/tools/local-aws/sns";
import { startSqsStub, type SqsStub } from "../../../functions/tools/local-aws/sqs";

/**
 * mail-ingest end to end through its handler, with real SDK clients against real local peers:
 * dynalite for the state table, and HTTP servers speaking S3 REST, SQS JSON and SNS Query.
 */

const FIXTURES = join(__dirname, "../../fixtures/mail");
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));
const rules = parseMailRules(readFileSync(join(__dirname, "../../../functions/mail-ingest/rules/prod.yaml"), "utf8"), "prod.yaml");

const BUCKET = "alertline-prod-mail-0a1b2c3d";
const TOWERS: IngestTower[] = [
    { name: "tokyo-ops", site: "tokyo", allowedSenders: [] },
    { name: "osaka-noc", site: "osaka", allowedSenders: ["nagios@*.example.com"] },
];
const ALLOWED = ["*@zabbix.example.jp", "alert@dtdg.co", "no-reply@sns.amazonaws.com", "*@uptime.example.com", "*@batch.example.jp", "*@legacy.example.jp"];

let s3: S3Stub;
let sqs: SqsStub;
let sns: SnsStub;
let dynamo: LocalStateTable;
let clock: number;
let lines: { level: string; message: string; attributes: Record<string, unknown>[] }[];
let handler: ReturnType<typeof createHandler>;

const logger: HandlerLogger = {
    info: (message, ...attributes) => void lines.push({ level: "info", message, attributes }),
    warn: (message, ...attributes) => void lines.push({ level: "warn", message, attributes }),
    error: (message, ...attributes) => void lines.push({ level: "error", message, attributes }),
};

function context(remainingMs = 60_000): Context {
    return { getRemainingTimeInMillis: () => remainingMs, awsRequestId: "req-1", functionName: "alertline-prod-mail-ingest" } as unknown as Context;
}

function snsRecord(message: string, messageId = "sns-1"): SNSEventRecord {
    return {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: "arn:aws:sns:ap-northeast-1:123456789012:alertline-prod-mail:sub",
        Sns: {
            Type: "Notification",
            MessageId: messageId,
            TopicArn: "arn:aws:sns:ap-northeast-1:123456789012:alertline-prod-mail",
            Subject: "Amazon SES Email Receipt Notification",
            Message: message,
            Timestamp: "2024-05-21T09:45:29.000Z",
            SignatureVersion: "1",
            Signature: "EXAMPLE",
            SigningCertUrl: "https://example.invalid/cert.pem",
            UnsubscribeUrl: "https://example.invalid/unsubscribe",
            MessageAttributes: {},
        },
    };
}

const event = (...records: SNSEventRecord[]): SNSEvent => ({ Records: records });

/** The S3-action notification sample, for `mail` stored under a fresh message ID. */
function s3Notification(messageId: string, opts: { verdictsFrom?: string } = {}): string {
    const sample = JSON.parse(readFileSync(join(FIXTURES, opts.verdictsFrom ?? "ses-s3-notification.json"), "utf8"));
    sample.mail.messageId = messageId;
    sample.receipt.action.objectKey = `inbound/${messageId}`;
    return JSON.stringify(sample);
}

/** Stores a mail in the S3 stub and returns the SNS record SES would send for it. */
function deliver(mail: Buffer, messageId: string, opts: { verdictsFrom?: string } = {}): SNSEventRecord {
    s3.put(BUCKET, `inbound/${messageId}`, mail);
    return snsRecord(s3Notification(messageId, opts));
}

const intentsOnQueue = (): SignalIntent[] => sqs.queue.map((e) => JSON.parse(e.MessageBody));
const summaries = (): Record<string, unknown>[] => sns.messages.map((p) => JSON.parse(p.message));

async function stateItem(messageId: string): Promise<Record<string, unknown> | undefined> {
    return (await dynamo.documentClient.send(new GetCommand({ TableName: dynamo.table, Key: { pk: mailStateKey(messageId) }, ConsistentRead: true }))).Item;
}

function makeHandler(overrides: Partial<IngestConfig> = {}) {
    const config: IngestConfig = {
        environment: "prod",
        rules,
        towers: TOWERS,
        allowedSenders: ALLOWED,
        signalQueueUrl: sqs.queueUrl,
        alertTopicArn: sns.topicArn,
        stateTable: dynamo.table,
        ...overrides,
    };
    return createHandler({
        s3: s3.client(),
        sqs: sqs.client(),
        sns: sns.client(),
        ddb: dynamo.documentClientWith(MAIL_INGEST_TRANSLATION),
        logger,
        now: () => clock,
        config: () => config,
    });
}

beforeEach(async () => {
    [s3, sqs, sns, dynamo] = await Promise.all([startS3Stub(), startSqsStub(), startSnsStub(), startStateTable()]);
    clock = Date.parse("2024-05-21T09:45:30.000Z");
    lines = [];
    handler = makeHandler();
});
afterEach(async () => {
    await Promise.all([s3.close(), sqs.close(), sns.close(), dynamo.close()]);
});

describe("mail-ingest: a trusted alert mail", () => {
    it("sends one intent per tower to the FIFO queue, grouped by tower and deduplicated per mail and tower", async () => {
        await handler(event(deliver(fixture("zabbix-ja-problem.eml"), "msg-ja-1")), context());

        expect(sqs.batches).toHaveLength(1);
        expect(sqs.batches[0].target).toBe("AmazonSQS.SendMessageBatch");
        expect(sqs.batches[0].queueUrl).toBe(sqs.queueUrl);
        const entries = sqs.batches[0].entries;
        expect(entries.map((e) => e.MessageGroupId).sort()).toEqual(["osaka-noc", "tokyo-ops"]);
        for (const entry of entries) expect(entry.MessageDeduplicationId).toBe(`msg-ja-1:${entry.MessageGroupId}`);

        const intents = intentsOnQueue();
        const tokyo = intents.find((i) => i.tower === "tokyo-ops");
        expect(tokyo).toMatchObject({
            version: 1,
            site: "tokyo",
            severity: "critical",
            rule: "zabbix-ja-critical",
            messageId: "msg-ja-1",
            from: "zabbix@zabbix.example.jp",
            subject: "障害: web-01 のCPU使用率が90%を超えています",
            alertKey: "host=web-01 | eventid=123456",
            receivedAt: "2024-05-21T09:45:28.512Z",
        });
        expect(intents.find((i) => i.tower === "osaka-noc")?.site).toBe("osaka");
    });

    it("publishes one summary the alert channel renders with the severity, subject and where the original is", async () => {
        await handler(event(deliver(fixture("zabbix-ja-problem.eml"), "msg-ja-2")), context());

        expect(sns.messages).toHaveLength(1);
        expect(sns.messages[0].topicArn).toBe(sns.topicArn);
        const summary = summaries()[0];
        expect(summary.title).toBe("[CRITICAL] 障害: web-01 のCPU使用率が90%を超えています");
        expect(summary.state).toBe("ALARM");
        expect(summary.trusted).toBe(true);
        expect(summary.original).toBe(`s3://${BUCKET}/inbound/msg-ja-2`);
        expect(summary.towersLit).toBe("tokyo-ops, osaka-noc");
        expect(summary.rule).toBe("zabbix-ja-critical");
        expect(String(summary.reason)).toContain("深刻度: 重度の障害");
        expect(summary.problems).toBeUndefined();

        const rendered = parseSnsMessage(sns.messages[0].message);
        expect(rendered.state).toBe("ALARM");
        expect(rendered.title).toBe(summary.title);
    });

    it("records the mail as done in the state table with a TTL about seven days out", async () => {
        await handler(event(deliver(fixture("nagios-problem.eml"), "msg-state")), context());
        const item = await stateItem("msg-state");
        expect(item?.state).toBe("done");
        expect(item?.expiresAt).toBe(Math.floor(clock / 1000) + IDEMPOTENCY_TTL_SECONDS);
        expect(Number(item?.expiresAt) - clock / 1000).toBeGreaterThan(6.9 * 86400);
    });

    it("gives a recovery the same alert key as its problem, so it clears only that alert", async () => {
        await handler(event(deliver(fixture("zabbix-ja-problem.eml"), "msg-p")), context());
        await handler(event(deliver(fixture("zabbix-ja-recovery.eml"), "msg-r")), context());
        const tokyo = intentsOnQueue().filter((i) => i.tower === "tokyo-ops");
        expect(tokyo.map((i) => i.severity)).toEqual(["critical", "recovery"]);
        expect(tokyo[1].alertKey).toBe(tokyo[0].alertKey);
        expect(summaries()[1].state).toBe("OK");
    });

    it("takes the mail from the notification's content for the SNS action (BASE64)", async () => {
        await handler(event(snsRecord(readFileSync(join(FIXTURES, "ses-sns-base64-notification.json"), "utf8"))), context());
        expect(s3.requests).toHaveLength(0);
        expect(intentsOnQueue().map((i) => i.subject)).toEqual(["障害: web-01 のCPU使用率が90%を超えています", "障害: web-01 のCPU使用率が90%を超えています"]);
        expect(summaries()[0].original).toMatch(/SNS notification only/);
    });

    it("lights only the towers a rule names", async () => {
        const towersRules = parseMailRules('rules:\n  - name: tokyo-only\n    from: "*@zabbix.example.jp"\n    severity: warning\n    towers: [tokyo-ops, nagoya-lab]\n');
        handler = makeHandler({ rules: towersRules });
        await handler(event(deliver(fixture("zabbix-en-problem.eml"), "msg-towers")), context());
        expect(intentsOnQueue().map((i) => i.tower)).toEqual(["tokyo-ops"]);
        expect(String(summaries()[0].problems)).toContain('names tower "nagoya-lab", which is not configured');
    });
});

describe("mail-ingest: duplicates and crashes", () => {
    it("lights the tower once when SNS delivers the same mail twice", async () => {
        const record = deliver(fixture("datadog-triggered.eml"), "msg-dup");
        await handler(event(record), context());
        const second = await handler(event(record), context());

        expect(second).toEqual([{ kind: "duplicate", messageId: "msg-dup" }]);
        expect(sqs.batches).toHaveLength(1);
        expect(sqs.queue).toHaveLength(2);
        expect(sns.messages).toHaveLength(1);
        expect(lines.some((l) => l.message.includes("duplicate delivery ignored"))).toBe(true);
    });

    it("lets only one of two concurrent deliveries through; the other is retried and then does nothing", async () => {
        const record = deliver(fixture("datadog-triggered.eml"), "msg-race");
        const results = await Promise.allSettled([handler(event(record), context()), handler(event(record), context())]);
        const rejected = results.filter((r) => r.status === "rejected");
        expect(rejected).toHaveLength(1);
        expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(MailBusyError);
        expect(sqs.batches).toHaveLength(1);

        clock += 60_000; // Lambda's retry comes later
        expect(await handler(event(record), context())).toEqual([{ kind: "duplicate", messageId: "msg-race" }]);
        expect(sqs.batches).toHaveLength(1);
        expect(sns.messages).toHaveLength(1);
    });

    it("throws when SQS fails after the claim, releases the claim, and the retry sends the intents once", async () => {
        const record = deliver(fixture("cloudwatch-alarm.eml"), "msg-sqs-fail");
        sqs.failNext(1, "InternalFailure");
        await expect(handler(event(record), context())).rejects.toThrow();
        expect(sns.messages).toHaveLength(0);
        expect((await stateItem("msg-sqs-fail"))?.leaseUntil).toBe(0);

        clock += 60_000;
        await handler(event(record), context());
        expect(sqs.queue.map((e) => e.MessageGroupId).sort()).toEqual(["osaka-noc", "tokyo-ops"]);
        expect(sns.messages).toHaveLength(1);
        expect((await stateItem("msg-sqs-fail"))?.attempts).toBe(2);
    });

    it("takes over a claim whose invocation died without releasing it, once its lease has run out", async () => {
        await dynamo.documentClient.send(
            new PutCommand({
                TableName: dynamo.table,
                Item: { pk: mailStateKey("msg-crashed"), state: "claimed", leaseUntil: clock - 1000, attempts: 1, expiresAt: Math.floor(clock / 1000) + 3600 },
            }),
        );
        const outcomes = await handler(event(deliver(fixture("cloudwatch-alarm.eml"), "msg-crashed")), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(intentsOnQueue().map((i) => i.tower).sort()).toEqual(["osaka-noc", "tokyo-ops"]);
    });

    it("refuses a claim that is still live, so the delivery is retried rather than dropped", async () => {
        await dynamo.documentClient.send(
            new PutCommand({ TableName: dynamo.table, Item: { pk: mailStateKey("msg-live"), state: "claimed", leaseUntil: clock + 30_000, attempts: 1, expiresAt: 0 } }),
        );
        await expect(handler(event(deliver(fixture("nagios-problem.eml"), "msg-live")), context())).rejects.toBeInstanceOf(MailBusyError);
        expect(sqs.batches).toHaveLength(0);
    });

    it("does not send the intents again when only the summary failed", async () => {
        const record = deliver(fixture("nagios-problem.eml"), "msg-sns-fail");
        sns.failNext(1, "InternalError");
        await expect(handler(event(record), context())).rejects.toThrow();
        expect(sqs.batches).toHaveLength(1);
        expect((await stateItem("msg-sns-fail"))?.state).toBe("intents-sent");

        clock += 60_000;
        await handler(event(record), context());
        expect(sqs.batches).toHaveLength(1);
        expect(sns.messages).toHaveLength(1);
        expect((await stateItem("msg-sns-fail"))?.state).toBe("done");
    });

    it("uses the invocation's deadline as the claim's lease", async () => {
        await handler(event(deliver(fixture("nagios-recovery.eml"), "msg-lease")), context(42_000));
        expect((await stateItem("msg-lease"))?.leaseUntil).toBe(clock + 42_000);
    });
});

describe("mail-ingest: senders that may not light towers", () => {
    it("sends no intent for mail whose SES verdicts fail, and marks the summary untrusted with the reasons", async () => {
        await handler(event(deliver(fixture("zabbix-ja-problem.eml"), "msg-forged", { verdictsFrom: "ses-s3-failed-verdicts.json" })), context());
        expect(sqs.batches).toHaveLength(0);
        const summary = summaries()[0];
        expect(summary.trusted).toBe(false);
        expect(summary.title).toBe("[CRITICAL, untrusted] 障害: web-01 のCPU使用率が90%を超えています");
        expect(summary.towersLit).toBe("none (sender not trusted)");
        expect(String(summary.senderCheck)).toContain("DMARC FAIL");
        expect(String(summary.senderCheck)).toContain("neither SPF nor DKIM passed");
    });

    it("sends no intent for a sender on no allow list", async () => {
        handler = makeHandler({ allowedSenders: ["*@zabbix.example.jp"], towers: [{ name: "tokyo-ops", site: "tokyo", allowedSenders: [] }] });
        await handler(event(deliver(fixture("datadog-triggered.eml"), "msg-stranger")), context());
        expect(sqs.batches).toHaveLength(0);
        expect(summaries()[0].trusted).toBe(false);
        expect(String(summaries()[0].senderCheck)).toContain("sender alert@dtdg.co is not on the allow list");
    });

    it("lets a tower's own allow list add to the environment's", async () => {
        await handler(event(deliver(fixture("nagios-problem.eml"), "msg-nagios")), context());
        const towers = intentsOnQueue().map((i) => i.tower);
        // The environment's list (ALLOWED) has no nagios entry; only osaka-noc's own list does.
        expect(ALLOWED.some((g) => g.includes("nagios"))).toBe(false);
        expect(towers).toEqual(["osaka-noc"]);
        expect(summaries()[0].trusted).toBe(true);
        expect(String(summaries()[0].towersNotLit)).toContain("tokyo-ops");
    });
});

describe("mail-ingest: bad input never throws", () => {
    it("classifies a mail with a broken MIME boundary from what could be read and reports the problem", async () => {
        const outcomes = await handler(event(deliver(fixture("malformed-boundary.eml"), "msg-broken")), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(summaries()[0].rule).toBe("batch-backup-failed");
        expect(String(summaries()[0].problems)).toMatch(/no text part could be found/);
    });

    it("classifies garbage by the default rule and reports it, keeping the original in S3", async () => {
        await handler(event(deliver(Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x1b, 0x24, 0x42, 0x00]), "msg-garbage")), context());
        const summary = summaries()[0];
        expect(summary.rule).toBe("(none matched: default severity)");
        expect(summary.severity).toBe("info");
        expect(summary.original).toBe(`s3://${BUCKET}/inbound/msg-garbage`);
        expect(String(summary.problems)).toMatch(/no mail headers/);
        expect(String(summary.problems)).toMatch(/no From header/);
    });

    it("handles a 40 MB mail without throwing and says the body was cut", async () => {
        const line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n";
        const head = "From: Report Bot <reports@batch.example.jp>\r\nTo: patlite@alerts.example.jp\r\nSubject: Monthly capacity report\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
        const big = Buffer.from(head + line.repeat(Math.ceil((40 * 1024 * 1024) / line.length)));
        expect(big.length).toBeGreaterThanOrEqual(40 * 1024 * 1024);
        const outcomes = await handler(event(deliver(big, "msg-huge")), context());
        expect(outcomes[0].kind).toBe("processed");
        const summary = summaries()[0];
        expect(summary.rule).toBe("(none matched: default severity)");
        expect(String(summary.problems)).toMatch(/the text body is \d+ characters \(mail of 40\.0 MB\)/);
        expect(String(summary.reason).length).toBeLessThan(2000);
        expect(sns.messages[0].message.length).toBeLessThan(256 * 1024);
    }, 20_000);

    it("keeps intents and the summary within SQS's and SNS's 256 KB for a mail with an enormous subject and many problems", async () => {
        const charsets = Array.from({ length: 200 }, (_, i) => `--B\r\nContent-Type: text/plain; charset=x-odd-${i}\r\n\r\nx\r\n`).join("");
        const raw = Buffer.from(
            `From: zabbix@zabbix.example.jp\r\nSubject: PROBLEM ${"very long subject ".repeat(20_000)}\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n${charsets}--B--\r\n`,
        );
        await handler(event(deliver(raw, "msg-enormous")), context());
        expect(sqs.batches).toHaveLength(1);
        const batchBytes = sqs.batches[0].entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody), 0);
        expect(batchBytes).toBeLessThan(256 * 1024);
        expect(Buffer.byteLength(sns.messages[0].message)).toBeLessThan(256 * 1024);
        expect(String(summaries()[0].problems)).toMatch(/\(190 more\)$/);
    });

    it("reports a mail whose S3 object is gone instead of retrying forever", async () => {
        const outcomes = await handler(event(snsRecord(s3Notification("msg-missing"))), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(String(summaries()[0].problems)).toContain("NoSuchKey");
    });

    it("reports an SNS message that is not an SES notification, without throwing", async () => {
        const outcomes = await handler(event(snsRecord("{not json")), context());
        expect(outcomes[0].kind).toBe("unreadable");
        const summary = summaries()[0];
        expect(summary.state).toBe("WARN");
        expect(String(summary.reason)).toMatch(/not JSON/);
        expect(summary.received).toBe("{not json");
    });

    it("skips SES's subscription confirmation quietly", async () => {
        const outcomes = await handler(event(snsRecord(JSON.stringify({ notificationType: "AmazonSnsSubscriptionSucceeded", message: "You have successfully subscribed" }))), context());
        expect(outcomes).toEqual([{ kind: "not-a-mail", notificationType: "AmazonSnsSubscriptionSucceeded" }]);
        expect(sns.messages).toHaveLength(0);
    });

    it("drops an ignored newsletter: no intent, no post, but recorded as done", async () => {
        await handler(event(deliver(fixture("newsletter.eml"), "msg-news")), context());
        expect(sqs.batches).toHaveLength(0);
        expect(sns.messages).toHaveLength(0);
        expect((await stateItem("msg-news"))?.state).toBe("done");
        expect(lines.some((l) => l.message === "Mail ignored by rule")).toBe(true);
    });
});

describe("mail-ingest: AWS failures throw so Lambda retries", () => {
    it("throws when S3 is unavailable, sends nothing, and leaves the mail claimable", async () => {
        const record = deliver(fixture("zabbix-ja-problem.eml"), "msg-s3-down");
        s3.failWith({ status: 503, code: "SlowDown" });
        await expect(handler(event(record), context())).rejects.toThrow();
        expect(sqs.batches).toHaveLength(0);
        expect(sns.messages).toHaveLength(0);
        expect((await stateItem("msg-s3-down"))?.leaseUntil).toBe(0);

        s3.failWith(undefined);
        await handler(event(record), context());
        expect(sqs.queue).toHaveLength(2);
    });

    it("throws when DynamoDB is unreachable, before anything is sent", async () => {
        const record = deliver(fixture("zabbix-ja-problem.eml"), "msg-ddb-down");
        await dynamo.close();
        await expect(handler(event(record), context())).rejects.toThrow();
        expect(sqs.batches).toHaveLength(0);
        expect(sns.messages).toHaveLength(0);
        dynamo = await startStateTable(); // afterEach closes it again
    });
});
