import { storedKey } from "../shared/alert-key";
import { truncateChars } from "../shared/truncate";
import { DEFAULT_SEVERITY_SIGNALS, highestSeverity, type ActiveSeverity } from "../shared/severity";
import type { SignalIntent } from "../shared/signal-intent";
import { sameSignal, toSignal, type TowerSignal } from "../shared/patlite/signal";
import type { TowerConfig } from "../shared/tower-config";

export { storedKey };

/**
 * What tower-dispatch knows about one tower, and the pure rules that change it. The tower shows the
 * highest severity among its active alerts; each alert is known by its correlation key, so a
 * recovery clears only its own problem and the tower goes quiet only when nothing is active.
 *
 * Everything here is deterministic: no clock, no I/O. Time enters only as an argument
 * ({@link boundActive}), so tests and the storm test can compute the same answers independently.
 */

/** One problem the tower is showing. */
export interface ActiveAlert {
    readonly severity: ActiveSeverity;
    /** When this key first became active (the mail's receivedAt, ISO 8601). */
    readonly since: string;
    /** The latest mail for this key (ISO 8601); expiry counts from here, so a re-notified problem stays. */
    readonly lastSeen: string;
    /** Subject of the latest mail for this key, clipped to {@link StateLimits.maxSubjectLength}. */
    readonly subject: string;
    /** SES message ID of the latest mail for this key. */
    readonly messageId: string;
}

/** An outage that has been reported to the alert channel and not yet cleared. */
export interface UnreachableOutage {
    /** When the first failed send of this outage happened (ISO 8601). */
    readonly since: string;
    /** The last failure's text, for the "reachable again" message. */
    readonly error: string;
}

export interface TowerState {
    /**
     * Stored alert key → the alert. A Map, never an object indexed by the key: alert keys come from
     * mail, and a key such as `constructor` or `__proto__` must be data, not a property name.
     */
    readonly active: ReadonlyMap<string, ActiveAlert>;
    /** The signal the tower last acknowledged; null when unknown (never sent, or state was lost). */
    readonly shown: TowerSignal | null;
    /** The last send exhausted its retries: the next batch sends again even if nothing changed. */
    readonly lastSendFailed: boolean;
    /** Set while an outage has been reported, so it is reported once, not on every batch. */
    readonly unreachable: UnreachableOutage | null;
    /**
     * Message IDs of the most recently applied intents, newest last. A redelivered intent is
     * skipped even when a later recovery already cleared its key, so a late duplicate cannot
     * re-light the tower. Bounded by {@link StateLimits.recentMessageIds}.
     */
    readonly recentMessageIds: readonly string[];
}

/** The state of a tower nothing is known about. */
export const EMPTY_TOWER_STATE: TowerState = { active: new Map(), shown: null, lastSendFailed: false, unreachable: null, recentMessageIds: [] };

/**
 * Bounds on what one tower's state may hold. The state is one DynamoDB item, and an item larger than
 * 400 KB cannot be written: without bounds, a storm of distinct problems that never recover would
 * grow the item until every write fails and the tower's queue stops for good. With the defaults the
 * item stays under about 150 KB: 200 alerts × (key ≤ 200 + subject ≤ 200 + ids and dates ≈ 150 bytes)
 * plus 100 message IDs.
 */
export interface StateLimits {
    /**
     * An alert not heard of (no problem mail for its key) for this long is dropped. A recovery mail
     * that was lost, filtered or classified differently would otherwise keep the tower lit forever;
     * a real problem that lasts this long has been seen by everyone, and re-notification keeps it.
     */
    readonly maxAgeMs: number;
    /**
     * At most this many active alerts; beyond it the lowest-severity, least recently seen go first,
     * so the cap never changes what the tower shows (the highest severity is always kept).
     */
    readonly maxActive: number;
    /** How many recently applied message IDs are remembered for duplicate suppression (≥ 10 batches of 10). */
    readonly recentMessageIds: number;
    /** Longer correlation keys are stored as a prefix plus a hash of the whole key (still unique and stable). */
    readonly maxKeyLength: number;
    readonly maxSubjectLength: number;
}

export const DEFAULT_STATE_LIMITS: StateLimits = {
    maxAgeMs: 7 * 24 * 60 * 60 * 1000,
    maxActive: 200,
    recentMessageIds: 100,
    maxKeyLength: 200,
    maxSubjectLength: 200,
};

