import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SNSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { metricsOfBody } from "../../../components/dashboard/alert-path-dashboard";
import { signRequest } from "../../../functions/ack-webhook/auth";
import { ALERTLINE_METRICS } from "../../../functions/shared/metric-names";
import { createOnCallClient } from "../../../functions/shared/oncall-alerts";
import { createMetricSink, type MetricSink } from "../../../functions/shared/path-metrics";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { createDynamoFloodControl } from "../../../functions/slack-notifier/flood-control";
import { createHandler as createNotifier } from "../../../functions/slack-notifier/handler";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { startOnCallSink } from "../../../tools/local/oncall";
import { runPlan } from "../../../tools/offline/plan";
import { captureEmf, type EmfCapture } from "../../harness/emf";
import { WHOLE_STACK_TIMEOUT_MS } from "../../harness/fresh-program";
import { ACK_SECRET, startAckPeers, urlEvent, webhookFixture } from "../../functions/ack-webhook/ack-harness";
import { lambdaContext } from "../../functions/lambda-runtime";
import { context, event, fixture, startIngestHarness } from "../../functions/mail-ingest/harness";
import { startSlackSink } from "../../functions/shared/slack-sink";
import { sqsEvent, lambdaContext as dispatchContext, makeIntent, startHarness } from "../../functions/tower-dispatch/harness";
import { scheduledEvent } from "../../functions/tower-dispatch/probe-peers";

/**
 * Every metric a dashboard widget names is one something emits. The alertline metrics: each
 * function's real handler runs through its test harness (mail-ingest with on-call and the canary,
 * tower-dispatch with a batch and the probe, slack-notifier with flood control, ack-webhook) with the
 * real Powertools Metrics, and the EMF it writes on stdout is read back as (namespace, metric,
 * dimension names); the dev and prod plans' dashboard bodies (tools/offline, as `npm run plan`
 * shows them) must name only those. The AWS metrics are checked against AWS's documented names
 * (test/fixtures/contracts/cloudwatch/aws-metrics.json). And the bodies are valid JSON within
 * CloudWatch's dashboard limits (dashboard-limits.json).
 */

const CONTRACTS = join(__dirname, "../../fixtures/contracts/cloudwatch");
const AWS_METRICS = JSON.parse(readFileSync(join(CONTRACTS, "aws-metrics.json"), "utf8")) as Record<string, { dimensions: string[][]; metrics: string[] }>;
const LIMITS = JSON.parse(readFileSync(join(CONTRACTS, "dashboard-limits.json"), "utf8")) as {
    widgetsPerDashboard: number;
    metricsPerWidget: number;
    metricsPerDashboard: number;
    gridColumns: number;
    widgetWidth: [number, number];
    widgetHeight: [number, number];
    dashboardName: string;
    widgetTypes: string[];
    bodyBytesBudget: number;
};

interface PlannedDashboard {
    readonly name: string;
    readonly bodyText: string;
    readonly functionNames: Set<string>;
}

const planned = new Map<string, PlannedDashboard>();
const emitted = new Set<string>();
const key = (namespace: string, metric: string, dimensions: readonly string[]) => `${namespace} ${metric} [${dimensions.join(", ")}]`;
let emf: EmfCapture;

async function planDashboard(stack: string): Promise<PlannedDashboard> {
    vi.resetModules();
    const result = await runPlan(stack, { json: true });
    if (result.code !== 0) throw new Error(`the ${stack} plan failed: ${result.stderr}`);
    const plan = JSON.parse(result.stdout) as { resources: { type: string; name: string; inputs: Record<string, unknown> }[] };
    const dashboards = plan.resources.filter((r) => r.type === "aws:cloudwatch/dashboard:Dashboard");
    expect(dashboards).toHaveLength(1);
    const functionNames = new Set(plan.resources.filter((r) => r.type === "aws:lambda/function:Function").map((r) => String(r.inputs.name)));
    return { name: String(dashboards[0].inputs.dashboardName), bodyText: String(dashboards[0].inputs.dashboardBody), functionNames };
}

const throwingLogger = {
    error: (message: string) => {
        throw new Error(`the metric sink complained: ${message}`);
    },
};

