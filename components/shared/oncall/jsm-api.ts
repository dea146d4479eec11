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
 * - Integrations and integration actions: the Atlassian provider (internal/provider/api_integration_resource.go,
 *   integration_action_resource.go, internal/dto/api_integration.go, integration_action_dto.go, the
 *   schemaAttributes files): `POST /v1/integrations`, `GET`/`PATCH`/`DELETE /v1/integrations/{id}`
 *   (404 on read: gone), the key only in the create answer, `…/actions` and `…/actions/{actionId}`.
 * - List teams `GET /v1/teams` ("Lists operations teams based on the user's role"): the ops API's
 *   Team group. Its answer's shape is unconfirmed (see parseTeamsPage).
 *
 * Nothing here does I/O, and nothing here may capture module state beyond other functions of this
 * file: the dynamic providers in jsm.ts capture this module by value when Pulumi serialises them.
 * What Opsgenie's API shares is in oncall-api-common.ts and functions/shared/oncall-http.ts,
 * captured along with this module.
 */

import { jsmBasicAuthorization, jsmCredentialSecrets, jsmErrorText as errorMessageOf, jsmOpsApiUrl, JSM_OPS_GATEWAY_URL as JSM_API_URL, redact } from "../../../functions/shared/oncall-http";
import { heartbeatAlertFields, type HeartbeatAlertFields, type HeartbeatAlertInput, jsonObjectBody, requestLabel } from "./oncall-api-common";

export { redact } from "../../../functions/shared/oncall-http";
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
    const teamsApi = request.path.startsWith("/gateway/api/public/teams/");
    if (status === 403 && teamsApi) return "the account may not do this in the organization: check alertline:oncall.createTeam.organizationId (admin.atlassian.com/o/<organizationId>) and that the account may create and manage teams (Atlassian admin → Directory → Teams).";
    if (status === 404 && teamsApi) return "nothing is at this path: check alertline:oncall.createTeam.organizationId and domainName, and that the team still exists.";
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

// ---------------------------------------------------------------- integrations

/**
 * Integration types alertline creates. "API" (alertline's own pages) and "Webhook" (the outgoing
 * webhook) are the types the Atlassian provider's acceptance tests and Opsgenie's migrated
 * integrations use; "Datadog" is the type of JSM's Datadog integration tile. Unconfirmed: the exact
 * type string JSM stores for Datadog (Opsgenie's is "Datadog"; JSM keeps Opsgenie's integration types).
 */
export const INTEGRATION_TYPES = ["API", "Datadog", "Webhook"] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];
export const WEBHOOK_TYPE: IntegrationType = "Webhook";

/** What alertline manages of an integration; names are the ops REST API's (and the Atlassian provider's, in camel case). */
export interface IntegrationFields {
    readonly name: string;
    readonly type: string;
    readonly enabled: boolean;
    readonly teamId: string;
    /** Integration-specific settings (a Webhook's url and headers); `{}` when none. */
    readonly typeSpecificProperties: Readonly<Record<string, unknown>>;
}

export interface IntegrationInput {
    readonly name?: unknown;
    readonly type?: unknown;
    readonly enabled?: unknown;
    readonly teamId?: unknown;
    readonly typeSpecificProperties?: unknown;
}

function plainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates resolved integration inputs and applies defaults (enabled true, no type-specific
 * properties), naming the field at fault. Name 1–250 characters (the Atlassian provider's
 * `name` validator); type one of {@link INTEGRATION_TYPES}; a team id (alertline's integrations
 * always belong to the team, which JSM cannot change after creation).
 */
