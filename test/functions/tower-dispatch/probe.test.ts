import { afterEach, describe, expect, it } from "vitest";
import { sendSignal } from "../../../functions/shared/patlite/client";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { isScheduledEvent, mapBounded, probeTowers, type ProbeContext } from "../../../functions/tower-dispatch/probe";
import { restoreShown } from "../../../functions/tower-dispatch/restore-shown";
import { createRelay, type RelayResult } from "../../../functions/tower-dispatch/relay";
import { createStateStore, type TowerStateStore } from "../../../functions/tower-dispatch/state-store";
import { closedPort } from "../closed-port";
import { expectedSignal, HARNESS_NOW, lambdaContext, makeIntent, sqsEvent, startHarness, type Harness, type LogLine, type TowerSpec } from "./harness";
import { scheduledEvent, useProbePeers } from "./probe-peers";

/**
 * The scheduled probe through the real handler: emulated towers, a closed port, dynalite for the
 * state, and the EMF lines the real Powertools Metrics writes on stdout.
 */

const CRITICAL = expectedSignal(DEFAULT_SEVERITY_SIGNALS.critical);
const WARNING = expectedSignal(DEFAULT_SEVERITY_SIGNALS.warning);
const DARK = expectedSignal({});

const peers = useProbePeers();
let harness: Harness | undefined;

afterEach(async () => {
    await harness?.close();
    harness = undefined;
});

async function start(specs: readonly TowerSpec[], extra: Parameters<typeof startHarness>[2] = {}): Promise<Harness> {
    harness = await startHarness(peers.dynamo, specs, { ...extra, extra: { metrics: peers.metrics, ...extra.extra } });
    return harness;
}

const probe = (h: Harness) => h.handler(scheduledEvent(), lambdaContext());
const stored = (h: Harness, tower: string) => createStateStore(peers.dynamo.documentClient, h.table).load(tower);
const hexOf = (bytes: Buffer) => [...bytes].map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
const probeLine = (h: Harness, tower: string): LogLine | undefined => h.logs.find((l) => /probe/.test(l.message) && (l.attributes[0] as { tower?: string })?.tower === tower);
const reachability = () => peers.emf.data.filter((d) => d.metric === "TowerReachable");
const metricValues = () => reachability().map((d) => ({ namespace: d.namespace, tower: d.values.Tower, value: d.value }));

/** A tower entry for a port nothing listens on. */
async function closedTower(name: string): Promise<TowerConfig> {
    return { name, site: "osaka", host: "127.0.0.1", port: await closedPort(), protocol: "pns", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] };
}

