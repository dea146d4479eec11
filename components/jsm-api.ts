/**
 * Jira Service Management's ops REST API as plain data: which request each JSM resource operation
 * sends, and what the answers mean. The Opsgenie sibling is opsgenie-api.ts; JSM is where Opsgenie
 * accounts move (Opsgenie support ends 2027-04-05).
 *
 * Sources:
 * - Atlassian, "Jira Service Management ops REST API" (developer.atlassian.com/cloud/jira/service-desk-ops/rest/v2/):
 *   base `https://api.atlassian.com/jsm/ops/api/{cloudId}`, Basic auth with the account's e-mail and
 *   an API token (intro); errors `{"errors": [{"title": …}]}` (intro); heartbeats (api-group-heartbeats):
 *   list `GET /v1/teams/{teamId}/heartbeats?name=`, create `POST /v1/teams/{teamId}/heartbeats` with
 *   `name`, `interval`, `intervalUnit` required and `description`, `enabled`, `alertMessage`,
 *   `alertTags`, `alertPriority` optional; the Heartbeat answer adds `status` and `ownerTeamId`.
 * - atlassian/terraform-provider-atlassian-operations (internal/provider/heartbeat_resource.go,
 *   internal/dto/heartbeat_dto.go, internal/httpClient/httpClientHelpers/helpers.go): the same base and
 *   auth; update `PATCH` and delete `DELETE /v1/teams/{teamId}/heartbeats?name=<name>`; read lists by
 *   `?name=` and picks the entry with that name, and treats 404 or no such entry as gone.
 * - List teams `GET /v1/teams` ("Lists operations teams based on the user's role"): the ops API's
 *   Team group. Its answer's shape is unconfirmed (see parseTeamsPage).
 *
 * Nothing here does I/O, and nothing here may capture module state beyond other functions of this
 * file: the dynamic providers in jsm.ts capture this module by value when Pulumi serialises them.
 * What Opsgenie's API shares is in oncall-api-common.ts and functions/shared/oncall-http.ts,
 * captured along with this module.
 */

import { jsmBasicAuthorization, jsmCredentialSecrets, jsmErrorText as errorMessageOf, jsmOpsApiUrl, JSM_OPS_GATEWAY_URL as JSM_API_URL, redact } from "../functions/shared/oncall-http";
import { heartbeatAlertFields, type HeartbeatAlertFields, type HeartbeatAlertInput, jsonObjectBody, requestLabel } from "./oncall-api-common";

export { redact } from "../functions/shared/oncall-http";
/** Atlassian's API gateway; the ops REST API is under `/jsm/ops/api/{cloudId}` (jsmOpsApiUrl). */
export { JSM_API_URL };
/** JSM's error body as one text (functions/shared/oncall-http.ts jsmErrorText). */
export { errorMessageOf };
// Named, not `export *`: Pulumi's closure serialiser fails on a star re-export (TypeError from
// Symbol.prototype[@@toPrimitive] in the mocks tests), and the providers use these through `api`.
export {
    type AlertPriority,
    DEFAULT_ALERT_PRIORITY,
    DEFAULT_MAX_ATTEMPTS,
    defaultHeartbeatAlertMessage,
    type HeartbeatIntervalUnit,
    isRetryableStatus,
    requestLabel,
    retryDelayMs,
    sameSet,
} from "./oncall-api-common";

