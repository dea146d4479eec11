import { SSMClient } from "@aws-sdk/client-ssm";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { DEFAULT_SEVERITY_SIGNALS, type ActiveSeverity, type SeveritySignals } from "../../../functions/shared/severity";
import type { SignalIntent } from "../../../functions/shared/signal-intent";
import type { TowerConfig, TowerProtocol } from "../../../functions/shared/tower-config";
import { createHandler, type DispatcherDeps, type DispatcherLogger } from "../../../functions/tower-dispatch/handler";
import type { RelayOptions } from "../../../functions/tower-dispatch/relay";
import { startTowerEmulator, type TowerEmulator } from "../../../tools/local/patlite-emulator";
import type { LocalDynamo } from "../../../tools/local/dynamo";
import { startSnsStub, type SnsStub } from "../../../tools/local/sns";
import { startSqsStub, type SqsStub } from "../../../tools/local/sqs";
import { lambdaContext as sharedLambdaContext } from "../lambda-runtime";
import { expectedSignal } from "../shared/patlite/expected-signal";

export { expectedSignal };

/**
 * Wires the real tower-dispatch handler to real local peers: dynalite (started once per file by
 * the caller), an SNS Query-protocol stub for the alert channel, an SQS stub for the signal queue's
 * dead-letter queue, and one PATLITE emulator per tower.
 */

export interface LogLine {
    readonly level: "info" | "warn" | "error";
    readonly message: string;
    readonly attributes: unknown[];
}

export interface TowerSpec {
    readonly name: string;
    readonly protocol: TowerProtocol;
    readonly site?: string;
    readonly signals?: Partial<SeveritySignals>;
    /** Default vpn. */
    readonly relay?: { kind: "vpn" } | { kind: "ssm"; instanceId: string };
}

export interface Harness {
    readonly sns: SnsStub;
    /** The signal queue's dead-letter queue (nothing consumes it). */
    readonly dlq: SqsStub;
    readonly towers: TowerConfig[];
    readonly emulators: Map<string, TowerEmulator>;
    readonly handler: ReturnType<typeof createHandler>;
    readonly logs: LogLine[];
    /** Every sleep the relay asked for, in ms (none is real). */
    readonly sleeps: number[];
    readonly table: string;
    /** Stops a tower's emulator (it becomes unreachable: connection refused). */
    stopTower(name: string): Promise<void>;
    /** Starts a fresh emulator on the stopped tower's port. */
    restartTower(name: string): Promise<TowerEmulator>;
    close(): Promise<void>;
}

export const HARNESS_NOW = Date.parse("2024-05-21T09:00:00.000Z");

let tables = 0;

