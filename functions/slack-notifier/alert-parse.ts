import type { AlertField, AlertState, AlertSummary } from "../shared/slack-message";
import { parseAwsEvent, parseBudgetNotification } from "./aws-events";

/**
 * Reads whatever arrives on the alert topic (CloudWatch alarms, Datadog webhooks, AWS service
 * events and Budgets notifications (see ./aws-events), other alertline functions, someone testing
 * with `aws sns publish`) into an {@link AlertSummary}. Publishers are
 * not under our control, so nothing is trusted: every field is read with a type check, and input
 * that matches no known shape still becomes a readable summary. {@link parseSnsMessage} never throws.
 */

type JsonObject = Record<string, unknown>;

/** How many top-level keys of an unrecognised JSON object become fields; the rest go to a code block. */
export const GENERIC_FIELD_LIMIT = 10;
/** Leftover JSON is clipped here already; the formatter clips again to Slack's limit. */
const DETAILS_MAX = 3000;

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A displayable string from a scalar; objects, arrays, null and empty strings give undefined. */
function text(value: unknown): string | undefined {
    if (typeof value === "string") return value.trim() === "" ? undefined : value;
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    if (typeof value === "boolean") return String(value);
    return undefined;
}

/** Any value as one display string: scalars as themselves, the rest as compact JSON. */
function display(value: unknown): string {
    const scalar = text(value);
    if (scalar !== undefined) return scalar;
    if (value === null) return "null";
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

/** Keys compared without case or punctuation, so `alert_transition`, `alertTransition` and `ALERT-TRANSITION` match. */
function keyOf(key: string): string {
    return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** The first of `names` (in `keyOf` form) present in `obj` with a displayable scalar value. */
function pick(obj: JsonObject, names: readonly string[]): { key: string; value: string } | undefined {
    const byKey = new Map(Object.keys(obj).map((k) => [keyOf(k), k] as const));
    for (const name of names) {
        const key = byKey.get(name);
        if (key === undefined) continue;
        const value = text(obj[key]);
        if (value !== undefined) return { key, value };
    }
    return undefined;
}

function compact<T>(items: readonly (T | undefined)[]): T[] {
    return items.filter((item): item is T => item !== undefined);
}

function field(label: string, value: string | undefined): AlertField | undefined {
    return value === undefined ? undefined : { label, value };
}

function prettyJson(value: unknown): string {
    try {
        return JSON.stringify(value, null, 2) ?? String(value);
    } catch {
        return String(value);
    }
}

/**
 * Maps a state word from any source onto {@link AlertState}. Datadog's transitions ("Triggered",
 * "Re-Triggered", "Renotify", "Recovered", "Warn", "No Data"), alert types ("error", "success") and
 * common words of other tools ("firing", "resolved", "critical") are recognised.
 */
export function normaliseState(word: string | undefined): AlertState {
    if (word === undefined) return "UNKNOWN";
    const w = word.toLowerCase().replace(/[^a-z]/g, "");
    if (w === "") return "UNKNOWN";
    if (w === "alarm") return "ALARM";
    if (w.includes("recover") || w.includes("resolve") || ["ok", "success", "normal", "healthy", "passed"].includes(w)) return "OK";
    if (w.includes("nodata") || w.includes("insufficient")) return "INSUFFICIENT_DATA";
    if (w.includes("warn")) return "WARN";
    if (/trigger|renotify|alert|error|critical|fail|firing|fatal|emergency|high/.test(w)) return "ALARM";
    return "UNKNOWN";
}

// ---- CloudWatch -------------------------------------------------------------------------------

const COMPARISON_SYMBOL: Record<string, string> = {
    GreaterThanOrEqualToThreshold: "≥",
    GreaterThanThreshold: ">",
    LessThanThreshold: "<",
    LessThanOrEqualToThreshold: "≤",
    LessThanLowerOrGreaterThanUpperThreshold: "outside the band",
    GreaterThanUpperThreshold: "above the band",
    LessThanLowerThreshold: "below the band",
};

/** Region code and account id from `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`. */
export function parseAlarmArn(arn: string | undefined): { partition: string; region: string; account: string; name: string } | undefined {
    const match = arn === undefined ? null : /^arn:([a-z-]+):cloudwatch:([a-z0-9-]+):(\d{12}):alarm:(.+)$/.exec(arn);
    if (!match) return undefined;
    return { partition: match[1], region: match[2], account: match[3], name: match[4] };
}

/**
 * The CloudWatch console page of an alarm. Only the commercial partition's console host is known
 * here (China and GovCloud use other hosts, unconfirmed), so other partitions get no link.
 */
export function cloudWatchConsoleUrl(regionCode: string, alarmName: string, partition = "aws"): string | undefined {
    if (partition !== "aws" || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(regionCode)) return undefined;
    return `https://${regionCode}.console.aws.amazon.com/cloudwatch/home?region=${regionCode}#alarmsV2:alarm/${encodeURIComponent(alarmName)}`;
}

function dimensionsText(dimensions: unknown): string | undefined {
    if (!Array.isArray(dimensions)) return text(dimensions);
    const pairs = dimensions.map((d) => {
        if (!isObject(d)) return display(d);
        const name = pick(d, ["name"])?.value ?? "?";
        const value = pick(d, ["value"])?.value ?? "?";
        return `${name}=${value}`;
    });
    return pairs.length > 0 ? pairs.join(", ") : undefined;
}

function metricText(namespace: string | undefined, metricName: string | undefined, stat: string | undefined, period: string | undefined): string | undefined {
    if (metricName === undefined && namespace === undefined) return undefined;
    const name = [namespace, metricName].filter(Boolean).join(" ");
    const how = [stat?.toLowerCase(), period === undefined ? undefined : `${period} s`].filter(Boolean).join(", ");
    return how ? `${name} (${how})` : name;
}

/** One line per entry of a metric-math alarm's `Trigger.Metrics`: expressions and the metrics they use. */
function metricMathLines(metrics: unknown[]): string {
    return metrics
        .map((m) => {
            if (!isObject(m)) return display(m);
            const id = text(m.Id) ?? "?";
            const label = text(m.Label);
            const returned = m.ReturnData === true ? " (alarmed on)" : "";
            const expression = text(m.Expression);
            if (expression !== undefined) return `${id} = ${expression}${label ? ` "${label}"` : ""}${returned}`;
            const stat = isObject(m.MetricStat) ? m.MetricStat : {};
            const metric = isObject(stat.Metric) ? stat.Metric : {};
            const described = metricText(text(metric.Namespace), text(metric.MetricName), text(stat.Stat), text(stat.Period)) ?? display(m);
            const dims = dimensionsText(metric.Dimensions);
            return `${id} = ${described}${dims ? ` [${dims}]` : ""}${returned}`;
        })
        .join("\n");
}

function thresholdText(trigger: JsonObject): string | undefined {
    const operator = text(trigger.ComparisonOperator);
    const threshold = text(trigger.Threshold) ?? (text(trigger.ThresholdMetricId) ? `band ${text(trigger.ThresholdMetricId)}` : undefined);
    if (operator === undefined && threshold === undefined) return undefined;
    const symbol = operator === undefined ? undefined : (Object.hasOwn(COMPARISON_SYMBOL, operator) ? COMPARISON_SYMBOL[operator] : operator);
    const datapoints = text(trigger.DatapointsToAlarm);
    const periods = text(trigger.EvaluationPeriods);
    const over = periods === undefined ? "" : ` for ${datapoints ?? periods} of ${periods} periods`;
    return `${[symbol, threshold].filter(Boolean).join(" ")}${over}`;
}

function isCloudWatchAlarm(obj: JsonObject): boolean {
    return "AlarmName" in obj && ("NewStateValue" in obj || "AlarmArn" in obj || "Trigger" in obj);
}

function parseCloudWatch(alarm: JsonObject, subject: string | undefined): AlertSummary {
    const arn = parseAlarmArn(text(alarm.AlarmArn));
    const name = text(alarm.AlarmName) ?? arn?.name ?? subject ?? "CloudWatch alarm";
    const newState = text(alarm.NewStateValue);
    const oldState = text(alarm.OldStateValue);
    const trigger = isObject(alarm.Trigger) ? alarm.Trigger : {};
    const metrics = Array.isArray(trigger.Metrics) ? trigger.Metrics : undefined;

    const fields = compact([
        field("Description", text(alarm.AlarmDescription)),
        metrics
            ? field("Metrics", metricMathLines(metrics))
            : field("Metric", metricText(text(trigger.Namespace), text(trigger.MetricName), text(trigger.Statistic) ?? text(trigger.ExtendedStatistic), text(trigger.Period))),
        field("Threshold", thresholdText(trigger)),
        metrics ? undefined : field("Dimensions", dimensionsText(trigger.Dimensions)),
        field("Change", oldState && newState ? `${oldState} → ${newState}` : undefined),
        field("Alarm rule", text(alarm.AlarmRule)),
    ]);

    const regionName = text(alarm.Region);
    const region = arn && regionName ? `${regionName}, ${arn.region}` : regionName ?? arn?.region;
    const consoleUrl = arn ? cloudWatchConsoleUrl(arn.region, name, arn.partition) : undefined;
    return {
        source: "cloudwatch",
        state: newState === undefined ? "UNKNOWN" : normaliseState(newState),
        title: name,
        reason: text(alarm.NewStateReason),
        fields,
        consoleUrl,
        consoleLabel: consoleUrl ? "Open in CloudWatch" : undefined,
        region,
        account: text(alarm.AWSAccountId) ?? arn?.account,
        occurredAt: text(alarm.StateChangeTime),
        raw: alarm,
    };
}

// ---- Datadog ----------------------------------------------------------------------------------

/** Keys that only Datadog's webhook templates produce ($ALERT_TRANSITION, $EVENT_TITLE, …). */
const DATADOG_MARKERS = ["alerttransition", "eventtitle", "alertstatus", "alertid", "alerttitle", "alertquery", "alertscope", "alertmetric", "textonlymsg", "eventmsg", "alertcyclekey"];

const DATADOG_TITLE = ["title", "eventtitle", "alerttitle", "subject"];
const DATADOG_BODY = ["body", "textonlymsg", "eventmsg", "message", "text", "msg"];
const DATADOG_STATE = ["alerttransition", "transition", "alerttype", "status"];
const DATADOG_LINK = ["link", "url", "eventurl", "monitorurl"];
const DATADOG_FIELDS: readonly (readonly [string, string])[] = [
    ["Host", "hostname"],
    ["Host", "host"],
    ["Priority", "priority"],
    ["Status", "alertstatus"],
    ["Metric", "alertmetric"],
    ["Query", "alertquery"],
    ["Scope", "alertscope"],
    ["Tags", "tags"],
    ["Monitor", "alertid"],
    ["Monitor", "monitorid"],
];

function isDatadog(obj: JsonObject): boolean {
    const keys = new Set(Object.keys(obj).map(keyOf));
    return DATADOG_MARKERS.some((marker) => keys.has(marker));
}

/** Datadog's event text is markdown wrapped in `%%%` lines; the markers mean nothing to a reader. */
function stripDatadogMarkers(body: string): string {
    return body.replace(/^\s*%%%\s*$/gm, "").trim();
}

/** "[Triggered] CPU high on web-1" carries the transition in the title when no field does. */
function transitionFromTitle(title: string | undefined): string | undefined {
    return title === undefined ? undefined : /^\s*\[([^\]]+)\]/.exec(title)?.[1];
}

function parseDatadog(obj: JsonObject, subject: string | undefined): AlertSummary {
    const title = pick(obj, DATADOG_TITLE);
    const body = pick(obj, DATADOG_BODY);
    const stateWord = pick(obj, DATADOG_STATE)?.value ?? transitionFromTitle(title?.value);
    const link = pick(obj, DATADOG_LINK);
    const used = new Set(compact([title?.key, body?.key, link?.key]));

    const seenLabels = new Set<string>();
    const fields: AlertField[] = [];
    for (const [label, key] of DATADOG_FIELDS) {
        const found = pick(obj, [key]);
        if (found === undefined || seenLabels.has(label)) continue;
        seenLabels.add(label);
        used.add(found.key);
        fields.push({ label, value: found.value });
    }
    const transition = pick(obj, DATADOG_STATE);
    if (transition) used.add(transition.key);

    const org = isObject(obj.org) ? pick(obj.org, ["name"])?.value : undefined;
    if (org !== undefined) used.add("org");
    const occurredAt = pick(obj, ["date", "lastupdated", "timestamp"]);
    if (occurredAt) used.add(occurredAt.key);
    const leftovers = Object.fromEntries(Object.entries(obj).filter(([key]) => !used.has(key)));

    return {
        source: "datadog",
        state: normaliseState(stateWord),
        title: title?.value ?? subject ?? "Datadog alert",
        reason: body === undefined ? undefined : stripDatadogMarkers(body.value),
        fields,
        details: Object.keys(leftovers).length > 0 ? prettyJson(leftovers).slice(0, DETAILS_MAX) : undefined,
        consoleUrl: link?.value,
        consoleLabel: link ? "Open in Datadog" : undefined,
        account: org,
        occurredAt: occurredAt?.value,
        raw: obj,
    };
}

// ---- Other JSON and plain text ------------------------------------------------------------------

const GENERIC_TITLE = ["title", "alarmname", "alertname", "name", "summary", "subject", "detailtype", "event"];
const GENERIC_REASON = ["reason", "message", "description", "body", "text", "detail", "details"];
const GENERIC_STATE = ["state", "status", "severity", "level", "newstatevalue"];

function parseGenericJson(obj: JsonObject, subject: string | undefined): AlertSummary {
    const title = pick(obj, GENERIC_TITLE);
    const reason = pick(obj, GENERIC_REASON);
    const state = pick(obj, GENERIC_STATE);
    const used = new Set(compact([title?.key, reason?.key]));
    const rest = Object.entries(obj).filter(([key]) => !used.has(key));
    const shown = rest.slice(0, GENERIC_FIELD_LIMIT);
    const leftover = rest.slice(GENERIC_FIELD_LIMIT);
    return {
        source: "sns",
        state: normaliseState(state?.value),
        title: title?.value ?? subject ?? "Notification",
        reason: reason?.value,
        fields: shown.map(([key, value]) => ({ label: key, value: display(value) })),
        details: leftover.length > 0 ? prettyJson(Object.fromEntries(leftover)).slice(0, DETAILS_MAX) : undefined,
        region: pick(obj, ["region"])?.value,
        account: pick(obj, ["account", "accountid", "awsaccountid"])?.value,
        raw: obj,
    };
}

function parsePlainText(message: string, subject: string | undefined, raw: unknown): AlertSummary {
    const trimmed = message.trim();
    const firstLine = trimmed.split(/\r?\n/, 1)[0];
    const title = subject ?? (firstLine || "Empty notification");
    // Without a subject the first line is already the title; repeating it as the body adds nothing.
    const reason = subject !== undefined ? trimmed : trimmed.slice(firstLine.length).trim();
    return {
        source: "sns",
        state: normaliseState(transitionFromTitle(title) ?? /^(ALARM|OK|INSUFFICIENT_DATA)\b/.exec(title)?.[1]),
        title,
        reason: reason === "" ? undefined : reason,
        fields: [],
        raw,
    };
}

/**
 * Summarises one SNS message. `subject` is the SNS Subject (CloudWatch sets it to e.g.
 * `ALARM: "HighCPU" in Asia Pacific (Tokyo)`); it titles messages that carry no title of their own.
 * Never throws: anything unreadable becomes a plain-text summary of the raw message.
 */
export function parseSnsMessage(message: string, subject?: string): AlertSummary {
    const cleanSubject = typeof subject === "string" && subject.trim() !== "" ? subject.trim() : undefined;
    let body = "";
    try {
        // The type says string, but the event comes from outside; a non-string must not throw.
        body = typeof message === "string" ? message : display(message);
        let parsed: unknown;
        try {
            parsed = JSON.parse(body);
        } catch {
            return parseBudgetNotification(body, cleanSubject) ?? parsePlainText(body, cleanSubject, body);
        }
        if (!isObject(parsed)) return parsePlainText(body, cleanSubject, parsed);
        if (isCloudWatchAlarm(parsed)) return parseCloudWatch(parsed, cleanSubject);
        if (isDatadog(parsed)) return parseDatadog(parsed, cleanSubject);
        const awsEvent = parseAwsEvent(parsed);
        if (awsEvent !== undefined) return awsEvent;
        return parseGenericJson(parsed, cleanSubject);
    } catch {
        // A shape nobody foresaw; a readable message beats a lost alert.
        return parsePlainText(body, cleanSubject, body);
    }
}
