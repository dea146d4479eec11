import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alertIdentity, noteIdentity, threadKey } from "../../../functions/slack-notifier/alert-identity";
import { parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";
import { storedKey } from "../../../functions/shared/alert-key";
import { threadNote } from "../../../functions/shared/thread-note";

const fixture = (name: string): string => readFileSync(join(__dirname, "../../fixtures/slack-notifier", name), "utf8");
const ALARM = fixture("cloudwatch-alarm.json");
const DATADOG = fixture("datadog-webhook.json");
const identityOf = (message: string) => alertIdentity(parseSnsMessage(message, undefined));

/** A mail-ingest summary as it is published (functions/mail-ingest/ingest.ts MailSummary fields). */
function mailSummary(alertKey: string, severity: "critical" | "recovery"): string {
    return JSON.stringify({
        title: `[${severity.toUpperCase()}] db-2 disk full`,
        state: severity === "critical" ? "ALARM" : "OK",
        reason: "disk /var is 98% full",
        severity,
        from: "monitor@example.com",
        rule: "disk",
        towersLit: "tokyo-ops",
        trusted: true,
        senderCheck: "spf pass",
        original: "s3://bucket/key",
        alertKey,
        messageId: `m-${severity}`,
        environment: "dev",
        receivedAt: "2026-12-05T10:00:00Z",
    });
}

describe("alertIdentity", () => {
    it("is the same for a CloudWatch alarm's ALARM and its OK, so the recovery finds the problem's message", () => {
        const ok = JSON.stringify({ ...JSON.parse(ALARM), NewStateValue: "OK", OldStateValue: "ALARM", NewStateReason: "back to normal" });
        expect(identityOf(ALARM)).toBeDefined();
        expect(identityOf(ok)).toBe(identityOf(ALARM));
    });

    it("differs between two alarms", () => {
        const other = JSON.stringify({ ...JSON.parse(ALARM), AlarmName: "web-2 CPU", AlarmArn: "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:web-2 CPU" });
        expect(identityOf(other)).not.toBe(identityOf(ALARM));
    });

    it("is the same for a Datadog monitor's trigger and recovery on one host, and differs for another host", () => {
        const dd = JSON.parse(DATADOG);
        const recovered = JSON.stringify({ ...dd, alert_transition: "Recovered", event_title: "[Recovered on {host:db-2}] chronyd is not running" });
        expect(identityOf(DATADOG)).toBeDefined();
        expect(identityOf(recovered)).toBe(identityOf(DATADOG));
        const otherHost = JSON.stringify({ ...dd, hostname: "db-3", alert_scope: "host:db-3,process:chronyd" });
        expect(identityOf(otherHost)).not.toBe(identityOf(DATADOG));
    });

    it("keys a mail summary on its alertKey, whatever its severity, title or state", () => {
        expect(identityOf(mailSummary("disk:db-2", "critical"))).toBe(identityOf(mailSummary("disk:db-2", "recovery")));
        expect(identityOf(mailSummary("disk:db-2", "critical"))).not.toBe(identityOf(mailSummary("disk:db-3", "critical")));
    });

    it("gives a thread note the identity of the mail summary with the same key, also for a key stored shortened", () => {
        const long = `disk:${"x".repeat(400)}`;
        expect(noteIdentity(threadNote("disk:db-2", "acknowledged by ayumi"))).toBe(identityOf(mailSummary("disk:db-2", "critical")));
        // ack-webhook sends back the on-call alias, which is storedKey(alertKey).
        expect(noteIdentity(threadNote(storedKey(long), "acknowledged"))).toBe(identityOf(mailSummary(long, "critical")));
    });

    it("has no identity for plain text or unknown JSON: those are posted on their own", () => {
        expect(identityOf("something happened")).toBeUndefined();
        expect(identityOf(JSON.stringify({ title: "hello", state: "ALARM" }))).toBeUndefined();
        expect(identityOf(JSON.stringify({ title: "hello", alertKey: "  " }))).toBeUndefined();
    });
});

describe("threadKey", () => {
    it("is a bounded table key, stable per identity and distinct between identities", () => {
        const a = threadKey("cloudwatch:arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:a");
        expect(a).toMatch(/^thread#[0-9a-f]{32}$/);
        expect(threadKey("cloudwatch:arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:a")).toBe(a);
        expect(threadKey("cloudwatch:arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:b")).not.toBe(a);
        expect(threadKey("x".repeat(100_000)).length).toBe(a.length);
    });
});
