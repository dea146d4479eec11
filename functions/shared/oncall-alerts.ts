import { DEFAULT_MAX_KEY_LENGTH, storedKey } from "./alert-key";
import { truncateChars } from "./truncate";
import { jsmBasicAuthorization, jsmCredentialSecrets, jsmErrorText, jsmOpsApiUrl, redact } from "./oncall-http";

/**
 * alertline's own alerts to on-call: Opsgenie's Alert API v2, or Jira Service Management's
 * integration API, which takes the same paths and bodies (facts.md "Opsgenie and its successor").
 *
 * The client makes one request per call and never retries: the caller is a Lambda whose retry of the
 * event is the retry. It never throws either; every outcome is an {@link OnCallResult} that says
 * whether trying again later can help. The API key is a credential: it is sent only in the
 * Authorization header and removed from every problem text, even when a response echoes it.
 */

export type OnCallBackend = "opsgenie" | "jsm";

const OPSGENIE_API_URLS = { us: "https://api.opsgenie.com", eu: "https://api.eu.opsgenie.com" } as const;
// Unconfirmed: whether JSM has a regional (EU) integration endpoint; the one documented URL serves both.
const JSM_API_URL = "https://api.atlassian.com/jsm/ops/integration";

/** Base URL of the on-call API (no trailing slash); the client appends `/v2/...`. Region defaults to us. */
export function onCallApiUrl(backend: OnCallBackend, region: "us" | "eu" = "us"): string {
    if (backend === "jsm") return JSM_API_URL;
    return OPSGENIE_API_URLS[region];
}

export interface OnCallAlert {
    readonly message: string;
    readonly alias: string;
    readonly description?: string;
    readonly priority: "P1" | "P2" | "P3" | "P4" | "P5";
    readonly tags?: readonly string[];
    readonly details?: Readonly<Record<string, string>>;
    readonly source?: string;
    readonly entity?: string;
}

export type OnCallResult = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly status?: number; readonly retryable: boolean; readonly problem: string };

export interface OnCallClient {
    createAlert(alert: OnCallAlert): Promise<OnCallResult>;
    closeAlert(alias: string, note?: string): Promise<OnCallResult>;
    pingHeartbeat(name: string): Promise<OnCallResult>;
}

/** Environment variable holding the base URL (see {@link onCallApiUrl}). */
export const ONCALL_API_URL_ENV = "ONCALL_API_URL";
/** Environment variable holding the API integration key as KMS ciphertext (see kms-env-secret.ts). */
export const ONCALL_API_KEY_ENV = "ONCALL_API_KEY_CIPHERTEXT";

/**
 * In the migration window (`alertline:oncall.backend: [opsgenie, jsm]`): the second backend's base URL
 * and key ciphertext. mail-ingest pages both, closes in both and pings both heartbeats.
 */
export const ONCALL_ALSO_API_URL_ENV = "ONCALL_ALSO_API_URL";
export const ONCALL_ALSO_API_KEY_ENV = "ONCALL_ALSO_API_KEY_CIPHERTEXT";

/** Which backend an alert API base URL belongs to: JSM's integration API, else Opsgenie's. Pure. */
export function onCallBackendOf(apiUrl: string): OnCallBackend {
    let path: string;
    try {
        path = new URL(apiUrl).pathname;
    } catch {
        return "opsgenie";
    }
    return /\/jsm\/ops\/integration\/?$/.test(path) ? "jsm" : "opsgenie";
}

/** One backend's client, named for reports and logs. */
export interface OnCallTarget {
    readonly backend: OnCallBackend;
    readonly client: OnCallClient;
}

/** Opsgenie's field limits (facts.md); JSM takes the same body. */
export const ONCALL_LIMITS = {
    message: 130,
    alias: 512,
    description: 15_000,
    source: 100,
    entity: 512,
    tags: 20,
    tagChars: 50,
    /** All keys and values of `details` together. */
    detailsChars: 8000,
    /**
     * A close note: alertline's own cap (ours only names the mail), far under the 25000 characters a
     * published Alert API schema gives for `note`. Unconfirmed: that 25000 is Opsgenie's own limit.
     */
    note: 1000,
} as const;

/** Default upper bound on one request; the mail-ingest Lambda has a minute or more per mail. */
export const DEFAULT_ONCALL_TIMEOUT_MS = 10_000;

