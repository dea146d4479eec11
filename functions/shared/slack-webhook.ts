import type { SlackWebhookPayload } from "./slack-message";

/**
 * Posts one message to a Slack incoming webhook and says what happened, in the terms a Lambda
 * needs: delivered, dropped (Slack will never accept it, so retrying is pointless), or thrown
 * (worth retrying later: Lambda's asynchronous retries, then the dead-letter queue).
 *
 * The webhook URL is a credential: anyone holding it can post to the channel. It never appears
 * in a log line or an error message here, only {@link redactWebhookUrl}'s form of it.
 */

/** The few logger methods used; Powertools' `Logger` fits, and tests pass a recording one. */
export interface SlackLogger {
    info(message: string, ...attributes: Record<string, unknown>[]): void;
    warn(message: string, ...attributes: Record<string, unknown>[]): void;
    error(message: string, ...attributes: Record<string, unknown>[]): void;
}

export interface PostToSlackOptions {
    /** Epoch milliseconds by which the invocation must be finished (now + remaining time). */
    readonly deadline: number;
    readonly logger: SlackLogger;
    /** Clock in epoch milliseconds; injected so tests control time. Default `Date.now`. */
    readonly now?: () => number;
    /** Waits the given milliseconds; injected so tests do not sleep. Default a `setTimeout` promise. */
    readonly sleep?: (ms: number) => Promise<void>;
    /** Time kept free after a rate-limit wait for the retried request and the handler's exit. Default {@link DEFAULT_SAFETY_MARGIN_MS}. */
    readonly safetyMarginMs?: number;
    /** Upper bound for one HTTP request. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
    readonly requestTimeoutMs?: number;
    /** Upper bound on attempts when Slack keeps answering 429. Default {@link DEFAULT_MAX_ATTEMPTS}. */
    readonly maxAttempts?: number;
    /** Added to every log line (e.g. the SNS message id). */
    readonly logAttributes?: Record<string, unknown>;
    /** Default the global `fetch`. */
    readonly fetch?: typeof fetch;
}

export const DEFAULT_SAFETY_MARGIN_MS = 2000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_ATTEMPTS = 5;
/** Used when a 429 carries no usable Retry-After; Slack allows about one message per second. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

/** What happened to a message that did not throw. */
export type SlackPostOutcome =
    | { readonly kind: "delivered"; readonly attempts: number }
    | {
          readonly kind: "dropped";
          /** HTTP status Slack answered with. */
          readonly status: number;
          /** Slack's error body, e.g. "channel_not_found" (clipped). */
          readonly slackError: string;
          /** One sentence saying why it was dropped and what to do. */
          readonly reason: string;
          readonly attempts: number;
      };

/** Why a delivery failed in a way that a later retry may fix. */
export type SlackRetryableFailure = "server-error" | "rate-limited" | "network";

/** Thrown for failures worth retrying later; the handler rethrows it so Lambda retries the event. */
export class SlackDeliveryError extends Error {
    constructor(
        message: string,
        readonly failure: SlackRetryableFailure,
        readonly status?: number,
    ) {
        super(message);
        this.name = "SlackDeliveryError";
    }
}

/**
 * A loggable form of a webhook URL: scheme, host and the first path segment only
 * (`https://hooks.slack.com/services/[redacted]`); the rest is the secret.
 */
export function redactWebhookUrl(url: string): string {
    try {
        const parsed = new URL(url);
        const first = parsed.pathname.split("/").filter(Boolean)[0];
        return `${parsed.protocol}//${parsed.host}/${first ? `${first}/` : ""}[redacted]`;
    } catch {
        return "[redacted webhook URL]";
    }
}

/**
 * Milliseconds to wait from a Retry-After header: delta-seconds (what Slack sends) or an HTTP date
 * (allowed by RFC 9110). Missing or unreadable values mean {@link DEFAULT_RETRY_AFTER_MS}.
 */
export function retryAfterMs(header: string | null, nowMs: number): number {
    if (header === null || header.trim() === "") return DEFAULT_RETRY_AFTER_MS;
    const value = header.trim();
    if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
    return DEFAULT_RETRY_AFTER_MS;
}

/** What to tell a person about a 4xx that will never succeed, keyed by Slack's error body. */
const DROP_HINTS: Record<string, string> = {
    invalid_payload: "Slack could not read the message: this is a formatting bug in alertline, please report it with the SNS message id",
    invalid_blocks: "Slack refused the message's blocks: this is a formatting bug in alertline, please report it with the SNS message id",
    action_prohibited: "a workspace admin restricted this webhook; ask them to allow it or create a new one",
    channel_not_found: "the webhook's channel no longer exists; create a new incoming webhook and update the stack's Slack webhook secret",
    channel_is_archived: "the webhook's channel is archived; unarchive it or create a new webhook and update the stack's Slack webhook secret",
    no_service: "the webhook was removed or disabled; create a new one and update the stack's Slack webhook secret",
    invalid_token: "the webhook URL is not valid (anymore); create a new one and update the stack's Slack webhook secret",
};

