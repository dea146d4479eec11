import { ALERTLINE_METRICS } from "../shared/metric-names";
import type { MetricSink } from "../shared/path-metrics";
import type { Severity } from "../shared/severity";
import type { SignalIntent } from "../shared/signal-intent";

/**
 * mail-ingest's metrics (functions/shared/metric-names.ts), written when the step they count is
 * done, so that Lambda's retry of a failed attempt does not count a mail twice.
 */

/** A mail finished: received, classified by severity, untrusted when its sender was trusted for nothing it would light. */
export function countMail(metrics: MetricSink, mail: { readonly severity: Severity; readonly trusted: boolean }): void {
    metrics.put(ALERTLINE_METRICS.mailsReceived, 1);
    metrics.put(ALERTLINE_METRICS.mailsClassified, 1, { Severity: mail.severity });
    if (!mail.trusted) metrics.put(ALERTLINE_METRICS.mailsUntrusted, 1);
}

/** Intents now on the queue, one datum per tower with the number of intents for it. */
export function countIntents(metrics: MetricSink, intents: readonly Pick<SignalIntent, "tower">[]): void {
    const perTower = new Map<string, number>();
    for (const intent of intents) perTower.set(intent.tower, (perTower.get(intent.tower) ?? 0) + 1);
    for (const [tower, count] of perTower) metrics.put(ALERTLINE_METRICS.signalIntents, count, { Tower: tower });
}

/** The canary finished: a mail received, and its round trip when its Date header could be read. */
export function countCanary(metrics: MetricSink, roundTripMs: number | undefined): void {
    metrics.put(ALERTLINE_METRICS.mailsReceived, 1);
    if (roundTripMs !== undefined) metrics.put(ALERTLINE_METRICS.canaryRoundTrip, Math.max(0, roundTripMs));
}

/** On-call took a new alert for the mail (in at least one backend). */
export function countPage(metrics: MetricSink): void {
    metrics.put(ALERTLINE_METRICS.onCallPages, 1);
}
