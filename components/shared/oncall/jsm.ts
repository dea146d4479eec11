import * as pulumi from "@pulumi/pulumi";
// Captured by value when Pulumi serialises the providers below, so it must stay free of I/O and state.
import * as api from "./jsm-api";
// Likewise: the retrying transport both on-call providers use.
import * as transport from "./oncall-provider-http";

/**
 * Jira Service Management (JSM) operations resources as `pulumi.dynamic` providers over JSM's ops
 * REST API (no JSM Pulumi package installs here). Field names follow Atlassian's Terraform provider
 * (`atlassian/terraform-provider-atlassian-operations`: `atlassian-operations_heartbeat` has name,
 * description, interval, interval_unit, enabled, status, team_id, alert_message, alert_tags,
 * alert_priority), so a later move to an official provider is a rename; `connection` is what that
 * provider takes as provider config (cloud_id, email_address, token).
 *
 * Integrations follow `atlassian-operations_api_integration` (name, type, enabled, team_id,
 * type_specific_properties, delete_default_actions, api_key) and their actions
 * `atlassian-operations_integration_action` (integration_id, name, type, domain, direction,
 * group_type, enabled). The team is looked up by name (JsmTeam), or, with alertline:oncall.createTeam,
 * created like `atlassian-operations_team` (JsmCreatedTeam: Atlassian's Teams API on the site host,
 * then enable-ops on the ops REST API, same e-mail and API token). Semantics follow
 * opsgenie.ts: refresh of an unchanged resource shows no diff, a resource deleted by hand reads as
 * gone (empty id) and is created again, 429/5xx are retried with backoff, a 4xx names the field JSM
 * refused. Pulumi serialises each provider object and runs it elsewhere, so the providers use only
 * the pure `api` and `transport` modules and the functions in this file.
 */

/** Where and how to reach JSM's ops REST API; the Atlassian provider takes these as provider config. */
export interface JsmConnectionArgs {
    /** The Atlassian site's cloud ID (alertline:oncall.cloudId). */
    readonly cloudId: pulumi.Input<string>;
    /** E-mail of the Atlassian account whose API token is `apiToken` (alertline:oncall.email). */
    readonly email: pulumi.Input<string>;
    /** That account's API token; kept secret in state. */
    readonly apiToken: pulumi.Input<string>;
    /** Gateway base URL. Default https://api.atlassian.com (tests point it at a stand-in). */
    readonly apiUrl?: pulumi.Input<string>;
}

/** Test seams for the provider objects; the defaults wait for real. */
export type JsmProviderOptions = transport.ProviderRetryOptions;

/** A team lookup as the provider sees it (resolved, secrets unwrapped). */
export interface JsmTeamState {
    readonly displayName: string;
    readonly connection: api.JsmConnection;
}

/** A heartbeat as the provider sees it (resolved, secrets unwrapped). */
export interface JsmHeartbeatState {
    readonly name: string;
    readonly description?: string;
    readonly interval: number;
    readonly intervalUnit: api.HeartbeatIntervalUnit;
    readonly enabled?: boolean;
    readonly status?: string;
    readonly teamId: string;
    readonly alertMessage?: string;
    readonly alertTags?: readonly string[];
    readonly alertPriority?: api.AlertPriority;
    readonly connection: api.JsmConnection;
}

/** A JSM request as the shared transport sends it: Basic auth, and no redirects (they would carry the Basic credential elsewhere). */
function wire(connection: api.JsmConnection, request: api.JsmRequest): transport.ProviderRequest {
    const secrets = api.connectionSecrets(connection);
    return {
        url: api.requestUrl(connection, request),
        method: request.method,
        headers: api.requestHeaders(connection, request),
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        redirect: "manual",
        unreachable: (reason, attempts) => api.unreachableMessage(request, connection.apiUrl, reason, secrets, attempts),
        successBody: (answer, attempts) => api.successBody(request, answer, secrets, attempts),
    };
}

/** Every team the account can see, following `links.next`. */
async function listTeams(connection: api.JsmConnection, options: JsmProviderOptions): Promise<api.TeamEntry[]> {
    const teams: api.TeamEntry[] = [];
    let page: Record<string, string> | undefined = {};
    for (let i = 0; page !== undefined && i < api.MAX_PAGES; i++) {
        const request = api.listTeamsRequest(page);
        const parsed = api.parseTeamsPage(request, await transport.call(wire(connection, request), options));
        teams.push(...parsed.teams);
        page = parsed.next;
    }
    return teams;
}

/** The heartbeat with this name in the team, or undefined (also when the team is gone: 404). */
async function findHeartbeat(connection: api.JsmConnection, teamId: string, name: string, options: JsmProviderOptions): Promise<api.HeartbeatState | undefined> {
    let page: Record<string, string> | undefined = {};
    for (let i = 0; page !== undefined && i < api.MAX_PAGES; i++) {
        const request = api.listHeartbeatsRequest(teamId, name, page);
        const body = await transport.callUnlessGone(wire(connection, request), options);
        if (body === undefined) return undefined;
        const parsed = api.parseHeartbeatsPage(request, body);
        // The name filter narrows the list; the entry is still picked by name, as the Atlassian provider does.
        const found = parsed.heartbeats.find((h) => h.name === name);
        if (found !== undefined) return found;
        page = parsed.next;
    }
    return undefined;
}

