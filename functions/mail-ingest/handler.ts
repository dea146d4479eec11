import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SNSEvent } from "aws-lambda";
import { onCallTargetsFromEnv } from "./oncall-env";
import { createMetricSink } from "../shared/path-metrics";
import { once } from "../shared/once";
import { ingestRecord, loadIngestConfig, type IngestConfig, type IngestDeps, type IngestLogger, type IngestOutcome } from "./ingest";

/**
 * mail-ingest: SES stores each alert mail in S3 and notifies the mail topic; this function turns
 * each notification into signal intents (FIFO queue, one message group per tower) and a summary on
 * the alert channel, and pages on-call for mail that lit a tower (the canary mail pings the on-call
 * heartbeat instead). It only wires {@link ingestRecord} to the clients and maps outcomes to
 * Lambda's: returning means handled (including mail it could not read, which is reported);
 * throwing means "retry this event" (an AWS service or on-call failed in a way a retry may fix).
 */

export interface HandlerLogger extends IngestLogger {
    /** Powertools adds the request id and cold-start flag to every line from here on. */
    addContext?(context: Context): void;
}

export interface HandlerDeps extends Omit<IngestDeps, "config" | "logger" | "onCall"> {
    readonly logger: HandlerLogger;
    /** The configuration, read once per container (memoise inside). */
    readonly config: () => IngestConfig;
    /**
     * The on-call client, built once per container (memoise inside); undefined or returning
     * undefined: on-call is off. A function so that a configuration mistake fails an invocation with
     * its message instead of the container's start.
     */
    readonly onCall?: () => IngestDeps["onCall"];
}

export function createHandler(deps: HandlerDeps): (event: SNSEvent, context: Context) => Promise<IngestOutcome[]> {
    const now = deps.now ?? Date.now;
    return async (event, context) => {
        deps.logger.addContext?.(context);
        const config = deps.config();
        const onCall = deps.onCall?.();
        const ingestDeps: IngestDeps = { ...deps, config, onCall };
        const remaining = typeof context?.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : undefined;
        const deadline = remaining === undefined ? undefined : now() + remaining;
        const records = Array.isArray(event?.Records) ? event.Records : [];
        if (records.length === 0) deps.logger.warn("The event held no SNS records; nothing to ingest");
        // SNS delivers one record per invocation; should there be more, a throw retries them all,
        // and the per-mail claim makes the ones already done no-ops.
        const outcomes: IngestOutcome[] = [];
        for (const record of records) outcomes.push(await ingestRecord(record, ingestDeps, { deadline }));
        return outcomes;
    };
}

/** Reads the packaged configuration at the first invocation and keeps it for the container's life. */
export const memoisedConfig: (load: () => IngestConfig) => () => IngestConfig = once;

/**
 * Default dependencies: one client of each kind per container; region, credentials and endpoints
 * come from Lambda's environment. The configuration files sit beside the bundle (index.js):
 * rules.yaml, towers.json, ingest.json. On-call: ONCALL_API_URL and ONCALL_API_KEY_CIPHERTEXT
 * (KMS ciphertext, decrypted at the first page), both or neither.
 */
function defaultDeps(): HandlerDeps {
    const logger = new Logger({ serviceName: "mail-ingest" });
    return {
        s3: new S3Client({}),
        ddb: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
        sqs: new SQSClient({}),
        sns: new SNSClient({}),
        logger,
        metrics: createMetricSink({ environment: process.env.ALERTLINE_ENVIRONMENT || undefined, serviceName: "mail-ingest", logger }),
        config: memoisedConfig(() => loadIngestConfig(__dirname)),
        onCall: once(() => onCallTargetsFromEnv(new KMSClient({}))),
    };
}

export const handler = createHandler(defaultDeps());
