import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ackNote, ackNoteText, BACKEND_HEADER, callingBackend, configuredBackends, type NoteBackend } from "../../../functions/ack-webhook/ack-note";
import { planRecoveries } from "../../../functions/ack-webhook/ack";
import { signRequest } from "../../../functions/ack-webhook/auth";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import { readThreadNote } from "../../../functions/shared/thread-note";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { startSnsStub, type SnsStub } from "../../../tools/local/sns";
import { ACK_SECRET, ACKNOWLEDGE_CLEAR, startAckPeers, urlEvent, webhookBody, webhookFixture, type AckPeers } from "./ack-harness";

/**
 * Slack's app mode: an accepted acknowledgement or close is noted on the alert topic, for the
 * alert's thread. The handler publishes through the real SNS client to the local SNS stand-in, which
 * records what it accepted; the note must never cost the acknowledgement.
 */

const NOW = Date.parse("2024-05-21T09:00:00.000Z");
const ALIAS = ACKNOWLEDGE_CLEAR.alias;
const TOWERS: TowerConfig[] = [{ name: "tokyo-ops", site: "tokyo", host: "192.0.2.10", port: 10000, protocol: "pns", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] }];

describe("the note's text and backend (pure)", () => {
    it("says who did what where, in the alert's identity", () => {
        expect(ackNote(ACKNOWLEDGE_CLEAR, "opsgenie", "dev")).toEqual({ alertline: "thread-note", alertKey: ALIAS, text: "acknowledged by hanako.sato@example.co.jp in Opsgenie", environment: "dev" });
        expect(ackNoteText({ action: "Close", user: "ayumi@example.com" }, "jsm")).toBe("closed by ayumi@example.com in JSM");
        expect(ackNoteText({ action: "Acknowledge", user: "ayumi@example.com" }, undefined)).toBe("acknowledged by ayumi@example.com in on-call");
    });

    it("takes the backend from the header when the stack serves it, else the stack's only one", () => {
        const cases: [string | undefined, NoteBackend[], NoteBackend | undefined][] = [
            ["jsm", ["opsgenie", "jsm"], "jsm"],
            ["OPSGENIE", ["opsgenie", "jsm"], "opsgenie"],
            [undefined, ["opsgenie", "jsm"], undefined],
            ["pagerduty", ["opsgenie", "jsm"], undefined],
            [undefined, ["jsm"], "jsm"],
            // A header naming a backend the stack does not use is not believed.
            ["opsgenie", ["jsm"], "jsm"],
            ["jsm", [], "jsm"],
            [undefined, [], undefined],
        ];
        for (const [header, configured, expected] of cases) expect([header, configured, callingBackend(header, configured)]).toEqual([header, configured, expected]);
    });

    it("reads ONCALL_BACKENDS as the component writes it, leaving unknown names out", () => {
        expect(configuredBackends("opsgenie,jsm")).toEqual(["opsgenie", "jsm"]);
        expect(configuredBackends(" JSM ")).toEqual(["jsm"]);
        expect(configuredBackends("opsgenie,pagerduty")).toEqual(["opsgenie"]);
        expect(configuredBackends(undefined)).toEqual([]);
    });

    it("puts who cleared the alert on its recovery intents, for the tower's note", () => {
        const { intents } = planRecoveries({ ...ACKNOWLEDGE_CLEAR, action: "Close", user: "x".repeat(300) }, TOWERS, NOW);
        expect(intents[0].by).toEqual({ user: `${"x".repeat(199)}…`, action: "Close" });
        expect(planRecoveries(ACKNOWLEDGE_CLEAR, TOWERS, NOW).intents[0].by).toEqual({ user: "hanako.sato@example.co.jp", action: "Acknowledge" });
    });
});

