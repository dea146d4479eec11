import type { SQSBatchItemFailure, SQSBatchResponse, SQSRecord } from "aws-lambda";
import { describeSignal, type TowerSignal } from "../shared/patlite/signal";
import type { SignalIntent } from "../shared/signal-intent";
import type { TowerConfig } from "../shared/tower-config";
import type { Relay, RelayResult } from "./relay";
import { StateConflictError, type TowerStateStore } from "./state-store";
import { applyIntents, boundActive, DEFAULT_STATE_LIMITS, desiredSignal, needsSend, recordSend, type StateLimits, type TowerState } from "./tower-state";

/**
 * One SQS batch from the FIFO queue (message group = tower, so a tower's intents arrive in order and
 * only one batch per tower is in flight). Per tower: load its state, apply all its intents, and send
 * at most one command, only if what the tower should show changed; a storm of thousands of mails
 * collapses into one command per batch at most, and usually none. Then save.
 *
 * Outcomes, mapped to SQS partial batch responses:
 * - a malformed body or an intent for a tower not in towers.json: logged, reported to the alert
 *   channel, and consumed (retrying cannot fix it);
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
}

/** How often a tower's load–apply–send–save is restarted when another writer changed the item in between. */
export const CONFLICT_ATTEMPTS = 3;
/** How much of a bad body a report quotes. */
const BODY_EXCERPT = 300;

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
        return { ok: false, problem: `severity is ${JSON.stringify(json.severity)}; a signal intent carries one of ${INTENT_SEVERITIES.join(", ")}` };
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
        },
    };
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
}

function excerpt(text: string): string {
    return text.length <= BODY_EXCERPT ? text : `${text.slice(0, BODY_EXCERPT - 1)}…`;
}

/** One report per batch for the records that could not be applied to any tower. */
export function skippedMessage(skipped: readonly SkippedRecord[], environment: string | undefined): ChannelMessage {
    return {
        title: `tower-dispatch skipped ${skipped.length} signal intent${skipped.length === 1 ? "" : "s"}`,
        state: "WARN",
        reason: "These queue messages lit no tower: each says why. Fix the sender (mail-ingest, rules towers list) or towers.json; the messages were consumed.",
        ...(environment ? { environment } : {}),
        skipped: skipped.map((s) => ({ messageId: s.messageId, problem: s.problem, body: excerpt(s.body) })),
    };
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
export async function processTower(tower: TowerConfig, intents: readonly SignalIntent[], ctx: DispatchContext): Promise<TowerOutcome> {
    const limits = ctx.limits ?? DEFAULT_STATE_LIMITS;
    // Set when a save lost a race after a command went out: what the tower shows is then unknown, so
    // the next round sends whatever it computes.
    let forceSend = false;
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
            return { tower: tower.name, intents: intents.length, desired, send, version: saved };
        } catch (error) {
            if (!(error instanceof StateConflictError) || round >= CONFLICT_ATTEMPTS) throw error;
            forceSend ||= send !== undefined;
            ctx.logger.warn("Another writer changed the tower's state; starting again from the stored state", { tower: tower.name, round, expectedVersion: version });
        }
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

/** Handles one SQS batch; resolves with the batch's failures (never rejects for a single tower's trouble). */
export async function dispatchBatch(records: readonly SQSRecord[], ctx: DispatchContext): Promise<BatchOutcome> {
    const nowMs = ctx.now();
    const entries: Entry[] = records.map((record, index) => {
        const parsed = typeof record?.body === "string" ? parseIntent(record.body, nowMs) : ({ ok: false, problem: "the record has no body" } as const);
        const messageId = typeof record?.messageId === "string" ? record.messageId : `#${index}`;
        return { record, index, messageId, group: groupOf(record, parsed.ok ? parsed.intent.tower : undefined), parsed };
    });

    const skipped: { entry: Entry; problem: string }[] = [];
    const byTower = new Map<string, { tower: TowerConfig; entries: Entry[] }>();
    for (const entry of entries) {
        const { parsed } = entry;
        if (!parsed.ok) {
            skipped.push({ entry, problem: parsed.problem });
            continue;
        }
        const tower = ctx.towers.get(parsed.intent.tower);
        if (tower === undefined) {
            skipped.push({ entry, problem: `tower "${parsed.intent.tower}" is not in towers.json: add it to alertline:sites and deploy, or fix the rule's towers list` });
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
    await Promise.all(
        [...byTower.values()].map(async ({ tower, entries: towerEntries }) => {
            const intents = towerEntries.map((e) => (e.parsed as Extract<ParsedIntent, { ok: true }>).intent);
            try {
                outcomes.push(await locks.run(tower.name, () => processTower(tower, intents, ctx)));
            } catch (error) {
                const err = error as Error;
                ctx.logger.error("Could not process the tower's intents; SQS will redeliver them", { tower: tower.name, records: towerEntries.length, error: `${err?.name ?? "Error"}: ${err?.message ?? String(error)}` });
                for (const e of towerEntries) failed.add(e.index);
            }
        }),
    );

    const skippedRecords = skipped.map(({ entry, problem }) => ({ messageId: entry.messageId, problem, body: typeof entry.record?.body === "string" ? entry.record.body : "" }));
    if (skipped.length > 0) {
        ctx.logger.error("Skipped signal intents that cannot be applied", { skipped: skippedRecords.map(({ messageId, problem }) => ({ messageId, problem })) });
        try {
            await ctx.publish(skippedMessage(skippedRecords, ctx.environment));
        } catch (error) {
            ctx.logger.error("Could not report the skipped intents; SQS will redeliver them", { error: String(error) });
            for (const { entry } of skipped) failed.add(entry.index);
        }
    }

    return { batchItemFailures: fifoBatchItemFailures(entries, failed), towers: outcomes, skipped: skippedRecords };
}
