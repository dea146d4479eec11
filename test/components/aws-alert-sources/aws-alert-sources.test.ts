import { describe, expect, it } from "vitest";
import {
    AwsAlertSources,
    AwsAlertSourcesArgs,
    AwsAlertSourcesError,
    backupFailurePattern,
    budgetNotifications,
    budgetProblems,
    eventRules,
    guardDutyPattern,
    healthPattern,
    securityHubPattern,
} from "../../../components/aws-alert-sources/aws-alert-sources";
import { AWS_TAGGABLE_TYPES } from "../../../policy/aws-taggable-types";
import { RecordingEngine } from "../../../tools/offline/mock-engine";
import { recordResources } from "../../harness/record";

const TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:alerts-topic";

function sourcesArgs(overrides: Partial<AwsAlertSourcesArgs> = {}): AwsAlertSourcesArgs {
    return { environment: "dev", topicArn: TOPIC, budget: { monthlyUsd: 250, thresholdsPercent: [50, 90, 120] }, ...overrides };
}

const RULE = "aws:cloudwatch/eventRule:EventRule";
const TARGET = "aws:cloudwatch/eventTarget:EventTarget";
const BUDGET = "aws:budgets/budget:Budget";

const pattern = (engine: RecordingEngine, role: string) => JSON.parse(String(engine.get(RULE, `sources-${role}`).inputs.eventPattern));

describe("AwsAlertSources with every source and a budget", () => {
    let engine: RecordingEngine;
    const build = async () => (engine ??= await recordResources(() => new AwsAlertSources("sources", sourcesArgs({ guardDutyMinSeverity: 4 }))));

    it("creates one rule per source, each targeting the alert topic", async () => {
        await build();
        const roles = ["guardduty", "securityhub", "health", "backup"];
        expect(engine.ofType(RULE).map((r) => r.name).sort()).toEqual(roles.map((r) => `sources-${r}`).sort());
        for (const role of roles) {
            const rule = engine.get(RULE, `sources-${role}`);
            const target = engine.get(TARGET, `sources-${role}-to-channel`);
            expect(target.inputs.arn).toBe(TOPIC);
            expect(target.inputs.rule).toBe(rule.state.name);
            expect(rule.inputs.name).toBe(`alertline-dev-sources-${role}`);
        }
    });

    it("forwards GuardDuty findings from the configured severity up", async () => {
        await build();
        expect(pattern(engine, "guardduty")).toEqual({
            source: ["aws.guardduty"],
            "detail-type": ["GuardDuty Finding"],
            detail: { severity: [{ numeric: [">=", 4] }] },
        });
    });

    it("gives each rule the pattern its pure builder makes", async () => {
        await build();
        expect(pattern(engine, "securityhub")).toEqual(securityHubPattern());
        expect(pattern(engine, "health")).toEqual(healthPattern());
        expect(pattern(engine, "backup")).toEqual(backupFailurePattern());
    });

    it("makes a monthly USD cost budget with an actual and a forecasted notification per threshold, sent to the topic", async () => {
        await build();
        const budget = engine.get(BUDGET, "sources-monthly-budget");
        expect(budget.inputs).toMatchObject({ budgetType: "COST", timeUnit: "MONTHLY", limitAmount: "250.00", limitUnit: "USD" });
        const notifications = budget.inputs.notifications as Record<string, unknown>[];
        expect(notifications).toHaveLength(6);
        for (const threshold of [50, 90, 120]) {
            for (const type of ["ACTUAL", "FORECASTED"]) {
                expect(notifications).toContainEqual({
                    comparisonOperator: "GREATER_THAN",
                    notificationType: type,
                    threshold,
                    thresholdType: "PERCENTAGE",
                    subscriberSnsTopicArns: [TOPIC],
                });
            }
        }
    });

    it("tags every taggable resource with the standard tags", async () => {
        await build();
        const taggable = engine.registrations.filter((r) => AWS_TAGGABLE_TYPES.includes(r.type));
        expect(taggable.map((r) => r.type).sort()).toEqual([BUDGET, RULE, RULE, RULE, RULE]);
        for (const r of taggable) {
            expect(r.inputs.tags).toEqual({ environment: "dev", "managed-by": "alertline", component: "sources" });
        }
    });

    it("parents every resource under the component", async () => {
        await build();
        const component = engine.get("alertline:index:AwsAlertSources", "sources");
        for (const r of engine.registrations.filter((r) => r.custom)) expect(r.parent).toBe(component.urn);
    });
});