export async function startHarness(
    dynamo: LocalDynamo,
    specs: readonly TowerSpec[],
    options: { relayOptions?: RelayOptions; ssm?: SSMClient; ssmRelayDocument?: string; extra?: Partial<DispatcherDeps> } = {},
): Promise<Harness> {
    const table = `tower-state-${++tables}`;
    await dynamo.createTable(table);
    const sns = await startSnsStub();
    const snsClient = sns.client();
    const dlq = await startSqsStub({ queueName: "alertline-dev-signals-dlq.fifo", now: () => HARNESS_NOW });
    const sqsClient = dlq.client();
    const emulators = new Map<string, TowerEmulator>();
    for (const spec of specs) emulators.set(spec.name, await startTowerEmulator({ protocol: spec.protocol, name: spec.name }));
    const towers: TowerConfig[] = specs.map((spec) => ({
        name: spec.name,
        site: spec.site ?? "tokyo",
        host: "127.0.0.1",
        port: emulators.get(spec.name)!.port,
        protocol: spec.protocol,
        signals: { ...DEFAULT_SEVERITY_SIGNALS, ...spec.signals },
        relay: spec.relay ?? { kind: "vpn" },
        allowedSenders: [],
    }));
    const logs: LogLine[] = [];
    const logger: DispatcherLogger = {
        info: (message, ...attributes) => void logs.push({ level: "info", message, attributes }),
        warn: (message, ...attributes) => void logs.push({ level: "warn", message, attributes }),
        error: (message, ...attributes) => void logs.push({ level: "error", message, attributes }),
    };
    const sleeps: number[] = [];
    // Never used by vpn towers; points at a port nothing listens on.
    const ssm = options.ssm ?? new SSMClient({ region: "ap-northeast-1", endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "x" }, maxAttempts: 1 });
    const handler = createHandler({
        dynamo: dynamo.documentClient,
        sns: snsClient,
        sqs: sqsClient,
        deadLetterQueueUrl: dlq.queueUrl,
        ssm,
        logger,
        towers: () => towers,
        stateTable: table,
        alertTopicArn: sns.topicArn,
        ssmRelayDocument: options.ssmRelayDocument,
        environment: "dev",
        now: () => HARNESS_NOW,
        relayOptions: {
            timeoutMs: 100,
            attempts: 3,
            backoffMs: 10,
            pollIntervalMs: 1000,
            sleep: async (ms) => void sleeps.push(ms),
            ...options.relayOptions,
        },
        ...options.extra,
    });
    const stopped = new Map<string, number>();
    return {
        sns,
        dlq,
        towers,
        emulators,
        handler,
        logs,
        sleeps,
        table,
        async stopTower(name) {
            const emulator = emulators.get(name)!;
            stopped.set(name, emulator.port);
            await emulator.close();
        },
        async restartTower(name) {
            const spec = specs.find((s) => s.name === name)!;
            const emulator = await startTowerEmulator({ protocol: spec.protocol, name, port: stopped.get(name) });
            stopped.delete(name);
            emulators.set(name, emulator);
            return emulator;
        },
        async close() {
            snsClient.destroy();
            sqsClient.destroy();
            if (options.ssm === undefined) ssm.destroy();
            await Promise.all([sns.close(), dlq.close(), ...[...emulators].filter(([name]) => !stopped.has(name)).map(([, emulator]) => emulator.close())]);
        },
    };
}

let messages = 0;

/** A signal intent as mail-ingest would send it; each call is a different mail unless messageId is given. */
export function makeIntent(tower: string, alertKey: string, severity: ActiveSeverity | "recovery", overrides: Partial<SignalIntent> = {}): SignalIntent {
    messages++;
    return {
        version: 1,
        tower,
        site: "tokyo",
        alertKey,
        severity,
        messageId: `0100018f9a7c-${String(messages).padStart(8, "0")}-ses`,
        rule: severity === "critical" ? "zabbix-disaster" : null,
        subject: `${severity === "recovery" ? "OK" : "PROBLEM"}: ${alertKey}`,
        from: "zabbix@zabbix.example.jp",
        receivedAt: new Date(HARNESS_NOW - 60_000 + messages).toISOString(),
        ...overrides,
    };
}

let records = 0;

/** An SQS FIFO record carrying `body`; the group is the intent's tower unless given. */
export function sqsRecord(body: SignalIntent | string, group?: string): SQSRecord {
    records++;
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const messageGroupId = group ?? (typeof body === "string" ? "unknown" : body.tower);
    return {
        messageId: `5fea7756-0ea4-451a-a703-${String(records).padStart(12, "0")}`,
        receiptHandle: `AQEB-receipt-${records}`,
        body: text,
        attributes: {
            ApproximateReceiveCount: "1",
            SentTimestamp: String(HARNESS_NOW),
            SenderId: "AROAEXAMPLE:alertline-dev-mail-ingest",
            ApproximateFirstReceiveTimestamp: String(HARNESS_NOW),
            SequenceNumber: String(18_849_496_460_467_696_128n + BigInt(records)),
            MessageGroupId: messageGroupId,
            MessageDeduplicationId: `dedup-${records}`,
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:ap-northeast-1:123456789012:alertline-dev-signals.fifo",
        awsRegion: "ap-northeast-1",
    };
}

export function sqsEvent(items: readonly (SignalIntent | SQSRecord)[]): SQSEvent {
    return { Records: items.map((item) => ("receiptHandle" in item ? item : sqsRecord(item))) };
}

export function lambdaContext(): Context {
    return sharedLambdaContext("alertline-dev-tower-dispatch");
}

