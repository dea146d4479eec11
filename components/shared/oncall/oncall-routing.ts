import * as datadog from "@pulumi/datadog";
import * as pulumi from "@pulumi/pulumi";
import { onCallApiUrl } from "../../../functions/shared/oncall-alerts";
import { JsmApiIntegration, JsmConnectionArgs, JsmCreatedTeam, JsmTeam } from "./jsm";
import { OpsgenieApiIntegration, OpsgenieConnectionArgs, OpsgenieTeam } from "./opsgenie";
import { opsgenieApiUrl } from "./opsgenie-api";
import { jsmOnCall, opsgenieOnCall, type JsmCreateTeamSettings, type OnCallBackendName, type OnCallSettings } from "../stack-config";

export type { OnCallSettings };

/**
 * Datadog's Opsgenie integration posts to this URL for an integration that lives in Jira Service
 * Management (JSM keeps Opsgenie's alert API under api.atlassian.com). Unconfirmed against
 * Datadog's documentation: if pages do not arrive after a switch to `jsm`, check the integration
 * tile's "custom" URL first.
 */
export const JSM_DATADOG_API_URL = onCallApiUrl("jsm");

/** Arguments for {@link OnCallRouting}. */
export interface OnCallRoutingArgs {
    /** Environment name, used in names. */
    readonly environment: string;
    /** Backend and team from `alertline:oncall`. */
    readonly settings: OnCallSettings;
    /**
     * With `opsgenie`: an API key with configuration access, used to create the team and its
     * Datadog integration. Required with `opsgenie`; ignored with `jsm`, where alertline creates the
     * integrations and takes their keys from JSM's create answers.
     */
    readonly apiKey?: pulumi.Input<string>;
    /**
     * With `jsm`: the Atlassian API token of `settings.email`, for JSM's ops REST API (the team
     * lookup, the integrations, the webhook, the heartbeat and its ping). Required with `jsm`;
     * ignored with `opsgenie`.
     */
    readonly jsmApiToken?: pulumi.Input<string>;
}

/** One backend's alert API as alertline's functions page it. */
export interface OnCallPageTarget {
    readonly backend: OnCallBackendName;
    /** Base URL of the alert API (Opsgenie's region, or JSM's integration API). */
    readonly alertsApiUrl: string;
    /** Key of the API integration the functions use (secret); undefined when none is configured. */
    readonly alertsApiKey: pulumi.Output<string> | undefined;
}

/** How alertline's own functions reach on-call, and what lets other components add heartbeats and webhooks in each backend. */
export interface OnCallLink {
    /** `alertline:oncall.backend` as set: one backend, or both in the migration window. */
    readonly backend: OnCallSettings["backend"];
    /** The backends in use, Opsgenie first. Default: the one in {@link backend}. */
    readonly backends?: readonly OnCallBackendName[];
    /** The first backend's alert API URL (the only one outside the migration window). */
    readonly alertsApiUrl: string;
    /** The first backend's alert API key; undefined when none is configured. */
    readonly alertsApiKey: pulumi.Output<string> | undefined;
    /** Every backend's alert API, in {@link backends} order: mail-ingest pages each. Default: the first alone ({@link alertsApiUrl}, {@link alertsApiKey}). */
    readonly pages?: readonly OnCallPageTarget[];
    /** Opsgenie (alone or in the window): the configuration connection and the team, for heartbeats and the acknowledgement webhook. */
    readonly opsgenie?: { readonly connection: OpsgenieConnectionArgs; readonly teamId: pulumi.Output<string> };
    /** JSM (alone or in the window): the ops REST API connection and the team (looked up by name, or created with oncall.createTeam), for the heartbeat, its ping and the acknowledgement webhook. */
    readonly jsm?: { readonly connection: JsmConnectionArgs; readonly teamId: pulumi.Output<string> };
}

/** What one backend adds to the routing: its Datadog service object, team, and its part of the link. */
interface BackendPart {
    readonly serviceObject: datadog.opsgenie.ServiceObject;
    readonly teamId: pulumi.Output<string>;
    readonly page: OnCallPageTarget;
    readonly opsgenie?: OnCallLink["opsgenie"];
    readonly jsm?: OnCallLink["jsm"];
}

