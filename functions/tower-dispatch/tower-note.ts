import { CLEARED_WORDS, type ClearingAction } from "../shared/clearing-actions";
import { describeSignal, sameSignal, type TowerSignal } from "../shared/patlite/signal";
import type { ActiveSeverity } from "../shared/severity";
import type { SignalIntent } from "../shared/signal-intent";
import { threadNote, type ThreadNote } from "../shared/thread-note";
import type { TowerConfig } from "../shared/tower-config";
import { applyIntents, DEFAULT_STATE_LIMITS, desiredSignal, highestActive, type StateLimits, type TowerState } from "./tower-state";

/**
 * The note tower-dispatch publishes on the alert topic when applying intents changed what a tower
 * shows, for the thread of the alert that changed it (Slack app mode): "tokyo-ops: red:flash1
 * buzzer:1 (critical) → green:on (quiet), acknowledged by ayumi@example.com". Only a change of the
 * acknowledged signal makes one, so a storm of repeats of one alert makes none. Pure.
 *
 * The lamps are worded by describeSignal (functions/shared/patlite/signal.ts), as the dispatcher's
 * logs and `npm run patlite -- status` word them; the level in brackets is the severity whose signal
 * the tower shows.
 */

/**
 * The intent that decided the tower's new signal: of the intents applied in order to `state`, the
 * last whose application changed the signal the tower should show. Undefined when none did (the
 * change came from an alert expiring, or from resending what was already wanted).
 */
export function changeCause(state: TowerState, intents: readonly SignalIntent[], tower: Pick<TowerConfig, "signals">, limits: StateLimits = DEFAULT_STATE_LIMITS): SignalIntent | undefined {
    let current = state;
    let wanted = desiredSignal(state, tower);
    let cause: SignalIntent | undefined;
    for (const intent of intents) {
        const next = applyIntents(current, [intent], limits);
        const nextWanted = desiredSignal(next, tower);
        if (!sameSignal(nextWanted, wanted)) cause = intent;
        current = next;
        wanted = nextWanted;
    }
    return cause;
}

/** The level a state shows: its highest active severity, or quiet. */
export function stateLevel(state: TowerState): ActiveSeverity | "quiet" {
    return highestActive(state) ?? "quiet";
}

/** "red:flash1 buzzer:1 (critical)"; the level left out when unknown. */
export function describeShown(signal: TowerSignal, level: ActiveSeverity | "quiet" | undefined): string {
    return level === undefined ? describeSignal(signal) : `${describeSignal(signal)} (${level})`;
}

export interface TowerChange {
    readonly tower: Pick<TowerConfig, "name">;
    /** What the tower acknowledged before (null: unknown, never sent or state lost) and at which level, when known. */
    readonly before: { readonly signal: TowerSignal | null; readonly level?: ActiveSeverity | "quiet" };
    readonly after: { readonly signal: TowerSignal; readonly level: ActiveSeverity | "quiet" };
    /** Who cleared the alert from on-call, when the change came from an acknowledgement or close. */
    readonly by?: { readonly user: string; readonly action: ClearingAction };
}

/** "tokyo-ops: red:flash1 buzzer:1 (critical) → green:on (quiet), acknowledged by …"; "tokyo-ops: now …" when the old signal is unknown. */
export function towerNoteText(change: TowerChange): string {
    const after = describeShown(change.after.signal, change.after.level);
    const moved = change.before.signal === null ? `now ${after}` : `${describeShown(change.before.signal, change.before.level)} → ${after}`;
    const by = change.by === undefined ? "" : `, ${CLEARED_WORDS[change.by.action]} by ${change.by.user}`;
    return `${change.tower.name}: ${moved}${by}`;
}

/**
 * The note for a tower that acknowledged `after` having shown `before`, in the thread of the alert
 * whose intent caused it; undefined when nothing changed or no intent caused it (no thread to put it in).
 */
export function towerChangeNote(
    tower: Pick<TowerConfig, "name" | "signals">,
    stored: TowerState,
    intents: readonly SignalIntent[],
    applied: TowerState,
    after: TowerSignal,
    environment: string | undefined,
    limits: StateLimits = DEFAULT_STATE_LIMITS,
): ThreadNote | undefined {
    const before = stored.shown;
    if (before !== null && sameSignal(before, after)) return undefined;
    const cause = changeCause(stored, intents, tower, limits);
    if (cause === undefined) return undefined;
    // The stored level names what was shown only when the tower was showing the stored state's signal.
    const beforeLevel = before !== null && sameSignal(before, desiredSignal(stored, tower)) ? stateLevel(stored) : undefined;
    const text = towerNoteText({
        tower,
        before: { signal: before, ...(beforeLevel === undefined ? {} : { level: beforeLevel }) },
        after: { signal: after, level: stateLevel(applied) },
        ...(cause.by === undefined ? {} : { by: cause.by }),
    });
    return threadNote(cause.alertKey, text, environment);
}
