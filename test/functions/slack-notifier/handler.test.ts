import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import type { SNSEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { redactWebhookUrl, SlackDeliveryError } from "../../../functions/shared/slack-webhook";
import { createHandler, type NotifierLogger } from "../../../functions/slack-notifier/handler";
import { createWebhookUrlSource, WEBHOOK_CIPHERTEXT_ENV } from "../../../functions/slack-notifier/webhook-secret";
import { SLACK_OK, startSlackSink, type SlackSink } from "../shared/slack-sink";
import { slackLimitViolations } from "../shared/slack-limits";
import { startKmsStub, type KmsStub } from "./kms-stub";
import { lambdaContext } from "../lambda-runtime";

const FUNCTION_NAME = "alertline-dev-slack-notifier";
const fixture = (name: string): string => readFileSync(join(__dirname, "../../fixtures/slack-notifier", name), "utf8");

function snsEvent(message: string, subject: string | null = null): SNSEvent {
    return {
        Records: [
            {
                EventSource: "aws:sns",
                EventVersion: "1.0",
                EventSubscriptionArn: "arn:aws:sns:ap-northeast-1:123456789012:alertline-dev-alerts:2f1c7e0a-0000-4000-8000-000000000001",
                Sns: {
                    Type: "Notification",
                    MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    TopicArn: "arn:aws:sns:ap-northeast-1:123456789012:alertline-dev-alerts",
                    Subject: subject as string,
                    Message: message,
                    Timestamp: "2024-05-21T09:45:27.500Z",
                    SignatureVersion: "1",
                    Signature: "EXAMPLE",
                    SigningCertUrl: "https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    UnsubscribeUrl: "https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe",
                    MessageAttributes: {},
                },
            },
        ],
    };
}

interface LogLine {
    level: string;
    message: string;
    attributes: Record<string, unknown>[];
}

let slack: SlackSink;
let kms: KmsStub;
let kmsClient: KMSClient;
let lines: LogLine[];
let sleeps: number[];
let clock: number;
let handler: ReturnType<typeof createHandler>;

const logger: NotifierLogger = {
    info: (message, ...attributes) => void lines.push({ level: "info", message, attributes }),
    warn: (message, ...attributes) => void lines.push({ level: "warn", message, attributes }),
    error: (message, ...attributes) => void lines.push({ level: "error", message, attributes }),
};
const logText = (): string => JSON.stringify(lines);
const slackBodies = () => slack.requests.map((r) => JSON.parse(r.body));

beforeEach(async () => {
    slack = await startSlackSink();
    kms = await startKmsStub();
    kmsClient = kms.client();
    lines = [];
    sleeps = [];
    clock = 1_716_284_727_000;
    const env = { [WEBHOOK_CIPHERTEXT_ENV]: kms.encrypt(slack.webhookUrl, { LambdaFunctionName: FUNCTION_NAME }), AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME };
    handler = createHandler({
        webhookUrl: createWebhookUrlSource(kmsClient, env),
        logger,
        environment: "dev",
        now: () => clock,
        sleep: async (ms) => {
            sleeps.push(ms);
            clock += ms;
        },
    });
});
afterEach(async () => {
    kmsClient.destroy();
    await Promise.all([slack.close(), kms.close()]);
});

describe("slack-notifier handler", () => {
    it("posts a CloudWatch alarm to Slack as valid JSON with text and blocks", async () => {
        const alarm = JSON.parse(fixture("cloudwatch-alarm.json"));
        await handler(snsEvent(fixture("cloudwatch-alarm.json"), `ALARM: "${alarm.AlarmName}" in Asia Pacific (Tokyo)`), lambdaContext(FUNCTION_NAME, 10_000));

        expect(slack.requests).toHaveLength(1);
        const body = JSON.parse(slack.requests[0].body);
        expect(typeof body.text).toBe("string");
        expect(Array.isArray(body.blocks)).toBe(true);
        expect(slackLimitViolations(body)).toEqual([]);
        expect(body.blocks[0].text.text).toContain(alarm.AlarmName);
        expect(JSON.stringify(body)).toContain("Environment: *dev*");
        expect(lines.some((l) => l.level === "info" && l.message.includes("Posted"))).toBe(true);
    });

    it("decrypts the webhook through KMS with the function name as encryption context", async () => {
        await handler(snsEvent("hello"), lambdaContext(FUNCTION_NAME, 10_000));
        expect(kms.requests).toHaveLength(1);
        expect(kms.requests[0].target).toBe("TrentService.Decrypt");
        expect(kms.requests[0].body.EncryptionContext?.LambdaFunctionName).toBe(FUNCTION_NAME);
    });

    it("decrypts once for several invocations in one container", async () => {
        for (const name of ["cloudwatch-alarm.json", "cloudwatch-ok.json", "datadog-webhook.json"]) {
            await handler(snsEvent(fixture(name)), lambdaContext(FUNCTION_NAME, 10_000));
        }
        expect(slack.requests).toHaveLength(3);
        expect(kms.requests).toHaveLength(1);
    });

    it("waits Retry-After through the injected sleep on 429, then posts once successfully", async () => {
        slack.answer({ status: 429, body: "rate_limited", headers: { "Retry-After": "1" } }, SLACK_OK);
        await handler(snsEvent(fixture("cloudwatch-alarm.json")), lambdaContext(FUNCTION_NAME, 10_000));
        expect(sleeps).toEqual([1000]);
        expect(slack.requests).toHaveLength(2);
        expect(slack.requests[1].body).toBe(slack.requests[0].body);
    });

    it("throws on a 429 whose Retry-After does not fit the remaining time, so Lambda retries later", async () => {
        slack.answer({ status: 429, body: "rate_limited", headers: { "Retry-After": "30" } }, SLACK_OK);
        await expect(handler(snsEvent(fixture("cloudwatch-alarm.json")), lambdaContext(FUNCTION_NAME, 10_000))).rejects.toBeInstanceOf(SlackDeliveryError);
        expect(sleeps).toEqual([]);
        expect(slack.requests).toHaveLength(1);
    });

    it("throws on 500 rollup_error, so Lambda retries and then dead-letters the event", async () => {
        slack.answer({ status: 500, body: "rollup_error" });
        await expect(handler(snsEvent(fixture("cloudwatch-alarm.json")), lambdaContext(FUNCTION_NAME, 10_000))).rejects.toThrow(/500 rollup_error/);
        expect(slack.requests).toHaveLength(1);
    });

    it("resolves on 404 channel_not_found after one clear log line, without retrying", async () => {
        slack.answer({ status: 404, body: "channel_not_found" });
        await expect(handler(snsEvent(fixture("cloudwatch-alarm.json")), lambdaContext(FUNCTION_NAME, 10_000))).resolves.toBeUndefined();
        expect(slack.requests).toHaveLength(1);
        expect(sleeps).toEqual([]);
        const errors = lines.filter((l) => l.level === "error");
        expect(errors).toHaveLength(1);
        expect(errors[0].message).toMatch(/404 channel_not_found/);
        expect(JSON.stringify(errors[0].attributes)).toContain("95df01b4-ee98-5cb9-9903-4c221d41eb5e");
    });

    it("posts readable messages for non-JSON text and truncated JSON", async () => {
        await handler(snsEvent(fixture("plain-text.txt"), "Backup failed"), lambdaContext(FUNCTION_NAME, 10_000));
        await handler(snsEvent(fixture("truncated.json")), lambdaContext(FUNCTION_NAME, 10_000));
        const [text, truncated] = slackBodies();
        expect(text.blocks[0].text.text).toContain("Backup failed");
        expect(JSON.stringify(text)).toContain("disk full");
        expect(JSON.stringify(truncated)).toContain("NewStateReason");
        for (const body of slackBodies()) expect(slackLimitViolations(body)).toEqual([]);
    });

    it("still posts a minimal text message for a record it cannot read at all", async () => {
        const unreadable = { Records: [{}, { Sns: { Message: 10n } }] } as unknown as SNSEvent;
        await handler(unreadable, lambdaContext(FUNCTION_NAME, 10_000));
        expect(slack.requests).toHaveLength(2);
        for (const body of slackBodies()) {
            expect(body.text).toContain("could not be formatted");
            expect(slackLimitViolations(body)).toEqual([]);
        }
    });

    it("resolves without posting when the event has no records", async () => {
        await handler({} as SNSEvent, lambdaContext(FUNCTION_NAME, 10_000));
        expect(slack.requests).toHaveLength(0);
        expect(lines.some((l) => l.level === "warn")).toBe(true);
    });

    it("never writes the webhook URL into a log line or an error, whatever Slack answers", async () => {
        const thrown: string[] = [];
        const answers = [
            [SLACK_OK],
            [{ status: 404, body: "channel_not_found" }],
            [{ status: 500, body: "rollup_error" }],
            [{ status: 429, body: "rate_limited", headers: { "Retry-After": "1" } }, SLACK_OK],
            [{ status: 429, body: "rate_limited", headers: { "Retry-After": "60" } }],
        ];
        for (const script of answers) {
            slack.answer(...script);
            await handler(snsEvent(fixture("cloudwatch-alarm.json")), lambdaContext(FUNCTION_NAME, 10_000)).catch((e: Error) => thrown.push(`${e.message}\n${e.stack}`));
        }
        expect(thrown).toHaveLength(2);
        expect(lines.length).toBeGreaterThanOrEqual(5);
        const everything = `${logText()}\n${thrown.join("\n")}`;
        expect(everything).not.toContain(slack.webhookUrl);
        expect(everything).not.toContain("s3cr3tW3bh00kT0k3nXYZ");
        expect(everything).toContain(redactWebhookUrl(slack.webhookUrl));
    });
});