export function integrationFields(input: IntegrationInput): IntegrationFields {
    const { name, type, enabled, teamId, typeSpecificProperties } = input;
    if (typeof name !== "string" || name.trim() === "" || name.length > 250) {
        throw new Error(`JSM integration name ${JSON.stringify(name)} is invalid: use 1 to 250 characters (unique among the site's integrations).`);
    }
    if (typeof type !== "string" || !(INTEGRATION_TYPES as readonly string[]).includes(type)) {
        throw new Error(`JSM integration "${name}" type ${JSON.stringify(type)} is not one alertline creates: use ${INTEGRATION_TYPES.map((t) => `"${t}"`).join(", ")}.`);
    }
    if (enabled !== undefined && typeof enabled !== "boolean") throw new Error(`JSM integration "${name}" enabled must be true or false; got ${typeof enabled}.`);
    if (typeof teamId !== "string" || teamId === "") {
        throw new Error(`JSM integration "${name}" teamId is empty: pass the owning team's id (a JsmTeam's id).`);
    }
    if (typeSpecificProperties !== undefined && !plainObject(typeSpecificProperties)) {
        throw new Error(`JSM integration "${name}" typeSpecificProperties must be an object (the type's settings, e.g. a Webhook's url and headers).`);
    }
    const properties = typeSpecificProperties ?? {};
    if (type === WEBHOOK_TYPE) webhookProperties(name, properties);
    return { name, type, enabled: enabled ?? true, teamId, typeSpecificProperties: properties };
}

/**
 * A Webhook integration's settings, as Opsgenie's Webhook integration names them (JSM migrated
 * Opsgenie's integrations with their settings): `url` (http/https), `headers` (text values),
 * `addAlertDescription`, `addAlertDetails`. Unconfirmed for JSM: these property names inside
 * `typeSpecificProperties`, which neither the ops REST API reference pages nor the Atlassian
 * provider's examples show for the Webhook type.
 */
export function webhookProperties(name: string, properties: Readonly<Record<string, unknown>>): { url: string; headers: Record<string, string> } {
    const { url, headers } = properties;
    let parsed: URL | undefined;
    try {
        parsed = typeof url === "string" ? new URL(url) : undefined;
    } catch {
        parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
        throw new Error(`JSM Webhook integration "${name}" typeSpecificProperties.url ${JSON.stringify(url)} is not an http(s) URL: give the URL JSM should post alert actions to.`);
    }
    if (headers !== undefined && (!plainObject(headers) || Object.values(headers).some((v) => typeof v !== "string"))) {
        throw new Error(`JSM Webhook integration "${name}" typeSpecificProperties.headers must map header names to text values.`);
    }
    return { url: parsed.toString(), headers: { ...((headers as Record<string, string> | undefined) ?? {}) } };
}

function integrationPath(id: string): string {
    return `/v1/integrations/${segment(id, "integration id")}`;
}

/** The body the Atlassian provider sends (dto.ApiIntegration) without `id` and `apiKey`, which are answers, not settings. */
function integrationBody(integration: IntegrationFields): Record<string, unknown> {
    return {
        name: integration.name,
        type: integration.type,
        enabled: integration.enabled,
        teamId: integration.teamId,
        typeSpecificProperties: { ...integration.typeSpecificProperties },
    };
}

export function createIntegrationRequest(integration: IntegrationFields): JsmRequest {
    return { method: "POST", path: "/v1/integrations", body: integrationBody(integration) };
}

export function getIntegrationRequest(id: string): JsmRequest {
    return { method: "GET", path: integrationPath(id) };
}

/** PATCH with every managed field, as the Atlassian provider's Update does; type and teamId are sent unchanged (a change replaces). */
export function updateIntegrationRequest(id: string, integration: IntegrationFields): JsmRequest {
    return { method: "PATCH", path: integrationPath(id), body: integrationBody(integration) };
}

export function deleteIntegrationRequest(id: string): JsmRequest {
    return { method: "DELETE", path: integrationPath(id) };
}

export interface IntegrationState {
    readonly id: string;
    readonly name: string;
    readonly type: string;
    readonly enabled?: boolean;
    readonly teamId?: string;
    readonly apiKey?: string;
    readonly typeSpecificProperties?: Readonly<Record<string, unknown>>;
}

/**
 * Create, GET and PATCH answer the integration itself, not wrapped (the Atlassian provider parses
 * them straight into dto.ApiIntegration: id, name, apiKey, type, enabled, teamId,
 * typeSpecificProperties, …). The key is in the create answer only: "Only available after the
 * integration is created and cannot be fetch[ed] later" (the provider's `api_key` attribute).
 */
