import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { standardTags } from "../shared/tags";

/**
 * AWS's own alert sources (GuardDuty, Security Hub, AWS Health, AWS Backup, AWS Budgets) routed to
 * the alert channel's topic, where slack-notifier renders each of them. The event patterns and the
 * budget notifications are plain functions, tested without mocks; the component only wires.
 *
 * The channel's topic and key must let `events.amazonaws.com` and `budgets.amazonaws.com` publish
 * (AlertChannel's `publisherServices`), or EventBridge and Budgets deliveries are refused.
 */

/** A monthly cost budget whose thresholds notify the alert channel. */
export interface BudgetSettings {
    /** The monthly limit in US dollars; must be above 0. */
    readonly monthlyUsd: number;
    /** Percentages of the limit that notify, each for actual and for forecasted cost. Default [80, 100]; at most 5 (AWS allows 10 notifications per budget). */
    readonly thresholdsPercent?: readonly number[];
}

/** Arguments for {@link AwsAlertSources}. */
export interface AwsAlertSourcesArgs {
    /** Environment name, used in resource names and tags. */
    readonly environment: string;
    /** ARN of the alert channel's topic that every source publishes to. */
    readonly topicArn: pulumi.Input<string>;
    /** Lowest GuardDuty severity (1.0–10.0) forwarded. Default 7, GuardDuty's "High" band. */
    readonly guardDutyMinSeverity?: number;
    /** Forward Security Hub imported findings labelled CRITICAL or HIGH. Default true. */
    readonly securityHub?: boolean;
    /** Forward AWS Health events for this account. Default true. */
    readonly health?: boolean;
    /** Forward failed, aborted and expired AWS Backup jobs (and failed copy and restore jobs). Default true. */
    readonly backup?: boolean;
    /** A monthly cost budget notifying the channel. Default: no budget. */
    readonly budget?: BudgetSettings;
}

/** An EventBridge event pattern, as the JSON the rule takes. */
export type EventPattern = Record<string, unknown>;

/** GuardDuty's severity bands: Low 1.0–3.9, Medium 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0. */
export const GUARDDUTY_SEVERITY = { LOW: 1, MEDIUM: 4, HIGH: 7, CRITICAL: 9 } as const;
/** Default lowest GuardDuty severity forwarded: the High band. */
export const DEFAULT_GUARDDUTY_MIN_SEVERITY = GUARDDUTY_SEVERITY.HIGH;
/** Default budget thresholds, percent of the monthly limit. */
export const DEFAULT_BUDGET_THRESHOLDS = [80, 100] as const;
/** AWS Budgets allows 10 notifications per budget; each threshold uses two (actual and forecasted). */
export const MAX_BUDGET_THRESHOLDS = 5;
/** Backup job states that mean the backup did not happen. */
export const BACKUP_FAILURE_STATES = ["FAILED", "ABORTED", "EXPIRED"] as const;

/** A configuration mistake, worded for the person reading `pulumi preview`. */
export class AwsAlertSourcesError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "AwsAlertSourcesError";
    }
}

/** GuardDuty findings at or above `minSeverity` (a numeric match on `detail.severity`). */
export function guardDutyPattern(minSeverity: number = DEFAULT_GUARDDUTY_MIN_SEVERITY): EventPattern {
    if (!Number.isFinite(minSeverity) || minSeverity < 1 || minSeverity > 10) {
        throw new AwsAlertSourcesError(
            `guardDutyMinSeverity is ${String(minSeverity)}; it must be a number from 1 to 10 (GuardDuty bands: Low 1, Medium 4, High 7, Critical 9).`,
        );
    }
    return {
        source: ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        detail: { severity: [{ numeric: [">=", minSeverity] }] },
    };
}

/** Security Hub findings imported with severity label CRITICAL or HIGH. */
export function securityHubPattern(): EventPattern {
    return {
        source: ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        detail: { findings: { Severity: { Label: ["CRITICAL", "HIGH"] } } },
    };
}

/** Every AWS Health event of this account (issues, scheduled changes, account notifications). */
export function healthPattern(): EventPattern {
    return { source: ["aws.health"] };
}

/**
 * AWS Backup jobs that did not complete: backup jobs FAILED, ABORTED or EXPIRED, copy jobs FAILED
 * (both report `state`), and restore jobs FAILED (which report `status`, as AWS Backup's API does).
 */
export function backupFailurePattern(): EventPattern {
    return {
        source: ["aws.backup"],
        $or: [
            { "detail-type": ["Backup Job State Change"], detail: { state: [...BACKUP_FAILURE_STATES] } },
            { "detail-type": ["Copy Job State Change"], detail: { state: ["FAILED"] } },
            { "detail-type": ["Restore Job State Change"], detail: { status: ["FAILED"] } },
        ],
    };
}

/** One budget notification as `aws.budgets.Budget` takes it. */
export interface BudgetNotification {
    readonly comparisonOperator: "GREATER_THAN";
    readonly notificationType: "ACTUAL" | "FORECASTED";
    readonly threshold: number;
    readonly thresholdType: "PERCENTAGE";
    readonly subscriberSnsTopicArns: string[];
}