describe("AwsAlertSources with defaults and sources switched off", () => {
    it("uses severity 7, the default thresholds, and makes no budget when none is configured", async () => {
        const engine = await recordResources(() => new AwsAlertSources("sources", { environment: "prod", topicArn: TOPIC }));
        expect(pattern(engine, "guardduty").detail.severity).toEqual([{ numeric: [">=", 7] }]);
        expect(engine.ofType(BUDGET)).toEqual([]);
    });

    it("leaves out the rules of disabled sources, keeping GuardDuty", async () => {
        const engine = await recordResources(() => new AwsAlertSources("sources", sourcesArgs({ securityHub: false, health: false, backup: false, budget: undefined })));
        expect(engine.ofType(RULE).map((r) => r.name)).toEqual(["sources-guardduty"]);
        expect(engine.ofType(TARGET).map((r) => r.name)).toEqual(["sources-guardduty-to-channel"]);
    });

    it("defaults the budget thresholds to 80 and 100 percent", async () => {
        const engine = await recordResources(() => new AwsAlertSources("sources", sourcesArgs({ budget: { monthlyUsd: 100 } })));
        const thresholds = (engine.get(BUDGET, "sources-monthly-budget").inputs.notifications as { threshold: number }[]).map((n) => n.threshold);
        expect([...new Set(thresholds)].sort((a, b) => a - b)).toEqual([80, 100]);
    });
});

describe("event patterns", () => {
    it("GuardDuty refuses a minimum severity outside 1–10 and says the bands", () => {
        for (const bad of [0, 11, Number.NaN, -1]) {
            expect(() => guardDutyPattern(bad)).toThrow(AwsAlertSourcesError);
        }
        expect(() => guardDutyPattern(0)).toThrow(/1 to 10.*High 7/);
        expect(guardDutyPattern(9).detail).toEqual({ severity: [{ numeric: [">=", 9] }] });
    });

    it("Security Hub matches imported findings labelled CRITICAL or HIGH only", () => {
        const p = securityHubPattern();
        expect(p["detail-type"]).toEqual(["Security Hub Findings - Imported"]);
        expect(p.detail).toEqual({ findings: { Severity: { Label: ["CRITICAL", "HIGH"] } } });
    });

    it("Backup matches failed backup, copy and restore jobs by the field each reports", () => {
        const alternatives = backupFailurePattern().$or as { "detail-type": string[]; detail: Record<string, string[]> }[];
        const byType = Object.fromEntries(alternatives.map((a) => [a["detail-type"][0], a.detail]));
        expect(byType["Backup Job State Change"]).toEqual({ state: ["FAILED", "ABORTED", "EXPIRED"] });
        expect(byType["Copy Job State Change"]).toEqual({ state: ["FAILED"] });
        expect(byType["Restore Job State Change"]).toEqual({ status: ["FAILED"] });
        expect(backupFailurePattern().source).toEqual(["aws.backup"]);
    });

    it("eventRules lists only the enabled sources", () => {
        expect(eventRules({ health: false }).map((r) => r.role)).toEqual(["guardduty", "securityhub", "backup"]);
    });
});

describe("budget settings", () => {
    it("accepts a positive limit and distinct positive thresholds", () => {
        expect(budgetProblems({ monthlyUsd: 10, thresholdsPercent: [50, 100, 150] })).toEqual([]);
    });

    it("names each problem: zero limit, empty, too many, non-positive and repeated thresholds", () => {
        expect(budgetProblems({ monthlyUsd: 0 }).join(" ")).toMatch(/monthlyUsd is 0.*above 0/);
        expect(budgetProblems({ monthlyUsd: 5, thresholdsPercent: [] }).join(" ")).toMatch(/empty/);
        expect(budgetProblems({ monthlyUsd: 5, thresholdsPercent: [10, 20, 30, 40, 50, 60] }).join(" ")).toMatch(/6 entries; at most 5/);
        expect(budgetProblems({ monthlyUsd: 5, thresholdsPercent: [-5] }).join(" ")).toMatch(/contains -5/);
        expect(budgetProblems({ monthlyUsd: 5, thresholdsPercent: [80, 80] }).join(" ")).toMatch(/repeats/);
    });

    it("the component refuses a bad budget before creating anything, naming the config key", async () => {
        let error: unknown;
        const engine = await recordResources(() => {
            try {
                new AwsAlertSources("sources", sourcesArgs({ budget: { monthlyUsd: -1 } }));
            } catch (e) {
                error = e;
            }
        });
        expect(error).toBeInstanceOf(AwsAlertSourcesError);
        expect(String(error)).toContain("alertline:awsSources");
        expect(engine.registrations.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });

    it("budgetNotifications pairs actual and forecasted per threshold", () => {
        const n = budgetNotifications([75], TOPIC);
        expect(n.map((x) => x.notificationType)).toEqual(["ACTUAL", "FORECASTED"]);
        expect(n.every((x) => x.threshold === 75 && x.subscriberSnsTopicArns[0] === TOPIC)).toBe(true);
    });
});
