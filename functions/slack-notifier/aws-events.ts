import type { AlertField, AlertState, AlertSummary } from "../shared/slack-message";

/**
 * AWS's own alert sources as they reach the alert topic: EventBridge events (GuardDuty, Security
 * Hub, AWS Health, AWS Backup) arrive as the raw event JSON (`version, id, detail-type, source,
 * account, time, region, resources, detail`), and AWS Budgets publishes plain English text. Each
 * becomes an {@link AlertSummary} whose title names the service and a severity, so the header and
 * the notification text say what and how bad before anyone opens the message.
 *
 * Nothing from outside is trusted: every field is read with a type check, and the recognisers
 * return undefined (never throw) when the input is not what they know, so the caller's generic
 * parsers take over.
 */

type JsonObject = Record<string, unknown>;

/** The severity words shown for every AWS source; GuardDuty and Security Hub use these bands. */
export type AwsSeverity = "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "INFORMATIONAL" | "UNKNOWN";

/** How many affected entities or extra findings are listed before "and N more". */
export const LIST_LIMIT = 10;

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A displayable string from a scalar; objects, arrays, null and empty strings give undefined. */
function text(value: unknown): string | undefined {
    if (typeof value === "string") return value.trim() === "" ? undefined : value.trim();
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    if (typeof value === "boolean") return String(value);
    return undefined;
}

function obj(value: unknown): JsonObject {
    return isObject(value) ? value : {};
}

function first(value: unknown): unknown {
    return Array.isArray(value) ? value[0] : undefined;
}

function compact<T>(items: readonly (T | undefined)[]): T[] {
    return items.filter((item): item is T => item !== undefined);
}

function field(label: string, value: string | undefined): AlertField | undefined {
    return value === undefined ? undefined : { label, value };
}