describe("the scheduled probe", () => {
    it("reports an answering tower as 1 and a closed port as 0, as EMF with exactly the alarm's dimensions", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }]);
        h.towers.push(await closedTower("osaka-desk"));
        const summary = await probe(h);
        expect(summary).toEqual({ probed: 2, reachable: 1, unreachable: ["osaka-desk"], resent: [] });
        expect(reachability()).toEqual([
            { namespace: "alertline/Towers", metric: "TowerReachable", unit: "Count", dimensions: ["Environment", "Tower"], values: { Environment: "dev", Tower: "tokyo-ops" }, value: 1 },
            { namespace: "alertline/Towers", metric: "TowerReachable", unit: "Count", dimensions: ["Environment", "Tower"], values: { Environment: "dev", Tower: "osaka-desk" }, value: 0 },
        ]);
        // The emulator got the PNS status request and nothing else.
        expect(h.emulators.get("tokyo-ops")!.commands.map(hexOf)).toEqual(["58 58 47 00 00 00"]);
    });

    it("logs one line per tower with the result and its latency", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }]);
        h.towers.push(await closedTower("osaka-desk"));
        await probe(h);
        const up = probeLine(h, "tokyo-ops")!;
        const down = probeLine(h, "osaka-desk")!;
        expect(h.logs.filter((l) => (l.attributes[0] as { tower?: string })?.tower === "tokyo-ops")).toHaveLength(1);
        expect(h.logs.filter((l) => (l.attributes[0] as { tower?: string })?.tower === "osaka-desk")).toHaveLength(1);
        expect(up.level).toBe("info");
        expect(up.attributes[0]).toMatchObject({ reachable: true, relay: "vpn", reading: "dark", restore: "nothing-shown", latencyMs: expect.any(Number) });
        expect(down.level).toBe("warn");
        expect(down.attributes[0]).toMatchObject({ reachable: false, site: "osaka", latencyMs: expect.any(Number), error: expect.stringMatching(/connection refused \(ECONNREFUSED\)/) });
        expect(h.logs.find((l) => l.message === "Probe finished")?.attributes[0]).toEqual({ probed: 2, reachable: 1, unreachable: ["osaka-desk"], resent: [] });
    });

    it("asks a silent tower once, within the probe's timeout, and does not retry", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }], { extra: { probeOptions: { timeoutMs: 300 } } });
        const tower = h.emulators.get("tokyo-ops")!;
        tower.failNext(1, "silent");
        const summary = await probe(h);
        expect(summary.unreachable).toEqual(["tokyo-ops"]);
        expect(tower.commands).toHaveLength(1);
        expect(h.sleeps).toEqual([]);
        const line = probeLine(h, "tokyo-ops")!.attributes[0] as { latencyMs: number; error: string };
        expect(line.error).toMatch(/sent no answer within 300 ms; gave up after 1 attempt$/);
        expect(line.latencyMs).toBeGreaterThanOrEqual(290);
        expect(metricValues()).toEqual([{ namespace: "alertline/Towers", tower: "tokyo-ops", value: 0 }]);
    });

    it("counts a NAK to the status request as reachable, and compares nothing", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }]);
        await h.handler(sqsEvent([makeIntent("tokyo-ops", "a", "critical")]), lambdaContext());
        const tower = h.emulators.get("tokyo-ops")!;
        tower.failNext(1, "nak");
        expect(await probe(h)).toEqual({ probed: 1, reachable: 1, unreachable: [], resent: [] });
        expect(tower.commands).toHaveLength(2);
        expect(probeLine(h, "tokyo-ops")!.attributes[0]).toMatchObject({ reachable: true, error: expect.stringMatching(/NAK to the status request/) });
        expect(metricValues()).toEqual([{ namespace: "alertline/Towers", tower: "tokyo-ops", value: 1 }]);
    });

    it("probes twenty towers and reports each of them once", async () => {
        const specs = Array.from({ length: 20 }, (_, i) => ({ name: `tower-${i}`, protocol: "pns" as const }));
        const h = await start(specs);
        const summary = await probe(h);
        expect(summary).toMatchObject({ probed: 20, reachable: 20 });
        expect(metricValues().map((m) => m.tower)).toEqual(specs.map((spec) => spec.name));
    });

    it("fails with a clear message when ALERTLINE_ENVIRONMENT is not set, before asking any tower", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }], { extra: { environment: undefined } });
        await expect(probe(h)).rejects.toThrow(/ALERTLINE_ENVIRONMENT is not set: set it to the stack's environment/);
        expect(h.emulators.get("tokyo-ops")!.commands).toHaveLength(0);
        expect(peers.emf.data).toHaveLength(0);
    });

    it("fails the invocation, and says so, when the metric cannot be written", async () => {
        const failing = { put: () => {
            throw new Error("failing as told");
        } };
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }], { extra: { metrics: failing } });
        await expect(probe(h)).rejects.toThrow(/failing as told/);
        expect(h.logs.find((l) => l.level === "error")?.message).toMatch(/Could not write the probe's metric/);
    });

    it("still answers SQS batches as before", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }]);
        expect(await h.handler(sqsEvent([makeIntent("tokyo-ops", "a", "critical")]), lambdaContext())).toEqual({ batchItemFailures: [] });
        expect(h.emulators.get("tokyo-ops")!.state()).toEqual(CRITICAL);
        expect(reachability()).toHaveLength(0);
        // The command it sent is counted, per tower and outcome.
        expect(peers.emf.data.map((d) => [d.metric, d.dimensions, d.values, d.value])).toEqual([["TowerCommands", ["Environment", "Tower", "Outcome"], { Environment: "dev", Tower: "tokyo-ops", Outcome: "ACK" }, 1]]);
    });
});

