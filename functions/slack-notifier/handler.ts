import { KMSClient } from "@aws-sdk/client-kms";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SNSEvent, SNSEventRecord } from "aws-lambda";
import { buildSlackMessage, minimalSlackMessage, type SlackWebhookPayload } from "../shared/slack-message";
import { postToSlack, SlackDeliveryError, type SlackLogger } from "../shared/slack-webhook";
import { parseSnsMessage } from "./alert-parse";
import { createWebhookUrlSource } from "./webhook-secret";

/**
 * slack-notifier: every message on the alert topic becomes one Slack message. This file only wires
 * the parser, the formatter and the webhook client together and maps their outcomes to Lambda's:
 * returning means done (delivered, or dropped because Slack will never take it); throwing means
 * "retry this event later" (Lambda's asynchronous retries, then the dead-letter queue).
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
}

/** Formats one record; any failure falls back to plain text so that no input can cost an alert. */
function payloadFor(record: SNSEventRecord, deps: NotifierDeps): SlackWebhookPayload {
    try {
        const sns = record.Sns;
        const message = typeof sns.Message === "string" ? sns.Message : JSON.stringify(sns.Message) ?? "";
        return buildSlackMessage(parseSnsMessage(message, sns.Subject ?? undefined), { environment: deps.environment });
    } catch (error) {
        deps.logger.error("Could not format the alert; posting it as plain text", { error: String(error) });
        return minimalSlackMessage(`:grey_question: An alert arrived that could not be formatted.\n${describeRecord(record)}`);
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
    return async (event, context) => {
        deps.logger.addContext?.(context);
        const deadline = now() + context.getRemainingTimeInMillis();
        const records = Array.isArray(event?.Records) ? event.Records : [];
        if (records.length === 0) deps.logger.warn("The event held no SNS records; nothing to post");
        // SNS delivers one record per invocation; should there be more, a throw retries them all,
        // so they go one by one and stop at the first failure worth retrying.
        for (const record of records) {
            const payload = payloadFor(record, deps);
            const snsMessageId = messageIdOf(record);
            const url = await deps.webhookUrl();
            try {
                const outcome = await postToSlack(url, payload, {
                    deadline,
                    logger: deps.logger,
                    now,
                    sleep: deps.sleep,
                    fetch: deps.fetch,
                    safetyMarginMs: deps.safetyMarginMs,
                    logAttributes: { snsMessageId },
                });
                if (outcome.kind === "delivered") deps.logger.info("Posted the alert to Slack", { snsMessageId, attempts: outcome.attempts });
            } catch (error) {
                if (error instanceof SlackDeliveryError) {
                    deps.logger.error(`Slack delivery failed; Lambda will retry the event: ${error.message}`, { snsMessageId, status: error.status, failure: error.failure });
                }
                throw error;
            }
        }
    };
}

const defaultDeps: NotifierDeps = {
    // One client per container, reused by every invocation; region and credentials come from Lambda's environment.
    webhookUrl: createWebhookUrlSource(new KMSClient({})),
    logger: new Logger({ serviceName: "slack-notifier" }),
    environment: process.env.ALERTLINE_ENVIRONMENT || undefined,
};

export const handler = createHandler(defaultDeps);