/** Another site (cloud ID) or gateway means other entities: replace. A new e-mail or token is recorded by an update without an API call. */
function connectionDiff(olds: { connection?: unknown }, news: { connection?: unknown }): { replace: boolean; changed: boolean } {
    const before = olds.connection as Partial<api.JsmConnection> | undefined;
    const after = news.connection as Partial<api.JsmConnection> | string | undefined;
    if (typeof after !== "object" || after === null || Object.values(after).includes(transport.UNKNOWN)) return { replace: false, changed: true };
    const replace = before?.cloudId !== after.cloudId || (before?.apiUrl ?? api.JSM_API_URL) !== (after.apiUrl ?? api.JSM_API_URL);
    return { replace, changed: replace || before?.email !== after.email || before?.apiToken !== after.apiToken };
}

/**
 * A JSM resource's diff: the fields JSM cannot change in place (and a new cloud or API URL) replace
 * it, `differs` says whether anything else changed. `deleteBeforeReplace` where names are unique,
 * so the old one goes before its replacement is created.
 */
function jsmDiff<T extends { connection?: unknown }>(
    olds: T,
    news: T,
    replaceOn: readonly (keyof T & string)[],
    differs: boolean,
    deleteBeforeReplace = false,
): pulumi.dynamic.DiffResult {
    const connection = connectionDiff(olds, news);
    const replaces: string[] = replaceOn.filter((key) => olds[key] !== news[key]);
    if (connection.replace) replaces.push("connection");
    return { changes: replaces.length > 0 || differs || connection.changed, replaces, ...(deleteBeforeReplace ? { deleteBeforeReplace: replaces.length > 0 } : {}) };
}

/** Provider object for {@link JsmTeam}; exported so tests can drive it against a stand-in. The id is JSM's team id. */
export function jsmTeamProvider(options: JsmProviderOptions = {}): pulumi.dynamic.ResourceProvider<JsmTeamState, JsmTeamState> {
    return {
        async create(inputs) {
            const connection = api.checkConnection(inputs.connection);
            const teams = await listTeams(connection, options);
            const matches = teams.filter((t) => t.name === inputs.displayName);
            if (matches.length === 0) throw new Error(api.teamNotFoundMessage(inputs.displayName, teams.map((t) => t.name), connection.email));
            if (matches.length > 1) {
                throw new Error(`JSM has ${matches.length} operations teams named "${inputs.displayName}" (ids ${matches.map((t) => t.id).join(", ")}): rename one in JSM so alertline:oncall.team names exactly one.`);
            }
            return { id: matches[0].id, outs: { displayName: inputs.displayName, connection } };
        },

        async read(id, props) {
            const connection = api.checkConnection(props?.connection);
            const team = (await listTeams(connection, options)).find((t) => t.id === id);
            // An empty id tells the engine the team is gone (refresh drops it; the next up looks it up again).
            if (team === undefined) return { id: "" };
            return { id, props: { ...props!, displayName: team.name, connection } };
        },

        async diff(_id, olds, news) {
            return jsmDiff(olds, news, ["displayName"], false);
        },

        async update(_id, _olds, news) {
            // Only the credentials can change in place; nothing in JSM does.
            return { outs: { displayName: news.displayName, connection: api.checkConnection(news.connection) } };
        },

        async delete() {
            // alertline did not create the team: it stays in JSM.
        },
    };
}

/** A team alertline creates (Teams API) and enables operations on, as the provider sees it. */
export interface JsmCreatedTeamState {
    readonly organizationId: string;
    /** `https://{domainName}`, the site host the Teams API is on (a stand-in's URL in tests). */
    readonly siteUrl: string;
    readonly displayName: string;
    readonly description: string;
    readonly teamType: api.TeamType;
    readonly members: readonly string[];
    readonly connection: api.JsmConnection;
}

/** A Teams API request (site host) as the shared transport sends it: same Basic credential, no redirects. */
function teamsWire(connection: api.JsmConnection, siteUrl: string, request: api.JsmRequest): transport.ProviderRequest {
    const secrets = api.connectionSecrets(connection);
    return {
        ...wire(connection, request),
        url: `${siteUrl.replace(/\/+$/, "")}${request.path}`,
        unreachable: (reason, attempts) => api.unreachableMessage(request, siteUrl, reason, secrets, attempts),
    };
}

function checkSiteUrl(value: unknown): string {
    if (typeof value !== "string" || !/^https?:\/\/[^/\s?#]+\/?$/.test(value)) {
        throw new Error(`JSM team siteUrl "${String(value)}" is not a site URL: give https://<your-site>.atlassian.net (alertline:oncall.createTeam.domainName).`);
    }
    return value.replace(/\/+$/, "");
}

async function listMembers(connection: api.JsmConnection, state: Pick<JsmCreatedTeamState, "siteUrl" | "organizationId">, teamId: string, options: JsmProviderOptions): Promise<string[]> {
    const members: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < api.MAX_PAGES; i++) {
        const request = api.listPlatformTeamMembersRequest(state.organizationId, teamId, after);
        const page = api.parsePlatformTeamMembers(request, await transport.call(teamsWire(connection, state.siteUrl, request), options));
        members.push(...page.accountIds);
        if (page.after === undefined) break;
        after = page.after;
    }
    return members;
}

/** Adds and removes members so the team holds `wanted`; a per-member error in a 2xx answer fails too. */
async function syncMembers(connection: api.JsmConnection, state: Pick<JsmCreatedTeamState, "siteUrl" | "organizationId">, teamId: string, wanted: readonly string[], live: readonly string[], options: JsmProviderOptions): Promise<void> {
    const changes = api.memberChanges(wanted, live);
    for (const [change, ids] of [["add", changes.add], ["remove", changes.remove]] as const) {
        if (ids.length === 0) continue;
        const request = api.changePlatformTeamMembersRequest(state.organizationId, teamId, change, ids);
        const errors = api.membershipErrors(await transport.call(teamsWire(connection, state.siteUrl, request), options));
        if (errors !== undefined) throw new Error(`Atlassian Teams API ${api.requestLabel(request)} refused some members: ${errors} — check the account ids in alertline:oncall.createTeam.members (profile URL's last segment).`);
    }
}

