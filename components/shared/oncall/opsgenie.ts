import * as pulumi from "@pulumi/pulumi";
// Captured by value when Pulumi serialises the providers below, so it must stay free of I/O and state.
import * as api from "./opsgenie-api";
// Likewise: the retrying transport both on-call providers use.
import * as transport from "./oncall-provider-http";

/**
 * Opsgenie team, API integration and heartbeat as `pulumi.dynamic` providers over the REST API,
 * because `@pulumi/opsgenie` cannot be installed here. Argument and output names follow
 * `opsgenie.Team` / `opsgenie.ApiIntegration` / `opsgenie.Heartbeat` so the official provider can replace these later;
 * `connection` is what that provider takes as provider config.
 *
 * Pulumi serialises each provider object at registration and runs it in a separate process, so
 * the providers use only the pure `api` and `transport` modules and the functions in this file.
 */

/** Where and how to reach Opsgenie; the official provider takes these as provider config. */
export interface OpsgenieConnectionArgs {
    /** Opsgenie API key with Configuration access; kept secret in state. */
    readonly apiKey: pulumi.Input<string>;
    /** Base URL of the account's region: `opsgenieApiUrl("us" | "eu")`. */
    readonly apiUrl: pulumi.Input<string>;
}

/** Test seams for the provider objects; the defaults wait for real. */
export type OpsgenieProviderOptions = transport.ProviderRetryOptions;

/** Inputs and outputs of a team as the provider sees them (resolved, secrets unwrapped). */
export interface OpsgenieTeamState {
    readonly name: string;
    readonly description?: string;
    readonly connection: api.OpsgenieConnection;
}

/** Inputs and outputs of an integration as the provider sees them (resolved, secrets unwrapped). */
export interface OpsgenieApiIntegrationState {
    readonly name: string;
    readonly type?: string;
    readonly enabled?: boolean;
    readonly ownerTeamId?: string;
    /** Type Webhook only. */
    readonly webhookUrl?: string;
    /** Type Webhook only; secret. */
    readonly headers?: Readonly<Record<string, string>>;
    /** Type Webhook only: the alert actions it posts. */
    readonly forwardedActions?: readonly api.ForwardedAction[];
    readonly connection: api.OpsgenieConnection;
    readonly apiKey?: string;
}

/** Inputs and outputs of a heartbeat as the provider sees them (resolved, secrets unwrapped). */
export interface OpsgenieHeartbeatState {
    readonly name: string;
    readonly description?: string;
    readonly interval: number;
    readonly intervalUnit: api.HeartbeatIntervalUnit;
    readonly enabled?: boolean;
    readonly ownerTeamId?: string;
    readonly alertMessage?: string;
    readonly alertTags?: readonly string[];
    readonly alertPriority?: api.AlertPriority;
    readonly connection: api.OpsgenieConnection;
}

/** An Opsgenie request as the shared transport sends it; errors never repeat the API key, nor `alsoSecret` (webhook header values). */
function wire(connection: api.OpsgenieConnection, request: api.OpsgenieRequest, alsoSecret: readonly string[] = []): transport.ProviderRequest {
    const secrets = [connection.apiKey, ...alsoSecret];
    return {
        url: api.requestUrl(connection.apiUrl, request),
        method: request.method,
        headers: api.requestHeaders(connection.apiKey, request),
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        unreachable: (reason, attempts) => api.unreachableMessage(request, connection.apiUrl, reason, secrets, attempts),
        successBody: (answer, attempts) => api.successBody(request, answer, secrets, attempts),
    };
}

/**
 * A changed region means the entity lives in another account: replace it. A changed key is
 * recorded by an update (with no API call) so delete later uses the current key.
 */
function connectionDiff(olds: { connection?: unknown }, news: { connection?: unknown }): { replace: boolean; changed: boolean } {
    const oldConnection = olds.connection as Partial<api.OpsgenieConnection> | undefined;
    const newConnection = news.connection as Partial<api.OpsgenieConnection> | string | undefined;
    if (typeof newConnection !== "object" || newConnection === null || newConnection.apiUrl === transport.UNKNOWN || newConnection.apiKey === transport.UNKNOWN) {
        return { replace: false, changed: true };
    }
    const replace = oldConnection?.apiUrl !== newConnection.apiUrl;
    return { replace, changed: replace || oldConnection?.apiKey !== newConnection.apiKey };
}