/**
 * The on-call side of the alert channel: who gets paged, and the Datadog service object that
 * `@opsgenie-<name>` in a monitor message resolves to. The backend is a setting because Opsgenie
 * support ends on 2027-04-05 and its accounts move to JSM; monitors do not change when it does.
 * In the migration window (`backend: [opsgenie, jsm]`) both backends' parts exist side by side, and
 * monitors mention both service objects: one Datadog service object holds one API key and one URL,
 * so it reaches one backend, and a monitor pages each object it mentions.
 */
export class OnCallRouting extends pulumi.ComponentResource {
    /** The mentions that page this team from a Datadog monitor, e.g. "@opsgenie-alertline-dev" (two in the migration window). */
    declare readonly datadogHandle: pulumi.Output<string>;
    /** Opsgenie team ID, or with `jsm` the id of the JSM team looked up by name or created (Opsgenie's in the window). */
    declare readonly teamId: pulumi.Output<string | undefined>;
    /** How alertline's functions page this team (see {@link OnCallLink}). */
    declare readonly link: OnCallLink;

    constructor(name: string, args: OnCallRoutingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("alertline:index:OnCallRouting", name, {}, opts);
        const settings = args.settings;
        const opsgenie = opsgenieOnCall(settings);
        const jsm = jsmOnCall(settings);
        const dual = opsgenie !== undefined && jsm !== undefined;
        const parts: BackendPart[] = [];
        const problem = onCallRoutingProblem(args);
        if (problem !== undefined) throw new Error(problem);
        if (opsgenie !== undefined) parts.push(opsgenieRouting(this, name, args, opsgenie));
        if (jsm !== undefined) parts.push(jsmRouting(this, name, args, jsm, dual));

        this.datadogHandle = pulumi.all(parts.map((p) => p.serviceObject.name)).apply((names) => names.map((n) => `@opsgenie-${n}`).join(" "));
        this.teamId = parts[0].teamId;
        this.link = {
            backend: settings.backend,
            backends: parts.map((p) => p.page.backend),
            alertsApiUrl: parts[0].page.alertsApiUrl,
            alertsApiKey: parts[0].page.alertsApiKey,
            pages: parts.map((p) => p.page),
            ...(parts.find((p) => p.opsgenie) === undefined ? {} : { opsgenie: parts.find((p) => p.opsgenie)!.opsgenie }),
            ...(parts.find((p) => p.jsm) === undefined ? {} : { jsm: parts.find((p) => p.jsm)!.jsm }),
        };
        this.registerOutputs({ datadogHandle: this.datadogHandle, teamId: this.teamId });
    }
}

/** Opsgenie's part: the team, its Datadog integration and service object, and the API integration alertline pages through. */
function opsgenieRouting(parent: pulumi.Resource, name: string, args: OnCallRoutingArgs, settings: { region: "us" | "eu"; team: string }): BackendPart {
    const serviceName = datadogServiceName(args.environment);
    // onCallRoutingProblem has checked the key is there.
    const connection = { apiKey: pulumi.secret(args.apiKey!), apiUrl: opsgenieApiUrl(settings.region) };
    const team = new OpsgenieTeam(`${name}-team`, { name: settings.team, description: `alertline ${args.environment}: pages from Datadog and alertline`, connection }, { parent });
    const integration = new OpsgenieApiIntegration(
        `${name}-datadog-integration`,
        { name: `${serviceName}-datadog`, type: "Datadog", ownerTeamId: team.id, enabled: true, connection },
        { parent },
    );
    const serviceObject = new datadog.opsgenie.ServiceObject(`${name}-datadog-service`, { name: serviceName, opsgenieApiKey: integration.apiKey, region: settings.region }, { parent });
    // alertline's own alerts (mail that lit a tower, heartbeats) come through an API integration of the same team.
    const alertsIntegration = new OpsgenieApiIntegration(
        `${name}-alerts-integration`,
        { name: `${serviceName}-alertline`, type: "API", ownerTeamId: team.id, enabled: true, connection },
        { parent },
    );
    return {
        serviceObject,
        teamId: team.id,
        page: { backend: "opsgenie", alertsApiUrl: onCallApiUrl("opsgenie", settings.region), alertsApiKey: alertsIntegration.apiKey },
        opsgenie: { connection, teamId: team.id },
    };
}

