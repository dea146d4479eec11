import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OnCallUnavailableError } from "../../../functions/mail-ingest/on-call-page";
import { parseMailRules } from "../../../functions/shared/mail-rules";
import { createOnCallClient, onCallAlias, type OnCallClient } from "../../../functions/shared/oncall-alerts";
import { startOnCallSink, type OnCallScriptedAnswer, type OnCallSink } from "../../../tools/local/oncall";
import { closedPort } from "../closed-port";
import { BUCKET, context, event, fixture, startIngestHarness, type IngestHarness } from "./harness";

/**
 * mail-ingest paging on-call: the handler with real SDK clients against the local AWS peers, and the
 * local on-call sink answering like Opsgenie.
 */

const JA_SUBJECT = "障害: web-01 のCPU使用率が90%を超えています";
const JA_KEY = "host=web-01 | eventid=123456";
/** The on-call API key the sink accepts; any other gets 401. */
const KEY = "5f1e8a3c-7b2d-4c9e-a1f0-0123456789ab";

let h: IngestHarness;
let opsgenie: OnCallSink;
let onCall: OnCallClient;
/** The sink's next answers, one per request, before normal service resumes. */
let script: OnCallScriptedAnswer[];
/** The open alerts by alias, as on-call shows them. */
const openAlerts = () => new Map(opsgenie.alerts().flatMap((a) => (a.status === "open" && a.alias !== undefined ? [[a.alias, a] as const] : [])));

beforeEach(async () => {
    script = [];
    [h, opsgenie] = await Promise.all([startIngestHarness(), startOnCallSink({ apiKey: KEY, answer: () => script.shift() })]);
    onCall = createOnCallClient({ apiUrl: opsgenie.url, apiKey: async () => KEY });
});
afterEach(async () => {
    await Promise.all([h.close(), opsgenie.close()]);
});

