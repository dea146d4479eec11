import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { BACKEND_HEADER, ONCALL_BACKENDS_ENV } from "../../functions/ack-webhook/ack-note";
import { CLEARING_ACTIONS } from "../../functions/shared/clearing-actions";
import { THREAD_NOTES_ENV } from "../../functions/shared/thread-note";
import { lambdaFunctionName } from "../shared/function-code";
import { JsmApiIntegration, JsmIntegrationAction } from "../shared/oncall/jsm";
import { alertActionFor } from "../shared/oncall/jsm-api";
import { ackFunctionPolicy } from "./mail-ingest-policies";
import { OpsgenieApiIntegration } from "../shared/oncall/opsgenie";
import { forwardedActionFor } from "../shared/oncall/opsgenie-api";
import type { OnCallLink } from "../shared/oncall/oncall-routing";
import { functionSecret, serviceFunction } from "../shared/service-function";

/** Header the on-call backend's outgoing webhook sends the shared token in (functions/ack-webhook/auth.ts). */
export const ACK_TOKEN_HEADER = "X-Alertline-Token";

/**
 * ack-webhook's environment for its thread notes (pure): the alert topic always (the function's
 * code publishes there, so its role is granted it in every stack), the backends it serves, and the
 * switch that turns the notes on in Slack's app mode.
 */
export function ackNoteEnvironment(alertTopicArn: pulumi.Input<string>, onCall: Pick<OnCallLink, "backend" | "backends"> | undefined, threadNotes: boolean): Record<string, pulumi.Input<string>> {
    const backends = onCall === undefined ? [] : (onCall.backends ?? [onCall.backend].flat());
    return {
        ALERT_TOPIC_ARN: alertTopicArn,
        ...(backends.length === 0 ? {} : { [ONCALL_BACKENDS_ENV]: backends.join(",") }),
        ...(threadNotes ? { [THREAD_NOTES_ENV]: "on" } : {}),
    };
}

/** What {@link ackEndpoint} needs from the mail path it clears towers on. */
export interface AckEndpointArgs {
    readonly environment: string;
    /** Name of the owning component, for the function's physical name. */
    readonly component: string;
    /** The mail key: encrypts the function's environment, its logs, the signal queue and the token ciphertext. */
    readonly keyArn: pulumi.Input<string>;
    readonly region: pulumi.Input<string>;
    /** towers.json, the same the dispatcher reads. */
    readonly towersJson: pulumi.Input<string>;
    readonly signalQueueUrl: pulumi.Input<string>;
    readonly signalQueueArn: pulumi.Input<string>;
    /** The state table shared with mail-ingest: an alias is cleared once per page, whichever backend acknowledges first. Default none (every acknowledgement queues). */
    readonly stateTable?: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
    readonly logRetentionDays: number;
    /** On-call link: the outgoing webhook is created in Opsgenie, or in JSM (a Webhook integration with outgoing Acknowledge and Close actions). */
    readonly onCall?: OnCallLink;
    /** The alert channel's topic and its key: accepted acknowledgements are noted there (Slack app mode). */
    readonly alertTopicArn: pulumi.Input<string>;
    readonly alertKeyArn: pulumi.Input<string>;
    /** Publish a thread note for each accepted acknowledgement (Slack's app mode). Default false. */
    readonly threadNotes?: boolean;
    readonly tags: Record<string, string>;
}

export interface AckEndpoint {
    /** The function URL the on-call backend's webhook posts to. */
    readonly url: pulumi.Output<string>;
    /** The shared token (secret), sent by the webhook in {@link ACK_TOKEN_HEADER}. */
    readonly token: pulumi.Output<string>;
    /** The function's name, for its error alarm. */
    readonly functionName: pulumi.Output<string>;
}

/**
 * The way back from on-call to the towers: a function URL that Opsgenie's (or JSM's) outgoing
 * webhook calls when someone acknowledges or closes an alert; the function checks the shared token
 * (or an HMAC signature), then queues a recovery for the alert's towers on the signal queue, so
 * tower-dispatch clears it in order with the mail that lit it.
 *
 * The URL has auth type NONE because neither Opsgenie nor JSM can sign AWS requests; the token is
 * generated here, kept only as KMS ciphertext in the function and as a secret output.
 */
