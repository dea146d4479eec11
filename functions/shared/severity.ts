import type { SignalSpec } from "./patlite/signal";

/**
 * Severities a mail rule can assign. `recovery` clears the alert it correlates with; `ignore`
 * drops the mail (it is still stored and counted, never sent to a tower).
 */
export const SEVERITIES = ["critical", "warning", "info", "recovery", "ignore"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Severities an active alert can hold on a tower, highest first. */
export const ACTIVE_SEVERITIES = ["critical", "warning", "info"] as const;
export type ActiveSeverity = (typeof ACTIVE_SEVERITIES)[number];

/** What a tower shows for its highest active severity, and when nothing is active ("quiet"). */
export type SeveritySignals = Record<ActiveSeverity | "quiet", SignalSpec>;

/**
 * Defaults, per site overridable: critical flashes red with the buzzer; warning is steady amber;
 * info lights nothing beyond the quiet state; quiet is steady green, which tells the room the
 * tower itself is alive and reachable.
 */
export const DEFAULT_SEVERITY_SIGNALS: SeveritySignals = {
    critical: { red: "flash1", buzzer: 1 },
    warning: { amber: "on" },
    info: { green: "on" },
    quiet: { green: "on" },
};

/** The highest of the given severities, or undefined for none. */
export function highestSeverity(severities: Iterable<ActiveSeverity>): ActiveSeverity | undefined {
    let best: number | undefined;
    for (const s of severities) {
        const rank = ACTIVE_SEVERITIES.indexOf(s);
        if (best === undefined || rank < best) best = rank;
    }
    return best === undefined ? undefined : ACTIVE_SEVERITIES[best];
}
