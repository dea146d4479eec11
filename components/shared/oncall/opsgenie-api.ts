/**
 * Opsgenie's REST API as plain data: which request each resource operation sends, and what
 * the answers mean. Every URL, body and response shape alertline relies on lives in this file,
 * so the Jira Service Management variant (Opsgenie support ends 2027-04-05) is a sibling of it.
 *
 * Shapes checked against the opsgenie-go-sdk-v2 and terraform-provider-opsgenie sources and the
 * Opsgenie REST docs / opsgenie-oas spec (test/fixtures/contracts/README.md lists which rule comes
 * from where); what those leave open is marked "unconfirmed".
 *
 * Nothing here does I/O, and nothing here may capture module state beyond other functions of
 * this file: the dynamic providers in opsgenie.ts capture this module by value when Pulumi
 * serialises them. The pieces JSM's API shares are in oncall-api-common.ts and
 * functions/shared/oncall-http.ts, captured along with this module.
 */

import { errorBodyObject, redact, type Secrets } from "../../../functions/shared/oncall-http";
import { heartbeatAlertFields, type HeartbeatAlertFields, type HeartbeatAlertInput, jsonObjectBody, requestLabel } from "./oncall-api-common";

export { redact, type Secrets } from "../../../functions/shared/oncall-http";
// Named, not `export *`: Pulumi's closure serialiser fails on a star re-export (TypeError from
// Symbol.prototype[@@toPrimitive] in the mocks tests), and the providers use these through `api`.
export {
    type AlertPriority,
    DEFAULT_ALERT_PRIORITY,
    DEFAULT_MAX_ATTEMPTS,
    defaultHeartbeatAlertMessage,
    type HeartbeatIntervalUnit,
    isRetryableStatus,
    MAX_TAG_CHARS,
    requestLabel,
    retryDelayMs,
    sameSet,
} from "./oncall-api-common";

export type OpsgenieRegion = "us" | "eu";

/** Base URL of the Opsgenie REST API for the region the account lives in. */
export function opsgenieApiUrl(region: OpsgenieRegion): string {
    if (region === "us") return "https://api.opsgenie.com";
    if (region === "eu") return "https://api.eu.opsgenie.com";
    throw new Error(`Opsgenie region "${String(region)}" is unknown: use "us" or "eu" (where the Opsgenie account lives).`);
}

/** Credentials and endpoint for configuration requests; the official provider takes these as provider config. */
export interface OpsgenieConnection {
    readonly apiKey: string;
    readonly apiUrl: string;
}

/** Checks a resolved `connection` input and names the field to fix. */
export function checkConnection(value: unknown): OpsgenieConnection {
    if (typeof value !== "object" || value === null) {
        throw new Error("Opsgenie connection is missing: pass { apiKey, apiUrl } (apiUrl from opsgenieApiUrl(\"us\" | \"eu\")).");
    }
    const { apiKey, apiUrl } = value as Record<string, unknown>;
    if (typeof apiKey !== "string" || apiKey.trim() === "") {
        throw new Error("Opsgenie connection.apiKey is empty: pass an Opsgenie API key with Configuration access, as a Pulumi secret.");
    }
    if (typeof apiUrl !== "string" || !/^https?:\/\/[^/\s]+\/?$/.test(apiUrl)) {
        throw new Error(
            `Opsgenie connection.apiUrl "${String(apiUrl)}" is not a base URL: use opsgenieApiUrl("us") (https://api.opsgenie.com) or opsgenieApiUrl("eu") (https://api.eu.opsgenie.com).`,
        );
    }
    return { apiKey, apiUrl };
}

export type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

/** One call to the Opsgenie REST API, before the base URL and credentials are added. */
export interface OpsgenieRequest {
    readonly method: HttpMethod;
    /** Path without query, e.g. `/v2/teams`; also how errors name the operation. */
    readonly path: string;
    readonly query?: Readonly<Record<string, string>>;
    readonly body?: Readonly<Record<string, unknown>>;
}

export function requestUrl(apiUrl: string, request: OpsgenieRequest): string {
    const url = new URL(request.path, apiUrl);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    return url.toString();
}

