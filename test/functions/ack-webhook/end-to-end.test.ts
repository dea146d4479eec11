import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../../functions/ack-webhook/auth";
import { storedKey } from "../../../functions/shared/alert-key";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { createStateStore } from "../../../functions/tower-dispatch/state-store";
import { expectedSignal, HARNESS_NOW, lambdaContext, makeIntent, sqsEvent, startHarness, type Harness } from "../tower-dispatch/harness";
import { ACK_SECRET, startAckPeers, urlEvent, webhookBody, type AckPeers } from "./ack-harness";

/**
 * The loop closed end to end: tower-dispatch's real handler drives emulated PATLITE towers with its
 * state in dynalite; the acknowledgement endpoint puts its recoveries on the local SQS FIFO queue;
 * the queue delivers them to tower-dispatch as Lambda's event source mapping would.
 */

const CRITICAL = expectedSignal(DEFAULT_SEVERITY_SIGNALS.critical);
const QUIET = expectedSignal(DEFAULT_SEVERITY_SIGNALS.quiet);

let dynamo: LocalDynamo;
let harness: Harness | undefined;
let ack: AckPeers | undefined;

beforeAll(async () => {
    dynamo = await startDynalite();
});
afterEach(async () => {
    await ack?.close();
    await harness?.close();
    ack = harness = undefined;
});
afterAll(async () => {
    await dynamo.close();
});

async function loop(towers: { name: string; protocol: "pns" | "phn" | "la6" }[]) {
    harness = await startHarness(dynamo, towers);
    const h = harness;
    ack = await startAckPeers(() => h.towers, { now: () => HARNESS_NOW });
    // Lambda's event source mapping from the signal queue to tower-dispatch.
    ack.sqs.onMessages((event) => h.handler(event, lambdaContext()));
    return { h, a: ack };
}

/** Lights `tower` with a mail's critical intent for `key`, as mail-ingest would send it. */
async function light(h: Harness, tower: string, key: string) {
    expect(await h.handler(sqsEvent([makeIntent(tower, key, "critical")]), lambdaContext())).toEqual({ batchItemFailures: [] });
}

function signedCall(body: string) {
    return urlEvent({ body, headers: { "x-alertline-signature": signRequest(ACK_SECRET, body, HARNESS_NOW) } });
}

describe("ack-webhook with tower-dispatch and a PATLITE emulator", () => {
    it("The acknowledgement endpoint clears the tower for a signed request and refuses a forged one.", async () => {
        const { h, a } = await loop([{ name: "tokyo-ops", protocol: "pns" }]);
        const tower = h.emulators.get("tokyo-ops")!;
        // The alias mail-ingest gives the Opsgenie alert: the stored form of the correlation key.
        const alias = storedKey("zabbix:web-01.tokyo:CPU load too high");

        await light(h, "tokyo-ops", alias);
        expect(tower.state()).toEqual(CRITICAL);
        const commandsWhileLit = tower.commands.length;

        const body = webhookBody("Acknowledge", alias);
        const forgedSignature = signRequest("a-guessed-secret-0000000000000000", body, HARNESS_NOW);
        const forged = await a.call(urlEvent({ body, headers: { "x-alertline-signature": forgedSignature } }));
        expect(forged.statusCode).toBe(401);
        expect(JSON.parse(forged.body)).toEqual({ error: "unauthorized" });
        await a.sqs.drain();
        expect(a.sqs.accepted).toHaveLength(0);
        expect(tower.state()).toEqual(CRITICAL);
        expect(tower.commands).toHaveLength(commandsWhileLit);

        const acknowledged = await a.call(signedCall(body));
        expect(acknowledged.statusCode).toBe(202);
        expect(JSON.parse(acknowledged.body)).toEqual({ cleared: alias, towers: ["tokyo-ops"], unknownTowers: [] });
        await a.sqs.drain();
        expect(a.sqs.queue).toHaveLength(0);
        expect(tower.state()).toEqual(QUIET);
        const { state } = await createStateStore(dynamo.documentClient, h.table).load("tokyo-ops");
        expect(state.active.size).toBe(0);
    });

    it("an alert without tower tags clears the tower holding it and costs the others no command", async () => {
        const { h, a } = await loop([
            { name: "tokyo-ops", protocol: "pns" },
            { name: "osaka-phn", protocol: "phn" },
        ]);
        const tokyo = h.emulators.get("tokyo-ops")!;
        const osaka = h.emulators.get("osaka-phn")!;
        await light(h, "tokyo-ops", "web-01/cpu");
        await light(h, "osaka-phn", "db-02/disk");
        const osakaCommands = osaka.commands.length;

        const response = await a.call(urlEvent({ body: webhookBody("Close", "web-01/cpu", { tags: ["alertline", "alertline-dev"] }), headers: { "x-alertline-token": ACK_SECRET } }));
        expect(JSON.parse(response.body)).toMatchObject({ towers: ["tokyo-ops", "osaka-phn"] });
        await a.sqs.drain();
        expect(tokyo.state()).toEqual(QUIET);
        expect(osaka.state()).toEqual(CRITICAL);
        expect(osaka.commands).toHaveLength(osakaCommands);
    });

    it("a second acknowledgement after an unacknowledge and a new mail clears the tower again", async () => {
        const { h, a } = await loop([{ name: "tokyo-ops", protocol: "la6" }]);
        const tower = h.emulators.get("tokyo-ops")!;
        const alertId = "5d6e7f80-1a2b-4c3d-8e9f-a0b1c2d3e4f5";
        const call = (action: string, updatedAt: number) => a.call(signedCall(webhookBody(action, "web-01/cpu", { alertId, updatedAt })));

        await light(h, "tokyo-ops", "web-01/cpu");
        expect((await call("Acknowledge", 1716282300000000000)).statusCode).toBe(202);
        await a.sqs.drain();
        expect(tower.state()).toEqual(QUIET);

        expect((await call("UnAcknowledge", 1716282360000000000)).statusCode).toBe(200);
        await light(h, "tokyo-ops", "web-01/cpu");
        expect(tower.state()).toEqual(CRITICAL);

        expect((await call("Acknowledge", 1716282420000000000)).statusCode).toBe(202);
        await a.sqs.drain();
        expect(tower.state()).toEqual(QUIET);
    });

    it("Opsgenie's retry of the same call changes nothing after a new mail re-lit the tower", async () => {
        const { h, a } = await loop([{ name: "tokyo-ops", protocol: "pns" }]);
        const tower = h.emulators.get("tokyo-ops")!;
        const body = webhookBody("Acknowledge", "web-01/cpu", { updatedAt: 1716282300000000000 });

        await light(h, "tokyo-ops", "web-01/cpu");
        await a.call(signedCall(body));
        await a.sqs.drain();
        expect(tower.state()).toEqual(QUIET);

        await light(h, "tokyo-ops", "web-01/cpu");
        expect((await a.call(signedCall(body))).statusCode).toBe(202);
        await a.sqs.drain();
        expect(tower.state()).toEqual(CRITICAL);
    });
});
