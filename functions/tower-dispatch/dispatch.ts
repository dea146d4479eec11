import { createHash } from "node:crypto";
import type { SendMessageCommandInput } from "@aws-sdk/client-sqs";
import type { SQSBatchItemFailure, SQSBatchResponse, SQSRecord } from "aws-lambda";
import { describeSignal, type TowerSignal } from "../shared/patlite/signal";
import { CLEARING_ACTIONS, type ClearingAction } from "../shared/clearing-actions";
import { CLEARED_BY_USER_MAX_CHARS, type ClearedBy, type SignalIntent } from "../shared/signal-intent";
import type { ThreadNote } from "../shared/thread-note";
import { towerChangeNote } from "./tower-note";
import type { TowerConfig } from "../shared/tower-config";
import type { Relay, RelayResult } from "./relay";
import { truncateBytes, truncateChars } from "../shared/truncate";
import { CorruptStateError, StateConflictError, type TowerStateStore } from "./state-store";
import { applyIntents, boundActive, DEFAULT_STATE_LIMITS, desiredSignal, needsSend, recordSend, type StateLimits, type TowerState } from "./tower-state";

/**
 * One SQS batch from the FIFO queue (message group = tower, so a tower's intents arrive in order and
 * only one batch per tower is in flight). Per tower: load its state, apply all its intents, and send
 * at most one command, only if what the tower should show changed; a storm of thousands of mails
 * collapses into one command per batch at most, and usually none. Then save.
 *
 * Outcomes, mapped to SQS partial batch responses:
 * - an intent the dispatcher cannot apply (a malformed body, a tower not in towers.json, or an
 *   intent whose state DynamoDB refuses or the SDK cannot serialise, see {@link cannotApply}): sent
 *   to the dead-letter queue with the reason, reported once to the alert channel, and consumed, so
 *   the intents behind it in the tower's message group go on (retrying cannot fix it);
 * - a tower that stays unreachable after the relay's retries: state saved as "last send failed",
 *   reported once per outage, records consumed (an unreachable tower must not block its queue; the
 *   next intent for it retries the send);
 * - a DynamoDB or SNS error: that tower's records fail, and with them every later record of the same
 *   message group, as FIFO ordering requires.
 */

export interface DispatchLogger {
    info(message: string, ...attributes: unknown[]): void;
    warn(message: string, ...attributes: unknown[]): void;
    error(message: string, ...attributes: unknown[]): void;
}

/** JSON for the alert channel; slack-notifier reads `title`, `state`, `reason` and shows the rest as fields. */
export interface ChannelMessage {
    readonly title: string;
    readonly state: "ALARM" | "OK" | "WARN";
    readonly reason: string;
    readonly [field: string]: unknown;
}

/** Serialises work per tower inside one process, so two invocations sharing it never talk to one tower at once. */
export interface TowerLocks {
    run<T>(tower: string, work: () => Promise<T>): Promise<T>;
}

export function createTowerLocks(): TowerLocks {
    const tails = new Map<string, Promise<void>>();
    return {
        run(tower, work) {
            const previous = tails.get(tower) ?? Promise.resolve();
            const result = previous.then(work);
            const tail = result.then(
                () => undefined,
                () => undefined,
            );
            tails.set(tower, tail);
            void tail.then(() => {
                if (tails.get(tower) === tail) tails.delete(tower);
            });
            return result;
        },
    };
}

export interface DispatchContext {
    readonly towers: ReadonlyMap<string, TowerConfig>;
    readonly store: TowerStateStore;
    readonly relay: Relay;
    /** Publishes to the alert topic; a rejection fails the records concerned, so they are retried. */
    readonly publish: (message: ChannelMessage) => Promise<void>;
    readonly logger: DispatchLogger;
    readonly environment?: string;
    readonly now: () => number;
    readonly limits?: StateLimits;
    readonly locks?: TowerLocks;
    /**
     * Puts a record the dispatcher cannot apply on the signal queue's dead-letter queue, with the
     * reason; a rejection leaves the record (and the rest of its message group) to be retried.
     */
    readonly deadLetter: (letter: DeadLetter) => Promise<void>;
    /**
     * Slack's app mode: publishes a thread note when applying intents changed what a tower shows
     * ({@link towerChangeNote}). Best effort: a rejection is logged, the records are not failed. Default none.
     */
    readonly note?: (note: ThreadNote) => Promise<void>;
}