function createdTeamState(inputs: Partial<JsmCreatedTeamState>): JsmCreatedTeamState {
    const connection = api.checkConnection(inputs.connection);
    const fields = api.createdTeamFields(inputs);
    if (typeof inputs.organizationId !== "string" || inputs.organizationId.trim() === "") throw new Error("JSM team organizationId is empty: copy it from https://admin.atlassian.com/o/<organizationId>/overview.");
    return { organizationId: inputs.organizationId, siteUrl: checkSiteUrl(inputs.siteUrl), ...fields, members: [...fields.members], connection };
}

/**
 * Provider object for {@link JsmCreatedTeam}; exported so tests can drive it against a stand-in. The
 * id is the team's id, which is also its id on the ops REST API's team paths (enable-ops takes it
 * as `platformTeamId`).
 */
export function jsmCreatedTeamProvider(options: JsmProviderOptions = {}): pulumi.dynamic.ResourceProvider<JsmCreatedTeamState, JsmCreatedTeamState> {
    return {
        async create(inputs) {
            const state = createdTeamState(inputs);
            const { connection } = state;
            const request = api.createPlatformTeamRequest(state.organizationId, state);
            const { teamId } = api.parsePlatformTeam(request, await transport.call(teamsWire(connection, state.siteUrl, request), options));
            try {
                // The Teams API adds the requesting account as the first member; the provider reads the members and adds and removes the difference.
                await syncMembers(connection, state, teamId, state.members, await listMembers(connection, state, teamId, options), options);
                await enableOps(connection, teamId, state.members[0], options);
            } catch (error) {
                // As the provider does: a half-made team is deleted, so the next up starts clean. The first error is what the user sees.
                const cleanup = deleteCreatedTeam(connection, state, teamId, options).then(
                    () => "",
                    (e: unknown) => ` (and deleting the half-made team ${teamId} failed too: ${(e as Error).message}; delete it in Atlassian's Teams directory)`,
                );
                throw new Error(`${(error as Error).message}${await cleanup}`);
            }
            return { id: teamId, outs: state };
        },

        async read(id, props) {
            const connection = api.checkConnection(props?.connection);
            const request = api.getPlatformTeamRequest(props!.organizationId, id);
            const body = await transport.callUnlessGone(teamsWire(connection, props!.siteUrl, request), options);
            // An empty id tells the engine the team is gone (refresh drops it; the next up creates it again).
            if (body === undefined) return { id: "" };
            const live = api.parsePlatformTeam(request, body);
            const members = await listMembers(connection, props!, id, options);
            return {
                id,
                props: {
                    ...props!,
                    connection,
                    displayName: live.displayName ?? props!.displayName,
                    description: live.description ?? props!.description,
                    // Same members in another order is no drift: keep state's.
                    members: api.sameSet(members, props!.members) ? props!.members : members,
                },
            };
        },

        async diff(_id, olds, news) {
            // The provider refuses to change these in place; alertline makes a new team instead.
            const changed = olds.displayName !== news.displayName || olds.description !== news.description || !api.sameSet(olds.members, news.members);
            return jsmDiff(olds, news, ["organizationId", "siteUrl", "teamType"], changed);
        },

        async update(id, olds, news) {
            const state = createdTeamState(news);
            if (olds.displayName !== state.displayName || olds.description !== state.description) {
                await transport.call(teamsWire(state.connection, state.siteUrl, api.updatePlatformTeamRequest(state.organizationId, id, state)), options);
            }
            if (!api.sameSet(olds.members, state.members)) await syncMembers(state.connection, state, id, state.members, olds.members ?? [], options);
            return { outs: state };
        },

        async delete(id, props) {
            await deleteCreatedTeam(api.checkConnection(props.connection), props, id, options);
        },
    };
}

/**
 * `POST /v1/teams/{id}/enable-ops`. A team just made in the Teams API may not be visible to JSM yet:
 * the Atlassian provider retries this call on 404 and 422 too (team_resource.go AddRetryCondition),
 * so alertline does, with the same backoff as for 429/5xx.
 */