describe("power-cycle recovery", () => {
    // What each protocol's command for the default critical signal (red flash 1, buzzer 1) is, from facts.md.
    const cases = [
        { protocol: "pns", read: "58 58 47 00 00 00", write: "58 58 53 00 00 06 02 00 00 00 00 01" },
        // PHN: bit 5 red flashing (0x20) + bit 3 buzzer pattern 1 (0x08).
        { protocol: "phn", read: "52", write: "57 28" },
        // LA6 D: tier 1 red (01), tiers 2–5 off, flash 01, buzzer 01.
        { protocol: "la6", read: "41 42 47 00 00 00", write: "41 42 44 00 00 07 01 00 00 00 00 01 01" },
    ] as const;

    for (const { protocol, read, write } of cases) {
        it(`${protocol}: a tower that came back dark while its state says red is sent red again, and the send is recorded`, async () => {
            const h = await start([{ name: "tokyo-ops", protocol }]);
            await h.handler(sqsEvent([makeIntent("tokyo-ops", "web-1/cpu", "critical")]), lambdaContext());
            expect((await stored(h, "tokyo-ops")).version).toBe(1);
            await h.stopTower("tokyo-ops");
            const fresh = await h.restartTower("tokyo-ops");
            expect(fresh.state()).toEqual(DARK);

            expect(await probe(h)).toEqual({ probed: 1, reachable: 1, unreachable: [], resent: ["tokyo-ops"] });
            expect(fresh.state()).toEqual(CRITICAL);
            expect(fresh.commands.map(hexOf)).toEqual([read, write]);
            const { state, version } = await stored(h, "tokyo-ops");
            expect(version).toBe(2);
            expect(state.shown).toEqual(CRITICAL);
            expect(state.lastSendFailed).toBe(false);
            expect([...state.active.keys()]).toEqual(["web-1/cpu"]);
            expect(probeLine(h, "tokyo-ops")!.attributes[0]).toMatchObject({ reading: "dark", restore: "resent", resentSignal: "red:flash1 buzzer:1" });
        });
    }

    it("leaves a tower alone that shows what it last acknowledged", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }]);
        await h.handler(sqsEvent([makeIntent("tokyo-ops", "a", "warning")]), lambdaContext());
        expect(await probe(h)).toMatchObject({ resent: [] });
        expect(h.emulators.get("tokyo-ops")!.commands).toHaveLength(2);
        expect((await stored(h, "tokyo-ops")).version).toBe(1);
        expect(probeLine(h, "tokyo-ops")!.attributes[0]).toMatchObject({ reading: "amber:on", restore: "matches" });
    });

    it("does not sound a buzzer again that was silenced at the tower", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }]);
        await h.handler(sqsEvent([makeIntent("tokyo-ops", "a", "critical")]), lambdaContext());
        const tower = h.emulators.get("tokyo-ops")!;
        await sendSignal({ host: tower.host, port: tower.port, protocol: "pns" }, { ...CRITICAL, buzzer: 0 });
        expect(await probe(h)).toMatchObject({ resent: [] });
        expect(tower.state()).toEqual({ ...CRITICAL, buzzer: 0 });
        expect((await stored(h, "tokyo-ops")).version).toBe(1);
    });

    it("does nothing for a tower nothing was ever sent to", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }]);
        expect(await probe(h)).toMatchObject({ reachable: 1, resent: [] });
        expect((await stored(h, "tokyo-ops")).version).toBe(0);
        expect(h.emulators.get("tokyo-ops")!.commands).toHaveLength(1);
    });

    it("records a resend the tower does not acknowledge as a failed send, so the next intent sends again", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }]);
        await h.handler(sqsEvent([makeIntent("tokyo-ops", "a", "critical")]), lambdaContext());
        await h.stopTower("tokyo-ops");
        const fresh = await h.restartTower("tokyo-ops");
        const store = createStateStore(peers.dynamo.documentClient, h.table, () => HARNESS_NOW);
        const relay = createRelay({ options: { attempts: 2, timeoutMs: 200, sleep: async () => undefined } });
        fresh.failNext(2, "nak");
        const dark = { kind: "signal", signal: DARK } as const;
        const outcome = await restoreShown(h.towers[0], dark, { store, relay });
        expect(outcome).toMatchObject({ kind: "resend-failed", version: 2, send: { ack: false, attempts: 2 } });
        const { state } = await store.load("tokyo-ops");
        expect(state.lastSendFailed).toBe(true);
        expect(state.shown).toEqual(CRITICAL);
        expect(fresh.state()).toEqual(DARK);
    });

    it("skips recording when another writer saved in between, and keeps that writer's state", async () => {
        const h = await start([{ name: "tokyo-ops", protocol: "pns" }]);
        await h.handler(sqsEvent([makeIntent("tokyo-ops", "a", "critical")]), lambdaContext());
        await h.stopTower("tokyo-ops");
        const fresh = await h.restartTower("tokyo-ops");
        const real = createStateStore(peers.dynamo.documentClient, h.table, () => HARNESS_NOW);
        // Another dispatcher writes right after the probe loaded the state.
        const racing: TowerStateStore = {
            async load(tower) {
                const loaded = await real.load(tower);
                await real.save(tower, { ...loaded.state, shown: WARNING }, loaded.version);
                return loaded;
            },
            save: (tower, state, version) => real.save(tower, state, version),
        };
        const outcome = await restoreShown(h.towers[0], { kind: "signal", signal: DARK }, { store: racing, relay: createRelay() });
        expect(outcome.kind).toBe("conflict");
        const { state, version } = await real.load("tokyo-ops");
        expect(version).toBe(2);
        expect(state.shown).toEqual(WARNING);
        expect(fresh.commands).toHaveLength(1);
    });

    it("does not compare an LA6 in smart mode", async () => {
        const h = await start([{ name: "nagoya-la6", protocol: "la6" }]);
        await h.handler(sqsEvent([makeIntent("nagoya-la6", "a", "critical")]), lambdaContext());
        const store = createStateStore(peers.dynamo.documentClient, h.table, () => HARNESS_NOW);
        const relay = async (): Promise<RelayResult> => {
            throw new Error("must not send");
        };
        expect(await restoreShown(h.towers[0], { kind: "smart", group: 3, pattern: 1 }, { store, relay })).toEqual({ kind: "not-comparable" });
    });
});