export function parseIntegration(request: JsmRequest, body: Record<string, unknown>): IntegrationState {
    const id = stringField(body, "id");
    const name = stringField(body, "name");
    const type = stringField(body, "type");
    if (id === undefined || name === undefined || type === undefined) {
        throw new Error(`JSM ${requestLabel(request)} answered without the integration's ${["id", "name", "type"].filter((f) => stringField(body, f) === undefined).join(", ")}.`);
    }
    const teamId = stringField(body, "teamId");
    const apiKey = stringField(body, "apiKey");
    return {
        id,
        name,
        type,
        ...(typeof body.enabled === "boolean" ? { enabled: body.enabled } : {}),
        ...(teamId === undefined ? {} : { teamId }),
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(plainObject(body.typeSpecificProperties) ? { typeSpecificProperties: body.typeSpecificProperties } : {}),
    };
}

/** Why there is no apiKey output and what to do. */
export function missingIntegrationKeyMessage(id: string, name: string, cleanup: string): string {
    return (
        `JSM created integration "${name}" (${id}) but its create answer held no apiKey, and JSM does not return the key later. ${cleanup} ` +
        "Check that alertline:oncall.email may administer the team's integrations, then run `pulumi up` again."
    );
}

/**
 * Two property maps compared by content (key order does not count); anything but an object (the
 * engine's unknown marker at preview) differs from every object.
 */
