import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import {
    alertMessage,
    describeSlackError,
    messageUsable,
    normaliseBotToken,
    plainAlertMessage,
    rateLimitWaitMs,
    slackAppConfigFromEnv,
    slackAppFromEnv,
    slackErrorDecision,
    slackErrorFix,
    slackModeFromEnv,
    stateChangeReply,
    type SlackErrorDecision,
} from "../../../functions/slack-notifier/slack-app";
import type { AlertSummary } from "../../../functions/shared/slack-message";

const platform = (error: string, extra: Record<string, unknown> = {}) => new WebAPIPlatformError({ ok: false, error, ...extra });

describe("slackErrorDecision", () => {
    // Error strings from Slack's method reference for chat.postMessage and chat.update (slack-ruby/slack-api-ref
    // methods/chat/*.json); error classes from @slack/web-api 8.2.0 (errors.d.ts).
    const table: [string, unknown, SlackErrorDecision][] = [
        ["HTTP 429 with Retry-After (rejectRateLimitedCalls)", new WebAPIRateLimitedError(3), "wait-and-retry"],
        ["ok:false ratelimited", platform("ratelimited"), "wait-and-retry"],
        ["invalid_blocks", platform("invalid_blocks"), "plain-text"],
        ["invalid_blocks_format", platform("invalid_blocks_format"), "plain-text"],
        ["msg_too_long", platform("msg_too_long"), "plain-text"],
        ["msg_blocks_too_long", platform("msg_blocks_too_long"), "plain-text"],
        ["invalid_attachments", platform("invalid_attachments"), "plain-text"],
        ["message_not_found (deleted)", platform("message_not_found"), "repost"],
        ["cant_update_message", platform("cant_update_message"), "repost"],
        ["edit_window_closed", platform("edit_window_closed"), "repost"],
        ["channel_not_found", platform("channel_not_found"), "fail"],
        ["not_in_channel", platform("not_in_channel"), "fail"],
        ["is_archived", platform("is_archived"), "fail"],
        ["invalid_auth", platform("invalid_auth"), "fail"],
        ["not_authed", platform("not_authed"), "fail"],
        ["token_revoked", platform("token_revoked"), "fail"],
        ["account_inactive", platform("account_inactive"), "fail"],
        ["missing_scope", platform("missing_scope"), "fail"],
        ["internal_error", platform("internal_error"), "fail"],
        ["an error Slack may add later", platform("something_new"), "fail"],
        ["HTTP 503", new WebAPIHTTPError(503, "Service Unavailable", {}), "fail"],
        ["network", new WebAPIRequestError(new Error("connect ECONNREFUSED 127.0.0.1:1")), "fail"],
        ["not a Slack error at all", new TypeError("x is undefined"), "fail"],
        ["not even an Error", "boom", "fail"],
    ];
    it.each(table)("%s → %s", (_name, error, decision) => {
        expect(slackErrorDecision(error)).toBe(decision);
    });

    it("names the fix for the errors an operator must act on", () => {
        expect(slackErrorFix(platform("not_in_channel"))).toMatch(/invite the bot/);
        expect(slackErrorFix(platform("channel_not_found"))).toMatch(/alertline:slack\.channelId/);
        for (const code of ["invalid_auth", "not_authed", "token_revoked", "account_inactive"]) expect(slackErrorFix(platform(code))).toMatch(/alertline:slackBotToken/);
        expect(describeSlackError(new WebAPIHTTPError(502, "Bad Gateway", {}))).toBe("HTTP 502");
    });

    it("waits what Retry-After says, from the 429 or from ok:false ratelimited's metadata, and 1 s without it", () => {
        expect(rateLimitWaitMs(new WebAPIRateLimitedError(3))).toBe(3000);
        expect(rateLimitWaitMs(platform("ratelimited", { response_metadata: { retryAfter: 2 } }))).toBe(2000);
        expect(rateLimitWaitMs(platform("ratelimited"))).toBe(1000);
    });
});

