import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canaryAgeMs, canaryVerdict } from "../../../functions/mail-ingest/canary";
import type { IngestOutcome } from "../../../functions/mail-ingest/ingest";
import { createOnCallClient, type OnCallClient } from "../../../functions/shared/oncall-alerts";
import { startOnCallSink, type OnCallScriptedAnswer, type OnCallSink } from "../../../tools/local/oncall";
import { context, event, startIngestHarness, type IngestHarness } from "./harness";

/**
 * mail-ingest recognising alertline's canary mail: the handler with real SDK clients against the
 * local AWS peers and the local on-call sink answering like Opsgenie.
 */

const CANARY_SENDER = "alertline-canary@alerts.example.jp";
const HEARTBEAT = "alertline-prod-mail-path";
const CANARY_ID = "canary-prod-20240521T094527Z-a1b2c3";
/** The on-call API key the sink accepts; any other gets 401. */
const KEY = "5f1e8a3c-7b2d-4c9e-a1f0-0123456789ab";
const PASSING = { spfVerdict: { status: "PASS" }, dkimVerdict: { status: "PASS" }, dmarcVerdict: { status: "PASS" }, virusVerdict: { status: "PASS" }, spamVerdict: { status: "PASS" } };

/** A canary mail as the canary function would send it; `subject` makes it look like an alert if wanted. */
function canaryMail(opts: { from?: string; id?: string | null; subject?: string; body?: string } = {}): Buffer {
    const header = opts.id === null ? "" : `X-Alertline-Canary: ${opts.id ?? CANARY_ID}\r\n`;
    return Buffer.from(
        `From: alertline canary <${opts.from ?? CANARY_SENDER}>\r\n` +
            "To: patlite@alerts.example.jp\r\n" +
            `Subject: ${opts.subject ?? "alertline canary (prod)"}\r\n` +
            // SES received the fixture's mail at 09:45:28.512Z: this canary is 1.512 s old on arrival.
            "Date: Tue, 21 May 2024 09:45:27 +0000\r\n" +
            `Message-ID: <${CANARY_ID}@alerts.example.jp>\r\n` +
            header +
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
            `${opts.body ?? "This is alertline's canary. It lights no tower."}\r\n`,
    );
}

let h: IngestHarness;
let opsgenie: OnCallSink;
let onCall: OnCallClient;
/** The sink's next answers, one per request, before normal service resumes. */
let script: OnCallScriptedAnswer[];
/** Pings of the canary's heartbeat that on-call took. */
const pings = () => opsgenie.requests.filter((r) => r.heartbeat === HEARTBEAT && r.status === 202).length;
const config = { canarySender: CANARY_SENDER, heartbeatName: HEARTBEAT };

beforeEach(async () => {
    script = [];
    [h, opsgenie] = await Promise.all([startIngestHarness(), startOnCallSink({ apiKey: KEY, knownHeartbeats: [HEARTBEAT], answer: () => script.shift() })]);
    onCall = createOnCallClient({ apiUrl: opsgenie.url, apiKey: async () => KEY });
});
afterEach(async () => {
    await Promise.all([h.close(), opsgenie.close()]);
});