/** A record set aside: its body unchanged (so it can be redriven once the cause is fixed) and why. */
export interface DeadLetter {
    /** The SQS message ID of the record (its deduplication ID in the dead-letter queue). */
    readonly messageId: string;
    /** The record's FIFO message group. */
    readonly group: string;
    readonly body: string;
    readonly reason: string;
    /** The tower the intent named, when it could be read. */
    readonly tower?: string;
}

/** How often a tower's load–apply–send–save is restarted when another writer changed the item in between. */
export const CONFLICT_ATTEMPTS = 3;
/** How much of a bad body a report quotes. */
const BODY_EXCERPT = 300;
/** How much of a problem (which may quote mail-derived text) a report or a dead letter carries. */
const PROBLEM_MAX_CHARS = 1000;
/**
 * Longest messageId an intent may carry. SES message IDs are about 60 characters; each applied ID
 * is kept in the tower's state item (duplicate suppression), whose 400 KB DynamoDB limit a few
 * huge IDs would break.
 */
export const MAX_MESSAGE_ID_LENGTH = 256;

// ---------------------------------------------------------------------------------------------
// Parsing

export type ParsedIntent = { readonly ok: true; readonly intent: SignalIntent; readonly notes: string[] } | { readonly ok: false; readonly problem: string };

const INTENT_SEVERITIES = ["critical", "warning", "info", "recovery"];

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmpty(value: unknown): value is string {
    return typeof value === "string" && value.trim() !== "";
}

/**
 * Reads one message body. Fields that decide what the tower shows (version, tower, alertKey,
 * severity, messageId) must be right or the intent is rejected with the reason; display fields that
 * are missing get defaults, and an unreadable receivedAt becomes the processing time, so a sloppy
 * sender loses no alert.
 */
export function parseIntent(body: string, nowMs: number): ParsedIntent {
    let json: unknown;
    try {
        json = JSON.parse(body);
    } catch (error) {
        return { ok: false, problem: `the body is not JSON (${(error as Error).message}); mail-ingest sends SignalIntent JSON` };
    }
    if (!isObject(json)) return { ok: false, problem: "the body is not a JSON object; mail-ingest sends SignalIntent JSON" };
    if (json.version !== 1) return { ok: false, problem: `version is ${JSON.stringify(json.version)}; this dispatcher reads SignalIntent version 1 (deploy mail-ingest and tower-dispatch together)` };
    const missing = (["tower", "alertKey", "messageId"] as const).filter((field) => !nonEmpty(json[field]));
    if (missing.length > 0) return { ok: false, problem: missing.length === 1 ? `${missing[0]} must be a non-empty string` : `${missing.join(", ")} must be non-empty strings` };
    if (typeof json.severity !== "string" || !INTENT_SEVERITIES.includes(json.severity)) {
        return { ok: false, problem: `severity is ${truncateChars(JSON.stringify(json.severity) ?? "undefined", 100)}; a signal intent carries one of ${INTENT_SEVERITIES.join(", ")}` };
    }
    if ((json.messageId as string).length > MAX_MESSAGE_ID_LENGTH) {
        return { ok: false, problem: `messageId is ${(json.messageId as string).length} characters long, over ${MAX_MESSAGE_ID_LENGTH}; mail-ingest sends the SES message ID` };
    }
    const notes: string[] = [];
    let receivedAt = typeof json.receivedAt === "string" ? json.receivedAt : "";
    if (Number.isNaN(Date.parse(receivedAt))) {
        notes.push(`receivedAt ${JSON.stringify(json.receivedAt)} is not a date; used the processing time`);
        receivedAt = new Date(nowMs).toISOString();
    }
    return {
        ok: true,
        notes,
        intent: {
            version: 1,
            tower: json.tower as string,
            site: typeof json.site === "string" ? json.site : "",
            alertKey: json.alertKey as string,
            severity: json.severity as SignalIntent["severity"],
            messageId: json.messageId as string,
            rule: typeof json.rule === "string" ? json.rule : null,
            subject: typeof json.subject === "string" ? json.subject : "",
            from: typeof json.from === "string" ? json.from : "",
            receivedAt,
            ...clearedBy(json.by),
        },
    };
}