export function requestHeaders(apiKey: string, request: OpsgenieRequest): Record<string, string> {
    const headers: Record<string, string> = { Authorization: `GenieKey ${apiKey}`, Accept: "application/json" };
    if (request.body !== undefined) headers["Content-Type"] = "application/json; charset=utf-8";
    return headers;
}

/** What came back from one HTTP exchange, as the retry and parsing logic needs it. */
export interface OpsgenieAnswer {
    readonly status: number;
    readonly bodyText: string;
    /** The `Retry-After` header, if any. */
    readonly retryAfter?: string | null;
}

/** The `message` (and field `errors`) of an Opsgenie error body, or the start of a non-JSON body. */
export function errorMessageOf(bodyText: string): string {
    const parsed = errorBodyObject(bodyText);
    if (typeof parsed === "string") return parsed;
    const { message, errors } = parsed as { message?: unknown; errors?: unknown };
    let text = typeof message === "string" && message !== "" ? message : "(no message)";
    if (typeof errors === "object" && errors !== null) {
        const fields = Object.entries(errors as Record<string, unknown>).map(([field, why]) => `${field}: ${String(why)}`);
        if (fields.length > 0) text += ` (${fields.join("; ")})`;
    }
    return text;
}

function hintFor(status: number, attempts: number): string {
    const tries = `gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
    if (status === 400) return "Opsgenie could not read the request body; this is a bug in alertline's Opsgenie provider.";
    if (status === 401)
        return "the API key was not accepted: check connection.apiKey and that connection.apiUrl is the account's region (US https://api.opsgenie.com, EU https://api.eu.opsgenie.com).";
    if (status === 402) return "the Opsgenie subscription plan does not allow this; upgrade the plan or create the resource by hand.";
    if (status === 403)
        return "the API key lacks a right: in Opsgenie Settings > API key management give it Read, Create and Update, Delete and Configuration access.";
    if (status === 404) return "nothing with this id exists at this apiUrl: check the id and that connection.apiUrl is the account's region.";
    if (status === 409) return "the name is already taken in this Opsgenie account: choose another name, or delete or import the existing one.";
    if (status === 422)
        return "Opsgenie refused the values named above (a name that is already taken is refused this way too): fix them, or delete or import the existing entity.";
    if (status === 429) return `Opsgenie rate-limited the configuration API and ${tries}; wait a minute and run \`pulumi up\` again.`;
    if (status >= 500) return `Opsgenie failed on its side and ${tries}; try again later and check Opsgenie's status page.`;
    return "Opsgenie answered in a way alertline does not expect; check the request in Opsgenie's API docs.";
}

/** `Opsgenie POST /v2/teams answered 422: <message> — <hint>`, with the API key (and any other secret) removed wherever it appears. */
export function failureMessage(request: OpsgenieRequest, answer: OpsgenieAnswer, secrets: Secrets, attempts = 1): string {
    const message = `Opsgenie ${requestLabel(request)} answered ${answer.status}: ${errorMessageOf(answer.bodyText)} — ${hintFor(answer.status, attempts)}`;
    return redact(message, secrets);
}

/** For when no HTTP answer came at all (refused connection, DNS, timeout). */
export function unreachableMessage(request: OpsgenieRequest, apiUrl: string, reason: string, secrets: Secrets, attempts: number): string {
    return redact(
        `Opsgenie ${requestLabel(request)} could not reach ${apiUrl} in ${attempts} attempt${attempts === 1 ? "" : "s"}: ${reason} — check connection.apiUrl and the network.`,
        secrets,
    );
}

/** Parses a 2xx answer's JSON object, or throws naming the operation. */
export function successBody(request: OpsgenieRequest, answer: OpsgenieAnswer, secrets: Secrets, attempts = 1): Record<string, unknown> {
    if (answer.status < 200 || answer.status > 299) throw new Error(failureMessage(request, answer, secrets, attempts));
    return jsonObjectBody("Opsgenie", request, answer, secrets);
}

/** The `data` object every Opsgenie v2 answer wraps its entity in. */
function dataOf(request: OpsgenieRequest, body: Record<string, unknown>): Record<string, unknown> {
    const data = body.data;
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
        throw new Error(`Opsgenie ${requestLabel(request)} answered without a "data" object; alertline cannot tell what was ${request.method === "GET" ? "read" : "changed"}.`);
    }
    return data as Record<string, unknown>;
}

