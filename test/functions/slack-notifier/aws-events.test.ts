import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSlackMessage, type AlertSummary } from "../../../functions/shared/slack-message";
import { parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";
import {
    backupSeverity,
    dollars,
    guardDutyConsoleUrl,
    guardDutySeverityLabel,
    healthSeverity,
    isBudgetNotification,
    LIST_LIMIT,
    parseAwsEvent,
    parseBudgetNotification,
    securityHubSeverityLabel,
} from "../../../functions/slack-notifier/aws-events";
import { slackLimitViolations } from "../shared/slack-limits";

const fixture = (name: string): string => readFileSync(join(__dirname, "../../fixtures/aws-events", name), "utf8");
const fieldValue = (alert: AlertSummary, label: string): string | undefined => alert.fields.find((f) => f.label === label)?.value;
const rendered = (alert: AlertSummary): string => JSON.stringify(buildSlackMessage(alert, { environment: "dev" }));

/** Every fixture, with the service and severity a reader must see. */
const FIXTURES = [
    { file: "guardduty-finding.json", source: "GuardDuty", severity: "HIGH", state: "ALARM" },
    { file: "securityhub-findings-imported.json", source: "Security Hub", severity: "HIGH", state: "ALARM" },
    { file: "health-issue.json", source: "AWS Health", severity: "HIGH", state: "ALARM" },
    { file: "backup-job-failed.json", source: "AWS Backup", severity: "HIGH", state: "ALARM" },
    { file: "budget-actual.txt", source: "AWS Budgets", severity: "HIGH", state: "ALARM" },
] as const;

describe.each(FIXTURES)("$file", ({ file, source, severity, state }) => {
    const summary = parseSnsMessage(fixture(file));

    it(`is recognised as ${source} and names its severity`, () => {
        expect(summary.source).toBe(source);
        expect(summary.state).toBe(state);
        expect(fieldValue(summary, "Severity")).toMatch(new RegExp(`^${severity}\\b`));
        expect(summary.title.startsWith(`${source} ${severity}: `)).toBe(true);
    });

    it("renders to a Block Kit message within Slack's limits that shows source, severity and a console link", () => {
        const payload = buildSlackMessage(summary, { environment: "dev" });
        expect(slackLimitViolations(payload)).toEqual([]);
        const header = (payload.blocks[0] as { text: { text: string } }).text.text;
        expect(header).toContain(`${source} ${severity}`);
        expect(payload.text).toContain(`${source} ${severity}`);
        expect(JSON.stringify(payload.blocks.at(-1))).toContain(source);
        expect(JSON.stringify(payload.blocks)).toContain(":link: <https://");
    });

    it("is not shown as raw JSON", () => {
        expect(summary.details).toBeUndefined();
        expect(rendered(summary)).not.toContain('\\"detail-type\\"');
    });
});

describe("GuardDuty", () => {
    const event = JSON.parse(fixture("guardduty-finding.json"));
    const summary = parseSnsMessage(fixture("guardduty-finding.json"));

    it("shows title, description, type, resource, account, region and the finding's console page", () => {
        expect(summary.title).toBe(`GuardDuty HIGH: ${event.detail.title}`);
        expect(summary.reason).toBe(event.detail.description);
        expect(fieldValue(summary, "Finding type")).toBe(event.detail.type);
        expect(fieldValue(summary, "Resource")).toBe(`Instance ${event.detail.resource.instanceDetails.instanceId}`);
        expect(fieldValue(summary, "Occurrences")).toBe(String(event.detail.service.count));
        expect(summary.account).toBe(event.account);
        expect(summary.region).toBe(event.region);
        expect(summary.consoleUrl).toBe(
            `https://ap-northeast-1.console.aws.amazon.com/guardduty/home?region=ap-northeast-1#/findings?macros=current&fId=${event.detail.id}`,
        );
    });

    it.each([
        [1, "LOW"],
        [3.9, "LOW"],
        [4, "MEDIUM"],
        [6.9, "MEDIUM"],
        [7, "HIGH"],
        [8.9, "HIGH"],
        [9, "CRITICAL"],
        [10, "CRITICAL"],
    ])("maps severity %d to %s (GuardDuty's bands)", (value, label) => {
        expect(guardDutySeverityLabel(value)).toBe(label);
    });

    it("shows a medium finding as a warning and a critical one as an alarm", () => {
        const at = (severity: number) => parseAwsEvent({ ...event, detail: { ...event.detail, severity } })!;
        expect(at(5.5).state).toBe("WARN");
        expect(at(9.2).state).toBe("ALARM");
        expect(fieldValue(at(9.2), "Severity")).toBe("CRITICAL (9.2)");
    });

    it("gives no console link for another partition or an odd finding id", () => {
        expect(guardDutyConsoleUrl("cn-north-1", "abc", "aws-cn")).toBeUndefined();
        expect(guardDutyConsoleUrl("eu-west-1", "abc&x=<y>")).toBeUndefined();
    });
});

describe("Security Hub", () => {
    const event = JSON.parse(fixture("securityhub-findings-imported.json"));
    const [finding] = event.detail.findings;
    const summary = parseSnsMessage(fixture("securityhub-findings-imported.json"));

    it("shows the first finding's title, product, resource and remediation", () => {
        expect(summary.title).toBe(`Security Hub HIGH: ${finding.Title}`);
        expect(fieldValue(summary, "Product")).toBe(finding.ProductName);
        expect(fieldValue(summary, "Resource")).toBe(`${finding.Resources[0].Type} ${finding.Resources[0].Id}`);
        expect(fieldValue(summary, "Remediation")).toContain(finding.Remediation.Recommendation.Url);
        expect(summary.account).toBe(finding.AwsAccountId);
        expect(summary.region).toBe(finding.Region);
    });

    it("lists the other findings of the same event with their severity", () => {
        expect(fieldValue(summary, "Other findings in this event")).toBe(`CRITICAL: ${event.detail.findings[1].Title}`);
    });

    it("reads an archived finding as resolved", () => {
        const archived = { ...event, detail: { findings: [{ ...finding, RecordState: "ARCHIVED" }] } };
        expect(parseAwsEvent(archived)!.state).toBe("OK");
    });

    it("derives the label from Normalized when Label is missing", () => {
        expect(securityHubSeverityLabel({ Normalized: 95 })).toBe("CRITICAL");
        expect(securityHubSeverityLabel({ Normalized: 70 })).toBe("HIGH");
        expect(securityHubSeverityLabel({ Normalized: 40 })).toBe("MEDIUM");
        expect(securityHubSeverityLabel({ Normalized: 0 })).toBe("INFORMATIONAL");
        expect(securityHubSeverityLabel({ Label: "bogus" })).toBe("UNKNOWN");
    });
});

describe("AWS Health", () => {
    const event = JSON.parse(fixture("health-issue.json"));
    const summary = parseSnsMessage(fixture("health-issue.json"));

    it("shows event type, service, status, description, affected entities and the event's dashboard page", () => {
        expect(summary.title).toBe(`AWS Health HIGH: ${event.detail.eventTypeCode}`);
        expect(summary.reason).toBe(event.detail.eventDescription[0].latestDescription);
        expect(fieldValue(summary, "Service")).toBe("EC2");
        expect(fieldValue(summary, "Status")).toBe("open");
        expect(fieldValue(summary, "Affected")).toBe(event.detail.affectedEntities.map((e: { entityValue: string }) => e.entityValue).join("\n"));
        expect(summary.consoleUrl).toContain(encodeURIComponent(event.detail.eventArn));
        expect(new URL(summary.consoleUrl!).host).toBe("health.aws.amazon.com");
    });

    it("reads a closed event as OK and a scheduled change as a medium warning", () => {
        expect(parseAwsEvent({ ...event, detail: { ...event.detail, statusCode: "closed" } })!.state).toBe("OK");
        const scheduled = parseAwsEvent({ ...event, detail: { ...event.detail, eventTypeCategory: "scheduledChange", statusCode: "upcoming" } })!;
        expect(scheduled.state).toBe("WARN");
        expect(fieldValue(scheduled, "Severity")).toBe("MEDIUM (scheduledChange)");
        expect(healthSeverity("accountNotification")).toBe("LOW");
    });

    it(`lists at most ${LIST_LIMIT} affected entities and counts the rest`, () => {
        const many = Array.from({ length: LIST_LIMIT + 5 }, (_, i) => ({ entityValue: `i-${i}` }));
        const affected = fieldValue(parseAwsEvent({ ...event, detail: { ...event.detail, affectedEntities: many } })!, "Affected")!;
        expect(affected.split("\n")).toHaveLength(LIST_LIMIT + 1);
        expect(affected).toContain("and 5 more");
    });
});

describe("AWS Backup", () => {
    const event = JSON.parse(fixture("backup-job-failed.json"));
    const summary = parseSnsMessage(fixture("backup-job-failed.json"));

    it("shows state, vault, resource, status message and the job's console page", () => {
        expect(summary.title).toBe("AWS Backup HIGH: Backup job FAILED for alertline-dev-state-table");
        expect(summary.reason).toBe(event.detail.statusMessage);
        expect(fieldValue(summary, "Vault")).toBe(event.detail.backupVaultName);
        expect(fieldValue(summary, "Resource")).toBe(event.detail.resourceArn);
        expect(fieldValue(summary, "Job")).toBe(event.detail.backupJobId);
        expect(summary.consoleUrl).toBe(`https://eu-west-1.console.aws.amazon.com/backup/home?region=eu-west-1#/jobs/backup/details/${event.detail.backupJobId}`);
    });

    it("reads a failed restore job by its status field", () => {
        const restore = parseAwsEvent({
            ...event,
            "detail-type": "Restore Job State Change",
            detail: { restoreJobId: "D59196C8-0000-4C80-E71E-8F41E6D364E5", status: "FAILED", resourceType: "EC2", statusMessage: "no capacity" },
        })!;
        expect(restore.source).toBe("AWS Backup");
        expect(restore.state).toBe("ALARM");
        expect(restore.title).toContain("Restore job FAILED");
        expect(restore.consoleUrl).toContain("#/jobs/restore/details/D59196C8-0000-4C80-E71E-8F41E6D364E5");
    });

    it("maps job states to severities", () => {
        expect(["FAILED", "ABORTED", "EXPIRED"].map(backupSeverity)).toEqual(["HIGH", "HIGH", "HIGH"]);
        expect(backupSeverity("PARTIAL")).toBe("MEDIUM");
        expect(backupSeverity("COMPLETED")).toBe("LOW");
    });

    it("leaves other AWS Backup events to the generic parser", () => {
        expect(parseAwsEvent({ ...event, "detail-type": "Backup Vault State Change" })).toBeUndefined();
    });
});

describe("AWS Budgets", () => {
    const text = fixture("budget-actual.txt");
    const summary = parseSnsMessage(text, "AWS Budgets: alertline-dev-alerts-monthly has exceeded your alert threshold");

    it("shows budget name, threshold and actual against budgeted amount", () => {
        expect(fieldValue(summary, "Budget")).toBe("alertline-dev-alerts-monthly");
        expect(fieldValue(summary, "Threshold")).toBe("> $80.00 (80% of budget)");
        expect(fieldValue(summary, "Actual")).toBe("$103.27 (103.3% of budget)");
        expect(fieldValue(summary, "Budgeted")).toBe("$100.00");
        expect(summary.title).toBe("AWS Budgets HIGH: alertline-dev-alerts-monthly: actual cost above 80%");
        expect(summary.account).toBe("210987654321");
        expect(summary.consoleUrl).toBe("https://console.aws.amazon.com/billing/home#/budgets");
    });

    it("reads the subject's budget name even without the subject", () => {
        expect(parseSnsMessage(text).source).toBe("AWS Budgets");
    });

    it("shows a forecast under budget as a medium warning", () => {
        const forecast = text.replace(/ACTUAL/g, "FORECASTED").replaceAll("$103.27", "$95.00");
        const parsed = parseSnsMessage(forecast);
        expect(parsed.state).toBe("WARN");
        expect(fieldValue(parsed, "Severity")).toMatch(/^MEDIUM/);
        expect(fieldValue(parsed, "Forecasted")).toBe("$95.00 (95% of budget)");
    });

    it("recognises only Budgets text", () => {
        expect(isBudgetNotification("Backup failed\nsee logs")).toBe(false);
        expect(isBudgetNotification("Budget Name: x", "AWS Budgets: x has exceeded your alert threshold")).toBe(true);
        expect(parseSnsMessage("Nightly backup failed", "Backup").source).toBe("sns");
    });

    it("reads dollar amounts with thousands separators and refuses other currencies", () => {
        expect(dollars("$1,234.50")).toBe(1234.5);
        expect(dollars("€10")).toBeUndefined();
    });
});

describe("garbage never throws and stays readable", () => {
    const guardDuty = JSON.parse(fixture("guardduty-finding.json"));
    const hub = JSON.parse(fixture("securityhub-findings-imported.json"));
    const variants: [string, unknown][] = [
        ["GuardDuty with a string severity and no title", { ...guardDuty, detail: { severity: "high", resource: "x", service: [] } }],
        ["GuardDuty with detail fields of every wrong type", { ...guardDuty, detail: { title: 42, type: {}, resource: { instanceDetails: [1] }, severity: null } }],
        ["Security Hub with findings not an array", { ...hub, detail: { findings: "none" } }],
        ["Security Hub with an empty findings array", { ...hub, detail: { findings: [] } }],
        ["Security Hub with findings of nulls", { ...hub, detail: { findings: [null, 3, { Severity: "HIGH", Resources: "x" }] } }],
        ["Health with no detail fields", { ...guardDuty, source: "aws.health", "detail-type": "AWS Health Event", detail: {} }],
        ["Health with eventDescription and entities of wrong types", { ...guardDuty, source: "aws.health", detail: { eventDescription: "x", affectedEntities: [null, 1] } }],
        ["Backup with no state", { ...guardDuty, source: "aws.backup", "detail-type": "Backup Job State Change", detail: { resourceArn: ["x"] } }],
        ["an AWS event whose detail is a string", { ...guardDuty, detail: "oops" }],
        ["an AWS event with an enormous title", { ...guardDuty, detail: { ...guardDuty.detail, title: "T".repeat(50_000), description: "D".repeat(50_000) } }],
    ];

    it.each(variants)("%s", (_name, event) => {
        const message = JSON.stringify(event);
        expect(() => parseSnsMessage(message)).not.toThrow();
        const summary = parseSnsMessage(message);
        expect(summary.title.trim()).not.toBe("");
        expect(slackLimitViolations(buildSlackMessage(summary))).toEqual([]);
    });

    it.each([
        "AWS Budget Notification",
        "AWS Budget Notification March 1\nBudget Name: \nAlert Threshold: > lots\nACTUAL Amount: $-",
        "AWS Budget Notification\n" + "Budget Name: " + "x".repeat(20_000),
    ])("a damaged Budgets text %#", (text) => {
        const summary = parseSnsMessage(text);
        expect(summary.source).toBe("AWS Budgets");
        expect(slackLimitViolations(buildSlackMessage(summary))).toEqual([]);
    });

    it("parseBudgetNotification and parseAwsEvent reject non-matching input without throwing", () => {
        expect(parseBudgetNotification(undefined as unknown as string)).toBeUndefined();
        expect(parseAwsEvent({ source: "custom.app", "detail-type": "x", detail: {} })).toBeUndefined();
        expect(parseAwsEvent({ source: "aws.guardduty" })).toBeUndefined();
    });
});
