import { randomUUID } from "node:crypto";
import type { KMSClient } from "@aws-sdk/client-kms";
import { ErrorCode, WebClient, type ChatPostMessageArguments, type ChatUpdateArguments } from "@slack/web-api";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SNSEventRecord } from "aws-lambda";
import { once } from "../shared/once";
import { createEnvSecretSource } from "../shared/kms-env-secret";
import { buildSlackMessage, escapeMrkdwn, FALLBACK_TEXT_MAX, fallbackText, minimalSlackMessage, stateEmoji, truncate, type AlertSummary, type SlackWebhookPayload } from "../shared/slack-message";
import { DEFAULT_SAFETY_MARGIN_MS, type SlackLogger } from "../shared/slack-webhook";
import { readThreadNote, type ThreadNote } from "../shared/thread-note";
import { alertIdentity, noteIdentity, threadKey } from "./alert-identity";
import { createAlertThreads, type AlertThreads, type PostedMessage, type ThreadItem } from "./alert-threads";
import {
    DEFAULT_THREAD_MAX_AGE_SECONDS,
    SLACK_API_URL_ENV,
    SLACK_BOT_TOKEN_CIPHERTEXT_ENV,
    SLACK_CHANNEL_ID_ENV,
    SLACK_MODE_ENV,
    SLACK_MODES,
    SLACK_THREAD_MAX_AGE_ENV,
    SLACK_THREAD_TABLE_ENV,
    type SlackMode,
} from "./slack-mode";

/**
 * slack-notifier's app mode (`SLACK_MODE=app`): one Slack message per alert identity, posted with a
 * bot token through `@slack/web-api`, updated in place on every repeat and state change, with
 * recoveries and notes (acknowledgements, tower changes) replied in its thread. Slack's answers
 * are decided here, not by the SDK: its own retries are off, so each `ok:false` gets the decision
 * of {@link slackErrorDecision}. Sources: Slack's method reference for chat.postMessage and
 * chat.update (errors), "Rate limits" (about one message per second per channel, HTTP 429 with
 * Retry-After), @slack/web-api 8.2.0's errors.d.ts and WebClient.js (the error classes thrown).
 */

// ---- Configuration ------------------------------------------------------------------------------

/** What app mode needs from the environment the AlertChannel component sets. */
export interface SlackAppConfig {
    readonly channelId: string;
    /** A message older than this starts a new one. */
    readonly maxAgeSeconds: number;
    /** The flood table, which keeps each alert's message `ts`. */
    readonly table: string;
    /** The Web API base URL, ending in `/`. */
    readonly apiUrl: string;
}

/** A problem with app mode's settings, naming the variable and the stack config that sets it. */
export class SlackAppConfigError extends Error {
    override readonly name = "SlackAppConfigError";
}

/** The longest SLACK_THREAD_MAX_AGE_SECONDS accepted: 30 days. */
export const MAX_THREAD_MAX_AGE_SECONDS = 30 * 86_400;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** `webhook` or `app` from SLACK_MODE (unset: webhook); anything else is a configuration error. */
export function slackModeFromEnv(env: NodeJS.ProcessEnv): SlackMode {
    const raw = env[SLACK_MODE_ENV]?.trim() ?? "";
    if (raw === "") return "webhook";
    if ((SLACK_MODES as readonly string[]).includes(raw)) return raw as SlackMode;
    throw new SlackAppConfigError(`${SLACK_MODE_ENV}=${JSON.stringify(raw)} is not a Slack mode: use ${SLACK_MODES.join(" or ")} (alertline:slack.mode in the stack config)`);
}