function stringField(data: Record<string, unknown>, field: string): string | undefined {
    const value = data[field];
    return typeof value === "string" && value !== "" ? value : undefined;
}

function requiredString(request: OpsgenieRequest, data: Record<string, unknown>, field: string): string {
    const value = stringField(data, field);
    if (value === undefined) throw new Error(`Opsgenie ${requestLabel(request)} answered without data.${field}.`);
    return value;
}

function idPath(prefix: string, id: string): string {
    if (id === "") throw new Error(`An Opsgenie id is empty where ${prefix}/{id} needs one.`);
    // encodeURIComponent keeps dots, and URL resolution would turn `/v2/heartbeats/..` into `/v2/`.
    if (id === "." || id === "..") throw new Error(`An Opsgenie id "${id}" would address something other than ${prefix}/{id}.`);
    return `${prefix}/${encodeURIComponent(id)}`;
}

// ---------------------------------------------------------------- teams

/** What alertline manages of a team; members are left to Opsgenie's UI. */
export interface TeamFields {
    readonly name: string;
    readonly description: string;
}

/** Longest team or heartbeat name: terraform-provider-opsgenie refuses 100 characters and more (validateOpsGenieTeamName, validateOpsgenieHeartbeat). */
export const MAX_NAME_CHARS = 99;

/**
 * Validates resolved team inputs and applies defaults (description ""). Same name rule as the
 * official provider (terraform-provider-opsgenie validateOpsGenieTeamName: `^[a-zA-Z 0-9_.-]+$`, under 100 characters).
 */
export function teamFields(input: { readonly name?: unknown; readonly description?: unknown }): TeamFields {
    const { name, description } = input;
    if (typeof name !== "string" || !/^[A-Za-z0-9 _.-]+$/.test(name) || name.length > MAX_NAME_CHARS) {
        throw new Error(
            `Opsgenie team name "${String(name)}" is invalid: use 1 to ${MAX_NAME_CHARS} letters, digits, spaces, '_', '.' or '-'.`,
        );
    }
    if (description !== undefined && typeof description !== "string") {
        throw new Error(`Opsgenie team description must be text; got ${typeof description}.`);
    }
    return { name, description: description ?? "" };
}

export function createTeamRequest(team: TeamFields): OpsgenieRequest {
    return { method: "POST", path: "/v2/teams", body: { name: team.name, description: team.description } };
}

export function getTeamRequest(id: string): OpsgenieRequest {
    return { method: "GET", path: idPath("/v2/teams", id), query: { identifierType: "id" } };
}

/** The official provider reads a new team back by name; alertline does so only when the create answer lacks data.id. */
export function getTeamByNameRequest(name: string): OpsgenieRequest {
    return { method: "GET", path: idPath("/v2/teams", name), query: { identifierType: "name" } };
}

/** PATCH is partial: members are not sent, so Opsgenie keeps them. Description is always sent so clearing it works. */
export function updateTeamRequest(id: string, team: TeamFields): OpsgenieRequest {
    return { method: "PATCH", path: idPath("/v2/teams", id), body: { name: team.name, description: team.description } };
}

export function deleteTeamRequest(id: string): OpsgenieRequest {
    return { method: "DELETE", path: idPath("/v2/teams", id), query: { identifierType: "id" } };
}

export interface TeamState extends TeamFields {
    readonly id: string;
}

/** Create answers `{result: "Created", data: {id, name}}`; undefined if data.id is missing. */
export function createdTeamId(body: Record<string, unknown>): string | undefined {
    const data = body.data;
    return typeof data === "object" && data !== null ? stringField(data as Record<string, unknown>, "id") : undefined;
}

/** GET answers `{data: {id, name, description, members, links}}`; description is absent when empty. */
export function parseTeam(request: OpsgenieRequest, body: Record<string, unknown>): TeamState {
    const data = dataOf(request, body);
    return {
        id: requiredString(request, data, "id"),
        name: requiredString(request, data, "name"),
        description: stringField(data, "description") ?? "",
    };
}

// ---------------------------------------------------------------- integrations

