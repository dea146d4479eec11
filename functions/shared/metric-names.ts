/**
 * Names of the metrics the functions write and the infrastructure reads (alarms, the dashboard):
 * one definition, imported by both sides, so they cannot drift. The functions write them as
 * CloudWatch embedded metric format (EMF) lines on stdout through Powertools Metrics
 * (functions/shared/path-metrics.ts); CloudWatch Logs extracts them from the function's log group,
 * so no function calls PutMetricData and no role needs a CloudWatch grant.
 */

/** The towers' namespace: reachability, intents and commands, per Environment and Tower. */
export const TOWER_METRIC_NAMESPACE = "alertline/Towers";
/** 1 when the tower answered its status read, 0 when not, per Environment and Tower. */
export const TOWER_REACHABLE_METRIC = "TowerReachable";
/** The rest of the alert path: mail, on-call, Slack, acknowledgements, per Environment. */
export const PATH_METRIC_NAMESPACE = "alertline/AlertPath";

/** The dimension every alertline metric carries, set to the stack's environment (env ALERTLINE_ENVIRONMENT). */
export const ENVIRONMENT_DIMENSION = "Environment";

/** Values of TowerCommands' `Outcome` dimension. */
export const COMMAND_OUTCOMES = { ack: "ACK", failed: "failed" } as const;

/** One metric: where it lives, its unit, its dimension names (Environment first), and which functions write it. */
export interface MetricDefinition {
    readonly namespace: string;
    readonly name: string;
    /** An EMF unit (a CloudWatch unit name). */
    readonly unit: "Count" | "Milliseconds";
    readonly dimensions: readonly string[];
    readonly emittedBy: readonly ("mail-ingest" | "tower-dispatch" | "slack-notifier" | "ack-webhook")[];
}

/** Every metric alertline's functions emit. */
export const ALERTLINE_METRICS = {
    /** A mail SES delivered (duplicates of a processed mail not counted again), the canary included. */
    mailsReceived: { namespace: PATH_METRIC_NAMESPACE, name: "MailsReceived", unit: "Count", dimensions: ["Environment"], emittedBy: ["mail-ingest"] },
    /** A classified mail (not the canary), per Severity (critical, warning, info, recovery, ignore). */
    mailsClassified: { namespace: PATH_METRIC_NAMESPACE, name: "MailsClassified", unit: "Count", dimensions: ["Environment", "Severity"], emittedBy: ["mail-ingest"] },
    /** A mail whose sender was trusted for none of the towers it would light (impostor canaries included). */
    mailsUntrusted: { namespace: PATH_METRIC_NAMESPACE, name: "MailsUntrusted", unit: "Count", dimensions: ["Environment"], emittedBy: ["mail-ingest"] },
    /** An on-call alert created (paged) for a mail. */
    onCallPages: { namespace: PATH_METRIC_NAMESPACE, name: "OnCallPages", unit: "Count", dimensions: ["Environment"], emittedBy: ["mail-ingest"] },
    /** The canary's round trip: its Date header to SES receiving it, when both are readable. */
    canaryRoundTrip: { namespace: PATH_METRIC_NAMESPACE, name: "CanaryRoundTripTime", unit: "Milliseconds", dimensions: ["Environment"], emittedBy: ["mail-ingest"] },
    /** A signal intent put on the queue for a tower. */
    signalIntents: { namespace: TOWER_METRIC_NAMESPACE, name: "SignalIntents", unit: "Count", dimensions: ["Environment", "Tower"], emittedBy: ["mail-ingest"] },
    /** A command sent to a tower, per Outcome: ACK, or failed after the relay's retries. */
    towerCommands: { namespace: TOWER_METRIC_NAMESPACE, name: "TowerCommands", unit: "Count", dimensions: ["Environment", "Tower", "Outcome"], emittedBy: ["tower-dispatch"] },
    /** The probe: 1 when the tower answered its status read, 0 when not (the per-tower alarms read it). */
    towerReachable: { namespace: TOWER_METRIC_NAMESPACE, name: TOWER_REACHABLE_METRIC, unit: "Count", dimensions: ["Environment", "Tower"], emittedBy: ["tower-dispatch"] },
    /** A message posted to Slack. */
    slackPosts: { namespace: PATH_METRIC_NAMESPACE, name: "SlackPosts", unit: "Count", dimensions: ["Environment"], emittedBy: ["slack-notifier"] },
    /** A repeat of an alert held back by flood control (counted, not posted). */
    slackRepeatsHeldBack: { namespace: PATH_METRIC_NAMESPACE, name: "SlackRepeatsHeldBack", unit: "Count", dimensions: ["Environment"], emittedBy: ["slack-notifier"] },
    /** An acknowledgement or close from on-call that queued recoveries (HTTP 202). */
    acknowledgements: { namespace: PATH_METRIC_NAMESPACE, name: "AcknowledgementsAccepted", unit: "Count", dimensions: ["Environment"], emittedBy: ["ack-webhook"] },
} as const satisfies Record<string, MetricDefinition>;

export type AlertlineMetric = (typeof ALERTLINE_METRICS)[keyof typeof ALERTLINE_METRICS];
