import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * JSM's ops REST API on this machine (the part alertline calls), served by the on-call stand-in
 * (./oncall.ts) under `/jsm/ops/api/{cloudId}/…`. Written from Atlassian's "Jira Service
 * Management ops REST API" reference (developer.atlassian.com/cloud/jira/service-desk-ops/rest/v2/):
 *
 *   GET    /v1/teams                                  List teams (paginated: values, links.next)
 *   GET    /v1/teams/{teamId}/heartbeats?name=        List heartbeats (filtered by name)
 *   POST   /v1/teams/{teamId}/heartbeats              Create heartbeat (name, interval, intervalUnit required)
 *   PATCH  /v1/teams/{teamId}/heartbeats?name=        Update heartbeat ("Name of a heartbeat cannot be changed")
 *   DELETE /v1/teams/{teamId}/heartbeats?name=        Delete heartbeat
 *   GET    /v1/teams/{teamId}/heartbeats/ping?name=   Ping heartbeat (asynchronous: existence not checked)
 *   GET    /v1/integrations                           List integrations (paginated; ?type=, ?teamId=, ?name=)
 *   POST   /v1/integrations                           Create integration (name, type required; the answer holds apiKey)
 *   GET    /v1/integrations/{id}                      Get integration (never the apiKey)
 *   PATCH  /v1/integrations/{id}                      Update integration (teamId and type cannot change)
 *   DELETE /v1/integrations/{id}                      Delete integration (and its actions)
 *   GET    /v1/integrations/{id}/actions              List integration actions
 *   POST   /v1/integrations/{id}/actions              Create integration action (type, name, domain, direction required)
 *   GET|PATCH|DELETE /v1/integrations/{id}/actions/{actionId}
 *
 * Strict like the service: only Basic auth (account e-mail : API token, the reference's
 * `--user 'email@example.com:<api_token>'`) is accepted, a GenieKey is refused; another cloud ID,
 * another path or method, an unknown or missing field, a wrong type is refused with JSM's error shape
 * `{"errors": [{"title": …}]}` (the reference's intro). The update and delete paths and the `name`
 * query come from Atlassian's Terraform provider (internal/provider/heartbeat_resource.go), the ping
 * path from the reference's "Ping Heartbeat" operation.
 *
 * The integration paths, the bodies' field names and "the key only in the create answer" come from
 * the Atlassian provider (internal/provider/api_integration_resource.go, integration_action_resource.go,
 * internal/dto/api_integration.go, integration_action_dto.go, the `api_key` and `team_id` attribute
 * docs) and the ops API reference's Integrations group (List integrations: `values` of id, name,
 * type, enabled, teamId). That provider sends its answer-only fields back (`id`, `apiKey`, …), so
 * they are accepted and ignored; any other unknown field is refused.
 *
 * Unconfirmed (chosen strictly, see test/fixtures/contracts/README.md): the status codes of create
 * (201 here), delete (204) and ping (202); the integration types JSM knows (API, Datadog, Webhook and
 * a few others here); a Webhook's typeSpecificProperties names (url, headers, addAlertDescription,
 * addAlertDetails, from Opsgenie's Webhook integration) and that url is required; the actions JSM
 * adds to a new integration (incoming create/acknowledge/close/add-note, or outgoing for a Webhook,
 * here); a duplicate integration name (409 here) and an unknown teamId (422 naming it here); the List teams entry fields (`teamId`, `teamName` here);
 * the error texts; what JSM answers for an unknown cloud ID or team (404 here) and for a duplicate
 * heartbeat name (409 here); whether a PATCH body may omit fields (here: any subset of the create
 * fields, but `name`, if sent, must be the heartbeat's).
 */

export const JSM_OPS_PREFIX = "/jsm/ops/api";

export interface JsmOpsTeam {
    readonly id: string;
    readonly name: string;
}

export interface JsmOpsOptions {
    /** The site's cloud ID; any other answers 404. */
    readonly cloudId: string;
    /** The account e-mail and API token Basic auth must carry. */
    readonly email: string;
    readonly apiToken: string;
    /** The operations teams the account can see. */
    readonly teams: readonly JsmOpsTeam[];
    /** Page size of List teams and List heartbeats when the request gives none. Default 20. */
    readonly pageSize?: number;
}

export type JsmOpsAction =
    | "list-teams"
    | "list-heartbeats"
    | "create-heartbeat"
    | "update-heartbeat"
    | "delete-heartbeat"
    | "ping-heartbeat"
    | "list-integrations"
    | "create-integration"
    | "get-integration"
    | "update-integration"
    | "delete-integration"
    | "list-actions"
    | "create-action"
    | "get-action"
    | "update-action"
    | "delete-action";

export interface JsmOpsRequest {
    readonly method: string;
    /** The path as sent (percent-encoded), without the query. */
    readonly path: string;
    readonly query: Readonly<Record<string, string>>;
    readonly action: JsmOpsAction | undefined;
    readonly teamId?: string;
    /** The integration (and action) in the path, for the integration operations. */
    readonly integrationId?: string;
    readonly actionId?: string;
    /** The heartbeat named by `?name=` (list, update, delete, ping) or the create body. */
    readonly heartbeat?: string;
    readonly body: unknown;
    /** `basic`, `geniekey`, `other` or `none`: which scheme the Authorization header used. */
    readonly auth: "basic" | "geniekey" | "other" | "none";
    readonly status: number;
}

export interface JsmOpsHeartbeat {
    readonly teamId: string;
    readonly name: string;
    readonly description: string;
    readonly interval: number;
    readonly intervalUnit: string;
    readonly enabled: boolean;
    readonly alertMessage: string;
    readonly alertTags: readonly string[];
    readonly alertPriority: string;
    /** Pings received since it was created. */
    readonly pings: number;
}

export interface JsmOpsIntegration {
    readonly id: string;
    readonly name: string;
    readonly type: string;
    readonly enabled: boolean;
    readonly teamId: string;
    readonly typeSpecificProperties: Readonly<Record<string, unknown>>;
    readonly apiKey: string | undefined;
}

export interface JsmOpsIntegrationAction {
    readonly id: string;
    readonly integrationId: string;
    readonly type: string;
    readonly name: string;
    readonly domain: string;
    readonly direction: string;
    readonly groupType: string;
    readonly enabled: boolean;
    readonly filter: unknown;
}

/** A scripted answer sent before authentication and validation (for retries, failures). */
export interface JsmOpsScriptedAnswer {
    readonly status: number;
    readonly body?: Readonly<Record<string, unknown>> | string;
    readonly headers?: Readonly<Record<string, string>>;
}

export interface JsmOpsStandIn {
    /** Serves a request whose path starts with {@link JSM_OPS_PREFIX}. */
    handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void;
    readonly requests: JsmOpsRequest[];
    /** The requests JSM would refuse whatever its state (path, method, auth scheme, body), one line each. */
    readonly violations: string[];
    /** The heartbeats as they stand, in creation order. */
    heartbeats(): JsmOpsHeartbeat[];
    /** Pings in order, by team and name (a ping of a heartbeat that does not exist is recorded too). */
    readonly pings: { readonly teamId: string; readonly name: string }[];
    /** The integrations as they stand, in creation order (with their keys, which JSM shows only at creation). */
    integrations(): JsmOpsIntegration[];
    /** An integration's actions as they stand. */
    integrationActions(integrationId: string): JsmOpsIntegrationAction[];
    /** Deletes an integration (or one action) behind alertline's back, as a person in JSM's UI would. */
    deleteIntegrationByHand(id: string): boolean;
    deleteIntegrationActionByHand(integrationId: string, actionId: string): boolean;
    /** Deletes a heartbeat behind alertline's back, as a person in JSM's UI would. */
    deleteByHand(teamId: string, name: string): boolean;
    /** Scripts answers: called for every request on a path this stand-in serves; undefined lets it answer. */
    script(answer: ((request: Omit<JsmOpsRequest, "status">) => JsmOpsScriptedAnswer | undefined) | undefined): void;
}

/** The create body's fields and their checks; the documented request body, nothing more. */
const HEARTBEAT_FIELDS: Record<string, (value: unknown) => string | undefined> = {
    name: (v) => (typeof v === "string" && v.trim() !== "" ? undefined : "must be a non-empty string"),
    description: (v) => (typeof v === "string" ? undefined : "must be a string"),
    interval: (v) => (typeof v === "number" && Number.isInteger(v) && v >= 1 ? undefined : "must be a whole number of 1 or more"),
    intervalUnit: (v) => (typeof v === "string" && ["minutes", "hours", "days"].includes(v) ? undefined : "must be one of minutes, hours, days"),
    enabled: (v) => (typeof v === "boolean" ? undefined : "must be true or false"),
    alertMessage: (v) => (typeof v === "string" ? undefined : "must be a string"),
    alertTags: (v) => (Array.isArray(v) && v.every((t) => typeof t === "string") ? undefined : "must be a list of strings"),
    alertPriority: (v) => (typeof v === "string" && ["P1", "P2", "P3", "P4", "P5"].includes(v) ? undefined : "must be one of P1, P2, P3, P4, P5"),
};
const REQUIRED_ON_CREATE = ["name", "interval", "intervalUnit"];

/** What is wrong with a heartbeat body, one line per field; empty when acceptable. Pure. */
export function heartbeatBodyProblems(body: unknown, mode: "create" | "update"): string[] {
    if (typeof body !== "object" || body === null || Array.isArray(body)) return ["the body must be a JSON object"];
    const fields = body as Record<string, unknown>;
    const problems: string[] = [];
    for (const [field, value] of Object.entries(fields)) {
        const check = HEARTBEAT_FIELDS[field];
        if (check === undefined) problems.push(`Unrecognized field "${field}"`);
        else {
            const why = check(value);
            if (why !== undefined) problems.push(`${field} ${why}`);
        }
    }
    if (mode === "create") for (const field of REQUIRED_ON_CREATE) if (fields[field] === undefined) problems.push(`${field} is required`);
    return problems;
}

/** Integration types this stand-in knows (unconfirmed list: the types alertline creates and a few of the provider's examples). */
export const JSM_INTEGRATION_TYPES = ["API", "Datadog", "Webhook", "Email", "AmazonSecurityHub", "AmazonRds"];
/** Answer-only fields the Atlassian provider sends back in its bodies (dto.ApiIntegration, dto.IntegrationActionDto): accepted, ignored. */
const READ_ONLY_INTEGRATION_FIELDS = ["id", "apiKey", "advanced", "maintenanceSources", "directions", "domains"];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const INTEGRATION_FIELDS: Record<string, (value: unknown) => string | undefined> = {
    name: (v) => (typeof v === "string" && v.trim() !== "" && v.length <= 250 ? undefined : "must be 1 to 250 characters"),
    type: (v) => (typeof v === "string" && JSM_INTEGRATION_TYPES.includes(v) ? undefined : `must be an integration type (${JSM_INTEGRATION_TYPES.join(", ")})`),
    enabled: (v) => (typeof v === "boolean" ? undefined : "must be true or false"),
    teamId: (v) => (typeof v === "string" && v !== "" ? undefined : "must be a team id"),
    typeSpecificProperties: (v) => (isObject(v) ? undefined : "must be an object"),
};

const WEBHOOK_PROPERTIES: Record<string, (value: unknown) => string | undefined> = {
    url: (v) => (typeof v === "string" && /^https?:\/\/\S+$/.test(v) ? undefined : "must be an http(s) URL"),
    headers: (v) => (isObject(v) && Object.values(v).every((h) => typeof h === "string") ? undefined : "must map header names to text"),
    addAlertDescription: (v) => (typeof v === "boolean" ? undefined : "must be true or false"),
    addAlertDetails: (v) => (typeof v === "boolean" ? undefined : "must be true or false"),
};

/** What is wrong with an integration body, one line per field; empty when acceptable. Pure. */
export function integrationBodyProblems(body: unknown, mode: "create" | "update", type?: string): string[] {
    if (!isObject(body)) return ["the body must be a JSON object"];
    const problems: string[] = [];
    for (const [field, value] of Object.entries(body)) {
        if (READ_ONLY_INTEGRATION_FIELDS.includes(field)) continue;
        const check = INTEGRATION_FIELDS[field];
        if (check === undefined) problems.push(`Unrecognized field "${field}"`);
        else {
            const why = check(value);
            if (why !== undefined) problems.push(`${field} ${why}`);
        }
    }
    if (mode === "create") for (const field of ["name", "type"]) if (body[field] === undefined) problems.push(`${field} is required`);
    const effectiveType = typeof body.type === "string" ? body.type : type;
    if (effectiveType === "Webhook" && isObject(body.typeSpecificProperties)) {
        const props = body.typeSpecificProperties;
        for (const [field, value] of Object.entries(props)) {
            const check = WEBHOOK_PROPERTIES[field];
            if (check === undefined) problems.push(`Unrecognized field "typeSpecificProperties.${field}" for a Webhook integration`);
            else {
                const why = check(value);
                if (why !== undefined) problems.push(`typeSpecificProperties.${field} ${why}`);
            }
        }
        if (props.url === undefined) problems.push("typeSpecificProperties.url is required for a Webhook integration");
    } else if (effectiveType === "Webhook" && mode === "create") problems.push("typeSpecificProperties.url is required for a Webhook integration");
    return problems;
}

const ACTION_FIELDS: Record<string, (value: unknown) => string | undefined> = {
    type: (v) => (typeof v === "string" && v.length >= 1 && v.length <= 250 ? undefined : "must be 1 to 250 characters"),
    name: (v) => (typeof v === "string" && v.trim() !== "" && v.length <= 250 ? undefined : "must be 1 to 250 characters"),
    domain: (v) => (v === "alert" ? undefined : "must be alert"),
    direction: (v) => (v === "incoming" || v === "outgoing" ? undefined : "must be incoming or outgoing"),
    groupType: (v) => (v === "forwarding" || v === "updating" || v === "checkbox" ? undefined : "must be forwarding, updating or checkbox"),
    filter: (v) => {
        if (!isObject(v)) return "must be an object";
        if (!["match-all", "match-any-condition", "match-all-conditions"].includes(v.conditionMatchType as string)) return "conditionMatchType must be match-all, match-any-condition or match-all-conditions";
        if (typeof v.conditionsEmpty !== "boolean") return "conditionsEmpty must be true or false";
        if (v.conditions !== undefined && v.conditions !== null && !Array.isArray(v.conditions)) return "conditions must be a list";
        return undefined;
    },
    typeSpecificProperties: (v) => (isObject(v) ? undefined : "must be an object"),
    fieldMappings: (v) => (isObject(v) ? undefined : "must be an object"),
    actionMapping: (v) => (isObject(v) && typeof v.type === "string" ? undefined : "must be an object with a type"),
    enabled: (v) => (typeof v === "boolean" ? undefined : "must be true or false"),
};

/** What is wrong with an integration action body, one line per field; empty when acceptable. Pure. */
export function actionBodyProblems(body: unknown, mode: "create" | "update"): string[] {
    if (!isObject(body)) return ["the body must be a JSON object"];
    const problems: string[] = [];
    for (const [field, value] of Object.entries(body)) {
        if (field === "id") continue;
        const check = ACTION_FIELDS[field];
        if (check === undefined) problems.push(`Unrecognized field "${field}"`);
        else {
            const why = check(value);
            if (why !== undefined) problems.push(`${field} ${why}`);
        }
    }
    if (mode === "create") for (const field of ["type", "name", "domain", "direction"]) if (body[field] === undefined) problems.push(`${field} is required`);
    return problems;
}

type Route =
    | { readonly action: "list-teams"; readonly methods: readonly string[] }
    | { readonly action: "heartbeats"; readonly methods: readonly string[]; readonly teamId: string }
    | { readonly action: "ping-heartbeat"; readonly methods: readonly string[]; readonly teamId: string }
    | { readonly action: "integrations"; readonly methods: readonly string[] }
    | { readonly action: "integration"; readonly methods: readonly string[]; readonly integrationId: string }
    | { readonly action: "actions"; readonly methods: readonly string[]; readonly integrationId: string }
    | { readonly action: "integration-action"; readonly methods: readonly string[]; readonly integrationId: string; readonly actionId: string };

function routeOf(path: string): Route | undefined {
    if (path === "/v1/teams") return { action: "list-teams", methods: ["GET"] };
    const heartbeats = /^\/v1\/teams\/([^/]+)\/heartbeats$/.exec(path);
    if (heartbeats) return { action: "heartbeats", methods: ["GET", "POST", "PATCH", "DELETE"], teamId: decodeURIComponent(heartbeats[1]) };
    const ping = /^\/v1\/teams\/([^/]+)\/heartbeats\/ping$/.exec(path);
    if (ping) return { action: "ping-heartbeat", methods: ["GET"], teamId: decodeURIComponent(ping[1]) };
    if (path === "/v1/integrations") return { action: "integrations", methods: ["GET", "POST"] };
    const integration = /^\/v1\/integrations\/([^/]+)$/.exec(path);
    if (integration) return { action: "integration", methods: ["GET", "PATCH", "DELETE"], integrationId: decodeURIComponent(integration[1]) };
    const actions = /^\/v1\/integrations\/([^/]+)\/actions$/.exec(path);
    if (actions) return { action: "actions", methods: ["GET", "POST"], integrationId: decodeURIComponent(actions[1]) };
    const action = /^\/v1\/integrations\/([^/]+)\/actions\/([^/]+)$/.exec(path);
    if (action) return { action: "integration-action", methods: ["GET", "PATCH", "DELETE"], integrationId: decodeURIComponent(action[1]), actionId: decodeURIComponent(action[2]) };
    return undefined;
}

function authScheme(header: string | undefined): JsmOpsRequest["auth"] {
    if (header === undefined || header.trim() === "") return "none";
    if (/^Basic\s+/i.test(header)) return "basic";
    if (/^GenieKey\s+/i.test(header)) return "geniekey";
    return "other";
}

function page<T>(items: readonly T[], query: Readonly<Record<string, string>>, defaultSize: number, path: string, keep: Readonly<Record<string, string>>): { values: T[]; links: { next?: string } } {
    const offset = Math.max(0, Number.parseInt(query.offset ?? "0", 10) || 0);
    const size = Math.max(1, Number.parseInt(query.size ?? String(defaultSize), 10) || defaultSize);
    const values = items.slice(offset, offset + size);
    const links: { next?: string } = {};
    if (offset + size < items.length) links.next = `${path}?${new URLSearchParams({ ...keep, offset: String(offset + size), size: String(size) }).toString()}`;
    return { values, links };
}

/** The actions JSM puts on a new integration (unconfirmed which; the Atlassian provider's `delete_default_actions` removes them). */
const DEFAULT_ACTIONS = ["create", "acknowledge", "close", "add-note"];

type MutableIntegration = { -readonly [K in keyof JsmOpsIntegration]: JsmOpsIntegration[K] } & { actions: MutableAction[] };
type MutableAction = { -readonly [K in keyof JsmOpsIntegrationAction]: JsmOpsIntegrationAction[K] };

export function createJsmOpsStandIn(options: JsmOpsOptions | undefined, log: (line: string) => void): JsmOpsStandIn {
    const requests: JsmOpsRequest[] = [];
    const violations: string[] = [];
    const pings: { teamId: string; name: string }[] = [];
    const heartbeats: { -readonly [K in keyof JsmOpsHeartbeat]: JsmOpsHeartbeat[K] }[] = [];
    const integrations: MutableIntegration[] = [];
    let scripted: ((request: Omit<JsmOpsRequest, "status">) => JsmOpsScriptedAnswer | undefined) | undefined;
    const expected = options === undefined ? undefined : `Basic ${Buffer.from(`${options.email}:${options.apiToken}`, "utf8").toString("base64")}`;
    const pageSize = options?.pageSize ?? 20;

    const view = (h: JsmOpsHeartbeat) => ({
        name: h.name,
        description: h.description,
        interval: h.interval,
        intervalUnit: h.intervalUnit,
        enabled: h.enabled,
        status: h.pings > 0 ? "Responsive" : "Pending",
        ownerTeamId: h.teamId,
        alertMessage: h.alertMessage,
        alertTags: [...h.alertTags],
        alertPriority: h.alertPriority,
    });

    function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
        const method = req.method ?? "";
        const url = new URL(req.url ?? "/", "http://localhost");
        const path = url.pathname;
        const query = Object.fromEntries(url.searchParams);
        const auth = authScheme(req.headers.authorization);
        const text = raw.toString("utf8");
        let body: unknown;
        let isJson = true;
        if (text.trim() !== "") {
            try {
                body = JSON.parse(text);
            } catch {
                body = text;
                isJson = false;
            }
        }
        const send = (status: number, payload: Record<string, unknown> | undefined, headers: Readonly<Record<string, string>> = {}) => {
            res.writeHead(status, payload === undefined ? headers : { "content-type": "application/json", ...headers });
            res.end(payload === undefined ? undefined : JSON.stringify(payload));
        };
        let fields: Partial<JsmOpsRequest> = {};
        // `contract`: a request JSM would refuse whatever its state (path, method, auth scheme, body); false for
        // answers about the account's state (wrong credentials, unknown team or heartbeat, a duplicate name).
        const refuse = (status: number, title: string, contract = true) => {
            if (contract) violations.push(`${status} ${method} ${path}: ${title}`);
            requests.push({ method, path, query, action: undefined, body, auth, ...fields, status });
            log(`[jsm] ${status} ${method} ${path}: ${title}`);
            send(status, { errors: [{ title }] });
        };

        const rest = path.slice(JSM_OPS_PREFIX.length);
        const site = /^\/([^/]+)(\/.*)?$/.exec(rest);
        if (options === undefined) return refuse(404, "No JSM site is configured in this stand-in (start it with jsmOps)");
        if (!site || site[1] !== encodeURIComponent(options.cloudId)) return refuse(404, `Site ${site?.[1] ?? "(none)"} not found: the cloud ID in the path is not this site's`, false);
        let route: Route | undefined;
        try {
            route = routeOf(site[2] ?? "/");
        } catch {
            return refuse(400, "Malformed percent-encoding in the path");
        }
        if (route === undefined) return refuse(404, `No such ops REST API resource: ${method} ${site[2] ?? "/"}`);
        const byMethod: Record<string, JsmOpsAction> = { GET: "list-heartbeats", POST: "create-heartbeat", PATCH: "update-heartbeat", DELETE: "delete-heartbeat" };
        const integrationAction: Record<string, Record<string, JsmOpsAction>> = {
            integrations: { GET: "list-integrations", POST: "create-integration" },
            integration: { GET: "get-integration", PATCH: "update-integration", DELETE: "delete-integration" },
            actions: { GET: "list-actions", POST: "create-action" },
            "integration-action": { GET: "get-action", PATCH: "update-action", DELETE: "delete-action" },
        };
        const action: JsmOpsAction =
            route.action === "heartbeats"
                ? (byMethod[method] ?? "list-heartbeats")
                : route.action in integrationAction
                  ? (integrationAction[route.action][method] ?? Object.values(integrationAction[route.action])[0])
                  : (route.action as JsmOpsAction);
        const teamId = "teamId" in route ? route.teamId : undefined;
        const integrationId = "integrationId" in route ? route.integrationId : undefined;
        const actionId = "actionId" in route ? route.actionId : undefined;
        const heartbeat = action === "create-heartbeat" ? (body as { name?: unknown } | undefined)?.name : route.action === "heartbeats" || route.action === "ping-heartbeat" ? query.name : undefined;
        fields = {
            action,
            ...(teamId === undefined ? {} : { teamId }),
            ...(integrationId === undefined ? {} : { integrationId }),
            ...(actionId === undefined ? {} : { actionId }),
            ...(typeof heartbeat === "string" ? { heartbeat } : {}),
        };
        if (!route.methods.includes(method)) return refuse(405, `Method ${method} is not allowed here; use ${route.methods.join(", ")}`);

        const script = scripted?.({ method, path, query, body, auth, action, ...fields });
        if (script !== undefined) {
            requests.push({ method, path, query, body, auth, action, ...fields, status: script.status });
            log(`[jsm] ${script.status} ${method} ${path}: scripted answer; nothing changed`);
            if (typeof script.body === "string") {
                res.writeHead(script.status, { "content-type": "application/json", ...script.headers });
                res.end(script.body);
                return;
            }
            return send(script.status, script.body ?? { errors: [{ title: `Scripted answer ${script.status}` }] }, script.headers);
        }

        if (auth !== "basic") {
            return refuse(401, auth === "geniekey" ? "GenieKey is not accepted by the ops REST API: use Basic auth with the account e-mail and an API token" : "Authentication required: Basic auth with the account e-mail and an API token");
        }
        if (req.headers.authorization !== expected) return refuse(401, "Client must be authenticated to access this resource: the e-mail or API token is wrong", false);
        if (!isJson) return refuse(400, "The body is not JSON");
        if (teamId !== undefined && !options.teams.some((t) => t.id === teamId)) return refuse(404, `Team ${teamId} not found`, false);
        const needsName = action === "update-heartbeat" || action === "delete-heartbeat" || action === "ping-heartbeat";
        if (needsName && (query.name === undefined || query.name === "")) return refuse(400, "Query parameter name is required: the heartbeat's name");
        const bodiless: JsmOpsAction[] = ["list-teams", "list-heartbeats", "delete-heartbeat", "ping-heartbeat", "list-integrations", "get-integration", "delete-integration", "list-actions", "get-action", "delete-action"];
        if (bodiless.includes(action) && body !== undefined) {
            return refuse(400, `${method} takes no request body`);
        }
        const ok = (status: number, payload: Record<string, unknown> | undefined) => {
            requests.push({ method, path, query, body, auth, action, ...fields, status });
            send(status, payload);
        };
        const found = () => heartbeats.findIndex((h) => h.teamId === teamId && h.name === query.name);

        const integrationIndex = () => integrations.findIndex((i) => i.id === integrationId);
        const integrationView = (i: MutableIntegration, withKey: boolean) => ({
            id: i.id,
            name: i.name,
            type: i.type,
            enabled: i.enabled,
            teamId: i.teamId,
            advanced: false,
            maintenanceSources: [],
            directions: i.type === "Webhook" ? ["outgoing"] : ["incoming", "outgoing"],
            domains: ["alert"],
            typeSpecificProperties: structuredClone(i.typeSpecificProperties),
            ...(withKey && i.apiKey !== undefined ? { apiKey: i.apiKey } : {}),
        });
        const actionView = (a: MutableAction) => ({ id: a.id, type: a.type, name: a.name, domain: a.domain, direction: a.direction, groupType: a.groupType, filter: structuredClone(a.filter), enabled: a.enabled });
        if (integrationId !== undefined && integrationIndex() < 0) return refuse(404, `Integration with id ${integrationId} not found`, false);
        const owner = integrationId === undefined ? undefined : integrations[integrationIndex()];
        const actionIndex = () => (owner === undefined ? -1 : owner.actions.findIndex((a) => a.id === actionId));
        if (actionId !== undefined && actionIndex() < 0) return refuse(404, `Integration action with id ${actionId} not found`, false);

        switch (action) {
            case "list-integrations": {
                const mine = integrations.filter((i) => (query.type === undefined || i.type === query.type) && (query.teamId === undefined || i.teamId === query.teamId) && (query.name === undefined || i.name === query.name));
                return ok(200, page(mine.map((i) => ({ id: i.id, name: i.name, type: i.type, enabled: i.enabled, teamId: i.teamId })), query, pageSize, "/v1/integrations", {}));
            }
            case "create-integration": {
                const problems = integrationBodyProblems(body, "create");
                if (problems.length > 0) return refuse(422, problems.join("; "));
                const b = body as Record<string, unknown>;
                if (b.teamId !== undefined && !options.teams.some((t) => t.id === b.teamId)) return refuse(422, `teamId ${String(b.teamId)}: no such team`, false);
                if (integrations.some((i) => i.name === b.name)) return refuse(409, `Integration with name ${String(b.name)} already exists`, false);
                const created: MutableIntegration = {
                    id: randomUUID(),
                    name: b.name as string,
                    type: b.type as string,
                    enabled: (b.enabled as boolean | undefined) ?? false,
                    teamId: (b.teamId as string | undefined) ?? "",
                    typeSpecificProperties: structuredClone((b.typeSpecificProperties as Record<string, unknown> | undefined) ?? {}),
                    apiKey: b.type === "Webhook" ? undefined : randomUUID(),
                    actions: [],
                };
                const direction = created.type === "Webhook" ? "outgoing" : "incoming";
                for (const type of DEFAULT_ACTIONS) {
                    created.actions.push({ id: randomUUID(), integrationId: created.id, type, name: `${type} (default)`, domain: "alert", direction, groupType: "forwarding", enabled: true, filter: { conditionsEmpty: true, conditionMatchType: "match-all", conditions: [] } });
                }
                integrations.push(created);
                log(`[jsm] integration created: ${created.name} (${created.type}, team ${created.teamId})`);
                return ok(201, integrationView(created, true));
            }
            case "get-integration":
                return ok(200, integrationView(owner!, false));
            case "update-integration": {
                const problems = integrationBodyProblems(body ?? {}, "update", owner!.type);
                if (problems.length > 0) return refuse(422, problems.join("; "));
                const b = (body ?? {}) as Record<string, unknown>;
                if (b.type !== undefined && b.type !== owner!.type) return refuse(422, `type cannot be changed (integration ${owner!.id} is ${owner!.type})`);
                if (b.teamId !== undefined && b.teamId !== owner!.teamId) return refuse(422, `teamId cannot be changed after creation`);
                if (typeof b.name === "string" && b.name !== owner!.name && integrations.some((i) => i.name === b.name)) return refuse(409, `Integration with name ${b.name} already exists`, false);
                if (typeof b.name === "string") owner!.name = b.name;
                if (typeof b.enabled === "boolean") owner!.enabled = b.enabled;
                if (isObject(b.typeSpecificProperties)) owner!.typeSpecificProperties = structuredClone(b.typeSpecificProperties);
                log(`[jsm] integration updated: ${owner!.name}`);
                return ok(200, integrationView(owner!, false));
            }
            case "delete-integration":
                integrations.splice(integrationIndex(), 1);
                log(`[jsm] integration deleted: ${owner!.name}`);
                return ok(204, undefined);
            case "list-actions":
                return ok(200, page(owner!.actions.map((a) => ({ id: a.id, type: a.type, name: a.name, direction: a.direction, domain: a.domain })), query, pageSize, `/v1/integrations/${encodeURIComponent(owner!.id)}/actions`, {}));
            case "create-action": {
                const problems = actionBodyProblems(body, "create");
                if (problems.length > 0) return refuse(422, problems.join("; "));
                const b = body as Record<string, unknown>;
                const created: MutableAction = {
                    id: randomUUID(),
                    integrationId: owner!.id,
                    type: b.type as string,
                    name: b.name as string,
                    domain: b.domain as string,
                    direction: b.direction as string,
                    groupType: (b.groupType as string | undefined) ?? "forwarding",
                    enabled: (b.enabled as boolean | undefined) ?? true,
                    filter: structuredClone(b.filter ?? { conditionsEmpty: true, conditionMatchType: "match-all", conditions: [] }),
                };
                owner!.actions.push(created);
                log(`[jsm] integration action created: ${owner!.name} ${created.direction} ${created.type}`);
                return ok(201, actionView(created));
            }
            case "get-action":
                return ok(200, actionView(owner!.actions[actionIndex()]));
            case "update-action": {
                const problems = actionBodyProblems(body ?? {}, "update");
                if (problems.length > 0) return refuse(422, problems.join("; "));
                const target = owner!.actions[actionIndex()];
                for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) {
                    if (k in target && k !== "id" && k !== "integrationId") (target as unknown as Record<string, unknown>)[k] = structuredClone(v);
                }
                return ok(200, actionView(target));
            }
            case "delete-action":
                owner!.actions.splice(actionIndex(), 1);
                return ok(204, undefined);
            case "list-teams":
                return ok(200, page(options.teams.map((t) => ({ teamId: t.id, teamName: t.name })), query, pageSize, "/v1/teams", {}));
            case "list-heartbeats": {
                const mine = heartbeats.filter((h) => h.teamId === teamId && (query.name === undefined || h.name === query.name));
                const keep: Record<string, string> = query.name === undefined ? {} : { name: query.name };
                return ok(200, page(mine.map(view), query, pageSize, `/v1/teams/${encodeURIComponent(teamId!)}/heartbeats`, keep));
            }
            case "create-heartbeat": {
                const problems = heartbeatBodyProblems(body, "create");
                if (problems.length > 0) return refuse(422, problems.join("; "));
                const b = body as Record<string, unknown>;
                if (heartbeats.some((h) => h.teamId === teamId && h.name === b.name)) return refuse(409, `Heartbeat with name ${String(b.name)} already exists`, false);
                const created = {
                    teamId: teamId!,
                    name: b.name as string,
                    description: (b.description as string | undefined) ?? "",
                    interval: b.interval as number,
                    intervalUnit: b.intervalUnit as string,
                    enabled: (b.enabled as boolean | undefined) ?? false,
                    alertMessage: (b.alertMessage as string | undefined) ?? `${b.name as string} is expired`,
                    alertTags: (b.alertTags as string[] | undefined) ?? [],
                    alertPriority: (b.alertPriority as string | undefined) ?? "P3",
                    pings: 0,
                };
                heartbeats.push(created);
                log(`[jsm] heartbeat created: ${created.name} (${created.interval} ${created.intervalUnit}, team ${teamId})`);
                return ok(201, view(created));
            }
            case "update-heartbeat": {
                const problems = heartbeatBodyProblems(body ?? {}, "update");
                if (problems.length > 0) return refuse(422, problems.join("; "));
                const b = (body ?? {}) as Record<string, unknown>;
                if (b.name !== undefined && b.name !== query.name) return refuse(422, `name cannot be changed (heartbeat ${query.name}, body names ${String(b.name)})`);
                const i = found();
                if (i < 0) return refuse(404, `Heartbeat with name ${query.name} not found`, false);
                Object.assign(heartbeats[i], Object.fromEntries(Object.entries(b).filter(([k]) => k !== "name")));
                log(`[jsm] heartbeat updated: ${query.name}`);
                return ok(200, view(heartbeats[i]));
            }
            case "delete-heartbeat": {
                const i = found();
                if (i < 0) return refuse(404, `Heartbeat with name ${query.name} not found`, false);
                heartbeats.splice(i, 1);
                log(`[jsm] heartbeat deleted: ${query.name}`);
                return ok(204, undefined);
            }
            case "ping-heartbeat": {
                pings.push({ teamId: teamId!, name: query.name });
                const i = found();
                if (i >= 0) heartbeats[i].pings++;
                log(`[jsm] heartbeat pinged: ${query.name}${i < 0 ? " (no such heartbeat; answered as JSM does, without checking)" : ""}`);
                return ok(202, { result: "PONG - Heartbeat received" });
            }
        }
    }

    return {
        handle,
        requests,
        violations,
        heartbeats: () => heartbeats.map((h) => ({ ...h, alertTags: [...h.alertTags] })),
        pings,
        integrations: () => integrations.map(({ actions: _actions, ...i }) => structuredClone(i)),
        integrationActions: (id) => (integrations.find((i) => i.id === id)?.actions ?? []).map((a) => structuredClone(a)),
        deleteIntegrationByHand(id) {
            const i = integrations.findIndex((x) => x.id === id);
            if (i >= 0) integrations.splice(i, 1);
            return i >= 0;
        },
        deleteIntegrationActionByHand(integrationId, actionId) {
            const actions = integrations.find((x) => x.id === integrationId)?.actions ?? [];
            const i = actions.findIndex((a) => a.id === actionId);
            if (i >= 0) actions.splice(i, 1);
            return i >= 0;
        },
        deleteByHand(teamId, name) {
            const i = heartbeats.findIndex((h) => h.teamId === teamId && h.name === name);
            if (i >= 0) heartbeats.splice(i, 1);
            return i >= 0;
        },
        script(answer) {
            scripted = answer;
        },
    };
}
