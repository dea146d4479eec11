import { join } from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import type { APIGatewayProxyStructuredResultV2, Context, LambdaFunctionURLEvent } from "aws-lambda";
import { createEnvSecretSource } from "../shared/kms-env-secret";
import type { TowerConfig } from "../shared/tower-config";
import { loadTowers } from "../shared/towers";
import { planRecoveries, sendIntents } from "./ack";
import { authenticate } from "./auth";
import { claimClear, releaseClear, type ClearState } from "../shared/alias-clear";
import { parseWebhookEvent } from "./webhook-event";
import { once } from "../shared/once";
import { ALERTLINE_METRICS } from "../shared/metric-names";
import { createMetricSink, NO_METRICS, type MetricSink } from "../shared/path-metrics";
import { threadNotesOn } from "../shared/thread-note";
import { ackNote, BACKEND_HEADER, callingBackend, configuredBackends, ONCALL_BACKENDS_ENV, type NoteBackend } from "./ack-note";

/**
 * ack-webhook: Opsgenie's (or JSM's) outgoing webhook calls this function URL when someone
 * acknowledges or closes an alert; the alert then stops lighting the PATLITE towers. The URL has
 * authType NONE, so the function authenticates every call itself (./auth). This file only maps the
 * request to the pure steps and their outcomes to HTTP:
 * 405 not POST, 413 too large, 401 not authenticated, 400 unreadable, 200 ignored (or already
 * cleared since the alert's last page), 202 queued,
 * 500 when the secret, towers.json or SQS fail (the sender retries on 5xx).
 */

/** Environment variable holding the base64 KMS ciphertext of the shared secret. */
export const ACK_SECRET_ENV = "ACK_SECRET_CIPHERTEXT";
/** Largest body taken. Opsgenie's alert action data is a few KB (description and details come only with Create). */
export const MAX_BODY_BYTES = 256 * 1024;

export interface AckLogger {
    info(message: string, ...attributes: unknown[]): void;
    warn(message: string, ...attributes: unknown[]): void;
    error(message: string, ...attributes: unknown[]): void;
    /** Powertools adds the request id and cold-start flag to every line from here on. */
    addContext?(context: Context): void;
}

export interface AckDeps {
    readonly sqs: Pick<SQSClient, "send">;
    /** The decrypted shared secret; memoised per container by createEnvSecretSource. */
    readonly secret: () => Promise<string>;
    /** The towers (towers.json), loaded once per container on first use. */
    readonly towers: () => readonly TowerConfig[];
    /** env SIGNAL_QUEUE_URL: the FIFO queue tower-dispatch consumes. */
    readonly queueUrl: string | undefined;
    /** env ALERTLINE_ENVIRONMENT: alerts tagged for another environment are ignored. */
    readonly environment?: string;
    readonly logger: AckLogger;
    readonly now?: () => number;
    /**
     * env STATE_TABLE: with it an alias is cleared once per page, whichever backend acknowledges
     * or closes first (functions/shared/alias-clear.ts); without it every call queues its recoveries. Default none.
     */
    readonly clearState?: ClearState;
    /** Acknowledgements accepted (EMF, functions/shared/metric-names.ts). Default none. */
    readonly metrics?: MetricSink;
    /**
     * With Slack's app mode (env ALERTLINE_THREAD_NOTES=on and ALERT_TOPIC_ARN): an accepted
     * acknowledgement or close is also published on the alert topic as a thread note ("acknowledged
     * by … in Opsgenie"). A failed publish is logged and never fails the acknowledgement. Default none.
     */
    readonly notes?: {
        readonly sns: Pick<SNSClient, "send">;
        /** env ALERT_TOPIC_ARN: the alert channel's topic. */
        readonly topicArn: string;
        /** env ONCALL_BACKENDS: the backends this stack serves, for naming the one that called. */
        readonly backends: readonly NoteBackend[];
    };
}

export type AckResponse = APIGatewayProxyStructuredResultV2 & { readonly statusCode: number; readonly body: string };

function respond(statusCode: number, payload: unknown, headers: Record<string, string> = {}): AckResponse {
    return { statusCode, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(payload) };
}

function lowerCaseHeaders(headers: Record<string, string | undefined> | undefined): Record<string, string | undefined> {
    return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}

function bodyBytes(event: LambdaFunctionURLEvent): Buffer {
    const body = typeof event?.body === "string" ? event.body : "";
    return event?.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
}

function describeError(error: unknown): string {
    const err = error as { name?: string; message?: string };
    return `${err?.name ?? "Error"}: ${err?.message ?? String(error)}`;
}

