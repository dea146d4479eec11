import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from "@aws-sdk/client-sqs";
import { intentDeduplicationId, type SignalIntent } from "./signal-intent";

/**
 * Putting signal intents on tower-dispatch's FIFO queue, for every function that does: message
 * group = tower (one tower's intents apply in order), deduplication = message ID + tower.
 */

/** SendMessageBatch takes at most 10 entries. */
export const SQS_BATCH_MAX = 10;

/** SendMessageBatch entries for the FIFO queue: group = tower, deduplication = message ID + tower. */
export function intentEntries(intents: readonly SignalIntent[]): SendMessageBatchRequestEntry[] {
    return intents.map((intent, index) => ({
        Id: String(index),
        MessageBody: JSON.stringify(intent),
        MessageGroupId: intent.tower,
        MessageDeduplicationId: intentDeduplicationId(intent),
    }));
}

/**
 * Sends the intents, ten per call. Throws when SQS refuses a call or any entry, naming the towers
 * (`what` names the intents in that message, e.g. "recovery intents"), so the caller's sender
 * retries; entries that did go through are then dropped by FIFO deduplication.
 */
export async function sendIntents(sqs: Pick<SQSClient, "send">, queueUrl: string, intents: readonly SignalIntent[], what = "signal intents"): Promise<void> {
    const entries = intentEntries(intents);
    for (let start = 0; start < entries.length; start += SQS_BATCH_MAX) {
        const batch = entries.slice(start, start + SQS_BATCH_MAX);
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }));
        const failed = result.Failed ?? [];
        if (failed.length > 0) {
            const detail = failed.map((f) => `${batch.find((entry) => entry.Id === f.Id)?.MessageGroupId ?? `entry ${f.Id}`}: ${f.Code ?? "?"} ${f.Message ?? ""}`.trim()).join("; ");
            throw new Error(`SQS refused ${failed.length} of ${batch.length} ${what} (${detail})`);
        }
    }
}
