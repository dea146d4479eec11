import { ALERTLINE_METRICS, COMMAND_OUTCOMES, TOWER_METRIC_NAMESPACE, TOWER_REACHABLE_METRIC } from "../shared/metric-names";
import type { MetricSink } from "../shared/path-metrics";
import type { Relay } from "./relay";

/**
 * The towers' metrics, written as EMF through {@link MetricSink}: the probe's `alertline/Towers`
 * `TowerReachable`, 1 when the tower answered its status read, 0 when not, per Environment and
 * Tower (the infrastructure's per-tower alarm reads exactly these names), and `TowerCommands` per
 * Environment, Tower and Outcome for every command the relay sends.
 */

export { TOWER_METRIC_NAMESPACE, TOWER_REACHABLE_METRIC };

/** One TowerReachable datum per tower. */
export function writeReachability(metrics: MetricSink, probes: readonly { readonly tower: string; readonly reachable: boolean }[]): void {
    for (const probe of probes) metrics.put(ALERTLINE_METRICS.towerReachable, probe.reachable ? 1 : 0, { Tower: probe.tower });
}

/** The relay, counting each command it sends by tower and outcome (ACK, or failed after its retries). */
export function countingRelay(relay: Relay, metrics: MetricSink): Relay {
    return async (tower, signal) => {
        const result = await relay(tower, signal);
        metrics.put(ALERTLINE_METRICS.towerCommands, 1, { Tower: tower.name, Outcome: result.ack ? COMMAND_OUTCOMES.ack : COMMAND_OUTCOMES.failed });
        return result;
    };
}
