import { randomUUID } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import { close, listen, readBody } from "./http";
import { createJsmOpsStandIn, JSM_OPS_PREFIX, type JsmOpsOptions, type JsmOpsStandIn } from "./jsm-ops";

/**
 * On-call on this machine: a node:http server on 127.0.0.1 that answers like Opsgenie's alert and
 * heartbeat API (facts.md, "Opsgenie and its successor"), so `npm start` and the tests can run the
 * code that pages people without an account:
 *
 *   POST /v2/alerts                                   create (202, asynchronous like Opsgenie)
 *   POST /v2/alerts/{alias}/close?identifierType=alias  close by alias (202)
 *   POST /v2/alerts/{alias}/acknowledge?identifierType=alias  acknowledge by alias (202)
 *   GET|POST /v2/heartbeats/{name}/ping               ping (202, "PONG - Heartbeat received")
 *
 * The alert paths under {@link JSM_INTEGRATION_PREFIX} answer alike, so the sink stands in for
 * JSM's integration events API too (facts.md: create, acknowledge, close, add note only). JSM has no
 * heartbeat ping there: its heartbeats live in the ops REST API under `/jsm/ops/api/{cloudId}`,
 * Basic auth only, which ./jsm-ops.ts serves when the `jsmOps` option names the site. Every request
 * to the alert APIs needs `Authorization: GenieKey <key>`; any non-empty key is accepted (only the
 * `apiKey` option's, when set) and none is ever recorded or logged.
 *
 * Like Opsgenie: answers `{result, took, requestId}` on success and `{message, took, requestId}`
 * on errors (Opsgenie's response docs: 400 invalid JSON, 401 unauthenticated, 404 no such
 * handler, 405 method not allowed, 422 semantic errors with an `errors` object); alerts are
 * deduplicated by alias while open (the count goes up; Opsgenie's and JSM's alerts are kept
 * apart, as two backends would keep them); a close or a ping of something that does
 * not exist is still 202, since Opsgenie processes both later (its response docs,
 * https://docs.opsgenie.com/docs/response: 202 "will be processed asynchronously"; its Lamp docs,
 * https://docs.opsgenie.com/docs/lamp-heartbeat-commands: "Since Opsgenie process heartbeat ping
 * requests asynchronously, it does not check if the heartbeat exists or not before responding",
 * and a PONG "does not necessarily mean that the heartbeat exists"). `knownHeartbeats` turns on a
 * 404 for an unknown name, for code that must cope with a backend that does check.
 *
 * An API given an outgoing webhook (`setWebhook`) posts Atlassian's alert action data there after
 * an acknowledge or close of one of its alerts, as Opsgenie's and JSM's Webhook integrations do
 * (see {@link alertActionData}).
 *
 * For tests, `apiKey` makes the sink accept only that key, and `answer` scripts the answer to any
 * request (a failure, a redirect, a slow answer) before the sink acts on it.
 *
 * Unconfirmed: the exact error texts other than "Could not authenticate" and the 422 message, and
 * whether Opsgenie refuses over-long fields (the limits in facts.md) or truncates them; the sink
 * refuses them with 422, so code that relies on truncation is noticed here.
 */

export const JSM_INTEGRATION_PREFIX = "/jsm/ops/integration";

export type OnCallApi = "opsgenie" | "jsm";
export type OnCallAction = "create-alert" | "close-alert" | "ack-alert" | "ping-heartbeat";

export interface OnCallRequest {
    readonly method: string;
    /** The path as sent, without the query: still percent-encoded. */
    readonly path: string;
    readonly query: Readonly<Record<string, string>>;
    /** Which API the path belongs to; `jsm` for paths under {@link JSM_INTEGRATION_PREFIX}. */
    readonly api: OnCallApi;
    /** Undefined for a path the sink does not answer. */
    readonly action: OnCallAction | undefined;
    /** create: the body's alias; close: the decoded path identifier when identifierType=alias. */
    readonly alias?: string;
    /** close: the decoded path identifier when it is an alert id (identifierType absent or id). */
    readonly alertId?: string;
    /** ping: the decoded heartbeat name. */
    readonly heartbeat?: string;
    /** The JSON body; undefined when there was none, the text when it was not JSON. */
    readonly body: unknown;
    /** What the sink answered. */
    readonly status: number;
}

