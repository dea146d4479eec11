import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SNSEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHandler, floodControlFromEnv, type NotifierLogger } from "../../../functions/slack-notifier/handler";
import { parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";
import {
    createDynamoFloodControl,
    decide,
    DEFAULT_FLOOD_POLICY,
    describeDuration,
    FloodConfigError,
    floodKey,
    floodPolicyFromEnv,
    repeatNoticeSummary,
    windowExpired,
    type FloodPolicy,
} from "../../../functions/slack-notifier/flood-control";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { closedPortUrl, startSlackSink, type SlackSink } from "../shared/slack-sink";
import { slackLimitViolations } from "../shared/slack-limits";
import { lambdaContext } from "../lambda-runtime";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "../../../tools/local/http";

const FUNCTION_NAME = "alertline-dev-alerts-notifier";
const fixture = (name: string): string => readFileSync(join(__dirname, "../../fixtures/slack-notifier", name), "utf8");
const ALARM = fixture("cloudwatch-alarm.json");
const OK = fixture("cloudwatch-ok.json");
const POLICY: FloodPolicy = { windowSeconds: 300, repeatNoticeAfter: 10 };

function snsEvent(message: string, id: string): SNSEvent {
    return { Records: [{ EventSource: "aws:sns", Sns: { MessageId: id, Message: message, Subject: null } }] } as unknown as SNSEvent;
}

/** The same alarm as the fixture, with the fields that change from one evaluation to the next changed. */
function reevaluated(message: string, n: number): string {
    const alarm = JSON.parse(message);
    return JSON.stringify({ ...alarm, StateChangeTime: `2024-05-21T09:${String(n % 60).padStart(2, "0")}:27.123+0000`, NewStateReason: `${alarm.NewStateReason} #${n}` });
}

const keyOf = (message: string) => floodKey(parseSnsMessage(message, undefined), message);

describe("floodKey", () => {
    it("is the same for two evaluations of one alarm in one state", () => {
        expect(keyOf(reevaluated(ALARM, 1))).toBe(keyOf(reevaluated(ALARM, 2)));
        expect(keyOf(ALARM)).toMatch(/^flood#[0-9a-f]{32}$/);
    });

    it("differs between ALARM and OK of the same alarm, so recovery is never swallowed", () => {
        const ok = JSON.stringify({ ...JSON.parse(ALARM), NewStateValue: "OK", OldStateValue: "ALARM" });
        expect(keyOf(ok)).not.toBe(keyOf(ALARM));
    });

    it("differs between two alarms", () => {
        const other = JSON.stringify({ ...JSON.parse(ALARM), AlarmName: "web-2 CPU", AlarmArn: "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:web-2 CPU" });
        expect(keyOf(other)).not.toBe(keyOf(ALARM));
    });

    it("keys EventBridge findings by their id, not by their changing timestamps", () => {
        const finding = (id: string, time: string) =>
            JSON.stringify({ version: "0", id: `evt-${time}`, "detail-type": "GuardDuty Finding", source: "aws.guardduty", account: "123456789012", time, region: "ap-northeast-1", resources: [], detail: { id, type: "Recon:EC2/PortProbeUnprotectedPort", severity: 8, title: "Unprotected port probed", updatedAt: time } });
        expect(keyOf(finding("f-1", "2024-05-21T09:00:00Z"))).toBe(keyOf(finding("f-1", "2024-05-21T09:01:00Z")));
        expect(keyOf(finding("f-1", "2024-05-21T09:00:00Z"))).not.toBe(keyOf(finding("f-2", "2024-05-21T09:00:00Z")));
    });

    it("counts plain text as a repeat only when the text is identical", () => {
        expect(keyOf("disk full on db-1")).toBe(keyOf("disk full on db-1"));
        expect(keyOf("disk full on db-1")).not.toBe(keyOf("disk full on db-2"));
    });
});

describe("flood decisions and policy", () => {
    it("posts the first, notices the repeatNoticeAfter-th, and holds the rest", () => {
        const actions = Array.from({ length: 12 }, (_, i) => decide(i + 1, POLICY));
        expect(actions.filter((a) => a === "post")).toHaveLength(1);
        expect(actions.indexOf("notice")).toBe(POLICY.repeatNoticeAfter - 1);
        expect(actions.filter((a) => a !== "suppress")).toHaveLength(2);
    });

    it("ends a window exactly windowSeconds after its start", () => {
        expect(windowExpired(1000, 1000 + POLICY.windowSeconds - 1, POLICY)).toBe(false);
        expect(windowExpired(1000, 1000 + POLICY.windowSeconds, POLICY)).toBe(true);
    });

    it("reads the policy from the environment, with defaults, and names a bad variable and the fix", () => {
        expect(floodPolicyFromEnv({})).toEqual(DEFAULT_FLOOD_POLICY);
        expect(floodPolicyFromEnv({ FLOOD_WINDOW_SECONDS: "60", FLOOD_REPEAT_NOTICE_AFTER: "3" })).toEqual({ windowSeconds: 60, repeatNoticeAfter: 3 });
        expect(() => floodPolicyFromEnv({ FLOOD_WINDOW_SECONDS: "five" })).toThrow(FloodConfigError);
        expect(() => floodPolicyFromEnv({ FLOOD_REPEAT_NOTICE_AFTER: "1" })).toThrow(/FLOOD_REPEAT_NOTICE_AFTER.*at least|from 2/);
    });

    it("builds no flood control without a table, with a zero window, or with bad settings (logged)", () => {
        const errors: string[] = [];
        const logger: NotifierLogger = { info: () => undefined, warn: () => undefined, error: (m) => void errors.push(m) };
        const client = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
        expect(floodControlFromEnv({}, logger, client)).toBeUndefined();
        expect(floodControlFromEnv({ FLOOD_TABLE: "t", FLOOD_WINDOW_SECONDS: "0" }, logger, client)).toBeUndefined();
        expect(errors).toEqual([]);
        expect(floodControlFromEnv({ FLOOD_TABLE: "t", FLOOD_WINDOW_SECONDS: "-5" }, logger, client)).toBeUndefined();
        expect(errors).toHaveLength(1);
        expect(errors[0]).toContain("FLOOD_WINDOW_SECONDS");
        expect(floodControlFromEnv({ FLOOD_TABLE: "t" }, logger, client)?.policy).toEqual(DEFAULT_FLOOD_POLICY);
    });

    it("words the repeat notice with the count and the elapsed time", () => {
        const summary = parseSnsMessage(ALARM, undefined);
        const notice = repeatNoticeSummary(summary, { action: "notice", count: 10, windowStart: 1000 }, 1_180_000, POLICY);
        expect(notice.title).toContain("×10");
        expect(notice.title).toContain(summary.title);
        expect(notice.fields[0]).toEqual({ label: "Repeated", value: `10 times in the last ${describeDuration(180)}` });
        expect(describeDuration(180)).toBe("3 minutes");
        expect(describeDuration(1)).toBe("1 second");
    });
});

describe("flood control through the handler, on dynalite", () => {
    let dynamo: LocalDynamo;
    let slack: SlackSink;
    let clock: number;
    let lines: { level: string; message: string; attributes: unknown[] }[];
    const TABLE = "alertline-dev-alerts-flood";
    const logger: NotifierLogger = {
        info: (message, ...attributes) => void lines.push({ level: "info", message, attributes }),
        warn: (message, ...attributes) => void lines.push({ level: "warn", message, attributes }),
        error: (message, ...attributes) => void lines.push({ level: "error", message, attributes }),
    };

    beforeEach(async () => {
        [dynamo, slack] = await Promise.all([startDynalite(), startSlackSink()]);
        await dynamo.createTable(TABLE);
        clock = 1_716_284_727_000;
        lines = [];
    });
    afterEach(async () => {
        await Promise.all([dynamo.close(), slack.close()]);
    });

    const handlerWith = (table = TABLE, webhookUrl = async () => slack.webhookUrl) =>
        createHandler({ webhookUrl, logger, environment: "dev", now: () => clock, flood: createDynamoFloodControl(dynamo.documentClient, table, POLICY) });
    const bodies = () => slack.requests.map((r) => JSON.parse(r.body));

    async function burst(handler: ReturnType<typeof createHandler>, count: number, parallel: number, from = 0): Promise<void> {
        for (let i = 0; i < count; i += parallel) {
            await Promise.all(
                Array.from({ length: Math.min(parallel, count - i) }, (_, j) => handler(snsEvent(reevaluated(ALARM, from + i + j), `msg-${from + i + j}`), lambdaContext(FUNCTION_NAME, 10_000))),
            );
        }
    }

    it("posts 100 identical alarms, 10 at a time, as at most 2 Slack messages, the second naming the count", async () => {
        await burst(handlerWith(), 100, 10);
        expect(slack.requests.length).toBeLessThanOrEqual(2);
        expect(slack.requests).toHaveLength(2);
        const [first, second] = bodies();
        const alarmName = JSON.parse(ALARM).AlarmName;
        expect(first.blocks[0].text.text).toContain(alarmName);
        expect(JSON.stringify(first)).not.toContain("Repeated");
        expect(second.blocks[0].text.text).toContain(`×${POLICY.repeatNoticeAfter}`);
        expect(JSON.stringify(second)).toContain(`${POLICY.repeatNoticeAfter} times in the last`);
        for (const body of bodies()) expect(slackLimitViolations(body)).toEqual([]);
        expect(lines.filter((l) => l.message.startsWith("Not posting a repeat"))).toHaveLength(98);

        const item = await dynamo.documentClient.send(new GetCommand({ TableName: TABLE, Key: { pk: keyOf(ALARM) } }));
        expect(item.Item?.count).toBe(100);
        expect(item.Item?.expiresAt).toBe(item.Item?.windowStart + POLICY.windowSeconds);
    });

    it("posts the OK that follows the ALARMs", async () => {
        const handler = handlerWith();
        await burst(handler, 20, 10);
        const before = slack.requests.length;
        await handler(snsEvent(OK, "ok-1"), lambdaContext(FUNCTION_NAME, 10_000));
        expect(slack.requests).toHaveLength(before + 1);
        expect(bodies().at(-1).blocks[0].text.text).toContain(JSON.parse(OK).AlarmName);
        expect(JSON.parse(OK).NewStateValue).toBe("OK");
    });

    it("posts the alarm again once the window is over, and counts afresh", async () => {
        const handler = handlerWith();
        await burst(handler, 5, 5);
        expect(slack.requests).toHaveLength(1);
        clock += (POLICY.windowSeconds - 1) * 1000;
        await burst(handler, 1, 1, 5);
        expect(slack.requests).toHaveLength(1);
        clock += 1000;
        await burst(handler, 1, 1, 6);
        expect(slack.requests).toHaveLength(2);
        expect(JSON.stringify(bodies()[1])).not.toContain("Repeated");
        await burst(handler, POLICY.repeatNoticeAfter - 1, 3, 7);
        expect(slack.requests).toHaveLength(3);
        expect(bodies()[2].blocks[0].text.text).toContain(`×${POLICY.repeatNoticeAfter}`);
    });

    it("still posts every alarm when DynamoDB fails, and logs why", async () => {
        const handler = handlerWith("no-such-table");
        await burst(handler, 3, 3);
        expect(slack.requests).toHaveLength(3);
        const errors = lines.filter((l) => l.level === "error");
        expect(errors).toHaveLength(3);
        expect(errors[0].message).toMatch(/Flood control failed; posting the alert anyway/);
        expect(JSON.stringify(errors[0].attributes)).toMatch(/ResourceNotFound|non-existent|not found/i);
    });

    it("still posts when DynamoDB is not reachable at all", async () => {
        const down = DynamoDBDocumentClient.from(new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: (await closedPortUrl()).replace(/\/services.*$/, ""), maxAttempts: 1 }));
        const handler = createHandler({ webhookUrl: async () => slack.webhookUrl, logger, now: () => clock, flood: createDynamoFloodControl(down, TABLE, POLICY) });
        await handler(snsEvent(ALARM, "down-1"), lambdaContext(FUNCTION_NAME, 10_000));
        down.destroy();
        expect(slack.requests).toHaveLength(1);
        expect(lines.some((l) => l.level === "error" && l.message.includes("Flood control failed"))).toBe(true);
    });

    it("reopens the window when its first post fails, so Lambda's retry posts instead of being held", async () => {
        const handler = handlerWith();
        slack.answer({ status: 500, body: "rollup_error" });
        await expect(handler(snsEvent(ALARM, "retry-1"), lambdaContext(FUNCTION_NAME, 10_000))).rejects.toThrow(/500/);
        slack.answer({ status: 200, body: "ok" });
        await handler(snsEvent(ALARM, "retry-1"), lambdaContext(FUNCTION_NAME, 10_000));
        expect(slack.requests).toHaveLength(2);
        expect(slack.requests[1].body).toBe(slack.requests[0].body);
        await handler(snsEvent(ALARM, "retry-2"), lambdaContext(FUNCTION_NAME, 10_000));
        expect(slack.requests).toHaveLength(2);
    });
});