/** Reads and checks app mode's settings; every message names the variable and its fix. */
export function slackAppConfigFromEnv(env: NodeJS.ProcessEnv): SlackAppConfig {
    const channelId = env[SLACK_CHANNEL_ID_ENV]?.trim() ?? "";
    // Conversation IDs: C… public, G… private (older), D… direct messages; upper-case letters and digits.
    if (!/^[CGD][A-Z0-9]{2,}$/.test(channelId)) {
        throw new SlackAppConfigError(
            `${SLACK_CHANNEL_ID_ENV}=${JSON.stringify(channelId)} is not a Slack channel ID: set alertline:slack.channelId to the channel's ID (C…, shown at the bottom of the channel's details in Slack), not its name`,
        );
    }
    const table = env[SLACK_THREAD_TABLE_ENV]?.trim() ?? "";
    if (table === "") throw new SlackAppConfigError(`${SLACK_THREAD_TABLE_ENV} is not set: app mode keeps each alert's message in the flood table; the AlertChannel component sets it in app mode`);
    const rawAge = env[SLACK_THREAD_MAX_AGE_ENV]?.trim() ?? "";
    const maxAgeSeconds = rawAge === "" ? DEFAULT_THREAD_MAX_AGE_SECONDS : Number(rawAge);
    if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 60 || maxAgeSeconds > MAX_THREAD_MAX_AGE_SECONDS) {
        throw new SlackAppConfigError(
            `${SLACK_THREAD_MAX_AGE_ENV}=${JSON.stringify(rawAge)} is not valid: it must be a whole number of seconds from 60 to ${MAX_THREAD_MAX_AGE_SECONDS} (after that age an alert starts a new message); fix alertline:slack.threadMaxAgeHours in the stack config`,
        );
    }
    const rawUrl = env[SLACK_API_URL_ENV]?.trim() ?? "";
    let apiUrl = "https://slack.com/api/";
    if (rawUrl !== "") {
        let url: URL;
        try {
            url = new URL(rawUrl);
        } catch {
            throw new SlackAppConfigError(`${SLACK_API_URL_ENV}=${JSON.stringify(rawUrl)} is not a URL: leave it unset (https://slack.com/api/) outside tests and npm start`);
        }
        // The bot token travels in every request: only https, or http to this machine's stand-in.
        if (!(url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)))) {
            throw new SlackAppConfigError(`${SLACK_API_URL_ENV} must be an https URL (or http on 127.0.0.1 for the local stand-in): the bot token is sent with every call`);
        }
        apiUrl = url.href.endsWith("/") ? url.href : `${url.href}/`;
    }
    return { channelId, maxAgeSeconds, table, apiUrl };
}

/** A usable bot token from the decrypted text; errors never quote the value. */
export function normaliseBotToken(plaintext: string): string {
    const token = plaintext.trim();
    // Rotating tokens (xoxe.xoxb-…) expire every 12 hours (Slack, "Using token rotation") and cannot be
    // kept as a KMS-encrypted setting; a bot token without rotation starts with xoxb-.
    if (!/^xoxb-[A-Za-z0-9-]+$/.test(token)) {
        throw new SlackAppConfigError(
            `${SLACK_BOT_TOKEN_CIPHERTEXT_ENV} decrypted to something that is not a bot token: set alertline:slackBotToken to the app's Bot User OAuth Token (xoxb-…, from OAuth & Permissions; token rotation off)`,
        );
    }
    return token;
}

/** The bot token, decrypted on first use and kept for the container's life. */
export function createBotTokenSource(kms: Pick<KMSClient, "send">, env: NodeJS.ProcessEnv = process.env): () => Promise<string> {
    const decrypted = createEnvSecretSource(kms, SLACK_BOT_TOKEN_CIPHERTEXT_ENV, "the Slack bot token (xoxb-…)", env);
    return async () => normaliseBotToken(await decrypted());
}

/** Upper bound for one Web API request. */
export const SLACK_REQUEST_TIMEOUT_MS = 10_000;

/**
 * A WebClient whose decisions are ours: no retries (`retries: 0`), a 429 rejected at once with its
 * Retry-After (`rejectRateLimitedCalls`), a request timeout, and only warnings from its logger.
 */
export function createSlackWebClient(token: string, apiUrl: string): WebClient {
    return new WebClient(token, {
        slackApiUrl: apiUrl,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: SLACK_REQUEST_TIMEOUT_MS,
        allowAbsoluteUrls: false,
    });
}

// ---- Slack's answers ----------------------------------------------------------------------------

/** What to do about a failed Web API call. */
export type SlackErrorDecision = "wait-and-retry" | "plain-text" | "repost" | "fail";

/** Slack's error codes that mean "the content was refused": sent again as plain text. */
const CONTENT_ERRORS = new Set(["invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long", "invalid_attachments", "too_many_attachments", "invalid_arguments", "block_mismatch"]);
/** chat.update's errors that mean "that message cannot be edited any more": post a new root. */
const GONE_ERRORS = new Set(["message_not_found", "cant_update_message", "edit_window_closed", "thread_not_found"]);

