import type { ClearingAction } from "./clearing-actions";
import type { ActiveSeverity } from "./severity";

/** Who cleared an alert from on-call, carried on the recovery intents ack-webhook queues. */
export interface ClearedBy {
    /** The on-call user who acted (the webhook's alert.username). */
    readonly user: string;
    readonly action: ClearingAction;
}

/** Longest user name an intent carries; Opsgenie's `user` field takes 100 characters. */
export const CLEARED_BY_USER_MAX_CHARS = 200;

/**
 * One classified mail for one tower: what mail-ingest puts on the FIFO queue (message group =
 * tower, so a tower's intents are applied in order and by one dispatcher at a time) and what
 * tower-dispatch applies to that tower's set of active alerts.
 */
export interface SignalIntent {
    readonly version: 1;
    /** Tower name, unique in the stack; also the FIFO message group. */
    readonly tower: string;
    /** Site the tower belongs to. */
    readonly site: string;
    /** Correlation key: a problem and its recovery share it. */
    readonly alertKey: string;
    /** `recovery` clears alertKey; the others set it. */
    readonly severity: ActiveSeverity | "recovery";
    /** SES message ID of the mail. */
    readonly messageId: string;
    /** Name of the rule that matched, or null for the default. */
    readonly rule: string | null;
    readonly subject: string;
    readonly from: string;
    /** When SES received the mail (ISO 8601). */
    readonly receivedAt: string;
    /**
     * A recovery from an acknowledgement or close in on-call: who did it, so the tower's note in the
     * alert's thread can say so. Absent on mail's intents and on intents queued before it existed.
     */
    readonly by?: ClearedBy;
}

/** FIFO deduplication ID: the same mail for the same tower is one intent, however often delivered. */
export function intentDeduplicationId(intent: Pick<SignalIntent, "messageId" | "tower">): string {
    return `${intent.messageId}:${intent.tower}`.slice(0, 128);
}