/**
 * JSM's part: the team (looked up by name, or created with alertline:oncall.createTeam), Datadog's integration in it (its key, from JSM's create
 * answer only, goes to a Datadog service object pointed at JSM's integration API), and the API
 * integration alertline pages through. In the migration window the service object is
 * `alertline-<env>-jsm` beside Opsgenie's `alertline-<env>`; JSM alone it is `alertline-<env>`, so
 * the last step of the migration updates Opsgenie's object in place and monitors keep their mention.
 */
function jsmRouting(parent: pulumi.Resource, name: string, args: OnCallRoutingArgs, settings: { cloudId: string; team: string; email: string; createTeam?: JsmCreateTeamSettings }, dual: boolean): BackendPart {
    const serviceName = datadogServiceName(args.environment);
    // onCallRoutingProblem has checked the token is there.
    const connection: JsmConnectionArgs = { cloudId: settings.cloudId, email: settings.email, apiToken: pulumi.secret(args.jsmApiToken!) };
    // Looked up by name, or created with alertline:oncall.createTeam; either id is what the ops REST API's team paths take.
    const create = settings.createTeam;
    const team =
        create === undefined
            ? new JsmTeam(`${name}-jsm-team`, { displayName: settings.team, connection }, { parent })
            : new JsmCreatedTeam(
                  `${name}-jsm-created-team`,
                  {
                      organizationId: create.organizationId,
                      domainName: create.domainName,
                      displayName: settings.team,
                      description: create.description ?? `alertline ${args.environment}: pages from Datadog and alertline`,
                      teamType: create.teamType,
                      members: create.members,
                      connection,
                  },
                  { parent },
              );
    const integration = new JsmApiIntegration(
        `${name}-jsm-datadog-integration`,
        { name: `${serviceName}-datadog`, type: "Datadog", teamId: team.id, enabled: true, connection },
        { parent },
    );
    const serviceObject = new datadog.opsgenie.ServiceObject(
        dual ? `${name}-jsm-datadog-service` : `${name}-datadog-service`,
        { name: dual ? `${serviceName}-jsm` : serviceName, opsgenieApiKey: integration.apiKey, region: "custom", customUrl: JSM_DATADOG_API_URL },
        { parent },
    );
    // alertline's own alerts (mail that lit a tower) come through an API integration of the same team.
    const alertsIntegration = new JsmApiIntegration(
        `${name}-jsm-alerts-integration`,
        { name: `${serviceName}-alertline`, type: "API", teamId: team.id, enabled: true, connection },
        { parent },
    );
    return {
        serviceObject,
        teamId: team.id,
        page: { backend: "jsm", alertsApiUrl: onCallApiUrl("jsm"), alertsApiKey: alertsIntegration.apiKey },
        jsm: { connection, teamId: team.id },
    };
}

/** Name of the Datadog service object, and so of the `@opsgenie-…` handle. */
export function datadogServiceName(environment: string): string {
    return `alertline-${environment}`;
}

/** The alert APIs a link pages, Opsgenie first: {@link OnCallLink.pages}, or the first backend's alone. Pure. */
export function onCallPageTargets(link: OnCallLink): readonly OnCallPageTarget[] {
    if (link.pages !== undefined) return link.pages;
    const backend = (Array.isArray(link.backend) ? link.backend[0] : link.backend) as OnCallBackendName;
    return [{ backend, alertsApiUrl: link.alertsApiUrl, alertsApiKey: link.alertsApiKey }];
}

/** What OnCallRouting's arguments lack for the backends they name (the secret to set), or undefined. Pure. */
export function onCallRoutingProblem(args: Pick<OnCallRoutingArgs, "settings" | "apiKey" | "jsmApiToken">): string | undefined {
    if (opsgenieOnCall(args.settings) !== undefined && args.apiKey === undefined) {
        return "OnCallRouting with backend opsgenie needs apiKey (alertline:opsgenieApiKey): an Opsgenie API key with configuration access";
    }
    if (jsmOnCall(args.settings) !== undefined && args.jsmApiToken === undefined) {
        return "OnCallRouting with backend jsm needs jsmApiToken (alertline:jsmApiToken): JSM's ops REST API takes the account e-mail and an API token";
    }
    return undefined;
}