/** What an operator must do about an error that no retry fixes; shown in the error log line. */
const FIXES: Record<string, string> = {
    channel_not_found: "check alertline:slack.channelId: it must be the channel's ID (C…), in the workspace the bot token belongs to",
    not_in_channel: "invite the bot to the channel (/invite @<app name> in the channel alertline:slack.channelId names)",
    is_archived: "the channel is archived: unarchive it or set alertline:slack.channelId to another channel",
    invalid_auth: "the bot token is not valid: rotate alertline:slackBotToken (the app's Bot User OAuth Token, xoxb-…)",
    not_authed: "no bot token reached Slack: set alertline:slackBotToken (the app's Bot User OAuth Token, xoxb-…)",
    token_revoked: "the bot token was revoked (the app was removed?): reinstall the app and rotate alertline:slackBotToken",
    token_expired: "the bot token expired (token rotation on?): turn token rotation off and rotate alertline:slackBotToken",
    account_inactive: "the bot's user or workspace is deactivated: reinstall the app and rotate alertline:slackBotToken",
    missing_scope: "the app lacks the chat:write scope: add it under OAuth & Permissions, reinstall, and rotate alertline:slackBotToken",
    no_permission: "the bot may not post there: invite it to the channel alertline:slack.channelId names",
    ekm_access_denied: "a workspace administrator suspended posting for this app",
    restricted_action: "a workspace preference keeps the bot from posting in alertline:slack.channelId",
};

/** Slack's error code of a platform error (`ok:false`), or undefined for other failures. */
export function slackErrorCode(error: unknown): string | undefined {
    const e = error as { code?: unknown; data?: { error?: unknown } } | undefined;
    return e?.code === ErrorCode.PlatformError && typeof e.data?.error === "string" ? e.data.error : undefined;
}

/**
 * The decision for one failed call:
 * - `wait-and-retry`: rate limited (HTTP 429 with Retry-After, or `ok:false, error: ratelimited`);
 * - `plain-text`: Slack refused the content (invalid_blocks, msg_too_long, …): send a minimal text;
 * - `repost`: the message to update is gone or cannot be edited (message_not_found, …): post a new root;
 * - `fail`: anything else: a wrong channel or token, 5xx, network, an unknown error; the event is
 *   thrown back to Lambda (retried, then the dead-letter queue) rather than lost.
 */
export function slackErrorDecision(error: unknown): SlackErrorDecision {
    const e = error as { code?: unknown } | undefined;
    if (e?.code === ErrorCode.RateLimitedError) return "wait-and-retry";
    const code = slackErrorCode(error);
    if (code === undefined) return "fail";
    if (code === "ratelimited" || code === "rate_limited") return "wait-and-retry";
    if (CONTENT_ERRORS.has(code)) return "plain-text";
    if (GONE_ERRORS.has(code)) return "repost";
    return "fail";
}

/** Milliseconds to wait before retrying a rate-limited call (Retry-After; 1 s when absent). */
export function rateLimitWaitMs(error: unknown): number {
    const e = error as { retryAfter?: unknown; data?: { response_metadata?: { retryAfter?: unknown } } } | undefined;
    const seconds = typeof e?.retryAfter === "number" ? e.retryAfter : e?.data?.response_metadata?.retryAfter;
    return typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : 1000;
}