export interface OnCallAlert {
    readonly alertId: string;
    readonly alias: string | undefined;
    readonly message: string;
    /** P1–P5; Opsgenie's default is P3. */
    readonly priority: string;
    readonly status: "open" | "closed";
    /** How many create requests this alert took (deduplicated by alias while open). */
    readonly count: number;
    /** Whether someone acknowledged it (POST /v2/alerts/{identifier}/acknowledge). */
    readonly acknowledged: boolean;
    /** The body of the create request that opened it. */
    readonly body: Readonly<Record<string, unknown>>;
    readonly api: OnCallApi;
}

/** An answer scripted for one request in place of the sink's own (see {@link OnCallSinkOptions.answer}). */
export interface OnCallScriptedAnswer {
    /** HTTP status, 200–599: e.g. 503 or 429 for a failure, 302 with a `location` header for a redirect. */
    readonly status: number;
    /**
     * An object is sent as JSON with Opsgenie's `took` and `requestId` added; a string is sent as it
     * is. Default: Opsgenie's error shape, `{message, took, requestId}`, naming the scripted status.
     */
    readonly body?: Readonly<Record<string, unknown>> | string;
    /** Extra response headers, e.g. `location` or `retry-after`. */
    readonly headers?: Readonly<Record<string, string>>;
    /** Answer only after this many milliseconds (for a client's timeout); nothing is sent if the client has gone by then. */
    readonly delayMs?: number;
}

export interface OnCallSinkOptions {
    /** One readable line per request. */
    readonly log?: (line: string) => void;
    /** Every authenticated request on a known path answers this status (e.g. 429, 503) and changes nothing. */
    readonly failWith?: number;
    /**
     * Only `Authorization: GenieKey <apiKey>` authenticates; any other key gets 401, as a wrong key
     * does at Opsgenie. Default: any non-empty key. Never recorded or logged either way.
     */
    readonly apiKey?: string;
    /**
     * The heartbeats that exist: a ping of any other name answers 404 with
     * `Heartbeat with name [<name>] does not exist.` (Unconfirmed text). Off by default, because
     * Opsgenie answers a ping without checking that the heartbeat exists (see above).
     */
    readonly knownHeartbeats?: readonly string[];
    /**
     * Asked about every request on a path the sink serves, with an allowed method, before
     * authentication: a scripted answer is sent instead of the sink's own and changes nothing
     * (the request is recorded with the scripted status); undefined lets the sink answer. A queue
     * gives per-request failures (`() => script.shift()`); `request.action` a status per path.
     */
    readonly answer?: (request: Omit<OnCallRequest, "status">) => OnCallScriptedAnswer | undefined;
    /** JSM's ops REST API for one site (cloud ID, account, teams); without it those paths answer 404. */
    readonly jsmOps?: JsmOpsOptions;
    /** For tests that send what the service refuses on purpose: `close()` then does not fail on contract violations. */
    readonly violationsExpected?: boolean;
}

/** An outgoing Webhook integration of one API: where Acknowledge and Close are posted, with which headers. */
export interface OnCallWebhook {
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
}

/** One call of an outgoing webhook, as the sink made it. */
export interface OnCallWebhookCall {
    readonly api: OnCallApi;
    readonly action: "Acknowledge" | "Close";
    readonly alias: string | undefined;
    readonly body: Readonly<Record<string, unknown>>;
    /** The receiver's answer; undefined when it could not be reached. */
    readonly status: number | undefined;
}

export interface OnCallSink {
    /** Base URL standing in for https://api.opsgenie.com. */
    readonly url: string;
    /** Base URL standing in for https://api.atlassian.com/jsm/ops/integration. */
    readonly jsmUrl: string;
    /** Base URL standing in for the gateway https://api.atlassian.com (the ops REST API is under /jsm/ops/api/{cloudId}). */
    readonly gatewayUrl: string;
    /** JSM's ops REST API: its requests, heartbeats and pings (see ./jsm-ops.ts). */
    readonly jsmOps: JsmOpsStandIn;
    /** Every request, in order, refused ones included. */
    readonly requests: OnCallRequest[];
    /** The requests Opsgenie/JSM would refuse whatever the account's state (path, method, auth scheme, body), one line each; `close()` fails on any. */
    readonly violations: string[];
    /** The alerts as they stand now, in the order they were opened. */
    alerts(): OnCallAlert[];
    /**
     * Adds the outgoing Webhook integration of one API (Opsgenie's, or JSM's): from then on an
     * acknowledge or close of one of its alerts posts the alert action data there, after the 202.
     */
    setWebhook(api: OnCallApi, webhook: OnCallWebhook): void;
    /** Every webhook call made, in order. */
    readonly webhookCalls: OnCallWebhookCall[];
    /** Whether a webhook call is under way; drain() waits for all of them. */
    busy(): boolean;
    drain(): Promise<void>;
    close(): Promise<void>;
}

