import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOnCallClient } from "../../../functions/shared/oncall-alerts";
import { createMetricSink } from "../../../functions/shared/path-metrics";
import { startOnCallSink, type OnCallSink } from "../../../tools/local/oncall";
import { captureEmf, type EmfCapture } from "../../harness/emf";
import { context, event, fixture, startIngestHarness, type IngestHarness } from "./harness";

/**
 * mail-ingest's metrics through the real handler (real SDK clients, local S3/SQS/SNS, dynalite, the
 * on-call stand-in) and the real Powertools Metrics, read back from the EMF it writes on stdout.
 */

const CANARY_SENDER = "alertline-canary@alerts.example.jp";
let h: IngestHarness;
let opsgenie: OnCallSink;
let emf: EmfCapture;
const metrics = createMetricSink({ environment: "prod", serviceName: "mail-ingest", logger: { error: (m) => {
    throw new Error(m);
} } });

beforeAll(async () => {
    [h, opsgenie] = await Promise.all([startIngestHarness(), startOnCallSink({ apiKey: "k" })]);
    emf = captureEmf();
});
afterAll(async () => {
    emf.stop();
    await Promise.all([h.close(), opsgenie.close()]);
});
beforeEach(() => emf.data.splice(0));

const seen = () => emf.data.map((d) => [d.metric, Object.fromEntries(Object.entries(d.values).filter(([k]) => k !== "Environment")), d.value]);

describe("mail-ingest's metrics", () => {
    it("counts a trusted critical mail: received, its severity, one intent per tower it lights, the page", async () => {
        const onCall = createOnCallClient({ apiUrl: opsgenie.url, apiKey: async () => "k" });
        await h.handler({}, onCall, metrics)(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-m1")), context());
        const lit = h.intentsOnQueue().filter((i) => i.messageId === "msg-m1").map((i) => i.tower);
        expect(lit.length).toBeGreaterThan(0);
        expect(seen()).toEqual([
            ...[...new Set(lit)].map((tower) => ["SignalIntents", { Tower: tower }, lit.filter((t) => t === tower).length]),
            ["OnCallPages", {}, 1],
            ["MailsReceived", {}, 1],
            ["MailsClassified", { Severity: "critical" }, 1],
        ]);
        expect(emf.data.every((d) => d.values.Environment === "prod" && d.dimensions[0] === "Environment")).toBe(true);
    });

    it("counts a mail whose SES verdicts fail as untrusted, with no intent and no page", async () => {
        const onCall = createOnCallClient({ apiUrl: opsgenie.url, apiKey: async () => "k" });
        await h.handler({}, onCall, metrics)(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-m2", { verdictsFrom: "ses-s3-failed-verdicts.json" })), context());
        expect(seen()).toEqual([
            ["MailsReceived", {}, 1],
            ["MailsClassified", { Severity: "critical" }, 1],
            ["MailsUntrusted", {}, 1],
        ]);
    });

    it("does not count a duplicate delivery of a processed mail again", async () => {
        const record = h.deliver(fixture("datadog-triggered.eml"), "msg-m3");
        await h.handler({}, undefined, metrics)(event(record), context());
        const first = emf.data.length;
        await h.handler({}, undefined, metrics)(event(record), context());
        expect(first).toBeGreaterThan(0);
        expect(emf.data.length).toBe(first);
    });

    it("counts the canary as a mail received and writes its round trip in milliseconds", async () => {
        const canary = Buffer.from(
            `From: alertline canary <${CANARY_SENDER}>\r\nTo: patlite@alerts.example.jp\r\nSubject: alertline canary (prod)\r\n` +
                // SES received the fixture's mail at 09:45:28.512Z: 1.512 s after this Date.
                "Date: Tue, 21 May 2024 09:45:27 +0000\r\nMessage-ID: <c1@alerts.example.jp>\r\nX-Alertline-Canary: canary-prod-1\r\n" +
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\ncanary\r\n",
        );
        const outcomes = await h.handler({ canarySender: CANARY_SENDER }, undefined, metrics)(event(h.deliver(canary, "msg-m4")), context());
        expect(outcomes[0].kind).toBe("canary");
        expect(seen()).toEqual([
            ["MailsReceived", {}, 1],
            ["CanaryRoundTripTime", {}, 1512],
        ]);
        expect(emf.data[1].unit).toBe("Milliseconds");
    });
});