/** One line describing a failure for logs and errors; never the token (the SDK's errors do not carry it). */
export function describeSlackError(error: unknown): string {
    const code = slackErrorCode(error);
    if (code !== undefined) return code;
    const e = error as { code?: unknown; statusCode?: unknown; original?: { message?: unknown }; message?: unknown } | undefined;
    if (e?.code === ErrorCode.RateLimitedError) return "ratelimited (HTTP 429)";
    if (e?.code === ErrorCode.HTTPError) return `HTTP ${String(e.statusCode)}`;
    if (e?.code === ErrorCode.RequestError) return `request failed: ${String(e.original?.message ?? e.message)}`;
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** What to tell the operator about a `fail` decision. */
export function slackErrorFix(error: unknown): string {
    const code = slackErrorCode(error);
    if (code !== undefined && Object.hasOwn(FIXES, code)) return FIXES[code];
    const e = error as { code?: unknown } | undefined;
    if (e?.code === ErrorCode.HTTPError || e?.code === ErrorCode.RequestError) return "Slack could not be reached or failed; Lambda retries the event";
    return "Lambda retries the event; if this persists, the event ends in the notifier's dead-letter queue";
}

/** Thrown for an event that could not be shown; the handler lets it reach Lambda (retry, then DLQ). */
export class SlackAppDeliveryError extends Error {
    override readonly name = "SlackAppDeliveryError";
}

// ---- What the messages say ----------------------------------------------------------------------

/** The events of this message: the count since its root was posted. */
export function shownCount(item: Pick<ThreadItem, "count" | "baseCount">): number {
    return Math.max(1, item.count - item.baseCount);
}

/** The root message of an alert: its latest state (coloured bar by state) and how often it was seen. */
export function alertMessage(summary: AlertSummary, count: number, lastEventAt: number, environment: string | undefined): SlackWebhookPayload {
    const seen = count > 1 ? [{ label: "Seen", value: `×${count}, last at ${new Date(lastEventAt).toISOString()}` }] : [];
    return buildSlackMessage({ ...summary, fields: [...seen, ...(summary.fields ?? [])] }, { environment, colourBar: true });
}

/** The plain-text form sent when Slack refuses the blocks: state, title, reason, count. */
export function plainAlertMessage(summary: AlertSummary, count: number): SlackWebhookPayload {
    const text = count > 1 ? `${fallbackText(summary)} (×${count})` : fallbackText(summary);
    return { text, blocks: [] };
}

/** The thread reply when the rendered state changes: "Recovered" for OK, "Now ALARM" otherwise. */
export function stateChangeReply(summary: AlertSummary, previousState: string): string {
    const reason = summary.reason?.replace(/\s+/g, " ").trim();
    const what = summary.state === "OK" ? "Recovered" : `Now ${summary.state} (was ${previousState})`;
    return `${stateEmoji(summary.state)} ${what}: ${escapeMrkdwn(summary.title)}${reason ? ` — ${escapeMrkdwn(truncate(reason, 500))}` : ""}`;
}

/** Whether a stored message can still be updated: same channel, and younger than the maximum age. */
export function messageUsable(item: Pick<ThreadItem, "ts" | "channel" | "postedAt">, channelId: string, nowMs: number, maxAgeSeconds: number): boolean {
    if (item.ts === undefined || item.channel !== channelId || item.postedAt === undefined) return false;
    return Math.floor(nowMs / 1000) - item.postedAt < maxAgeSeconds;
}

// ---- Delivery -----------------------------------------------------------------------------------

/** The part of WebClient used: chat.postMessage and chat.update. */
export interface SlackChat {
    readonly chat: {
        postMessage(args: ChatPostMessageArguments): Promise<{ ts?: string }>;
        update(args: ChatUpdateArguments): Promise<{ ts?: string }>;
    };
}

export interface SlackAppDeps {
    readonly config: SlackAppConfig;
    /** The client, built once the token is decrypted (memoised by the caller). */
    readonly client: () => Promise<SlackChat>;
    readonly threads: AlertThreads;
    readonly logger: SlackLogger;
    readonly environment?: string;
    readonly now?: () => number;
    readonly sleep?: (ms: number) => Promise<void>;
    /** Time kept free after a rate-limit wait. Default {@link DEFAULT_SAFETY_MARGIN_MS}. */
    readonly safetyMarginMs?: number;
    /** A lease token per render; injected by tests. */
    readonly newToken?: () => string;
    /** [0, 1) for the jitter added to rate-limit waits; default Math.random. */
    readonly random?: () => number;
    /** Parses one record into a summary (the handler's parser; never throws). */
    readonly parse: (record: SNSEventRecord) => AlertSummary;
    /** Counts what the dashboard shows: a new message posted, an event shown by updating (not posting). Default none. */
    readonly metrics?: { posted(): void; heldBack(): void };
}

/** Delivers one SNS record in app mode; resolves when shown (or left to the invocation that renders it), rejects to have Lambda retry. */
export type SlackAppDelivery = (record: SNSEventRecord, deadline: number) => Promise<void>;

/** How long a note waits for its alert to reach this function before it stands alone. */
export const NOTE_WAITS_FOR_ALERT_MS = 15_000;

/** Renders of one alert in one invocation before it gives up (a storm that never settles). */
const MAX_RENDER_ROUNDS = 50;

type Sent = { readonly kind: "ok"; readonly ts?: string } | { readonly kind: "wait"; readonly waitMs: number } | { readonly kind: "gone" };

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** App mode's delivery of records; see the file comment. */
export function createSlackAppDelivery(deps: SlackAppDeps): SlackAppDelivery {
    const now = deps.now ?? Date.now;
    const sleep = deps.sleep ?? realSleep;
    const margin = deps.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
    const newToken = deps.newToken ?? randomUUID;
    const random = deps.random ?? Math.random;
    const { config, logger } = deps;

    /** Fails an event on an error that no retry here fixes, naming the fix. */
    function fail(error: unknown, what: string, attrs: Record<string, unknown>): never {
        const fix = slackErrorFix(error);
        logger.error(`Slack refused ${what}: ${describeSlackError(error)}; ${fix}`, { ...attrs, slackError: describeSlackError(error) });
        throw new SlackAppDeliveryError(`Slack refused ${what} (${describeSlackError(error)}): ${fix}`, { cause: error });
    }

    /** One call; content refusals are retried once as plain text, the rest become a {@link Sent} or a throw. */
    async function send(call: (payload: SlackWebhookPayload) => Promise<{ ts?: string }>, payload: SlackWebhookPayload, plain: () => SlackWebhookPayload, what: string, attrs: Record<string, unknown>): Promise<Sent> {
        let current = payload;
        for (let plainTried = false; ; plainTried = true) {
            try {
                const result = await call(current);
                return { kind: "ok", ts: typeof result.ts === "string" ? result.ts : undefined };
            } catch (error) {
                const decision = slackErrorDecision(error);
                if (decision === "wait-and-retry") return { kind: "wait", waitMs: rateLimitWaitMs(error) };
                if (decision === "repost") return { kind: "gone" };
                if (decision === "plain-text" && !plainTried) {
                    logger.warn(`Slack refused the formatted ${what} (${describeSlackError(error)}); sending it as plain text`, attrs);
                    current = plain();
                    continue;
                }
                fail(error, what, attrs);
            }
        }
    }

    /** Waits out a rate limit if it fits before the deadline; otherwise throws (Lambda retries). */
    async function waitOrThrow(waitMs: number, deadline: number, attrs: Record<string, unknown>): Promise<void> {
        const remaining = deadline - now();
        if (waitMs + margin > remaining) {
            logger.warn("Slack rate-limited the call and the wait does not fit this invocation; Lambda will retry the event", { ...attrs, retryAfterMs: waitMs, remainingMs: remaining });
            throw new SlackAppDeliveryError(`Slack rate-limited the call (Retry-After ${waitMs} ms) and ${remaining} ms are left (safety margin ${margin} ms); leaving the event for Lambda to retry`);
        }
        // Up to a second more at random: invocations told the same Retry-After would otherwise all come back at once.
        const jittered = waitMs + Math.floor(random() * Math.min(1000, Math.max(0, remaining - margin - waitMs)));
        logger.info("Slack rate-limited the call; waiting, then showing the latest state", { ...attrs, retryAfterMs: waitMs, waitMs: jittered });
        await sleep(jittered);
    }

    function ensureTime(deadline: number): void {
        if (deadline - now() <= margin) throw new SlackAppDeliveryError(`no time left in the invocation to call Slack (safety margin ${margin} ms); leaving the event for Lambda to retry`);
    }

    const post = (slack: SlackChat, threadTs?: string) => (payload: SlackWebhookPayload) =>
        slack.chat.postMessage({ channel: config.channelId, text: payload.text, ...(payload.blocks.length > 0 ? { blocks: payload.blocks } : {}), ...(payload.attachments ? { attachments: payload.attachments } : {}), ...(threadTs ? { thread_ts: threadTs } : {}) } as ChatPostMessageArguments);
    const update = (slack: SlackChat, ts: string) => (payload: SlackWebhookPayload) =>
        // Without blocks/attachments, chat.update keeps the old ones: send empty lists so a plain-text update replaces them.
        slack.chat.update({ channel: config.channelId, ts, text: payload.text, blocks: payload.blocks, attachments: payload.attachments ?? [] } as ChatUpdateArguments);

    /** A message on its own (no identity, or a note without its alert's message): posted, waiting out rate limits. */
    async function postAlone(payload: SlackWebhookPayload, threadTs: string | undefined, deadline: number, what: string, attrs: Record<string, unknown>): Promise<void> {
        const slack = await deps.client();
        let thread = threadTs;
        for (let round = 0; round < MAX_RENDER_ROUNDS; round++) {
            ensureTime(deadline);
            const sent = await send(post(slack, thread), payload, () => minimalSlackMessage(payload.text), what, attrs);
            if (sent.kind === "ok") {
                logger.info(`Posted ${what} to Slack`, { ...attrs, ts: sent.ts, threadTs: thread });
                return;
            }
            if (sent.kind === "gone") {
                // The thread's parent is gone: the note goes to the channel on its own.
                thread = undefined;
                continue;
            }
            await waitOrThrow(sent.waitMs, deadline, attrs);
        }
        throw new SlackAppDeliveryError(`gave up posting ${what} after ${MAX_RENDER_ROUNDS} rounds`);
    }

    /** Renders an alert while holding its lease, until every recorded version is shown. */
    async function renderHeld(first: ThreadItem, token: string, deadline: number, attrs: Record<string, unknown>): Promise<void> {
        const slack = await deps.client();
        let item = first;
        for (let round = 0; round < MAX_RENDER_ROUNDS; round++) {
            ensureTime(deadline);
            const summary: AlertSummary = item.summary ?? { source: "alertline", state: "UNKNOWN", title: "An alert whose stored state could not be read", fields: [] };
            const usable = messageUsable(item, config.channelId, now(), config.maxAgeSeconds);
            let posted: PostedMessage | undefined;
            let outcome: Sent;
            if (usable) {
                const count = shownCount(item);
                outcome = await send(update(slack, item.ts!), alertMessage(summary, count, item.lastEventAt, deps.environment), () => plainAlertMessage(summary, count), "the alert's update", attrs);
                if (outcome.kind === "gone") logger.warn("The alert's Slack message can no longer be updated (deleted?); posting it again", { ...attrs, ts: item.ts });
            } else {
                outcome = { kind: "gone" };
            }
            let count = shownCount(item);
            if (outcome.kind === "gone") {
                // A new root. Replacing a deleted message keeps its count; one that aged out (or is in
                // another channel) keeps the events it showed, and the new one counts from there.
                const baseCount = item.ts === undefined ? 0 : usable ? item.baseCount : item.baseCount + (item.renderedCount ?? 0);
                count = Math.max(1, item.count - baseCount);
                outcome = await send(post(slack), alertMessage(summary, count, item.lastEventAt, deps.environment), () => plainAlertMessage(summary, count), "the alert", attrs);
                if (outcome.kind === "ok") {
                    if (outcome.ts === undefined) throw new SlackAppDeliveryError("Slack accepted chat.postMessage but answered without a ts");
                    posted = { channel: config.channelId, ts: outcome.ts, postedAt: Math.floor(now() / 1000), baseCount };
                } else if (outcome.kind === "gone") {
                    throw new SlackAppDeliveryError("Slack answered a new post as if it updated a missing message");
                }
            }
            if (outcome.kind === "wait") {
                await waitOrThrow(outcome.waitMs, deadline, attrs);
                item = (await deps.threads.get(item.key)) ?? item;
                continue;
            }
            // Updated in place with a new state: say so in the thread (a recovery says "Recovered").
            if (posted !== undefined) deps.metrics?.posted();
            if (posted === undefined && item.renderedState !== undefined && item.renderedState !== summary.state) {
                await replyInThread(slack, item.ts!, stateChangeReply(summary, item.renderedState), deadline, attrs);
            }
            // Its problem never showed on a message (its first post waited its turn on Slack's rate, or
            // the last one aged out): posted green, its thread still says it recovered, once the new
            // message is stored (a retry must update it, not post another).
            const unseenProblem = posted !== undefined && summary.state === "OK" && item.renderedState !== "OK" ? item.lastProblemState : undefined;
            logger.info(posted ? "Posted the alert to Slack" : "Updated the alert's Slack message", { ...attrs, ts: posted?.ts ?? item.ts, version: item.version, state: summary.state, count });
            const marked = await deps.threads.markRendered(item.key, token, { version: item.version, state: summary.state, count: item.count - (posted?.baseCount ?? item.baseCount) }, posted);
            if (marked === undefined) {
                logger.warn("Another invocation took over rendering this alert (this one ran past its lease)", attrs);
                return;
            }
            if (unseenProblem !== undefined) await replyInThread(slack, posted!.ts, stateChangeReply(summary, unseenProblem), deadline, attrs);
            const released = await deps.threads.release(item.key, token);
            if (released.status !== "newer") return;
            item = released.item;
        }
        throw new SlackAppDeliveryError(`the alert kept changing for ${MAX_RENDER_ROUNDS} renders; leaving the rest for Lambda's retry`);
    }

    /** A reply in a message's thread, waiting out rate limits; a missing parent is logged, not fatal. */
    async function replyInThread(slack: SlackChat, ts: string, text: string, deadline: number, attrs: Record<string, unknown>): Promise<void> {
        for (let round = 0; round < MAX_RENDER_ROUNDS; round++) {
            ensureTime(deadline);
            // `text` is escaped mrkdwn already; a reply is one line, without blocks.
            const sent = await send(post(slack, ts), { text, blocks: [] }, () => ({ text: truncate(text, FALLBACK_TEXT_MAX), blocks: [] }), "the thread reply", attrs);
            if (sent.kind === "ok") return;
            if (sent.kind === "gone") {
                logger.warn("The alert's thread is gone; the state change is shown on the message only", { ...attrs, ts });
                return;
            }
            await waitOrThrow(sent.waitMs, deadline, attrs);
        }
        throw new SlackAppDeliveryError(`gave up replying in the thread after ${MAX_RENDER_ROUNDS} rounds`);
    }

    async function deliverAlert(summary: AlertSummary, identity: string, deadline: number, attrs: Record<string, unknown>): Promise<void> {
        const key = threadKey(identity);
        const logAttrs = { ...attrs, threadKey: key };
        const recorded = await deps.threads.record(key, summary, now(), attrs.snsMessageId as string | undefined);
        const token = newToken();
        const held = await deps.threads.acquire(key, token, now(), deadline);
        // Every event after the first of its message is a repeat kept out of the channel (shown as a count, not posted).
        if (recorded.version > 1) deps.metrics?.heldBack();
        if (held === undefined) {
            logger.info("Another invocation is showing this alert (or already showed this version); recorded only", { ...logAttrs, version: recorded.version });
            return;
        }
        try {
            await renderHeld(held, token, deadline, logAttrs);
        } catch (error) {
            // Let go so that Lambda's retry (or the next event) can render; the event is thrown back.
            await deps.threads.abandon(key, token).then(
                () => undefined,
                (releaseError: unknown) => logger.error("Could not let go of the alert's render lease; it ends at this invocation's deadline", { ...logAttrs, error: String(releaseError) }),
            );
            throw error;
        }
    }

    /**
     * The alert's item once its message exists. SNS keeps no order between the alert's summary and
     * the notes about it (tower-dispatch can note a tower lit by a mail before the mail's summary
     * reaches this function), and in a storm an alert's first post waits its turn on Slack's rate:
     * so a note waits, up to {@link NOTE_WAITS_FOR_ALERT_MS} for the alert to be recorded and then
     * for its message, to land in the thread and not beside it. An alert recorded whose message
     * cannot come within this invocation sends the note back for Lambda's retry; an alert never
     * recorded lets the note stand alone.
     */
    async function itemWithMessage(key: string, deadline: number, attrs: Record<string, unknown>): Promise<ThreadItem | undefined> {
        const started = now();
        let item = await deps.threads.get(key);
        for (let waitMs = 250; item === undefined ? now() - started < NOTE_WAITS_FOR_ALERT_MS : item.ts === undefined; waitMs = Math.min(2000, waitMs * 2)) {
            if (deadline - now() <= margin + waitMs) {
                if (item === undefined) return undefined;
                logger.warn("The note's alert has no Slack message yet and this invocation cannot wait for it; Lambda will retry the note", { ...attrs, threadKey: key });
                throw new SlackAppDeliveryError("the note's alert has no Slack message yet (its first post waits on Slack's rate); leaving the note for Lambda to retry");
            }
            await sleep(waitMs);
            item = await deps.threads.get(key);
        }
        return item;
    }

    async function deliverNote(note: ThreadNote, deadline: number, attrs: Record<string, unknown>): Promise<void> {
        const key = threadKey(noteIdentity(note));
        const item = await itemWithMessage(key, deadline, attrs);
        const text = escapeMrkdwn(note.text);
        if (item !== undefined && messageUsable(item, config.channelId, now(), config.maxAgeSeconds)) {
            await postAlone({ text, blocks: [] }, item.ts, deadline, "the note", { ...attrs, threadKey: key });
            return;
        }
        // No message of that alert (no event of it reached Slack's table, or its message aged out): the note stands alone, small.
        const root = `:speech_balloon: ${text}`;
        await postAlone({ text: root, blocks: [] }, undefined, deadline, "the note", { ...attrs, threadKey: key, alertKey: note.alertKey });
    }

    return async (record, deadline) => {
        const snsMessageId = typeof record?.Sns?.MessageId === "string" ? record.Sns.MessageId : undefined;
        const attrs = { snsMessageId };
        const note = noteOf(record);
        if (note !== undefined) return deliverNote(note, deadline, attrs);
        const summary = deps.parse(record);
        const identity = alertIdentity(summary);
        if (identity === undefined) {
            await postAlone(alertMessage(summary, 1, now(), deps.environment), undefined, deadline, "the alert", attrs);
            return;
        }
        await deliverAlert(summary, identity, deadline, attrs);
    };
}

/** The thread note in a record, if it carries one. */
function noteOf(record: SNSEventRecord): ThreadNote | undefined {
    const message: unknown = record?.Sns?.Message;
    if (typeof message !== "string") return undefined;
    try {
        return readThreadNote(JSON.parse(message));
    } catch {
        return undefined;
    }
}

// ---- Wiring from the environment ----------------------------------------------------------------

export interface SlackAppFromEnvOptions {
    readonly logger: SlackLogger;
    readonly environment?: string;
    /** Clients are built on first use, once per container. */
    readonly kms: () => Pick<KMSClient, "send">;
    readonly documentClient: () => DynamoDBDocumentClient;
    /** Posts and held-back repeats for the dashboard (the handler's slackMetrics). */
    readonly metrics?: { posted(): void; heldBack(): void };
    readonly parse: (record: SNSEventRecord) => AlertSummary;
    /** Clock and sleep, for tests and `npm start`; default the real ones. */
    readonly now?: () => number;
    readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * App mode's delivery from the environment: undefined in webhook mode (SLACK_MODE unset or
 * `webhook`). In app mode a function that builds the delivery on first use (and keeps it); a bad
 * setting makes it throw with the fix, so every event fails into Lambda's retries and the
 * dead-letter queue instead of going silently to a webhook that was not meant.
 */
export function slackAppFromEnv(env: NodeJS.ProcessEnv, options: SlackAppFromEnvOptions): (() => SlackAppDelivery) | undefined {
    let mode: SlackMode;
    try {
        mode = slackModeFromEnv(env);
    } catch (error) {
        return () => {
            throw error;
        };
    }
    if (mode !== "app") return undefined;
    return once(() => {
        const config = slackAppConfigFromEnv(env);
        const token = createBotTokenSource(options.kms(), env);
        let client: Promise<SlackChat> | undefined;
        return createSlackAppDelivery({
            config,
            client: () =>
                (client ??= token().then(
                    (t) => createSlackWebClient(t, config.apiUrl),
                    (error: unknown) => {
                        client = undefined;
                        throw error;
                    },
                )),
            // Items outlive their last event by the message's maximum age (and an hour): after that a new root is posted anyway.
            threads: createAlertThreads(options.documentClient(), config.table, config.maxAgeSeconds + 3600),
            logger: options.logger,
            environment: options.environment,
            parse: options.parse,
            metrics: options.metrics,
            now: options.now,
            sleep: options.sleep,
        });
    });
}