/** Header maps compared by content; none and `{}` are the same. UNKNOWN (preview) differs from everything. */
function sameHeaders(a: unknown, b: unknown): boolean {
    const canonical = (headers: unknown) =>
        typeof headers === "object" && headers !== null ? JSON.stringify(Object.entries(headers).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : String(headers ?? "[]");
    return canonical(a) === canonical(b);
}

/** Provider object for {@link OpsgenieTeam}; exported so tests can drive it against a local server. */
export function opsgenieTeamProvider(options: OpsgenieProviderOptions = {}): pulumi.dynamic.ResourceProvider<OpsgenieTeamState, OpsgenieTeamState> {
    return {
        async create(inputs) {
            const connection = api.checkConnection(inputs.connection);
            const team = api.teamFields(inputs);
            const body = await transport.call(wire(connection, api.createTeamRequest(team)), options);
            let id = api.createdTeamId(body);
            if (id === undefined) {
                const byName = api.getTeamByNameRequest(team.name);
                id = api.parseTeam(byName, await transport.call(wire(connection, byName), options)).id;
            }
            return { id, outs: { name: team.name, description: team.description, connection } };
        },

        async read(id, props) {
            const connection = api.checkConnection(props?.connection);
            const request = api.getTeamRequest(id);
            const body = await transport.callUnlessGone(wire(connection, request), options);
            // An empty id tells the engine the resource no longer exists (refresh drops it from state).
            if (body === undefined) return { id: "" };
            const team = api.parseTeam(request, body);
            return { id, props: { ...props, name: team.name, description: team.description, connection } };
        },

        async diff(_id, olds, news) {
            // Compared with the default applied but not validated: during preview news may hold UNKNOWN.
            const connection = connectionDiff(olds, news);
            const changed = olds.name !== news.name || (olds.description ?? "") !== (news.description ?? "");
            return {
                changes: changed || connection.changed,
                replaces: connection.replace ? ["connection"] : [],
            };
        },

        async update(id, olds, news) {
            const connection = api.checkConnection(news.connection);
            const before = api.teamFields(olds);
            const after = api.teamFields(news);
            if (before.name !== after.name || before.description !== after.description) {
                await transport.call(wire(connection, api.updateTeamRequest(id, after)), options);
            }
            return { outs: { name: after.name, description: after.description, connection } };
        },

        async delete(id, props) {
            const connection = api.checkConnection(props.connection);
            // 404: already gone, which is what delete wants.
            await transport.callUnlessGone(wire(connection, api.deleteTeamRequest(id)), options);
        },
    };
}

/** Provider object for {@link OpsgenieApiIntegration}; exported so tests can drive it against a local server. */
export function opsgenieApiIntegrationProvider(
    options: OpsgenieProviderOptions = {},
): pulumi.dynamic.ResourceProvider<OpsgenieApiIntegrationState, OpsgenieApiIntegrationState> {
    return {
        async create(inputs) {
            const connection = api.checkConnection(inputs.connection);
            const wanted = api.integrationFields(inputs);
            const secrets = api.headerSecrets(wanted.headers);
            const createRequest = api.createIntegrationRequest(wanted);
            const created = api.parseIntegration(createRequest, await transport.call(wire(connection, createRequest, secrets), options));
            try {
                // The official provider enables after creating; do the same unless the answer already matches.
                if (created.enabled !== wanted.enabled) {
                    await transport.call(wire(connection, api.setIntegrationEnabledRequest(created.id, wanted.enabled), secrets), options);
                }
                // The create answer holds the new key as data.apiKey (Go SDK APIBasedIntegrationResult, the official
                // provider's createApiIntegration); should one ever lack it, read the integration back before giving
                // up. A Webhook integration only sends, so it may have no key at all and needs none.
                let apiKey = created.apiKey;
                const needsKey = wanted.type !== api.WEBHOOK_TYPE;
                if (apiKey === undefined && needsKey) {
                    const getRequest = api.getIntegrationRequest(created.id);
                    apiKey = api.parseIntegration(getRequest, await transport.call(wire(connection, getRequest, secrets), options)).apiKey;
                }
                if (apiKey === undefined && needsKey) {
                    throw Object.assign(new Error(api.missingApiKeyMessage(created.id, wanted.name, "")), { missingApiKey: true });
                }
                return {
                    id: created.id,
                    outs: {
                        name: wanted.name,
                        type: wanted.type,
                        enabled: wanted.enabled,
                        ownerTeamId: wanted.ownerTeamId,
                        webhookUrl: wanted.webhookUrl,
                        headers: wanted.headers,
                        forwardedActions: wanted.forwardedActions,
                        connection,
                        apiKey,
                    },
                };
            } catch (error) {
                // Create must leave nothing behind when it fails, or the integration is orphaned outside state.
                let cleanup: string;
                try {
                    await transport.callUnlessGone(wire(connection, api.deleteIntegrationRequest(created.id), secrets), options);
                    cleanup = `alertline deleted integration ${created.id} again.`;
                } catch (deleteError) {
                    cleanup = `Deleting it again failed too (${(deleteError as Error).message}); delete integration ${created.id} in Opsgenie by hand.`;
                }
                if ((error as { missingApiKey?: boolean }).missingApiKey) {
                    throw new Error(api.missingApiKeyMessage(created.id, wanted.name, cleanup));
                }
                throw new Error(`${(error as Error).message} (after creating integration ${created.id}: ${cleanup})`);
            }
        },

        async read(id, props) {
            const connection = api.checkConnection(props?.connection);
            const request = api.getIntegrationRequest(id);
            const body = await transport.callUnlessGone(wire(connection, request, api.headerSecrets(props?.headers)), options);
            // An empty id tells the engine the resource no longer exists (refresh drops it from state).
            if (body === undefined) return { id: "" };
            const live = api.parseIntegration(request, body);
            return {
                id,
                props: {
                    ...props,
                    connection,
                    name: live.name,
                    type: live.type,
                    enabled: live.enabled ?? props?.enabled,
                    // Where GET leaves the owner or key out, keep what state had rather than report drift
                    // that would replace the integration (owner) or blank the key Datadog uses.
                    ownerTeamId: live.ownerTeamId ?? props?.ownerTeamId,
                    apiKey: live.apiKey ?? props?.apiKey,
                    // Only a Webhook's are managed; elsewhere a url in the answer is Opsgenie's, not ours.
                    ...(live.type === api.WEBHOOK_TYPE
                        ? {
                              webhookUrl: live.webhookUrl ?? props?.webhookUrl,
                              headers: live.headers ?? props?.headers,
                              // Actions changed in Opsgenie's UI show as drift; the stored order is kept when the set is the same.
                              forwardedActions:
                                  live.forwardedActions === undefined || api.sameSet(live.forwardedActions, props?.forwardedActions)
                                      ? props?.forwardedActions
                                      : (live.forwardedActions as api.ForwardedAction[]),
                          }
                        : {}),
                },
            };
        },

        async diff(_id, olds, news) {
            // Compared with the defaults applied but not validated: during preview news may hold UNKNOWN.
            const connection = connectionDiff(olds, news);
            const replaces: string[] = [];
            if ((olds.type ?? "API") !== (news.type ?? "API")) replaces.push("type");
            if (olds.ownerTeamId !== news.ownerTeamId) replaces.push("ownerTeamId");
            if (connection.replace) replaces.push("connection");
            const inPlace =
                olds.name !== news.name ||
                (olds.enabled ?? true) !== (news.enabled ?? true) ||
                olds.webhookUrl !== news.webhookUrl ||
                !sameHeaders(olds.headers, news.headers) ||
                !api.sameSet(olds.forwardedActions, news.forwardedActions);
            const changed = replaces.length > 0 || inPlace || connection.changed;
            // Integration names are unique per account, so the old one must go before its replacement is created.
            return { changes: changed, replaces, deleteBeforeReplace: replaces.length > 0 };
        },

        async update(id, olds, news) {
            const connection = api.checkConnection(news.connection);
            const after = api.integrationFields(news);
            // A Webhook stored before forwardedActions existed has none: compare it as "not set" (so the PUT sets
            // them) rather than refuse the stored state.
            const before =
                olds.type === api.WEBHOOK_TYPE && olds.forwardedActions === undefined
                    ? { ...api.integrationFields({ ...olds, forwardedActions: after.forwardedActions }), forwardedActions: undefined }
                    : api.integrationFields(olds);
            // Old values too: GET returns them and a refused PUT may echo them.
            const secrets = api.headerSecrets(before.headers, after.headers);
            if (
                before.name !== after.name ||
                before.enabled !== after.enabled ||
                before.webhookUrl !== after.webhookUrl ||
                !sameHeaders(before.headers, after.headers) ||
                !api.sameSet(before.forwardedActions, after.forwardedActions)
            ) {
                const getRequest = api.getIntegrationRequest(id);
                const current = api.integrationData(getRequest, await transport.call(wire(connection, getRequest, secrets), options));
                await transport.call(wire(connection, api.updateIntegrationRequest(id, current, after), secrets), options);
            }
            return {
                outs: {
                    name: after.name,
                    type: after.type,
                    enabled: after.enabled,
                    ownerTeamId: after.ownerTeamId,
                    webhookUrl: after.webhookUrl,
                    headers: after.headers,
                    forwardedActions: after.forwardedActions,
                    connection,
                    apiKey: olds.apiKey,
                },
            };
        },

        async delete(id, props) {
            const connection = api.checkConnection(props.connection);
            // 404: already gone, which is what delete wants.
            await transport.callUnlessGone(wire(connection, api.deleteIntegrationRequest(id), api.headerSecrets(props.headers)), options);
        },
    };
}

/**
 * Whether anything a PATCH would send differs, with defaults applied but nothing validated (at
 * preview values may be UNKNOWN, and state read back from Opsgenie need not pass alertline's checks).
 * The name is not compared: a new name is a new heartbeat.
 */
function heartbeatDiffers(olds: Partial<OpsgenieHeartbeatState>, news: Partial<OpsgenieHeartbeatState>): boolean {
    const settled = (s: Partial<OpsgenieHeartbeatState>) =>
        JSON.stringify([
            s.description ?? "",
            s.interval,
            s.intervalUnit,
            s.enabled ?? true,
            s.ownerTeamId,
            s.alertMessage ?? (typeof s.name === "string" ? api.defaultHeartbeatAlertMessage(s.name) : s.name),
            s.alertPriority ?? api.DEFAULT_ALERT_PRIORITY,
        ]);
    return settled(olds) !== settled(news) || !api.sameSet(olds.alertTags, news.alertTags);
}

/** Provider object for {@link OpsgenieHeartbeat}; exported so tests can drive it against a local server. The id is the name. */
export function opsgenieHeartbeatProvider(
    options: OpsgenieProviderOptions = {},
): pulumi.dynamic.ResourceProvider<OpsgenieHeartbeatState, OpsgenieHeartbeatState> {
    return {
        async create(inputs) {
            const connection = api.checkConnection(inputs.connection);
            const heartbeat = api.heartbeatFields(inputs);
            const body = await transport.call(wire(connection, api.createHeartbeatRequest(heartbeat)), options);
            // Every later request addresses the heartbeat by the name Opsgenie stored.
            const id = api.createdHeartbeatName(body) ?? heartbeat.name;
            return { id, outs: { ...heartbeat, alertTags: [...heartbeat.alertTags], connection } };
        },

        async read(id, props) {
            const connection = api.checkConnection(props?.connection);
            const request = api.getHeartbeatRequest(id);
            const body = await transport.callUnlessGone(wire(connection, request), options);
            // An empty id tells the engine the resource no longer exists (refresh drops it from state).
            if (body === undefined) return { id: "" };
            const live = api.parseHeartbeat(request, body);
            return {
                id,
                props: {
                    ...props,
                    connection,
                    name: live.name,
                    description: live.description,
                    // Where GET leaves a field out, keep what state had rather than report drift that is not there.
                    interval: live.interval ?? props!.interval,
                    intervalUnit: (live.intervalUnit ?? props?.intervalUnit) as api.HeartbeatIntervalUnit,
                    enabled: live.enabled ?? props?.enabled,
                    ownerTeamId: live.ownerTeamId ?? props?.ownerTeamId,
                    alertMessage: live.alertMessage ?? props?.alertMessage,
                    alertTags: live.alertTags === undefined || api.sameSet(live.alertTags, props?.alertTags) ? props?.alertTags : live.alertTags,
                    alertPriority: (live.alertPriority ?? props?.alertPriority) as api.AlertPriority | undefined,
                },
            };
        },

        async diff(_id, olds, news) {
            const connection = connectionDiff(olds, news);
            const replaces: string[] = [];
            if (olds.name !== news.name) replaces.push("name");
            // A partial PATCH cannot take the owner away, so a heartbeat that loses its owner is made anew without one.
            if (olds.ownerTeamId !== undefined && news.ownerTeamId === undefined) replaces.push("ownerTeamId");
            if (connection.replace) replaces.push("connection");
            const changed = replaces.length > 0 || heartbeatDiffers(olds, news) || connection.changed;
            // Heartbeat names are unique per account, so the old one must go before its replacement is created.
            return { changes: changed, replaces, deleteBeforeReplace: replaces.length > 0 };
        },

        async update(id, olds, news) {
            const connection = api.checkConnection(news.connection);
            const heartbeat = api.heartbeatFields(news);
            if (heartbeatDiffers(olds, news)) {
                await transport.call(wire(connection, api.updateHeartbeatRequest(id, heartbeat)), options);
            }
            return { outs: { ...heartbeat, alertTags: [...heartbeat.alertTags], connection } };
        },

        async delete(id, props) {
            const connection = api.checkConnection(props.connection);
            // 404: already gone, which is what delete wants.
            await transport.callUnlessGone(wire(connection, api.deleteHeartbeatRequest(id)), options);
        },
    };
}

// One provider object each, so Pulumi serialises each once (it caches by object).
const teamProvider = opsgenieTeamProvider();
const apiIntegrationProvider = opsgenieApiIntegrationProvider();
const heartbeatProvider = opsgenieHeartbeatProvider();

/** The connection as a resource input: the key always secret, the URL readable in diffs when it can be. */
function secretKeyConnection(connection: pulumi.Input<OpsgenieConnectionArgs>): pulumi.Input<OpsgenieConnectionArgs> {
    if (pulumi.Output.isInstance(connection) || connection instanceof Promise) {
        const resolved = pulumi.output(connection);
        return { apiKey: pulumi.secret(resolved.apiKey), apiUrl: resolved.apiUrl };
    }
    return { apiKey: pulumi.secret(connection.apiKey), apiUrl: connection.apiUrl };
}

/** Arguments for {@link OpsgenieTeam}; names match `opsgenie.TeamArgs`. */
export interface OpsgenieTeamArgs {
    /** Team name: 1–99 letters, digits, spaces, `_`, `.`, `-`; unique in the account. */
    readonly name: pulumi.Input<string>;
    /** What the team is for. Default "". */
    readonly description?: pulumi.Input<string>;
    /** Opsgenie API key and base URL (provider config in the official provider); the key stays secret. */
    readonly connection: pulumi.Input<OpsgenieConnectionArgs>;
}

/** An Opsgenie team, created through the REST API. Members are managed in Opsgenie. */
export class OpsgenieTeam extends pulumi.dynamic.Resource {
    /** Team name. */
    declare readonly name: pulumi.Output<string>;
    /** Team description ("" when none). */
    declare readonly description: pulumi.Output<string>;

    constructor(name: string, args: OpsgenieTeamArgs, opts?: pulumi.CustomResourceOptions) {
        if (typeof args.name === "string") api.teamFields({ name: args.name, description: typeof args.description === "string" ? args.description : undefined });
        super(
            teamProvider,
            name,
            { name: args.name, description: args.description ?? "", connection: secretKeyConnection(args.connection) },
            transport.withSecretOutputs(opts, "connection"),
            "opsgenie",
            "Team",
        );
    }
}

/** Arguments for {@link OpsgenieApiIntegration}; names match `opsgenie.ApiIntegrationArgs`. */
export interface OpsgenieApiIntegrationArgs {
    /** Integration name, 1–250 characters, unique in the account. */
    readonly name: pulumi.Input<string>;
    /** Opsgenie integration type such as "API" or "Datadog"; changing it replaces the integration. Default "API". */
    readonly type?: pulumi.Input<string>;
    /** Team that owns the integration and is paged by its alerts; changing it replaces the integration. Default: none (global). */
    readonly ownerTeamId?: pulumi.Input<string>;
    /** Whether the integration accepts alerts. Default true. */
    readonly enabled?: pulumi.Input<boolean>;
    /** Type "Webhook" only, and required there: the http(s) URL Opsgenie posts each alert to. Changes update in place. */
    readonly webhookUrl?: pulumi.Input<string>;
    /** Type "Webhook" only: headers Opsgenie sends with each post, e.g. a shared token. Kept secret. Changes update in place. Default none. */
    readonly headers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Type "Webhook" only, and required there: the alert actions Opsgenie posts, and no others
     * (e.g. `["acknowledge", "close"]`; see `FORWARDED_ACTIONS`). Changes update in place.
     */
    readonly forwardedActions?: pulumi.Input<pulumi.Input<api.ForwardedAction>[]>;
    /** Opsgenie API key and base URL (provider config in the official provider); the key stays secret. */
    readonly connection: pulumi.Input<OpsgenieConnectionArgs>;
}

/**
 * An Opsgenie API-based integration (API, Datadog, …) whose `apiKey` senders use to create alerts,
 * or a Webhook integration (`type: "Webhook"`) through which Opsgenie posts alerts to `webhookUrl`.
 */
export class OpsgenieApiIntegration extends pulumi.dynamic.Resource {
    /** Integration name. */
    declare readonly name: pulumi.Output<string>;
    /** Integration type, e.g. "Datadog". */
    declare readonly type: pulumi.Output<string>;
    /** Id of the owning team, if any. */
    declare readonly ownerTeamId: pulumi.Output<string | undefined>;
    /** Whether the integration accepts alerts. */
    declare readonly enabled: pulumi.Output<boolean>;
    /**
     * The integration's API key (secret), which senders such as Datadog use. Undefined for a
     * Webhook integration when Opsgenie returns no key for it (a Webhook only sends).
     */
    declare readonly apiKey: pulumi.Output<string>;
    /** Where a Webhook integration posts alerts; undefined for other types. */
    declare readonly webhookUrl: pulumi.Output<string | undefined>;
    /** Headers a Webhook integration sends (secret); `{}` when none, undefined for other types. */
    declare readonly headers: pulumi.Output<Record<string, string> | undefined>;
    /** The alert actions a Webhook integration posts; undefined for other types. */
    declare readonly forwardedActions: pulumi.Output<api.ForwardedAction[] | undefined>;

    constructor(name: string, args: OpsgenieApiIntegrationArgs, opts?: pulumi.CustomResourceOptions) {
        const plain = (value: unknown) => (typeof value === "string" || typeof value === "boolean" ? value : undefined);
        // type, webhookUrl and headers are checked against each other, so only when all three are known.
        if (typeof args.name === "string" && transport.isKnown(args.type) && transport.isKnown(args.webhookUrl) && transport.isKnown(args.headers) && transport.isKnown(args.forwardedActions)) {
            api.integrationFields({
                name: args.name,
                type: args.type,
                enabled: plain(args.enabled),
                ownerTeamId: plain(args.ownerTeamId),
                webhookUrl: args.webhookUrl,
                headers: args.headers,
                forwardedActions: args.forwardedActions,
            });
        }
        super(
            apiIntegrationProvider,
            name,
            {
                name: args.name,
                type: args.type ?? "API",
                ownerTeamId: args.ownerTeamId,
                enabled: args.enabled ?? true,
                webhookUrl: args.webhookUrl,
                headers: args.headers === undefined ? undefined : pulumi.secret(args.headers),
                forwardedActions: args.forwardedActions,
                connection: secretKeyConnection(args.connection),
                apiKey: undefined,
            },
            transport.withSecretOutputs(opts, "apiKey", "headers", "connection"),
            "opsgenie",
            "ApiIntegration",
        );
        // The engine keeps apiKey and headers secret in state (additionalSecretOutputs); this keeps them secret in the
        // program too, including under engines or mocks that do not apply additionalSecretOutputs.
        this.apiKey = pulumi.secret(this.apiKey);
        this.headers = pulumi.secret(this.headers);
    }
}

/** Arguments for {@link OpsgenieHeartbeat}; names match `opsgenie.HeartbeatArgs`. */
export interface OpsgenieHeartbeatArgs {
    /** Heartbeat name: 1–99 letters, digits, `_`, `.`, `-` (no spaces, as Opsgenie requires); unique in the account, used in the ping URL. Changing it replaces the heartbeat. */
    readonly name: pulumi.Input<string>;
    /** What the heartbeat watches. Default "". */
    readonly description?: pulumi.Input<string>;
    /** How long Opsgenie waits for a ping before alerting, in `intervalUnit`: a whole number ≥ 1. */
    readonly interval: pulumi.Input<number>;
    /** Unit of `interval`. */
    readonly intervalUnit: pulumi.Input<api.HeartbeatIntervalUnit>;
    /** Whether Opsgenie watches the heartbeat. Default true. */
    readonly enabled?: pulumi.Input<boolean>;
    /** Team that owns the heartbeat. Default none; removing it later replaces the heartbeat. */
    readonly ownerTeamId?: pulumi.Input<string>;
    /** Message of the alert opened when pings stop, at most 130 characters. Default "<name> is expired". */
    readonly alertMessage?: pulumi.Input<string>;
    /** Tags of that alert, at most 20; order does not matter. Default none. */
    readonly alertTags?: pulumi.Input<pulumi.Input<string>[]>;
    /** Priority of that alert, "P1" (highest) to "P5". Default "P3". */
    readonly alertPriority?: pulumi.Input<api.AlertPriority>;
    /** Opsgenie API key and base URL (provider config in the official provider); the key stays secret. */
    readonly connection: pulumi.Input<OpsgenieConnectionArgs>;
}

/** An Opsgenie heartbeat: Opsgenie alerts when nothing pings `/v2/heartbeats/{name}/ping` for one interval. */
export class OpsgenieHeartbeat extends pulumi.dynamic.Resource {
    /** Heartbeat name, also its id. */
    declare readonly name: pulumi.Output<string>;
    declare readonly description: pulumi.Output<string>;
    declare readonly interval: pulumi.Output<number>;
    declare readonly intervalUnit: pulumi.Output<api.HeartbeatIntervalUnit>;
    declare readonly enabled: pulumi.Output<boolean>;
    /** Id of the owning team, if any. */
    declare readonly ownerTeamId: pulumi.Output<string | undefined>;
    /** Message of the alert opened when pings stop (the default filled in). */
    declare readonly alertMessage: pulumi.Output<string>;
    declare readonly alertTags: pulumi.Output<string[]>;
    declare readonly alertPriority: pulumi.Output<api.AlertPriority>;

    constructor(name: string, args: OpsgenieHeartbeatArgs, opts?: pulumi.CustomResourceOptions) {
        const { connection, ...fields } = args;
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
                ownerTeamId: args.ownerTeamId,
                alertMessage: args.alertMessage,
                alertTags: args.alertTags ?? [],
                alertPriority: args.alertPriority ?? api.DEFAULT_ALERT_PRIORITY,
                connection: secretKeyConnection(connection),
            },
            transport.withSecretOutputs(opts, "connection"),
            "opsgenie",
            "Heartbeat",
        );
    }
}