async function enableOps(connection: api.JsmConnection, teamId: string, adminAccountId: string, options: JsmProviderOptions): Promise<void> {
    const request = wire(connection, api.enableOpsRequest(teamId, adminAccountId));
    const maxAttempts = Math.max(1, options.maxAttempts ?? api.DEFAULT_MAX_ATTEMPTS);
    for (let round = 1; ; round++) {
        const answer = await transport.send(request, options);
        if ((answer.status === 404 || answer.status === 422) && round < maxAttempts) {
            await (options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(api.retryDelayMs(round));
            continue;
        }
        request.successBody(answer, answer.attempts);
        return;
    }
}

/** Deletes the team through the Teams API; 404 is already gone. */
async function deleteCreatedTeam(connection: api.JsmConnection, state: Pick<JsmCreatedTeamState, "siteUrl" | "organizationId">, teamId: string, options: JsmProviderOptions): Promise<void> {
    await transport.callUnlessGone(teamsWire(connection, state.siteUrl, api.deletePlatformTeamRequest(state.organizationId, teamId)), options);
}

/** Whether anything a PATCH would send differs (defaults applied, nothing validated: preview may hold UNKNOWN). */
function heartbeatDiffers(olds: Partial<JsmHeartbeatState>, news: Partial<JsmHeartbeatState>): boolean {
    const settled = (s: Partial<JsmHeartbeatState>) =>
        JSON.stringify([
            s.description ?? "",
            s.interval,
            s.enabled ?? true,
            s.alertMessage ?? (typeof s.name === "string" ? api.defaultHeartbeatAlertMessage(s.name) : s.name),
            s.alertPriority ?? api.DEFAULT_ALERT_PRIORITY,
        ]);
    return settled(olds) !== settled(news) || !api.sameUnit(olds.intervalUnit, news.intervalUnit) || !api.sameSet(olds.alertTags, news.alertTags);
}

function heartbeatOuts(heartbeat: api.HeartbeatFields, teamId: string, connection: api.JsmConnection, status: string | undefined): JsmHeartbeatState {
    return { ...heartbeat, alertTags: [...heartbeat.alertTags], teamId, connection, ...(status === undefined ? {} : { status }) };
}

/** Provider object for {@link JsmHeartbeat}; exported so tests can drive it against a stand-in. The id is the name. */
export function jsmHeartbeatProvider(options: JsmProviderOptions = {}): pulumi.dynamic.ResourceProvider<JsmHeartbeatState, JsmHeartbeatState> {
    return {
        async create(inputs) {
            const connection = api.checkConnection(inputs.connection);
            const heartbeat = api.heartbeatFields(inputs);
            const body = await transport.call(wire(connection, api.createHeartbeatRequest(inputs.teamId, heartbeat)), options);
            const created = api.parseHeartbeat(body);
            return { id: heartbeat.name, outs: heartbeatOuts(heartbeat, inputs.teamId, connection, created?.status) };
        },

        async read(id, props) {
            const connection = api.checkConnection(props?.connection);
            const live = await findHeartbeat(connection, props!.teamId, id, options);
            // An empty id tells the engine the heartbeat no longer exists (refresh drops it; up creates it again).
            if (live === undefined) return { id: "" };
            return {
                id,
                props: {
                    ...props!,
                    connection,
                    name: live.name,
                    description: live.description ?? props?.description,
                    interval: live.interval ?? props!.interval,
                    // Same unit in another spelling ("Days") is no drift: keep state's.
                    intervalUnit: (live.intervalUnit === undefined || api.sameUnit(live.intervalUnit, props?.intervalUnit) ? props!.intervalUnit : live.intervalUnit.toLowerCase()) as api.HeartbeatIntervalUnit,
                    enabled: live.enabled ?? props?.enabled,
                    alertMessage: live.alertMessage ?? props?.alertMessage,
                    alertTags: live.alertTags === undefined || api.sameSet(live.alertTags, props?.alertTags) ? props?.alertTags : live.alertTags,
                    alertPriority: (live.alertPriority ?? props?.alertPriority) as api.AlertPriority | undefined,
                    ...(live.status === undefined ? {} : { status: live.status }),
                },
            };
        },

        async diff(_id, olds, news) {
            // "Name of a heartbeat cannot be changed" (update docs); a heartbeat belongs to one team, whose names are unique.
            return jsmDiff(olds, news, ["name", "teamId"], heartbeatDiffers(olds, news), true);
        },

        async update(id, olds, news) {
            const connection = api.checkConnection(news.connection);
            const heartbeat = api.heartbeatFields(news);
            let status = olds.status;
            if (heartbeatDiffers(olds, news)) {
                const body = await transport.call(wire(connection, api.updateHeartbeatRequest(news.teamId, id, heartbeat)), options);
                status = api.parseHeartbeat(body)?.status ?? status;
            }
            return { outs: heartbeatOuts(heartbeat, news.teamId, connection, status) };
        },

        async delete(id, props) {
            const connection = api.checkConnection(props.connection);
            // 404: already gone, which is what delete wants.
            await transport.callUnlessGone(wire(connection, api.deleteHeartbeatRequest(props.teamId, id)), options);
        },
    };
}

/** An integration as the provider sees it (resolved, secrets unwrapped). */
export interface JsmApiIntegrationState {
    readonly name: string;
    readonly type: string;
    readonly enabled?: boolean;
    readonly teamId: string;
    readonly typeSpecificProperties?: Readonly<Record<string, unknown>>;
    /** At creation only, as in the Atlassian provider: remove the actions JSM adds to a new integration. */
    readonly deleteDefaultActions?: boolean;
    readonly connection: api.JsmConnection;
    readonly apiKey?: string;
}

/** An integration action as the provider sees it (resolved, secrets unwrapped). */
export interface JsmIntegrationActionState {
    readonly integrationId: string;
    readonly name: string;
    readonly type: api.AlertActionType;
    readonly domain?: "alert";
    readonly direction: "incoming" | "outgoing";
    readonly groupType?: "forwarding" | "updating" | "checkbox";
    readonly enabled?: boolean;
    readonly connection: api.JsmConnection;
}

/** Header values of a Webhook's typeSpecificProperties: never repeated in an error. */
function propertySecrets(properties: unknown): string[] {
    const headers = typeof properties === "object" && properties !== null ? (properties as { headers?: unknown }).headers : undefined;
    return typeof headers === "object" && headers !== null ? Object.values(headers).filter((v): v is string => typeof v === "string" && v !== "") : [];
}

/** A JSM request whose errors also never repeat `alsoSecret`. */
function wireWith(connection: api.JsmConnection, request: api.JsmRequest, alsoSecret: readonly string[]): transport.ProviderRequest {
    const base = wire(connection, request);
    const secrets = [...api.connectionSecrets(connection), ...alsoSecret];
    return {
        ...base,
        unreachable: (reason, attempts) => api.unreachableMessage(request, connection.apiUrl, reason, secrets, attempts),
        successBody: (answer, attempts) => api.successBody(request, answer, secrets, attempts),
    };
}

/** Deletes every action JSM put on a new integration (the Atlassian provider's listDefaultActionsAndDelete). */
async function deleteDefaultActions(connection: api.JsmConnection, integrationId: string, secrets: readonly string[], options: JsmProviderOptions): Promise<void> {
    const found: api.IntegrationActionState[] = [];
    let page: Record<string, string> | undefined = {};
    for (let i = 0; page !== undefined && i < api.MAX_PAGES; i++) {
        const request = api.listIntegrationActionsRequest(integrationId, page);
        const parsed = api.parseIntegrationActionsPage(request, await transport.call(wireWith(connection, request, secrets), options));
        found.push(...parsed.actions);
        page = parsed.next;
    }
    for (const action of found) await transport.callUnlessGone(wireWith(connection, api.deleteIntegrationActionRequest(integrationId, action.id), secrets), options);
}

function integrationOuts(fields: api.IntegrationFields, state: Pick<JsmApiIntegrationState, "deleteDefaultActions" | "connection" | "apiKey">): JsmApiIntegrationState {
    return {
        name: fields.name,
        type: fields.type,
        enabled: fields.enabled,
        teamId: fields.teamId,
        typeSpecificProperties: { ...fields.typeSpecificProperties },
        deleteDefaultActions: state.deleteDefaultActions ?? false,
        connection: state.connection,
        ...(state.apiKey === undefined ? {} : { apiKey: state.apiKey }),
    };
}

/** Whether anything a PATCH would send differs (defaults applied, nothing validated: preview may hold UNKNOWN). */
function integrationDiffers(olds: Partial<JsmApiIntegrationState>, news: Partial<JsmApiIntegrationState>): boolean {
    return olds.name !== news.name || (olds.enabled ?? true) !== (news.enabled ?? true) || !api.sameProperties(olds.typeSpecificProperties, news.typeSpecificProperties);
}

/** Provider object for {@link JsmApiIntegration}; exported so tests can drive it against a stand-in. The id is JSM's integration id. */
export function jsmApiIntegrationProvider(options: JsmProviderOptions = {}): pulumi.dynamic.ResourceProvider<JsmApiIntegrationState, JsmApiIntegrationState> {
    return {
        async create(inputs) {
            const connection = api.checkConnection(inputs.connection);
            const wanted = api.integrationFields(inputs);
            const secrets = propertySecrets(wanted.typeSpecificProperties);
            const request = api.createIntegrationRequest(wanted);
            const created = api.parseIntegration(request, await transport.call(wireWith(connection, request, secrets), options));
            try {
                // JSM returns the key in this answer only; a Webhook only sends and needs none.
                if (created.apiKey === undefined && wanted.type !== api.WEBHOOK_TYPE) throw Object.assign(new Error("no apiKey"), { missingApiKey: true });
                if (inputs.deleteDefaultActions === true) await deleteDefaultActions(connection, created.id, secrets, options);
                return { id: created.id, outs: integrationOuts(wanted, { deleteDefaultActions: inputs.deleteDefaultActions, connection, apiKey: created.apiKey }) };
            } catch (error) {
                // Create must leave nothing behind when it fails, or the integration is orphaned outside state.
                let cleanup: string;
                try {
                    await transport.callUnlessGone(wireWith(connection, api.deleteIntegrationRequest(created.id), secrets), options);
                    cleanup = `alertline deleted integration ${created.id} again.`;
                } catch (deleteError) {
                    cleanup = `Deleting it again failed too (${(deleteError as Error).message}); delete integration ${created.id} in JSM by hand.`;
                }
                if ((error as { missingApiKey?: boolean }).missingApiKey) throw new Error(api.missingIntegrationKeyMessage(created.id, wanted.name, cleanup));
                throw new Error(`${(error as Error).message} (after creating integration ${created.id}: ${cleanup})`);
            }
        },

        async read(id, props) {
            const connection = api.checkConnection(props?.connection);
            const request = api.getIntegrationRequest(id);
            const body = await transport.callUnlessGone(wireWith(connection, request, propertySecrets(props?.typeSpecificProperties)), options);
            // An empty id tells the engine the integration no longer exists (refresh drops it; up creates it again).
            if (body === undefined) return { id: "" };
            const live = api.parseIntegration(request, body);
            return {
                id,
                props: {
                    ...props!,
                    connection,
                    name: live.name,
                    type: live.type,
                    enabled: live.enabled ?? props?.enabled,
                    teamId: live.teamId ?? props!.teamId,
                    typeSpecificProperties: api.managedProperties(props?.typeSpecificProperties, live.typeSpecificProperties),
                    // GET never returns the key: keep the one from creation, which senders still use.
                    ...(props?.apiKey === undefined ? {} : { apiKey: props.apiKey }),
                },
            };
        },

        async diff(_id, olds, news) {
            // teamId: "cannot be changed after creation" (the Atlassian provider). Integration names are unique.
            return jsmDiff(olds, news, ["type", "teamId"], integrationDiffers(olds, news), true);
        },

        async update(id, olds, news) {
            const connection = api.checkConnection(news.connection);
            const fields = api.integrationFields(news);
            if (integrationDiffers(olds, news)) {
                const secrets = [...propertySecrets(olds.typeSpecificProperties), ...propertySecrets(fields.typeSpecificProperties)];
                await transport.call(wireWith(connection, api.updateIntegrationRequest(id, fields), secrets), options);
            }
            return { outs: integrationOuts(fields, { deleteDefaultActions: olds.deleteDefaultActions, connection, apiKey: olds.apiKey }) };
        },

        async delete(id, props) {
            const connection = api.checkConnection(props.connection);
            // 404: already gone, which is what delete wants.
            await transport.callUnlessGone(wireWith(connection, api.deleteIntegrationRequest(id), propertySecrets(props.typeSpecificProperties)), options);
        },
    };
}

function actionOuts(fields: api.IntegrationActionFields, connection: api.JsmConnection): JsmIntegrationActionState {
    return { ...fields, connection };
}

function actionDiffers(olds: Partial<JsmIntegrationActionState>, news: Partial<JsmIntegrationActionState>): boolean {
    return olds.name !== news.name || olds.type !== news.type || (olds.groupType ?? "forwarding") !== (news.groupType ?? "forwarding") || (olds.enabled ?? true) !== (news.enabled ?? true);
}

/** Provider object for {@link JsmIntegrationAction}; exported so tests can drive it against a stand-in. The id is JSM's action id. */
export function jsmIntegrationActionProvider(options: JsmProviderOptions = {}): pulumi.dynamic.ResourceProvider<JsmIntegrationActionState, JsmIntegrationActionState> {
    return {
        async create(inputs) {
            const connection = api.checkConnection(inputs.connection);
            const fields = api.integrationActionFields(inputs);
            const request = api.createIntegrationActionRequest(fields);
            const created = api.parseIntegrationAction(request, await transport.call(wire(connection, request), options));
            return { id: created.id, outs: actionOuts(fields, connection) };
        },

        async read(id, props) {
            const connection = api.checkConnection(props?.connection);
            const request = api.getIntegrationActionRequest(props!.integrationId, id);
            // 404: the action, or its integration, is gone.
            const body = await transport.callUnlessGone(wire(connection, request), options);
            if (body === undefined) return { id: "" };
            const live = api.parseIntegrationAction(request, body);
            return {
                id,
                props: {
                    ...props!,
                    connection,
                    name: live.name,
                    type: (live.type ?? props!.type) as api.AlertActionType,
                    direction: (live.direction ?? props!.direction) as JsmIntegrationActionState["direction"],
                    groupType: (live.groupType ?? props?.groupType) as JsmIntegrationActionState["groupType"],
                    enabled: live.enabled ?? props?.enabled,
                },
            };
        },

        async diff(_id, olds, news) {
            return jsmDiff(olds, news, ["integrationId", "direction"], actionDiffers(olds, news));
        },

        async update(id, olds, news) {
            const connection = api.checkConnection(news.connection);
            const fields = api.integrationActionFields(news);
            if (actionDiffers(olds, news)) await transport.call(wire(connection, api.updateIntegrationActionRequest(id, fields)), options);
            return { outs: actionOuts(fields, connection) };
        },

        async delete(id, props) {
            const connection = api.checkConnection(props.connection);
            await transport.callUnlessGone(wire(connection, api.deleteIntegrationActionRequest(props.integrationId, id)), options);
        },
    };
}

// One provider object each, so Pulumi serialises each once.
const apiIntegrationProvider = jsmApiIntegrationProvider();
const integrationActionProvider = jsmIntegrationActionProvider();
const teamProvider = jsmTeamProvider();
const createdTeamProvider = jsmCreatedTeamProvider();
const heartbeatProvider = jsmHeartbeatProvider();

/** The connection as a resource input: the token always secret, the rest readable in diffs. */
function secretTokenConnection(connection: JsmConnectionArgs): pulumi.Input<Record<string, pulumi.Input<string>>> {
    return { cloudId: connection.cloudId, email: connection.email, apiToken: pulumi.secret(connection.apiToken), apiUrl: connection.apiUrl ?? api.JSM_API_URL };
}

/** Arguments for {@link JsmTeam}. */
export interface JsmTeamArgs {
    /** The operations team's name as JSM shows it (the Atlassian provider's `display_name`); changing it looks up another team. */
    readonly displayName: pulumi.Input<string>;
    /** Cloud ID, account e-mail and API token; the token stays secret. */
    readonly connection: JsmConnectionArgs;
}

/**
 * A JSM operations team, looked up by name through `GET /v1/teams`; its id is the team id the ops
 * REST API's team paths take. alertline neither creates nor deletes it.
 */
export class JsmTeam extends pulumi.dynamic.Resource {
    /** The team's name. */
    declare readonly displayName: pulumi.Output<string>;

    constructor(name: string, args: JsmTeamArgs, opts?: pulumi.CustomResourceOptions) {
        if (typeof args.displayName === "string" && args.displayName.trim() === "") throw new Error("JsmTeam displayName is empty: give the team's name as JSM shows it.");
        super(
            teamProvider,
            name,
            { displayName: args.displayName, connection: secretTokenConnection(args.connection) },
            transport.withSecretOutputs(opts, "connection"),
            "jsm",
            "Team",
        );
    }
}

/** Arguments for {@link JsmCreatedTeam}; names follow the Atlassian provider's `atlassian-operations_team` (camel case). */
export interface JsmCreatedTeamArgs {
    /** The organization the team belongs to (admin.atlassian.com/o/<organizationId>/…); changing it replaces the team. */
    readonly organizationId: pulumi.Input<string>;
    /** The site host, e.g. "example.atlassian.net" (the provider's `domain_name`); the Teams API is on it. Changing it replaces the team. */
    readonly domainName: pulumi.Input<string>;
    /** The team's name (the provider's `display_name`), 1–250 characters. */
    readonly displayName: pulumi.Input<string>;
    /** What the team is for. Default "". */
    readonly description?: pulumi.Input<string>;
    /** "OPEN", "MEMBER_INVITE" or "EXTERNAL"; changing it replaces the team. Default "MEMBER_INVITE". */
    readonly teamType?: pulumi.Input<api.TeamType>;
    /** Atlassian account ids, at least one; the first becomes the team's operations admin. Order does not matter otherwise. */
    readonly members: pulumi.Input<pulumi.Input<string>[]>;
    /** Cloud ID, account e-mail and API token (the Teams API takes the same Basic credential); the token stays secret. */
    readonly connection: JsmConnectionArgs;
    /** Base URL of the site. Default `https://${domainName}` (tests point it at a stand-in). */
    readonly siteUrl?: pulumi.Input<string>;
}

/**
 * A JSM operations team alertline creates: an Atlassian team through the Teams public API, its
 * members added, then operations enabled on it (`POST /v1/teams/{id}/enable-ops`), as the
 * Atlassian provider's `atlassian-operations_team` does. Deleting it deletes the Atlassian team.
 */
export class JsmCreatedTeam extends pulumi.dynamic.Resource {
    declare readonly displayName: pulumi.Output<string>;
    declare readonly members: pulumi.Output<string[]>;

    constructor(name: string, args: JsmCreatedTeamArgs, opts?: pulumi.CustomResourceOptions) {
        const { connection, organizationId: _o, domainName: _d, siteUrl: _s, ...fields } = args;
        if (transport.isKnown(fields)) api.createdTeamFields(fields);
        super(
            createdTeamProvider,
            name,
            {
                organizationId: args.organizationId,
                siteUrl: args.siteUrl ?? pulumi.interpolate`https://${args.domainName}`,
                displayName: args.displayName,
                description: args.description ?? "",
                teamType: args.teamType ?? "MEMBER_INVITE",
                members: args.members,
                connection: secretTokenConnection(connection),
            },
            transport.withSecretOutputs(opts, "connection"),
            "jsm",
            "CreatedTeam",
        );
    }
}

/** Arguments for {@link JsmHeartbeat}; names match the Atlassian provider's heartbeat (camel case). */
export interface JsmHeartbeatArgs {
    /** Heartbeat name: 1–100 characters, no control characters; unique in the team, used in the ping. Changing it replaces the heartbeat. */
    readonly name: pulumi.Input<string>;
    /** What the heartbeat watches. Default "". */
    readonly description?: pulumi.Input<string>;
    /** How long JSM waits for a ping before alerting, in `intervalUnit`: a whole number ≥ 1. */
    readonly interval: pulumi.Input<number>;
    /** Unit of `interval`. */
    readonly intervalUnit: pulumi.Input<api.HeartbeatIntervalUnit>;
    /** Whether JSM watches the heartbeat. Default true. */
    readonly enabled?: pulumi.Input<boolean>;
    /** The owning team's id (e.g. a {@link JsmTeam}'s id); changing it replaces the heartbeat. */
    readonly teamId: pulumi.Input<string>;
    /** Message of the alert opened when pings stop, at most 130 characters. Default "<name> is expired". */
    readonly alertMessage?: pulumi.Input<string>;
    /** Tags of that alert, at most 20; order does not matter. Default none. */
    readonly alertTags?: pulumi.Input<pulumi.Input<string>[]>;
    /** Priority of that alert, "P1" (highest) to "P5". Default "P3". */
    readonly alertPriority?: pulumi.Input<api.AlertPriority>;
    /** Cloud ID, account e-mail and API token; the token stays secret. */
    readonly connection: JsmConnectionArgs;
}

/** A JSM heartbeat: JSM alerts the team when nothing pings `/v1/teams/{teamId}/heartbeats/ping?name=` for one interval. */
export class JsmHeartbeat extends pulumi.dynamic.Resource {
    /** Heartbeat name, also its id. */
    declare readonly name: pulumi.Output<string>;
    declare readonly description: pulumi.Output<string>;
    declare readonly interval: pulumi.Output<number>;
    declare readonly intervalUnit: pulumi.Output<api.HeartbeatIntervalUnit>;
    declare readonly enabled: pulumi.Output<boolean>;
    /** JSM's status of the heartbeat as last read (e.g. "Responsive"), if it reports one. */
    declare readonly status: pulumi.Output<string | undefined>;
    /** The owning team's id. */
    declare readonly teamId: pulumi.Output<string>;
    declare readonly alertMessage: pulumi.Output<string>;
    declare readonly alertTags: pulumi.Output<string[]>;
    declare readonly alertPriority: pulumi.Output<api.AlertPriority>;

    constructor(name: string, args: JsmHeartbeatArgs, opts?: pulumi.CustomResourceOptions) {
        const { connection, teamId, ...fields } = args;
        if (transport.isKnown(fields)) api.heartbeatFields(fields);
        super(
            heartbeatProvider,
            name,
            {
                name: args.name,
                description: args.description ?? "",
                interval: args.interval,
                intervalUnit: args.intervalUnit,
                enabled: args.enabled ?? true,
                status: undefined,
                teamId,
                alertMessage: args.alertMessage,
                alertTags: args.alertTags ?? [],
                alertPriority: args.alertPriority ?? api.DEFAULT_ALERT_PRIORITY,
                connection: secretTokenConnection(connection),
            },
            transport.withSecretOutputs(opts, "connection"),
            "jsm",
            "Heartbeat",
        );
    }
}

/** Arguments for {@link JsmApiIntegration}; names match the Atlassian provider's `atlassian-operations_api_integration` (camel case). */
export interface JsmApiIntegrationArgs {
    /** Integration name, 1–250 characters, unique in the site. */
    readonly name: pulumi.Input<string>;
    /** "API", "Datadog" or "Webhook" (api.INTEGRATION_TYPES); changing it replaces the integration. */
    readonly type: pulumi.Input<string>;
    /** Whether the integration processes requests. Default true (the Atlassian provider's default is false). */
    readonly enabled?: pulumi.Input<boolean>;
    /** The owning team's id (a {@link JsmTeam}'s id); JSM cannot change it, so changing it replaces the integration. */
    readonly teamId: pulumi.Input<string>;
    /** The type's settings (a Webhook's `url` and `headers`); kept secret, as a Webhook's hold its token. Default `{}`. */
    readonly typeSpecificProperties?: pulumi.Input<Record<string, unknown>>;
    /** Remove the actions JSM adds to a new integration (at creation only). Default false. */
    readonly deleteDefaultActions?: pulumi.Input<boolean>;
    /** Cloud ID, account e-mail and API token; the token stays secret. */
    readonly connection: JsmConnectionArgs;
}

/**
 * A JSM integration through `POST /v1/integrations`: an API-based one (API, Datadog) whose `apiKey`
 * senders create alerts with, or a Webhook through which JSM posts alert actions to a URL.
 */
export class JsmApiIntegration extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;
    declare readonly type: pulumi.Output<string>;
    declare readonly enabled: pulumi.Output<boolean>;
    /** The owning team's id. */
    declare readonly teamId: pulumi.Output<string>;
    /** The type's settings as alertline set them (secret). */
    declare readonly typeSpecificProperties: pulumi.Output<Record<string, unknown>>;
    /** The integration's key (secret), from the create answer: JSM does not return it later. Undefined for a Webhook without one. */
    declare readonly apiKey: pulumi.Output<string>;

    constructor(name: string, args: JsmApiIntegrationArgs, opts?: pulumi.CustomResourceOptions) {
        const { connection, deleteDefaultActions, ...fields } = args;
        if (transport.isKnown(fields)) api.integrationFields(fields);
        super(
            apiIntegrationProvider,
            name,
            {
                name: args.name,
                type: args.type,
                enabled: args.enabled ?? true,
                teamId: args.teamId,
                typeSpecificProperties: pulumi.secret(args.typeSpecificProperties ?? {}),
                deleteDefaultActions: deleteDefaultActions ?? false,
                connection: secretTokenConnection(connection),
                apiKey: undefined,
            },
            transport.withSecretOutputs(opts, "apiKey", "typeSpecificProperties", "connection"),
            "jsm",
            "ApiIntegration",
        );
        // Secret in the program too, under engines or mocks that do not apply additionalSecretOutputs.
        this.apiKey = pulumi.secret(this.apiKey);
        this.typeSpecificProperties = pulumi.secret(this.typeSpecificProperties) as unknown as pulumi.Output<Record<string, unknown>>;
    }
}

