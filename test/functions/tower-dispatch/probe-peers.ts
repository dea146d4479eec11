import type { ScheduledEvent } from "aws-lambda";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { createMetricSink, type MetricSink } from "../../../functions/shared/path-metrics";
import { captureEmf, type EmfCapture } from "../../harness/emf";

/** The event an EventBridge schedule (rate expression) delivers to tower-dispatch's probe. */
export function scheduledEvent(): ScheduledEvent {
    return {
        version: "0",
        id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        source: "aws.events",
        account: "123456789012",
        time: "2024-05-21T09:00:00Z",
        region: "ap-northeast-1",
        resources: ["arn:aws:events:ap-northeast-1:123456789012:rule/alertline-dev-mail-probe-schedule"],
        detail: {},
    };
}

export interface ProbePeers {
    /** dynalite, for the towers' state. */
    readonly dynamo: LocalDynamo;
    /** The EMF lines Powertools Metrics wrote on stdout; emptied after each test. */
    readonly emf: EmfCapture;
    /** The real Powertools sink (environment "dev") the handler writes its metrics through. */
    readonly metrics: MetricSink;
}

/**
 * The peers a probe test file shares: started before its first test, closed after its last. Call
 * it at the top of the file; read the fields inside tests and hooks (they are set in beforeAll).
 */
export function useProbePeers(): ProbePeers {
    const peers = {} as { -readonly [K in keyof ProbePeers]: ProbePeers[K] };
    beforeAll(async () => {
        peers.dynamo = await startDynalite();
        peers.emf = captureEmf();
        peers.metrics = createMetricSink({ environment: "dev", serviceName: "tower-dispatch", logger: { error: (message) => {
            throw new Error(`the metric sink complained: ${message}`);
        } } });
    });
    afterEach(() => {
        peers.emf.data.splice(0);
    });
    afterAll(async () => {
        peers.emf.stop();
        await peers.dynamo.close();
    });
    return peers;
}