/** `by` of a recovery ack-webhook queued, when well-formed; intents without it (mail's, older ones) have none. */
function clearedBy(value: unknown): { by?: ClearedBy } {
    if (!isObject(value) || !nonEmpty(value.user) || !(CLEARING_ACTIONS as readonly unknown[]).includes(value.action)) return {};
    return { by: { user: truncateChars(value.user, CLEARED_BY_USER_MAX_CHARS, "…"), action: value.action as ClearingAction } };
}

// ---------------------------------------------------------------------------------------------
// Partial batch responses

/** The FIFO message group of a record, falling back to the intent's tower (the group by contract) or the record itself. */
function groupOf(record: SQSRecord, tower: string | undefined): string {
    const group = record.attributes?.MessageGroupId;
    if (typeof group === "string" && group !== "") return group;
    return tower !== undefined ? `tower:${tower}` : `record:${record.messageId}`;
}

/**
 * The batchItemFailures for FIFO: once a record of a message group fails, it and every later record
 * of the same group are reported, so SQS redelivers them in order instead of letting a later intent
 * overtake an earlier one.
 */
export function fifoBatchItemFailures(records: readonly { readonly messageId: string; readonly group: string }[], failed: ReadonlySet<number>): SQSBatchItemFailure[] {
    const brokenGroups = new Set<string>();
    const failures: SQSBatchItemFailure[] = [];
    records.forEach((record, index) => {
        if (failed.has(index)) brokenGroups.add(record.group);
        if (brokenGroups.has(record.group)) failures.push({ itemIdentifier: record.messageId });
    });
    return failures;
}

// ---------------------------------------------------------------------------------------------
// Channel messages (pure)

function relayText(tower: TowerConfig): string {
    return tower.relay.kind === "ssm" ? `ssm via ${tower.relay.instanceId}` : "vpn";
}

/** "PATLITE tower unreachable": sent once when an outage starts. */
export function unreachableMessage(tower: TowerConfig, wanted: TowerSignal, result: RelayResult, environment: string | undefined): ChannelMessage {
    // No attempt at all means the command could not be built (a signal the protocol cannot show, a
    // relay without its document): a configuration fault, reported through the same once-per-outage path.
    const reason =
        result.attempts === 0
            ? `The signal "${describeSignal(wanted)}" was not sent: ${result.error ?? "unknown error"}. Fix the site's configuration and deploy; the next alert for the tower retries.`
            : `${result.attempts} attempt${result.attempts === 1 ? "" : "s"} to show "${describeSignal(wanted)}" failed: ${result.error ?? "no acknowledgement"}. ` +
              "The tower may be showing an older state. The next alert for it retries; check the tower's power and network" +
              (tower.relay.kind === "vpn" ? " and the site's VPN tunnels." : " and the relay host's SSM agent.");
    return {
        title: `PATLITE tower unreachable: ${tower.name}`,
        state: "ALARM",
        reason,
        ...(environment ? { environment } : {}),
        site: tower.site,
        tower: tower.name,
        address: `${tower.host}:${tower.port}`,
        relay: relayText(tower),
        attempts: result.attempts,
        error: result.error ?? "no acknowledgement",
        wanted: describeSignal(wanted),
    };
}

/** "PATLITE tower reachable again": sent once when a send succeeds after a reported outage. */
export function reachableAgainMessage(tower: TowerConfig, shown: TowerSignal, unreachableSince: string, result: RelayResult, environment: string | undefined): ChannelMessage {
    return {
        title: `PATLITE tower reachable again: ${tower.name}`,
        state: "OK",
        reason: `The tower acknowledged "${describeSignal(shown)}" after ${result.attempts} attempt${result.attempts === 1 ? "" : "s"}; it was unreachable since ${unreachableSince}.`,
        ...(environment ? { environment } : {}),
        site: tower.site,
        tower: tower.name,
        address: `${tower.host}:${tower.port}`,
        relay: relayText(tower),
        unreachableSince,
        showing: describeSignal(shown),
    };
}

