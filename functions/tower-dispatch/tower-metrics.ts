import { TOWER_METRIC_NAMESPACE, TOWER_REACHABLE_METRIC } from "../shared/metric-names";
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from "@aws-sdk/client-cloudwatch";

/**
 * The probe's metric: `alertline/Towers` `TowerReachable`, 1 when the tower answered its status
 * read, 0 when not, per Environment and Tower. The infrastructure's per-tower alarm reads exactly
 * these names, and the function's role may write this namespace only.
 */

export { TOWER_METRIC_NAMESPACE, TOWER_REACHABLE_METRIC };
/** PutMetricData takes at most this many data per call. */
export const METRIC_DATA_PER_CALL = 1000;

/** One datum per tower, all stamped with the probe's time. */
export function reachabilityData(probes: readonly { readonly tower: string; readonly reachable: boolean }[], environment: string, timestamp: Date): MetricDatum[] {
    if (environment.trim() === "") throw new Error("the Environment dimension is empty: set ALERTLINE_ENVIRONMENT (the infrastructure sets it to the stack's environment)");
    return probes.map((probe) => ({
        MetricName: TOWER_REACHABLE_METRIC,
        Dimensions: [
            { Name: "Environment", Value: environment },
            { Name: "Tower", Value: probe.tower },
        ],
        Timestamp: timestamp,
        Value: probe.reachable ? 1 : 0,
        Unit: "None",
    }));
}

/** `items` in consecutive slices of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
    const slices: T[][] = [];
    for (let start = 0; start < items.length; start += size) slices.push(items.slice(start, start + size));
    return slices;
}

/** Writes the data in as few PutMetricData calls as the per-call limit allows; resolves to the number of calls. */
export async function putMetricData(cloudwatch: Pick<CloudWatchClient, "send">, namespace: string, data: readonly MetricDatum[]): Promise<number> {
    const slices = chunks(data, METRIC_DATA_PER_CALL);
    for (const slice of slices) await cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: slice }));
    return slices.length;
}
