import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { alertPathDashboardBody, alertPathDashboardName, checkDashboardLimits, dashboardConsoleUrl, metricsOfBody, type DashboardBodyInput, type MetricWidget } from "../../../components/dashboard/alert-path-dashboard";

const BASE: DashboardBodyInput = {
    environment: "dev",
    region: "ap-northeast-1",
    towers: [{ name: "tokyo-ops", site: "tokyo-office" }],
    functions: { "slack-notifier": "alertline-dev-alerts-notifier", "mail-ingest": "alertline-dev-mail-ingest", "tower-dispatch": "alertline-dev-mail-dispatch", "ack-webhook": "alertline-dev-mail-ack" },
    queues: { "slack-notifier DLQ": "alerts-dlq-1a2b", "signal queue DLQ": "mail-signals-dlq-3c4d.fifo" },
};

const titles = (input: DashboardBodyInput) => alertPathDashboardBody(input).widgets.flatMap((w) => (w.type === "metric" ? [w.properties.title] : []));
const widget = (input: DashboardBodyInput, title: string) => alertPathDashboardBody(input).widgets.find((w): w is MetricWidget => w.type === "metric" && w.properties.title === title)!;
const towersIn = (w: MetricWidget) => w.properties.metrics.map((line) => line[line.indexOf("Tower") + 1]);

