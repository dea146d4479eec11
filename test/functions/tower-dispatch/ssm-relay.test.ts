import { SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import { replyFromOutput } from "../../../functions/tower-dispatch/relay";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { expectedSignal, lambdaContext, makeIntent, sqsEvent, startHarness, type Harness } from "./harness";
import { relayTargets } from "../../../components/mail-ingest/ssm-relay-document";
import { startSsmStub, type SsmStub } from "./ssm-stub";

const DOCUMENT = "alertline-dev-patlite-relay";
const RELAY_HOST = "i-0a1b2c3d4e5f60718";
const CRITICAL = expectedSignal(DEFAULT_SEVERITY_SIGNALS.critical);

let dynamo: LocalDynamo;
let ssm: SsmStub;
let ssmClient: SSMClient | undefined;
let harness: Harness | undefined;

beforeAll(async () => {
    dynamo = await startDynalite();
});
afterEach(async () => {
    await harness?.close();
    ssmClient?.destroy();
    if (ssmClient !== undefined) await ssm.close();
    harness = undefined;
    ssmClient = undefined;
});
afterAll(async () => {
    await dynamo.close();
});

async function ssmTower(protocol: "pns" | "phn" = "pns", options: { document?: string | null; instanceIds?: string[]; msPerSecond?: number } = {}) {
    ssm = await startSsmStub({ documentName: DOCUMENT, instanceIds: options.instanceIds ?? [RELAY_HOST], relayTargets: () => relayTargets(harness?.towers ?? []), msPerSecond: options.msPerSecond });
    ssmClient = ssm.client();
    harness = await startHarness(dynamo, [{ name: "sapporo-desk", protocol, site: "sapporo", relay: { kind: "ssm", instanceId: RELAY_HOST } }], {
        ssm: ssmClient,
        ssmRelayDocument: options.document === null ? undefined : (options.document ?? DOCUMENT),
    });
    return { h: harness, tower: harness.emulators.get("sapporo-desk")! };
}

const sendCommands = () => ssm.calls.filter((c) => c.target === "AmazonSSM.SendCommand");
const polls = () => ssm.calls.filter((c) => c.target === "AmazonSSM.GetCommandInvocation");

describe("ssm relay", () => {
    it("sends the signal through Run Command with the document's parameters and reads the tower's ACK", async () => {
        const { h, tower } = await ssmTower();
        expect(await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext())).toEqual({ batchItemFailures: [] });
        expect(tower.state()).toEqual(CRITICAL);
        expect(sendCommands()).toHaveLength(1);
        const body = sendCommands()[0].body;
        expect(body.DocumentName).toBe(DOCUMENT);
        expect(body.InstanceIds).toEqual([RELAY_HOST]);
        // PNS S command from facts.md: header 58 58 53 00 00 06, red 02 (flash 1), amber..white 00, buzzer 01.
        expect(body.Parameters).toEqual({
            towerHost: ["127.0.0.1"],
            towerPort: [String(tower.port)],
            payloadHex: ["585853000006020000000001"],
            replyBytes: ["1"],
            timeoutSeconds: ["5"],
        });
        expect(polls().length).toBeGreaterThanOrEqual(2);
        expect(h.sleeps.every((ms) => ms === 1000)).toBe(true);
        expect(h.sns.messages).toHaveLength(0);
    });

    it("reads PHN's three-byte ACK through the relay", async () => {
        const { h, tower } = await ssmTower("phn");
        await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "warning")]), lambdaContext());
        expect(sendCommands()[0].body.Parameters).toMatchObject({ replyBytes: ["3"], payloadHex: ["5702"] });
        expect(tower.state()).toEqual(expectedSignal(DEFAULT_SEVERITY_SIGNALS.warning));
        expect(h.sns.messages).toHaveLength(0);
    });

    it("keeps polling while the invocation is not yet visible", async () => {
        const { h, tower } = await ssmTower();
        ssm.invisibleFirstPoll(1);
        await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext());
        expect(tower.state()).toEqual(CRITICAL);
        expect(sendCommands()).toHaveLength(1);
        expect(polls().length).toBeGreaterThanOrEqual(3);
    });

    it("retries a NAK with a new command and succeeds on the second", async () => {
        const { h, tower } = await ssmTower();
        tower.failNext(1, "nak");
        await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext());
        expect(sendCommands()).toHaveLength(2);
        expect(tower.state()).toEqual(CRITICAL);
        // The backoff is the relay options' (10 ms in the harness), as on the TCP path.
        expect(h.sleeps.filter((ms) => ms !== 1000)).toEqual([10]);
        expect(h.logs.find((l) => l.message.includes("acknowledged"))?.attributes[0]).toMatchObject({ attempts: 2 });
        expect(h.sns.messages).toHaveLength(0);
    });

    it("reports the tower unreachable, naming the relay host, when it stays silent through every attempt", async () => {
        // The tower never answers, so the script's wait can be short without racing a reply.
        const { h, tower } = await ssmTower("pns", { msPerSecond: 20 });
        tower.failNext(3, "silent");
        expect(await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext())).toEqual({ batchItemFailures: [] });
        expect(sendCommands()).toHaveLength(3);
        expect(h.sns.messages).toHaveLength(1);
        expect(h.sns.messages[0].json).toMatchObject({ title: "PATLITE tower unreachable: sapporo-desk", state: "ALARM", site: "sapporo", relay: `ssm via ${RELAY_HOST}`, attempts: 3 });
        expect(String(h.sns.messages[0].json?.error)).toMatch(/without a reply from the tower/);
    });

    it("cancels a command the relay host never picks up, and reports after the last attempt", async () => {
        const { h, tower } = await ssmTower();
        ssm.holdNext(3);
        await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext());
        const cancels = ssm.calls.filter((c) => c.target === "AmazonSSM.CancelCommand");
        expect(sendCommands()).toHaveLength(3);
        // Each of the three commands that was polled is the one cancelled.
        expect(new Set(cancels.map((c) => c.body.CommandId)).size).toBe(3);
        expect(new Set(cancels.map((c) => c.body.CommandId))).toEqual(new Set(polls().map((c) => c.body.CommandId)));
        expect(tower.commands).toHaveLength(0);
        // 15 polls of 1 s per attempt: the default budget of 15 s.
        expect(polls()).toHaveLength(45);
        expect(String(h.sns.messages[0].json?.error)).toMatch(/still Pending after 15000 ms \(cancelled\)/);
    });

    it("logs a warning naming the command when SSM refuses the cancel, and says the cancel failed", async () => {
        const { h, tower } = await ssmTower();
        ssm.holdNext(3);
        ssm.denyCancel();
        await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext());
        const cancels = ssm.calls.filter((c) => c.target === "AmazonSSM.CancelCommand");
        expect(cancels).toHaveLength(3);
        const warnings = h.logs.filter((l) => l.level === "warn" && l.message.includes("Could not cancel an SSM relay command"));
        expect(warnings).toHaveLength(3);
        expect(warnings.map((w) => (w.attributes[0] as { commandId: string }).commandId)).toEqual(cancels.map((c) => c.body.CommandId));
        expect(warnings[0].attributes[0]).toMatchObject({ instanceId: RELAY_HOST, error: expect.stringMatching(/^AccessDeniedException: .*ssm:CancelCommand/) });
        expect(String(h.sns.messages[0].json?.error)).toMatch(/still Pending after 15000 ms \(cancel failed\)/);
        expect(tower.commands).toHaveLength(0);
    });

    it("reports the script's error when the tower refuses the connection", async () => {
        const { h } = await ssmTower();
        await h.stopTower("sapporo-desk");
        await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext());
        expect(String(h.sns.messages[0].json?.error)).toMatch(/ended Failed.*Connection refused/);
    });

    it("reports an offline relay host through SSM's own error", async () => {
        const { h } = await ssmTower("pns", { instanceIds: ["i-someoneelse"] });
        await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext());
        expect(sendCommands()).toHaveLength(3);
        expect(h.sns.messages).toHaveLength(1);
        expect(String(h.sns.messages[0].json?.error)).toMatch(new RegExp(`SendCommand to ${RELAY_HOST} failed: InvalidInstanceId`));
    });

    it("says which setting is missing when SSM_RELAY_DOCUMENT is not set, without calling SSM", async () => {
        const { h } = await ssmTower("pns", { document: null });
        await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext());
        expect(ssm.calls).toHaveLength(0);
        expect(h.sns.messages).toHaveLength(1);
        expect(h.sns.messages[0].json).toMatchObject({ attempts: 0 });
        expect(String(h.sns.messages[0].json?.reason)).toMatch(/SSM_RELAY_DOCUMENT is not set/);
    });
});

describe("replyFromOutput", () => {
    it("finds the reply line among other output, with or without spaces", () => {
        expect(replyFromOutput("connecting\nreply=06\n")).toBe("06");
        expect(replyFromOutput("reply=41 43 4b")).toBe("41434b");
        expect(replyFromOutput("reply=\n")).toBe("");
        expect(replyFromOutput("no reply here")).toBeUndefined();
        expect(replyFromOutput(undefined)).toBeUndefined();
    });
});
