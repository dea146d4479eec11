/**
 * What Opsgenie's REST API (opsgenie-api.ts) and JSM's ops REST API (jsm-api.ts) share as the
 * providers use them: how errors name a request and read a 2xx body, the retry policy, and a heartbeat's alert fields (JSM's heartbeats open the
 * same kind of alert Opsgenie's do, with the same limits).
 *
 * Nothing here does I/O, and nothing here may capture module state beyond constants: the dynamic
 * providers in opsgenie.ts and jsm.ts capture this module by value when Pulumi serialises them.
 */

import { redact, type Secrets } from "../../../functions/shared/oncall-http";

/** An API request as error texts name it. */
export interface LabelledRequest {
    readonly method: string;
    /** Path without query; also how errors name the operation. */
    readonly path: string;
}

/** How an error message names the operation: `POST /v2/teams`. */
export function requestLabel(request: LabelledRequest): string {
    return `${request.method} ${request.path}`;
}

/**
 * A 2xx answer's body as a JSON object (an empty body is `{}`), or an error naming the operation,
 * started by `product` ("Opsgenie", "JSM"), with the secrets removed from the body it quotes.
 */
export function jsonObjectBody(product: string, request: LabelledRequest, answer: { readonly status: number; readonly bodyText: string }, secrets: Secrets): Record<string, unknown> {
    if (answer.bodyText.trim() === "") return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(answer.bodyText);
    } catch {
        throw new Error(redact(`${product} ${requestLabel(request)} answered ${answer.status} with a body that is not JSON: ${answer.bodyText.slice(0, 200)}`, secrets));
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new Error(`${product} ${requestLabel(request)} answered ${answer.status} with JSON that is not an object.`);
    }
    return parsed as Record<string, unknown>;
}

/**
 * 429 and 5xx other than 501 may pass. The same rule as opsgenie-go-sdk-v2, and as
 * go-retryablehttp's default policy, which the Atlassian provider retries with.
 */
export function isRetryableStatus(status: number): boolean {
    return status === 429 || (status >= 500 && status !== 501);
}

/** Tries per request before giving up on 429/5xx/unreachable (the Opsgenie Go SDK retries 4 times). */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Wait before try `attempt + 1`: the server's Retry-After seconds if given (capped at 30 s), else 1 s, 2 s, 4 s, 8 s… capped at 16 s. */
export function retryDelayMs(attempt: number, retryAfter?: string | null): number {
    if (retryAfter !== undefined && retryAfter !== null && /^\s*\d+\s*$/.test(retryAfter)) {
        return Math.min(Number(retryAfter) * 1000, 30_000);
    }
    return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 16_000);
}

export type HeartbeatIntervalUnit = "minutes" | "hours" | "days";
export type AlertPriority = "P1" | "P2" | "P3" | "P4" | "P5";

const INTERVAL_UNITS: readonly string[] = ["minutes", "hours", "days"];
const ALERT_PRIORITIES: readonly string[] = ["P1", "P2", "P3", "P4", "P5"];

/** The priority alertline sends when none is given (Opsgenie's and JSM's alert default). */
export const DEFAULT_ALERT_PRIORITY: AlertPriority = "P3";

/**
 * The expiry message alertline sends when none is given: Opsgenie's default (opsgenie-oas
 * CreateHeartbeatPayload.alertMessage: "HeartbeatName is expired"). Unconfirmed for JSM: its docs'
 * example reads the same.
 */
export function defaultHeartbeatAlertMessage(name: string): string {
    return `${name} is expired`;
}

/** Longest alert tag (Opsgenie's alert fields: 20 tags of at most 50 characters; opsgenie-oas CreateHeartbeatPayload.alertTags). */
export const MAX_TAG_CHARS = 50;

/** A heartbeat's fields other than its name and owner, with alertline's defaults applied. */
export interface HeartbeatAlertFields {
    readonly description: string;
    readonly interval: number;
    readonly intervalUnit: HeartbeatIntervalUnit;
    readonly enabled: boolean;
    readonly alertMessage: string;
    readonly alertTags: readonly string[];
    readonly alertPriority: AlertPriority;
}

/** A heartbeat's resolved inputs other than its name and owner, not yet checked. */
export interface HeartbeatAlertInput {
    readonly description?: unknown;
    readonly interval?: unknown;
    readonly intervalUnit?: unknown;
    readonly enabled?: unknown;
    readonly alertMessage?: unknown;
    readonly alertTags?: unknown;
    readonly alertPriority?: unknown;
}