/**
 * The body of an outgoing webhook call: Atlassian's "Alert action data" (support.atlassian.com,
 * jira-service-management-cloud/docs/alert-action-data-for-jira-edge-connector, the same shape as
 * Opsgenie's docs): `{source: {name, type}, alert: {updatedAt (nanoseconds), tags, message, username,
 * alertId, source, alias, tinyId, createdAt, userId, entity}, action, integrationId, integrationName}`.
 * Pure.
 */
export function alertActionData(alert: Pick<OnCallAlert, "alertId" | "alias" | "message" | "body">, action: "Acknowledge" | "Close", user: string, nowMs: number, integration: { id: string; name: string }): Record<string, unknown> {
    const tags = Array.isArray(alert.body.tags) ? alert.body.tags : [];
    return {
        source: { name: "", type: "web" },
        alert: {
            // Nanoseconds, as in Atlassian's samples (e.g. 1420452224764002246).
            updatedAt: Number(BigInt(nowMs) * 1_000_000n),
            tags,
            message: alert.message,
            username: user,
            alertId: alert.alertId,
            source: typeof alert.body.source === "string" ? alert.body.source : "",
            alias: alert.alias,
            tinyId: "1",
            createdAt: nowMs,
            userId: "00000000-0000-4000-8000-00000000user",
            entity: typeof alert.body.entity === "string" ? alert.body.entity : "",
        },
        action,
        integrationId: integration.id,
        integrationName: integration.name,
    };
}

/**
 * Opsgenie's alert field limits (facts.md; docs.opsgenie.com "Alerts and Alert Fields": 20 tags of
 * at most 50 characters, at most 10 custom actions of 50, per the deprecated Alert API's table too).
 * Unconfirmed: user 100 and note 25000, which a published Alert API schema (schemas.apis.io
 * CreateAlertRequest) gives and Opsgenie's own page was not read far enough to show.
 */
export const OPSGENIE_ALERT_LIMITS = { message: 130, alias: 512, description: 15000, source: 100, entity: 512, tags: 20, tagChars: 50, details: 8000, user: 100, note: 25000, actions: 10, actionChars: 50 } as const;
const PRIORITIES = ["P1", "P2", "P3", "P4", "P5"];

/** The fields of a create-alert body: opsgenie-oas CreateAlertPayload with AlertActionPayload (user, note, source). */
export const ALERT_CREATE_FIELDS = ["message", "alias", "description", "responders", "visibleTo", "actions", "tags", "details", "entity", "source", "priority", "user", "note"] as const;
/** The fields of a close-alert body: opsgenie-oas CloseAlertPayload = AlertActionPayload. */
export const ALERT_CLOSE_FIELDS = ["user", "source", "note"] as const;
/** identifierType values of the alert API's path identifier (Go SDK alert.AlertIdentifier: id, alias, tiny). */
const IDENTIFIER_TYPES = ["id", "alias", "tiny"];

function unknownFields(fields: Record<string, unknown>, known: readonly string[], problems: Record<string, string>): void {
    for (const name of Object.keys(fields)) if (!known.includes(name)) problems[name] = `${name} is not a field of this request (fields: ${known.join(", ")})`;
}

/** What is wrong with a close-alert body (JSON object or none), keyed by field; empty when acceptable. Pure. */
export function closeBodyProblems(body: unknown): Record<string, string> {
    if (body === undefined) return {};
    if (typeof body !== "object" || body === null || Array.isArray(body)) return { body: "must be a JSON object" };
    const fields = body as Record<string, unknown>;
    const problems: Record<string, string> = {};
    unknownFields(fields, ALERT_CLOSE_FIELDS, problems);
    for (const name of ALERT_CLOSE_FIELDS) {
        const value = fields[name];
        if (value === undefined) continue;
        if (typeof value !== "string") problems[name] = `${name} must be a string`;
        else if (value.length > OPSGENIE_ALERT_LIMITS[name]) problems[name] = `${name} is ${value.length} characters; the limit is ${OPSGENIE_ALERT_LIMITS[name]}`;
    }
    return problems;
}