/** The integration type that posts alerts to a URL instead of taking them in with an API key. */
export const WEBHOOK_TYPE = "Webhook";

/** What alertline manages of an API-based integration (API, Datadog, Webhook, …). */
export interface IntegrationFields {
    readonly name: string;
    readonly type: string;
    readonly enabled: boolean;
    readonly ownerTeamId?: string;
    /** Where a Webhook integration posts alerts; only for type Webhook, and required there. */
    readonly webhookUrl?: string;
    /** HTTP headers a Webhook integration sends (a shared token, usually): secret. Only for type Webhook. */
    readonly headers?: Readonly<Record<string, string>>;
    /** The alert actions a Webhook integration posts to its URL, and no others; only for type Webhook, and required there. */
    readonly forwardedActions?: readonly ForwardedAction[];
}

/**
 * Alert actions an outgoing Webhook integration can post, by the name its `forwardingActionMappings`
 * use (opsgenie-oas definitions/integration.yaml `ActionMapping.action`), each with the `action`
 * text the posted "alert action data" carries (docs.opsgenie.com "Sample Alert Action Data":
 * Create, Acknowledge, UnAcknowledge, AddNote, Close). Only these five are offered here.
 */
export const FORWARDED_ACTIONS = { create: "Create", acknowledge: "Acknowledge", unacknowledge: "UnAcknowledge", "add-note": "AddNote", close: "Close" } as const;
export type ForwardedAction = keyof typeof FORWARDED_ACTIONS;

/** The mapping name for an action as a webhook payload spells it ("Acknowledge" → "acknowledge"); throws for one not offered. */
export function forwardedActionFor(payloadAction: string): ForwardedAction {
    const found = (Object.keys(FORWARDED_ACTIONS) as ForwardedAction[]).find((action) => FORWARDED_ACTIONS[action] === payloadAction);
    if (found === undefined) {
        throw new Error(`Opsgenie webhook action "${payloadAction}" is not one alertline can forward: use one of ${Object.values(FORWARDED_ACTIONS).join(", ")}.`);
    }
    return found;
}

/** What a Webhook integration maps each forwarded action to (opsgenie-oas `ActionMapping.mappedAction`, "Webhook Integration Mapped Actions"). */
export const WEBHOOK_MAPPED_ACTION = "postToUrl";

function forwardedActionsField(name: string, value: unknown): ForwardedAction[] {
    const known = Object.keys(FORWARDED_ACTIONS);
    if (!Array.isArray(value) || value.length === 0 || value.some((a) => typeof a !== "string" || !known.includes(a))) {
        throw new Error(
            `Opsgenie integration "${name}" forwardedActions must list the alert actions the webhook posts, from ${known.map((a) => `"${a}"`).join(", ")}; got ${JSON.stringify(value)}. ` +
                "Set them explicitly: left out, Opsgenie posts its own default set.",
        );
    }
    return [...new Set(value as ForwardedAction[])];
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Checks webhook headers without ever quoting a value (values carry tokens): names must be HTTP
 * tokens, values one line of text, so nothing can smuggle an extra header into Opsgenie's request.
 */
export function webhookHeaders(value: unknown): Readonly<Record<string, string>> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new Error(`Opsgenie integration headers must be an object of header name to text value; got ${Array.isArray(value) ? "an array" : typeof value}.`);
    }
    const headers: Record<string, string> = {};
    for (const [name, headerValue] of Object.entries(value as Record<string, unknown>)) {
        if (!HEADER_NAME.test(name)) {
            throw new Error(`Opsgenie integration headers name "${name}" is not an HTTP header name: use letters, digits and - (e.g. "X-Alertline-Token").`);
        }
        if (typeof headerValue !== "string") {
            throw new Error(`Opsgenie integration headers["${name}"] must be text; got ${typeof headerValue}.`);
        }
        if (/[\r\n\0]/.test(headerValue)) {
            throw new Error(`Opsgenie integration headers["${name}"] holds a line break or NUL (value not shown): put the value on one line.`);
        }
        headers[name] = headerValue;
    }
    return headers;
}