function clip(text: string, max: number): string {
    return truncateChars(text, Math.max(1, max), "…");
}

/** The intent fields applyIntents reads. */
export type AppliedIntent = Pick<SignalIntent, "alertKey" | "severity" | "messageId" | "subject" | "receivedAt">;

/**
 * Applies intents in order. A problem (critical, warning, info) sets its key's severity, the latest
 * mail winning; a recovery removes only its own key (a recovery for an unknown key changes nothing).
 * An intent whose message ID was applied recently is skipped, so delivering the same intent twice
 * gives the same state as delivering it once. Returns a new state; the input is not changed.
 */
export function applyIntents(state: TowerState, intents: readonly AppliedIntent[], limits: StateLimits = DEFAULT_STATE_LIMITS): TowerState {
    const active = new Map(state.active);
    const recent = [...state.recentMessageIds];
    const seen = new Set(recent);
    for (const intent of intents) {
        if (seen.has(intent.messageId)) continue;
        seen.add(intent.messageId);
        recent.push(intent.messageId);
        const key = storedKey(intent.alertKey, limits.maxKeyLength);
        if (intent.severity === "recovery") {
            active.delete(key);
            continue;
        }
        const previous = active.get(key);
        active.set(key, {
            severity: intent.severity,
            since: previous?.since ?? intent.receivedAt,
            lastSeen: intent.receivedAt,
            subject: clip(intent.subject, limits.maxSubjectLength),
            messageId: intent.messageId,
        });
    }
    return { ...state, active, recentMessageIds: recent.slice(Math.max(0, recent.length - limits.recentMessageIds)) };
}

const SEVERITY_RANK: Record<ActiveSeverity, number> = { critical: 0, warning: 1, info: 2 };

/** A timestamp's milliseconds, or -Infinity for a date that does not parse (so it sorts as oldest and never counts as fresh). */
function millis(iso: string): number {
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/**
 * Applies {@link StateLimits}: drops alerts last seen more than maxAgeMs before `nowMs`, then, over
 * maxActive, evicts the lowest severity and least recently seen first. Returns what it dropped so the
 * caller can log it.
 */
export function boundActive(
    state: TowerState,
    nowMs: number,
    limits: StateLimits = DEFAULT_STATE_LIMITS,
): { state: TowerState; expired: string[]; evicted: string[] } {
    const expired: string[] = [];
    const kept: [string, ActiveAlert][] = [];
    for (const [key, alert] of state.active) {
        if (nowMs - millis(alert.lastSeen) > limits.maxAgeMs) expired.push(key);
        else kept.push([key, alert]);
    }
    const evicted: string[] = [];
    if (kept.length > limits.maxActive) {
        // Most important first: highest severity, then most recently seen, then key for a stable order.
        kept.sort(([ka, a], [kb, b]) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || millis(b.lastSeen) - millis(a.lastSeen) || (ka < kb ? -1 : ka > kb ? 1 : 0));
        for (const [key] of kept.splice(limits.maxActive)) evicted.push(key);
    }
    if (expired.length === 0 && evicted.length === 0) return { state, expired, evicted };
    return { state: { ...state, active: new Map(kept) }, expired, evicted };
}

/** The highest severity among the active alerts, or undefined when nothing is active. */
export function highestActive(state: TowerState): ActiveSeverity | undefined {
    return highestSeverity([...state.active.values()].map((alert) => alert.severity));
}

/** What the tower should show: its signal for the highest active severity, or its quiet signal. */
export function desiredSignal(state: TowerState, tower: Pick<TowerConfig, "signals">): TowerSignal {
    const level = highestActive(state) ?? "quiet";
    return toSignal(tower.signals?.[level] ?? DEFAULT_SEVERITY_SIGNALS[level]);
}

/** Whether a command must go out: the tower shows something else, nobody knows what it shows, or the last send failed. */
export function needsSend(state: TowerState, desired: TowerSignal): boolean {
    return state.lastSendFailed || state.shown === null || !sameSignal(state.shown, desired);
}

/** The state after a send: an acknowledged signal becomes `shown`; a failure keeps the last confirmed one and asks for a resend. */
export function recordSend(state: TowerState, signal: TowerSignal, acknowledged: boolean): TowerState {
    return acknowledged ? { ...state, shown: signal, lastSendFailed: false } : { ...state, lastSendFailed: true };
}
