import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { towerReachabilityAlarm } from "../../../components/patlite-site/patlite-site";
import { createMetricSink } from "../../../functions/shared/path-metrics";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { countingRelay, TOWER_METRIC_NAMESPACE, writeReachability } from "../../../functions/tower-dispatch/tower-metrics";
import { captureEmf, type EmfCapture } from "../../harness/emf";

let emf: EmfCapture;
beforeAll(() => {
    emf = captureEmf();
});
afterAll(() => emf.stop());

const sink = createMetricSink({ environment: "dev", serviceName: "tower-dispatch", logger: { error: (m) => {
    throw new Error(m);
} } });

describe("the contract with the infrastructure", () => {
    it("writes the namespace, metric and dimensions each tower's alarm reads, and no other dimension", () => {
        emf.data.splice(0);
        const alarm = towerReachabilityAlarm("dev", "tokyo", "tokyo-ops", { intervalMinutes: 5, alarmAfterMisses: 3 });
        writeReachability(sink, [{ tower: "tokyo-ops", reachable: true }]);
        const [datum] = emf.data;
        expect(alarm.namespace).toBe(TOWER_METRIC_NAMESPACE);
        expect(datum.namespace).toBe(alarm.namespace);
        expect(datum.metric).toBe(alarm.metricName);
        expect(datum.values).toEqual(alarm.dimensions);
        expect(datum.dimensions).toEqual(Object.keys(alarm.dimensions));
    });
});

describe("countingRelay", () => {
    const tower = { name: "tokyo-ops" } as TowerConfig;
    it("counts each command by tower and outcome, and passes the result through", async () => {
        emf.data.splice(0);
        let ack = true;
        const relay = countingRelay(async () => ({ relay: "vpn", ack, attempts: 1, sent: "57 21" }), sink);
        expect((await relay(tower, {} as never)).ack).toBe(true);
        ack = false;
        expect((await relay(tower, {} as never)).ack).toBe(false);
        expect(emf.data.map((d) => [d.metric, d.values.Tower, d.values.Outcome, d.value])).toEqual([
            ["TowerCommands", "tokyo-ops", "ACK", 1],
            ["TowerCommands", "tokyo-ops", "failed", 1],
        ]);
    });
});
