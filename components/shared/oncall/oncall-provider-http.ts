import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_MAX_ATTEMPTS, isRetryableStatus, retryDelayMs } from "./oncall-api-common";

/**
 * The transport the Opsgenie (opsgenie.ts) and JSM (jsm.ts) dynamic providers share: one request
 * with retries on 429, 5xx and network failures, then the API module's reading of the answer.
 * What differs between the two APIs (URL, auth, redirects, error texts) comes in the
 * {@link ProviderRequest} each builds from its pure `api` module.
 *
 * Pulumi serialises the providers at registration and runs them elsewhere, capturing this module
 * by value: it uses only the global `fetch`, oncall-api-common.ts and the functions in this file.
 */

/** Test seams for the provider objects; the defaults wait for real. */
export interface ProviderRetryOptions {
    /** Waits between retries. Default: a timer. */
    readonly sleep?: (ms: number) => Promise<void>;
    /** Tries per request before giving up on 429/5xx/unreachable. Default 5. */
    readonly maxAttempts?: number;
}

/** What came back from one HTTP exchange, as the retry and parsing logic needs it. */
export interface HttpAnswer {
    readonly status: number;
    readonly bodyText: string;
    /** The `Retry-After` header, if any. */
    readonly retryAfter?: string | null;
}

/** The answer that ended the retries, and how many tries it took. */
export interface SentAnswer extends HttpAnswer {
    readonly attempts: number;
}

/** One API request as the transport sends it, with the API's own reading of the outcome. */
export interface ProviderRequest {
    readonly url: string;
    readonly method: string;
    readonly headers: Record<string, string>;
    /** The JSON body, already serialised. */
    readonly body?: string;
    /** "manual" where a redirect would carry a credential elsewhere; default fetch's own (follow). */
    readonly redirect?: "manual";
    /** The error text (secrets removed) when no answer came in `attempts` tries. */
    unreachable(reason: string, attempts: number): string;
    /** The parsed body of a 2xx answer; anything else throws an error naming the operation (secrets removed). */
    successBody(answer: HttpAnswer, attempts: number): Record<string, unknown>;
}

function waitFor(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One request with retries on 429, 5xx and network failures; any HTTP answer after that is returned. */
export async function send(request: ProviderRequest, options: ProviderRetryOptions): Promise<SentAnswer> {
    const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    const sleep = options.sleep ?? waitFor;
    for (let attempt = 1; ; attempt++) {
        let answer: HttpAnswer;
        try {
            const response = await fetch(request.url, {
                method: request.method,
                headers: request.headers,
                body: request.body,
                ...(request.redirect === undefined ? {} : { redirect: request.redirect }),
                signal: AbortSignal.timeout(30_000),
            });
            answer = { status: response.status, bodyText: await response.text(), retryAfter: response.headers.get("retry-after") };
        } catch (error) {
            if (attempt < maxAttempts) {
                await sleep(retryDelayMs(attempt));
                continue;
            }
            const cause = (error as { cause?: { code?: string; message?: string } }).cause;
            const reason = cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
            throw new Error(request.unreachable(reason, attempt));
        }
        if (isRetryableStatus(answer.status) && attempt < maxAttempts) {
            await sleep(retryDelayMs(attempt, answer.retryAfter));
            continue;
        }
        return { ...answer, attempts: attempt };
    }
}

/** Sends and returns the parsed body of a 2xx answer; anything else becomes an error naming the operation. */
export async function call(request: ProviderRequest, options: ProviderRetryOptions): Promise<Record<string, unknown>> {
    const answer = await send(request, options);
    return request.successBody(answer, answer.attempts);
}

/** Like `call`, but a 404 means the entity is gone and yields undefined. */
export async function callUnlessGone(request: ProviderRequest, options: ProviderRetryOptions): Promise<Record<string, unknown> | undefined> {
    const answer = await send(request, options);
    if (answer.status === 404) return undefined;
    return request.successBody(answer, answer.attempts);
}

/** The engine sends this string for values not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Whether a value is known when the resource is declared: no Output or Promise anywhere in it. */
export function isKnown(value: unknown): boolean {
    if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
    if (Array.isArray(value)) return value.every(isKnown);
    if (typeof value === "object" && value !== null) return Object.values(value).every(isKnown);
    return true;
}

/** A dynamic resource's options with `outputs` (the connection, issued keys) added to its secret outputs. */
export function withSecretOutputs(opts: pulumi.CustomResourceOptions | undefined, ...outputs: string[]): pulumi.CustomResourceOptions {
    return { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...outputs] };
}
