import type { SQSClient } from "@aws-sdk/client-sqs";
import { sendIntents as sendToQueue } from "../shared/intent-queue";
import { CLEARED_BY_USER_MAX_CHARS, type SignalIntent } from "../shared/signal-intent";
import { truncateChars } from "../shared/truncate";
import type { TowerConfig } from "../shared/tower-config";
import type { ClearEvent } from "./webhook-event";

/**
 * An acknowledged or closed Opsgenie alert becomes one recovery intent per tower it may be lit on,
 * sent to the same FIFO queue as mail-ingest's intents (message group = tower), so tower-dispatch
 * clears it in order with the mail that lit it. A recovery for a key a tower does not hold changes
 * nothing there, which is what makes "every tower" a safe target when the alert names none.
 */

/** Longest subject carried in an intent, as mail-ingest clips them. */
export const SUBJECT_MAX_CHARS = 500;

export interface RecoveryPlan {
    readonly intents: SignalIntent[];
    /** Towers that get a recovery, in towers.json's spelling. */
    readonly towers: string[];
    /** `tower:<name>` tags naming no tower in towers.json. */
    readonly unknownTowers: string[];
}

/**
 * The intent's message ID: one per alert, action and alert update, so Opsgenie's retries of one call
 * are dropped as duplicates (SQS FIFO within 5 minutes, tower-dispatch's recent IDs after that) while
 * a second acknowledgement after an unacknowledge is a new intent.
 */
export function ackMessageId(event: Pick<ClearEvent, "alertId" | "action" | "updatedAt">): string {
    const base = `ack:${event.alertId}:${event.action}`;
    return event.updatedAt === null ? base : `${base}:${event.updatedAt}`;
}

export function ackSubject(event: Pick<ClearEvent, "action" | "user" | "message">): string {
    const subject = `${event.action} by ${event.user}: ${event.message}`;
    return subject.length <= SUBJECT_MAX_CHARS ? subject : `${subject.slice(0, SUBJECT_MAX_CHARS - 1)}…`;
}

/**
 * The tower a tag names: exact name first, else the one tower whose name differs only in case.
 * Unconfirmed: whether Opsgenie keeps the case of tags; a lower-cased tag still finds its tower.
 */
function findTower(name: string, towers: readonly TowerConfig[]): TowerConfig | undefined {
    const exact = towers.find((tower) => tower.name === name);
    if (exact !== undefined) return exact;
    const folded = towers.filter((tower) => tower.name.toLowerCase() === name.toLowerCase());
    return folded.length === 1 ? folded[0] : undefined;
}

/** Which towers get a recovery for the event, and the intents themselves. Pure. */
export function planRecoveries(event: ClearEvent, towers: readonly TowerConfig[], nowMs: number): RecoveryPlan {
    const targets: TowerConfig[] = [];
    const unknownTowers: string[] = [];
    if (event.towers === null) {
        targets.push(...towers);
    } else {
        for (const name of event.towers) {
            const tower = findTower(name, towers);
            if (tower === undefined) unknownTowers.push(name);
            else if (!targets.includes(tower)) targets.push(tower);
        }
    }
    const messageId = ackMessageId(event);
    const subject = ackSubject(event);
    const receivedAt = new Date(nowMs).toISOString();
    const intents = targets.map(
        (tower): SignalIntent => ({
            version: 1,
            tower: tower.name,
            site: tower.site,
            alertKey: event.alias,
            severity: "recovery",
            messageId,
            rule: null,
            subject,
            from: event.user,
            receivedAt,
            by: { user: truncateChars(event.user, CLEARED_BY_USER_MAX_CHARS, "…"), action: event.action },
        }),
    );
    return { intents, towers: targets.map((tower) => tower.name), unknownTowers };
}

/**
 * Sends the recovery intents, ten per call. Throws when SQS refuses a call or any entry, so the
 * webhook answers 5xx and the sender retries; entries that did go through are then dropped by FIFO
 * deduplication on the retry.
 */
export function sendIntents(sqs: Pick<SQSClient, "send">, queueUrl: string, intents: readonly SignalIntent[]): Promise<void> {
    return sendToQueue(sqs, queueUrl, intents, "recovery intents");
}
