import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { ScheduledEvent } from "aws-lambda";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { startCloudWatchStub, type CloudWatchStub } from "./cloudwatch-stub";

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
    /** Records PutMetricData as the SDK sends it; emptied after each test. */
    readonly cloudwatch: CloudWatchStub;
    readonly cloudwatchClient: CloudWatchClient;
}

/**
 * The peers a probe test file shares: started before its first test, closed after its last. Call
 * it at the top of the file; read the fields inside tests and hooks (they are set in beforeAll).
 */
export function useProbePeers(): ProbePeers {
    const peers = {} as { -readonly [K in keyof ProbePeers]: ProbePeers[K] };
    beforeAll(async () => {
        peers.dynamo = await startDynalite();
        peers.cloudwatch = await startCloudWatchStub();
        peers.cloudwatchClient = peers.cloudwatch.client();
    });
    afterEach(() => {
        peers.cloudwatch.calls.splice(0);
    });
    afterAll(async () => {
        peers.cloudwatchClient.destroy();
        await Promise.all([peers.dynamo.close(), peers.cloudwatch.close()]);
    });
    return peers;
}