/** Source sent with a close, so the alert's log says who closed it. */
const CLOSE_SOURCE = "alertline";

/**
 * The on-call alias for an alert key: the key tower-dispatch stores (see alert-key.ts). An
 * acknowledgement that sends the alias back as alertKey therefore reaches the same tower alert,
 * because storing a stored key again changes nothing.
 */
export function onCallAlias(alertKey: string): string {
    return storedKey(alertKey, DEFAULT_MAX_KEY_LENGTH);
}

function clipText(text: string, max: number): string {
    // Never leaves half a surrogate pair: JSON would carry it, on-call would garble it.
    return truncateChars(text, Math.max(1, max), "…");
}

/**
 * The alert within Opsgenie's limits: long texts are cut (ending in "…"), tags beyond 20 and empty
 * or repeated tags are dropped, each tag is cut to 50 characters, and details are cut so that all
 * keys and values together stay within 8000 characters (later entries give way first). Length never
 * makes an alert fail: a page that arrives cut is better than none (an empty message becomes
 * "(no message)" for the same reason). Pure.
 */
export function clipOnCallAlert(alert: OnCallAlert): OnCallAlert {
    const tags: string[] = [];
    for (const tag of alert.tags ?? []) {
        const clipped = clipText(tag.trim(), ONCALL_LIMITS.tagChars);
        if (clipped !== "" && !tags.includes(clipped) && tags.length < ONCALL_LIMITS.tags) tags.push(clipped);
    }
    let details: Record<string, string> | undefined;
    if (alert.details !== undefined) {
        // No prototype: a detail named `__proto__` stays a detail.
        details = Object.create(null) as Record<string, string>;
        let budget = ONCALL_LIMITS.detailsChars;
        for (const [key, value] of Object.entries(alert.details)) {
            // A key must stay whole (it names the field) and leave room for at least "…" as its value.
            if (key.length + 1 > budget) break;
            const clipped = clipText(String(value), budget - key.length);
            details[key] = clipped;
            budget -= key.length + clipped.length;
        }
    }
    const optional = (text: string | undefined, max: number): string | undefined => (text === undefined ? undefined : clipText(text, max));
    return {
        // Opsgenie requires a message; an empty one would be refused rather than cut.
        message: clipText(alert.message.trim() === "" ? "(no message)" : alert.message, ONCALL_LIMITS.message),
        alias: clipText(alert.alias, ONCALL_LIMITS.alias),
        priority: alert.priority,
        ...(alert.description !== undefined ? { description: optional(alert.description, ONCALL_LIMITS.description) } : {}),
        ...(alert.tags !== undefined ? { tags } : {}),
        ...(details !== undefined ? { details } : {}),
        ...(alert.source !== undefined ? { source: optional(alert.source, ONCALL_LIMITS.source) } : {}),
        ...(alert.entity !== undefined ? { entity: optional(alert.entity, ONCALL_LIMITS.entity) } : {}),
    };
}