/** The values of webhook headers, which error messages must redact like the API key. */
export function headerSecrets(...headers: (Readonly<Record<string, unknown>> | undefined)[]): string[] {
    return headers.flatMap((h) => (typeof h === "object" && h !== null ? Object.values(h).filter((v): v is string => typeof v === "string") : []));
}

function webhookUrlField(webhookUrl: unknown): string {
    let url: URL | undefined;
    try {
        url = typeof webhookUrl === "string" ? new URL(webhookUrl) : undefined;
    } catch {
        url = undefined;
    }
    if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
        throw new Error(`Opsgenie integration webhookUrl "${String(webhookUrl)}" is not an http(s) URL: give the full address Opsgenie should post alerts to, e.g. https://hooks.example.com/opsgenie.`);
    }
    return webhookUrl as string;
}

/** Validates resolved integration inputs and applies the official provider's defaults (type "API", enabled true). */
export function integrationFields(input: {
    readonly name?: unknown;
    readonly type?: unknown;
    readonly enabled?: unknown;
    readonly ownerTeamId?: unknown;
    readonly webhookUrl?: unknown;
    readonly headers?: unknown;
    readonly forwardedActions?: unknown;
}): IntegrationFields {
    const { name, type, enabled, ownerTeamId, webhookUrl, headers, forwardedActions } = input;
    if (typeof name !== "string" || name.trim() === "" || name.length > 250) {
        throw new Error(`Opsgenie integration name "${String(name)}" is invalid: use 1 to 250 characters, unique in the account.`);
    }
    if (type !== undefined && (typeof type !== "string" || !/^[A-Za-z0-9]+$/.test(type))) {
        throw new Error(`Opsgenie integration type "${String(type)}" is invalid: use an Opsgenie integration type such as "API" or "Datadog".`);
    }
    if (enabled !== undefined && typeof enabled !== "boolean") {
        throw new Error(`Opsgenie integration enabled must be true or false; got ${typeof enabled}.`);
    }
    if (ownerTeamId !== undefined && (typeof ownerTeamId !== "string" || ownerTeamId === "")) {
        throw new Error("Opsgenie integration ownerTeamId is empty: pass a team's id (for example team.id) or leave it out for a global integration.");
    }
    const fields = { name, type: type ?? "API", enabled: enabled ?? true, ...(ownerTeamId === undefined ? {} : { ownerTeamId }) };
    if (fields.type !== WEBHOOK_TYPE) {
        if (webhookUrl !== undefined || headers !== undefined || forwardedActions !== undefined) {
            throw new Error(
                `Opsgenie integration "${name}" has type "${fields.type}", but webhookUrl, headers and forwardedActions apply only to type "${WEBHOOK_TYPE}": set type "${WEBHOOK_TYPE}" or leave them out.`,
            );
        }
        return fields;
    }
    if (webhookUrl === undefined) {
        throw new Error(`Opsgenie integration "${name}" has type "${WEBHOOK_TYPE}" but no webhookUrl: give the URL Opsgenie should post alerts to.`);
    }
    return {
        ...fields,
        webhookUrl: webhookUrlField(webhookUrl),
        headers: headers === undefined ? {} : webhookHeaders(headers),
        forwardedActions: forwardedActionsField(name, forwardedActions),
    };
}

/**
 * What a Webhook integration adds to the create and update bodies. Field names: url,
 * addAlertDescription, addAlertDetails and headers from the Go SDK's WebhookIntegrationRequest
 * (create) and ForceUpdateAllFields (update), and opsgenie-oas BaseWebhookCallback; the forwarded
 * actions from opsgenie-oas OutgoingCallbackNew: `forwardingEnabled` and `forwardingActionMappings`
 * of `{action, mappedAction: "postToUrl"}` (the older `alertActions` list belongs to other callback
 * types, not Webhook). Description and details only ride along on Create and custom actions
 * (docs.opsgenie.com "Webhook Integration"), so they are asked for but change nothing here.
 */
function webhookBody(integration: IntegrationFields): Record<string, unknown> {
    if (integration.type !== WEBHOOK_TYPE) return {};
    return {
        url: integration.webhookUrl,
        addAlertDescription: true,
        addAlertDetails: true,
        headers: { ...integration.headers },
        forwardingEnabled: true,
        forwardingActionMappings: (integration.forwardedActions ?? []).map((action) => ({ action, mappedAction: WEBHOOK_MAPPED_ACTION })),
    };
}