/** Credentials and endpoint; the Atlassian provider takes these as provider config (cloud_id, email_address, token). */
export interface JsmConnection {
    /** Gateway base URL, {@link JSM_API_URL} except in tests. */
    readonly apiUrl: string;
    readonly cloudId: string;
    /** The Atlassian account's e-mail address (Basic auth user name). */
    readonly email: string;
    /** That account's API token (Basic auth password). */
    readonly apiToken: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks a resolved `connection` input and names the field to fix. */
export function checkConnection(value: unknown): JsmConnection {
    if (typeof value !== "object" || value === null) {
        throw new Error("JSM connection is missing: pass { cloudId, email, apiToken } (and apiUrl only to point at a stand-in).");
    }
    const { apiUrl, cloudId, email, apiToken } = value as Record<string, unknown>;
    const url = apiUrl ?? JSM_API_URL;
    if (typeof url !== "string" || !/^https?:\/\/[^/\s?#]+\/?$/.test(url)) {
        throw new Error(`JSM connection.apiUrl "${String(url)}" is not a base URL: leave it out (${JSM_API_URL}) or give a stand-in's http://127.0.0.1:<port>.`);
    }
    if (typeof cloudId !== "string" || !UUID.test(cloudId)) {
        throw new Error(`JSM connection.cloudId "${String(cloudId)}" is not a cloud ID: copy "cloudId" from https://<your-site>.atlassian.net/_edge/tenant_info (a UUID).`);
    }
    if (typeof email !== "string" || !/^[^\s@]+@[^\s@]+$/.test(email)) {
        throw new Error("JSM connection.email is not an e-mail address: give the address of the Atlassian account that owns the API token.");
    }
    if (typeof apiToken !== "string" || apiToken.trim() === "") {
        throw new Error("JSM connection.apiToken is empty: create an API token at https://id.atlassian.com/manage-profile/security/api-tokens and pass it as a Pulumi secret.");
    }
    return { apiUrl: url.replace(/\/+$/, ""), cloudId, email, apiToken };
}

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** One call to the ops REST API, before the base URL, cloud ID and credentials are added. */
export interface JsmRequest {
    readonly method: HttpMethod;
    /** Path under `/jsm/ops/api/{cloudId}`, e.g. `/v1/teams/{teamId}/heartbeats`; also how errors name the operation. */
    readonly path: string;
    readonly query?: Readonly<Record<string, string>>;
    readonly body?: Readonly<Record<string, unknown>>;
}

export function requestUrl(connection: Pick<JsmConnection, "apiUrl" | "cloudId">, request: JsmRequest): string {
    const url = new URL(`${jsmOpsApiUrl(connection.cloudId, connection.apiUrl)}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    return url.toString();
}

export function requestHeaders(connection: Pick<JsmConnection, "email" | "apiToken">, request: JsmRequest): Record<string, string> {
    const headers: Record<string, string> = { Authorization: jsmBasicAuthorization(connection.email, connection.apiToken), Accept: "application/json" };
    if (request.body !== undefined) headers["Content-Type"] = "application/json";
    return headers;
}

/** What error texts must never repeat: the token, and the Basic credential built from it. */
export function connectionSecrets(connection: Pick<JsmConnection, "email" | "apiToken">): string[] {
    return jsmCredentialSecrets(connection.email, connection.apiToken);
}

/** What came back from one HTTP exchange. */
export interface JsmAnswer {
    readonly status: number;
    readonly bodyText: string;
    readonly retryAfter?: string | null;
}

/** The fields of the request body (and query) that the error text names: what JSM refused. */
export function refusedFields(request: JsmRequest, errorText: string): string[] {
    const names = [...Object.keys(request.body ?? {}), ...Object.keys(request.query ?? {})];
    return [...new Set(names)].filter((field) => new RegExp(`(^|[^A-Za-z0-9_])${field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^A-Za-z0-9_]|$)`, "i").test(errorText));
}

function hintFor(request: JsmRequest, status: number, errorText: string, attempts: number): string {
    const tries = `gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
    if (status === 401)
        return "the e-mail and API token were not accepted: check alertline:oncall.email and alertline:jsmApiToken (a token from https://id.atlassian.com/manage-profile/security/api-tokens for that account, not revoked or expired).";
    if (status === 403) return "the account may not do this: give it a JSM role with access to the team's operations configuration (heartbeats), or an admin role.";
    if (status === 404) return "nothing is at this path for this site: check alertline:oncall.cloudId and that the team still exists in JSM.";
    if (status === 429) return `JSM rate-limited the ops REST API and ${tries}; wait a minute and run \`pulumi up\` again.`;
    if (status >= 500) return `JSM failed on its side and ${tries}; try again later and check Atlassian's status page.`;
    if (status === 400 || status === 409 || status === 422) {
        const fields = refusedFields(request, errorText);
        if (fields.length > 0) return `JSM refused ${fields.map((f) => `\`${f}\``).join(", ")}: fix ${fields.length === 1 ? "that value" : "those values"} (a name already taken is refused this way too).`;
        const sent = Object.keys(request.body ?? {});
        return `JSM refused the request without naming a field we sent${sent.length > 0 ? ` (sent: ${sent.join(", ")})` : ""}; check them against the ops REST API docs.`;
    }
    return "JSM answered in a way alertline does not expect; check the request in the ops REST API docs.";
}

/** `JSM POST /v1/teams/<id>/heartbeats answered 422: … — JSM refused `interval`: …`, secrets removed. */
export function failureMessage(request: JsmRequest, answer: JsmAnswer, secrets: readonly string[], attempts = 1): string {
    const text = errorMessageOf(answer.bodyText);
    return redact(`JSM ${requestLabel(request)} answered ${answer.status}: ${text} — ${hintFor(request, answer.status, text, attempts)}`, secrets);
}

export function unreachableMessage(request: JsmRequest, apiUrl: string, reason: string, secrets: readonly string[], attempts: number): string {
    return redact(`JSM ${requestLabel(request)} could not reach ${apiUrl} in ${attempts} attempt${attempts === 1 ? "" : "s"}: ${reason} — check the network (and connection.apiUrl if set).`, secrets);
}

/** Parses a 2xx answer's JSON object (an empty body is `{}`), or throws naming the operation. */
export function successBody(request: JsmRequest, answer: JsmAnswer, secrets: readonly string[], attempts = 1): Record<string, unknown> {
    if (answer.status < 200 || answer.status > 299) throw new Error(failureMessage(request, answer, secrets, attempts));
    return jsonObjectBody("JSM", request, answer, secrets);
}

function stringField(data: Record<string, unknown>, ...fields: string[]): string | undefined {
    for (const field of fields) {
        const value = data[field];
        if (typeof value === "string" && value !== "") return value;
    }
    return undefined;
}

function segment(id: string, what: string): string {
    if (id === "" || id === "." || id === "..") throw new Error(`A JSM ${what} "${id}" cannot be a path segment.`);
    return encodeURIComponent(id);
}

/**
 * The query of a paginated answer's `links.next` (e.g. `/v1/teams/<id>/heartbeats?offset=13&size=5`,
 * the shape in the heartbeats docs); undefined on the last page.
 */
export function nextPageQuery(body: Record<string, unknown>): Record<string, string> | undefined {
    const links = body.links;
    if (typeof links !== "object" || links === null) return undefined;
    const next = (links as Record<string, unknown>).next;
    if (typeof next !== "string" || next === "") return undefined;
    return Object.fromEntries(new URL(next, "http://next.invalid").searchParams);
}

/** Pages read at most in one lookup, so a misbehaving `links.next` cannot loop. */
export const MAX_PAGES = 50;

// ---------------------------------------------------------------- teams

export function listTeamsRequest(page: Readonly<Record<string, string>> = {}): JsmRequest {
    return { method: "GET", path: "/v1/teams", query: page };
}

export interface TeamEntry {
    readonly id: string;
    readonly name: string;
}

/**
 * One page of `GET /v1/teams`: `{values: [...], links: {next}}` like the ops API's other lists.
 * Unconfirmed: the entries' field names. Read as `teamId` or `id` for the id and `teamName`,
 * `name` or `displayName` (the Teams API's name field) for the name; entries without both are skipped.
 */
export function parseTeamsPage(request: JsmRequest, body: Record<string, unknown>): { readonly teams: TeamEntry[]; readonly next?: Record<string, string> } {
    const values = body.values;
    if (!Array.isArray(values)) throw new Error(`JSM ${requestLabel(request)} answered without a "values" list; alertline cannot read the teams.`);
    const teams: TeamEntry[] = [];
    for (const entry of values) {
        if (typeof entry !== "object" || entry === null) continue;
        const id = stringField(entry as Record<string, unknown>, "teamId", "id");
        const name = stringField(entry as Record<string, unknown>, "teamName", "name", "displayName");
        if (id !== undefined && name !== undefined) teams.push({ id, name });
    }
    const next = nextPageQuery(body);
    return next === undefined ? { teams } : { teams, next };
}

/** Why the team named in config was not found, and what to check. */
export function teamNotFoundMessage(name: string, seen: readonly string[], email: string): string {
    const shown = seen.length === 0 ? "none" : seen.slice(0, 20).map((n) => `"${n}"`).join(", ") + (seen.length > 20 ? ", …" : "");
    return (
        `JSM has no operations team named "${name}" that ${email} can see (teams visible: ${shown}). ` +
        "Set alertline:oncall.team to the name JSM shows under Operations → Teams, and make sure the account is a member of that team " +
        "(JSM lists only the teams a user belongs to unless the user is an admin)."
    );
}

// ---------------------------------------------------------------- heartbeats

/** The heartbeat's fields as alertline manages them; the names are the ops REST API's (and the Atlassian provider's, in camel case). */
export interface HeartbeatFields extends HeartbeatAlertFields {
    readonly name: string;
}

export interface HeartbeatInput extends HeartbeatAlertInput {
    readonly name?: unknown;
}

/**
 * Validates resolved heartbeat inputs and applies defaults (description "", enabled true, no tags,
 * P3, "<name> is expired"), naming the field at fault. Unconfirmed: JSM's own name rule. Its docs'
 * create example is named "DNS Server Checker", so spaces are allowed (unlike Opsgenie's
 * `^[a-zA-Z0-9._-]+$`); 1–100 characters without control characters or surrounding spaces is
 * asked here (the name travels percent-encoded in a query string). The other fields have an
 * alert's limits, as in Opsgenie (oncall-api-common.ts heartbeatAlertFields): alert message ≤130,
 * ≤20 tags of ≤50 characters.
 */
export function heartbeatFields(input: HeartbeatInput): HeartbeatFields {
    const { name } = input;
    if (typeof name !== "string" || !/^[^\p{Cc}]{1,100}$/u.test(name) || name.trim() !== name || name === "") {
        throw new Error(`JSM heartbeat name ${JSON.stringify(name)} is invalid: use 1 to 100 characters, no control characters, no leading or trailing spaces.`);
    }
    return { name, ...heartbeatAlertFields("JSM", name, input) };
}

/** The documented request body: every managed field is sent, so a PATCH can put one back to its default. */
function heartbeatBody(heartbeat: HeartbeatFields): Record<string, unknown> {
    return {
        name: heartbeat.name,
        description: heartbeat.description,
        interval: heartbeat.interval,
        intervalUnit: heartbeat.intervalUnit,
        enabled: heartbeat.enabled,
        alertMessage: heartbeat.alertMessage,
        alertTags: [...heartbeat.alertTags],
        alertPriority: heartbeat.alertPriority,
    };
}

function heartbeatsPath(teamId: string): string {
    return `/v1/teams/${segment(teamId, "team id")}/heartbeats`;
}

export function createHeartbeatRequest(teamId: string, heartbeat: HeartbeatFields): JsmRequest {
    return { method: "POST", path: heartbeatsPath(teamId), body: heartbeatBody(heartbeat) };
}

/** The provider's read: list filtered by name (a later page via `links.next`). */
export function listHeartbeatsRequest(teamId: string, name: string, page: Readonly<Record<string, string>> = {}): JsmRequest {
    return { method: "GET", path: heartbeatsPath(teamId), query: { ...page, name } };
}

/** "Name of a heartbeat cannot be changed": it identifies the heartbeat in the query; the body repeats it, as the Atlassian provider's DTO does. */
export function updateHeartbeatRequest(teamId: string, name: string, heartbeat: HeartbeatFields): JsmRequest {
    return { method: "PATCH", path: heartbeatsPath(teamId), query: { name }, body: heartbeatBody(heartbeat) };
}

export function deleteHeartbeatRequest(teamId: string, name: string): JsmRequest {
    return { method: "DELETE", path: heartbeatsPath(teamId), query: { name } };
}

/** The ping mail-ingest sends (functions/shared/oncall-alerts.ts builds the same request). */
export function pingHeartbeatRequest(teamId: string, name: string): JsmRequest {
    return { method: "GET", path: `${heartbeatsPath(teamId)}/ping`, query: { name } };
}

/** A heartbeat as JSM reports it; fields the answer leaves out are absent. */
export interface HeartbeatState {
    readonly name: string;
    readonly description?: string;
    readonly interval?: number;
    readonly intervalUnit?: string;
    readonly enabled?: boolean;
    readonly status?: string;
    readonly alertMessage?: string;
    readonly alertTags?: readonly string[];
    readonly alertPriority?: string;
}

export function parseHeartbeat(data: Record<string, unknown>): HeartbeatState | undefined {
    const name = stringField(data, "name");
    if (name === undefined) return undefined;
    const pick = (field: string) => stringField(data, field);
    const tags = data.alertTags;
    const optional = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });
    return {
        name,
        ...optional("description", typeof data.description === "string" ? data.description : undefined),
        ...optional("interval", typeof data.interval === "number" ? data.interval : undefined),
        ...optional("intervalUnit", pick("intervalUnit")),
        ...optional("enabled", typeof data.enabled === "boolean" ? data.enabled : undefined),
        ...optional("status", pick("status")),
        ...optional("alertMessage", pick("alertMessage")),
        ...optional("alertTags", Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : undefined),
        ...optional("alertPriority", pick("alertPriority")),
    } as HeartbeatState;
}

/** One page of the heartbeat list: `{values: [Heartbeat], links: {next}}` (heartbeats docs). */
export function parseHeartbeatsPage(request: JsmRequest, body: Record<string, unknown>): { readonly heartbeats: HeartbeatState[]; readonly next?: Record<string, string> } {
    const values = body.values;
    if (!Array.isArray(values)) throw new Error(`JSM ${requestLabel(request)} answered without a "values" list; alertline cannot read the heartbeats.`);
    const heartbeats = values.flatMap((v) => (typeof v === "object" && v !== null ? [parseHeartbeat(v as Record<string, unknown>)].filter((h): h is HeartbeatState => h !== undefined) : []));
    const next = nextPageQuery(body);
    return next === undefined ? { heartbeats } : { heartbeats, next };
}

/**
 * The docs' list example answers `"intervalUnit": "Days"` where requests send "minutes": compared
 * without regard to case (unconfirmed which spelling JSM stores).
 */
export function sameUnit(a: unknown, b: unknown): boolean {
    return typeof a === "string" && typeof b === "string" ? a.toLowerCase() === b.toLowerCase() : a === b;
}