export function sameProperties(a: unknown, b: unknown): boolean {
    const canonical = (value: unknown): string => {
        if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
        if (plainObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
        return JSON.stringify(value) ?? "undefined";
    };
    return canonical(a ?? {}) === canonical(b ?? {});
}

/**
 * What state keeps of a live `typeSpecificProperties`: the keys alertline set, with JSM's values
 * (a missing key reads as undefined, so a change made in JSM's UI shows as drift); keys JSM adds
 * on its own are not alertline's and are left out.
 */
export function managedProperties(managed: Readonly<Record<string, unknown>> | undefined, live: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
    if (managed === undefined) return {};
    if (live === undefined) return { ...managed };
    return Object.fromEntries(Object.keys(managed).filter((k) => live[k] !== undefined).map((k) => [k, live[k]]));
}

// ---------------------------------------------------------------- integration actions

/** Alert actions an outgoing action can forward; the Atlassian provider's `type` of an integration action (its examples use "create"). */
export const ALERT_ACTION_TYPES = ["create", "acknowledge", "unacknowledge", "add-note", "close"] as const;
export type AlertActionType = (typeof ALERT_ACTION_TYPES)[number];

/** The action type for an action as a webhook payload spells it ("Acknowledge" → "acknowledge"); throws for one not offered. */
export function alertActionFor(payloadAction: string): AlertActionType {
    const byPayload: Record<string, AlertActionType> = { Create: "create", Acknowledge: "acknowledge", UnAcknowledge: "unacknowledge", AddNote: "add-note", Close: "close" };
    const found = byPayload[payloadAction];
    if (found === undefined) throw new Error(`JSM alert action "${payloadAction}" is not one alertline can forward: use one of ${Object.keys(byPayload).join(", ")}.`);
    return found;
}

/** What alertline manages of an integration action (atlassian-operations_integration_action, camel case). */
export interface IntegrationActionFields {
    readonly integrationId: string;
    readonly name: string;
    readonly type: AlertActionType;
    /** "alert", the only domain the Atlassian provider allows. */
    readonly domain: "alert";
    readonly direction: "incoming" | "outgoing";
    /** "forwarding", "updating" or "checkbox" (the provider's group_type). */
    readonly groupType: "forwarding" | "updating" | "checkbox";
    readonly enabled: boolean;
}

export interface IntegrationActionInput {
    readonly integrationId?: unknown;
    readonly name?: unknown;
    readonly type?: unknown;
    readonly domain?: unknown;
    readonly direction?: unknown;
    readonly groupType?: unknown;
    readonly enabled?: unknown;
}

/** Validates an integration action's resolved inputs (defaults: domain alert, groupType forwarding, enabled true), naming the field at fault. */
export function integrationActionFields(input: IntegrationActionInput): IntegrationActionFields {
    const { integrationId, name, type, domain, direction, groupType, enabled } = input;
    if (typeof integrationId !== "string" || integrationId === "") throw new Error("JSM integration action integrationId is empty: pass the integration's id (a JsmApiIntegration's id).");
    if (typeof name !== "string" || name.trim() === "" || name.length > 250) throw new Error(`JSM integration action name ${JSON.stringify(name)} is invalid: use 1 to 250 characters.`);
    if (typeof type !== "string" || !(ALERT_ACTION_TYPES as readonly string[]).includes(type)) {
        throw new Error(`JSM integration action "${name}" type ${JSON.stringify(type)} is invalid: use one of ${ALERT_ACTION_TYPES.join(", ")}.`);
    }
    if (domain !== undefined && domain !== "alert") throw new Error(`JSM integration action "${name}" domain ${JSON.stringify(domain)} is invalid: JSM's integration actions have domain "alert".`);
    if (direction !== "incoming" && direction !== "outgoing") throw new Error(`JSM integration action "${name}" direction ${JSON.stringify(direction)} is invalid: use "incoming" or "outgoing".`);
    if (groupType !== undefined && groupType !== "forwarding" && groupType !== "updating" && groupType !== "checkbox") {
        throw new Error(`JSM integration action "${name}" groupType ${JSON.stringify(groupType)} is invalid: use "forwarding", "updating" or "checkbox".`);
    }
    if (enabled !== undefined && typeof enabled !== "boolean") throw new Error(`JSM integration action "${name}" enabled must be true or false; got ${typeof enabled}.`);
    return { integrationId, name, type: type as AlertActionType, domain: "alert", direction, groupType: groupType ?? "forwarding", enabled: enabled ?? true };
}

function actionsPath(integrationId: string): string {
    return `${integrationPath(integrationId)}/actions`;
}

/**
 * The provider's dto.IntegrationActionDto without `id`; the filter matches every alert
 * ("match-all", whose conditions the provider requires to be absent). Unconfirmed: the ops API's
 * own defaults when `filter` or `actionMapping` is left out, so neither is sent beyond this.
 */
function actionBody(action: IntegrationActionFields): Record<string, unknown> {
    return {
        type: action.type,
        name: action.name,
        domain: action.domain,
        direction: action.direction,
        groupType: action.groupType,
        filter: { conditionsEmpty: true, conditionMatchType: "match-all", conditions: [] },
        enabled: action.enabled,
    };
}

export function createIntegrationActionRequest(action: IntegrationActionFields): JsmRequest {
    return { method: "POST", path: actionsPath(action.integrationId), body: actionBody(action) };
}

export function getIntegrationActionRequest(integrationId: string, id: string): JsmRequest {
    return { method: "GET", path: `${actionsPath(integrationId)}/${segment(id, "integration action id")}` };
}

export function updateIntegrationActionRequest(id: string, action: IntegrationActionFields): JsmRequest {
    return { method: "PATCH", path: `${actionsPath(action.integrationId)}/${segment(id, "integration action id")}`, body: actionBody(action) };
}

export function deleteIntegrationActionRequest(integrationId: string, id: string): JsmRequest {
    return { method: "DELETE", path: `${actionsPath(integrationId)}/${segment(id, "integration action id")}` };
}

/** The Atlassian provider's listDefaultActionsAndDelete: list, then delete each (`delete_default_actions`). */
export function listIntegrationActionsRequest(integrationId: string, page: Readonly<Record<string, string>> = {}): JsmRequest {
    return { method: "GET", path: actionsPath(integrationId), query: page };
}

export interface IntegrationActionState {
    readonly id: string;
    readonly name: string;
    readonly type?: string;
    readonly direction?: string;
    readonly domain?: string;
    readonly groupType?: string;
    readonly enabled?: boolean;
}

/** An action as create, GET or a list entry answers it (dto.IntegrationActionDto / BaseIntegrationActionDto). */
export function parseIntegrationAction(request: JsmRequest, body: Record<string, unknown>): IntegrationActionState {
    const id = stringField(body, "id");
    const name = stringField(body, "name");
    if (id === undefined || name === undefined) throw new Error(`JSM ${requestLabel(request)} answered without the action's id or name.`);
    const optional = (field: string) => (stringField(body, field) === undefined ? {} : { [field]: stringField(body, field) });
    return { id, name, ...optional("type"), ...optional("direction"), ...optional("domain"), ...optional("groupType"), ...(typeof body.enabled === "boolean" ? { enabled: body.enabled } : {}) };
}

/** One page of `GET /v1/integrations/{id}/actions`: `{values, links}` (dto.IntegrationActionListDto). */
export function parseIntegrationActionsPage(request: JsmRequest, body: Record<string, unknown>): { readonly actions: IntegrationActionState[]; readonly next?: Record<string, string> } {
    const values = body.values;
    if (!Array.isArray(values)) throw new Error(`JSM ${requestLabel(request)} answered without a "values" list; alertline cannot read the integration's actions.`);
    const actions = values.filter(plainObject).map((v) => parseIntegrationAction(request, v));
    const next = nextPageQuery(body);
    return next === undefined ? { actions } : { actions, next };
}

// ---------------------------------------------------------------- teams created by alertline (Teams API)

/**
 * Atlassian's Teams public REST API, on the site host (`https://{domainName}/gateway/api/public/
 * teams/v1/org/{organizationId}/…`), as the Atlassian provider's `atlassian-operations_team` calls
 * it (internal/provider/team_resource.go, httpClientHelpers.GenerateTeamsClientRequest): Basic auth
 * with the same e-mail and API token as the ops REST API (the Teams API reference's "Authentication":
 * "curl -u fred@example.com:freds_api_token").
 */
export const TEAM_TYPES = ["OPEN", "MEMBER_INVITE", "EXTERNAL"] as const;
export type TeamType = (typeof TEAM_TYPES)[number];

/** What alertline sets on a team it creates (the provider's display_name, description, team_type, member). */
export interface CreatedTeamFields {
    readonly displayName: string;
    readonly description: string;
    readonly teamType: TeamType;
    /** Atlassian account ids; the first becomes the operations admin (enable-ops adminAccountIds), as in the provider. */
    readonly members: readonly string[];
}

const ACCOUNT_ID = /^[A-Za-z0-9:_-]{1,128}$/;

/** Checks a created team's fields and names the one to fix. Pure. */
export function createdTeamFields(input: { displayName?: unknown; description?: unknown; teamType?: unknown; members?: unknown }): CreatedTeamFields {
    const { displayName, description, teamType, members } = input;
    if (typeof displayName !== "string" || displayName.trim() === "" || displayName.length > 250) throw new Error(`JSM team displayName "${String(displayName)}" must be 1–250 characters: the team's name (alertline:oncall.team).`);
    if (description !== undefined && typeof description !== "string") throw new Error("JSM team description must be a string.");
    const type = teamType ?? "MEMBER_INVITE";
    if (typeof type !== "string" || !(TEAM_TYPES as readonly string[]).includes(type)) throw new Error(`JSM team teamType "${String(type)}" must be one of ${TEAM_TYPES.join(", ")}.`);
    if (!Array.isArray(members) || members.length === 0) throw new Error("JSM team members is empty: give at least one Atlassian account id (the first becomes the team's operations admin).");
    for (const m of members) {
        if (typeof m !== "string" || !ACCOUNT_ID.test(m)) throw new Error(`JSM team member "${String(m)}" is not an Atlassian account id: open the person's profile (https://<your-site>.atlassian.net/jira/people/<accountId>) and copy the last path segment.`);
    }
    if (new Set(members).size !== members.length) throw new Error("JSM team members lists an account id twice.");
    return { displayName, description: (description as string | undefined) ?? "", teamType: type as TeamType, members: [...(members as string[])] };
}

/** The Teams API base path of an organization. */
export function teamsOrgPath(organizationId: string): string {
    return `/gateway/api/public/teams/v1/org/${segment(organizationId, "organization id")}`;
}

/** `POST …/teams/` (the trailing slash as in the reference's curl and the provider). */
export function createPlatformTeamRequest(organizationId: string, team: CreatedTeamFields): JsmRequest {
    return { method: "POST", path: `${teamsOrgPath(organizationId)}/teams/`, body: { displayName: team.displayName, description: team.description, teamType: team.teamType } };
}

export function getPlatformTeamRequest(organizationId: string, teamId: string): JsmRequest {
    return { method: "GET", path: `${teamsOrgPath(organizationId)}/teams/${segment(teamId, "team id")}` };
}

/** `PATCH …/teams/{teamId}` with the name and description (the provider sends its whole TeamDto; unconfirmed which fields PATCH requires). */
export function updatePlatformTeamRequest(organizationId: string, teamId: string, team: Pick<CreatedTeamFields, "displayName" | "description">): JsmRequest {
    return { method: "PATCH", path: `${teamsOrgPath(organizationId)}/teams/${segment(teamId, "team id")}`, body: { displayName: team.displayName, description: team.description } };
}

export function deletePlatformTeamRequest(organizationId: string, teamId: string): JsmRequest {
    return { method: "DELETE", path: `${teamsOrgPath(organizationId)}/teams/${segment(teamId, "team id")}` };
}

/** `POST …/teams/{teamId}/members` {first, after}: one page of members (the provider's fetchTeamMembers). */
export function listPlatformTeamMembersRequest(organizationId: string, teamId: string, after?: string): JsmRequest {
    return { method: "POST", path: `${teamsOrgPath(organizationId)}/teams/${segment(teamId, "team id")}/members`, body: after === undefined ? { first: 50 } : { first: 50, after } };
}

/** `POST …/teams/{teamId}/members/add` or `/members/remove` {members: [{accountId}]}. */
export function changePlatformTeamMembersRequest(organizationId: string, teamId: string, change: "add" | "remove", accountIds: readonly string[]): JsmRequest {
    return { method: "POST", path: `${teamsOrgPath(organizationId)}/teams/${segment(teamId, "team id")}/members/${change}`, body: { members: accountIds.map((accountId) => ({ accountId })) } };
}

/** `POST /v1/teams/{teamId}/enable-ops` on the ops REST API: the provider's TeamEnableOps body. */
export function enableOpsRequest(teamId: string, adminAccountId: string): JsmRequest {
    return { method: "POST", path: `/v1/teams/${segment(teamId, "team id")}/enable-ops`, body: { platformTeamId: teamId, adminAccountIds: [adminAccountId], inviteUsernames: [] } };
}

/** The created team's id from the create answer (`teamId`), or an error naming the operation. */
export function parsePlatformTeam(request: JsmRequest, body: Record<string, unknown>): { readonly teamId: string; readonly displayName?: string; readonly description?: string } {
    const teamId = stringField(body, "teamId");
    if (teamId === undefined) throw new Error(`Atlassian Teams API ${requestLabel(request)} answered without a "teamId"; alertline cannot track the team.`);
    const displayName = typeof body.displayName === "string" ? body.displayName : undefined;
    const description = typeof body.description === "string" ? body.description : undefined;
    return { teamId, ...(displayName === undefined ? {} : { displayName }), ...(description === undefined ? {} : { description }) };
}

/** One page of members: `{results: [{accountId}], pageInfo: {endCursor, hasNextPage}}` (the provider's TeamMemberListResponse). */
export function parsePlatformTeamMembers(request: JsmRequest, body: Record<string, unknown>): { readonly accountIds: string[]; readonly after?: string } {
    const results = body.results;
    if (!Array.isArray(results)) throw new Error(`Atlassian Teams API ${requestLabel(request)} answered without a "results" list; alertline cannot read the members.`);
    const accountIds = results.map((r) => (typeof r === "object" && r !== null ? (r as { accountId?: unknown }).accountId : undefined)).filter((a): a is string => typeof a === "string");
    const info = (typeof body.pageInfo === "object" && body.pageInfo !== null ? body.pageInfo : {}) as { endCursor?: unknown; hasNextPage?: unknown };
    return info.hasNextPage === true && typeof info.endCursor === "string" && info.endCursor !== "" ? { accountIds, after: info.endCursor } : { accountIds };
}

/** The per-member errors a members/add or members/remove answer lists (`errors`), as one text, or undefined. */
export function membershipErrors(body: Record<string, unknown>): string | undefined {
    const errors = body.errors;
    return Array.isArray(errors) && errors.length > 0 ? JSON.stringify(errors) : undefined;
}

/** Which account ids to add and which to remove so that `live` becomes `wanted`. Pure. */
export function memberChanges(wanted: readonly string[], live: readonly string[]): { readonly add: string[]; readonly remove: string[] } {
    return { add: wanted.filter((m) => !live.includes(m)), remove: live.filter((m) => !wanted.includes(m)) };
}
