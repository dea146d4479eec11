import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JSM_API_TOKEN_ENV, JSM_EMAIL_ENV, JSM_OPS_API_URL_ENV, JSM_OPS_GATEWAY_URL, JSM_TEAM_ID_ENV, jsmOpsApiUrl } from "../../functions/shared/oncall-alerts";
import { lambdaFunctionName } from "../shared/function-code";
import { JsmHeartbeat } from "../shared/oncall/jsm";
import { canaryFunctionPolicy } from "./mail-ingest-policies";
import { OpsgenieHeartbeat } from "../shared/oncall/opsgenie";
import type { OnCallLink } from "../shared/oncall/oncall-routing";
import { functionSecret, serviceFunction } from "../shared/service-function";
import type { CanarySettings } from "../shared/stack-config";

/** What {@link mailCanary} needs. */
export interface MailCanaryArgs {
    readonly environment: string;
    /** Name of the owning component (mail-ingest), for the functions' physical names: the canary's, and mail-ingest's, which pings the heartbeat. */
    readonly component: string;
    /** Key of the function's environment and logs. */
    readonly keyArn: pulumi.Input<string>;
    /** Mail domain (its SES identity sends the canary) and the alert address it goes to. */
    readonly domain: string;
    readonly alertAddress: string;
    /** ARN of the domain's SES identity. */
    readonly identityArn: pulumi.Input<string>;
    readonly settings: CanarySettings;
    readonly logRetentionDays: number;
    /** On-call link: the heartbeat is created in Opsgenie, or in JSM through its ops REST API. */
    readonly onCall?: OnCallLink;
    readonly tags: Record<string, string>;
}

export interface MailCanary {
    /** Address the canary is sent from; mail-ingest recognises it by this and its header. */
    readonly sender: string;
    /** Name of the on-call heartbeat mail-ingest pings for each canary. */
    readonly heartbeatName: string;
    /** The canary function's name, for its error alarm. */
    readonly functionName: pulumi.Output<string>;
    /**
     * Environment mail-ingest needs to ping the heartbeat beyond its on-call client's: with JSM the
     * ops REST API base, the team id, the account e-mail and the API token as KMS ciphertext for it;
     * empty with Opsgenie, whose ping goes through the alert API key.
     */
    readonly ingestEnvironment: Record<string, pulumi.Input<string>>;
    /** Whether ingestEnvironment holds a secret encrypted for mail-ingest (its role must decrypt its own secrets). */
    readonly ingestDecryptsSecret: boolean;
}

/** The canary's sender: an address of the mail domain, so SES signs it with the domain's DKIM key. */
export function canarySender(domain: string): string {
    return `alertline-canary@${domain}`;
}

/** The heartbeat's name in Opsgenie/JSM; one per environment. */
export function heartbeatName(environment: string): string {
    return `alertline-${environment}-mail-path`;
}

/** EventBridge's rate expression for a number of minutes (singular unit for 1, as EventBridge requires). */
export function rateExpression(minutes: number): string {
    return minutes === 1 ? "rate(1 minute)" : `rate(${minutes} minutes)`;
}

/**
 * The mail path watching itself: every interval a scheduled function sends a test mail from the
 * domain to the alert address through SES; mail-ingest recognises it, lights nothing and pings the
 * heartbeat. If receiving, storing, notifying or classifying breaks, pings stop, the heartbeat
 * expires and on-call is paged by Opsgenie/JSM itself, which does not depend on anything here.
 */
export function mailCanary(parent: pulumi.Resource, name: string, args: MailCanaryArgs): MailCanary {
    const functionName = lambdaFunctionName(args.environment, args.component, "canary");
    const sender = canarySender(args.domain);
    const beat = heartbeatName(args.environment);
    const fn = serviceFunction(parent, name, {
        functionName,
        description: "Sends the mail-path canary through SES to the alert address",
        source: "mail-canary",
        keyArn: args.keyArn,
        logRetentionDays: args.logRetentionDays,
        environment: { CANARY_FROM: sender, CANARY_TO: args.alertAddress, ALERTLINE_ENVIRONMENT: args.environment, POWERTOOLS_SERVICE_NAME: "mail-canary" },
        timeoutSeconds: 30,
        memoryMb: 256,
        policy: (logGroupArn) =>
            pulumi
                .output({ logGroupArn, identityArn: args.identityArn })
                .apply((grants) => JSON.stringify(canaryFunctionPolicy({ ...grants, fromAddress: sender }))),
        tags: args.tags,
    });
    const schedule = new aws.cloudwatch.EventRule(
        `${name}-schedule`,
        { description: `alertline ${args.environment}: mail-path canary`, scheduleExpression: rateExpression(args.settings.intervalMinutes), tags: args.tags },
        { parent },
    );
    new aws.cloudwatch.EventTarget(`${name}-target`, { rule: schedule.name, arn: fn.arn }, { parent });
    new aws.lambda.Permission(`${name}-invoke`, { action: "lambda:InvokeFunction", function: fn.name, principal: "events.amazonaws.com", sourceArn: schedule.arn }, { parent });

    if (args.onCall?.opsgenie !== undefined) {
        new OpsgenieHeartbeat(
            `${name}-heartbeat`,
            { ...heartbeatSpec(args.environment, args.settings), ownerTeamId: args.onCall.opsgenie.teamId, connection: args.onCall.opsgenie.connection },
            { parent },
        );
    }
    let ingestEnvironment: Record<string, pulumi.Input<string>> = {};
    const jsm = args.onCall?.jsm;
    if (jsm !== undefined) {
        const heartbeat = new JsmHeartbeat(
            `${name}-heartbeat`,
            {
                ...heartbeatSpec(args.environment, args.settings),
                teamId: jsm.teamId,
                connection: jsm.connection,
            },
            { parent },
        );
        // The token is encrypted for mail-ingest, which pings the heartbeat (encryption context {LambdaFunctionName}).
        const ingestFunctionName = lambdaFunctionName(args.environment, args.component, "ingest");
        ingestEnvironment = {
            [JSM_OPS_API_URL_ENV]: pulumi.all([jsm.connection.cloudId, jsm.connection.apiUrl ?? JSM_OPS_GATEWAY_URL]).apply(([cloudId, apiUrl]) => jsmOpsApiUrl(cloudId, apiUrl)),
            // From the heartbeat, so mail-ingest pings only once the heartbeat exists.
            [JSM_TEAM_ID_ENV]: heartbeat.teamId,
            [JSM_EMAIL_ENV]: jsm.connection.email,
            [JSM_API_TOKEN_ENV]: functionSecret(parent, `${name}-jsm-token`, { keyArn: args.keyArn, plaintext: jsm.connection.apiToken, functionName: ingestFunctionName }),
        };
    }
    return { sender, heartbeatName: beat, functionName: fn.name, ingestEnvironment, ingestDecryptsSecret: jsm !== undefined };
}

/** The heartbeat's settings, the same in Opsgenie and JSM (their field names are the same). Pure. */
export function heartbeatSpec(environment: string, settings: CanarySettings) {
    return {
        name: heartbeatName(environment),
        description: `alertline ${environment}: pinged by mail-ingest for every canary mail (${settings.intervalMinutes} min); silence means alert mail is not being processed`,
        interval: settings.heartbeatMinutes,
        intervalUnit: "minutes" as const,
        enabled: true,
        alertMessage: `alertline ${environment}: no canary mail processed for ${settings.heartbeatMinutes} minutes. Alert mail may not be reaching the towers.`,
        alertPriority: "P2" as const,
        alertTags: ["alertline", `alertline-${environment}`, "canary"],
    };
}