/**
 * Validates a heartbeat's resolved inputs other than its name and owner, and applies defaults
 * (description "", enabled true, no tags, priority P3, message "<name> is expired"). Limits are an
 * alert's (opsgenie-oas CreateHeartbeatPayload and the official provider): description 10000,
 * alert message 130, 20 tags of at most 50. `product` starts each error ("Opsgenie", "JSM").
 */
export function heartbeatAlertFields(product: string, name: string, input: HeartbeatAlertInput): HeartbeatAlertFields {
    const { description, interval, intervalUnit, enabled, alertMessage, alertTags, alertPriority } = input;
    if (description !== undefined && (typeof description !== "string" || description.length > 10_000)) {
        throw new Error(`${product} heartbeat description must be text of at most 10000 characters; got ${typeof description === "string" ? `${description.length} characters` : typeof description}.`);
    }
    if (typeof interval !== "number" || !Number.isInteger(interval) || interval < 1) {
        const shown = typeof interval === "string" ? `${JSON.stringify(interval)} (text)` : String(interval);
        throw new Error(`${product} heartbeat interval ${shown} is invalid: use a whole number of 1 or more, counted in intervalUnit.`);
    }
    if (typeof intervalUnit !== "string" || !INTERVAL_UNITS.includes(intervalUnit)) {
        throw new Error(`${product} heartbeat intervalUnit "${String(intervalUnit)}" is invalid: use "minutes", "hours" or "days".`);
    }
    if (enabled !== undefined && typeof enabled !== "boolean") {
        throw new Error(`${product} heartbeat enabled must be true or false; got ${typeof enabled}.`);
    }
    if (alertMessage !== undefined && (typeof alertMessage !== "string" || alertMessage.trim() === "" || alertMessage.length > 130)) {
        throw new Error(`${product} heartbeat alertMessage must be 1 to 130 characters (an alert message's limit); got ${typeof alertMessage === "string" ? `${alertMessage.length} characters` : typeof alertMessage}.`);
    }
    if (alertTags !== undefined && (!Array.isArray(alertTags) || alertTags.some((t) => typeof t !== "string" || t.trim() === ""))) {
        throw new Error(`${product} heartbeat alertTags must be a list of non-empty texts.`);
    }
    if (Array.isArray(alertTags) && alertTags.length > 20) {
        throw new Error(`${product} heartbeat alertTags has ${alertTags.length} tags: an alert takes at most 20.`);
    }
    const longTag = Array.isArray(alertTags) ? (alertTags as string[]).find((t) => t.length > MAX_TAG_CHARS) : undefined;
    if (longTag !== undefined) {
        throw new Error(`${product} heartbeat alertTags has a tag of ${longTag.length} characters ("${longTag.slice(0, 20)}…"): an alert tag takes at most ${MAX_TAG_CHARS}.`);
    }
    if (alertPriority !== undefined && (typeof alertPriority !== "string" || !ALERT_PRIORITIES.includes(alertPriority))) {
        throw new Error(`${product} heartbeat alertPriority "${String(alertPriority)}" is invalid: use "P1" (highest) to "P5" (lowest).`);
    }
    return {
        description: (description as string | undefined) ?? "",
        interval,
        intervalUnit: intervalUnit as HeartbeatIntervalUnit,
        enabled: (enabled as boolean | undefined) ?? true,
        alertMessage: (alertMessage as string | undefined) ?? defaultHeartbeatAlertMessage(name),
        alertTags: (alertTags as string[] | undefined) ?? [],
        alertPriority: (alertPriority as AlertPriority | undefined) ?? DEFAULT_ALERT_PRIORITY,
    };
}

/**
 * Two lists compared as sets (alert tags, a Webhook's forwarded actions): order and repeats do not
 * count, and none is the empty list. Anything but a list (the engine's unknown marker at preview)
 * differs from every list.
 */
export function sameSet(a: unknown, b: unknown): boolean {
    const canonical = (items: unknown) =>
        items === undefined ? "[]" : Array.isArray(items) ? JSON.stringify([...new Set(items.map(String))].sort()) : `not a list: ${String(items)}`;
    return canonical(a) === canonical(b);
}
