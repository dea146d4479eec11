import type { SSMClient } from "@aws-sdk/client-ssm";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import { ssmRelayParameters } from "../../../functions/tower-dispatch/relay";
import { createStateStore } from "../../../functions/tower-dispatch/state-store";
import { expectedSignal, lambdaContext, makeIntent, sqsEvent, startHarness, type Harness } from "./harness";
import { scheduledEvent, useProbePeers } from "./probe-peers";
import { relayTargets } from "../../../components/mail-ingest/ssm-relay-document";
import { startSsmStub, type SsmStub } from "./ssm-stub";

/**
 * The probe for towers behind an SSM relay host: the status request goes through the same relay
 * document as signals (the stub checks every parameter against the document's allowedPattern and
 * runs the script's TCP exchange), once, with the probe's short timeouts.
 */

const DOCUMENT = "alertline-dev-patlite-relay";
const RELAY_HOST = "i-0a1b2c3d4e5f60718";
const CRITICAL = expectedSignal(DEFAULT_SEVERITY_SIGNALS.critical);

const peers = useProbePeers();
let ssm: SsmStub | undefined;
let ssmClient: SSMClient | undefined;
let harness: Harness | undefined;

afterEach(async () => {
    await harness?.close();
    ssmClient?.destroy();
    await ssm?.close();
    harness = undefined;
    ssm = undefined;
    ssmClient = undefined;
});

async function ssmTower(protocol: "pns" | "phn" | "la6" = "pns") {
    ssm = await startSsmStub({ documentName: DOCUMENT, instanceIds: [RELAY_HOST], relayTargets: () => relayTargets(harness?.towers ?? []) });
    ssmClient = ssm.client();
    harness = await startHarness(peers.dynamo, [{ name: "sapporo-desk", protocol, site: "sapporo", relay: { kind: "ssm", instanceId: RELAY_HOST } }], {
        ssm: ssmClient,
        ssmRelayDocument: DOCUMENT,
        extra: { metrics: peers.metrics },
    });
    return { h: harness, stub: ssm, tower: harness.emulators.get("sapporo-desk")! };
}

const sendCommands = (stub: SsmStub) => stub.calls.filter((c) => c.target === "AmazonSSM.SendCommand");
const metricValues = () => peers.emf.data.filter((d) => d.metric === "TowerReachable").map((d) => d.value);

describe("the probe through the SSM relay", () => {
    it("sends the PNS status request through the relay document and reads the six state bytes", async () => {
        const { h, stub, tower } = await ssmTower("pns");
        expect(await h.handler(scheduledEvent(), lambdaContext())).toEqual({ probed: 1, reachable: 1, unreachable: [], resent: [] });
        expect(sendCommands(stub)).toHaveLength(1);
        expect(sendCommands(stub)[0].body.Parameters).toEqual({
            towerHost: ["127.0.0.1"],
            towerPort: [String(tower.port)],
            payloadHex: ["585847000000"],
            replyBytes: ["6"],
            timeoutSeconds: ["3"],
        });
        expect(metricValues()).toEqual([1]);
        expect(h.logs.find((l) => l.message === "Tower answered the probe")?.attributes[0]).toMatchObject({ tower: "sapporo-desk", relay: "ssm", reading: "dark" });
    });

    it("asks for the reply length of each protocol's status answer: PHN 2, LA6 15", () => {
        const at = { host: "10.20.0.5", port: 10000 };
        expect(ssmRelayParameters({ ...at, protocol: "phn" }, Buffer.from([0x52]), 3)).toMatchObject({ payloadHex: ["52"], replyBytes: ["2"], timeoutSeconds: ["3"] });
        expect(ssmRelayParameters({ ...at, protocol: "la6" }, Buffer.from([0x41, 0x42, 0x47, 0, 0, 0]), 3)).toMatchObject({ payloadHex: ["414247000000"], replyBytes: ["15"] });
        // Signals keep the lengths of their ACKs and the default wait.
        expect(ssmRelayParameters({ ...at, protocol: "phn" }, Buffer.from([0x57, 0x01]))).toMatchObject({ replyBytes: ["3"], timeoutSeconds: ["5"] });
    });

    it("restores a power-cycled tower through the relay too", async () => {
        const { h, stub } = await ssmTower("phn");
        await h.handler(sqsEvent([makeIntent("sapporo-desk", "a", "critical")]), lambdaContext());
        await h.stopTower("sapporo-desk");
        const fresh = await h.restartTower("sapporo-desk");
        expect(await h.handler(scheduledEvent(), lambdaContext())).toEqual({ probed: 1, reachable: 1, unreachable: [], resent: ["sapporo-desk"] });
        expect(fresh.state()).toEqual(CRITICAL);
        // The signal, the probe's read (R), and the resend (W, red flashing + buzzer 1).
        expect(sendCommands(stub).map((c) => (c.body.Parameters as Record<string, string[]>).payloadHex[0])).toEqual(["5728", "52", "5728"]);
        expect((await createStateStore(peers.dynamo.documentClient, h.table).load("sapporo-desk")).version).toBe(2);
    });

    it("gives a relay host that never picks the command up one attempt, cancels it, and reports 0", async () => {
        const { h, stub, tower } = await ssmTower("pns");
        stub.holdNext(1);
        expect(await h.handler(scheduledEvent(), lambdaContext())).toEqual({ probed: 1, reachable: 0, unreachable: ["sapporo-desk"], resent: [] });
        expect(sendCommands(stub)).toHaveLength(1);
        expect(stub.calls.filter((c) => c.target === "AmazonSSM.CancelCommand")).toHaveLength(1);
        // Ten polls of the harness's 1 s: the probe's 10 s budget, not the 15 s of a signal.
        expect(stub.calls.filter((c) => c.target === "AmazonSSM.GetCommandInvocation")).toHaveLength(10);
        expect(tower.commands).toHaveLength(0);
        expect(metricValues()).toEqual([0]);
        expect(h.logs.find((l) => l.message === "Tower did not answer the probe")?.attributes[0]).toMatchObject({ error: expect.stringMatching(/still Pending after 10000 ms \(cancelled\)/) });
    });

    it("reports a tower whose relay script cannot connect", async () => {
        const { h } = await ssmTower("pns");
        await h.stopTower("sapporo-desk");
        expect(await h.handler(scheduledEvent(), lambdaContext())).toMatchObject({ unreachable: ["sapporo-desk"] });
        expect(h.logs.find((l) => l.message === "Tower did not answer the probe")?.attributes[0]).toMatchObject({ error: expect.stringMatching(/ended Failed.*Connection refused/) });
    });
});