export function ackEndpoint(parent: pulumi.Resource, name: string, args: AckEndpointArgs): AckEndpoint {
    const functionName = lambdaFunctionName(args.environment, args.component, "ack");
    // Letters and digits only: it travels in an HTTP header typed into the on-call backend's form.
    const token = new random.RandomPassword(`${name}-token`, { length: 48, special: false }, { parent });
    const tokenCiphertext = functionSecret(parent, `${name}-token-ciphertext`, { keyArn: args.keyArn, plaintext: token.result, functionName });
    const fn = serviceFunction(parent, name, {
        functionName,
        description: "Clears a tower alert when it is acknowledged or closed in on-call (Opsgenie/JSM webhook)",
        source: "ack-webhook",
        files: { "towers.json": args.towersJson },
        keyArn: args.keyArn,
        logRetentionDays: args.logRetentionDays,
        environment: {
            SIGNAL_QUEUE_URL: args.signalQueueUrl,
            ...(args.stateTable === undefined ? {} : { STATE_TABLE: args.stateTable.name }),
            ACK_SECRET_CIPHERTEXT: tokenCiphertext,
            ALERTLINE_ENVIRONMENT: args.environment,
            POWERTOOLS_SERVICE_NAME: "ack-webhook",
            ...ackNoteEnvironment(args.alertTopicArn, args.onCall, args.threadNotes ?? false),
        },
        timeoutSeconds: 15,
        memoryMb: 256,
        policy: (logGroupArn) =>
            pulumi
                .output({
                    region: args.region,
                    logGroupArn,
                    mailKeyArn: args.keyArn,
                    signalQueueArn: args.signalQueueArn,
                    tableArn: args.stateTable?.arn,
                    alertTopicArn: args.alertTopicArn,
                    alertKeyArn: args.alertKeyArn,
                })
                .apply((grants) => JSON.stringify(ackFunctionPolicy({ ...grants, functionName }))),
        tags: args.tags,
    });
    const url = new aws.lambda.FunctionUrl(`${name}-url`, { functionName: fn.name, authorizationType: "NONE" }, { parent });
    // A public function URL needs both grants since AWS's October 2025 change; either alone answers 403.
    new aws.lambda.Permission(
        `${name}-url-invoke`,
        { action: "lambda:InvokeFunctionUrl", function: fn.name, principal: "*", functionUrlAuthType: "NONE" },
        { parent },
    );
    new aws.lambda.Permission(
        `${name}-url-invoke-function`,
        { action: "lambda:InvokeFunction", function: fn.name, principal: "*", invokedViaFunctionUrl: true },
        { parent },
    );

    if (args.onCall?.opsgenie !== undefined) {
        new OpsgenieApiIntegration(
            `${name}-opsgenie-webhook`,
            {
                name: `alertline-${args.environment}-ack`,
                type: "Webhook",
                ownerTeamId: args.onCall.opsgenie.teamId,
                enabled: true,
                webhookUrl: url.functionUrl,
                headers: pulumi.secret(token.result.apply((value) => ({ [ACK_TOKEN_HEADER]: value, [BACKEND_HEADER]: "opsgenie" }))),
                // Exactly the actions ack-webhook acts on (Acknowledge, Close), rather than Opsgenie's default set.
                forwardedActions: CLEARING_ACTIONS.map(forwardedActionFor),
                connection: args.onCall.opsgenie.connection,
            },
            { parent },
        );
    }
    const jsm = args.onCall?.jsm;
    if (jsm !== undefined) {
        // JSM's equivalent of Opsgenie's outgoing Webhook: a Webhook integration of the team posting to the URL with the
        // token header, stripped of the actions JSM adds by default (as the Atlassian provider's delete_default_actions
        // does), then given exactly the actions ack-webhook acts on.
        const webhook = new JsmApiIntegration(
            `${name}-jsm-webhook`,
            {
                name: `alertline-${args.environment}-ack`,
                type: "Webhook",
                teamId: jsm.teamId,
                enabled: true,
                typeSpecificProperties: pulumi
                    .all([url.functionUrl, token.result])
                    .apply(([functionUrl, value]) => ({ url: functionUrl, headers: { [ACK_TOKEN_HEADER]: value, [BACKEND_HEADER]: "jsm" }, addAlertDescription: true, addAlertDetails: true })),
                deleteDefaultActions: true,
                connection: jsm.connection,
            },
            { parent },
        );
        for (const action of CLEARING_ACTIONS) {
            new JsmIntegrationAction(
                `${name}-jsm-webhook-${alertActionFor(action)}`,
                { integrationId: webhook.id, name: `${action} to ack-webhook`, type: alertActionFor(action), direction: "outgoing", groupType: "forwarding", enabled: true, connection: jsm.connection },
                { parent },
            );
        }
    }
    return { url: url.functionUrl, token: pulumi.secret(token.result), functionName: fn.name };
}
