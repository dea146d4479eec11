import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ALERTLINE_METRICS, COMMAND_OUTCOMES, type MetricDefinition } from "../../functions/shared/metric-names";
import { SEVERITIES } from "../../functions/shared/severity";

/** One tower as the dashboard lays it out: under its site. */
export interface DashboardTower {
    readonly name: string;
    readonly site: string;
}

/** Arguments for {@link AlertPathDashboard}. */
export interface AlertPathDashboardArgs {
    /** Environment name: names the dashboard (`alertline-<environment>`) and is the Environment dimension of every alertline metric. */
    readonly environment: string;
    /** The stack's towers with their sites (alertline:sites); each tower adds its lines to its site's widgets. Default none. */
    readonly towers?: readonly DashboardTower[];
    /** Function name per role ("slack-notifier", "mail-ingest", "tower-dispatch", …): their errors and durations. */
    readonly functions: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Dead-letter queue name per label ("slack-notifier DLQ", "signal queue DLQ", …): their depths. Default none. */
    readonly queues?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * One pane for the alert path: a CloudWatch dashboard whose body is {@link alertPathDashboardBody},
 * from the stack's sites and towers, its functions and its dead-letter queues.
 */
export class AlertPathDashboard extends pulumi.ComponentResource {
    /** The dashboard's name, `alertline-<environment>`. */
    declare readonly dashboardName: pulumi.Output<string>;
    /** Where the dashboard opens in the CloudWatch console. */
    declare readonly consoleUrl: pulumi.Output<string>;

    constructor(name: string, args: AlertPathDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("alertline:index:AlertPathDashboard", name, {}, opts);
        const dashboardName = alertPathDashboardName(args.environment);
        const region = aws.getRegionOutput({}, { parent: this });
        const body = pulumi
            .all([region.region, pulumi.output(args.functions), pulumi.output(args.queues ?? {})])
            .apply(([regionName, functions, queues]) =>
                JSON.stringify(alertPathDashboardBody({ environment: args.environment, region: regionName, towers: args.towers ?? [], functions, queues })),
            );
        const dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, { dashboardName, dashboardBody: body }, { parent: this });
        this.dashboardName = dashboard.dashboardName;
        this.consoleUrl = pulumi.all([region.region, dashboard.dashboardName]).apply(([regionName, dashName]) => dashboardConsoleUrl(regionName, dashName));
        this.registerOutputs({ dashboardName: this.dashboardName, consoleUrl: this.consoleUrl });
    }
}

// ---------------------------------------------------------------------------------------------
// The body, pure. Format: CloudWatch's "Dashboard Body Structure and Syntax" (API reference):
// `widgets` of {type, x, y, width, height, properties}; a metric widget's `metrics` entries are
// [Namespace, MetricName, DimensionName, DimensionValue, …, {rendering options}]. Every entry is
// written in full (no "." shorthand), so a reader, and the test that checks every metric against
// what the functions emit, can take each line on its own.

/** CloudWatch's limits on a dashboard (service quotas): widgets per dashboard, metrics per widget and per dashboard. */
export const DASHBOARD_LIMITS = { widgets: 500, metricsPerWidget: 500, metricsPerDashboard: 2500, gridColumns: 24 } as const;

export type MetricLine = [string, string, ...(string | { label?: string; stat?: string })[]];

export interface MetricWidget {
    readonly type: "metric";
    readonly x: number;
    readonly y: number;
    readonly width: number;
    readonly height: number;
    readonly properties: {
        readonly title: string;
        readonly region: string;
        readonly metrics: MetricLine[];
        readonly view: "timeSeries";
        readonly stacked: boolean;
        readonly stat: string;
        readonly period: number;
        readonly yAxis?: { readonly left: { readonly min?: number; readonly max?: number; readonly label?: string } };
    };
}

export interface TextWidget {
    readonly type: "text";
    readonly x: number;
    readonly y: number;
    readonly width: number;
    readonly height: number;
    readonly properties: { readonly markdown: string };
}

export interface DashboardBody {
    readonly start: string;
    readonly periodOverride: "auto";
    readonly widgets: (MetricWidget | TextWidget)[];
}

export interface DashboardBodyInput {
    readonly environment: string;
    readonly region: string;
    readonly towers: readonly DashboardTower[];
    /** Function name per role. */
    readonly functions: Readonly<Record<string, string>>;
    /** Queue name per label. */
    readonly queues: Readonly<Record<string, string>>;
}