describe("canaryVerdict", () => {
    it("is the canary only with the header, the canary sender (any case) and passing verdicts", () => {
        expect(canaryVerdict({ from: "Alertline-Canary@Alerts.Example.JP", canaryId: "c-1" }, PASSING, CANARY_SENDER)).toEqual({ kind: "canary", canaryId: "c-1" });
        expect(canaryVerdict({ from: CANARY_SENDER }, PASSING, CANARY_SENDER)).toEqual({ kind: "not-canary" });
        expect(canaryVerdict({ from: "zabbix@zabbix.example.jp", canaryId: "c-1" }, PASSING, CANARY_SENDER)).toMatchObject({
            kind: "impostor",
            reasons: [`sender zabbix@zabbix.example.jp is not the canary sender ${CANARY_SENDER}`, "DMARC PASS for zabbix.example.jp", "virus PASS", "spam PASS"],
        });
        const failing = canaryVerdict({ from: CANARY_SENDER, canaryId: "c-1" }, { ...PASSING, spfVerdict: { status: "FAIL" }, dkimVerdict: { status: "FAIL" } }, CANARY_SENDER);
        expect(failing.kind).toBe("impostor");
        expect(failing.kind === "impostor" && failing.reasons[0]).toContain("neither SPF nor DKIM passed (SPF FAIL, DKIM FAIL)");
        expect(canaryVerdict({ from: CANARY_SENDER, canaryId: "c-1" }, PASSING, undefined)).toMatchObject({ kind: "impostor", reasons: [expect.stringContaining("no canary sender is configured")] });
    });

    it("measures the age from the Date header to SES receiving the mail", () => {
        expect(canaryAgeMs("2024-05-21T09:45:28.512Z", "2024-05-21T09:45:27.000Z")).toBe(1512);
        expect(canaryAgeMs("2024-05-21T09:45:28.512Z", undefined)).toBeUndefined();
        expect(canaryAgeMs("not a date", "2024-05-21T09:45:27.000Z")).toBeUndefined();
    });
});

describe("mail-ingest and the canary", () => {
    it("pings the heartbeat and does nothing else: no intent, no summary, no alert", async () => {
        const outcomes = await h.handler(config, onCall)(event(h.deliver(canaryMail(), "msg-canary")), context());

        expect(outcomes).toEqual<IngestOutcome[]>([{ kind: "canary", messageId: "msg-canary", canaryId: CANARY_ID, heartbeat: "pinged" }]);
        expect(pings()).toBe(1);
        expect(opsgenie.requests).toHaveLength(1);
        expect(opsgenie.requests[0].path).toBe(`/v2/heartbeats/${HEARTBEAT}/ping`);
        // The sink accepts only "GenieKey <KEY>": the 202 says the key was sent as on-call wants it.
        expect(opsgenie.requests[0].status).toBe(202);
        expect(h.sqs.batches).toHaveLength(0);
        expect(h.sns.messages).toHaveLength(0);
        expect((await h.stateItem("msg-canary"))?.state).toBe("done");
    });

    it("logs the canary's id and its age on arrival", async () => {
        await h.handler(config, onCall)(event(h.deliver(canaryMail(), "msg-age")), context());
        const line = h.lines.find((l) => l.message === "Canary received");
        expect(line?.attributes[0]).toMatchObject({ messageId: "msg-age", canaryId: CANARY_ID, ageMs: 1512, ageSeconds: 2, heartbeat: "pinged" });
    });

    it("pings once when SES's notification is delivered twice", async () => {
        const handler = h.handler(config, onCall);
        const record = h.deliver(canaryMail(), "msg-twice");
        await handler(event(record), context());
        expect(await handler(event(record), context())).toEqual([{ kind: "duplicate", messageId: "msg-twice" }]);
        expect(pings()).toBe(1);
    });

    it("still lights nothing when on-call or the heartbeat is not configured", async () => {
        const withoutOnCall = await h.handler(config)(event(h.deliver(canaryMail(), "msg-no-oncall")), context());
        const withoutBeat = await h.handler({ canarySender: CANARY_SENDER }, onCall)(event(h.deliver(canaryMail(), "msg-no-beat")), context());
        expect(withoutOnCall[0]).toMatchObject({ kind: "canary", heartbeat: "not configured" });
        expect(withoutBeat[0]).toMatchObject({ kind: "canary", heartbeat: "not configured" });
        expect(opsgenie.requests).toHaveLength(0);
        expect(h.sqs.batches).toHaveLength(0);
        expect(h.sns.messages).toHaveLength(0);
    });

    it("logs a failed ping as an error and does not throw: the expiring heartbeat pages on-call", async () => {
        script.push({ status: 503, body: JSON.stringify({ message: "Service Unavailable" }) });
        const outcomes = await h.handler(config, onCall)(event(h.deliver(canaryMail(), "msg-ping-503")), context());
        expect(outcomes[0]).toMatchObject({ kind: "canary", heartbeat: expect.stringContaining("on-call answered 503") });
        expect(h.lines.some((l) => l.level === "error" && l.message.startsWith("Could not ping the canary's heartbeat"))).toBe(true);
        expect((await h.stateItem("msg-ping-503"))?.state).toBe("done");

        // Opsgenie itself accepts a ping of any name (see oncall.ts); knownHeartbeats makes the sink refuse it, as a stricter backend might.
        const missing = await h.handler({ ...config, heartbeatName: "no-such-heartbeat" }, onCall)(event(h.deliver(canaryMail(), "msg-ping-404")), context());
        expect(missing[0]).toMatchObject({ kind: "canary", heartbeat: expect.stringContaining('there is no heartbeat named "no-such-heartbeat"') });
    });
});