function dropReason(status: number, slackError: string): string {
    return (Object.hasOwn(DROP_HINTS, slackError) ? DROP_HINTS[slackError] : undefined) ?? `Slack answered ${status}, which retrying cannot fix; check the webhook in Slack's app settings`;
}

/** Keeps a response body loggable: one line, short, and without the secret should a proxy echo it. */
function clipBody(body: string, url: string): string {
    return body.split(url).join(redactWebhookUrl(url)).replace(/\s+/g, " ").trim().slice(0, 200) || "(empty body)";
}

function describeNetworkError(error: unknown, url: string): string {
    const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    const detail = err?.cause?.code ?? err?.cause?.message ?? err?.name ?? "unknown error";
    const message = `${err?.message ?? String(error)} (${detail})`;
    // fetch puts the URL into some messages ("Failed to parse URL from …").
    return message.split(url).join(redactWebhookUrl(url));
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POSTs `payload` to the webhook. Returns `delivered` on 2xx and `dropped` on a 4xx other than 429
 * (after logging one line naming the status and Slack's error). Waits out a 429's Retry-After and
 * tries again while the wait still fits before `deadline` less the safety margin; otherwise, and on
 * 5xx or network failure, throws {@link SlackDeliveryError}.
 */
export async function postToSlack(url: string, payload: SlackWebhookPayload, options: PostToSlackOptions): Promise<SlackPostOutcome> {
    const now = options.now ?? Date.now;
    const sleep = options.sleep ?? realSleep;
    const doFetch = options.fetch ?? fetch;
    const safetyMarginMs = options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
    const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const { logger } = options;
    const webhook = redactWebhookUrl(url);
    const attrs = (extra: Record<string, unknown>): Record<string, unknown> => ({ ...options.logAttributes, webhook, ...extra });
    const body = JSON.stringify(payload);

    for (let attempt = 1; ; attempt++) {
        // Never let a request outlive the invocation: Lambda would freeze it mid-flight.
        const timeoutMs = Math.max(1, Math.min(requestTimeoutMs, options.deadline - now()));
        let response: Response;
        try {
            response = await doFetch(url, {
                method: "POST",
                headers: { "content-type": "application/json; charset=utf-8" },
                body,
                redirect: "manual",
                signal: AbortSignal.timeout(timeoutMs),
            });
        } catch (error) {
            throw new SlackDeliveryError(`Could not reach Slack at ${webhook}: ${describeNetworkError(error, url)}`, "network");
        }
        const responseText = clipBody(await response.text().catch(() => ""), url);

        if (response.status >= 200 && response.status < 300) {
            if (responseText !== "ok") logger.warn("Slack accepted the message with an unexpected body", attrs({ status: response.status, slackResponse: responseText }));
            return { kind: "delivered", attempts: attempt };
        }
        if (response.status === 429) {
            const waitMs = retryAfterMs(response.headers.get("retry-after"), now());
            const remainingMs = options.deadline - now();
            if (attempt >= maxAttempts) {
                throw new SlackDeliveryError(`Slack rate-limited ${attempt} attempts in a row (429 ${responseText}); leaving the event for Lambda to retry later`, "rate-limited", 429);
            }
            if (waitMs + safetyMarginMs > remainingMs) {
                throw new SlackDeliveryError(
                    `Slack rate-limited the message (429, Retry-After ${waitMs} ms) and the wait does not fit the ${remainingMs} ms left (safety margin ${safetyMarginMs} ms); leaving the event for Lambda to retry later`,
                    "rate-limited",
                    429,
                );
            }
            logger.warn("Slack rate-limited the message; waiting before retrying", attrs({ status: 429, retryAfterMs: waitMs, attempt }));
            await sleep(waitMs);
            continue;
        }
        if (response.status >= 500) {
            throw new SlackDeliveryError(`Slack failed with ${response.status} ${responseText}; leaving the event for Lambda to retry later`, "server-error", response.status);
        }
        const reason = dropReason(response.status, responseText);
        logger.error(`Slack rejected the message with ${response.status} ${responseText}; dropping it: ${reason}`, attrs({ status: response.status, slackError: responseText }));
        return { kind: "dropped", status: response.status, slackError: responseText, reason, attempts: attempt };
    }
}
