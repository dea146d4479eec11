import * as pulumi from "@pulumi/pulumi";
// Captured by value when Pulumi serialises the providers below, so it must stay free of I/O and state.
import * as api from "./opsgenie-api";

/**
 * Opsgenie team and API integration as a `pulumi.dynamic` provider over the REST API, because
 * `@pulumi/opsgenie` cannot be installed here. Argument and output names follow
 * `opsgenie.Team` / `opsgenie.ApiIntegration` so the official provider can replace these later;
 * `connection` is what that provider takes as provider config.
 *
 * Pulumi serialises each provider object at registration and runs it in a separate process, so
 * the providers use only the global `fetch`, the pure `api` module and the functions in this file.
 */

/** Where and how to reach Opsgenie; the official provider takes these as provider config. */
export interface OpsgenieConnectionArgs {
    /** Opsgenie API key with Configuration access; kept secret in state. */
    readonly apiKey: pulumi.Input<string>;
    /** Base URL of the account's region: `opsgenieApiUrl("us" | "eu")`. */
    readonly apiUrl: pulumi.Input<string>;
}

/** Test seams for the provider objects; the defaults wait for real. */
export interface OpsgenieProviderOptions {
    /** Waits between retries. Default: a timer. */
    readonly sleep?: (ms: number) => Promise<void>;
    /** Tries per request before giving up on 429/5xx/unreachable. Default 5. */
    readonly maxAttempts?: number;
}

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
    readonly connection: api.OpsgenieConnection;
    readonly apiKey?: string;
}

interface Answer extends api.OpsgenieAnswer {
    readonly attempts: number;
}

function waitFor(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One request with retries on 429, 5xx and network failures; any HTTP answer after that is returned. */
async function send(connection: api.OpsgenieConnection, request: api.OpsgenieRequest, options: OpsgenieProviderOptions): Promise<Answer> {
    const maxAttempts = Math.max(1, options.maxAttempts ?? api.DEFAULT_MAX_ATTEMPTS);
    const sleep = options.sleep ?? waitFor;
    const url = api.requestUrl(connection.apiUrl, request);
    for (let attempt = 1; ; attempt++) {
        let answer: api.OpsgenieAnswer;
        try {
            const response = await fetch(url, {
                method: request.method,
                headers: api.requestHeaders(connection.apiKey, request),
                body: request.body === undefined ? undefined : JSON.stringify(request.body),
                signal: AbortSignal.timeout(30_000),
            });
            answer = { status: response.status, bodyText: await response.text(), retryAfter: response.headers.get("retry-after") };
        } catch (error) {
            if (attempt < maxAttempts) {
                await sleep(api.retryDelayMs(attempt));
                continue;
            }
            const cause = (error as { cause?: { code?: string; message?: string } }).cause;
            const reason = cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
            throw new Error(api.unreachableMessage(request, connection.apiUrl, reason, connection.apiKey, attempt));
        }
        if (api.isRetryableStatus(answer.status) && attempt < maxAttempts) {
            await sleep(api.retryDelayMs(attempt, answer.retryAfter));
            continue;
        }
        return { ...answer, attempts: attempt };
    }
}

/** Sends and returns the parsed body of a 2xx answer; anything else becomes an error naming the operation. */
async function call(connection: api.OpsgenieConnection, request: api.OpsgenieRequest, options: OpsgenieProviderOptions): Promise<Record<string, unknown>> {
    const answer = await send(connection, request, options);
    return api.successBody(request, answer, connection.apiKey, answer.attempts);
}

/** Like `call`, but a 404 means the entity is gone and yields undefined. */
async function callUnlessGone(
    connection: api.OpsgenieConnection,
    request: api.OpsgenieRequest,
    options: OpsgenieProviderOptions,
): Promise<Record<string, unknown> | undefined> {
    const answer = await send(connection, request, options);
    if (answer.status === 404) return undefined;
    return api.successBody(request, answer, connection.apiKey, answer.attempts);
}

/** The engine sends this string for values not known yet (during preview). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * A changed region means the entity lives in another account: replace it. A changed key is
 * recorded by an update (with no API call) so delete later uses the current key.
 */
function connectionDiff(olds: { connection?: unknown }, news: { connection?: unknown }): { replace: boolean; changed: boolean } {
    const oldConnection = olds.connection as Partial<api.OpsgenieConnection> | undefined;
    const newConnection = news.connection as Partial<api.OpsgenieConnection> | string | undefined;
    if (typeof newConnection !== "object" || newConnection === null || newConnection.apiUrl === UNKNOWN || newConnection.apiKey === UNKNOWN) {
        return { replace: false, changed: true };
    }
    const replace = oldConnection?.apiUrl !== newConnection.apiUrl;
    return { replace, changed: replace || oldConnection?.apiKey !== newConnection.apiKey };
}

/** Provider object for {@link OpsgenieTeam}; exported so tests can drive it against a local server. */
export function opsgenieTeamProvider(options: OpsgenieProviderOptions = {}): pulumi.dynamic.ResourceProvider<OpsgenieTeamState, OpsgenieTeamState> {
    return {
        async create(inputs) {
            const connection = api.checkConnection(inputs.connection);
            const team = api.teamFields(inputs);
            const body = await call(connection, api.createTeamRequest(team), options);
            let id = api.createdTeamId(body);
            if (id === undefined) {
                const byName = api.getTeamByNameRequest(team.name);
                id = api.parseTeam(byName, await call(connection, byName, options)).id;
            }
            return { id, outs: { name: team.name, description: team.description, connection } };
        },

        async read(id, props) {
            const connection = api.checkConnection(props?.connection);
            const request = api.getTeamRequest(id);
            const body = await callUnlessGone(connection, request, options);
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
                await call(connection, api.updateTeamRequest(id, after), options);
            }
            return { outs: { name: after.name, description: after.description, connection } };
        },

        async delete(id, props) {
            const connection = api.checkConnection(props.connection);
            // 404: already gone, which is what delete wants.
            await callUnlessGone(connection, api.deleteTeamRequest(id), options);
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
            const createRequest = api.createIntegrationRequest(wanted);
            const created = api.parseIntegration(createRequest, await call(connection, createRequest, options));
            try {
                // The official provider enables after creating; do the same unless the answer already matches.
                if (created.enabled !== wanted.enabled) {
                    await call(connection, api.setIntegrationEnabledRequest(created.id, wanted.enabled), options);
                }
                // Unconfirmed whether the create answer holds the new key (the spec omits it, the Go SDK reads it):
                // if it does not, read the integration back before giving up.
                let apiKey = created.apiKey;
                if (apiKey === undefined) {
                    const getRequest = api.getIntegrationRequest(created.id);
                    apiKey = api.parseIntegration(getRequest, await call(connection, getRequest, options)).apiKey;
                }
                if (apiKey === undefined) {
                    throw Object.assign(new Error(api.missingApiKeyMessage(created.id, wanted.name, "")), { missingApiKey: true });
                }
                return {
                    id: created.id,
                    outs: { name: wanted.name, type: wanted.type, enabled: wanted.enabled, ownerTeamId: wanted.ownerTeamId, connection, apiKey },
                };
            } catch (error) {
                // Create must leave nothing behind when it fails, or the integration is orphaned outside state.
                let cleanup: string;
                try {
                    await callUnlessGone(connection, api.deleteIntegrationRequest(created.id), options);
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
            const body = await callUnlessGone(connection, request, options);
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
            const inPlace = olds.name !== news.name || (olds.enabled ?? true) !== (news.enabled ?? true);
            const changed = replaces.length > 0 || inPlace || connection.changed;
            // Integration names are unique per account, so the old one must go before its replacement is created.
            return { changes: changed, replaces, deleteBeforeReplace: replaces.length > 0 };
        },

        async update(id, olds, news) {
            const connection = api.checkConnection(news.connection);
            const before = api.integrationFields(olds);
            const after = api.integrationFields(news);
            if (before.name !== after.name || before.enabled !== after.enabled) {
                const getRequest = api.getIntegrationRequest(id);
                const current = api.integrationData(getRequest, await call(connection, getRequest, options));
                await call(connection, api.updateIntegrationRequest(id, current, after), options);
            }
            return {
                outs: { name: after.name, type: after.type, enabled: after.enabled, ownerTeamId: after.ownerTeamId, connection, apiKey: olds.apiKey },
            };
        },

        async delete(id, props) {
            const connection = api.checkConnection(props.connection);
            // 404: already gone, which is what delete wants.
            await callUnlessGone(connection, api.deleteIntegrationRequest(id), options);
        },
    };
}

// One provider object each, so Pulumi serialises each once (it caches by object).
const teamProvider = opsgenieTeamProvider();
const apiIntegrationProvider = opsgenieApiIntegrationProvider();

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
    /** Team name: 1–100 letters, digits, spaces, `_`, `.`, `-`; unique in the account. */
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
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] },
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
    /** Opsgenie API key and base URL (provider config in the official provider); the key stays secret. */
    readonly connection: pulumi.Input<OpsgenieConnectionArgs>;
}

