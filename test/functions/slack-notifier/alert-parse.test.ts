import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSlackMessage, HEADER_TEXT_MAX, type AlertSummary } from "../../../functions/shared/slack-message";
import { cloudWatchConsoleUrl, GENERIC_FIELD_LIMIT, normaliseState, parseAlarmArn, parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";
import { slackLimitViolations } from "../shared/slack-limits";

const fixture = (name: string): string => readFileSync(join(__dirname, "../../fixtures/slack-notifier", name), "utf8");
const fieldValue = (alert: AlertSummary, label: string): string | undefined => alert.fields.find((f) => f.label === label)?.value;

describe("CloudWatch alarms", () => {
    const alarmJson = fixture("cloudwatch-alarm.json");
    const alarm = JSON.parse(alarmJson);

    it("reads name, state, reason, account and time", () => {
        const summary = parseSnsMessage(alarmJson, `ALARM: "${alarm.AlarmName}" in Asia Pacific (Tokyo)`);
        expect(summary.source).toBe("cloudwatch");
        expect(summary.state).toBe("ALARM");
        expect(summary.title).toBe(alarm.AlarmName);
        expect(summary.reason).toBe(alarm.NewStateReason);
        expect(summary.account).toBe(alarm.AWSAccountId);
        expect(summary.occurredAt).toBe(alarm.StateChangeTime);
    });

    it("takes the region code from the ARN, not the display name, for the console link", () => {
        const summary = parseSnsMessage(alarmJson);
        expect(summary.consoleUrl).toBe(
            `https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#alarmsV2:alarm/${encodeURIComponent(alarm.AlarmName)}`,
        );
        expect(summary.region).toContain("Asia Pacific (Tokyo)");
        expect(summary.region).toContain("ap-northeast-1");
    });

    it("url-encodes the alarm name so spaces, % and / cannot break the link", () => {
        const url = parseSnsMessage(alarmJson).consoleUrl!;
        const name = decodeURIComponent(url.split("#alarmsV2:alarm/")[1]);
        expect(name).toBe(alarm.AlarmName);
        expect(url.split("#alarmsV2:alarm/")[1]).not.toMatch(/[ /]/);
    });

    it("shows metric, threshold, dimensions, description and the state change as fields", () => {
        const summary = parseSnsMessage(alarmJson);
        expect(fieldValue(summary, "Metric")).toContain("AWS/EC2 CPUUtilization");
        expect(fieldValue(summary, "Metric")).toContain("300 s");
        expect(fieldValue(summary, "Threshold")).toContain("≥ 80");
        expect(fieldValue(summary, "Threshold")).toContain("2 of 3");
        expect(fieldValue(summary, "Dimensions")).toBe("InstanceId=i-0abc1234def567890");
        expect(fieldValue(summary, "Description")).toBe(alarm.AlarmDescription);
        expect(fieldValue(summary, "Change")).toBe("OK → ALARM");
    });

    it("reads an OK transition and leaves out a null description", () => {
        const ok = JSON.parse(fixture("cloudwatch-ok.json"));
        const summary = parseSnsMessage(fixture("cloudwatch-ok.json"));
        expect(summary.state).toBe("OK");
        expect(fieldValue(summary, "Description")).toBeUndefined();
        expect(fieldValue(summary, "Change")).toBe("ALARM → OK");
        expect(fieldValue(summary, "Threshold")).toContain("< 10");
        expect(fieldValue(summary, "Dimensions")).toBe("InstanceId=i-0fedcba9876543210, path=/");
        expect(summary.consoleUrl).toContain(`https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/${ok.AlarmName}`);
    });

    it("describes a metric-math alarm's expression and the metrics it uses", () => {
        const summary = parseSnsMessage(fixture("cloudwatch-metric-math.json"));
        const metrics = fieldValue(summary, "Metrics")!;
        expect(summary.state).toBe("ALARM");
        expect(metrics).toContain("rate = 100 * errors / requests");
        expect(metrics).toContain("HTTPCode_Target_5XX_Count");
        expect(metrics).toContain("RequestCount");
        expect(metrics).toContain("LoadBalancer=app/api/0123456789abcdef");
        expect(fieldValue(summary, "Metric")).toBeUndefined();
        expect(fieldValue(summary, "Threshold")).toContain("> 5");
        expect(summary.consoleUrl).toContain("region=us-east-1");
    });

    it("survives wrong types in every field", () => {
        const weird = JSON.stringify({ AlarmName: 42, NewStateValue: {}, AlarmArn: 7, Trigger: "oops", AlarmDescription: ["x"] });
        const summary = parseSnsMessage(weird);
        expect(summary.title).toBe("42");
        expect(summary.state).toBe("UNKNOWN");
        expect(summary.consoleUrl).toBeUndefined();
        expect(slackLimitViolations(buildSlackMessage(summary))).toEqual([]);
    });

    it("survives non-array dimensions and non-object metrics", () => {
        const weird = JSON.stringify({ ...alarm, Trigger: { Dimensions: "InstanceId=i-1", Metrics: [null, 3, { Id: "m1" }], Threshold: "eighty" } });
        const summary = parseSnsMessage(weird);
        expect(summary.title).toBe(alarm.AlarmName);
        expect(fieldValue(summary, "Metrics")).toContain("m1");
        expect(fieldValue(summary, "Threshold")).toContain("eighty");
    });

    it("gives no console link outside the commercial partition or for an odd region", () => {
        expect(cloudWatchConsoleUrl("cn-north-1", "x", "aws-cn")).toBeUndefined();
        expect(cloudWatchConsoleUrl("evil.example.com/", "x")).toBeUndefined();
        expect(parseAlarmArn("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a:b")).toEqual({ partition: "aws", region: "us-east-1", account: "123456789012", name: "a:b" });
        expect(parseAlarmArn("not an arn")).toBeUndefined();
    });

    it("keeps a 10,000-char reason, 200 dimensions and a 200-char name within Slack's limits", () => {
        const huge = {
            ...alarm,
            AlarmName: "N".repeat(200),
            NewStateReason: "R".repeat(10_000),
            Trigger: { ...alarm.Trigger, Dimensions: Array.from({ length: 200 }, (_, i) => ({ name: `Dimension${i}`, value: `value-${i}-${"x".repeat(20)}` })) },
        };
        const message = buildSlackMessage(parseSnsMessage(JSON.stringify(huge)), { environment: "prod" });
        expect(slackLimitViolations(message)).toEqual([]);
        const header = (message.blocks[0] as { text: { text: string } }).text.text;
        expect(header.length).toBeLessThanOrEqual(HEADER_TEXT_MAX);
        expect(header).toContain("NNNN");
        expect(JSON.stringify(message)).toContain("Dimension0=value-0");
    });
});

describe("Datadog webhooks", () => {
    const json = fixture("datadog-webhook.json");
    const event = JSON.parse(json);

    it("reads title, body, link, host and priority", () => {
        const summary = parseSnsMessage(json);
        expect(summary.source).toBe("datadog");
        expect(summary.state).toBe("ALARM");
        expect(summary.title).toBe(event.event_title);
        expect(summary.reason).toBe("chronyd is down on db-2; time will drift. @opsgenie-ops @slack-alerts");
        expect(summary.consoleUrl).toBe(event.link);
        expect(fieldValue(summary, "Host")).toBe("db-2");
        expect(fieldValue(summary, "Priority")).toBe("normal");
        expect(fieldValue(summary, "Metric")).toBe("process.up");
        expect(summary.account).toBe("Example Monitoring");
    });

    it.each([
        ["Triggered", "ALARM"],
        ["Re-Triggered", "ALARM"],
        ["Recovered", "OK"],
        ["Warn", "WARN"],
        ["No Data", "INSUFFICIENT_DATA"],
    ])("maps transition %s to %s", (transition, state) => {
        expect(parseSnsMessage(JSON.stringify({ ...event, alert_transition: transition })).state).toBe(state);
    });

    it("accepts camelCase and upper-case key spellings", () => {
        const summary = parseSnsMessage(JSON.stringify({ EVENT_TITLE: "disk full", textOnlyMsg: "90% used", alertTransition: "Recovered", Hostname: "web-3" }));
        expect(summary.source).toBe("datadog");
        expect(summary.title).toBe("disk full");
        expect(summary.reason).toBe("90% used");
        expect(summary.state).toBe("OK");
        expect(fieldValue(summary, "Host")).toBe("web-3");
    });

    it("takes the transition from a [Recovered] title prefix when no field carries it", () => {
        expect(parseSnsMessage(JSON.stringify({ event_title: "[Recovered] CPU on web-1", event_msg: "back to normal" })).state).toBe("OK");
    });

    it("keeps unrecognised keys as details", () => {
        const summary = parseSnsMessage(json);
        expect(summary.details).toContain("query_alert_monitor");
        expect(summary.details).not.toContain("chronyd is down");
    });
});

describe("other JSON", () => {
    it("titles from a likely field and shows the keys as fields", () => {
        const summary = parseSnsMessage(JSON.stringify({ title: "Backup failed", status: "error", host: "db-2", job: "nightly" }), "ignored subject");
        expect(summary.title).toBe("Backup failed");
        expect(summary.state).toBe("ALARM");
        expect(fieldValue(summary, "host")).toBe("db-2");
        expect(fieldValue(summary, "job")).toBe("nightly");
    });

    it("falls back to the SNS subject for the title", () => {
        expect(parseSnsMessage(JSON.stringify({ a: 1 }), "Nightly report").title).toBe("Nightly report");
    });

    it(`shows at most ${GENERIC_FIELD_LIMIT} keys as fields and the rest as a code block`, () => {
        const obj = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`key${i}`, { nested: i }]));
        const summary = parseSnsMessage(JSON.stringify(obj));
        expect(summary.fields).toHaveLength(GENERIC_FIELD_LIMIT);
        expect(fieldValue(summary, "key0")).toBe('{"nested":0}');
        expect(summary.details).toContain("key14");
        expect(summary.details).not.toContain('"key0"');
    });

    it("reads region and account of an EventBridge event from a service without its own recogniser", () => {
        const summary = parseSnsMessage(JSON.stringify({ "detail-type": "EC2 Instance State-change Notification", source: "aws.ec2", account: "123456789012", region: "eu-west-1", detail: { state: "stopped" } }));
        expect(summary.source).toBe("sns");
        expect(summary.title).toBe("EC2 Instance State-change Notification");
        expect(summary.region).toBe("eu-west-1");
        expect(summary.account).toBe("123456789012");
    });
});