export interface SkippedRecord {
    readonly messageId: string;
    readonly problem: string;
    readonly body: string;
    /** The tower the intent named, when it could be read. */
    readonly tower?: string;
}

function excerpt(text: string): string {
    return truncateChars(text, BODY_EXCERPT, "…");
}

/** One report per batch for the records that could not be applied, each now in the dead-letter queue. */
export function skippedMessage(skipped: readonly SkippedRecord[], environment: string | undefined): ChannelMessage {
    return {
        title: `tower-dispatch skipped ${skipped.length} signal intent${skipped.length === 1 ? "" : "s"}`,
        state: "WARN",
        reason:
            "These queue messages lit no tower: each says why. They were moved to the signal queue's dead-letter queue (its own record each, with the reason), " +
            "and the intents behind them went on. Fix the sender (mail-ingest, rules towers list) or towers.json, then redrive the dead letters if they still matter.",
        ...(environment ? { environment } : {}),
        skipped: skipped.map((s) => ({ messageId: s.messageId, ...(s.tower === undefined ? {} : { tower: truncateChars(s.tower, 200) }), problem: truncateChars(s.problem, PROBLEM_MAX_CHARS), body: excerpt(s.body) })),
    };
}

/** Bytes of the reason a dead letter carries as a message attribute (attributes count toward SQS's message size). */
const DEAD_LETTER_REASON_BYTES = 1024;

/** Characters SQS accepts in a body or a string attribute (SQS API reference, SendMessage); others become U+FFFD. */
function sqsText(text: string): string {
    return text.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD");
}

/** A FIFO group or deduplication ID: 1–128 printable ASCII characters, else a SHA-256 of the value. */
function fifoId(value: string): string {
    return /^[\x21-\x7e]{1,128}$/.test(value) ? value : createHash("sha256").update(value, "utf8").digest("hex");
}

/**
 * The SendMessage input for a dead letter (pure): the original body, so the record can be redriven
 * once the cause is fixed; the record's message group (the dead-letter queue of a FIFO queue is
 * FIFO); its SQS message ID as deduplication ID, so a retried send within SQS's five-minute window
 * adds no second record; the reason and the tower as message attributes.
 */
export function deadLetterInput(letter: DeadLetter, queueUrl: string): SendMessageCommandInput {
    return {
        QueueUrl: queueUrl,
        MessageBody: letter.body === "" ? "(the record had no body)" : letter.body,
        MessageGroupId: fifoId(letter.group),
        MessageDeduplicationId: fifoId(letter.messageId),
        MessageAttributes: {
            reason: { DataType: "String", StringValue: truncateBytes(sqsText(letter.reason), DEAD_LETTER_REASON_BYTES) },
            sourceMessageId: { DataType: "String", StringValue: truncateChars(sqsText(letter.messageId), 256) },
            ...(letter.tower === undefined || letter.tower === "" ? {} : { tower: { DataType: "String", StringValue: truncateChars(sqsText(letter.tower), 256) } }),
        },
    };
}

/**
 * Whether an error is one the same intent would meet on every retry, so retrying it would only
 * hold back the intents behind it: DynamoDB refusing the item's content (ValidationException, e.g.
 * an item over 400 KB; SerializationException), or the SDK's marshaller refusing a value before
 * anything is sent (@aws-sdk/util-dynamodb: "Unsupported type passed", "Pass
 * options.removeUndefinedValues=true", out-of-range numbers). Not a lost race, not an unreadable
 * stored item (that is the tower's, not the intent's), not network trouble or throttling.
 */
