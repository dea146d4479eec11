import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { TowerConfig } from "../shared/tower-config";
import { boundedJson } from "../shared/bounded-json";
import { createTowerLocks, deadLetterInput, dispatchBatch, type ChannelMessage, type DispatchLogger } from "./dispatch";
import { isScheduledEvent, probeRelayOptions, probeTowers, type ProbeOptions, type ProbeSummary } from "./probe";
import { createRelay, createStatusReader, SSM_RELAY_DOCUMENT_ENV, type RelayOptions } from "./relay";
import { createStateStore } from "./state-store";
import { countingRelay, TOWER_METRIC_NAMESPACE, writeReachability } from "./tower-metrics";
import { createMetricSink, NO_METRICS, type MetricSink } from "../shared/path-metrics";
import { DEFAULT_STATE_LIMITS, type StateLimits } from "./tower-state";
import { loadTowers } from "../shared/towers";
import { once } from "../shared/once";
import { threadNotesOn, type ThreadNote } from "../shared/thread-note";

/**
 * tower-dispatch: consumes signal intents from the FIFO queue and drives the PATLITE towers. This
 * file only wires clients and configuration to {@link dispatchBatch} and returns SQS's partial batch
 * response; the event source mapping must enable ReportBatchItemFailures.
 *
 * The same function takes the EventBridge schedule's event: then it probes every tower
 * ({@link probeTowers}), writes the `alertline/Towers` `TowerReachable` metric (EMF) and returns a summary.
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
    /** Sends intents that cannot be applied to the signal queue's dead-letter queue (env SIGNAL_DLQ_URL). */
    readonly sqs: Pick<SQSClient, "send">;
    /** Run Command for towers with `relay: ssm`. */
    readonly ssm: SSMClient;
    /** The towers' metrics (EMF on stdout): TowerReachable from the probe, TowerCommands per command sent. Default none. */
    readonly metrics?: MetricSink;
    readonly logger: DispatcherLogger;
    /** The towers (towers.json), loaded once per container on first use. */
    readonly towers: () => readonly TowerConfig[];
    /** env STATE_TABLE. */
    readonly stateTable: string | undefined;
    /** env ALERT_TOPIC_ARN. */
    readonly alertTopicArn: string | undefined;
    /** env SIGNAL_DLQ_URL: the signal queue's dead-letter queue. */
    readonly deadLetterQueueUrl: string | undefined;
    /** env SSM_RELAY_DOCUMENT; needed only when some tower uses `relay: ssm`. */
    readonly ssmRelayDocument?: string;
    /** env ALERTLINE_ENVIRONMENT, shown in channel messages. */
    readonly environment?: string;
    readonly now?: () => number;
    /** Timeouts, attempts, backoff and SSM polling; `sleep` is injected here too. */
    readonly relayOptions?: RelayOptions;
    readonly limits?: StateLimits;
    /** The scheduled probe's timeout and concurrency. */
    readonly probeOptions?: ProbeOptions;
    /** Milliseconds for the probe's latencies; default `performance.now`. */
    readonly clock?: () => number;
    /** env ALERTLINE_THREAD_NOTES=on (Slack's app mode): note each change of what a tower shows on the alert topic. Default off. */
    readonly threadNotes?: boolean;
}

