import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IDEMPOTENCY_TTL_SECONDS, MailBusyError, mailStateKey } from "../../../functions/mail-ingest/ingest";
import { parseMailRules } from "../../../functions/shared/mail-rules";
import { parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";
import { ALLOWED, BUCKET, context, event, fixture, FIXTURES, s3Notification, snsRecord, startIngestHarness, type IngestHarness } from "./harness";

/**
 * mail-ingest end to end through its handler, with real SDK clients against real local peers:
 * dynalite for the state table, and HTTP servers speaking S3 REST, SQS JSON and SNS Query.
 */

let h: IngestHarness;
let handler: ReturnType<IngestHarness["handler"]>;

beforeEach(async () => {
    h = await startIngestHarness();
    handler = h.handler();
});
afterEach(async () => {
    await h.close();
});

describe("mail-ingest: a trusted alert mail", () => {
    it("sends one intent per tower to the FIFO queue, grouped by tower and deduplicated per mail and tower", async () => {
        await handler(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-ja-1")), context());

        expect(h.sqs.batches).toHaveLength(1);
        expect(h.sqs.batches[0].target).toBe("AmazonSQS.SendMessageBatch");
        expect(h.sqs.batches[0].queueUrl).toBe(h.sqs.queueUrl);
        const entries = h.sqs.batches[0].entries;
        expect(entries.map((e) => e.MessageGroupId).sort()).toEqual(["osaka-noc", "tokyo-ops"]);
        for (const entry of entries) expect(entry.MessageDeduplicationId).toBe(`msg-ja-1:${entry.MessageGroupId}`);

        const intents = h.intentsOnQueue();
        const tokyo = intents.find((i) => i.tower === "tokyo-ops");
        expect(tokyo).toMatchObject({
            version: 1,
            site: "tokyo-office",
            severity: "critical",
            rule: "zabbix-ja-critical",
            messageId: "msg-ja-1",
            from: "zabbix@zabbix.example.jp",
            subject: "障害: web-01 のCPU使用率が90%を超えています",
            alertKey: "host=web-01 | eventid=123456",
            receivedAt: "2024-05-21T09:45:28.512Z",
        });
        expect(intents.find((i) => i.tower === "osaka-noc")?.site).toBe("osaka-office");
    });

    it("publishes one summary the alert channel renders with the severity, subject and where the original is", async () => {
        await handler(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-ja-2")), context());

        expect(h.sns.messages).toHaveLength(1);
        expect(h.sns.messages[0].topicArn).toBe(h.sns.topicArn);
        const summary = h.summaries()[0];
        expect(summary.title).toBe("[CRITICAL] 障害: web-01 のCPU使用率が90%を超えています");
        expect(summary.state).toBe("ALARM");
        expect(summary.trusted).toBe(true);
        expect(summary.original).toBe(`s3://${BUCKET}/inbound/msg-ja-2`);
        expect(summary.towersLit).toBe("tokyo-ops, osaka-noc");
        expect(summary.rule).toBe("zabbix-ja-critical");
        expect(String(summary.reason)).toContain("深刻度: 重度の障害");
        expect(summary.problems).toBeUndefined();

        const rendered = parseSnsMessage(h.sns.messages[0].message);
        expect(rendered.state).toBe("ALARM");
        expect(rendered.title).toBe(summary.title);
    });

    it("records the mail as done in the state table with a TTL about seven days out", async () => {
        await handler(event(h.deliver(fixture("nagios-problem.eml"), "msg-state")), context());
        const item = await h.stateItem("msg-state");
        expect(item?.state).toBe("done");
        expect(item?.expiresAt).toBe(Math.floor(h.clock / 1000) + IDEMPOTENCY_TTL_SECONDS);
        expect(Number(item?.expiresAt) - h.clock / 1000).toBeGreaterThan(6.9 * 86400);
    });

    it("gives a recovery the same alert key as its problem, so it clears only that alert", async () => {
        await handler(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-p")), context());
        await handler(event(h.deliver(fixture("zabbix-ja-recovery.eml"), "msg-r")), context());
        const tokyo = h.intentsOnQueue().filter((i) => i.tower === "tokyo-ops");
        expect(tokyo.map((i) => i.severity)).toEqual(["critical", "recovery"]);
        expect(tokyo[1].alertKey).toBe(tokyo[0].alertKey);
        expect(h.summaries()[1].state).toBe("OK");
    });

    it("takes the mail from the notification's content for the SNS action (BASE64)", async () => {
        await handler(event(snsRecord(readFileSync(join(FIXTURES, "ses-sns-base64-notification.json"), "utf8"))), context());
        expect(h.s3.requests).toHaveLength(0);
        expect(h.intentsOnQueue().map((i) => i.subject)).toEqual(["障害: web-01 のCPU使用率が90%を超えています", "障害: web-01 のCPU使用率が90%を超えています"]);
        expect(h.summaries()[0].original).toMatch(/SNS notification only/);
    });

    it("lights only the towers a rule names", async () => {
        const towersRules = parseMailRules('rules:\n  - name: tokyo-only\n    from: "*@zabbix.example.jp"\n    severity: warning\n    towers: [tokyo-ops, nagoya-lab]\n');
        handler = h.handler({ rules: towersRules });
        await handler(event(h.deliver(fixture("zabbix-en-problem.eml"), "msg-towers")), context());
        expect(h.intentsOnQueue().map((i) => i.tower)).toEqual(["tokyo-ops"]);
        expect(String(h.summaries()[0].problems)).toContain('names tower "nagoya-lab", which is not configured');
    });
});

describe("mail-ingest: duplicates and crashes", () => {
    it("lights the tower once when SNS delivers the same mail twice", async () => {
        const record = h.deliver(fixture("datadog-triggered.eml"), "msg-dup");
        await handler(event(record), context());
        const second = await handler(event(record), context());

        expect(second).toEqual([{ kind: "duplicate", messageId: "msg-dup" }]);
        expect(h.sqs.batches).toHaveLength(1);
        expect(h.sqs.queue).toHaveLength(2);
        expect(h.sns.messages).toHaveLength(1);
        expect(h.lines.some((l) => l.message.includes("duplicate delivery ignored"))).toBe(true);
    });

    it("lets only one of two concurrent deliveries through; the other is retried and then does nothing", async () => {
        const record = h.deliver(fixture("datadog-triggered.eml"), "msg-race");
        const results = await Promise.allSettled([handler(event(record), context()), handler(event(record), context())]);
        const rejected = results.filter((r) => r.status === "rejected");
        expect(rejected).toHaveLength(1);
        expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(MailBusyError);
        expect(h.sqs.batches).toHaveLength(1);

        h.clock += 60_000; // Lambda's retry comes later
        expect(await handler(event(record), context())).toEqual([{ kind: "duplicate", messageId: "msg-race" }]);
        expect(h.sqs.batches).toHaveLength(1);
        expect(h.sns.messages).toHaveLength(1);
    });

    it("throws when SQS fails after the claim, releases the claim, and the retry sends the intents once", async () => {
        const record = h.deliver(fixture("cloudwatch-alarm.eml"), "msg-sqs-fail");
        h.sqs.failNext(1, "InternalFailure");
        await expect(handler(event(record), context())).rejects.toThrow();
        expect(h.sns.messages).toHaveLength(0);
        expect((await h.stateItem("msg-sqs-fail"))?.leaseUntil).toBe(0);

        h.clock += 60_000;
        await handler(event(record), context());
        expect(h.sqs.queue.map((e) => e.MessageGroupId).sort()).toEqual(["osaka-noc", "tokyo-ops"]);
        expect(h.sns.messages).toHaveLength(1);
        expect((await h.stateItem("msg-sqs-fail"))?.attempts).toBe(2);
    });

    it("takes over a claim whose invocation died without releasing it, once its lease has run out", async () => {
        await h.dynamo.documentClient.send(
            new PutCommand({
                TableName: h.dynamo.table,
                Item: { pk: mailStateKey("msg-crashed"), state: "claimed", leaseUntil: h.clock - 1000, attempts: 1, expiresAt: Math.floor(h.clock / 1000) + 3600 },
            }),
        );
        const outcomes = await handler(event(h.deliver(fixture("cloudwatch-alarm.eml"), "msg-crashed")), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(h.intentsOnQueue().map((i) => i.tower).sort()).toEqual(["osaka-noc", "tokyo-ops"]);
    });

    it("refuses a claim that is still live, so the delivery is retried rather than dropped", async () => {
        await h.dynamo.documentClient.send(
            new PutCommand({ TableName: h.dynamo.table, Item: { pk: mailStateKey("msg-live"), state: "claimed", leaseUntil: h.clock + 30_000, attempts: 1, expiresAt: 0 } }),
        );
        await expect(handler(event(h.deliver(fixture("nagios-problem.eml"), "msg-live")), context())).rejects.toBeInstanceOf(MailBusyError);
        expect(h.sqs.batches).toHaveLength(0);
    });

    it("does not send the intents again when only the summary failed", async () => {
        const record = h.deliver(fixture("nagios-problem.eml"), "msg-sns-fail");
        h.sns.failNext(1, "InternalError");
        await expect(handler(event(record), context())).rejects.toThrow();
        expect(h.sqs.batches).toHaveLength(1);
        expect((await h.stateItem("msg-sns-fail"))?.state).toBe("intents-sent");

        h.clock += 60_000;
        await handler(event(record), context());
        expect(h.sqs.batches).toHaveLength(1);
        expect(h.sns.messages).toHaveLength(1);
        expect((await h.stateItem("msg-sns-fail"))?.state).toBe("done");
    });

    it("uses the invocation's deadline as the claim's lease", async () => {
        await handler(event(h.deliver(fixture("nagios-recovery.eml"), "msg-lease")), context(42_000));
        expect((await h.stateItem("msg-lease"))?.leaseUntil).toBe(h.clock + 42_000);
    });
});

describe("mail-ingest: senders that may not light towers", () => {
    it("sends no intent for mail whose SES verdicts fail, and marks the summary untrusted with the reasons", async () => {
        await handler(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-forged", { verdictsFrom: "ses-s3-failed-verdicts.json" })), context());
        expect(h.sqs.batches).toHaveLength(0);
        const summary = h.summaries()[0];
        expect(summary.trusted).toBe(false);
        expect(summary.title).toBe("[CRITICAL, untrusted] 障害: web-01 のCPU使用率が90%を超えています");
        expect(summary.towersLit).toBe("none (sender not trusted)");
        expect(String(summary.senderCheck)).toContain("DMARC FAIL");
        expect(String(summary.senderCheck)).toContain("spam verdict GRAY");
    });

    it("sends no intent for a sender on no allow list", async () => {
        handler = h.handler({ allowedSenders: ["*@zabbix.example.jp"], towers: [{ name: "tokyo-ops", site: "tokyo-office", allowedSenders: [] }] });
        await handler(event(h.deliver(fixture("datadog-triggered.eml"), "msg-stranger")), context());
        expect(h.sqs.batches).toHaveLength(0);
        expect(h.summaries()[0].trusted).toBe(false);
        expect(String(h.summaries()[0].senderCheck)).toContain("sender alert@dtdg.co is not on the allow list");
    });

    it("lets a tower's own allow list add to the environment's", async () => {
        await handler(event(h.deliver(fixture("nagios-problem.eml"), "msg-nagios")), context());
        const towers = h.intentsOnQueue().map((i) => i.tower);
        // The environment's list (ALLOWED) has no nagios entry; only osaka-noc's own list does.
        expect(ALLOWED.some((g) => g.includes("nagios"))).toBe(false);
        expect(towers).toEqual(["osaka-noc"]);
        expect(h.summaries()[0].trusted).toBe(true);
        expect(String(h.summaries()[0].towersNotLit)).toContain("tokyo-ops");
    });
});

describe("mail-ingest: bad input never throws", () => {
    it("classifies a mail with a broken MIME boundary from what could be read and reports the problem", async () => {
        const outcomes = await handler(event(h.deliver(fixture("malformed-boundary.eml"), "msg-broken")), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(h.summaries()[0].rule).toBe("batch-backup-failed");
        expect(String(h.summaries()[0].problems)).toMatch(/no text part could be found/);
    });

    it("classifies garbage by the default rule and reports it, keeping the original in S3", async () => {
        await handler(event(h.deliver(Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x1b, 0x24, 0x42, 0x00]), "msg-garbage")), context());
        const summary = h.summaries()[0];
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
        const outcomes = await handler(event(h.deliver(big, "msg-huge")), context());
        expect(outcomes[0].kind).toBe("processed");
        const summary = h.summaries()[0];
        expect(summary.rule).toBe("(none matched: default severity)");
        expect(String(summary.problems)).toMatch(/the body is 40\.0 MB; its first \d+ bytes were read for classification \(the full mail stays in S3\)/);
        expect(String(summary.reason).length).toBeLessThan(2000);
        expect(h.sns.messages[0].message.length).toBeLessThan(256 * 1024);
    }, 20_000);

    it("keeps intents and the summary within SQS's and SNS's 256 KB for a mail with an enormous subject and many problems", async () => {
        // 90 parts: under mailparser's part limit (MAX_MIME_PARTS), so each unknown charset is reported.
        const charsets = Array.from({ length: 90 }, (_, i) => `--B\r\nContent-Type: text/plain; charset=x-odd-${i}\r\n\r\nx\r\n`).join("");
        const raw = Buffer.from(
            `From: zabbix@zabbix.example.jp\r\nSubject: PROBLEM ${"very long subject ".repeat(20_000)}\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n${charsets}--B--\r\n`,
        );
        await handler(event(h.deliver(raw, "msg-enormous")), context());
        expect(h.sqs.batches).toHaveLength(1);
        const batchBytes = h.sqs.batches[0].entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody), 0);
        expect(batchBytes).toBeLessThan(256 * 1024);
        expect(Buffer.byteLength(h.sns.messages[0].message)).toBeLessThan(256 * 1024);
        // The Subject cut to 8 KB and 90 unknown charsets: 91 problems, 10 listed.
        expect(String(h.summaries()[0].problems)).toMatch(/\(81 more\)$/);
    });

    it("reports a mail whose S3 object is gone instead of retrying forever", async () => {
        const outcomes = await handler(event(snsRecord(s3Notification("msg-missing"))), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(String(h.summaries()[0].problems)).toContain("NoSuchKey");
    });

    it("reports a missing mail once when S3 answers 403 (ListBucket only on the mail prefix): done, not retried, not left claimed", async () => {
        h.s3.grantList({ prefix: "inbound/" });
        const outcomes = await handler(event(snsRecord(s3Notification("msg-gone-403"))), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(h.summaries()).toHaveLength(1);
        expect(String(h.summaries()[0].problems)).toContain("GetObject denied and a listing of the key found nothing");
        expect((await h.stateItem("msg-gone-403"))?.state).toBe("done");
        // The same delivery again (SNS retry) is a duplicate: reported once.
        expect((await handler(event(snsRecord(s3Notification("msg-gone-403"))), context()))[0].kind).toBe("duplicate");
        expect(h.summaries()).toHaveLength(1);
        expect(h.s3.requests.map((r) => r.method + " " + r.path)).toEqual([`GET /${BUCKET}/inbound/msg-gone-403`, `GET /${BUCKET}/`]);
    });

    it("retries a 403 it cannot explain: without any ListBucket grant, and for an object that is there", async () => {
        h.s3.grantList("none");
        await expect(handler(event(snsRecord(s3Notification("msg-unknown-403"))), context())).rejects.toThrow(/Access Denied|AccessDenied/);
        expect(h.summaries()).toHaveLength(0);
        expect((await h.stateItem("msg-unknown-403"))?.leaseUntil).toBe(0);
        h.s3.grantList({ prefix: "inbound/" });
        h.s3.failWith({ status: 403, code: "AccessDenied" });
        await expect(handler(event(h.deliver(fixture("zabbix-en-problem.eml"), "msg-denied")), context())).rejects.toThrow();
        expect(h.summaries()).toHaveLength(0);
    });

    it("reports an SNS message that is not an SES notification, without throwing", async () => {
        const outcomes = await handler(event(snsRecord("{not json")), context());
        expect(outcomes[0].kind).toBe("unreadable");
        const summary = h.summaries()[0];
        expect(summary.state).toBe("WARN");
        expect(String(summary.reason)).toMatch(/not JSON/);
        expect(summary.received).toBe("{not json");
    });

    it("skips SES's subscription confirmation quietly", async () => {
        const outcomes = await handler(event(snsRecord(JSON.stringify({ notificationType: "AmazonSnsSubscriptionSucceeded", message: "You have successfully subscribed" }))), context());
        expect(outcomes).toEqual([{ kind: "not-a-mail", notificationType: "AmazonSnsSubscriptionSucceeded" }]);
        expect(h.sns.messages).toHaveLength(0);
    });

    it("drops an ignored newsletter: no intent, no post, but recorded as done", async () => {
        await handler(event(h.deliver(fixture("newsletter.eml"), "msg-news")), context());
        expect(h.sqs.batches).toHaveLength(0);
        expect(h.sns.messages).toHaveLength(0);
        expect((await h.stateItem("msg-news"))?.state).toBe("done");
        expect(h.lines.some((l) => l.message === "Mail ignored by rule")).toBe(true);
    });
});

describe("mail-ingest: AWS failures throw so Lambda retries", () => {
    it("throws when S3 is unavailable, sends nothing, and leaves the mail claimable", async () => {
        const record = h.deliver(fixture("zabbix-ja-problem.eml"), "msg-s3-down");
        h.s3.failWith({ status: 503, code: "SlowDown" });
        await expect(handler(event(record), context())).rejects.toThrow();
        expect(h.sqs.batches).toHaveLength(0);
        expect(h.sns.messages).toHaveLength(0);
        expect((await h.stateItem("msg-s3-down"))?.leaseUntil).toBe(0);

        h.s3.failWith(undefined);
        await handler(event(record), context());
        expect(h.sqs.queue).toHaveLength(2);
    });

    it("throws when DynamoDB is unreachable, before anything is sent", async () => {
        const record = h.deliver(fixture("zabbix-ja-problem.eml"), "msg-ddb-down");
        await h.stopDynamo();
        await expect(handler(event(record), context())).rejects.toThrow();
        expect(h.sqs.batches).toHaveLength(0);
        expect(h.sns.messages).toHaveLength(0);
    });
});
