import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { minimalSlackMessage } from "../../../functions/shared/slack-message";
import {
    DEFAULT_RETRY_AFTER_MS,
    postToSlack,
    redactWebhookUrl,
    retryAfterMs,
    SlackDeliveryError,
    type PostToSlackOptions,
    type SlackLogger,
} from "../../../functions/shared/slack-webhook";
import { closedPortUrl, SLACK_OK, startSlackSink, type SlackSink } from "./slack-sink";

interface LogLine {
    level: string;
    message: string;
    attributes: Record<string, unknown>[];
}

function recordingLogger(): SlackLogger & { lines: LogLine[]; dump(): string } {
    const lines: LogLine[] = [];
    const log = (level: string) => (message: string, ...attributes: Record<string, unknown>[]) => void lines.push({ level, message, attributes });
    return { lines, info: log("info"), warn: log("warn"), error: log("error"), dump: () => JSON.stringify(lines) };
}

/** A clock that only moves when the code under test sleeps. */
function fakeTime(start = 1_700_000_000_000) {
    let t = start;
    const sleeps: number[] = [];
    return {
        now: () => t,
        sleep: async (ms: number) => {
            sleeps.push(ms);
            t += ms;
        },
        sleeps,
    };
}

const payload = minimalSlackMessage("disk full on db-2");
let sink: SlackSink;
let logger: ReturnType<typeof recordingLogger>;
let time: ReturnType<typeof fakeTime>;
const options = (remainingMs: number, extra: Partial<PostToSlackOptions> = {}): PostToSlackOptions => ({
    deadline: time.now() + remainingMs,
    logger,
    now: time.now,
    sleep: time.sleep,
    ...extra,
});

beforeEach(async () => {
    sink = await startSlackSink();
    logger = recordingLogger();
    time = fakeTime();
});
afterEach(async () => {
    await sink.close();
});

describe("redactWebhookUrl", () => {
    it("keeps scheme, host and first path segment and hides the token", () => {
        const redacted = redactWebhookUrl("https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX");
        expect(redacted).toBe("https://hooks.slack.com/services/[redacted]");
    });

    it("hides an unparseable URL entirely", () => {
        expect(redactWebhookUrl("hooks.slack.com/services/T/B/secret")).not.toContain("secret");
    });
});

describe("retryAfterMs", () => {
    it("reads delta-seconds, as Slack sends them", () => {
        expect(retryAfterMs("1", 0)).toBe(1000);
        expect(retryAfterMs("0", 0)).toBe(0);
        expect(retryAfterMs(" 30 ", 0)).toBe(30_000);
    });

    it("reads an HTTP date relative to now", () => {
        const now = Date.parse("2024-05-21T10:00:00Z");
        expect(retryAfterMs("Tue, 21 May 2024 10:00:05 GMT", now)).toBe(5000);
    });

    it("falls back to the default when the header is missing or unreadable", () => {
        expect(retryAfterMs(null, 0)).toBe(DEFAULT_RETRY_AFTER_MS);
        expect(retryAfterMs("soon", 0)).toBe(DEFAULT_RETRY_AFTER_MS);
    });
});