/** A path segment; a lone surrogate (which encodeURIComponent refuses) becomes U+FFFD first. */
function pathSegment(text: string): string {
    return encodeURIComponent(text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"));
}

/** Replaces every occurrence of the key (and a GenieKey header value) with "[redacted]". */
export function redactKey(text: string, key: string): string {
    const withoutKey = key.length > 0 ? text.split(key).join("[redacted]") : text;
    return withoutKey.replace(/GenieKey\s+[^\s"',;]+/gi, "GenieKey [redacted]");
}

/** Opsgenie's error body, `{message, errors: {field: text}, took, requestId}`, as one short line. */
function errorMessageOf(body: string): string {
    let message = "";
    try {
        const parsed = JSON.parse(body) as { message?: unknown; errors?: unknown };
        if (typeof parsed?.message === "string") message = parsed.message;
        if (parsed?.errors !== null && typeof parsed?.errors === "object") {
            const fields = Object.entries(parsed.errors as Record<string, unknown>).map(([field, text]) => `${field}: ${String(text)}`);
            if (fields.length > 0) message = `${message}${message === "" ? "" : " "}(${fields.join("; ")})`;
        }
    } catch {
        message = body;
    }
    const line = message.replace(/\s+/g, " ").trim();
    return line === "" ? "(no error message)" : clipText(line, 300);
}

type Action = "create the alert" | "close the alert" | "ping the heartbeat";

/** What to do about a refusal that retrying cannot fix, by status and action. */
function fixFor(status: number, action: Action, target: string): string {
    if (status === 401 || status === 403) {
        return `the on-call API key is wrong or lacks access: put the key of an API integration (with create-and-update access, in the account and region ${ONCALL_API_URL_ENV} points at) into ${ONCALL_API_KEY_ENV} as KMS ciphertext`;
    }
    // Opsgenie answers a ping without checking that the heartbeat exists (its Lamp docs,
    // https://docs.opsgenie.com/docs/lamp-heartbeat-commands), so a misspelt name goes unnoticed there
    // until the real heartbeat expires; this hint is for a backend that does check (Unconfirmed: JSM).
    if (status === 404 && action === "ping the heartbeat") {
        return `there is no heartbeat named "${target}" for this key: create it in on-call (or fix heartbeatName in ingest.json)`;
    }
    if (status === 404) return `the on-call API has no such path: check that ${ONCALL_API_URL_ENV} is the API base URL (e.g. https://api.opsgenie.com), not the web app's`;
    if (status === 400 || status === 422) return "on-call could not process the request: this is a bug in alertline's request, please report it with this text";
    if (status >= 300 && status < 400) return `the on-call API URL redirects: set ${ONCALL_API_URL_ENV} to the API base URL itself`;
    return "retrying cannot fix this; check the on-call integration";
}

export interface OnCallClientOptions {
    /** Base URL, e.g. {@link onCallApiUrl}("opsgenie", "eu"). */
    readonly apiUrl: string;
    /** The API integration key; called before every request (memoise inside, e.g. createEnvSecretSource). */
    readonly apiKey: () => Promise<string>;
    /**
     * JSM only: where heartbeat pings go, JSM's ops REST API (its integration API has no heartbeats).
     * Without it, pingHeartbeat on JSM's integration URL answers a problem instead of calling a path JSM does not serve.
     */
    readonly jsmHeartbeat?: JsmHeartbeatPingOptions;
    /** Default the global fetch. */
    readonly fetch?: typeof fetch;
    /** Upper bound on one request. Default {@link DEFAULT_ONCALL_TIMEOUT_MS}. */
    readonly timeoutMs?: number;
}

/** KMS errors that no retry fixes: the ciphertext, key or grant is wrong. */
const PERMANENT_KEY_ERRORS = new Set(["InvalidCiphertextException", "IncorrectKeyException", "AccessDeniedException", "DisabledException", "NotFoundException", "InvalidKeyUsageException", "KMSInvalidStateException"]);

/** Why the credential could not be read, naming it (`secret`: "the on-call API key", "the JSM API token"), and whether a retry may heal it. */
function keyProblem(error: unknown, secret: string): { retryable: boolean; problem: string } {
    const err = error as { message?: string; cause?: { name?: string } };
    const causeName = err?.cause?.name;
    // createEnvSecretSource's own checks (variable unset, not base64) have no cause and do not heal either.
    const retryable = causeName !== undefined && !PERMANENT_KEY_ERRORS.has(causeName);
    return { retryable, problem: `could not read ${secret}: ${err?.message ?? String(error)}` };
}

/** Where a request goes, how it is authorised and how its answers read: the on-call API (GenieKey) or JSM's ops REST API (Basic). */
interface Endpoint {
    /** Base URL without a trailing slash. */
    readonly base: string;
    /** How problem texts name the service ("on-call", "JSM"). */
    readonly service: string;
    /** The credential; called before every request. */
    readonly secret: () => Promise<string>;
    /** How problem texts name the credential ("the on-call API key"). */
    readonly secretName: string;
    /** The Authorization (and Accept) headers for the credential. */
    headers(secret: string): Record<string, string>;
    /** Removes the credential (and any form of it a response may echo) from a text. */
    redact(text: string, secret: string): string;
    /** An error body as one short line. */
    errorOf(body: string): string;
}

/**
 * One request, no retry (the Lambda's retry is the retry), never throwing: every outcome is an
 * OnCallResult, and no problem text holds the credential. `fix` says what to do about a refusal
 * that retrying cannot fix.
 */
async function sendOnce(
    endpoint: Endpoint,
    transport: { readonly doFetch: typeof fetch; readonly timeoutMs: number },
    action: string,
    method: "GET" | "POST",
    path: string,
    body: unknown,
    fix: (status: number) => string,
): Promise<OnCallResult> {
    const { base, service } = endpoint;
    let secret: string;
    try {
        secret = await endpoint.secret();
    } catch (error) {
        const { retryable, problem } = keyProblem(error, endpoint.secretName);
        return { ok: false, retryable, problem: `could not ${action}: ${problem}` };
    }
    let response: Response;
    try {
        response = await transport.doFetch(`${base}${path}`, {
            method,
            headers: { ...endpoint.headers(secret), ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            // A redirect would carry the credential to wherever it points; refuse it instead.
            redirect: "manual",
            signal: AbortSignal.timeout(transport.timeoutMs),
        });
    } catch (error) {
        const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
        const timedOut = err?.name === "TimeoutError" || err?.name === "AbortError";
        const detail = timedOut ? `no answer within ${transport.timeoutMs} ms` : `${err?.message ?? String(error)} (${err?.cause?.code ?? err?.cause?.message ?? err?.name ?? "unknown error"})`;
        return { ok: false, retryable: true, problem: endpoint.redact(`could not ${action}: ${service} at ${base} was not reachable: ${detail}`, secret) };
    }
    const text = await response.text().catch(() => "");
    const status = response.status;
    if (status >= 200 && status < 300) return { ok: true, status };
    const message = endpoint.redact(endpoint.errorOf(text), secret);
    if (status === 429 || status >= 500) {
        return { ok: false, status, retryable: true, problem: `could not ${action}: ${service} answered ${status} (${message}); a later retry may succeed` };
    }
    return { ok: false, status, retryable: false, problem: endpoint.redact(`could not ${action}: ${service} answered ${status} (${message}): ${fix(status)}`, secret) };
}

export function createOnCallClient(options: OnCallClientOptions): OnCallClient {
    const base = options.apiUrl.replace(/\/+$/, "");
    if (!/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/i.test(base)) {
        throw new Error("on-call apiUrl must be an http(s) base URL without query, e.g. onCallApiUrl(\"opsgenie\") = https://api.opsgenie.com");
    }
    const doFetch = options.fetch ?? fetch;
    const timeoutMs = options.timeoutMs ?? DEFAULT_ONCALL_TIMEOUT_MS;

    const onCall: Endpoint = {
        base,
        service: "on-call",
        secret: options.apiKey,
        secretName: "the on-call API key",
        headers: (key) => ({ authorization: `GenieKey ${key}` }),
        redact: redactKey,
        errorOf: errorMessageOf,
    };
    const send = (action: Action, target: string, method: "GET" | "POST", path: string, body?: unknown) =>
        sendOnce(onCall, { doFetch, timeoutMs }, action, method, path, body, (status) => fixFor(status, action, target));

    return {
        createAlert(alert) {
            return send("create the alert", alert.alias, "POST", "/v2/alerts", clipOnCallAlert(alert));
        },
        closeAlert(alias, note) {
            // Unconfirmed: whether Opsgenie accepts an alias holding "/" as %2F in this path segment.
            const path = `/v2/alerts/${pathSegment(clipText(alias, ONCALL_LIMITS.alias))}/close?identifierType=alias`;
            return send("close the alert", alias, "POST", path, { source: CLOSE_SOURCE, ...(note !== undefined ? { note: clipText(note, ONCALL_LIMITS.note) } : {}) });
        },
        pingHeartbeat(name) {
            if (options.jsmHeartbeat !== undefined) return pingJsmHeartbeat(options.jsmHeartbeat, name, doFetch, timeoutMs);
            if (isJsmIntegrationUrl(base)) {
                return Promise.resolve({
                    ok: false,
                    retryable: false,
                    problem: `could not ping the heartbeat: JSM's integration API has no heartbeat ping; JSM pings go to its ops REST API (set ${JSM_OPS_API_URL_ENV}, ${JSM_TEAM_ID_ENV}, ${JSM_EMAIL_ENV} and ${JSM_API_TOKEN_ENV}; the mail canary component sets them)`,
                });
            }
            return send("ping the heartbeat", name, "GET", `/v2/heartbeats/${pathSegment(name)}/ping`);
        },
    };
}

// ---------------------------------------------------------------- JSM: heartbeat pings through the ops REST API

/*
 * JSM keeps heartbeats in its ops REST API, not in the integration API alerts go to: the ping is
 * `GET https://api.atlassian.com/jsm/ops/api/{cloudId}/v1/teams/{teamId}/heartbeats/ping?name=<name>`
 * with Basic auth, the account's e-mail and an API token (Atlassian, "Jira Service Management ops
 * REST API", Heartbeats → Ping Heartbeat; base, auth and error body in oncall-http.ts, which the
 * Pulumi providers share). Like Opsgenie's, the ping is processed asynchronously and does not check
 * that the heartbeat exists.
 */
export { JSM_OPS_GATEWAY_URL, jsmOpsApiUrl } from "./oncall-http";

/** Environment variables of a function that pings a JSM heartbeat (set by components/mail-ingest/mail-canary.ts). */
export const JSM_OPS_API_URL_ENV = "JSM_OPS_API_URL";
export const JSM_TEAM_ID_ENV = "JSM_TEAM_ID";
export const JSM_EMAIL_ENV = "JSM_EMAIL";
/** The API token as KMS ciphertext with encryption context {LambdaFunctionName} (kms-env-secret.ts). */
export const JSM_API_TOKEN_ENV = "JSM_API_TOKEN_CIPHERTEXT";

export interface JsmHeartbeatPingOptions {
    /** {@link jsmOpsApiUrl} of the site. */
    readonly opsApiUrl: string;
    /** The team owning the heartbeat. */
    readonly teamId: string;
    /** The Atlassian account's e-mail (Basic auth user). */
    readonly email: string;
    /** Its API token; called before every ping (memoise inside, e.g. createEnvSecretSource). */
    readonly apiToken: () => Promise<string>;
}

function isJsmIntegrationUrl(base: string): boolean {
    try {
        return new URL(base).pathname.replace(/\/+$/, "").endsWith("/jsm/ops/integration");
    } catch {
        return false;
    }
}

/** JSM's error body (oncall-http.ts jsmErrorText) as one short line. */
function jsmErrorOf(body: string): string {
    return clipText(jsmErrorText(body).replace(/\s+/g, " ").trim(), 300);
}

/** Removes the token and the Basic credential built from it, and any other Basic credential a response echoes. */
function redactJsm(text: string, email: string, token: string): string {
    return redact(text, jsmCredentialSecrets(email, token)).replace(/Basic\s+[A-Za-z0-9+/=]{8,}/g, "Basic [redacted]");
}

/** One ping through the ops REST API, sent as every on-call request is (sendOnce). */
function pingJsmHeartbeat(options: JsmHeartbeatPingOptions, name: string, doFetch: typeof fetch, timeoutMs: number): Promise<OnCallResult> {
    const jsm: Endpoint = {
        base: options.opsApiUrl.replace(/\/+$/, ""),
        service: "JSM",
        secret: options.apiToken,
        secretName: "the JSM API token",
        headers: (token) => ({ authorization: jsmBasicAuthorization(options.email, token), accept: "application/json" }),
        redact: (text, token) => redactJsm(text, options.email, token),
        errorOf: jsmErrorOf,
    };
    const fix = (status: number) =>
        status === 401
            ? `JSM did not accept the e-mail and API token: check ${JSM_EMAIL_ENV} (alertline:oncall.email) and re-encrypt a valid token into ${JSM_API_TOKEN_ENV} (alertline:jsmApiToken)`
            : status === 403
              ? "the account may not ping this team's heartbeats: give it a role in the team (or an admin role) in JSM"
              : status === 404
                ? `JSM has no such site or team: check ${JSM_OPS_API_URL_ENV} (its cloud ID, alertline:oncall.cloudId) and ${JSM_TEAM_ID_ENV}`
                : status >= 300 && status < 400
                  ? `the ops API URL redirects: set ${JSM_OPS_API_URL_ENV} to ${jsmOpsApiUrl("<cloudId>")}`
                  : "retrying cannot fix this; check the heartbeat in JSM";
    const path = `/v1/teams/${pathSegment(options.teamId)}/heartbeats/ping?name=${encodeURIComponent(name)}`;
    return sendOnce(jsm, { doFetch, timeoutMs }, `ping the heartbeat "${name}"`, "GET", path, undefined, fix);
}
