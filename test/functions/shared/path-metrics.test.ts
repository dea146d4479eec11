import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ALERTLINE_METRICS } from "../../../functions/shared/metric-names";
import { createMetricSink, NO_METRICS } from "../../../functions/shared/path-metrics";
import { captureEmf, parseEmfLine, type EmfCapture } from "../../harness/emf";

let emf: EmfCapture;
beforeEach(() => {
    emf = captureEmf();
});
afterEach(() => emf.stop());

const errors: { message: string; attributes: Record<string, unknown>[] }[] = [];
const logger = { error: (message: string, ...attributes: Record<string, unknown>[]) => void errors.push({ message, attributes }) };

describe("createMetricSink (Powertools Metrics, EMF on stdout)", () => {
    it("writes exactly the definition's dimensions: Environment and Tower, no `service`", () => {
        const sink = createMetricSink({ environment: "dev", serviceName: "tower-dispatch", logger });
        sink.put(ALERTLINE_METRICS.towerReachable, 1, { Tower: "tokyo-ops" });
        sink.put(ALERTLINE_METRICS.towerReachable, 0, { Tower: "osaka-desk" });
        expect(emf.data).toEqual([
            { namespace: "alertline/Towers", metric: "TowerReachable", unit: "Count", dimensions: ["Environment", "Tower"], values: { Environment: "dev", Tower: "tokyo-ops" }, value: 1 },
            { namespace: "alertline/Towers", metric: "TowerReachable", unit: "Count", dimensions: ["Environment", "Tower"], values: { Environment: "dev", Tower: "osaka-desk" }, value: 0 },
        ]);
    });

    it("writes a metric without extra dimensions under Environment alone, in its own namespace", () => {
        const sink = createMetricSink({ environment: "prod", serviceName: "mail-ingest", logger });
        sink.put(ALERTLINE_METRICS.canaryRoundTrip, 8123);
        expect(emf.data).toEqual([{ namespace: "alertline/AlertPath", metric: "CanaryRoundTripTime", unit: "Milliseconds", dimensions: ["Environment"], values: { Environment: "prod" }, value: 8123 }]);
    });

    it("refuses dimension names the definition does not list, naming the file to read", () => {
        const sink = createMetricSink({ environment: "dev", serviceName: "x", logger });
        expect(() => sink.put(ALERTLINE_METRICS.towerCommands, 1, { Tower: "t" })).toThrow(/takes the dimensions Tower, Outcome besides Environment, got Tower: see functions\/shared\/metric-names.ts/);
        expect(() => NO_METRICS.put(ALERTLINE_METRICS.slackPosts, 1, { Tower: "t" })).toThrow(/Environment only/);
        expect(emf.data).toEqual([]);
    });

    it("writes nothing without an environment and says once which variable to set", () => {
        errors.splice(0);
        const sink = createMetricSink({ environment: undefined, serviceName: "x", logger });
        sink.put(ALERTLINE_METRICS.slackPosts, 1);
        sink.put(ALERTLINE_METRICS.slackPosts, 1);
        expect(emf.data).toEqual([]);
        expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/ALERTLINE_ENVIRONMENT is not set/)]);
    });

    it("skips (and logs) a datum whose dimension value is empty rather than write it under other dimensions", () => {
        errors.splice(0);
        const sink = createMetricSink({ environment: "dev", serviceName: "x", logger });
        sink.put(ALERTLINE_METRICS.signalIntents, 1, { Tower: " " });
        expect(emf.data).toEqual([]);
        expect(errors[0].attributes[0]).toEqual({ metric: "SignalIntents", dimension: "Tower" });
    });
});

describe("parseEmfLine", () => {
    it("is not fooled by a log line, and refuses a directive whose dimension has no value", () => {
        expect(parseEmfLine('{"level":"INFO","message":"x"}')).toEqual([]);
        expect(() => parseEmfLine('{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Tower"]],"Metrics":[{"Name":"M"}]}]},"M":1}')).toThrow(/Tower has no string value/);
    });
});