/** Checks a budget's settings; every problem in one error, naming the key and the fix. */
export function budgetProblems(budget: BudgetSettings): string[] {
    const problems: string[] = [];
    if (!Number.isFinite(budget.monthlyUsd) || budget.monthlyUsd <= 0) {
        problems.push(`budget.monthlyUsd is ${String(budget.monthlyUsd)}; it must be a number of US dollars above 0, e.g. 500.`);
    }
    const thresholds = budget.thresholdsPercent ?? DEFAULT_BUDGET_THRESHOLDS;
    if (thresholds.length === 0) problems.push("budget.thresholdsPercent is empty; list at least one percentage, e.g. [80, 100].");
    if (thresholds.length > MAX_BUDGET_THRESHOLDS) {
        problems.push(`budget.thresholdsPercent has ${thresholds.length} entries; at most ${MAX_BUDGET_THRESHOLDS} (each makes an actual and a forecasted notification, and AWS allows 10).`);
    }
    for (const t of thresholds) {
        if (!Number.isFinite(t) || t <= 0) problems.push(`budget.thresholdsPercent contains ${String(t)}; each must be a percentage above 0, e.g. 80.`);
    }
    if (new Set(thresholds).size !== thresholds.length) problems.push("budget.thresholdsPercent repeats a value; list each percentage once.");
    return problems;
}

/** An actual and a forecasted notification per threshold, all sent to the topic. */
export function budgetNotifications(thresholdsPercent: readonly number[], topicArn: string): BudgetNotification[] {
    return thresholdsPercent.flatMap((threshold) =>
        (["ACTUAL", "FORECASTED"] as const).map((notificationType) => ({
            comparisonOperator: "GREATER_THAN" as const,
            notificationType,
            threshold,
            thresholdType: "PERCENTAGE" as const,
            subscriberSnsTopicArns: [topicArn],
        })),
    );
}

/** The rules this configuration creates, by role; disabled sources are left out. */
export function eventRules(args: Pick<AwsAlertSourcesArgs, "guardDutyMinSeverity" | "securityHub" | "health" | "backup">): { role: string; description: string; pattern: EventPattern }[] {
    const minSeverity = args.guardDutyMinSeverity ?? DEFAULT_GUARDDUTY_MIN_SEVERITY;
    return [
        { role: "guardduty", description: `GuardDuty findings of severity ${minSeverity} or more to the alert channel`, pattern: guardDutyPattern(minSeverity) },
        ...(args.securityHub ?? true
            ? [{ role: "securityhub", description: "Security Hub CRITICAL and HIGH findings to the alert channel", pattern: securityHubPattern() }]
            : []),
        ...(args.health ?? true ? [{ role: "health", description: "AWS Health events to the alert channel", pattern: healthPattern() }] : []),
        ...(args.backup ?? true ? [{ role: "backup", description: "Failed AWS Backup, copy and restore jobs to the alert channel", pattern: backupFailurePattern() }] : []),
    ];
}

/**
 * EventBridge rules for GuardDuty, Security Hub, AWS Health and AWS Backup, and an optional AWS
 * Budgets monthly cost budget, all publishing to the alert channel's topic.
 */
export class AwsAlertSources extends pulumi.ComponentResource {
    /** Names of the EventBridge rules, by role (guardduty, securityhub, health, backup). */
    declare readonly ruleNames: pulumi.Output<Record<string, string>>;
    /** Name of the budget, when one is configured. */
    declare readonly budgetName: pulumi.Output<string | undefined>;

    constructor(name: string, args: AwsAlertSourcesArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before registering anything, so a mistake fails the preview with one message.
        const rules = eventRules(args);
        const problems = args.budget === undefined ? [] : budgetProblems(args.budget);
        if (problems.length > 0) throw new AwsAlertSourcesError(`alertline:awsSources: ${problems.join(" ")}`);
        super("alertline:index:AwsAlertSources", name, {}, opts);
        const tags = standardTags(args.environment, name);

        const ruleNames: Record<string, pulumi.Output<string>> = {};
        for (const { role, description, pattern } of rules) {
            const rule = new aws.cloudwatch.EventRule(
                `${name}-${role}`,
                { name: `alertline-${args.environment}-${name}-${role}`, description, eventPattern: JSON.stringify(pattern), tags },
                { parent: this },
            );
            new aws.cloudwatch.EventTarget(`${name}-${role}-to-channel`, { rule: rule.name, arn: args.topicArn }, { parent: this });
            ruleNames[role] = rule.name;
        }

        let budgetName: pulumi.Output<string | undefined> = pulumi.output(undefined);
        if (args.budget !== undefined) {
            const thresholds = args.budget.thresholdsPercent ?? DEFAULT_BUDGET_THRESHOLDS;
            const budget = new aws.budgets.Budget(
                `${name}-monthly-budget`,
                {
                    name: `alertline-${args.environment}-${name}-monthly`,
                    budgetType: "COST",
                    timeUnit: "MONTHLY",
                    limitAmount: args.budget.monthlyUsd.toFixed(2),
                    limitUnit: "USD",
                    notifications: pulumi.output(args.topicArn).apply((topicArn) => budgetNotifications(thresholds, topicArn)),
                    tags,
                },
                { parent: this },
            );
            budgetName = budget.name;
        }

        this.ruleNames = pulumi.all(ruleNames);
        this.budgetName = budgetName;
        this.registerOutputs({ ruleNames: this.ruleNames, budgetName: this.budgetName });
    }
}