/**
 * Like the official provider, an owned incoming integration also lists its team as responder, so
 * alerts it creates page that team; a Webhook only sends, and the provider gives it no responders
 * (createWebhookIntegration; opsgenie-oas WebhookIntegration has no incoming feature). `enabled`
 * is sent too (the spec's Integration model has it), but the official provider enables after
 * creating, so opsgenie.ts checks the answer and enables if needed.
 */
export function createIntegrationRequest(integration: IntegrationFields): OpsgenieRequest {
    const body: Record<string, unknown> = { type: integration.type, name: integration.name, enabled: integration.enabled };
    if (integration.ownerTeamId !== undefined) {
        body.ownerTeam = { id: integration.ownerTeamId };
        if (integration.type !== WEBHOOK_TYPE) body.responders = [{ type: "team", id: integration.ownerTeamId }];
    }
    return { method: "POST", path: "/v2/integrations", body: { ...body, ...webhookBody(integration) } };
}

export function getIntegrationRequest(id: string): OpsgenieRequest {
    return { method: "GET", path: idPath("/v2/integrations", id) };
}

export function setIntegrationEnabledRequest(id: string, enabled: boolean): OpsgenieRequest {
    return { method: "POST", path: `${idPath("/v2/integrations", id)}/${enabled ? "enable" : "disable"}` };
}

/**
 * PUT replaces the whole integration, so the body starts from what GET returned, minus the
 * fields GET lists in `_readOnly` (as terraform-provider-opsgenie does), with ours laid over it.
 * `apiKey` never goes back even when `_readOnly` leaves it out: it is an answer field (Go SDK
 * result types), not a field of any integration request model in opsgenie-oas.
 */
export function updateIntegrationRequest(id: string, current: Readonly<Record<string, unknown>>, integration: IntegrationFields): OpsgenieRequest {
    const readOnly = [...(Array.isArray(current._readOnly) ? current._readOnly.filter((f): f is string => typeof f === "string") : []), "apiKey"];
    const body: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(current)) {
        if (field !== "_readOnly" && !readOnly.includes(field)) body[field] = value;
    }
    // A Webhook's headers are sent whole (`{}` when none) so that removing one removes it from Opsgenie too.
    Object.assign(body, { id, name: integration.name, type: integration.type, enabled: integration.enabled }, webhookBody(integration));
    return { method: "PUT", path: idPath("/v2/integrations", id), body };
}

export function deleteIntegrationRequest(id: string): OpsgenieRequest {
    return { method: "DELETE", path: idPath("/v2/integrations", id) };
}

export interface IntegrationState {
    readonly id: string;
    readonly name: string;
    readonly type: string;
    readonly enabled?: boolean;
    readonly ownerTeamId?: string;
    readonly apiKey?: string;
    readonly webhookUrl?: string;
    readonly headers?: Readonly<Record<string, string>>;
    /** The actions a Webhook posts to its URL, from `forwardingActionMappings` (undefined when GET has none). */
    readonly forwardedActions?: readonly string[];
}

/** The raw `data` of a GET answer, which PUT must send back. */
export function integrationData(request: OpsgenieRequest, body: Record<string, unknown>): Record<string, unknown> {
    return dataOf(request, body);
}

/**
 * Create and GET answer `{data: {id, name, enabled, type, …}}`. The create answer holds the new
 * key as `data.apiKey`: the Go SDK's APIBasedIntegrationResult reads `apiKey` from the unwrapped
 * `data` (client.ResultMetadata.Parse) and the official provider stores it from there
 * (createApiIntegration: `d.Set("api_key", result.ApiKey)`). The provider never reads the key
 * from GET, so apiKey stays optional here. The owner comes as `ownerTeam: {id, name}` (GET) or
 * `teamId` (list answers). A Webhook integration's GET holds `url`, `headers` (read back by the
 * official provider) and `forwardingActionMappings` (opsgenie-oas BaseWebhookCallback).
 */