describe("configuration", () => {
    const good = { SLACK_MODE: "app", SLACK_CHANNEL_ID: "C0123ABCD", FLOOD_TABLE: "alertline-dev-flood" };

    it("is webhook mode unless SLACK_MODE says app, and refuses other modes naming the stack key", () => {
        expect(slackModeFromEnv({})).toBe("webhook");
        expect(slackModeFromEnv({ SLACK_MODE: "webhook" })).toBe("webhook");
        expect(slackModeFromEnv({ SLACK_MODE: "app" })).toBe("app");
        expect(() => slackModeFromEnv({ SLACK_MODE: "bot" })).toThrow(/SLACK_MODE="bot".*webhook or app.*alertline:slack\.mode/);
    });

    it("reads the channel, table, maximum age (default one day) and API URL", () => {
        expect(slackAppConfigFromEnv(good)).toEqual({ channelId: "C0123ABCD", table: "alertline-dev-flood", maxAgeSeconds: 86_400, apiUrl: "https://slack.com/api/" });
        expect(slackAppConfigFromEnv({ ...good, SLACK_THREAD_MAX_AGE_SECONDS: "3600", SLACK_API_URL: "http://127.0.0.1:4000/api" })).toMatchObject({ maxAgeSeconds: 3600, apiUrl: "http://127.0.0.1:4000/api/" });
    });

    it("refuses a channel name, a missing table, a bad age and a plain-http remote API URL, naming the fix", () => {
        expect(() => slackAppConfigFromEnv({ ...good, SLACK_CHANNEL_ID: "#alerts" })).toThrow(/SLACK_CHANNEL_ID="#alerts".*alertline:slack\.channelId.*ID/);
        expect(() => slackAppConfigFromEnv({ ...good, FLOOD_TABLE: "" })).toThrow(/FLOOD_TABLE is not set/);
        expect(() => slackAppConfigFromEnv({ ...good, SLACK_THREAD_MAX_AGE_SECONDS: "1.5" })).toThrow(/SLACK_THREAD_MAX_AGE_SECONDS="1\.5".*60 to/);
        expect(() => slackAppConfigFromEnv({ ...good, SLACK_THREAD_MAX_AGE_SECONDS: "10" })).toThrow(/SLACK_THREAD_MAX_AGE_SECONDS/);
        expect(() => slackAppConfigFromEnv({ ...good, SLACK_API_URL: "http://slack.example.com/api/" })).toThrow(/SLACK_API_URL must be an https URL/);
    });

    it("accepts only a bot token and never quotes the value it refuses", () => {
        expect(normaliseBotToken(" xoxb-1-2-abc \n")).toBe("xoxb-1-2-abc");
        for (const bad of ["xoxp-1-2-secretvalue", "xoxe.xoxb-1-secretvalue", "https://hooks.slack.com/services/T/B/secretvalue", ""]) {
            expect(() => normaliseBotToken(bad)).toThrow(/alertline:slackBotToken.*xoxb-/);
            try {
                normaliseBotToken(bad);
            } catch (error) {
                expect((error as Error).message).not.toContain("secretvalue");
            }
        }
    });

    it("gives no app delivery in webhook mode, and in app mode fails each event with the fix when a setting is wrong", () => {
        const options = { logger: console, kms: () => ({ send: async () => ({}) }), documentClient: () => undefined as never, parse: () => undefined as never };
        expect(slackAppFromEnv({}, options)).toBeUndefined();
        const bad = slackAppFromEnv({ ...good, SLACK_CHANNEL_ID: "alerts" }, options);
        expect(bad).toBeTypeOf("function");
        expect(() => bad!()).toThrow(/alertline:slack\.channelId/);
        expect(() => slackAppFromEnv({ SLACK_MODE: "bot" }, options)!()).toThrow(/alertline:slack\.mode/);
    });
});

describe("what the messages say", () => {
    const alarm: AlertSummary = { source: "cloudwatch", state: "ALARM", title: "web-1 CPU", reason: "CPU 95% > 80%", fields: [{ label: "Metric", value: "CPUUtilization" }] };
    const ok: AlertSummary = { ...alarm, state: "OK", reason: "CPU 20% < 80%" };

    it("shows the count of a repeated alert, and nothing about repeats for the first", () => {
        const at = Date.parse("2026-12-05T10:00:00Z");
        expect(JSON.stringify(alertMessage(alarm, 7, at, "dev").blocks)).toContain("×7, last at 2026-12-05T10:00:00.000Z");
        expect(JSON.stringify(alertMessage(alarm, 1, at, "dev"))).not.toContain("×");
        expect(plainAlertMessage(alarm, 7)).toEqual({ text: expect.stringContaining("(×7)"), blocks: [] });
    });

    it("colours the message by state: green for OK", () => {
        expect(alertMessage(ok, 2, 0, "dev").attachments?.[0]?.color).toBe("#2eb886");
        expect(alertMessage(alarm, 2, 0, "dev").attachments?.[0]?.color).toBe("#d40e0d");
    });

    it("replies 'Recovered' for OK and the new state otherwise, escaping Slack's control characters", () => {
        expect(stateChangeReply(ok, "ALARM")).toMatch(/^:large_green_circle: Recovered: web-1 CPU — CPU 20% &lt; 80%$/);
        expect(stateChangeReply(alarm, "OK")).toMatch(/Now ALARM \(was OK\): web-1 CPU/);
    });

    it("updates a message only in the same channel and younger than the maximum age", () => {
        const now = 1_000_000_000;
        const item = { ts: "1.000001", channel: "C1", postedAt: now / 1000 - 100 };
        expect(messageUsable(item, "C1", now, 3600)).toBe(true);
        expect(messageUsable(item, "C1", now, 100)).toBe(false);
        expect(messageUsable(item, "C2", now, 3600)).toBe(false);
        expect(messageUsable({ channel: "C1", postedAt: now / 1000 }, "C1", now, 3600)).toBe(false);
    });
});