export function cannotApply(error: unknown): boolean {
    if (error instanceof StateConflictError || error instanceof CorruptStateError) return false;
    if (typeof error !== "object" || error === null) return false;
    const { name, message, $fault, $metadata } = error as { name?: unknown; message?: unknown; $fault?: unknown; $metadata?: unknown };
    if ($metadata !== undefined && $fault === "client" && (name === "ValidationException" || name === "SerializationException")) return true;
    return typeof message === "string" && /^(Unsupported type passed|Pass options\.removeUndefinedValues=true|Number .* is (greater|lesser) than Number\.MAX_SAFE_INTEGER)/.test(message);
}

function errorText(error: unknown): string {
    const err = error as Error | undefined;
    return truncateChars(`${err?.name ?? "Error"}: ${err?.message ?? String(error)}`, PROBLEM_MAX_CHARS);
}

// ---------------------------------------------------------------------------------------------
// One tower

export interface TowerOutcome {
    readonly tower: string;
    readonly intents: number;
    readonly desired: TowerSignal;
    /** The relay result when a command was sent, else undefined (nothing changed). */
    readonly send?: RelayResult;
    readonly version: number;
}

/** The state as comparable JSON (a Map would stringify as `{}`). */
function stateJson(state: TowerState): string {
    return JSON.stringify({ ...state, active: [...state.active] });
}

function sameState(a: TowerState, b: TowerState): boolean {
    return stateJson(a) === stateJson(b);
}

/**
 * Load, apply, send at most one command, save, for one tower. Throws on DynamoDB or SNS errors, and
 * with {@link StateConflictError} when another writer keeps winning.
 */
export async function processTower(tower: TowerConfig, intents: readonly SignalIntent[], ctx: DispatchContext, options: { readonly forceSend?: boolean } = {}): Promise<TowerOutcome> {
    const limits = ctx.limits ?? DEFAULT_STATE_LIMITS;
    // Set when a save lost a race after a command went out (or the caller knows a command went out
    // whose state was never saved): what the tower shows is then unknown, so this sends whatever it computes.
    let forceSend = options.forceSend ?? false;
    for (let round = 1; ; round++) {
        const { state: stored, version } = await ctx.store.load(tower.name);
        const bounded = boundActive(applyIntents(stored, intents, limits), ctx.now(), limits);
        if (bounded.expired.length > 0 || bounded.evicted.length > 0) {
            ctx.logger.warn("Dropped alerts from the tower's active set", { tower: tower.name, expired: bounded.expired, evicted: bounded.evicted, maxAgeMs: limits.maxAgeMs, maxActive: limits.maxActive });
        }
        let next = bounded.state;
        const desired = desiredSignal(next, tower);
        let send: RelayResult | undefined;
        if (forceSend || needsSend(next, desired)) {
            send = await ctx.relay(tower, desired);
            next = recordSend(next, desired, send.ack);
            const at = new Date(ctx.now()).toISOString();
            if (!send.ack) {
                if (next.unreachable === null) {
                    // Publish before saving: if the save fails the report may repeat, but it is never lost.
                    await ctx.publish(unreachableMessage(tower, desired, send, ctx.environment));
                    next = { ...next, unreachable: { since: at, error: send.error ?? "no acknowledgement" } };
                    ctx.logger.error("Tower unreachable after every retry; reported to the alert channel", { tower: tower.name, attempts: send.attempts, error: send.error, wanted: describeSignal(desired) });
                } else {
                    next = { ...next, unreachable: { ...next.unreachable, error: send.error ?? "no acknowledgement" } };
                    ctx.logger.warn("Tower still unreachable; already reported", { tower: tower.name, since: next.unreachable?.since, attempts: send.attempts, error: send.error });
                }
            } else {
                if (next.unreachable !== null) {
                    await ctx.publish(reachableAgainMessage(tower, desired, next.unreachable.since, send, ctx.environment));
                    next = { ...next, unreachable: null };
                }
                ctx.logger.info("Tower acknowledged its new signal", { tower: tower.name, signal: describeSignal(desired), attempts: send.attempts, sent: send.sent });
            }
        }
        if (send === undefined && sameState(next, stored)) return { tower: tower.name, intents: intents.length, desired, version };
        try {
            const saved = await ctx.store.save(tower.name, next, version);
            if (send?.ack === true) await noteChange(tower, stored, intents, bounded.state, desired, ctx, limits);
            return { tower: tower.name, intents: intents.length, desired, send, version: saved };
        } catch (error) {
            if (!(error instanceof StateConflictError) || round >= CONFLICT_ATTEMPTS) throw error;
            forceSend ||= send !== undefined;
            ctx.logger.warn("Another writer changed the tower's state; starting again from the stored state", { tower: tower.name, round, expectedVersion: version });
        }
    }
}