/** The function's entry point: SQS batches and the probe's schedule, told apart by the event's shape. */
export interface DispatcherHandler {
    (event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
    (event: ScheduledEvent, context: Context): Promise<ProbeSummary>;
    (event: SQSEvent | ScheduledEvent, context: Context): Promise<SQSBatchResponse | ProbeSummary>;
}

function required(value: string | undefined, name: string, fix: string): string {
    if (value === undefined || value.trim() === "") throw new Error(`${name} is not set: ${fix}`);
    return value;
}

/**
 * The handler. For SQS: configuration errors (missing environment, bad towers.json) throw, failing
 * the whole batch so nothing is consumed; everything else is reported per record in
 * batchItemFailures. For the schedule: configuration errors and a metric that cannot be written throw (the
 * invocation fails and shows in the function's Errors metric); an unreachable tower does not.
 */
export function createHandler(deps: DispatcherDeps): DispatcherHandler {
    const now = deps.now ?? Date.now;
    const locks = createTowerLocks();
    const metrics = deps.metrics ?? NO_METRICS;
    const towerMap = once(() => new Map(deps.towers().map((tower) => [tower.name, tower] as const)));
    const relay = countingRelay(createRelay({ ssm: deps.ssm, ssmDocument: deps.ssmRelayDocument, options: deps.relayOptions, logger: deps.logger }), metrics);
    const readStatus = createStatusReader({ ssm: deps.ssm, ssmDocument: deps.ssmRelayDocument, options: probeRelayOptions(deps.relayOptions, deps.probeOptions), logger: deps.logger });

    const probe = async (): Promise<ProbeSummary> => {
        const table = required(deps.stateTable, "STATE_TABLE", "set it to the name of the alertline state table (the infrastructure sets it)");
        required(deps.environment, "ALERTLINE_ENVIRONMENT", "set it to the stack's environment (the infrastructure sets it); the probe's metric is kept per Environment");
        const run = await probeTowers([...towerMap().values()], {
            read: readStatus,
            restore: { store: createStateStore(deps.dynamo, table, now), relay },
            logger: deps.logger,
            clock: deps.clock,
            concurrency: deps.probeOptions?.concurrency,
            locks,
        });
        try {
            writeReachability(metrics, run.probes);
        } catch (error) {
            deps.logger.error("Could not write the probe's metric; the towers' reachability alarms will see no data", { namespace: TOWER_METRIC_NAMESPACE, error: String(error) });
            throw error;
        }
        deps.logger.info("Probe finished", { ...run.summary });
        return run.summary;
    };

    const handle = async (event: SQSEvent | ScheduledEvent, context: Context): Promise<SQSBatchResponse | ProbeSummary> => {
        deps.logger.addContext?.(context);
        if (isScheduledEvent(event)) return probe();
        const table = required(deps.stateTable, "STATE_TABLE", "set it to the name of the alertline state table (the infrastructure sets it)");
        const topicArn = required(deps.alertTopicArn, "ALERT_TOPIC_ARN", "set it to the ARN of the alert channel's SNS topic (the infrastructure sets it)");
        const deadLetterQueueUrl = required(deps.deadLetterQueueUrl, "SIGNAL_DLQ_URL", "set it to the URL of the signal queue's dead-letter queue (the infrastructure sets it); intents that cannot be applied are moved there");
        const records = Array.isArray((event as SQSEvent)?.Records) ? (event as SQSEvent).Records : [];
        if (records.length === 0) {
            deps.logger.warn("The event held no SQS records; nothing to dispatch");
            return { batchItemFailures: [] };
        }
        const outcome = await dispatchBatch(records, {
            towers: towerMap(),
            store: createStateStore(deps.dynamo, table, now),
            relay,
            publish: async (message: ChannelMessage) => {
                await deps.sns.send(new PublishCommand({ TopicArn: topicArn, Message: boundedJson(message) }));
            },
            ...(deps.threadNotes === true
                ? {
                      note: async (note: ThreadNote) => {
                          await deps.sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(note) }));
                      },
                  }
                : {}),
            deadLetter: async (letter) => {
                await deps.sqs.send(new SendMessageCommand(deadLetterInput(letter, deadLetterQueueUrl)));
            },
            logger: deps.logger,
            environment: deps.environment,
            now,
            limits: deps.limits ?? DEFAULT_STATE_LIMITS,
            locks,
        });
        return { batchItemFailures: outcome.batchItemFailures };
    };
    return handle as DispatcherHandler;
}

const defaultLogger = new Logger({ serviceName: "tower-dispatch" });
const defaultDeps: DispatcherDeps = {
    // One client each per container, reused by every invocation; region and credentials come from Lambda's environment.
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    sns: new SNSClient({}),
    sqs: new SQSClient({}),
    ssm: new SSMClient({}),
    logger: defaultLogger,
    metrics: createMetricSink({ environment: process.env.ALERTLINE_ENVIRONMENT || undefined, serviceName: "tower-dispatch", logger: defaultLogger }),
    // towers.json is written beside the bundle by the infrastructure; read on first use so a missing file fails an invocation, not the import.
    towers: once(() => loadTowers(join(__dirname, "towers.json"))),
    stateTable: process.env.STATE_TABLE,
    alertTopicArn: process.env.ALERT_TOPIC_ARN,
    deadLetterQueueUrl: process.env.SIGNAL_DLQ_URL,
    ssmRelayDocument: process.env[SSM_RELAY_DOCUMENT_ENV] || undefined,
    environment: process.env.ALERTLINE_ENVIRONMENT || undefined,
    threadNotes: threadNotesOn(process.env),
};

export const handler = createHandler(defaultDeps);