export function parseIntegration(request: OpsgenieRequest, body: Record<string, unknown>): IntegrationState {
    const data = dataOf(request, body);
    const ownerTeam = data.ownerTeam;
    const ownerTeamId =
        (typeof ownerTeam === "object" && ownerTeam !== null ? stringField(ownerTeam as Record<string, unknown>, "id") : undefined) ??
        stringField(data, "teamId");
    const apiKey = stringField(data, "apiKey");
    const webhookUrl = stringField(data, "url");
    const mappings = data.forwardingActionMappings;
    const forwardedActions = Array.isArray(mappings)
        ? mappings
              .filter((m): m is Record<string, unknown> => typeof m === "object" && m !== null && (m as Record<string, unknown>).mappedAction === WEBHOOK_MAPPED_ACTION)
              .map((m) => m.action)
              .filter((a): a is string => typeof a === "string")
        : undefined;
    const headers = data.headers;
    const stringHeaders =
        typeof headers === "object" && headers !== null && !Array.isArray(headers) && Object.values(headers).every((v) => typeof v === "string")
            ? (headers as Record<string, string>)
            : undefined;
    return {
        id: requiredString(request, data, "id"),
        name: requiredString(request, data, "name"),
        type: requiredString(request, data, "type"),
        ...(typeof data.enabled === "boolean" ? { enabled: data.enabled } : {}),
        ...(ownerTeamId === undefined ? {} : { ownerTeamId }),
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(webhookUrl === undefined ? {} : { webhookUrl }),
        ...(stringHeaders === undefined ? {} : { headers: stringHeaders }),
        ...(forwardedActions === undefined ? {} : { forwardedActions }),
    };
}

/** Why there is no apiKey output and what the operator can do about it. */
export function missingApiKeyMessage(id: string, name: string, cleanup: string): string {
    return (
        `Opsgenie created integration "${name}" (${id}) but neither POST /v2/integrations nor GET /v2/integrations/${id} returned its apiKey, ` +
        `so Datadog could not be pointed at it. ${cleanup} ` +
        "Check that connection.apiKey has Configuration access (Settings > API key management); if Opsgenie still hides integration keys, " +
        "create the integration in the Opsgenie UI and give its key to alertline as a secret instead."
    );
}

// ---------------------------------------------------------------- heartbeats

/**
 * What alertline manages of a heartbeat. The name is also its id in every URL. Defaults are
 * applied here and always sent, so state and Opsgenie agree on them and the PATCH (which is
 * partial) can put a field back to its default.
 */
export interface HeartbeatFields extends HeartbeatAlertFields {
    readonly name: string;
    readonly ownerTeamId?: string;
}

export interface HeartbeatInput extends HeartbeatAlertInput {
    readonly name?: unknown;
    readonly ownerTeamId?: unknown;
}

/**
 * Heartbeat names as Opsgenie takes them: terraform-provider-opsgenie validateOpsgenieHeartbeat
 * (`^[a-zA-Z0-9._-]+$`, under 100 characters); unlike team names, no spaces.
 */
export const HEARTBEAT_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Validates resolved heartbeat inputs and applies defaults (description "", enabled true, no tags,
 * priority P3, message "<name> is expired"). Limits (opsgenie-oas CreateHeartbeatPayload and the
 * official provider): name {@link HEARTBEAT_NAME} under 100 characters, not only dots (a path
 * segment URL resolution would eat), description 10000, alert message 130, 20 tags of at most 50.
 */
export function heartbeatFields(input: HeartbeatInput): HeartbeatFields {
    const { name, ownerTeamId } = input;
    if (typeof name !== "string" || !HEARTBEAT_NAME.test(name) || name.length > MAX_NAME_CHARS || /^\.+$/.test(name)) {
        throw new Error(
            `Opsgenie heartbeat name "${String(name)}" is invalid: use 1 to ${MAX_NAME_CHARS} letters, digits, '_', '.' or '-' (no spaces, not only dots); it is unique in the account and part of the ping URL.`,
        );
    }
    if (ownerTeamId !== undefined && (typeof ownerTeamId !== "string" || ownerTeamId === "")) {
        throw new Error("Opsgenie heartbeat ownerTeamId is empty: pass a team's id (for example team.id) or leave it out.");
    }
    const { description, interval, intervalUnit, enabled, alertMessage, alertTags, alertPriority } = heartbeatAlertFields("Opsgenie", name, input);
    return { name, description, interval, intervalUnit, enabled, ...(ownerTeamId === undefined ? {} : { ownerTeamId }), alertMessage, alertTags, alertPriority };
}