/** Runs every function's handler once along each path that emits, through its harness, with the real Powertools sink. */
async function emitEverything(sink: MetricSink): Promise<void> {
    // mail-ingest: a trusted critical mail (intents, page), a mail failing SES's checks (untrusted), the canary (round trip).
    const ingest = await startIngestHarness();
    const opsgenie = await startOnCallSink({ apiKey: "k" });
    try {
        const onCall = createOnCallClient({ apiUrl: opsgenie.url, apiKey: async () => "k" });
        await ingest.handler({}, onCall, sink)(event(ingest.deliver(fixture("zabbix-ja-problem.eml"), "dash-1")), context());
        await ingest.handler({}, onCall, sink)(event(ingest.deliver(fixture("zabbix-ja-problem.eml"), "dash-2", { verdictsFrom: "ses-s3-failed-verdicts.json" })), context());
        const canary = Buffer.from(
            "From: alertline canary <alertline-canary@alerts.example.jp>\r\nTo: patlite@alerts.example.jp\r\nSubject: alertline canary (prod)\r\n" +
                "Date: Tue, 21 May 2024 09:45:27 +0000\r\nMessage-ID: <dash-canary@alerts.example.jp>\r\nX-Alertline-Canary: canary-dash\r\n" +
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\ncanary\r\n",
        );
        await ingest.handler({ canarySender: "alertline-canary@alerts.example.jp" }, undefined, sink)(event(ingest.deliver(canary, "dash-3")), context());
    } finally {
        await Promise.all([ingest.close(), opsgenie.close()]);
    }

    // tower-dispatch: a batch (commands, ACK) and the probe (reachability).
    const dynamo: LocalDynamo = await startDynalite();
    const dispatch = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }], { extra: { metrics: sink } });
    try {
        await dispatch.handler(sqsEvent([makeIntent("tokyo-ops", "a", "critical")]), dispatchContext());
        await dispatch.handler(scheduledEvent(), dispatchContext());
    } finally {
        await dispatch.close();
    }

    // slack-notifier with flood control: the first alarm is posted, its repeats within the window are held back.
    const slack = await startSlackSink();
    await dynamo.createTable("dash-flood");
    try {
        const notifier = createNotifier({
            webhookUrl: async () => slack.webhookUrl,
            logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
            environment: "dev",
            flood: createDynamoFloodControl(dynamo.documentClient, "dash-flood", { windowSeconds: 300, repeatNoticeAfter: 10 }),
            metrics: sink,
        });
        const alarm = readFileSync(join(__dirname, "../../fixtures/slack-notifier/cloudwatch-alarm.json"), "utf8");
        const sns = (id: string) => ({ Records: [{ EventSource: "aws:sns", Sns: { MessageId: id, Message: alarm, Subject: null } }] }) as unknown as SNSEvent;
        await notifier(sns("dash-a"), lambdaContext("alertline-dev-alerts-notifier", 10_000));
        await notifier(sns("dash-b"), lambdaContext("alertline-dev-alerts-notifier", 10_000));
    } finally {
        await Promise.all([slack.close(), dynamo.close()]);
    }

    // ack-webhook: a signed acknowledgement queues recoveries (202).
    const now = Date.parse("2024-05-21T09:00:00.000Z");
    const towers: TowerConfig[] = [{ name: "tokyo-ops", site: "tokyo", host: "192.0.2.10", port: 10000, protocol: "pns", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] }];
    const ack = await startAckPeers(() => towers, { now: () => now, extra: { metrics: sink } });
    try {
        const body = webhookFixture("acknowledge.json");
        const response = await ack.call(urlEvent({ body, headers: { "x-alertline-signature": signRequest(ACK_SECRET, body, now) } }));
        expect(response.statusCode).toBe(202);
    } finally {
        await ack.close();
    }
}

beforeAll(async () => {
    for (const stack of ["dev", "prod"]) planned.set(stack, await planDashboard(stack));
    emf = captureEmf();
    try {
        await emitEverything(createMetricSink({ environment: "dev", serviceName: "alertline-test", logger: throwingLogger }));
    } finally {
        emf.stop();
    }
    for (const datum of emf.data) emitted.add(key(datum.namespace, datum.metric, datum.dimensions));
}, WHOLE_STACK_TIMEOUT_MS);

