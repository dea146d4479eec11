import { lampsMatch, type TowerReading } from "../shared/patlite/status";
import type { TowerSignal } from "../shared/patlite/signal";
import type { TowerConfig } from "../shared/tower-config";
import type { Relay, RelayResult } from "./relay";
import { StateConflictError, type TowerStateStore } from "./state-store";
import { desiredSignal, recordSend } from "./tower-state";

/**
 * Power-cycle recovery for the probe. A PATLITE tower that loses power comes back without the signal
 * it was showing, and the queue path only sends when something changes: without this, a tower
 * would stay dark (or show a stale state) until the next alert for it.
 */

/** What the probe did about a tower's state after reading it. */
export type RestoreOutcome =
    /** The tower shows the lamps it last acknowledged. */
    | { readonly kind: "matches" }
    /** The reading cannot be compared (LA6 in smart mode). */
    | { readonly kind: "not-comparable" }
    /** Nothing was ever acknowledged (no state item, or state lost): nothing to restore; the next intent sends. */
    | { readonly kind: "nothing-shown" }
    /** The tower had lost its state; the desired signal was re-sent, acknowledged and recorded. */
    | { readonly kind: "resent"; readonly signal: TowerSignal; readonly send: RelayResult; readonly version: number }
    /** Re-sent, but the tower did not acknowledge; recorded as a failed send, so the next intent sends again. */
    | { readonly kind: "resend-failed"; readonly signal: TowerSignal; readonly send: RelayResult; readonly version: number }
    /** Re-sent, but another writer changed the state meanwhile: not recorded; the next probe compares again. */
    | { readonly kind: "conflict"; readonly signal: TowerSignal; readonly send: RelayResult };

export interface RestoreContext {
    readonly store: TowerStateStore;
    /** The dispatcher's own send path, with its retries. */
    readonly relay: Relay;
}

/**
 * Compares a reading with the stored `shown` signal and, when the lamps differ, re-sends the signal
 * the tower should show (from its active alerts), then saves with the same conditional write as the
 * queue path. The state is loaded after the tower was read, so a signal the queue path sent and
 * saved in between is what the reading is compared with. Throws on DynamoDB errors.
 */
export async function restoreShown(tower: TowerConfig, reading: TowerReading, ctx: RestoreContext): Promise<RestoreOutcome> {
    const { state, version } = await ctx.store.load(tower.name);
    if (state.shown === null) return { kind: "nothing-shown" };
    const match = lampsMatch(tower.protocol, reading, state.shown);
    if (match === undefined) return { kind: "not-comparable" };
    if (match) return { kind: "matches" };
    // The alerts as stored: dropping expired ones is the queue path's job (boundActive, which logs
    // and saves what it drops), and the tower showed these alerts until it lost power.
    const signal = desiredSignal(state, tower);
    const send = await ctx.relay(tower, signal);
    try {
        const saved = await ctx.store.save(tower.name, recordSend(state, signal, send.ack), version);
        return { kind: send.ack ? "resent" : "resend-failed", signal, send, version: saved };
    } catch (error) {
        // The other writer's save stands. If it raced with this resend the tower may show this signal
        // rather than the other's until the next probe, which sees the difference and sends again.
        if (error instanceof StateConflictError) return { kind: "conflict", signal, send };
        throw error;
    }
}