/**
 * What is wrong with a create-alert body, keyed by field as Opsgenie's 422 `errors` object is;
 * empty when the body is acceptable. Pure.
 */
export function alertBodyProblems(body: unknown): Record<string, string> {
    if (typeof body !== "object" || body === null || Array.isArray(body)) return { body: "must be a JSON object" };
    const fields = body as Record<string, unknown>;
    const problems: Record<string, string> = {};
    unknownFields(fields, ALERT_CREATE_FIELDS, problems);
    const text = (name: "message" | "alias" | "description" | "source" | "entity" | "user" | "note") => {
        const value = fields[name];
        if (value === undefined) return;
        if (typeof value !== "string") problems[name] = `${name} must be a string`;
        else if (value.length > OPSGENIE_ALERT_LIMITS[name]) problems[name] = `${name} is ${value.length} characters; the limit is ${OPSGENIE_ALERT_LIMITS[name]}`;
    };
    if (typeof fields.message !== "string" || fields.message.trim() === "") problems.message = "Message can not be empty.";
    else text("message");
    for (const name of ["alias", "description", "source", "entity", "user", "note"] as const) text(name);
    if (fields.actions !== undefined) {
        if (!Array.isArray(fields.actions) || !fields.actions.every((a) => typeof a === "string")) problems.actions = "actions must be a list of strings";
        else if (fields.actions.length > OPSGENIE_ALERT_LIMITS.actions) problems.actions = `${fields.actions.length} actions; the limit is ${OPSGENIE_ALERT_LIMITS.actions}`;
        else if (fields.actions.some((a: string) => a.length > OPSGENIE_ALERT_LIMITS.actionChars)) problems.actions = `an action is longer than ${OPSGENIE_ALERT_LIMITS.actionChars} characters`;
    }
    if (fields.priority !== undefined && !PRIORITIES.includes(fields.priority as string)) problems.priority = `priority must be one of ${PRIORITIES.join(", ")}`;
    if (fields.tags !== undefined) {
        if (!Array.isArray(fields.tags) || !fields.tags.every((tag) => typeof tag === "string")) problems.tags = "tags must be a list of strings";
        else if (fields.tags.length > OPSGENIE_ALERT_LIMITS.tags) problems.tags = `${fields.tags.length} tags; the limit is ${OPSGENIE_ALERT_LIMITS.tags}`;
        else if (fields.tags.some((tag: string) => tag.length > OPSGENIE_ALERT_LIMITS.tagChars)) problems.tags = `a tag is longer than ${OPSGENIE_ALERT_LIMITS.tagChars} characters`;
    }
    if (fields.details !== undefined) {
        const details = fields.details;
        if (typeof details !== "object" || details === null || Array.isArray(details) || !Object.values(details).every((v) => typeof v === "string")) {
            problems.details = "details must be an object of string values";
        } else {
            // Unconfirmed how Opsgenie counts "8000 characters in all": here keys plus values.
            const size = Object.entries(details as Record<string, string>).reduce((sum, [key, value]) => sum + key.length + value.length, 0);
            if (size > OPSGENIE_ALERT_LIMITS.details) problems.details = `details hold ${size} characters; the limit is ${OPSGENIE_ALERT_LIMITS.details}`;
        }
    }
    return problems;
}

type Route =
    | { readonly action: "create-alert"; readonly methods: readonly string[] }
    | { readonly action: "close-alert" | "ack-alert"; readonly methods: readonly string[]; readonly identifier: string }
    | { readonly action: "ping-heartbeat"; readonly methods: readonly string[]; readonly name: string };