afterAll(() => emf?.stop());

describe.each(["dev", "prod"])("the %s plan's dashboard", (stack) => {
    const body = () => JSON.parse(planned.get(stack)!.bodyText) as { widgets: { type: string; x: number; y: number; width: number; height: number; properties: Record<string, unknown> }[] };

    it("names only alertline metrics that some function emits, with the dimensions it emits them with", () => {
        const named = metricsOfBody(body()).filter((m) => m.namespace.startsWith("alertline/"));
        expect(named.length).toBeGreaterThan(0);
        const missing = [...new Set(named.map((m) => key(m.namespace, m.name, m.dimensions)))].filter((k) => !emitted.has(k));
        expect(missing, `emitted: ${[...emitted].join("; ")}`).toEqual([]);
    });

    it("names AWS metrics by their documented names and dimensions, for this stack's own functions", () => {
        const named = metricsOfBody(body()).filter((m) => !m.namespace.startsWith("alertline/"));
        expect(named.length).toBeGreaterThan(0);
        for (const metric of named) {
            const documented = AWS_METRICS[metric.namespace];
            expect(documented, `${metric.namespace} is not a namespace the fixture documents`).toBeDefined();
            expect(documented.metrics, metric.namespace).toContain(metric.name);
            expect(documented.dimensions.map((d) => d.join())).toContain(metric.dimensions.join());
            if (metric.namespace === "AWS/Lambda") expect([...planned.get(stack)!.functionNames]).toContain(metric.values.FunctionName);
        }
        // Each of the stack's functions has its errors and duration graphed.
        const graphed = new Set(named.filter((m) => m.namespace === "AWS/Lambda").map((m) => `${m.name} ${m.values.FunctionName}`));
        for (const fn of planned.get(stack)!.functionNames) expect([...graphed]).toEqual(expect.arrayContaining([`Errors ${fn}`, `Duration ${fn}`]));
    });

    it("is valid JSON within CloudWatch's dashboard limits, on the 24-column grid without overlaps", () => {
        const { name, bodyText } = planned.get(stack)!;
        expect(name).toMatch(new RegExp(LIMITS.dashboardName));
        expect(Buffer.byteLength(bodyText, "utf8")).toBeLessThanOrEqual(LIMITS.bodyBytesBudget);
        const { widgets } = body();
        expect(widgets.length).toBeLessThanOrEqual(LIMITS.widgetsPerDashboard);
        let total = 0;
        for (const w of widgets) {
            expect(LIMITS.widgetTypes).toContain(w.type);
            expect(w.width).toBeGreaterThanOrEqual(LIMITS.widgetWidth[0]);
            expect(w.width).toBeLessThanOrEqual(LIMITS.widgetWidth[1]);
            expect(w.height).toBeGreaterThanOrEqual(LIMITS.widgetHeight[0]);
            expect(w.height).toBeLessThanOrEqual(LIMITS.widgetHeight[1]);
            expect(w.x + w.width).toBeLessThanOrEqual(LIMITS.gridColumns);
            if (w.type === "metric") {
                const metrics = w.properties.metrics as unknown[];
                expect(metrics.length).toBeLessThanOrEqual(LIMITS.metricsPerWidget);
                // A metric widget needs its region (Body Structure: "region … Required").
                expect(w.properties.region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
                total += metrics.length;
            }
        }
        expect(total).toBeLessThanOrEqual(LIMITS.metricsPerDashboard);
        for (let i = 0; i < widgets.length; i++) {
            for (let j = i + 1; j < widgets.length; j++) {
                const [a, b] = [widgets[i], widgets[j]];
                const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
                expect(overlap, `widgets ${i} and ${j} overlap`).toBe(false);
            }
        }
    });
});

describe("the metric catalogue", () => {
    it("is emitted in full: every metric in functions/shared/metric-names.ts, with its dimensions", () => {
        const catalogue = Object.values(ALERTLINE_METRICS).map((m) => key(m.namespace, m.name, m.dimensions));
        expect(catalogue.filter((k) => !emitted.has(k))).toEqual([]);
        expect([...emitted].filter((k) => !catalogue.includes(k))).toEqual([]);
    });
});