function heartbeatBody(heartbeat: HeartbeatFields): Record<string, unknown> {
    return {
        name: heartbeat.name,
        description: heartbeat.description,
        interval: heartbeat.interval,
        intervalUnit: heartbeat.intervalUnit,
        enabled: heartbeat.enabled,
        ...(heartbeat.ownerTeamId === undefined ? {} : { ownerTeam: { id: heartbeat.ownerTeamId } }),
        alertMessage: heartbeat.alertMessage,
        alertTags: [...heartbeat.alertTags],
        alertPriority: heartbeat.alertPriority,
    };
}

/**
 * ownerTeam is optional: opsgenie-oas CreateHeartbeatPayload requires only name, interval,
 * intervalUnit and enabled, and the official provider's owner_team_id is optional (the Go SDK's
 * AddRequest.Validate checks the same three fields and the name).
 */
export function createHeartbeatRequest(heartbeat: HeartbeatFields): OpsgenieRequest {
    return { method: "POST", path: "/v2/heartbeats", body: heartbeatBody(heartbeat) };
}

export function getHeartbeatRequest(name: string): OpsgenieRequest {
    return { method: "GET", path: idPath("/v2/heartbeats", name) };
}

/** PATCH is partial, so every managed field is sent; the name is in the body too, as the Go SDK sends it. */
export function updateHeartbeatRequest(name: string, heartbeat: HeartbeatFields): OpsgenieRequest {
    return { method: "PATCH", path: idPath("/v2/heartbeats", name), body: heartbeatBody(heartbeat) };
}

export function deleteHeartbeatRequest(name: string): OpsgenieRequest {
    return { method: "DELETE", path: idPath("/v2/heartbeats", name) };
}

/** A heartbeat as GET reports it; fields the answer leaves out are absent. */
export interface HeartbeatState {
    readonly name: string;
    readonly description: string;
    readonly interval?: number;
    readonly intervalUnit?: string;
    readonly enabled?: boolean;
    readonly ownerTeamId?: string;
    readonly alertMessage?: string;
    readonly alertTags?: readonly string[];
    readonly alertPriority?: string;
}

/** Create answers 201 `{data: {name, enabled, expired, …}}`; the name Opsgenie stored, if it says. */
export function createdHeartbeatName(body: Record<string, unknown>): string | undefined {
    const data = body.data;
    return typeof data === "object" && data !== null ? stringField(data as Record<string, unknown>, "name") : undefined;
}

/**
 * GET answers `{data: {name, description, interval, intervalUnit, enabled, expired, ownerTeam: {id, name},
 * alertMessage, alertTags, alertPriority}}` (Go SDK heartbeat.Heartbeat; the spec lists fewer fields).
 */
export function parseHeartbeat(request: OpsgenieRequest, body: Record<string, unknown>): HeartbeatState {
    const data = dataOf(request, body);
    const ownerTeam = data.ownerTeam;
    const ownerTeamId = typeof ownerTeam === "object" && ownerTeam !== null ? stringField(ownerTeam as Record<string, unknown>, "id") : undefined;
    const intervalUnit = stringField(data, "intervalUnit");
    const alertMessage = stringField(data, "alertMessage");
    const alertPriority = stringField(data, "alertPriority");
    const tags = data.alertTags;
    return {
        name: requiredString(request, data, "name"),
        description: stringField(data, "description") ?? "",
        ...(typeof data.interval === "number" ? { interval: data.interval } : {}),
        ...(intervalUnit === undefined ? {} : { intervalUnit }),
        ...(typeof data.enabled === "boolean" ? { enabled: data.enabled } : {}),
        ...(ownerTeamId === undefined ? {} : { ownerTeamId }),
        ...(alertMessage === undefined ? {} : { alertMessage }),
        ...(Array.isArray(tags) ? { alertTags: tags.filter((t): t is string => typeof t === "string") } : {}),
        ...(alertPriority === undefined ? {} : { alertPriority }),
    };
}