/** The route of a path (prefix already removed); undefined when the sink does not answer it. JSM's integration API has no heartbeats. */
function routeOf(path: string, api: OnCallApi = "opsgenie"): Route | "bad-encoding" | undefined {
    try {
        if (api === "jsm" && path.startsWith("/v2/heartbeats")) return undefined;
        if (path === "/v2/alerts") return { action: "create-alert", methods: ["POST"] };
        const close = /^\/v2\/alerts\/([^/]+)\/close$/.exec(path);
        if (close) return { action: "close-alert", methods: ["POST"], identifier: decodeURIComponent(close[1]) };
        // Acknowledge: Opsgenie's Alert API and JSM's integration events API (create, acknowledge, close, add note).
        const ack = /^\/v2\/alerts\/([^/]+)\/acknowledge$/.exec(path);
        if (ack) return { action: "ack-alert", methods: ["POST"], identifier: decodeURIComponent(ack[1]) };
        const ping = /^\/v2\/heartbeats\/([^/]+)\/ping$/.exec(path);
        if (ping) return { action: "ping-heartbeat", methods: ["GET", "POST"], name: decodeURIComponent(ping[1]) };
        return undefined;
    } catch {
        return "bad-encoding";
    }
}

/**
 * Whether the request carries exactly `Authorization: GenieKey <non-empty key>` (the scheme Opsgenie's
 * API docs and the Go SDK's client send), and that key is `apiKey` when one is set. Basic, Bearer, a
 * key alone or a key as `?apiKey=` (the retired v1 style) do not authenticate.
 */
function authenticated(header: string | undefined, apiKey: string | undefined): boolean {
    const match = /^GenieKey (\S+)$/.exec(header ?? "");
    if (match === null) return false;
    return apiKey === undefined || match[1] === apiKey;
}

/** The body as JSON; the text itself when it is not JSON; undefined when there is none. */
function bodyOf(text: string): { readonly body: unknown; readonly json: boolean } {
    if (text.trim() === "") return { body: undefined, json: true };
    try {
        return { body: JSON.parse(text), json: true };
    } catch {
        return { body: text, json: false };
    }
}