describe("postToSlack against a local Slack", () => {
    it("POSTs the payload as JSON and reports delivered on 200 ok", async () => {
        const outcome = await postToSlack(sink.webhookUrl, payload, options(10_000));
        expect(outcome).toEqual({ kind: "delivered", attempts: 1 });
        expect(sink.requests).toHaveLength(1);
        expect(sink.requests[0].method).toBe("POST");
        expect(sink.requests[0].headers["content-type"]).toMatch(/^application\/json/);
        expect(JSON.parse(sink.requests[0].body)).toEqual(payload);
    });

    it("waits Retry-After and retries while the wait fits the remaining time", async () => {
        sink.answer({ status: 429, body: "rate_limited", headers: { "Retry-After": "1" } }, SLACK_OK);
        const outcome = await postToSlack(sink.webhookUrl, payload, options(10_000));
        expect(outcome).toEqual({ kind: "delivered", attempts: 2 });
        expect(time.sleeps).toEqual([1000]);
        expect(sink.requests).toHaveLength(2);
    });

    it("retries when the wait plus the safety margin exactly fills the remaining time", async () => {
        sink.answer({ status: 429, body: "rate_limited", headers: { "Retry-After": "1" } }, SLACK_OK);
        const outcome = await postToSlack(sink.webhookUrl, payload, options(3000, { safetyMarginMs: 2000 }));
        expect(outcome.kind).toBe("delivered");
    });

    it("throws without waiting when the wait does not fit the remaining time less the margin", async () => {
        sink.answer({ status: 429, body: "rate_limited", headers: { "Retry-After": "1" } }, SLACK_OK);
        const error = await postToSlack(sink.webhookUrl, payload, options(2999, { safetyMarginMs: 2000 })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SlackDeliveryError);
        expect((error as SlackDeliveryError).failure).toBe("rate-limited");
        expect(time.sleeps).toEqual([]);
        expect(sink.requests).toHaveLength(1);
    });

    it("gives up after maxAttempts when Slack keeps rate-limiting", async () => {
        sink.answer({ status: 429, body: "rate_limited", headers: { "Retry-After": "0" } });
        const error = await postToSlack(sink.webhookUrl, payload, options(60_000, { maxAttempts: 3 })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SlackDeliveryError);
        expect(sink.requests).toHaveLength(3);
    });

    it("throws on 500 rollup_error so that Lambda retries the event", async () => {
        sink.answer({ status: 500, body: "rollup_error" });
        const error = await postToSlack(sink.webhookUrl, payload, options(10_000)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SlackDeliveryError);
        expect((error as SlackDeliveryError).status).toBe(500);
        expect((error as Error).message).toContain("rollup_error");
        expect(sink.requests).toHaveLength(1);
    });

    it.each([
        [400, "invalid_payload", "formatting bug"],
        [403, "action_prohibited", "admin"],
        [404, "channel_not_found", "no longer exists"],
        [410, "channel_is_archived", "archived"],
    ])("drops the message on %i %s and logs one line naming both", async (status, slackError, hint) => {
        sink.answer({ status, body: slackError });
        const outcome = await postToSlack(sink.webhookUrl, payload, options(10_000));
        expect(outcome).toMatchObject({ kind: "dropped", status, slackError });
        expect(outcome.kind === "dropped" && outcome.reason).toContain(hint);
        expect(sink.requests).toHaveLength(1);
        const errors = logger.lines.filter((l) => l.level === "error");
        expect(errors).toHaveLength(1);
        expect(errors[0].message).toContain(String(status));
        expect(errors[0].message).toContain(slackError);
    });

    it("does not follow a redirect (the message would be re-sent as a GET elsewhere)", async () => {
        sink.answer({ status: 302, body: "", headers: { location: "http://127.0.0.1:9/elsewhere" } });
        const outcome = await postToSlack(sink.webhookUrl, payload, options(10_000));
        expect(outcome).toMatchObject({ kind: "dropped", status: 302 });
    });

    it("warns but counts as delivered when a 200 body is not ok", async () => {
        sink.answer({ status: 200, body: "strange" });
        const outcome = await postToSlack(sink.webhookUrl, payload, options(10_000));
        expect(outcome.kind).toBe("delivered");
        expect(logger.lines.some((l) => l.level === "warn" && JSON.stringify(l).includes("strange"))).toBe(true);
    });

    it("throws a network failure when nothing listens, without quoting the URL", async () => {
        const url = await closedPortUrl();
        const error = await postToSlack(url, payload, options(10_000)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SlackDeliveryError);
        expect((error as SlackDeliveryError).failure).toBe("network");
        expect((error as Error).message).not.toContain("closedPortSecretToken");
    });

    it("does not quote an unparseable URL in its error", async () => {
        const error = await postToSlack("hooks.slack.com/services/T/B/unparseableSecret", payload, options(10_000)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SlackDeliveryError);
        expect((error as Error).message).not.toContain("unparseableSecret");
    });

    it("never logs the webhook URL, only its redacted form", async () => {
        sink.answer({ status: 429, body: "rate_limited", headers: { "Retry-After": "1" } }, { status: 200, body: "odd" });
        await postToSlack(sink.webhookUrl, payload, options(10_000));
        sink.answer({ status: 404, body: "channel_not_found" });
        await postToSlack(sink.webhookUrl, payload, options(10_000));
        const dump = logger.dump();
        expect(logger.lines.length).toBeGreaterThanOrEqual(3);
        expect(dump).not.toContain(sink.webhookUrl);
        expect(dump).not.toContain("s3cr3tW3bh00kT0k3nXYZ");
        expect(dump).toContain(redactWebhookUrl(sink.webhookUrl));
    });
});
