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
 * The team is looked up by name (JsmTeam), not created: issue 12 adds creation. Semantics follow
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
            const connection = connectionDiff(olds, news);
            const replaces = [...(olds.displayName !== news.displayName ? ["displayName"] : []), ...(connection.replace ? ["connection"] : [])];
            return { changes: replaces.length > 0 || connection.changed, replaces };
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
            const connection = connectionDiff(olds, news);
            const replaces: string[] = [];
            // "Name of a heartbeat cannot be changed" (update docs); a heartbeat belongs to one team.
            if (olds.name !== news.name) replaces.push("name");
            if (olds.teamId !== news.teamId) replaces.push("teamId");
            if (connection.replace) replaces.push("connection");
            const changed = replaces.length > 0 || heartbeatDiffers(olds, news) || connection.changed;
            // Names are unique per team: the old heartbeat must go before its replacement is created.
            return { changes: changed, replaces, deleteBeforeReplace: replaces.length > 0 };
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

// One provider object each, so Pulumi serialises each once.
const teamProvider = jsmTeamProvider();
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
 * REST API's team paths take. alertline neither creates nor deletes it (yet: issue 12).
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
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] },
            "jsm",
            "Team",
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
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] },
            "jsm",
            "Heartbeat",
        );
    }
}