describe("alertPathDashboardBody", () => {
    it("has the alert path end to end: mail, severities, canary, pages, Slack, acknowledgements, a site's towers, dead letters, functions", () => {
        expect(titles(BASE)).toEqual([
            "Mails received / untrusted",
            "Mails by severity",
            "Canary round trip (ms)",
            "On-call pages",
            "Slack posts / repeats held back",
            "Acknowledgements from on-call",
            "tokyo-office: intents per tower",
            "tokyo-office: commands per tower",
            "tokyo-office: tower reachable (1) / not (0)",
            "Dead-letter queue depth",
            "Function errors",
            "Function duration (ms, maximum)",
        ]);
    });

    it("adds a tower's lines to its site's graphs, and a new site's graphs below, leaving the rest as it was", () => {
        const grown: DashboardBodyInput = {
            ...BASE,
            towers: [...BASE.towers, { name: "tokyo-desk", site: "tokyo-office" }, { name: "osaka-noc", site: "osaka-office" }],
        };
        expect(towersIn(widget(grown, "tokyo-office: tower reachable (1) / not (0)"))).toEqual(["tokyo-ops", "tokyo-desk"]);
        expect(towersIn(widget(grown, "tokyo-office: commands per tower"))).toEqual(["tokyo-ops", "tokyo-ops", "tokyo-desk", "tokyo-desk"]);
        expect(towersIn(widget(grown, "osaka-office: intents per tower"))).toEqual(["osaka-noc"]);
        const before = alertPathDashboardBody(BASE).widgets;
        const after = alertPathDashboardBody(grown).widgets;
        // The mail and Slack rows stay where they were.
        expect(after.slice(0, 7)).toEqual(before.slice(0, 7));
    });

    it("writes each tower's reachability with exactly the alarm's dimensions, and commands per outcome", () => {
        const reach = widget(BASE, "tokyo-office: tower reachable (1) / not (0)");
        expect(reach.properties.metrics).toEqual([["alertline/Towers", "TowerReachable", "Environment", "dev", "Tower", "tokyo-ops", { label: "tokyo-ops" }]]);
        expect(reach.properties.stat).toBe("Minimum");
        expect(widget(BASE, "tokyo-office: commands per tower").properties.metrics.map((l) => l[7])).toEqual(["ACK", "failed"]);
    });

    it("graphs each dead-letter queue's visible messages and each function's errors and duration", () => {
        expect(metricsOfBody(alertPathDashboardBody(BASE)).filter((m) => m.namespace.startsWith("AWS/"))).toEqual([
            { namespace: "AWS/SQS", name: "ApproximateNumberOfMessagesVisible", dimensions: ["QueueName"], values: { QueueName: "alerts-dlq-1a2b" } },
            { namespace: "AWS/SQS", name: "ApproximateNumberOfMessagesVisible", dimensions: ["QueueName"], values: { QueueName: "mail-signals-dlq-3c4d.fifo" } },
            ...["Errors", "Duration"].flatMap((name) => Object.values(BASE.functions).map((fn) => ({ namespace: "AWS/Lambda", name, dimensions: ["FunctionName"], values: { FunctionName: fn } }))),
        ]);
    });

    it("leaves out the mail, page and acknowledgement graphs in a stack without mail ingest", () => {
        const slackOnly = titles({ ...BASE, towers: [], functions: { "slack-notifier": "alertline-dev-alerts-notifier" }, queues: { "slack-notifier DLQ": "alerts-dlq" } });
        expect(slackOnly).toEqual(["Slack posts / repeats held back", "Dead-letter queue depth", "Function errors", "Function duration (ms, maximum)"]);
    });

    it("refuses a site whose towers would pass CloudWatch's 500 metrics per graph, naming the fix", () => {
        const towers = Array.from({ length: 251 }, (_, i) => ({ name: `t-${i}`, site: "big" }));
        expect(() => alertPathDashboardBody({ ...BASE, towers })).toThrow(/"big: commands per tower" would graph 502 metrics; CloudWatch takes at most 500 per widget: split that site's towers/);
    });

    it("refuses more metrics than a dashboard takes (2,500), naming the fix", () => {
        const towers = Array.from({ length: 700 }, (_, i) => ({ name: `t-${i}`, site: `site-${Math.floor(i / 100)}` }));
        expect(() => alertPathDashboardBody({ ...BASE, towers })).toThrow(/would graph \d+ metrics; CloudWatch takes at most 2500 per dashboard: split alertline:sites across stacks/);
    });

    it("refuses more than 500 widgets", () => {
        const text = { type: "text" as const, x: 0, y: 0, width: 1, height: 1, properties: { markdown: "x" } };
        expect(() => checkDashboardLimits(Array.from({ length: 501 }, () => text))).toThrow(/501 widgets; CloudWatch takes at most 500/);
    });
});

describe("alertPathDashboardName and the console URL", () => {
    it("names the dashboard after the environment and refuses characters CloudWatch refuses, naming the key", () => {
        expect(alertPathDashboardName("prod")).toBe("alertline-prod");
        expect(() => alertPathDashboardName("prod east")).toThrow(/alertline:environment "prod east" cannot name a CloudWatch dashboard/);
        expect(dashboardConsoleUrl("ap-northeast-1", "alertline-dev")).toBe("https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#dashboards/dashboard/alertline-dev");
    });
});

describe("AlertPathDashboard under the mock engine", () => {
    const registered: { type: string; name: string; inputs: Record<string, unknown>; parent?: string }[] = [];
    beforeAll(async () => {
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                    return { id: `${args.name}-id`, state: args.inputs };
                },
                call: (args) => {
                    if (args.token === "aws:index/getRegion:getRegion") return { name: "ap-northeast-1", region: "ap-northeast-1", id: "ap-northeast-1" };
                    throw new Error(`Mock not implemented: ${args.token}`);
                },
            },
            "alertline",
            "dev",
            false,
        );
    });

    it("creates one dashboard named alertline-<environment> as its child, with the body from the inputs", async () => {
        const { AlertPathDashboard } = await import("../../../components/dashboard/alert-path-dashboard");
        const component = new AlertPathDashboard("alert-path", { environment: "dev", towers: BASE.towers, functions: pulumi.output(BASE.functions), queues: BASE.queues });
        const url = await new Promise<string>((resolve) => component.consoleUrl.apply(resolve));
        const dashboard = registered.find((r) => r.type === "aws:cloudwatch/dashboard:Dashboard")!;
        expect(dashboard.name).toBe("alert-path-dashboard");
        expect(dashboard.inputs.dashboardName).toBe("alertline-dev");
        expect(JSON.parse(String(dashboard.inputs.dashboardBody))).toEqual(alertPathDashboardBody(BASE));
        expect(url).toBe(dashboardConsoleUrl("ap-northeast-1", "alertline-dev"));
    });
});
