import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { towerReachabilityAlarm } from "../../../components/patlite-site/patlite-site";
import { chunks, putMetricData, reachabilityData, TOWER_METRIC_NAMESPACE } from "../../../functions/tower-dispatch/tower-metrics";
import { startCloudWatchStub, type CloudWatchStub } from "./cloudwatch-stub";

let cloudwatch: CloudWatchStub;
let client: ReturnType<CloudWatchStub["client"]>;

beforeAll(async () => {
    cloudwatch = await startCloudWatchStub();
    client = cloudwatch.client();
});
afterAll(async () => {
    client.destroy();
    await cloudwatch.close();
});

const at = new Date("2024-05-21T09:00:00.000Z");

describe("reachabilityData", () => {
    it("is one TowerReachable datum per tower, 1 or 0, with Environment and Tower dimensions", () => {
        expect(reachabilityData([{ tower: "tokyo-ops", reachable: true }, { tower: "osaka-desk", reachable: false }], "prod", at)).toEqual([
            { MetricName: "TowerReachable", Dimensions: [{ Name: "Environment", Value: "prod" }, { Name: "Tower", Value: "tokyo-ops" }], Timestamp: at, Value: 1, Unit: "None" },
            { MetricName: "TowerReachable", Dimensions: [{ Name: "Environment", Value: "prod" }, { Name: "Tower", Value: "osaka-desk" }], Timestamp: at, Value: 0, Unit: "None" },
        ]);
    });

    it("refuses an empty environment, naming the variable", () => {
        expect(() => reachabilityData([{ tower: "t", reachable: true }], " ", at)).toThrow(/ALERTLINE_ENVIRONMENT/);
    });
});

describe("the contract with the infrastructure", () => {
    it("writes the namespace, metric and dimensions each tower's alarm reads (the role's grant: test/iam)", () => {
        const alarm = towerReachabilityAlarm("dev", "tokyo", "tokyo-ops", { intervalMinutes: 5, alarmAfterMisses: 3 });
        const [datum] = reachabilityData([{ tower: "tokyo-ops", reachable: true }], "dev", at);
        expect(alarm.namespace).toBe(TOWER_METRIC_NAMESPACE);
        expect(alarm.metricName).toBe(datum.MetricName);
        expect(Object.fromEntries(datum.Dimensions!.map((d) => [d.Name, d.Value]))).toEqual(alarm.dimensions);
    });
});

describe("putMetricData", () => {
    it("writes 2500 data in calls of at most 1000, in order", async () => {
        const probes = Array.from({ length: 2500 }, (_, i) => ({ tower: `tower-${i}`, reachable: i % 2 === 0 }));
        expect(await putMetricData(client, "alertline/Towers", reachabilityData(probes, "dev", at))).toBe(3);
        expect(cloudwatch.calls.map((c) => c.data.length)).toEqual([1000, 1000, 500]);
        // Bodies this large go out gzipped (the SDK compresses PutMetricData from 10 KB on).
        expect(cloudwatch.encodings).toEqual(["gzip", "gzip", "gzip"]);
        expect(cloudwatch.calls.every((c) => c.namespace === "alertline/Towers")).toBe(true);
        const towers = cloudwatch.calls.flatMap((c) => c.data.map((d) => d.Dimensions?.find((x) => x.Name === "Tower")?.Value));
        expect(towers[0]).toBe("tower-0");
        expect(towers[2499]).toBe("tower-2499");
        expect(cloudwatch.calls[2].data[499].Value).toBe(0);
    });

    it("makes no call when there is nothing to write", async () => {
        const before = cloudwatch.calls.length;
        expect(await putMetricData(client, "alertline/Towers", [])).toBe(0);
        expect(cloudwatch.calls.length).toBe(before);
    });
});

describe("chunks", () => {
    it("slices without losing or repeating items", () => {
        expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
        expect(chunks([], 1000)).toEqual([]);
    });
});