describe("probeTowers", () => {
    const towers: TowerConfig[] = Array.from({ length: 20 }, (_, i) => ({
        name: `t${i}`,
        site: "tokyo",
        host: "127.0.0.1",
        port: 10000,
        protocol: "pns",
        signals: DEFAULT_SEVERITY_SIGNALS,
        relay: { kind: "vpn" },
        allowedSenders: [],
    }));
    const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const unusedStore: TowerStateStore = {
        load: async () => {
            throw new Error("no state expected");
        },
        save: async () => {
            throw new Error("no state expected");
        },
    };

    function countingReader() {
        let running = 0;
        let most = 0;
        const read = async (): Promise<RelayResult> => {
            running++;
            most = Math.max(most, running);
            await new Promise((resolve) => setTimeout(resolve, 5));
            running--;
            return { relay: "vpn", ack: false, attempts: 1, sent: "58 58 47 00 00 00", error: "refused" };
        };
        return { read, most: () => most };
    }

    it("runs at most `concurrency` reads at once, 8 by default", async () => {
        const byDefault = countingReader();
        const ctx: ProbeContext = { read: byDefault.read, restore: { store: unusedStore, relay: createRelay() }, logger: quietLogger };
        const run = await probeTowers(towers, ctx);
        expect(byDefault.most()).toBe(8);
        expect(run.summary.unreachable).toEqual(towers.map((t) => t.name));
        const three = countingReader();
        await probeTowers(towers, { ...ctx, read: three.read, concurrency: 3 });
        expect(three.most()).toBe(3);
    });

    it("goes on with the other towers when one tower's state cannot be loaded", async () => {
        const answering = async (): Promise<RelayResult> => ({ relay: "vpn", ack: true, attempts: 1, sent: "58 58 47 00 00 00", reply: "00 00 00 00 00 00" });
        const logs: { level: string; fields: unknown }[] = [];
        const logger = {
            info: (_: string, fields: unknown) => void logs.push({ level: "info", fields }),
            warn: (_: string, fields: unknown) => void logs.push({ level: "warn", fields }),
            error: (_: string, fields: unknown) => void logs.push({ level: "error", fields }),
        };
        const run = await probeTowers(towers.slice(0, 3), { read: answering, restore: { store: unusedStore, relay: createRelay() }, logger });
        expect(run.summary).toEqual({ probed: 3, reachable: 3, unreachable: [], resent: [] });
        expect(logs.map((l) => l.level)).toEqual(["error", "error", "error"]);
        expect(logs[0].fields).toMatchObject({ restore: "failed", restoreError: "Error: no state expected" });
    });

    it("mapBounded keeps the items' order and refuses a concurrency below 1", async () => {
        expect(await mapBounded([30, 10, 20], 2, async (ms, i) => new Promise((resolve) => setTimeout(() => resolve(`${i}:${ms}`), ms)))).toEqual(["0:30", "1:10", "2:20"]);
        await expect(mapBounded([1], 0, async () => 1)).rejects.toThrow(/at least 1, got 0/);
    });
});

describe("isScheduledEvent", () => {
    it("takes EventBridge's scheduled event, and neither SQS batches nor other EventBridge events", () => {
        expect(isScheduledEvent(scheduledEvent())).toBe(true);
        expect(isScheduledEvent(sqsEvent([makeIntent("tokyo-ops", "a", "critical")]))).toBe(false);
        expect(isScheduledEvent({ Records: [] })).toBe(false);
        expect(isScheduledEvent({ ...scheduledEvent(), "detail-type": "EC2 Instance State-change Notification", source: "aws.ec2" })).toBe(false);
        expect(isScheduledEvent({ ...scheduledEvent(), source: "custom.app" })).toBe(false);
        expect(isScheduledEvent(null)).toBe(false);
        expect(isScheduledEvent("Scheduled Event")).toBe(false);
    });
});