/** Arguments for {@link JsmIntegrationAction}; names match the Atlassian provider's `atlassian-operations_integration_action` (camel case). */
export interface JsmIntegrationActionArgs {
    /** The integration the action belongs to; changing it replaces the action. */
    readonly integrationId: pulumi.Input<string>;
    /** The action's name, 1–250 characters. */
    readonly name: pulumi.Input<string>;
    /** The alert action: "create", "acknowledge", "unacknowledge", "add-note" or "close". */
    readonly type: pulumi.Input<api.AlertActionType>;
    /** "incoming" (the integration's requests act on alerts) or "outgoing" (JSM forwards the alert action); changing it replaces the action. */
    readonly direction: pulumi.Input<"incoming" | "outgoing">;
    /** "forwarding", "updating" or "checkbox". Default "forwarding". */
    readonly groupType?: pulumi.Input<"forwarding" | "updating" | "checkbox">;
    /** Whether the action runs. Default true. */
    readonly enabled?: pulumi.Input<boolean>;
    /** Cloud ID, account e-mail and API token; the token stays secret. */
    readonly connection: JsmConnectionArgs;
}

/** One action of a JSM integration, for every alert (filter "match-all"); e.g. a Webhook's outgoing Acknowledge. */
export class JsmIntegrationAction extends pulumi.dynamic.Resource {
    declare readonly integrationId: pulumi.Output<string>;
    declare readonly name: pulumi.Output<string>;
    declare readonly type: pulumi.Output<api.AlertActionType>;
    declare readonly direction: pulumi.Output<"incoming" | "outgoing">;
    declare readonly enabled: pulumi.Output<boolean>;

    constructor(name: string, args: JsmIntegrationActionArgs, opts?: pulumi.CustomResourceOptions) {
        const { connection, ...fields } = args;
        if (transport.isKnown(fields)) api.integrationActionFields(fields);
        super(
            integrationActionProvider,
            name,
            {
                integrationId: args.integrationId,
                name: args.name,
                type: args.type,
                domain: "alert",
                direction: args.direction,
                groupType: args.groupType ?? "forwarding",
                enabled: args.enabled ?? true,
                connection: secretTokenConnection(connection),
            },
            transport.withSecretOutputs(opts, "connection"),
            "jsm",
            "IntegrationAction",
        );
    }
}