/**
 * After a saved change the tower acknowledged: the note for the alert's thread, if the context wants
 * notes and an intent caused the change. Published once per saved change, never per repeated intent;
 * a failure costs only the note.
 */
async function noteChange(tower: TowerConfig, stored: TowerState, intents: readonly SignalIntent[], applied: TowerState, shown: TowerSignal, ctx: DispatchContext, limits: StateLimits): Promise<void> {
    if (ctx.note === undefined) return;
    const note = towerChangeNote(tower, stored, intents, applied, shown, ctx.environment, limits);
    if (note === undefined) return;
    try {
        await ctx.note(note);
    } catch (error) {
        ctx.logger.warn("Could not post the tower's change to the alert's thread; the tower shows it all the same", { tower: tower.name, alertKey: truncateChars(note.alertKey, 200), error: errorText(error) });
    }
}

// ---------------------------------------------------------------------------------------------
// The batch

interface Entry {
    readonly record: SQSRecord;
    readonly index: number;
    readonly messageId: string;
    readonly group: string;
    readonly parsed: ParsedIntent;
}

export interface BatchOutcome extends SQSBatchResponse {
    readonly towers: TowerOutcome[];
    readonly skipped: SkippedRecord[];
}

/**
 * Applies one tower's intents. All together first (one load, at most one command, one save); if
 * that fails in a way one of them causes ({@link cannotApply}), one by one in order, setting aside
 * each intent that fails alone that way, so the others still light the tower in this invocation.
 * A set-aside intent may have reached the tower before its save failed: the next application (or a
 * final one without intents) sends the stored state's signal whatever the stored `shown` says.
 */
async function applyTowerEntries(
    tower: TowerConfig,
    towerEntries: readonly Entry[],
    ctx: DispatchContext,
    locks: TowerLocks,
    results: { outcomes: TowerOutcome[]; rejected: { entry: Entry; problem: string }[]; failed: Set<number> },
): Promise<void> {
    const intentOf = (e: Entry) => (e.parsed as Extract<ParsedIntent, { ok: true }>).intent;
    const failAll = (entries: readonly Entry[], error: unknown) => {
        ctx.logger.error("Could not process the tower's intents; SQS will redeliver them", { tower: tower.name, records: entries.length, error: errorText(error) });
        for (const e of entries) results.failed.add(e.index);
    };
    try {
        results.outcomes.push(await locks.run(tower.name, () => processTower(tower, towerEntries.map(intentOf), ctx)));
        return;
    } catch (error) {
        if (!cannotApply(error)) return failAll(towerEntries, error);
        ctx.logger.warn("An intent of the batch cannot be applied; applying the tower's intents one by one", { tower: tower.name, records: towerEntries.length, error: errorText(error) });
    }
    // The failed attempt may have sent a command whose state was not saved.
    let unsaved = true;
    for (let i = 0; i < towerEntries.length; i++) {
        const entry = towerEntries[i];
        try {
            results.outcomes.push(await locks.run(tower.name, () => processTower(tower, [intentOf(entry)], ctx, { forceSend: unsaved })));
            unsaved = false;
        } catch (error) {
            if (!cannotApply(error)) return failAll(towerEntries.slice(i), error);
            results.rejected.push({ entry, problem: `the tower's state could not be saved with this intent applied (${errorText(error)})` });
            unsaved = true;
        }
    }
    if (unsaved) {
        try {
            results.outcomes.push(await locks.run(tower.name, () => processTower(tower, [], ctx, { forceSend: true })));
        } catch (error) {
            // The intents are set aside or applied already; the tower's next intent sends its signal again.
            ctx.logger.error("Could not restore the tower's signal after setting an intent aside; its next intent will", { tower: tower.name, error: errorText(error) });
        }
    }
}

