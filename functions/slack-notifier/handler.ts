import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SNSEvent, SNSEventRecord } from "aws-lambda";
import { buildSlackMessage, minimalSlackMessage, type AlertSummary, type SlackWebhookPayload } from "../shared/slack-message";
import { postToSlack, SlackDeliveryError, type SlackLogger } from "../shared/slack-webhook";
import { parseSnsMessage } from "./alert-parse";
import { createDynamoFloodControl, FLOOD_TABLE_ENV, floodKey, floodPolicyFromEnv, repeatNoticeSummary, type FloodControl, type FloodDecision } from "./flood-control";
import { slackAppFromEnv, type SlackAppDelivery } from "./slack-app";
import { createWebhookUrlSource } from "./webhook-secret";
import { createMetricSink, type MetricSink } from "../shared/path-metrics";
import { slackMetrics } from "./slack-metrics";
import { once } from "../shared/once";

/**
 * slack-notifier: every message on the alert topic becomes one Slack message. This file only wires
 * the parser, the formatter and the webhook client together and maps their outcomes to Lambda's:
 * returning means done (delivered, or dropped because Slack will never take it); throwing means
 * "retry this event later" (Lambda's asynchronous retries, then the dead-letter queue).
 * With flood control (./flood-control), repeats of one alert within a window are counted instead of posted.
 */

export interface NotifierLogger extends SlackLogger {
    /** Powertools adds the request id and cold-start flag to every line from here on. */
    addContext?(context: Context): void;
}

export interface NotifierDeps {
    /** The decrypted webhook URL; memoised per container by {@link createWebhookUrlSource}. */
    readonly webhookUrl: () => Promise<string>;
    readonly logger: NotifierLogger;
    /** Shown in each message's context line (env `ALERTLINE_ENVIRONMENT`). */
    readonly environment?: string;
    readonly now?: () => number;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly fetch?: typeof fetch;
    readonly safetyMarginMs?: number;
    /** Flood control; absent (or a failing table) means every event is posted. */
    readonly flood?: FloodControl;
    /** Posts and held-back repeats (EMF, ./slack-metrics). Default none. */
    readonly metrics?: MetricSink;
    /** App mode (./slack-app): when set, records go to Slack's Web API instead of the webhook. */
    readonly app?: () => SlackAppDelivery;
}

/** The record's message text, as SNS delivered it. */
function messageOf(record: SNSEventRecord): string {
    const sns = record.Sns;
    return typeof sns.Message === "string" ? sns.Message : JSON.stringify(sns.Message) ?? "";
}

/** Parses one record; undefined (logged) when even that fails, so the caller falls back to plain text. */
function summaryFor(record: SNSEventRecord, deps: NotifierDeps): { summary: AlertSummary; message: string } | undefined {
    try {
        const message = messageOf(record);
        return { summary: parseSnsMessage(message, record.Sns.Subject ?? undefined), message };
    } catch (error) {
        deps.logger.error("Could not format the alert; posting it as plain text", { error: String(error) });
        return undefined;
    }
}

/** Formats one summary; any failure falls back to plain text so that no input can cost an alert. */
function payloadFor(record: SNSEventRecord, summary: AlertSummary | undefined, deps: NotifierDeps): SlackWebhookPayload {
    try {
        if (summary !== undefined) return buildSlackMessage(summary, { environment: deps.environment });
    } catch (error) {
        deps.logger.error("Could not format the alert; posting it as plain text", { error: String(error) });
    }
    return minimalSlackMessage(`:grey_question: An alert arrived that could not be formatted.\n${describeRecord(record)}`);
}

/**
 * Asks flood control about one alert. Undefined means "post as usual": no flood control, no
 * summary to key on, or a storage failure (logged; an alert is never dropped for want of a count).
 */
async function floodDecisionFor(summary: AlertSummary, message: string, deps: NotifierDeps, nowMs: number, snsMessageId: string | undefined): Promise<{ key: string; decision: FloodDecision } | undefined> {
    if (deps.flood === undefined) return undefined;
    let key: string | undefined;
    try {
        key = floodKey(summary, message);
        return { key, decision: await deps.flood.record(key, nowMs) };
    } catch (error) {
        deps.logger.error("Flood control failed; posting the alert anyway", { snsMessageId, floodKey: key, error: String(error) });
        return undefined;
    }
}

/** Whatever text can be had from a record that defeated the formatter, without throwing again. */
function describeRecord(record: SNSEventRecord): string {
    try {
        return [record.Sns.Subject, record.Sns.Message].filter((part) => typeof part === "string").join("\n");
    } catch {
        return "";
    }
}

/** The SNS message id for log lines, if the record has one. */
function messageIdOf(record: SNSEventRecord): string | undefined {
    const id: unknown = record?.Sns?.MessageId;
    return typeof id === "string" ? id : undefined;
}

/**
 * The SNS handler: parse, format, post each record. Resolves when every record was delivered or
 * dropped; rejects (so Lambda retries the event) on a 5xx, a network failure, a 429 that cannot be
 * waited out before the deadline, or a webhook URL that cannot be decrypted.
 */