describe("plain text and malformed input", () => {
    it("uses the subject as title and the text as body", () => {
        const text = fixture("plain-text.txt");
        const summary = parseSnsMessage(text, "Backup failed");
        expect(summary.title).toBe("Backup failed");
        expect(summary.reason).toBe(text.trim());
        expect(summary.state).toBe("UNKNOWN");
    });

    it("uses the first line as title when there is no subject", () => {
        const text = fixture("plain-text.txt");
        const summary = parseSnsMessage(text);
        expect(summary.title).toBe(text.split("\n")[0]);
        expect(summary.reason).toBe(text.split("\n")[1]);
    });

    it("reads the state from a CloudWatch-style subject", () => {
        expect(parseSnsMessage("x", 'ALARM: "cpu" in EU (Ireland)').state).toBe("ALARM");
    });

    it("shows truncated JSON as text instead of failing", () => {
        const text = fixture("truncated.json");
        const summary = parseSnsMessage(text, "Alarm");
        expect(summary.title).toBe("Alarm");
        expect(summary.reason).toBe(text.trim());
        expect(slackLimitViolations(buildSlackMessage(summary))).toEqual([]);
    });

    it.each(["[1,2,3]", "42", "null", '"just a string"', "true", "", "   "])("summarises the non-object JSON %j readably", (message) => {
        const summary = parseSnsMessage(message);
        expect(summary.title.trim()).not.toBe("");
        expect(slackLimitViolations(buildSlackMessage(summary))).toEqual([]);
    });

    it("does not throw for a non-string message", () => {
        expect(parseSnsMessage(123 as unknown as string).title).toBe("123");
        expect(() => parseSnsMessage(undefined as unknown as string, null as unknown as string)).not.toThrow();
    });

    it("never throws and always formats within limits for mangled fixtures", () => {
        // Deterministic pseudo-random cuts and byte flips of every fixture.
        let seed = 12345;
        const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        const sources = ["cloudwatch-alarm.json", "cloudwatch-ok.json", "cloudwatch-metric-math.json", "datadog-webhook.json"].map(fixture);
        for (let i = 0; i < 400; i++) {
            const source = sources[i % sources.length];
            const chars = [...source.slice(0, Math.floor(random() * source.length))];
            for (let flips = 0; flips < 3; flips++) chars[Math.floor(random() * chars.length)] = String.fromCharCode(Math.floor(random() * 128));
            const summary = parseSnsMessage(chars.join(""));
            expect(slackLimitViolations(buildSlackMessage(summary))).toEqual([]);
        }
    });
});

describe("normaliseState", () => {
    it.each([
        ["ALARM", "ALARM"],
        ["OK", "OK"],
        ["INSUFFICIENT_DATA", "INSUFFICIENT_DATA"],
        ["firing", "ALARM"],
        ["resolved", "OK"],
        ["warning", "WARN"],
        ["info", "UNKNOWN"],
        [undefined, "UNKNOWN"],
    ])("maps %s to %s", (word, state) => {
        expect(normaliseState(word)).toBe(state);
    });
});
