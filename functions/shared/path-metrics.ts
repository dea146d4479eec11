import { Metrics } from "@aws-lambda-powertools/metrics";
import { ENVIRONMENT_DIMENSION, type MetricDefinition } from "./metric-names";

/**
 * Writes alertline's metrics (functions/shared/metric-names.ts) as CloudWatch embedded metric
 * format through Powertools Metrics: one EMF line on stdout per datum, which CloudWatch Logs turns
 * into the metric from the function's log group. No PutMetricData, so no IAM grant.
 *
 * Powertools adds a `service` default dimension to everything; it is cleared here, so each metric
 * has exactly the dimensions its definition lists (Environment first): the per-tower alarms and the
 * dashboard name a metric by its full dimension set, and CloudWatch treats any other set as another
 * metric. Each datum is flushed at once, so data with different dimension values never share a line.
 */

export interface MetricSink {
    /**
     * One datum of `metric`, with the values of its dimensions other than Environment. Never throws
     * for a missing environment or an empty value (logged; an alert is never lost for a metric);
     * throws when the dimension names differ from the definition's (a bug the tests catch).
     */
    put(metric: MetricDefinition, value: number, dimensions?: Readonly<Record<string, string>>): void;
}

export interface MetricSinkLogger {
    error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** The dimensions `metric` needs besides Environment, checked against what the caller gave. */
export function checkDimensions(metric: MetricDefinition, dimensions: Readonly<Record<string, string>>): void {
    const wanted = metric.dimensions.filter((d) => d !== ENVIRONMENT_DIMENSION);
    const given = Object.keys(dimensions);
    if (given.length !== wanted.length || wanted.some((d) => !given.includes(d))) {
        throw new Error(`metric ${metric.namespace} ${metric.name} takes the dimensions ${wanted.join(", ") || "(Environment only)"} besides Environment, got ${given.join(", ") || "none"}: see functions/shared/metric-names.ts`);
    }
}

/**
 * A sink on Powertools Metrics for one function (`serviceName`, e.g. "mail-ingest"), with the
 * Environment dimension from `environment` (env ALERTLINE_ENVIRONMENT). Without an environment it
 * emits nothing and logs why, once.
 */
export function createMetricSink(options: { readonly environment: string | undefined; readonly serviceName: string; readonly logger: MetricSinkLogger }): MetricSink {
    const environment = options.environment?.trim() ?? "";
    const perNamespace = new Map<string, Metrics>();
    let warned = false;
    const metricsFor = (namespace: string): Metrics => {
        let metrics = perNamespace.get(namespace);
        if (metrics === undefined) {
            metrics = new Metrics({ namespace, serviceName: options.serviceName });
            metrics.clearDefaultDimensions();
            metrics.setDefaultDimensions({ [ENVIRONMENT_DIMENSION]: environment });
            perNamespace.set(namespace, metrics);
        }
        return metrics;
    };
    return {
        put(metric, value, dimensions = {}) {
            checkDimensions(metric, dimensions);
            if (environment === "") {
                if (!warned) options.logger.error("ALERTLINE_ENVIRONMENT is not set: no metric is written; set it to the stack's environment (the infrastructure sets it)", { metric: metric.name });
                warned = true;
                return;
            }
            const empty = Object.entries(dimensions).find(([, v]) => v.trim() === "");
            if (empty !== undefined) {
                options.logger.error("A metric's dimension is empty; the datum is not written", { metric: metric.name, dimension: empty[0] });
                return;
            }
            const metrics = metricsFor(metric.namespace);
            if (Object.keys(dimensions).length > 0) metrics.addDimensions({ ...dimensions });
            metrics.addMetric(metric.name, metric.unit, value);
            metrics.publishStoredMetrics();
        },
    };
}

/** A sink that writes nothing (tests and tools that do not look at metrics). */
export const NO_METRICS: MetricSink = { put: (metric, _value, dimensions = {}) => checkDimensions(metric, dimensions) };