describe("ack-webhook handler: the thread note on the alert topic", () => {
    let sns: SnsStub;
    let dynamo: LocalDynamo;
    let peers: AckPeers | undefined;
    let tables = 0;
    beforeAll(async () => {
        sns = await startSnsStub();
        dynamo = await startDynalite();
    });
    afterEach(async () => {
        await peers?.close();
        peers = undefined;
        sns.messages.length = 0;
    });
    afterAll(async () => {
        await sns.close();
        await dynamo.close();
    });

    async function start(backends: readonly NoteBackend[], options: { clearOnce?: boolean; notes?: boolean } = {}) {
        const clearState = options.clearOnce ? { ddb: dynamo.documentClient, table: `ack-state-${++tables}` } : undefined;
        if (clearState !== undefined) await dynamo.createTable(clearState.table);
        peers = await startAckPeers(() => TOWERS, {
            now: () => NOW,
            extra: { clearState, notes: options.notes === false ? undefined : { sns: sns.client(), topicArn: sns.topicArn, backends } },
        });
        return peers;
    }
    const call = (p: AckPeers, body: string, headers: Record<string, string> = {}) =>
        p.call(urlEvent({ body, headers: { "x-alertline-signature": signRequest(ACK_SECRET, body, NOW), ...headers } }));
    const notes = () => sns.messages.map((m) => readThreadNote(m.json));

    it("publishes one note naming the user and the backend after queueing the recovery", async () => {
        const p = await start(["opsgenie"]);
        const response = await call(p, webhookFixture("acknowledge.json"));
        expect(response.statusCode).toBe(202);
        expect(p.sqs.accepted).toHaveLength(1);
        expect(sns.messages.map((m) => m.topicArn)).toEqual([sns.topicArn]);
        expect(notes()).toEqual([{ alertline: "thread-note", alertKey: ALIAS, text: "acknowledged by hanako.sato@example.co.jp in Opsgenie", environment: "dev" }]);
    });

    it("names the backend from the webhook's header in the migration window", async () => {
        const p = await start(["opsgenie", "jsm"]);
        await call(p, webhookBody("Close", "zabbix:db-02.osaka:disk-var", { username: "ayumi@example.com" }), { [BACKEND_HEADER.toLowerCase()]: "jsm" });
        await call(p, webhookBody("Acknowledge", "zabbix:web-09:ping", { username: "ken@example.com" }));
        expect(notes().map((n) => n?.text)).toEqual(["closed by ayumi@example.com in JSM", "acknowledged by ken@example.com in on-call"]);
        expect(notes().map((n) => n?.alertKey)).toEqual(["zabbix:db-02.osaka:disk-var", "zabbix:web-09:ping"]);
    });

    it("still answers 202 with the recovery queued when SNS refuses the note, and says so in the log", async () => {
        const p = await start(["opsgenie"]);
        sns.failNext(1);
        const response = await call(p, webhookFixture("acknowledge.json"));
        expect(response.statusCode).toBe(202);
        expect(p.sqs.accepted).toHaveLength(1);
        expect(sns.messages).toEqual([]);
        const warning = p.logs.find((l) => l.message.startsWith("Could not post the acknowledgement to the alert's thread"));
        expect(warning).toMatchObject({ level: "warn", attributes: [{ alias: ALIAS, error: expect.stringMatching(/InternalError/) }] });
        expect(p.logs.filter((l) => l.level === "error")).toEqual([]);
    });

    it("notes only the acknowledgement that cleared the alert, not the close that follows it", async () => {
        const p = await start(["opsgenie"], { clearOnce: true });
        expect((await call(p, webhookBody("Acknowledge", ALIAS))).statusCode).toBe(202);
        const closed = await call(p, webhookBody("Close", ALIAS, { alertId: "another-call" }));
        expect(closed.statusCode).toBe(200);
        expect(JSON.parse(closed.body)).toMatchObject({ alreadyCleared: ALIAS });
        expect(notes().map((n) => n?.text)).toEqual(["acknowledged by hanako.sato@example.co.jp in Opsgenie"]);
    });

    it("publishes nothing for a refused or ignored call, nor when the notes are off (webhook mode)", async () => {
        const p = await start(["opsgenie"]);
        expect((await p.call(urlEvent({ body: webhookFixture("acknowledge.json"), headers: { "x-alertline-token": "wrong" } }))).statusCode).toBe(401);
        expect((await call(p, webhookBody("AddNote", ALIAS))).statusCode).toBe(200);
        expect(sns.messages).toEqual([]);
        await p.close();
        peers = await start(["opsgenie"], { notes: false });
        expect((await call(peers, webhookFixture("acknowledge.json"))).statusCode).toBe(202);
        expect(sns.messages).toEqual([]);
    });
});