export function createHandler(deps: NotifierDeps): (event: SNSEvent, context: Context) => Promise<void> {
    const now = deps.now ?? Date.now;
    const metrics = slackMetrics(deps.metrics);
    return async (event, context) => {
        deps.logger.addContext?.(context);
        const deadline = now() + context.getRemainingTimeInMillis();
        const records = Array.isArray(event?.Records) ? event.Records : [];
        if (records.length === 0) deps.logger.warn("The event held no SNS records; nothing to post");
        if (deps.app !== undefined) return deliverInAppMode(deps, deps.app, records, deadline);
        // SNS delivers one record per invocation; should there be more, a throw retries them all,
        // so they go one by one and stop at the first failure worth retrying.
        for (const record of records) {
            const snsMessageId = messageIdOf(record);
            const parsed = summaryFor(record, deps);
            const flood = parsed === undefined ? undefined : await floodDecisionFor(parsed.summary, parsed.message, deps, now(), snsMessageId);
            if (flood?.decision.action === "suppress") {
                deps.logger.info("Not posting a repeat of an alert already posted in this window", { snsMessageId, floodKey: flood.key, count: flood.decision.count });
                metrics.heldBack();
                continue;
            }
            const summary =
                flood?.decision.action === "notice" && parsed !== undefined ? repeatNoticeSummary(parsed.summary, flood.decision, now(), deps.flood!.policy) : parsed?.summary;
            const payload = payloadFor(record, summary, deps);
            try {
                const url = await deps.webhookUrl();
                const outcome = await postToSlack(url, payload, {
                    deadline,
                    logger: deps.logger,
                    now,
                    sleep: deps.sleep,
                    fetch: deps.fetch,
                    safetyMarginMs: deps.safetyMarginMs,
                    logAttributes: { snsMessageId },
                });
                if (outcome.kind === "delivered") deps.logger.info("Posted the alert to Slack", { snsMessageId, attempts: outcome.attempts, repeatCount: flood?.decision.count });
                if (outcome.kind === "delivered") metrics.posted();
            } catch (error) {
                if (error instanceof SlackDeliveryError) {
                    deps.logger.error(`Slack delivery failed; Lambda will retry the event: ${error.message}`, { snsMessageId, status: error.status, failure: error.failure });
                }
                // The window's first post did not arrive: forget the window so the retry is not taken for a repeat.
                if (flood?.decision.action === "post") await releaseWindow(flood.key, flood.decision.windowStart, deps, snsMessageId);
                throw error;
            }
        }
    };
}

/** App mode: one record after another, stopping at the first that must be retried (thrown to Lambda). */
async function deliverInAppMode(deps: NotifierDeps, app: () => SlackAppDelivery, records: readonly SNSEventRecord[], deadline: number): Promise<void> {
    let deliver: SlackAppDelivery;
    try {
        deliver = app();
    } catch (error) {
        deps.logger.error(`Slack app mode cannot start; Lambda will retry the event: ${(error as Error).message}`);
        throw error;
    }
    for (const record of records) await deliver(record, deadline);
}

async function releaseWindow(key: string, windowStart: number, deps: NotifierDeps, snsMessageId: string | undefined): Promise<void> {
    try {
        await deps.flood?.release(key, windowStart);
    } catch (error) {
        deps.logger.error("Could not reopen the flood window after a failed post; repeats of this alert may be held until the window ends", { snsMessageId, floodKey: key, error: String(error) });
    }
}

/**
 * Flood control from the environment the component sets: none without FLOOD_TABLE or with a
 * window of 0 seconds, and none (logged) when the settings are invalid, since posting every
 * event loses nothing.
 */
export function floodControlFromEnv(env: NodeJS.ProcessEnv, logger: NotifierLogger, client: () => DynamoDBDocumentClient): FloodControl | undefined {
    const table = env[FLOOD_TABLE_ENV];
    if (table === undefined || table === "") return undefined;
    try {
        const policy = floodPolicyFromEnv(env);
        return policy.windowSeconds === 0 ? undefined : createDynamoFloodControl(client(), table, policy);
    } catch (error) {
        logger.error(`Flood control is off: ${(error as Error).message}`);
        return undefined;
    }
}

const defaultLogger = new Logger({ serviceName: "slack-notifier" });
const defaultMetrics = createMetricSink({ environment: process.env.ALERTLINE_ENVIRONMENT || undefined, serviceName: "slack-notifier", logger: defaultLogger });
// One KMS and one DynamoDB client per container, shared by both modes and reused by every
// invocation; region and credentials come from Lambda's environment.
const defaultKms = new KMSClient({});
const defaultDocumentClient = once(() => DynamoDBDocumentClient.from(new DynamoDBClient({})));
const defaultDeps: NotifierDeps = {
    webhookUrl: createWebhookUrlSource(defaultKms),
    logger: defaultLogger,
    environment: process.env.ALERTLINE_ENVIRONMENT || undefined,
    flood: floodControlFromEnv(process.env, defaultLogger, defaultDocumentClient),
    metrics: defaultMetrics,
    app: slackAppFromEnv(process.env, {
        logger: defaultLogger,
        environment: process.env.ALERTLINE_ENVIRONMENT || undefined,
        kms: () => defaultKms,
        documentClient: defaultDocumentClient,
        parse: (record) => parseSnsMessage(messageOf(record), record.Sns?.Subject ?? undefined),
        metrics: slackMetrics(defaultMetrics),
    }),
};

export const handler = createHandler(defaultDeps);
