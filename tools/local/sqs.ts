import { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { createHash, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { close, listen, LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, readBody } from "./http";

/**
 * A local SQS FIFO queue: a node:http server on 127.0.0.1 speaking SQS's JSON protocol
 * (awsJson1_0, `X-Amz-Target: AmazonSQS.SendMessageBatch` or `AmazonSQS.SendMessage`; the SDK
 * checks the MD5 of each body we return). Like a FIFO queue without content-based deduplication it
 * requires MessageGroupId and MessageDeduplicationId on every entry and drops an entry whose
 * deduplication ID it took in the last 5 minutes. SendMessage also refuses what the SQS API
 * reference says SQS refuses: a group ID that is not 1–128 alphanumeric or punctuation characters,
 * characters outside #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF in the
 * body or a string attribute, and a body plus attributes over 1 MiB.
 *
 * With {@link SqsStub.onMessages} it also plays Lambda's event source mapping (batch size 10,
 * ReportBatchItemFailures): each message group is delivered in order, one batch of that group at a
 * time, as an SQS event; records not named in `batchItemFailures` are deleted, the others come back
 * after the visibility timeout and go to the dead letters after `maxReceiveCount` receives. A
 * consumer that throws fails the whole batch.
 */

export interface SqsEntry {
    readonly Id: string;
    readonly MessageBody: string;
    readonly MessageGroupId?: string;
    readonly MessageDeduplicationId?: string;
    readonly MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
}

/** A message the queue took. */
export interface SqsMessage extends SqsEntry {
    readonly messageId: string;
    readonly sequenceNumber: string;
    readonly sentTimestamp: number;
    receiveCount: number;
    firstReceiveTimestamp?: number;
    /** Epoch ms until which a failed delivery keeps the message (and so its group) invisible. */
    invisibleUntil: number;
}

export interface SqsDeliveryOptions {
    /** Records per event, at most 10 (the dispatcher's event source mapping). Default 10. */
    readonly batchSize?: number;
    /** How long a failed record stays invisible before it is delivered again. Default 1000 ms. */
    readonly visibilityTimeoutMs?: number;
    /** Receives after which a failing record goes to the dead letters. Default 5 (the redrive policy). */
    readonly maxReceiveCount?: number;
    /** Told about a consumer that threw (the whole batch counts as failed). */
    readonly onError?: (error: unknown, records: readonly SQSRecord[]) => void;
    /** Told about a record moved to the dead letters. */
    readonly onDeadLetter?: (message: SqsMessage) => void;
}

export type SqsConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface SqsStub {
    readonly endpoint: string;
    readonly queueUrl: string;
    readonly queueArn: string;
    /** Every SendMessageBatch call, in order. */
    readonly batches: { target: string | undefined; queueUrl: string; entries: SqsEntry[] }[];
    /** Every message the queue took (after deduplication), in order; never emptied. */
    readonly accepted: SqsMessage[];
    /** Messages waiting to be delivered (or failed and waiting to come back), in order. */
    readonly queue: SqsMessage[];
    /** Messages that failed `maxReceiveCount` times. */
    readonly deadLetters: SqsMessage[];
    /** The next `count` calls fail with this error type (HTTP 400, or 500 for InternalFailure). */
    failNext(count: number, errorType: string): void;
    /** Delivers every message group, in order, to the consumer: what is waiting now and all that comes. */
    onMessages(consumer: SqsConsumer, options?: SqsDeliveryOptions): void;
    /** Resolves when no delivery is running (failed records waiting for their visibility timeout do not count). */
    drain(): Promise<void>;
    /** Whether a delivery is running. */
    busy(): boolean;
    client(): SQSClient;
    close(): Promise<void>;
}

/** How long SQS FIFO remembers a deduplication ID. */
export const FIFO_DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;
/** A message and its attributes may be at most this large (SQS API reference, SendMessage: "The maximum size is 1 MiB or 1,048,576 bytes"). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** SendMessageBatch takes at most this many entries, and Lambda's SQS events at most this many records here. */
export const SQS_MAX_BATCH = 10;

export async function startSqsStub(options: { queueName?: string; now?: () => number } = {}): Promise<SqsStub> {
    const queueName = options.queueName ?? "alertline-dev-signals.fifo";
    const now = options.now ?? Date.now;
    const batches: SqsStub["batches"] = [];
    const accepted: SqsMessage[] = [];
    const queue: SqsMessage[] = [];
    const deadLetters: SqsMessage[] = [];
    const seenDedup = new Map<string, number>();
    let sequence = 18_849_496_460_467_696_128n;
    let failures = { count: 0, errorType: "" };
    let consumer: { handle: SqsConsumer; options: SqsDeliveryOptions } | undefined;
    const inFlight = new Map<string, Promise<void>>();
    const timers = new Set<NodeJS.Timeout>();
    let closed = false;

    const server = createServer(async (req, res) => {
        const body = await readBody(req);
        const target = req.headers["x-amz-target"] as string | undefined;
        const reply = (status: number, payload: unknown) => {
            res.writeHead(status, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": randomUUID() });
            res.end(JSON.stringify(payload));
        };
        if (failures.count > 0) {
            failures = { ...failures, count: failures.count - 1 };
            return reply(failures.errorType === "InternalFailure" ? 500 : 400, { __type: `com.amazonaws.sqs#${failures.errorType}`, message: "injected failure" });
        }
        if (target === "AmazonSQS.SendMessage") return sendOne(JSON.parse(body.toString("utf8")), reply);
        if (target !== "AmazonSQS.SendMessageBatch") return reply(400, { __type: "com.amazonaws.sqs#InvalidAction", message: `this local SQS only implements SendMessageBatch and SendMessage, got ${target}` });
        const input = JSON.parse(body.toString("utf8")) as { QueueUrl: string; Entries: SqsEntry[] };
        batches.push({ target, queueUrl: input.QueueUrl, entries: input.Entries });
        if (input.QueueUrl !== queueUrl) return reply(400, { __type: "com.amazonaws.sqs#QueueDoesNotExist", message: `The specified queue does not exist: ${input.QueueUrl} (this one is ${queueUrl})` });
        if (input.Entries.length > SQS_MAX_BATCH) return reply(400, { __type: "com.amazonaws.sqs#TooManyEntriesInBatchRequest", message: "Maximum number of entries per request are 10." });
        const Successful: unknown[] = [];
        const Failed: unknown[] = [];
        const groups = new Set<string>();
        for (const entry of input.Entries) {
            if (!entry.MessageGroupId) {
                Failed.push({ Id: entry.Id, SenderFault: true, Code: "MissingParameter", Message: "The request must contain the parameter MessageGroupId." });
                continue;
            }
            if (!entry.MessageDeduplicationId) {
                Failed.push({ Id: entry.Id, SenderFault: true, Code: "InvalidParameterValue", Message: "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly" });
                continue;
            }
            const at = now();
            const seenAt = seenDedup.get(entry.MessageDeduplicationId);
            const duplicate = seenAt !== undefined && at - seenAt < FIFO_DEDUPLICATION_WINDOW_MS;
            sequence += 1n;
            const message: SqsMessage = { ...entry, messageId: randomUUID(), sequenceNumber: String(sequence), sentTimestamp: at, receiveCount: 0, invisibleUntil: 0 };
            if (!duplicate) {
                seenDedup.set(entry.MessageDeduplicationId, at);
                accepted.push(message);
                queue.push(message);
                groups.add(entry.MessageGroupId);
            }
            Successful.push({ Id: entry.Id, MessageId: message.messageId, MD5OfMessageBody: md5(entry.MessageBody), SequenceNumber: message.sequenceNumber });
        }
        reply(200, { Successful, Failed });
        for (const group of groups) schedule(group);
    });
    /** SendMessage (SQS API reference): one message, the same FIFO rules as a batch entry. */
    function sendOne(input: SqsEntry & { QueueUrl: string }, reply: (status: number, payload: unknown) => void): void {
        const fail = (code: string, message: string) => reply(400, { __type: `com.amazonaws.sqs#${code}`, message });
        batches.push({ target: "AmazonSQS.SendMessage", queueUrl: input.QueueUrl, entries: [{ ...input, Id: "0" }] });
        if (input.QueueUrl !== queueUrl) return fail("QueueDoesNotExist", `The specified queue does not exist: ${input.QueueUrl} (this one is ${queueUrl})`);
        if (typeof input.MessageBody !== "string" || input.MessageBody === "") return fail("MissingParameter", "The request must contain the parameter MessageBody.");
        if (!input.MessageGroupId) return fail("MissingParameter", "The request must contain the parameter MessageGroupId.");
        if (!/^[\x21-\x7e]{1,128}$/.test(input.MessageGroupId)) return fail("InvalidParameterValue", "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.");
        if (!input.MessageDeduplicationId) return fail("InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly");
        const texts = [input.MessageBody, ...Object.values(input.MessageAttributes ?? {}).map((a) => a.StringValue ?? "")];
        if (texts.some((t) => /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(t))) return fail("InvalidMessageContents", "Invalid characters found.");
        const size = Buffer.byteLength(input.MessageBody) + Object.entries(input.MessageAttributes ?? {}).reduce((n, [k, a]) => n + Buffer.byteLength(k) + Buffer.byteLength(a.DataType) + Buffer.byteLength(a.StringValue ?? ""), 0);
        if (size > SQS_MAX_MESSAGE_BYTES) return fail("InvalidParameterValue", `One or more parameters are invalid. Reason: Message must be shorter than ${SQS_MAX_MESSAGE_BYTES} bytes.`);
        const at = now();
        const seenAt = seenDedup.get(input.MessageDeduplicationId);
        sequence += 1n;
        const message: SqsMessage = { Id: "0", MessageBody: input.MessageBody, MessageGroupId: input.MessageGroupId, MessageDeduplicationId: input.MessageDeduplicationId, MessageAttributes: input.MessageAttributes, messageId: randomUUID(), sequenceNumber: String(sequence), sentTimestamp: at, receiveCount: 0, invisibleUntil: 0 };
        if (seenAt === undefined || at - seenAt >= FIFO_DEDUPLICATION_WINDOW_MS) {
            seenDedup.set(input.MessageDeduplicationId, at);
            accepted.push(message);
            queue.push(message);
            schedule(input.MessageGroupId);
        }
        reply(200, { MessageId: message.messageId, MD5OfMessageBody: md5(input.MessageBody), SequenceNumber: message.sequenceNumber });
    }

    const endpoint = await listen(server);
    const queueUrl = `${endpoint}/${LOCAL_ACCOUNT}/${queueName}`;
    const queueArn = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${queueName}`;

    const record = (message: SqsMessage): SQSRecord => ({
        messageId: message.messageId,
        receiptHandle: `AQEB${randomUUID().replace(/-/g, "")}`,
        body: message.MessageBody,
        attributes: {
            ApproximateReceiveCount: String(message.receiveCount),
            SentTimestamp: String(message.sentTimestamp),
            SenderId: "AROALOCALPIPELINE:mail-ingest",
            ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
            SequenceNumber: message.sequenceNumber,
            MessageGroupId: message.MessageGroupId,
            MessageDeduplicationId: message.MessageDeduplicationId,
        },
        messageAttributes: {},
        md5OfBody: md5(message.MessageBody),
        eventSource: "aws:sqs",
        eventSourceARN: queueArn,
        awsRegion: LOCAL_REGION,
    });

    const remove = (message: SqsMessage) => {
        const index = queue.indexOf(message);
        if (index >= 0) queue.splice(index, 1);
    };

    /** Delivers one group's waiting messages, batch after batch, until it is empty or its head is invisible. */
    async function pump(group: string, target: { handle: SqsConsumer; options: SqsDeliveryOptions }): Promise<void> {
        const batchSize = Math.min(target.options.batchSize ?? SQS_MAX_BATCH, SQS_MAX_BATCH);
        while (!closed) {
            const waiting = queue.filter((m) => m.MessageGroupId === group);
            if (waiting.length === 0) return;
            const wait = waiting[0].invisibleUntil - now();
            if (wait > 0) {
                // FIFO: nothing behind a failed message of the group is delivered before it.
                const timer = setTimeout(() => {
                    timers.delete(timer);
                    schedule(group);
                }, wait);
                timer.unref();
                timers.add(timer);
                return;
            }
            const batch = waiting.slice(0, batchSize);
            const at = now();
            for (const message of batch) {
                message.receiveCount += 1;
                message.firstReceiveTimestamp ??= at;
            }
            const records = batch.map(record);
            let failed: Set<string>;
            try {
                const response = await target.handle({ Records: records });
                failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
            } catch (error) {
                target.options.onError?.(error, records);
                failed = new Set(batch.map((m) => m.messageId));
            }
            for (const message of batch) {
                if (!failed.has(message.messageId)) {
                    remove(message);
                } else if (message.receiveCount >= (target.options.maxReceiveCount ?? 5)) {
                    remove(message);
                    deadLetters.push(message);
                    target.options.onDeadLetter?.(message);
                } else {
                    message.invisibleUntil = now() + (target.options.visibilityTimeoutMs ?? 1000);
                }
            }
        }
    }

    function schedule(group: string): void {
        if (consumer === undefined || closed || inFlight.has(group)) return;
        const run = pump(group, consumer).finally(() => {
            inFlight.delete(group);
            // Messages that arrived while the last batch ran.
            if (queue.some((m) => m.MessageGroupId === group && m.invisibleUntil <= now())) schedule(group);
        });
        inFlight.set(group, run);
    }

    return {
        endpoint,
        queueUrl,
        queueArn,
        batches,
        accepted,
        queue,
        deadLetters,
        failNext: (count, errorType) => {
            failures = { count, errorType };
        },
        onMessages(handle, deliveryOptions = {}) {
            consumer = { handle, options: deliveryOptions };
            for (const group of new Set(queue.map((m) => m.MessageGroupId ?? ""))) schedule(group);
        },
        async drain() {
            while (inFlight.size > 0) await Promise.all([...inFlight.values()]);
        },
        busy: () => inFlight.size > 0,
        client: () => new SQSClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 }),
        async close() {
            closed = true;
            for (const timer of timers) clearTimeout(timer);
            await Promise.all([...inFlight.values()]);
            await close(server);
        },
    };
}

function md5(text: string): string {
    return createHash("md5").update(text, "utf8").digest("hex");
}
