import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFunction } from "../../../components/shared/function-code";
import { WEBHOOK_CIPHERTEXT_ENV } from "../../../functions/slack-notifier/webhook-secret";
import { SLACK_OK, startSlackSink, type SlackSink } from "../shared/slack-sink";
import { startKmsStub, type KmsStub } from "./kms-stub";
import { invokeBundle, localAwsEnv } from "../lambda-runtime";
import { parseEmfLine } from "../../harness/emf";

/**
 * The function as Lambda runs it: the very bundle the infrastructure ships (bundleFunction), loaded
 * in a fresh Node process with only Lambda-like environment variables, its default dependencies
 * (a real KMSClient found through AWS_ENDPOINT_URL_KMS, a real Powertools Logger on stdout), and
 * local peers for KMS and Slack.
 */

const FUNCTION_NAME = "alertline-dev-slack-notifier";
let workDir: string;
let bundlePath: string;
let slack: SlackSink;
let kms: KmsStub;

beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "slack-notifier-bundle-"));
    bundlePath = join(workDir, "handler.js");
    writeFileSync(bundlePath, bundleFunction("slack-notifier"));
    slack = await startSlackSink();
    kms = await startKmsStub();
});
afterAll(async () => {
    await Promise.all([slack?.close(), kms?.close()]);
    rmSync(workDir, { recursive: true, force: true });
});

/** Invokes the bundle's `handler` once per message in one process (one container), like Lambda would. */
function invokeInFreshProcess(messages: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return invokeBundle({
        bundlePath,
        functionName: FUNCTION_NAME,
        events: messages.map((message) => ({ Records: [{ EventSource: "aws:sns", Sns: { MessageId: "m-1", Subject: null, Message: message } }] })),
        env: {
            ...localAwsEnv(workDir, { KMS: kms.endpoint }),
            AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
            [WEBHOOK_CIPHERTEXT_ENV]: kms.encrypt(slack.webhookUrl, { LambdaFunctionName: FUNCTION_NAME }),
            ALERTLINE_ENVIRONMENT: "dev",
        },
        remainingMs: 10_000,
        timeoutMs: 8000,
    });
}

describe("the bundled slack-notifier", () => {
    it("bundles to one CommonJS file that exports handler", () => {
        expect(readFileSync(bundlePath, "utf8")).toContain("module.exports");
    });

    it("decrypts once, posts every alert and logs JSON lines without the webhook URL", async () => {
        const fixture = (name: string) => readFileSync(join(__dirname, "../../fixtures/slack-notifier", name), "utf8");
        slack.answer(SLACK_OK, SLACK_OK, { status: 404, body: "channel_not_found" });
        const result = await invokeInFreshProcess([fixture("cloudwatch-alarm.json"), fixture("plain-text.txt"), fixture("datadog-webhook.json")]);

        expect(result.stdout).toContain("HANDLER_RESOLVED");
        expect(result.code).toBe(0);
        expect(kms.requests).toHaveLength(1);
        expect(kms.requests[0].body.EncryptionContext).toEqual({ LambdaFunctionName: FUNCTION_NAME });
        expect(slack.requests).toHaveLength(3);
        const first = JSON.parse(slack.requests[0].body);
        expect(first.blocks[0].text.text).toContain(JSON.parse(fixture("cloudwatch-alarm.json")).AlarmName);
        expect(JSON.stringify(first)).toContain("Environment: *dev*");

        // Powertools writes INFO to stdout and WARN/ERROR to stderr, as Lambda expects.
        const logLines = `${result.stdout}\n${result.stderr}`.split("\n").filter((line) => line.startsWith("{"));
        // The metrics (Powertools Metrics, embedded metric format) are JSON lines too, with `_aws`.
        const logs = logLines.map((line) => JSON.parse(line)).filter((l) => l._aws === undefined);
        const emf = logLines.flatMap((line) => parseEmfLine(line));
        expect(emf.map((d) => [d.namespace, d.metric, d.values, d.value])).toEqual([
            ["alertline/AlertPath", "SlackPosts", { Environment: "dev" }, 1],
            ["alertline/AlertPath", "SlackPosts", { Environment: "dev" }, 1],
        ]);
        expect(logs.filter((l) => l.message === "Posted the alert to Slack")).toHaveLength(2);
        expect(logs.every((l) => l.service === "slack-notifier")).toBe(true);
        const dropped = logs.filter((l) => l.level === "ERROR");
        expect(dropped).toHaveLength(1);
        expect(dropped[0].message).toContain("404 channel_not_found");
        expect(result.stdout + result.stderr).not.toContain(slack.webhookUrl);
        expect(result.stdout + result.stderr).not.toContain("s3cr3tW3bh00kT0k3nXYZ");
    });
});