export async function startOnCallSink(options: OnCallSinkOptions = {}): Promise<OnCallSink> {
    const log = options.log ?? (() => undefined);
    const failWith = options.failWith;
    if (failWith !== undefined && !(Number.isInteger(failWith) && failWith >= 400 && failWith <= 599)) {
        throw new Error(`failWith must be an HTTP error status (400–599), got ${failWith}`);
    }
    const knownHeartbeats = options.knownHeartbeats === undefined ? undefined : new Set(options.knownHeartbeats);
    const requests: OnCallRequest[] = [];
    const violations: string[] = [];
    const alerts: { -readonly [K in keyof OnCallAlert]: OnCallAlert[K] }[] = [];

    const jsmOps = createJsmOpsStandIn(options.jsmOps, log);
    const webhooks = new Map<OnCallApi, OnCallWebhook>();
    const webhookCalls: OnCallWebhookCall[] = [];
    const deliveries = new Set<Promise<void>>();
    // After the 202, as the services process actions asynchronously; an API without a webhook sends nothing.
    const fireWebhook = (api: OnCallApi, alert: OnCallAlert, action: "Acknowledge" | "Close", user: string) => {
        const webhook = webhooks.get(api);
        if (webhook === undefined) return;
        const body = alertActionData(alert, action, user, Date.now(), { id: `${api}-webhook-integration`, name: `alertline ${api} webhook` });
        const delivery = (async () => {
            let status: number | undefined;
            try {
                const response = await fetch(webhook.url, { method: "POST", headers: { "content-type": "application/json", ...webhook.headers }, body: JSON.stringify(body) });
                status = response.status;
                await response.text();
            } catch (error) {
                log(`[opsgenie] webhook ${action} could not reach ${webhook.url}: ${(error as Error).message}${api === "jsm" ? " (JSM)" : ""}`);
            }
            webhookCalls.push({ api, action, alias: alert.alias, body, status });
            if (status !== undefined) log(`[opsgenie] webhook ${action} alias=${alert.alias ?? "(none)"} → ${status}${api === "jsm" ? " (JSM)" : ""}`);
        })();
        deliveries.add(delivery);
        void delivery.finally(() => deliveries.delete(delivery));
    };
    const server = createServer(async (req, res) => {
        const raw = await readBody(req);
        const method = req.method ?? "";
        const url = new URL(req.url ?? "/", "http://localhost");
        const path = url.pathname;
        if (path.startsWith(`${JSM_OPS_PREFIX}/`)) return jsmOps.handle(req, res, raw);
        const query = Object.fromEntries(url.searchParams);
        const api: OnCallApi = path.startsWith(`${JSM_INTEGRATION_PREFIX}/`) ? "jsm" : "opsgenie";
        const via = api === "jsm" ? " (JSM)" : "";
        const requestId = randomUUID();
        const record = (status: number, fields: Partial<OnCallRequest> = {}) => void requests.push({ method, path, query, api, action: undefined, body: undefined, ...fields, status });
        const answer = (status: number, body: Record<string, unknown>) => json(res, status, { ...body, took: status < 300 ? 0.01 : 0, requestId }, requestId);
        const refuse = (status: number, message: string, why: string, fields: Partial<OnCallRequest> = {}, extra: Record<string, unknown> = {}) => {
            record(status, fields);
            log(`[opsgenie] ${status} ${method} ${path}${via}: ${why}`);
            answer(status, { message, ...extra });
        };
        // A request Opsgenie/JSM would refuse whatever the account's state: recorded as a contract violation too.
        const violate = (status: number, message: string, why: string, fields: Partial<OnCallRequest> = {}, extra: Record<string, unknown> = {}) => {
            violations.push(`${status} ${method} ${path}${via}: ${why}`);
            refuse(status, message, why, fields, extra);
        };

        const route = routeOf(api === "jsm" ? path.slice(JSM_INTEGRATION_PREFIX.length) : path, api);
        if (route === "bad-encoding") return violate(400, "Invalid path encoding", "malformed percent-encoding in the path");
        if (route === undefined) return violate(404, "Could not find handler", "not an alert or heartbeat endpoint this sink answers (POST /v2/alerts, POST /v2/alerts/{alias}/close, GET|POST /v2/heartbeats/{name}/ping)");
        const action = route.action;
        if (!route.methods.includes(method)) return violate(405, "Method not allowed", `${action} takes ${route.methods.join(" or ")}`, { action });

        const { body, json: isJson } = bodyOf(raw.toString("utf8"));
        const fields: Partial<OnCallRequest> =
            route.action === "ping-heartbeat"
                ? { action, heartbeat: route.name, body }
                : route.action === "close-alert" || route.action === "ack-alert"
                  ? query.identifierType === "alias"
                      ? { action, alias: route.identifier, body }
                      : { action, alertId: route.identifier, body }
                  : { action, body, alias: typeof (body as { alias?: unknown })?.alias === "string" ? (body as { alias: string }).alias : undefined };
        const scripted = options.answer?.({ method, path, query, api, ...fields, action, body });
        if (scripted !== undefined) {
            const valid = Number.isInteger(scripted.status) && scripted.status >= 200 && scripted.status <= 599;
            if (!valid) return refuse(500, `Invalid scripted answer: status ${scripted.status}`, "the answer option gave a status outside 200–599", fields);
            record(scripted.status, fields);
            log(`[opsgenie] ${scripted.status} ${method} ${path}${via}: scripted answer${scripted.delayMs ? ` after ${scripted.delayMs} ms` : ""}; nothing changed`);
            const send = () => {
                if (typeof scripted.body === "string") {
                    res.writeHead(scripted.status, { "content-type": "application/json", "x-request-id": requestId, ...scripted.headers });
                    res.end(scripted.body);
                } else {
                    const payload = scripted.body ?? { message: `Scripted answer ${scripted.status}` };
                    json(res, scripted.status, { ...payload, took: 0, requestId }, requestId, scripted.headers);
                }
            };
            if (!scripted.delayMs) return send();
            const timer = setTimeout(send, scripted.delayMs);
            res.once("close", () => clearTimeout(timer));
            return;
        }
        if (!authenticated(req.headers.authorization, options.apiKey)) {
            const why = options.apiKey === undefined ? 'no "Authorization: GenieKey <key>" header' : 'no "Authorization: GenieKey <key>" header with the key the sink was started with';
            // Another scheme than GenieKey is our code's mistake; a GenieKey with another key is the account's state.
            return /^GenieKey \S+$/.test(req.headers.authorization ?? "") ? refuse(401, "Could not authenticate", why, { action }) : violate(401, "Could not authenticate", why, { action });
        }
        if (!isJson) return violate(400, "Invalid JSON body", "the body is not JSON", { action, body });
        if (failWith !== undefined) return refuse(failWith, `Injected failure ${failWith} (failWith)`, "failWith is set; nothing changed", fields);

        switch (route.action) {
            case "create-alert": {
                const problems = alertBodyProblems(body);
                if (Object.keys(problems).length > 0) {
                    return violate(422, "Request body is not processable. Please check the errors.", Object.values(problems).join("; "), fields, { errors: problems });
                }
                const alert = body as Record<string, unknown>;
                const alias = typeof alert.alias === "string" ? alert.alias : undefined;
                const priority = typeof alert.priority === "string" ? alert.priority : "P3";
                const open = alias === undefined ? undefined : alerts.find((a) => a.api === api && a.alias === alias && a.status === "open");
                if (open) open.count++;
                else alerts.push({ alertId: randomUUID(), alias, message: alert.message as string, priority, status: "open", count: 1, acknowledged: false, body: alert, api });
                record(202, fields);
                log(`[opsgenie] alert created ${priority} alias=${alias ?? "(none)"} «${alert.message as string}»${open ? ` (deduplicated: count ${open.count})` : ""}${via}`);
                return answer(202, { result: "Request will be processed" });
            }
            case "close-alert":
            case "ack-alert": {
                if (query.identifierType !== undefined && !IDENTIFIER_TYPES.includes(query.identifierType)) {
                    return violate(422, "Request body is not processable. Please check the errors.", `identifierType ${query.identifierType} is not id, alias or tiny`, fields, { errors: { identifierType: "must be id, alias or tiny" } });
                }
                const problems = closeBodyProblems(body);
                if (Object.keys(problems).length > 0) {
                    return violate(422, "Request body is not processable. Please check the errors.", Object.values(problems).join("; "), fields, { errors: problems });
                }
                const byAlias = query.identifierType === "alias";
                const target = alerts.find((a) => a.api === api && a.status === "open" && (byAlias ? a.alias === route.identifier : a.alertId === route.identifier));
                const acknowledging = route.action === "ack-alert";
                if (target && acknowledging) target.acknowledged = true;
                else if (target) target.status = "closed";
                record(202, fields);
                const named = byAlias ? `alias=${route.identifier}` : `id=${route.identifier}`;
                const verb = acknowledging ? "acknowledged" : "closed";
                const miss = byAlias ? "no open alert with that alias" : `no open alert with that id; ${acknowledging ? "acknowledging" : "closing"} by alias needs ?identifierType=alias`;
                log(target ? `[opsgenie] alert ${verb} ${named}${via}` : `[opsgenie] alert ${acknowledging ? "acknowledge" : "close"} ${named} matched nothing (${miss}); answered 202 as Opsgenie does${via}`);
                answer(202, { result: "Request will be processed" });
                if (target) {
                    const user = typeof (body as { user?: unknown })?.user === "string" ? (body as { user: string }).user : "alertline-local";
                    fireWebhook(api, target, acknowledging ? "Acknowledge" : "Close", user);
                }
                return;
            }
            case "ping-heartbeat":
                if (knownHeartbeats !== undefined && !knownHeartbeats.has(route.name)) {
                    return refuse(404, `Heartbeat with name [${route.name}] does not exist.`, `no heartbeat named ${route.name} (knownHeartbeats is set)`, fields);
                }
                record(202, fields);
                log(`[opsgenie] heartbeat pinged: ${route.name}${via}`);
                return answer(202, { result: "PONG - Heartbeat received" });
        }
    });
    const url = await listen(server);
    return {
        url,
        jsmUrl: `${url}${JSM_INTEGRATION_PREFIX}`,
        gatewayUrl: url,
        jsmOps,
        requests,
        alerts: () => alerts.map((alert) => ({ ...alert })),
        setWebhook: (api, webhook) => void webhooks.set(api, webhook),
        webhookCalls,
        busy: () => deliveries.size > 0,
        drain: async () => {
            while (deliveries.size > 0) await Promise.allSettled([...deliveries]);
        },
        violations,
        // A request the service would refuse fails the test (or run) that closes the sink, whatever the code did with the answer.
        close: async () => {
            await close(server);
            const all = [...violations, ...jsmOps.violations];
            if (all.length > 0 && !options.violationsExpected) throw new Error(`Opsgenie/JSM would have refused ${all.length} request(s): ${all.join("; ")}`);
        },
    };
}

function json(res: ServerResponse, status: number, body: Record<string, unknown>, requestId: string, headers: Readonly<Record<string, string>> = {}): void {
    res.writeHead(status, { "content-type": "application/json", "x-request-id": requestId, ...headers });
    res.end(JSON.stringify(body));
}