/** A list shown as lines, at most {@link LIST_LIMIT} of them and a count of the rest. */
function listText(items: readonly string[]): string | undefined {
    if (items.length === 0) return undefined;
    const shown = items.slice(0, LIST_LIMIT);
    const rest = items.length - shown.length;
    return shown.join("\n") + (rest > 0 ? `\n…and ${rest} more` : "");
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Console links only for the commercial partition and a well-formed region code (other partitions use other hosts). */
function consoleRegion(region: string | undefined, partition: string | undefined): string | undefined {
    if (partition !== undefined && partition !== "aws") return undefined;
    return region !== undefined && REGION.test(region) ? region : undefined;
}

function partitionOf(arn: string | undefined): string | undefined {
    return arn === undefined ? undefined : /^arn:([a-z-]+):/.exec(arn)?.[1];
}

/** "GuardDuty HIGH: <title>": the service and the severity lead, so a glance at the notification says enough. */
function headline(source: string, severity: string, title: string): string {
    return `${source} ${severity}: ${title}`;
}

/** The parts of an EventBridge event that every service shares. */
interface Envelope {
    readonly detailType: string;
    readonly source: string;
    readonly account?: string;
    readonly region?: string;
    readonly time?: string;
    readonly resources: string[];
    readonly detail: JsonObject;
}

/** The EventBridge envelope, when `event` has one from an AWS service (`source` "aws.…", a `detail-type` and a `detail` object). */
export function eventEnvelope(event: JsonObject): Envelope | undefined {
    const source = text(event.source);
    const detailType = text(event["detail-type"]);
    if (source === undefined || !source.startsWith("aws.") || detailType === undefined || !isObject(event.detail)) return undefined;
    return {
        detailType,
        source,
        account: text(event.account),
        region: text(event.region),
        time: text(event.time),
        resources: Array.isArray(event.resources) ? compact(event.resources.map(text)) : [],
        detail: event.detail,
    };
}

// ---- GuardDuty --------------------------------------------------------------------------------

/** GuardDuty's bands for its numeric severity: Low 1.0–3.9, Medium 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0. */
export function guardDutySeverityLabel(severity: number | undefined): AwsSeverity {
    if (severity === undefined || !Number.isFinite(severity)) return "UNKNOWN";
    if (severity >= 9) return "CRITICAL";
    if (severity >= 7) return "HIGH";
    if (severity >= 4) return "MEDIUM";
    return "LOW";
}

function numberOf(value: unknown): number | undefined {
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
    return undefined;
}

/** The state an alert of this severity is shown in: CRITICAL and HIGH are alarms, the rest warnings. */
function stateOfSeverity(severity: AwsSeverity): AlertState {
    if (severity === "CRITICAL" || severity === "HIGH") return "ALARM";
    if (severity === "MEDIUM" || severity === "LOW") return "WARN";
    if (severity === "INFORMATIONAL") return "OK";
    return "UNKNOWN";
}

/** What a finding is about, e.g. "Instance i-0abc…" or "AccessKey AKIA… (user alice)". */
function guardDutyResource(resource: JsonObject): string | undefined {
    const type = text(resource.resourceType);
    const instance = obj(resource.instanceDetails);
    const key = obj(resource.accessKeyDetails);
    const bucket = obj(first(resource.s3BucketDetails));
    const identifier =
        text(instance.instanceId) ??
        (text(key.userName) ? `${text(key.accessKeyId) ?? ""} (${text(key.userType) ?? "user"} ${text(key.userName)})`.trim() : undefined) ??
        text(bucket.name) ??
        text(obj(resource.eksClusterDetails).name) ??
        text(obj(resource.ecsClusterDetails).name) ??
        text(obj(resource.rdsDbInstanceDetails).dbInstanceIdentifier) ??
        text(obj(resource.lambdaDetails).functionName);
    if (type === undefined && identifier === undefined) return undefined;
    return [type, identifier].filter(Boolean).join(" ");
}

/** The GuardDuty console page of one finding. */
export function guardDutyConsoleUrl(region: string | undefined, findingId: string | undefined, partition?: string): string | undefined {
    const where = consoleRegion(region, partition);
    if (where === undefined || findingId === undefined || !/^[A-Za-z0-9]+$/.test(findingId)) return undefined;
    return `https://${where}.console.aws.amazon.com/guardduty/home?region=${where}#/findings?macros=current&fId=${findingId}`;
}

function parseGuardDuty(env: Envelope): AlertSummary {
    const d = env.detail;
    const score = numberOf(d.severity);
    const severity = guardDutySeverityLabel(score);
    const service = obj(d.service);
    const region = text(d.region) ?? env.region;
    const arn = text(d.arn);
    const consoleUrl = guardDutyConsoleUrl(region, text(d.id), text(d.partition) ?? partitionOf(arn));
    return {
        source: "GuardDuty",
        state: stateOfSeverity(severity),
        title: headline("GuardDuty", severity, text(d.title) ?? text(d.type) ?? env.detailType),
        reason: text(d.description),
        fields: compact([
            field("Severity", score === undefined ? severity : `${severity} (${score})`),
            field("Finding type", text(d.type)),
            field("Resource", guardDutyResource(obj(d.resource)) ?? listText(env.resources)),
            field("Occurrences", text(service.count)),
            field("First seen", text(service.eventFirstSeen)),
            field("Last seen", text(service.eventLastSeen)),
        ]),
        consoleUrl,
        consoleLabel: consoleUrl ? "Open in GuardDuty" : undefined,
        region,
        account: text(d.accountId) ?? env.account,
        occurredAt: text(d.updatedAt) ?? env.time,
        raw: env,
    };
}

// ---- Security Hub -----------------------------------------------------------------------------

const SECURITY_HUB_LABELS: readonly AwsSeverity[] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"];

/** A finding's severity: its `Label`, or the label Security Hub derives from `Normalized` (0, 1–39, 40–69, 70–89, 90–100). */
export function securityHubSeverityLabel(severity: unknown): AwsSeverity {
    const s = obj(severity);
    const label = text(s.Label)?.toUpperCase();
    if (label !== undefined && (SECURITY_HUB_LABELS as readonly string[]).includes(label)) return label as AwsSeverity;
    const normalized = numberOf(s.Normalized);
    if (normalized === undefined) return "UNKNOWN";
    if (normalized >= 90) return "CRITICAL";
    if (normalized >= 70) return "HIGH";
    if (normalized >= 40) return "MEDIUM";
    if (normalized >= 1) return "LOW";
    return "INFORMATIONAL";
}

/** The Security Hub console's findings page of a region (a link to one finding needs a search filter whose format is unconfirmed). */
export function securityHubConsoleUrl(region: string | undefined, partition?: string): string | undefined {
    const where = consoleRegion(region, partition);
    return where === undefined ? undefined : `https://${where}.console.aws.amazon.com/securityhub/home?region=${where}#/findings`;
}

function parseSecurityHub(env: Envelope): AlertSummary | undefined {
    const findings = Array.isArray(env.detail.findings) ? env.detail.findings.filter(isObject) : [];
    const f = findings[0];
    if (f === undefined) return undefined;
    const severity = securityHubSeverityLabel(f.Severity);
    const resource = obj(first(f.Resources));
    const recommendation = obj(obj(f.Remediation).Recommendation);
    const workflow = text(obj(f.Workflow).Status);
    const compliance = text(obj(f.Compliance).Status);
    const closed = text(f.RecordState) === "ARCHIVED" || workflow === "RESOLVED" || workflow === "SUPPRESSED";
    const region = text(f.Region) ?? text(resource.Region) ?? env.region;
    const product = text(f.ProductName) ?? text(obj(f.ProductFields)["aws/securityhub/ProductName"]);
    const others = findings.slice(1).map((o) => `${securityHubSeverityLabel(o.Severity)}: ${text(o.Title) ?? text(o.Id) ?? "untitled finding"}`);
    const consoleUrl = securityHubConsoleUrl(region, text(resource.Partition) ?? partitionOf(text(f.ProductArn)));
    return {
        source: "Security Hub",
        state: closed ? "OK" : stateOfSeverity(severity),
        title: headline("Security Hub", severity, text(f.Title) ?? env.detailType),
        reason: text(f.Description),
        fields: compact([
            field("Severity", severity),
            field("Product", product),
            field("Resource", [text(resource.Type), text(resource.Id)].filter(Boolean).join(" ") || undefined),
            field("Compliance", compliance),
            field("Workflow", [workflow, text(f.RecordState)].filter(Boolean).join(", ") || undefined),
            field("Remediation", [text(recommendation.Text), text(recommendation.Url)].filter(Boolean).join("\n") || undefined),
            field("Other findings in this event", listText(others)),
        ]),
        consoleUrl,
        consoleLabel: consoleUrl ? "Open Security Hub findings" : undefined,
        region,
        account: text(f.AwsAccountId) ?? env.account,
        occurredAt: text(f.UpdatedAt) ?? env.time,
        raw: env,
    };
}

// ---- AWS Health -------------------------------------------------------------------------------

/**
 * AWS Health has categories, not severities; alertline reads an issue as HIGH, a scheduled change
 * as MEDIUM, and an account notification (or anything else) as LOW.
 */
export function healthSeverity(category: string | undefined): AwsSeverity {
    if (category === "issue") return "HIGH";
    if (category === "scheduledChange") return "MEDIUM";
    return "LOW";
}

/** The AWS Health Dashboard page of one event in this account. */
export function healthConsoleUrl(eventArn: string | undefined): string | undefined {
    if (eventArn === undefined || !eventArn.startsWith("arn:aws:health:")) return undefined;
    return `https://health.aws.amazon.com/health/home#/account/event-log?eventID=${encodeURIComponent(eventArn)}&eventTab=details`;
}

function healthDescription(descriptions: unknown): string | undefined {
    if (!Array.isArray(descriptions)) return undefined;
    const entries = descriptions.filter(isObject);
    const english = entries.find((e) => text(e.language)?.toLowerCase().startsWith("en")) ?? entries[0];
    return english === undefined ? undefined : text(english.latestDescription);
}

function parseHealth(env: Envelope): AlertSummary {
    const d = env.detail;
    const category = text(d.eventTypeCategory);
    const status = text(d.statusCode);
    const severity = healthSeverity(category);
    const service = text(d.service);
    const code = text(d.eventTypeCode);
    const entities = Array.isArray(d.affectedEntities) ? compact(d.affectedEntities.map((e) => text(obj(e).entityValue))) : [];
    const consoleUrl = healthConsoleUrl(text(d.eventArn));
    const state: AlertState = status === "closed" ? "OK" : category === "issue" ? "ALARM" : "WARN";
    return {
        source: "AWS Health",
        state,
        title: headline("AWS Health", severity, code ?? (service ? `${service} event` : env.detailType)),
        reason: healthDescription(d.eventDescription),
        fields: compact([
            field("Severity", `${severity} (${category ?? "unknown category"})`),
            field("Service", service),
            field("Status", status),
            field("Affected", listText(entities) ?? listText(env.resources)),
            field("Event region", text(d.eventRegion)),
            field("Scope", text(d.eventScopeCode)),
            field("Start", text(d.startTime)),
            field("End", text(d.endTime)),
        ]),
        consoleUrl,
        consoleLabel: consoleUrl ? "Open in AWS Health" : undefined,
        region: text(d.eventRegion) ?? env.region,
        account: env.account,
        occurredAt: text(d.lastUpdatedTime) ?? env.time,
        raw: env,
    };
}

// ---- AWS Backup -------------------------------------------------------------------------------

const BACKUP_JOBS: Record<string, { kind: string; idKey: string; path: string }> = {
    "Backup Job State Change": { kind: "Backup job", idKey: "backupJobId", path: "backup" },
    "Copy Job State Change": { kind: "Copy job", idKey: "copyJobId", path: "copy" },
    "Restore Job State Change": { kind: "Restore job", idKey: "restoreJobId", path: "restore" },
};

/** A failed job is HIGH, a partial one MEDIUM, anything else (completed, running) LOW. */
export function backupSeverity(state: string | undefined): AwsSeverity {
    const s = state?.toUpperCase();
    if (s === "FAILED" || s === "ABORTED" || s === "EXPIRED") return "HIGH";
    if (s === "PARTIAL") return "MEDIUM";
    return s === undefined ? "UNKNOWN" : "LOW";
}

/** The AWS Backup console's page of one job (path `#/jobs/<backup|copy|restore>/details/<id>`; unconfirmed, the console has no documented deep links). */
export function backupConsoleUrl(region: string | undefined, kind: "backup" | "copy" | "restore" | string, jobId: string | undefined): string | undefined {
    const where = consoleRegion(region, undefined);
    if (where === undefined || jobId === undefined || !/^[A-Za-z0-9-]+$/.test(jobId)) return undefined;
    return `https://${where}.console.aws.amazon.com/backup/home?region=${where}#/jobs/${kind}/details/${jobId}`;
}

function parseBackup(env: Envelope): AlertSummary | undefined {
    const job = Object.hasOwn(BACKUP_JOBS, env.detailType) ? BACKUP_JOBS[env.detailType] : undefined;
    if (job === undefined) return undefined;
    const d = env.detail;
    // Backup and copy jobs report `state`, restore jobs `status` (as in AWS Backup's API).
    const jobState = text(d.state) ?? text(d.status);
    const severity = backupSeverity(jobState);
    const resource = text(d.resourceArn) ?? text(d.sourceResourceArn) ?? text(d.createdResourceArn) ?? env.resources[0];
    const vault = text(d.backupVaultName) ?? text(d.backupVaultArn);
    const copyRoute = text(d.sourceBackupVaultArn) && text(d.destinationBackupVaultArn) ? `${text(d.sourceBackupVaultArn)} → ${text(d.destinationBackupVaultArn)}` : undefined;
    const jobId = text(d[job.idKey]);
    const upper = jobState?.toUpperCase();
    const state: AlertState = severity === "HIGH" ? "ALARM" : severity === "MEDIUM" ? "WARN" : upper === "COMPLETED" ? "OK" : "UNKNOWN";
    const shortResource = resource?.split(/[:/]/).pop();
    const consoleUrl = backupConsoleUrl(env.region, job.path, jobId);
    return {
        source: "AWS Backup",
        state,
        title: headline("AWS Backup", severity, `${job.kind} ${jobState ?? "changed state"}${shortResource ? ` for ${shortResource}` : ""}`),
        reason: text(d.statusMessage),
        fields: compact([
            field("Severity", `${severity} (${job.kind.toLowerCase()} ${jobState ?? "state unknown"})`),
            field("Resource", resource),
            field("Resource type", text(d.resourceType)),
            field("Vault", copyRoute ?? vault),
            field("Job", jobId),
            field("Started", text(d.creationDate)),
        ]),
        consoleUrl,
        consoleLabel: consoleUrl ? "Open in AWS Backup" : undefined,
        region: env.region,
        account: env.account,
        occurredAt: env.time,
        raw: env,
    };
}

/**
 * An {@link AlertSummary} for an EventBridge event from GuardDuty, Security Hub, AWS Health or AWS
 * Backup; undefined for any other event or shape (the caller then shows it generically). Never throws.
 */
export function parseAwsEvent(event: JsonObject): AlertSummary | undefined {
    try {
        const env = eventEnvelope(event);
        if (env === undefined) return undefined;
        switch (env.source) {
            case "aws.guardduty":
                return env.detailType === "GuardDuty Finding" ? parseGuardDuty(env) : undefined;
            case "aws.securityhub":
                return env.detailType.startsWith("Security Hub Findings") ? parseSecurityHub(env) : undefined;
            case "aws.health":
                return parseHealth(env);
            case "aws.backup":
                return parseBackup(env);
            default:
                return undefined;
        }
    } catch {
        return undefined;
    }
}

// ---- AWS Budgets ------------------------------------------------------------------------------

/** Where AWS Budgets' notifications point when the message carries no link of its own. */
export const BUDGETS_CONSOLE_URL = "https://console.aws.amazon.com/billing/home#/budgets";

/** `$1,234.56` → 1234.56; other currencies or shapes give undefined. */
export function dollars(amount: string | undefined): number | undefined {
    const match = amount === undefined ? null : /^\$\s?([\d,]+(?:\.\d+)?)$/.exec(amount.trim());
    if (!match) return undefined;
    const value = Number(match[1].replace(/,/g, ""));
    return Number.isFinite(value) ? value : undefined;
}

function percentOf(part: number | undefined, whole: number | undefined): string | undefined {
    if (part === undefined || whole === undefined || whole <= 0) return undefined;
    return `${Math.round((part / whole) * 1000) / 10}%`;
}

/** The `Key: Value` lines of a Budgets notification, keys as written. */
function budgetLines(message: string): Map<string, string> {
    const lines = new Map<string, string>();
    for (const line of message.split(/\r?\n/)) {
        const match = /^\s*([A-Za-z][A-Za-z ]{2,40}):\s*(.+?)\s*$/.exec(line);
        if (match && !lines.has(match[1])) lines.set(match[1], match[2]);
    }
    return lines;
}

/** True when `message` reads like an AWS Budgets notification (its first line, or a Budgets subject and a "Budget Name:" line). */
export function isBudgetNotification(message: string, subject?: string): boolean {
    if (typeof message !== "string") return false;
    if (/^\s*AWS Budget Notification\b/.test(message)) return true;
    return typeof subject === "string" && /^\s*AWS Budgets:/.test(subject) && /^\s*Budget Name:/m.test(message);
}

/**
 * An {@link AlertSummary} for the plain text AWS Budgets publishes to SNS ("AWS Budget Notification
 * <date> / AWS Account <id> / … / Budget Name: … / Budgeted Amount: … / Alert Type: ACTUAL /
 * Alert Threshold: > $80.00 / ACTUAL Amount: $85.50"); undefined when it is not one. Never throws.
 */
export function parseBudgetNotification(message: string, subject?: string): AlertSummary | undefined {
    try {
        if (!isBudgetNotification(message, subject)) return undefined;
        const lines = budgetLines(message);
        const sentence = /You requested that we alert you[^\n]*/.exec(message)?.[0];
        const name = lines.get("Budget Name") ?? (sentence ? /associated with your (.+?) budget is/.exec(sentence)?.[1] : undefined) ?? subject?.replace(/^\s*AWS Budgets:\s*/, "").replace(/ has exceeded your alert threshold\s*$/, "");
        const alertType = (lines.get("Alert Type") ?? (sentence ? /alert you when the (ACTUAL|FORECASTED)\b/.exec(sentence)?.[1] : undefined))?.toUpperCase();
        const budgeted = lines.get("Budgeted Amount");
        const threshold = lines.get("Alert Threshold");
        const amountKey = alertType === "FORECASTED" ? "FORECASTED Amount" : "ACTUAL Amount";
        const amount = lines.get(amountKey) ?? lines.get("ACTUAL Amount") ?? lines.get("FORECASTED Amount");
        const budgetedUsd = dollars(budgeted);
        const thresholdUsd = dollars(threshold?.replace(/^[<>=]+\s*/, ""));
        const amountUsd = dollars(amount);
        const forecast = alertType === "FORECASTED";
        const overBudget = amountUsd !== undefined && budgetedUsd !== undefined && amountUsd >= budgetedUsd;
        const severity: AwsSeverity = !forecast && overBudget ? "HIGH" : "MEDIUM";
        const thresholdPercent = percentOf(thresholdUsd, budgetedUsd);
        const amountPercent = percentOf(amountUsd, budgetedUsd);
        const link = /https:\/\/console\.aws\.amazon\.com\/[^\s\]]*/.exec(message)?.[0] ?? BUDGETS_CONSOLE_URL;
        const what = forecast ? "forecast above" : "actual cost above";
        return {
            source: "AWS Budgets",
            state: forecast ? "WARN" : "ALARM",
            title: headline("AWS Budgets", severity, `${name ?? "budget"}: ${what} ${thresholdPercent ?? threshold ?? "its threshold"}`),
            reason: sentence,
            fields: compact([
                field("Severity", `${severity} (${alertType ?? "alert"}${overBudget ? ", over budget" : ""})`),
                field("Budget", name),
                field("Alert type", alertType),
                field("Threshold", threshold === undefined ? undefined : `${threshold}${thresholdPercent ? ` (${thresholdPercent} of budget)` : ""}`),
                field(forecast ? "Forecasted" : "Actual", amount === undefined ? undefined : `${amount}${amountPercent ? ` (${amountPercent} of budget)` : ""}`),
                field("Budgeted", budgeted),
                field("Budget type", lines.get("Budget Type")),
            ]),
            consoleUrl: link,
            consoleLabel: "Open AWS Budgets",
            account: /^\s*AWS Account (\d{12})\s*$/m.exec(message)?.[1],
            occurredAt: /^\s*AWS Budget Notification (.+?)\s*$/m.exec(message)?.[1],
            raw: message,
        };
    } catch {
        return undefined;
    }
}
