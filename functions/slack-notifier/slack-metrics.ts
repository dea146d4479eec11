import { ALERTLINE_METRICS } from "../shared/metric-names";
import { NO_METRICS, type MetricSink } from "../shared/path-metrics";

/** slack-notifier's metrics (functions/shared/metric-names.ts): messages posted, repeats held back by flood control. */
export function slackMetrics(sink: MetricSink | undefined): { posted(): void; heldBack(): void } {
    const metrics = sink ?? NO_METRICS;
    return {
        posted: () => metrics.put(ALERTLINE_METRICS.slackPosts, 1),
        heldBack: () => metrics.put(ALERTLINE_METRICS.slackRepeatsHeldBack, 1),
    };
}
