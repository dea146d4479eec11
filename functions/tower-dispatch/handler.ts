import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { TowerConfig } from "../shared/tower-config";
import { createTowerLocks, dispatchBatch, type ChannelMessage, type DispatchLogger } from "./dispatch";
import { createRelay, SSM_RELAY_DOCUMENT_ENV, type RelayOptions } from "./relay";
import { createStateStore } from "./state-store";
import { DEFAULT_STATE_LIMITS, type StateLimits } from "./tower-state";
import { loadTowers } from "./towers";

/**
 * tower-dispatch: consumes signal intents from the FIFO queue and drives the PATLITE towers. This
 * file only wires clients and configuration to {@link dispatchBatch} and returns SQS's partial batch
 * response; the event source mapping must enable ReportBatchItemFailures.
 */

export interface DispatcherLogger extends DispatchLogger {
    /** Powertools adds the request id and cold-start flag to every line from here on. */
    addContext?(context: Context): void;
}

export interface DispatcherDeps {
    /** State table access (env STATE_TABLE names the table). */
    readonly dynamo: DynamoDBDocumentClient;
    /** Publishes to the alert channel (env ALERT_TOPIC_ARN). */
    readonly sns: SNSClient;
    /** Run Command for towers with `relay: ssm`. */
    readonly ssm: SSMClient;
    readonly logger: DispatcherLogger;
    /** The towers (towers.json), loaded once per container on first use. */
    readonly towers: () => readonly TowerConfig[];
    /** env STATE_TABLE. */
    readonly stateTable: string | undefined;
    /** env ALERT_TOPIC_ARN. */
    readonly alertTopicArn: string | undefined;
    /** env SSM_RELAY_DOCUMENT; needed only when some tower uses `relay: ssm`. */
    readonly ssmRelayDocument?: string;
    /** env ALERTLINE_ENVIRONMENT, shown in channel messages. */
    readonly environment?: string;
    readonly now?: () => number;
    /** Timeouts, attempts, backoff and SSM polling; `sleep` is injected here too. */
    readonly relayOptions?: RelayOptions;
    readonly limits?: StateLimits;
}

function required(value: string | undefined, name: string, fix: string): string {
    if (value === undefined || value.trim() === "") throw new Error(`${name} is not set: ${fix}`);
    return value;
}

/** Memoises a loader; a failure is not kept, so the next invocation tries again. */
function once<T>(load: () => T): () => T {
    let value: { v: T } | undefined;
    return () => (value ??= { v: load() }).v;
}

/**
 * The SQS handler. Configuration errors (missing environment, bad towers.json) throw, failing the
 * whole batch so nothing is consumed; everything else is reported per record in batchItemFailures.
 */
export function createHandler(deps: DispatcherDeps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
    const now = deps.now ?? Date.now;
    const locks = createTowerLocks();
    const towerMap = once(() => new Map(deps.towers().map((tower) => [tower.name, tower] as const)));
    const relay = createRelay({ ssm: deps.ssm, ssmDocument: deps.ssmRelayDocument, options: deps.relayOptions });
    return async (event, context) => {
        deps.logger.addContext?.(context);
        const table = required(deps.stateTable, "STATE_TABLE", "set it to the name of the alertline state table (the infrastructure sets it)");
        const topicArn = required(deps.alertTopicArn, "ALERT_TOPIC_ARN", "set it to the ARN of the alert channel's SNS topic (the infrastructure sets it)");
        const records = Array.isArray(event?.Records) ? event.Records : [];
        if (records.length === 0) {
            deps.logger.warn("The event held no SQS records; nothing to dispatch");
            return { batchItemFailures: [] };
        }
        const outcome = await dispatchBatch(records, {
            towers: towerMap(),
            store: createStateStore(deps.dynamo, table, now),
            relay,
            publish: async (message: ChannelMessage) => {
                await deps.sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(message) }));
            },
            logger: deps.logger,
            environment: deps.environment,
            now,
            limits: deps.limits ?? DEFAULT_STATE_LIMITS,
            locks,
        });
        return { batchItemFailures: outcome.batchItemFailures };
    };
}

const defaultDeps: DispatcherDeps = {
    // One client each per container, reused by every invocation; region and credentials come from Lambda's environment.
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    sns: new SNSClient({}),
    ssm: new SSMClient({}),
    logger: new Logger({ serviceName: "tower-dispatch" }),
    // towers.json is written beside the bundle by the infrastructure; read on first use so a missing file fails an invocation, not the import.
    towers: once(() => loadTowers(join(__dirname, "towers.json"))),
    stateTable: process.env.STATE_TABLE,
    alertTopicArn: process.env.ALERT_TOPIC_ARN,
    ssmRelayDocument: process.env[SSM_RELAY_DOCUMENT_ENV] || undefined,
    environment: process.env.ALERTLINE_ENVIRONMENT || undefined,
};

export const handler = createHandler(defaultDeps);