describe("mail-ingest pages on-call for a mail that lit a tower", () => {
    it("creates one alert whose alias is the tower's alert key, with the message, priority, tags, details, source and entity", async () => {
        const handler = h.handler({}, onCall);
        await handler(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-page")), context());

        expect(h.intentsOnQueue()[0].alertKey).toBe(JA_KEY);
        expect([...openAlerts().keys()]).toEqual([JA_KEY]);
        const alert = openAlerts().get(JA_KEY)?.body ?? {};
        expect(alert).toMatchObject({
            message: `[CRITICAL] ${JA_SUBJECT}`,
            alias: JA_KEY,
            priority: "P1",
            tags: ["alertline", "alertline-prod", "critical", "tower:tokyo-ops", "tower:osaka-noc"],
            source: "alertline mail-ingest",
            entity: "tokyo-office",
            details: {
                rule: "zabbix-ja-critical",
                towers: "tokyo-ops, osaka-noc",
                messageId: "msg-page",
                environment: "prod",
                original: `s3://${BUCKET}/inbound/msg-page`,
            },
        });
        expect(String((alert.details as Record<string, string>).from)).toContain("zabbix@zabbix.example.jp");
        expect(String(alert.description)).toContain("深刻度: 重度の障害");
        // The sink accepts only "GenieKey <KEY>": the 202 says the key was sent as on-call wants it.
        expect(opsgenie.requests[0].status).toBe(202);
    });

    it("says in the summary that it paged, with the alias", async () => {
        await h.handler({}, onCall)(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-said")), context());
        expect(h.summaries()[0].onCall).toBe(`paged (alias ${JA_KEY})`);
        expect(h.summaries()[0].problems).toBeUndefined();
    });

    it.each([
        ["critical", "P1"],
        ["warning", "P3"],
        ["info", "P5"],
    ] as const)("gives a %s mail priority %s", async (severity, priority) => {
        const rules = parseMailRules(`rules:\n  - name: all-${severity}\n    from: "*@zabbix.example.jp"\n    severity: ${severity}\n    towers: all\n`);
        await h.handler({ rules }, onCall)(event(h.deliver(fixture("zabbix-en-problem.eml"), `msg-${severity}`)), context());
        const [alert] = [...openAlerts().values()];
        expect(alert.body.priority).toBe(priority);
        expect(alert.body.tags).toContain(severity);
        expect(String(alert.body.message)).toBe(`[${severity.toUpperCase()}] Problem: Zabbix agent on app-02 is not available for 3 minutes`);
    });

    it("closes the alert when the recovery comes, with a note naming the mail", async () => {
        const handler = h.handler({}, onCall);
        await handler(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-problem")), context());
        await handler(event(h.deliver(fixture("zabbix-ja-recovery.eml"), "msg-recovery")), context());

        expect(openAlerts().size).toBe(0);
        const close = opsgenie.requests[1];
        expect(close.method).toBe("POST");
        expect(close.path).toBe(`/v2/alerts/${encodeURIComponent(JA_KEY)}/close`);
        expect(close.alias).toBe(JA_KEY);
        expect(close.query).toEqual({ identifierType: "alias" });
        expect(opsgenie.alerts().find((a) => a.alias === JA_KEY)?.status).toBe("closed");
        expect(String((close.body as { note?: unknown }).note)).toMatch(/^Recovered by mail "復旧: web-01 .*" from .*zabbix@zabbix\.example\.jp.* \(SES message msg-recovery, rule zabbix-ja-recovery\)$/);
        expect(h.summaries()[1].onCall).toBe(`closed (alias ${JA_KEY})`);
    });

    it("uses the stored form of a very long alert key as the alias, and cuts the message to on-call's 130 characters", async () => {
        const subject = `Problem: ${"disk full on a host with a very long trigger name ".repeat(10)}`;
        const raw = Buffer.from(`From: Zabbix <zabbix@zabbix.example.jp>\r\nSubject: ${subject}\r\nContent-Type: text/plain\r\n\r\nSeverity: Average\r\n`);
        await h.handler({}, onCall)(event(h.deliver(raw, "msg-long")), context());
        // The intent carries the key in its stored form (a prefix and a hash), which is also the alias:
        // an acknowledgement coming back with the alias clears the very alert the tower shows.
        const alertKey = h.intentsOnQueue()[0].alertKey;
        expect(alertKey).toMatch(/…#[0-9a-f]{32}$/);
        const [alias] = [...openAlerts().keys()];
        expect(alias).toBe(alertKey);
        expect(onCallAlias(alertKey)).toBe(alertKey);
        expect(alias.length).toBeLessThanOrEqual(200);
        // The channel's summary names the alert by the same key: Slack's app mode threads by it, and
        // the notes of tower-dispatch and ack-webhook (which carry the intent's key) reply in that thread.
        expect(h.summaries()[0].alertKey).toBe(alertKey);
        expect(String(openAlerts().get(alias)?.body.message)).toHaveLength(130);
    });
});

describe("mail-ingest does not page for mail that lit no tower", () => {
    it("does not page for an untrusted mail, and says why in the summary", async () => {
        await h.handler({}, onCall)(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-forged", { verdictsFrom: "ses-s3-failed-verdicts.json" })), context());
        expect(opsgenie.requests).toHaveLength(0);
        expect(h.summaries()[0].onCall).toBe("not paged: it lit no tower");
    });

    it("does not page for an ignored newsletter", async () => {
        await h.handler({}, onCall)(event(h.deliver(fixture("newsletter.eml"), "msg-news")), context());
        expect(opsgenie.requests).toHaveLength(0);
        expect(h.sns.messages).toHaveLength(0);
    });

    it("leaves the summary without an on-call line when on-call is not configured", async () => {
        await h.handler()(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-off")), context());
        expect(h.summaries()[0]).not.toHaveProperty("onCall");
        expect(h.intentsOnQueue()).toHaveLength(2);
    });
});

describe("mail-ingest when on-call fails", () => {
    it("throws on a 503 so Lambda retries, and the retry pages without sending the intents again", async () => {
        const handler = h.handler({}, onCall);
        const record = h.deliver(fixture("zabbix-ja-problem.eml"), "msg-503");
        script.push({ status: 503, body: JSON.stringify({ message: "Service Unavailable" }) });

        await expect(handler(event(record), context())).rejects.toBeInstanceOf(OnCallUnavailableError);
        expect(h.sqs.batches).toHaveLength(1);
        expect(h.sns.messages).toHaveLength(0);
        expect(openAlerts().size).toBe(0);
        expect(await h.stateItem("msg-503")).toMatchObject({ state: "intents-sent", leaseUntil: 0 });
        expect(h.lines.some((l) => l.level === "error" && l.message.includes("Lambda will retry"))).toBe(true);

        h.clock += 60_000;
        const outcomes = await handler(event(record), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(h.sqs.batches).toHaveLength(1);
        expect(openAlerts().get(JA_KEY)?.count).toBe(1);
        expect(h.summaries()).toHaveLength(1);
        expect(h.summaries()[0].onCall).toBe(`paged (alias ${JA_KEY})`);
        expect((await h.stateItem("msg-503"))?.state).toBe("done");
    });

    it("throws when on-call cannot be reached at all", async () => {
        const unreachable = createOnCallClient({ apiUrl: `http://127.0.0.1:${await closedPort()}`, apiKey: async () => "k" });
        await expect(h.handler({}, unreachable)(event(h.deliver(fixture("nagios-problem.eml"), "msg-unreachable")), context())).rejects.toThrow(/was not reachable/);
        expect(h.sns.messages).toHaveLength(0);
        expect((await h.stateItem("msg-unreachable"))?.state).toBe("intents-sent");
    });

    it("pages again, harmlessly, when only the summary failed after the page", async () => {
        const handler = h.handler({}, onCall);
        const record = h.deliver(fixture("zabbix-ja-problem.eml"), "msg-sns-down");
        h.sns.failNext(1, "InternalError");
        await expect(handler(event(record), context())).rejects.toThrow();
        h.clock += 60_000;
        await handler(event(record), context());
        expect(h.sqs.batches).toHaveLength(1);
        // One open alert: on-call deduplicates the second create by alias.
        expect([...openAlerts().keys()]).toEqual([JA_KEY]);
        expect(openAlerts().get(JA_KEY)?.count).toBe(2);
        expect(h.summaries()).toHaveLength(1);
    });

    it("does not throw when on-call refuses the page for good: the refusal is in the summary and the error log, never the key", async () => {
        const wrongKey = "0bad0bad-1111-2222-3333-444455556666";
        const wrong = createOnCallClient({ apiUrl: opsgenie.url, apiKey: async () => wrongKey });
        script.push({ status: 401, body: JSON.stringify({ message: `Could not authenticate with key ${wrongKey}.` }) });

        const outcomes = await h.handler({}, wrong)(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-401")), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(h.intentsOnQueue()).toHaveLength(2);
        const summary = h.summaries()[0];
        expect(String(summary.problems)).toMatch(/^on-call refused the page: could not create the alert: on-call answered 401 \(.*\): the on-call API key is wrong or lacks access: /m);
        expect(String(summary.onCall)).toMatch(/^not paged: .*401/);
        expect(h.lines.some((l) => l.level === "error" && l.message === "On-call refused the page")).toBe(true);
        expect(JSON.stringify(h.sns.messages)).not.toContain(wrongKey);
        expect(JSON.stringify(h.lines)).not.toContain(wrongKey);
        expect((await h.stateItem("msg-401"))?.state).toBe("done");
    });

    it("reports a refused close in the summary without throwing", async () => {
        const handler = h.handler({}, onCall);
        await handler(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-p")), context());
        script.push({ status: 403, body: JSON.stringify({ message: "You are not authorized to close this alert." }) });
        await handler(event(h.deliver(fixture("zabbix-ja-recovery.eml"), "msg-r")), context());
        expect(String(h.summaries()[1].problems)).toContain("on-call refused to close the alert: could not close the alert: on-call answered 403 (You are not authorized to close this alert.)");
        expect(String(h.summaries()[1].onCall)).toMatch(/^not closed: /);
        expect(openAlerts().has(JA_KEY)).toBe(true);
    });
});

describe("mail-ingest in the migration window (Opsgenie and JSM)", () => {
    /** Both backends on the one sink: Opsgenie's alert API and JSM's integration API, their alerts kept apart. */
    const both = () => [
        { backend: "opsgenie" as const, client: onCall },
        { backend: "jsm" as const, client: createOnCallClient({ apiUrl: opsgenie.jsmUrl, apiKey: async () => KEY }) },
    ];
    const alertsIn = (api: "opsgenie" | "jsm") => opsgenie.alerts().filter((a) => a.api === api);
    /** Answers for one backend's requests only; the other's go through. */
    let failing: { api: "opsgenie" | "jsm"; answers: OnCallScriptedAnswer[] } | undefined;
    beforeEach(async () => {
        failing = undefined;
        await opsgenie.close();
        opsgenie = await startOnCallSink({ apiKey: KEY, answer: (r) => (failing !== undefined && r.api === failing.api ? failing.answers.shift() : script.shift()) });
        onCall = createOnCallClient({ apiUrl: opsgenie.url, apiKey: async () => KEY });
    });

    it("pages each backend once for a mail that lit a tower, with the same alias, and closes both on recovery", async () => {
        const handler = h.handler({}, both());
        await handler(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-dual")), context());
        expect(alertsIn("opsgenie").map((a) => [a.alias, a.count, a.priority])).toEqual([[JA_KEY, 1, "P1"]]);
        expect(alertsIn("jsm").map((a) => [a.alias, a.count, a.priority])).toEqual([[JA_KEY, 1, "P1"]]);
        expect(h.summaries()[0].onCall).toBe(`paged in opsgenie and jsm (alias ${JA_KEY})`);

        await handler(event(h.deliver(fixture("zabbix-ja-recovery.eml"), "msg-dual-ok")), context());
        expect(opsgenie.alerts().map((a) => [a.api, a.status]).sort()).toEqual([
            ["jsm", "closed"],
            ["opsgenie", "closed"],
        ]);
        expect(h.summaries()[1].onCall).toBe(`closed in opsgenie and jsm (alias ${JA_KEY})`);
    });

    it("pages Opsgenie when JSM is down, and the retry pages only JSM", async () => {
        const handler = h.handler({}, both());
        const record = h.deliver(fixture("zabbix-ja-problem.eml"), "msg-jsm-503");
        failing = { api: "jsm", answers: [{ status: 503 }] };

        await expect(handler(event(record), context())).rejects.toBeInstanceOf(OnCallUnavailableError);
        expect(alertsIn("opsgenie").map((a) => a.count)).toEqual([1]);
        expect(alertsIn("jsm")).toEqual([]);
        expect(await h.stateItem("msg-jsm-503")).toMatchObject({ state: "intents-sent", pagedIn_opsgenie: expect.any(String) });

        h.clock += 60_000;
        await handler(event(record), context());
        // Opsgenie was not paged a second time; JSM was paged once.
        expect(alertsIn("opsgenie").map((a) => a.count)).toEqual([1]);
        expect(alertsIn("jsm").map((a) => a.count)).toEqual([1]);
        const creates = opsgenie.requests.filter((r) => r.action === "create-alert").map((r) => `${r.api} ${r.status}`);
        // The first attempt's two (in either order), then the retry's one, to JSM only.
        expect([...creates.slice(0, 2)].sort()).toEqual(["jsm 503", "opsgenie 202"]);
        expect(creates.slice(2)).toEqual(["jsm 202"]);
        expect(h.sqs.batches).toHaveLength(1);
        expect(h.summaries().map((s) => s.onCall)).toEqual([`paged in opsgenie and jsm (alias ${JA_KEY})`]);
    });

    it("reports a backend that refuses for good in the summary, without losing the page in the other or throwing", async () => {
        failing = { api: "opsgenie", answers: [{ status: 403, body: { message: "Your account is suspended (migrated to JSM)." } }] };
        const outcomes = await h.handler({}, both())(event(h.deliver(fixture("zabbix-ja-problem.eml"), "msg-og-403")), context());
        expect(outcomes[0].kind).toBe("processed");
        expect(alertsIn("jsm").map((a) => a.alias)).toEqual([JA_KEY]);
        const summary = h.summaries()[0];
        expect(String(summary.onCall)).toMatch(new RegExp(`^paged in jsm \\(alias ${JA_KEY.replace(/[|]/g, "\\|")}\\); not paged in opsgenie: .*403`));
        expect(String(summary.problems)).toMatch(/on-call refused the page: opsgenie: /);
        expect(h.lines.some((l) => l.level === "error" && l.message === "On-call refused the page")).toBe(true);
    });
});
