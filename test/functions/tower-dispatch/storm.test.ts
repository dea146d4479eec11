import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SignalSpec } from "../../../functions/shared/patlite/signal";
import type { ActiveSeverity, SeveritySignals } from "../../../functions/shared/severity";
import type { SignalIntent } from "../../../functions/shared/signal-intent";
import { createStateStore } from "../../../functions/tower-dispatch/state-store";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { expectedSignal, lambdaContext, makeIntent, sqsEvent, startHarness, type Harness, type TowerSpec } from "./harness";

/**
 * The storm bar: 10,000 alert intents for 3 towers end in the right state with a handful of
 * commands per tower and never more than one connection per tower at a time.
 *
 * The storm, per tower (seeded, so every run is the same storm):
 * - 60 alert keys; each key has one severity class (critical, warning or info by key), so a
 *   re-notification repeats its key's severity;
 * - phase 1 (60 %): problem mails for random keys, ~10 % of them redelivered (the same intent again,
 *   soon after the original, as SQS and SNS may do);
 * - phase 2 (40 %): recoveries of every key except a few survivors, in random order, mixed with
 *   redeliveries, repeated recoveries (new mails for already recovered keys) and re-notifications
 *   of the survivors.
 * Batches of 10 per tower, in order (FIFO, message group = tower), the three towers fed concurrently.
 *
 * The bound on commands, and why: a command goes out only after a batch that changes the highest
 * active severity (the first batch always sends, since the tower's state is unknown). In phase 1
 * nothing recovers and a key's severity never changes, so the highest severity only rises: at most 3
 * distinct values. In phase 2 nothing new becomes active, so it only falls: at most 3 more changes.
 * So at most 6 commands per tower, however the 3,333 intents fall; the test also computes the exact
 * number of batch boundaries where the wanted signal changes and expects precisely that many.
 */

const TOTAL_INTENTS = 10_000;
const KEYS_PER_TOWER = 60;
const BATCH = 10;
const COMMAND_BOUND = 6;
const CLASSES: ActiveSeverity[] = ["critical", "warning", "info"];

interface StormTower extends TowerSpec {
    readonly signals: SeveritySignals;
    /** Keys (by index) that never recover. */
    readonly survivors: number[];
}

// Signals each protocol shows exactly (PHN: red/amber/green and one flash kind; LA6: one lit tier here).
const STORM_TOWERS: StormTower[] = [
    { name: "storm-pns", protocol: "pns", signals: { critical: { red: "flash2", buzzer: 3 }, warning: { amber: "on" }, info: { blue: "on" }, quiet: { green: "on" } }, survivors: [1, 2, 5] },
    { name: "storm-phn", protocol: "phn", signals: { critical: { red: "flash1", buzzer: 2 }, warning: { amber: "on" }, info: { amber: "flash1" }, quiet: { green: "on" } }, survivors: [0, 4] },
    { name: "storm-la6", protocol: "la6", signals: { critical: { red: "flash1", buzzer: 1 }, warning: { amber: "on" }, info: { blue: "on" }, quiet: { green: "on" } }, survivors: [2, 8] },
];

