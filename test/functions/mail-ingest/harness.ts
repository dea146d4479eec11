import { GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, SNSEvent, SNSEventRecord } from "aws-lambda";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHandler, type HandlerDeps, type HandlerLogger } from "../../../functions/mail-ingest/handler";
import { mailStateKey, type IngestConfig, type IngestTower } from "../../../functions/mail-ingest/ingest";
import { parseMailRules } from "../../../functions/shared/mail-rules";
import type { OnCallClient, OnCallTarget } from "../../../functions/shared/oncall-alerts";
import type { SignalIntent } from "../../../functions/shared/signal-intent";
import { MAIL_INGEST_TRANSLATION, startStateTable, type LocalStateTable } from "../../../tools/local/dynamo";
import { startS3Stub, type S3Stub } from "../../../tools/local/s3";
import { startSnsStub, type SnsStub } from "../../../tools/local/sns";
import { startSqsStub, type SqsStub } from "../../../tools/local/sqs";

/**
 * mail-ingest's handler wired to real SDK clients and real local peers (dynalite, and HTTP servers
 * speaking S3 REST, SQS JSON and SNS Query): one setup for the handler's tests (ingest, on-call,
 * canary).
 */

export const FIXTURES = join(__dirname, "../../fixtures/mail");
export const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));
export const PROD_RULES = parseMailRules(readFileSync(join(__dirname, "../../../functions/mail-ingest/rules/prod.yaml"), "utf8"), "prod.yaml");
export const BUCKET = "alertline-prod-mail-0a1b2c3d";
/** Towers at two of the offices prod.yaml routes its rules to (`*our-offices`). */
export const TOWERS: IngestTower[] = [
    { name: "tokyo-ops", site: "tokyo-office", allowedSenders: [] },
    { name: "osaka-noc", site: "osaka-office", allowedSenders: ["nagios@*.example.com"] },
];
export const ALLOWED = ["*@zabbix.example.jp", "alert@dtdg.co", "no-reply@sns.amazonaws.com", "*@uptime.example.com", "*@batch.example.jp", "*@legacy.example.jp"];
/** When SES received every fixture mail (the notification fixture's timestamp). */
export const RECEIVED_AT = "2024-05-21T09:45:28.512Z";

export interface LogLine {
    readonly level: string;
    readonly message: string;
    readonly attributes: Record<string, unknown>[];
}

export interface IngestHarness {
    readonly s3: S3Stub;
    readonly sqs: SqsStub;
    readonly sns: SnsStub;
    readonly dynamo: LocalStateTable;
    readonly lines: LogLine[];
    /** Epoch ms the handler sees as now; tests move it forward for Lambda's retries. */
    clock: number;
    /** `metrics`: where the handler writes its metrics (default none). */
    handler(overrides?: Partial<IngestConfig>, onCall?: OnCallClient | readonly OnCallTarget[], metrics?: HandlerDeps["metrics"]): ReturnType<typeof createHandler>;
    /** Stores a mail in the S3 stub and returns the SNS record SES would send for it. */
    deliver(mail: Buffer, messageId: string, opts?: { verdictsFrom?: string }): SNSEventRecord;
    intentsOnQueue(): SignalIntent[];
    summaries(): Record<string, unknown>[];
    stateItem(messageId: string): Promise<Record<string, unknown> | undefined>;
    /** Stops dynalite, so DynamoDB is unreachable from then on; close() leaves it stopped. */
    stopDynamo(): Promise<void>;
    close(): Promise<void>;
}

export function context(remainingMs = 60_000): Context {
    return { getRemainingTimeInMillis: () => remainingMs, awsRequestId: "req-1", functionName: "alertline-prod-mail-ingest" } as unknown as Context;
}

export const event = (...records: SNSEventRecord[]): SNSEvent => ({ Records: records });

/** The record SNS delivers to the function for `message`. */
export function snsRecord(message: string): SNSEventRecord {
    return {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: "arn:aws:sns:ap-northeast-1:123456789012:alertline-prod-mail:sub",
        Sns: {
            Type: "Notification",
            MessageId: "sns-1",
            TopicArn: "arn:aws:sns:ap-northeast-1:123456789012:alertline-prod-mail",
            Subject: "Amazon SES Email Receipt Notification",
            Message: message,
            Timestamp: "2024-05-21T09:45:29.000Z",
            SignatureVersion: "1",
            Signature: "EXAMPLE",
            SigningCertUrl: "https://example.invalid/cert.pem",
            UnsubscribeUrl: "https://example.invalid/unsubscribe",
            MessageAttributes: {},
        },
    };
}

/** The S3-action notification sample for a mail stored under `messageId`. */
export function s3Notification(messageId: string, opts: { verdictsFrom?: string } = {}): string {
    const sample = JSON.parse(readFileSync(join(FIXTURES, opts.verdictsFrom ?? "ses-s3-notification.json"), "utf8"));
    sample.mail.messageId = messageId;
    sample.receipt.action.objectKey = `inbound/${messageId}`;
    return JSON.stringify(sample);
}

export async function startIngestHarness(): Promise<IngestHarness> {
    const [s3, sqs, sns, dynamo] = await Promise.all([startS3Stub(), startSqsStub(), startSnsStub(), startStateTable()]);
    const lines: LogLine[] = [];
    let dynamoRunning = true;
    const logger: HandlerLogger = {
        info: (message, ...attributes) => void lines.push({ level: "info", message, attributes }),
        warn: (message, ...attributes) => void lines.push({ level: "warn", message, attributes }),
        error: (message, ...attributes) => void lines.push({ level: "error", message, attributes }),
    };
    const harness: IngestHarness = {
        s3,
        sqs,
        sns,
        dynamo,
        lines,
        clock: Date.parse("2024-05-21T09:45:30.000Z"),
        handler(overrides = {}, onCall, metrics) {
            const config: IngestConfig = {
                environment: "prod",
                rules: PROD_RULES,
                towers: TOWERS,
                allowedSenders: ALLOWED,
                signalQueueUrl: sqs.queueUrl,
                alertTopicArn: sns.topicArn,
                stateTable: dynamo.table,
                ...overrides,
            };
            return createHandler({
                s3: s3.client(),
                sqs: sqs.client(),
                sns: sns.client(),
                ddb: dynamo.documentClientWith(MAIL_INGEST_TRANSLATION),
                logger,
                now: () => harness.clock,
                config: () => config,
                onCall: () => onCall,
                metrics,
            });
        },
        deliver(mail, messageId, opts = {}) {
            s3.put(BUCKET, `inbound/${messageId}`, mail);
            return snsRecord(s3Notification(messageId, opts));
        },
        intentsOnQueue: () => sqs.queue.map((e) => JSON.parse(e.MessageBody)),
        summaries: () => sns.messages.map((p) => JSON.parse(p.message)),
        async stateItem(messageId) {
            return (await dynamo.documentClient.send(new GetCommand({ TableName: dynamo.table, Key: { pk: mailStateKey(messageId) }, ConsistentRead: true }))).Item;
        },
        async stopDynamo() {
            dynamoRunning = false;
            await dynamo.close();
        },
        close: async () => {
            await Promise.all([s3.close(), sqs.close(), sns.close(), dynamoRunning ? dynamo.close() : undefined]);
        },
    };
    return harness;
}
