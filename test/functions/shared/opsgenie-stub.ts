import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { close, listen, readBody } from "../../../functions/tools/local-aws/http";

/**
 * A real HTTP server on 127.0.0.1 that answers like Opsgenie's Alert and Heartbeat API v2 (and JSM's
 * integration API, which takes the same paths): GenieKey authentication, 202 with
 * `{result, took, requestId}` for accepted requests, `{message, errors, took, requestId}` for
 * refused ones, 422 for a body over the documented limits, 404 for an unknown heartbeat. It keeps
 * the open alerts by alias, so a test sees what on-call would show. Scripted failures come first.
 * Unconfirmed: that Opsgenie answers 404 for a ping of an unknown heartbeat (it may accept it, 202,
 * or create the heartbeat); the client's 404 hint matters only if it does, and 422 for over-long
 * fields (Opsgenie may truncate instead; refusing here makes code that relies on truncation fail).
 */

export interface OnCallRequest {
    readonly method: string;
    /** Path with percent-encoding undone, without the query. */
    readonly path: string;
    /** The raw request target, as sent. */
    readonly url: string;
    readonly query: Record<string, string>;
    readonly headers: IncomingHttpHeaders;
    readonly body: Record<string, unknown> | undefined;
}

export interface OpenAlert {
    readonly body: Record<string, unknown>;
    /** How often it was created while open: on-call's deduplication count. */
    readonly count: number;
}

export interface ScriptedAnswer {
    readonly status: number;
    readonly body?: string;
    readonly headers?: Record<string, string>;
    /** Never answer (for timeouts). */
    readonly hang?: boolean;
}

export interface OpsgenieStub {
    /** Base URL, as ONCALL_API_URL would hold it (JSM's has a path prefix; this one can too). */
    readonly apiUrl: string;
    readonly apiKey: string;
    readonly requests: OnCallRequest[];
    /** Open alerts by alias. */
    readonly alerts: Map<string, OpenAlert>;
    /** Closed alerts by alias, with the close request's body. */
    readonly closed: Map<string, Record<string, unknown>>;
    /** Heartbeat name → pings received. Only names listed here exist. */
    readonly heartbeats: Map<string, number>;
    /** The next requests get these answers, in order, before normal service resumes. */
    failNext(...answers: ScriptedAnswer[]): void;
    close(): Promise<void>;
}

const LIMITS: Record<string, number> = { message: 130, alias: 512, description: 15000, source: 100, entity: 512 };

function problemsOf(body: Record<string, unknown>): Record<string, string> {
    const errors: Record<string, string> = {};
    if (typeof body.message !== "string" || body.message.trim() === "") errors.message = "Message can not be empty.";
    for (const [field, max] of Object.entries(LIMITS)) {
        const value = body[field];
        if (typeof value === "string" && value.length > max) errors[field] = `${field} can not be longer than ${max} characters.`;
    }
    const tags = body.tags;
    if (Array.isArray(tags) && (tags.length > 20 || tags.some((t) => typeof t !== "string" || t.length > 50))) errors.tags = "Tags can have at most 20 elements of at most 50 characters.";
    const details = body.details;
    if (details !== undefined && details !== null && typeof details === "object") {
        const size = Object.entries(details as Record<string, unknown>).reduce((sum, [k, v]) => sum + k.length + String(v).length, 0);
        if (size > 8000) errors.details = "Details can not be longer than 8000 characters in total.";
    }
    if (!["P1", "P2", "P3", "P4", "P5", undefined].includes(body.priority as string | undefined)) errors.priority = "Priority should be one of [P1, P2, P3, P4, P5].";
    return errors;
}

export async function startOpsgenieStub(options: { apiKey?: string; heartbeats?: string[]; pathPrefix?: string } = {}): Promise<OpsgenieStub> {
    const apiKey = options.apiKey ?? "5f1e8a3c-7b2d-4c9e-a1f0-0123456789ab";
    const prefix = options.pathPrefix ?? "";
    const requests: OnCallRequest[] = [];
    const alerts = new Map<string, OpenAlert>();
    const closed = new Map<string, Record<string, unknown>>();
    const heartbeats = new Map<string, number>((options.heartbeats ?? []).map((name) => [name, 0]));
    let script: ScriptedAnswer[] = [];

    const server: Server = createServer(async (req, res) => {
        const raw = (await readBody(req)).toString("utf8");
        const target = new URL(req.url ?? "/", "http://stub");
        let body: Record<string, unknown> | undefined;
        try {
            body = raw === "" ? undefined : JSON.parse(raw);
        } catch {
            body = undefined;
        }
        const path = decodeURIComponent(target.pathname);
        requests.push({ method: req.method ?? "", path, url: req.url ?? "", query: Object.fromEntries(target.searchParams), headers: req.headers, body });
        const reply = (status: number, payload: Record<string, unknown>) => {
            res.writeHead(status, { "content-type": "application/json" });
            res.end(JSON.stringify({ ...payload, took: 0.004, requestId: randomUUID() }));
        };
        const scripted = script.shift();
        if (scripted !== undefined) {
            if (scripted.hang) return; // the client's timeout ends it
            res.writeHead(scripted.status, { "content-type": "application/json", ...scripted.headers });
            res.end(scripted.body ?? "");
            return;
        }
        if (req.headers.authorization !== `GenieKey ${apiKey}`) return reply(401, { message: "Could not authenticate." });
        if (!target.pathname.startsWith(`${prefix}/v2/`)) return reply(404, { message: "Not found." });
        const route = path.slice(prefix.length);

        if (req.method === "POST" && route === "/v2/alerts") {
            if (body === undefined) return reply(400, { message: "Request body is not processable." });
            const errors = problemsOf(body);
            if (Object.keys(errors).length > 0) return reply(422, { message: "Request body is not processable. Please check the errors.", errors });
            const alias = typeof body.alias === "string" ? body.alias : randomUUID();
            alerts.set(alias, { body, count: (alerts.get(alias)?.count ?? 0) + 1 });
            return reply(202, { result: "Request will be processed" });
        }
        const closeMatch = /^\/v2\/alerts\/(.+)\/close$/.exec(route);
        if (req.method === "POST" && closeMatch) {
            if (target.searchParams.get("identifierType") !== "alias") return reply(422, { message: "Stub only closes by alias." });
            // Opsgenie accepts the close and processes it later; an unknown alias fails only then.
            const alias = closeMatch[1];
            if (alerts.delete(alias)) closed.set(alias, body ?? {});
            return reply(202, { result: "Request will be processed" });
        }
        const pingMatch = /^\/v2\/heartbeats\/(.+)\/ping$/.exec(route);
        if ((req.method === "GET" || req.method === "POST") && pingMatch) {
            const name = pingMatch[1];
            if (!heartbeats.has(name)) return reply(404, { message: `Heartbeat with name [${name}] does not exist.` });
            heartbeats.set(name, (heartbeats.get(name) ?? 0) + 1);
            return reply(202, { result: "PONG - Heartbeat received" });
        }
        return reply(404, { message: "Not found." });
    });
    const endpoint = await listen(server);
    return {
        apiUrl: `${endpoint}${prefix}`,
        apiKey,
        requests,
        alerts,
        closed,
        heartbeats,
        failNext: (...answers) => {
            script = answers;
        },
        close: () => close(server),
    };
}