describe("mail-ingest and a mail claiming to be the canary", () => {
    const WARNING = "a mail claiming to be alertline's canary failed the sender check: ";

    it("warns the channel about a canary header from another sender, and lights nothing even for a critical alert", async () => {
        // From a trusted alert sender, with a subject and body that light every tower without the header.
        const alert = { from: "zabbix@zabbix.example.jp", subject: "Problem: web-01 is down", body: "Severity: Disaster\r\nHost: web-01\r\nOriginal problem ID: 1" };
        const handler = h.handler(config, onCall);
        const outcomes = await handler(event(h.deliver(canaryMail(alert), "msg-forged")), context());

        expect(outcomes[0]).toMatchObject({ kind: "processed", intents: [] });
        expect(h.sqs.batches).toHaveLength(0);
        expect(opsgenie.requests).toHaveLength(0);
        const summary = h.summaries()[0];
        expect(summary.state).toBe("WARN");
        expect(String(summary.reason)).toContain(`${WARNING}sender zabbix@zabbix.example.jp is not the canary sender ${CANARY_SENDER}`);
        expect(summary.trusted).toBe(false);
        expect(summary.canaryId).toBe(CANARY_ID);
        expect(summary.onCall).toBe("not paged: a mail claiming to be the canary never pages");
        expect((await h.stateItem("msg-forged"))?.state).toBe("done");

        // The same mail without the header lights both towers and pages: only the claim held it back.
        await handler(event(h.deliver(canaryMail({ ...alert, id: null }), "msg-control")), context());
        expect(h.intentsOnQueue().map((i) => i.severity)).toEqual(["critical", "critical"]);
        expect(opsgenie.alerts().filter((a) => a.status === "open")).toHaveLength(1);
    });

    it("warns about the canary's own sender when SPF and DKIM fail, and does not ping", async () => {
        await h.handler(config, onCall)(event(h.deliver(canaryMail(), "msg-spoofed", { verdictsFrom: "ses-s3-failed-verdicts.json" })), context());
        expect(pings()).toBe(0);
        const summary = h.summaries()[0];
        expect(summary.state).toBe("WARN");
        expect(String(summary.reason)).toContain(WARNING);
        expect(String(summary.reason)).toContain("DMARC FAIL");
        expect(String(summary.reason)).toContain("spam verdict GRAY");
    });

    it("warns about a canary header when no canary sender is configured", async () => {
        const outcomes = await h.handler({}, onCall)(event(h.deliver(canaryMail(), "msg-unconfigured")), context());
        expect(outcomes[0]).toMatchObject({ kind: "processed", intents: [] });
        expect(String(h.summaries()[0].reason)).toContain(`${WARNING}no canary sender is configured`);
        expect(opsgenie.requests).toHaveLength(0);
    });

    it("treats a mail from the canary sender without the header as an ordinary mail", async () => {
        const outcomes = await h.handler(config, onCall)(event(h.deliver(canaryMail({ id: null }), "msg-plain")), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(h.summaries()[0].state).not.toBe("WARN");
        expect(pings()).toBe(0);
    });
});