/** Handles one SQS batch; resolves with the batch's failures (never rejects for a single tower's trouble). */
export async function dispatchBatch(records: readonly SQSRecord[], ctx: DispatchContext): Promise<BatchOutcome> {
    const nowMs = ctx.now();
    const entries: Entry[] = records.map((record, index) => {
        const parsed = typeof record?.body === "string" ? parseIntent(record.body, nowMs) : ({ ok: false, problem: "the record has no body" } as const);
        const messageId = typeof record?.messageId === "string" ? record.messageId : `#${index}`;
        return { record, index, messageId, group: groupOf(record, parsed.ok ? parsed.intent.tower : undefined), parsed };
    });

    const rejected: { entry: Entry; problem: string }[] = [];
    const byTower = new Map<string, { tower: TowerConfig; entries: Entry[] }>();
    for (const entry of entries) {
        const { parsed } = entry;
        if (!parsed.ok) {
            rejected.push({ entry, problem: parsed.problem });
            continue;
        }
        const tower = ctx.towers.get(parsed.intent.tower);
        if (tower === undefined) {
            rejected.push({ entry, problem: `tower "${truncateChars(parsed.intent.tower, 200)}" is not in towers.json: add it to alertline:sites and deploy, or fix the rule's towers list` });
            continue;
        }
        if (parsed.notes.length > 0) ctx.logger.warn("Signal intent had unreadable fields; defaults used", { sqsMessageId: entry.messageId, tower: tower.name, notes: parsed.notes });
        const slot = byTower.get(tower.name) ?? { tower, entries: [] };
        slot.entries.push(entry);
        byTower.set(tower.name, slot);
    }

    const failed = new Set<number>();
    const locks = ctx.locks ?? createTowerLocks();
    const outcomes: TowerOutcome[] = [];
    const results = { outcomes, rejected, failed };
    await Promise.all([...byTower.values()].map(({ tower, entries: towerEntries }) => applyTowerEntries(tower, towerEntries, ctx, locks, results)));

    // Each record that cannot be applied gets its own dead letter; only those that got one are reported and consumed.
    const towerOf = (entry: Entry) => (entry.parsed.ok ? entry.parsed.intent.tower : undefined);
    const lettered: { entry: Entry; problem: string }[] = [];
    await Promise.all(
        rejected.map(async (item) => {
            const { entry, problem } = item;
            const body = typeof entry.record?.body === "string" ? entry.record.body : "";
            try {
                await ctx.deadLetter({ messageId: entry.messageId, group: entry.group, body, reason: truncateChars(problem, PROBLEM_MAX_CHARS), tower: towerOf(entry) });
                lettered.push(item);
            } catch (error) {
                ctx.logger.error("Could not move an intent that cannot be applied to the dead-letter queue; SQS will redeliver it", { sqsMessageId: entry.messageId, problem: truncateChars(problem, PROBLEM_MAX_CHARS), error: errorText(error) });
                failed.add(entry.index);
            }
        }),
    );
    lettered.sort((a, b) => a.entry.index - b.entry.index);
    const skippedRecords: SkippedRecord[] = lettered.map(({ entry, problem }) => ({ messageId: entry.messageId, problem, body: typeof entry.record?.body === "string" ? entry.record.body : "", tower: towerOf(entry) }));
    if (skippedRecords.length > 0) {
        ctx.logger.error("Moved signal intents that cannot be applied to the dead-letter queue", { skipped: skippedRecords.map(({ messageId, problem }) => ({ messageId, problem: truncateChars(problem, PROBLEM_MAX_CHARS) })) });
        try {
            await ctx.publish(skippedMessage(skippedRecords, ctx.environment));
        } catch (error) {
            // The records are in the dead-letter queue, whose alarm reaches the alert channel anyway;
            // failing them now would put them there a second time.
            ctx.logger.error("Could not report the intents moved to the dead-letter queue; the queue's alarm will", { error: errorText(error) });
        }
    }

    return { batchItemFailures: fifoBatchItemFailures(entries, failed), towers: outcomes, skipped: skippedRecords };
}