function prng(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        // mulberry32
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const keyName = (tower: string, index: number) => `${tower}/host-${String(index).padStart(2, "0")}/trigger-${index % 7}`;
const classOf = (index: number): ActiveSeverity => CLASSES[index % 3];

function stormFor(tower: StormTower, count: number, random: () => number): SignalIntent[] {
    const out: SignalIntent[] = [];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const redeliver = () => out.push(out[Math.max(0, out.length - 1 - Math.floor(random() * 20))]);
    const phaseOne = Math.floor(count * 0.6);
    while (out.length < phaseOne) {
        if (out.length > 0 && random() < 0.1) redeliver();
        else {
            const index = Math.floor(random() * KEYS_PER_TOWER);
            out.push(makeIntent(tower.name, keyName(tower.name, index), classOf(index)));
        }
    }
    const toRecover = Array.from({ length: KEYS_PER_TOWER }, (_, i) => i).filter((i) => !tower.survivors.includes(i));
    for (let i = toRecover.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [toRecover[i], toRecover[j]] = [toRecover[j], toRecover[i]];
    }
    const recovered: number[] = [];
    const remaining = count - phaseOne;
    while (out.length < count) {
        const left = count - out.length;
        // Spread the first recoveries over phase 2 so the highest severity falls step by step.
        if (toRecover.length > 0 && random() < toRecover.length / left + 0.02) {
            const index = toRecover.shift()!;
            recovered.push(index);
            out.push(makeIntent(tower.name, keyName(tower.name, index), "recovery"));
        } else {
            const roll = random();
            if (roll < 0.3) redeliver();
            else if (roll < 0.6 && recovered.length > 0) out.push(makeIntent(tower.name, keyName(tower.name, pick(recovered)), "recovery"));
            else {
                const index = pick(tower.survivors);
                out.push(makeIntent(tower.name, keyName(tower.name, index), classOf(index)));
            }
        }
    }
    expect(toRecover, `storm for ${tower.name} left keys unrecovered after ${remaining} phase-2 intents`).toEqual([]);
    return out;
}

/** From scratch: each mail applied once (first delivery), problems set their key, recoveries delete it. */
function activeAfter(intents: readonly SignalIntent[]): Map<string, ActiveSeverity> {
    const seen = new Set<string>();
    const active = new Map<string, ActiveSeverity>();
    for (const intent of intents) {
        if (seen.has(intent.messageId)) continue;
        seen.add(intent.messageId);
        if (intent.severity === "recovery") active.delete(intent.alertKey);
        else active.set(intent.alertKey, intent.severity);
    }
    return active;
}

function wantedSpec(tower: StormTower, active: Map<string, ActiveSeverity>): SignalSpec {
    const values = new Set(active.values());
    const level = values.has("critical") ? "critical" : values.has("warning") ? "warning" : values.has("info") ? "info" : "quiet";
    return tower.signals[level];
}

let dynamo: LocalDynamo;
let harness: Harness;

beforeAll(async () => {
    dynamo = await startDynalite();
    harness = await startHarness(dynamo, STORM_TOWERS);
});
afterAll(async () => {
    await harness.close();
    await dynamo.close();
});

describe("storm", () => {
    it("10,000 intents for 3 towers end in the right state with a handful of commands and one connection per tower", async () => {
        const random = prng(20240521);
        const storms = STORM_TOWERS.map((tower, i) => stormFor(tower, Math.floor(TOTAL_INTENTS / 3) + (i < TOTAL_INTENTS % 3 ? 1 : 0), random));
        expect(storms.reduce((n, s) => n + s.length, 0)).toBe(TOTAL_INTENTS);
        for (const storm of storms) {
            const ids = storm.map((i) => i.messageId);
            expect(new Set(ids).size).toBeLessThan(ids.length); // there are redeliveries
            expect(storm.filter((i) => i.severity === "recovery").length).toBeGreaterThan(KEYS_PER_TOWER);
        }

        const started = performance.now();
        const failures: string[] = [];
        await Promise.all(
            storms.map(async (storm) => {
                for (let start = 0; start < storm.length; start += BATCH) {
                    const result = await harness.handler(sqsEvent(storm.slice(start, start + BATCH)), lambdaContext());
                    failures.push(...result.batchItemFailures.map((f) => f.itemIdentifier));
                }
            }),
        );
        const seconds = (performance.now() - started) / 1000;
        expect(failures).toEqual([]);

        const figures: string[] = [];
        for (const [i, tower] of STORM_TOWERS.entries()) {
            const storm = storms[i];
            const emulator = harness.emulators.get(tower.name)!;
            const finalActive = activeAfter(storm);
            // What a dispatcher that sends one command per changed batch must send: batch boundaries where the wanted signal changes.
            let expectedCommands = 0;
            let previous: string | undefined;
            for (let end = BATCH; end < storm.length + BATCH; end += BATCH) {
                const wanted = JSON.stringify(expectedSignal(wantedSpec(tower, activeAfter(storm.slice(0, end)))));
                if (wanted !== previous) expectedCommands++;
                previous = wanted;
            }

            expect(finalActive.size).toBe(tower.survivors.length);
            expect(emulator.state(), tower.name).toEqual(expectedSignal(wantedSpec(tower, finalActive)));
            const { state } = await createStateStore(dynamo.documentClient, harness.table).load(tower.name);
            expect(Object.fromEntries([...state.active].map(([key, alert]) => [key, alert.severity]))).toEqual(Object.fromEntries(finalActive));
            expect(emulator.commands.length, tower.name).toBe(expectedCommands);
            expect(emulator.commands.length, tower.name).toBeLessThanOrEqual(COMMAND_BOUND);
            expect(emulator.maxConcurrentConnections(), tower.name).toBe(1);
            expect(emulator.refusedConnections()).toBe(0);
            figures.push(`${tower.name}: ${storm.length} intents, ${emulator.commands.length} commands, max ${emulator.maxConcurrentConnections()} connection`);
        }
        expect(harness.sns.messages).toEqual([]);
        console.info(`storm: ${TOTAL_INTENTS} intents in ${seconds.toFixed(2)} s; ${figures.join("; ")}`);
    }, 60_000);
});