export function createHandler(deps: AckDeps): (event: LambdaFunctionURLEvent, context: Context) => Promise<AckResponse> {
    const now = deps.now ?? Date.now;
    return async (event, context) => {
        deps.logger.addContext?.(context);
        const http = event?.requestContext?.http;
        const headers = lowerCaseHeaders(event?.headers);
        const caller = { sourceIp: http?.sourceIp, userAgent: http?.userAgent ?? headers["user-agent"] };

        const method = (http?.method ?? "").toUpperCase();
        if (method !== "POST") return respond(405, { error: `method ${method || "(none)"} is not allowed: POST the webhook body` }, { allow: "POST" });
        const raw = bodyBytes(event);
        if (raw.byteLength > MAX_BODY_BYTES) {
            deps.logger.warn("Refused an oversized request", { ...caller, bytes: raw.byteLength, limit: MAX_BODY_BYTES });
            return respond(413, { error: `the body is ${raw.byteLength} bytes; the limit is ${MAX_BODY_BYTES}` });
        }
        const rawBody = raw.toString("utf8");

        let secret: string;
        try {
            // A secret encrypted by hand often ends in the newline `echo` added; no header could carry it.
            secret = (await deps.secret()).trim();
        } catch (error) {
            deps.logger.error("Could not read the shared secret; refusing every request until it can be read", { error: describeError(error) });
            return respond(500, { error: "the endpoint is misconfigured; see the function's log" });
        }
        const auth = authenticate(headers, rawBody, secret, now());
        if (!auth.ok) {
            deps.logger.warn("Refused a request that failed authentication", { ...caller, reason: auth.reason });
            return respond(401, { error: "unauthorized" });
        }

        const parsed = parseWebhookEvent(rawBody, { environment: deps.environment });
        if (parsed.kind === "invalid") {
            deps.logger.warn("Refused an unreadable webhook body", { ...caller, scheme: auth.scheme, problem: parsed.problem });
            return respond(400, { error: parsed.problem });
        }
        if (parsed.kind === "ignore") {
            deps.logger.info("Ignored a webhook call that clears nothing", { scheme: auth.scheme, reason: parsed.reason });
            return respond(200, { ignored: parsed.reason });
        }

        const about = { alias: parsed.alias, alertId: parsed.alertId, action: parsed.action, user: parsed.user, scheme: auth.scheme };
        try {
            const queueUrl = deps.queueUrl;
            if (queueUrl === undefined || queueUrl.trim() === "") throw new Error("SIGNAL_QUEUE_URL is not set: set it to the URL of the signal FIFO queue tower-dispatch consumes (the infrastructure sets it)");
            const plan = planRecoveries(parsed, deps.towers(), now());
            if (plan.unknownTowers.length > 0) {
                deps.logger.warn("The alert names towers that towers.json does not have; they were skipped", { ...about, unknownTowers: plan.unknownTowers });
            }
            const by = `${parsed.action} of alert ${parsed.alertId} by ${parsed.user}`;
            if (deps.clearState !== undefined) {
                const claim = await claimClear(deps.clearState, parsed.alias, by, now());
                if (!claim.first) {
                    deps.logger.info("The alert was already cleared since its last page; nothing queued", { ...about, clearedBy: claim.clearedBy, clearedAt: claim.clearedAt });
                    return respond(200, { alreadyCleared: parsed.alias, clearedBy: claim.clearedBy, clearedAt: claim.clearedAt });
                }
            }
            try {
                await sendIntents(deps.sqs, queueUrl, plan.intents);
            } catch (error) {
                if (deps.clearState !== undefined) await releaseClear(deps.clearState, parsed.alias, by);
                throw error;
            }
            deps.logger.info("Queued recoveries for the acknowledged alert", { ...about, towers: plan.towers, allTowers: parsed.towers === null });
            (deps.metrics ?? NO_METRICS).put(ALERTLINE_METRICS.acknowledgements, 1);
            if (deps.notes !== undefined) {
                // The towers are cleared whatever happens here: the note is for people, the recovery is queued.
                const note = ackNote(parsed, callingBackend(headers[BACKEND_HEADER.toLowerCase()], deps.notes.backends), deps.environment);
                try {
                    await deps.notes.sns.send(new PublishCommand({ TopicArn: deps.notes.topicArn, Message: JSON.stringify(note) }));
                } catch (error) {
                    deps.logger.warn("Could not post the acknowledgement to the alert's thread; the towers are cleared all the same", { ...about, error: describeError(error) });
                }
            }
            return respond(202, { cleared: parsed.alias, towers: plan.towers, unknownTowers: plan.unknownTowers });
        } catch (error) {
            deps.logger.error("Could not queue the recoveries; the sender should retry", { ...about, error: describeError(error) });
            return respond(500, { error: "could not queue the recovery; retry later" });
        }
    };
}

const defaultLogger = new Logger({ serviceName: "ack-webhook" });
const defaultDeps: AckDeps = {
    // One client each per container, reused by every invocation; region and credentials come from Lambda's environment.
    sqs: new SQSClient({}),
    secret: createEnvSecretSource(new KMSClient({}), ACK_SECRET_ENV, "the acknowledgement webhook's shared secret"),
    // The same towers.json tower-dispatch gets, written beside the bundle by the infrastructure.
    towers: once(() => loadTowers(join(__dirname, "towers.json"))),
    queueUrl: process.env.SIGNAL_QUEUE_URL,
    clearState: process.env.STATE_TABLE ? { ddb: DynamoDBDocumentClient.from(new DynamoDBClient({})), table: process.env.STATE_TABLE } : undefined,
    environment: process.env.ALERTLINE_ENVIRONMENT || undefined,
    logger: defaultLogger,
    metrics: createMetricSink({ environment: process.env.ALERTLINE_ENVIRONMENT || undefined, serviceName: "ack-webhook", logger: defaultLogger }),
    notes:
        threadNotesOn(process.env) && process.env.ALERT_TOPIC_ARN
            ? { sns: new SNSClient({}), topicArn: process.env.ALERT_TOPIC_ARN, backends: configuredBackends(process.env[ONCALL_BACKENDS_ENV]) }
            : undefined,
};

export const handler = createHandler(defaultDeps);