/** An Opsgenie API-based integration (API, Datadog, …) whose `apiKey` senders use to create alerts. */
export class OpsgenieApiIntegration extends pulumi.dynamic.Resource {
    /** Integration name. */
    declare readonly name: pulumi.Output<string>;
    /** Integration type, e.g. "Datadog". */
    declare readonly type: pulumi.Output<string>;
    /** Id of the owning team, if any. */
    declare readonly ownerTeamId: pulumi.Output<string | undefined>;
    /** Whether the integration accepts alerts. */
    declare readonly enabled: pulumi.Output<boolean>;
    /** The integration's API key (secret), which senders such as Datadog use. */
    declare readonly apiKey: pulumi.Output<string>;

    constructor(name: string, args: OpsgenieApiIntegrationArgs, opts?: pulumi.CustomResourceOptions) {
        const plain = (value: unknown) => (typeof value === "string" || typeof value === "boolean" ? value : undefined);
        if (typeof args.name === "string") {
            api.integrationFields({ name: args.name, type: plain(args.type), enabled: plain(args.enabled), ownerTeamId: plain(args.ownerTeamId) });
        }
        super(
            apiIntegrationProvider,
            name,
            {
                name: args.name,
                type: args.type ?? "API",
                ownerTeamId: args.ownerTeamId,
                enabled: args.enabled ?? true,
                connection: secretKeyConnection(args.connection),
                apiKey: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "apiKey", "connection"] },
            "opsgenie",
            "ApiIntegration",
        );
        // The engine keeps apiKey secret in state (additionalSecretOutputs); this keeps it secret in the program too,
        // including under engines or mocks that do not apply additionalSecretOutputs.
        this.apiKey = pulumi.secret(this.apiKey);
    }
}
