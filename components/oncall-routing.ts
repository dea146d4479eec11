import * as datadog from "@pulumi/datadog";
import * as pulumi from "@pulumi/pulumi";
import { onCallApiUrl } from "../functions/shared/oncall-alerts";
import { JsmApiIntegration, JsmConnectionArgs, JsmTeam } from "./jsm";
import { OpsgenieApiIntegration, OpsgenieConnectionArgs, OpsgenieTeam } from "./opsgenie";
import { opsgenieApiUrl } from "./opsgenie-api";
import type { OnCallSettings } from "./stack-config";

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

/** How alertline's own functions reach on-call, and (Opsgenie only) what lets other components add heartbeats and webhooks. */
export interface OnCallLink {
    readonly backend: OnCallSettings["backend"];
    /** Base URL of the alert API (Opsgenie's region, or JSM's integration API). */
    readonly alertsApiUrl: string;
    /** Key of the API integration the functions use (secret); undefined when none is configured. */
    readonly alertsApiKey: pulumi.Output<string> | undefined;
    /** Opsgenie only: the configuration connection and the team, for heartbeats and the acknowledgement webhook. */
    readonly opsgenie?: { readonly connection: OpsgenieConnectionArgs; readonly teamId: pulumi.Output<string> };
    /** JSM only: the ops REST API connection and the team (looked up by name), for the heartbeat, its ping and the acknowledgement webhook. */
    readonly jsm?: { readonly connection: JsmConnectionArgs; readonly teamId: pulumi.Output<string> };
}

/**
 * The on-call side of the alert channel: who gets paged, and the Datadog service object that
 * `@opsgenie-<name>` in a monitor message resolves to. The backend is a setting because Opsgenie
 * support ends on 2027-04-05 and its accounts move to JSM; monitors do not change when it does.
 */
export class OnCallRouting extends pulumi.ComponentResource {
    /** The mention that pages this team from a Datadog monitor, e.g. "@opsgenie-alertline-dev". */
    declare readonly datadogHandle: pulumi.Output<string>;
    /** Opsgenie team ID, or with `jsm` the id of the JSM team looked up by name. */
    declare readonly teamId: pulumi.Output<string | undefined>;
    /** How alertline's functions page this team (see {@link OnCallLink}). */
    declare readonly link: OnCallLink;

    constructor(name: string, args: OnCallRoutingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("alertline:index:OnCallRouting", name, {}, opts);
        const serviceName = datadogServiceName(args.environment);
        const settings = args.settings;

        let serviceObject: datadog.opsgenie.ServiceObject;
        let teamId: pulumi.Output<string | undefined>;
        if (settings.backend === "opsgenie") {
            if (args.apiKey === undefined) throw new Error("OnCallRouting with backend opsgenie needs apiKey (alertline:opsgenieApiKey): an Opsgenie API key with configuration access");
            const connection = { apiKey: pulumi.secret(args.apiKey), apiUrl: opsgenieApiUrl(settings.region) };
            const team = new OpsgenieTeam(
                `${name}-team`,
                { name: settings.team, description: `alertline ${args.environment}: pages from Datadog and alertline`, connection },
                { parent: this },
            );
            const integration = new OpsgenieApiIntegration(
                `${name}-datadog-integration`,
                { name: `${serviceName}-datadog`, type: "Datadog", ownerTeamId: team.id, enabled: true, connection },
                { parent: this },
            );
            serviceObject = new datadog.opsgenie.ServiceObject(
                `${name}-datadog-service`,
                { name: serviceName, opsgenieApiKey: integration.apiKey, region: settings.region },
                { parent: this },
            );
            // alertline's own alerts (mail that lit a tower, heartbeats) come through an API integration of the same team.
            const alertsIntegration = new OpsgenieApiIntegration(
                `${name}-alerts-integration`,
                { name: `${serviceName}-alertline`, type: "API", ownerTeamId: team.id, enabled: true, connection },
                { parent: this },
            );
            teamId = team.id;
            this.link = {
                backend: "opsgenie",
                alertsApiUrl: onCallApiUrl("opsgenie", settings.region),
                alertsApiKey: alertsIntegration.apiKey,
                opsgenie: { connection, teamId: team.id },
            };
        } else {
            if (args.jsmApiToken === undefined) {
                throw new Error("OnCallRouting with backend jsm needs jsmApiToken (alertline:jsmApiToken): JSM's ops REST API takes the account e-mail and an API token");
            }
            const connection: JsmConnectionArgs = { cloudId: settings.cloudId, email: settings.email, apiToken: pulumi.secret(args.jsmApiToken) };
            // Looked up, not created: the team's id is what the ops REST API's team paths take.
            const team = new JsmTeam(`${name}-jsm-team`, { displayName: settings.team, connection }, { parent: this });
            // Datadog's integration in the team; its key (from JSM's create answer only) goes to Datadog's service object.
            const integration = new JsmApiIntegration(
                `${name}-jsm-datadog-integration`,
                { name: `${serviceName}-datadog`, type: "Datadog", teamId: team.id, enabled: true, connection },
                { parent: this },
            );
            serviceObject = new datadog.opsgenie.ServiceObject(
                `${name}-datadog-service`,
                { name: serviceName, opsgenieApiKey: integration.apiKey, region: "custom", customUrl: JSM_DATADOG_API_URL },
                { parent: this },
            );
            // alertline's own alerts (mail that lit a tower) come through an API integration of the same team.
            const alertsIntegration = new JsmApiIntegration(
                `${name}-jsm-alerts-integration`,
                { name: `${serviceName}-alertline`, type: "API", teamId: team.id, enabled: true, connection },
                { parent: this },
            );
            teamId = team.id;
            this.link = {
                backend: "jsm",
                alertsApiUrl: onCallApiUrl("jsm"),
                alertsApiKey: alertsIntegration.apiKey,
                jsm: { connection, teamId: team.id },
            };
        }

        this.datadogHandle = pulumi.interpolate`@opsgenie-${serviceObject.name}`;
        this.teamId = teamId;
        this.registerOutputs({ datadogHandle: this.datadogHandle, teamId: this.teamId });
    }
}

/** Name of the Datadog service object, and so of the `@opsgenie-…` handle. */
export function datadogServiceName(environment: string): string {
    return `alertline-${environment}`;
}