/** The dashboard's name; CloudWatch takes 1–255 of letters, digits, '-' and '_'. */
export function alertPathDashboardName(environment: string): string {
    const name = `alertline-${environment}`;
    if (name.length > 255 || !/^[A-Za-z0-9_-]+$/.test(name)) {
        throw new Error(`alertline:environment "${environment}" cannot name a CloudWatch dashboard (alertline-<environment>: at most 255 of letters, digits, '-' and '_'); choose an environment name of those characters`);
    }
    return name;
}

/** The dashboard in the CloudWatch console (unconfirmed against the live console: the `#dashboards/dashboard/<name>` fragment). */
export function dashboardConsoleUrl(region: string, name: string): string {
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(name)}`;
}

/** A line of an alertline metric, with its dimension values in the definition's order. */
function line(metric: MetricDefinition, environment: string, values: Readonly<Record<string, string>>, label: string): MetricLine {
    const dims = metric.dimensions.flatMap((d) => {
        const value = d === "Environment" ? environment : values[d];
        if (value === undefined) throw new Error(`dashboard line for ${metric.name} lacks its ${d} dimension`);
        return [d, value];
    });
    return [metric.namespace, metric.name, ...dims, { label }];
}

/** A line of an AWS metric with one dimension. */
function awsLine(namespace: string, metric: string, dimension: string, value: string, label: string): MetricLine {
    return [namespace, metric, dimension, value, { label }];
}

interface Panel {
    readonly title: string;
    readonly metrics: MetricLine[];
    readonly stat: string;
    readonly stacked?: boolean;
    readonly yAxis?: MetricWidget["properties"]["yAxis"];
}

const PERIOD_SECONDS = 300;
const PANEL_WIDTH = 8;
const PANEL_HEIGHT = 6;

/**
 * The dashboard's body: a heading, then rows of three graphs: the mail path (mails in and
 * untrusted, by severity, the canary's round trip); on-call pages, Slack posts and held-back
 * repeats, acknowledgements; per site, the intents, commands (ACK / failed) and reachability of each
 * of its towers; the dead-letter queues' depth; each function's errors and duration. Throws when
 * the stack outgrows CloudWatch's limits, naming which.
 */
export function alertPathDashboardBody(input: DashboardBodyInput): DashboardBody {
    const env = input.environment;
    const m = ALERTLINE_METRICS;
    const rows: { heading?: string; panels: Panel[] }[] = [];

    // Without mail ingest (a stack with no alertline:mail) the mail graphs would stay empty: left out.
    const hasMail = input.functions["mail-ingest"] !== undefined;
    if (hasMail) {
        rows.push({
            panels: [
                { title: "Mails received / untrusted", stat: "Sum", metrics: [line(m.mailsReceived, env, {}, "received"), line(m.mailsUntrusted, env, {}, "untrusted sender")] },
                { title: "Mails by severity", stat: "Sum", stacked: true, metrics: SEVERITIES.map((severity) => line(m.mailsClassified, env, { Severity: severity }, severity)) },
                { title: "Canary round trip (ms)", stat: "Maximum", metrics: [line(m.canaryRoundTrip, env, {}, "Date header → SES")] },
            ],
        });
    }
    rows.push({
        panels: [
            ...(hasMail ? [{ title: "On-call pages", stat: "Sum", metrics: [line(m.onCallPages, env, {}, "pages")] }] : []),
            { title: "Slack posts / repeats held back", stat: "Sum", metrics: [line(m.slackPosts, env, {}, "posted"), line(m.slackRepeatsHeldBack, env, {}, "held back (flood control)")] },
            ...(input.functions["ack-webhook"] !== undefined ? [{ title: "Acknowledgements from on-call", stat: "Sum", metrics: [line(m.acknowledgements, env, {}, "accepted")] }] : []),
        ],
    });

    const sites = [...new Set(input.towers.map((t) => t.site))];
    for (const site of sites) {
        const towers = input.towers.filter((t) => t.site === site).map((t) => t.name);
        rows.push({
            heading: `### Site ${site}: ${towers.join(", ")}`,
            panels: [
                { title: `${site}: intents per tower`, stat: "Sum", metrics: towers.map((tower) => line(m.signalIntents, env, { Tower: tower }, tower)) },
                {
                    title: `${site}: commands per tower`,
                    stat: "Sum",
                    metrics: towers.flatMap((tower) => Object.values(COMMAND_OUTCOMES).map((outcome) => line(m.towerCommands, env, { Tower: tower, Outcome: outcome }, `${tower} ${outcome}`))),
                },
                // Minimum: one missed probe in the period shows as 0.
                { title: `${site}: tower reachable (1) / not (0)`, stat: "Minimum", yAxis: { left: { min: 0, max: 1 } }, metrics: towers.map((tower) => line(m.towerReachable, env, { Tower: tower }, tower)) },
            ],
        });
    }

    const queues = Object.entries(input.queues);
    const functions = Object.entries(input.functions);
    rows.push({
        heading: "### Dead letters and functions",
        panels: [
            ...(queues.length === 0
                ? []
                : [{ title: "Dead-letter queue depth", stat: "Maximum", metrics: queues.map(([label, queue]) => awsLine("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, label)) }]),
            { title: "Function errors", stat: "Sum", metrics: functions.map(([role, fn]) => awsLine("AWS/Lambda", "Errors", "FunctionName", fn, role)) },
            { title: "Function duration (ms, maximum)", stat: "Maximum", metrics: functions.map(([role, fn]) => awsLine("AWS/Lambda", "Duration", "FunctionName", fn, role)) },
        ],
    });

    const widgets: (MetricWidget | TextWidget)[] = [
        {
            type: "text",
            x: 0,
            y: 0,
            width: DASHBOARD_LIMITS.gridColumns,
            height: 2,
            properties: {
                markdown: `## alertline ${env}: the alert path\nMail → classification → towers, on-call and Slack. Built by Pulumi (components/dashboard/alert-path-dashboard.ts); changes made in the console are overwritten by the next \`pulumi up\`.`,
            },
        },
    ];
    let y = 2;
    for (const row of rows) {
        if (row.heading !== undefined) {
            widgets.push({ type: "text", x: 0, y, width: DASHBOARD_LIMITS.gridColumns, height: 1, properties: { markdown: row.heading } });
            y += 1;
        }
        row.panels.forEach((panel, i) => {
            widgets.push({
                type: "metric",
                x: (i * PANEL_WIDTH) % DASHBOARD_LIMITS.gridColumns,
                y: y + Math.floor((i * PANEL_WIDTH) / DASHBOARD_LIMITS.gridColumns) * PANEL_HEIGHT,
                width: PANEL_WIDTH,
                height: PANEL_HEIGHT,
                properties: {
                    title: panel.title,
                    region: input.region,
                    metrics: panel.metrics,
                    view: "timeSeries",
                    stacked: panel.stacked ?? false,
                    stat: panel.stat,
                    period: PERIOD_SECONDS,
                    ...(panel.yAxis ? { yAxis: panel.yAxis } : {}),
                },
            });
        });
        y += Math.ceil((row.panels.length * PANEL_WIDTH) / DASHBOARD_LIMITS.gridColumns) * PANEL_HEIGHT;
    }

    checkDashboardLimits(widgets);
    return { start: "-PT12H", periodOverride: "auto", widgets };
}

/** Throws, naming the limit and the fix, when the widgets exceed CloudWatch's dashboard quotas. */
export function checkDashboardLimits(widgets: readonly (MetricWidget | TextWidget)[]): void {
    if (widgets.length > DASHBOARD_LIMITS.widgets) {
        throw new Error(`the alert-path dashboard would have ${widgets.length} widgets; CloudWatch takes at most ${DASHBOARD_LIMITS.widgets}: split alertline:sites across stacks`);
    }
    let total = 0;
    for (const widget of widgets) {
        if (widget.type !== "metric") continue;
        const count = widget.properties.metrics.length;
        total += count;
        if (count > DASHBOARD_LIMITS.metricsPerWidget) {
            throw new Error(`the dashboard widget "${widget.properties.title}" would graph ${count} metrics; CloudWatch takes at most ${DASHBOARD_LIMITS.metricsPerWidget} per widget: split that site's towers into more sites in alertline:sites`);
        }
    }
    if (total > DASHBOARD_LIMITS.metricsPerDashboard) {
        throw new Error(`the alert-path dashboard would graph ${total} metrics; CloudWatch takes at most ${DASHBOARD_LIMITS.metricsPerDashboard} per dashboard: split alertline:sites across stacks`);
    }
}

/** Each metric a body graphs: namespace, name and dimension names (values too, for messages). */
export function metricsOfBody(body: { readonly widgets: readonly { readonly type: string; readonly properties?: unknown }[] }): { namespace: string; name: string; dimensions: string[]; values: Record<string, string> }[] {
    return body.widgets.flatMap((widget) => {
        if (widget.type !== "metric") return [];
        const metrics = (widget.properties as { metrics?: unknown[][] }).metrics ?? [];
        return metrics.map((entry) => {
            const parts = entry.filter((p): p is string => typeof p === "string");
            const [namespace, name, ...pairs] = parts;
            const dimensions: string[] = [];
            const values: Record<string, string> = {};
            for (let i = 0; i + 1 < pairs.length; i += 2) {
                dimensions.push(pairs[i]);
                values[pairs[i]] = pairs[i + 1];
            }
            return { namespace, name, dimensions, values };
        });
    });
}
