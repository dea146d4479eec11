import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFunction } from "../../../components/shared/function-code";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { startTowerEmulator, type TowerEmulator } from "../../../tools/local/patlite-emulator";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { expectedSignal, makeIntent, sqsRecord } from "./harness";
import { startSnsStub, type SnsStub } from "../../../tools/local/sns";
import { startSqsStub, type SqsStub } from "../../../tools/local/sqs";
import { invokeBundle, localAwsEnv } from "../lambda-runtime";

/**
 * The function as Lambda runs it: the bundle the infrastructure ships (bundleFunction) as index.js
 * with towers.json beside it, in a fresh Node process with Lambda-like environment variables and its
 * default dependencies (real SDK clients found through AWS_ENDPOINT_URL_<SERVICE>, a real
 * Powertools Logger), against dynalite, the SNS stub and an emulated tower.
 */

const TABLE = "alertline-dev-state";
let workDir: string;
let dynamo: LocalDynamo;
let sns: SnsStub;
let dlq: SqsStub;
let tower: TowerEmulator;

beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "tower-dispatch-bundle-"));
    writeFileSync(join(workDir, "index.js"), bundleFunction("tower-dispatch"));
    dynamo = await startDynalite();
    await dynamo.createTable(TABLE);
    sns = await startSnsStub();
    dlq = await startSqsStub({ queueName: "alertline-dev-signals-dlq.fifo" });
    tower = await startTowerEmulator({ protocol: "pns", name: "tokyo-ops" });
    const towers: TowerConfig[] = [
        { name: "tokyo-ops", site: "tokyo", host: "127.0.0.1", port: tower.port, protocol: "pns", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] },
    ];
    writeFileSync(join(workDir, "towers.json"), JSON.stringify(towers));
}, 30_000);
afterAll(async () => {
    await Promise.all([dynamo?.close(), sns?.close(), dlq?.close(), tower?.close()]);
    rmSync(workDir, { recursive: true, force: true });
});

function invoke(dir: string, event: unknown): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return invokeBundle({
        bundlePath: join(dir, "index.js"),
        functionName: "alertline-dev-mail-dispatch",
        events: [event],
        env: {
            ...localAwsEnv(workDir, { DYNAMODB: dynamo.endpoint, SNS: sns.endpoint, SQS: dlq.endpoint, SSM: "http://127.0.0.1:9" }),
            STATE_TABLE: TABLE,
            ALERT_TOPIC_ARN: sns.topicArn,
            SIGNAL_DLQ_URL: dlq.queueUrl,
            SSM_RELAY_DOCUMENT: "alertline-dev-patlite-relay",
            ALERTLINE_ENVIRONMENT: "dev",
        },
    });
}

describe("the bundled tower-dispatch", () => {
    it("reads towers.json beside itself, lights the tower, reports skipped records and logs JSON", async () => {
        // The bundle runs on the real clock, and alerts older than 7 days expire: the mail arrives now.
        const records = [sqsRecord(makeIntent("tokyo-ops", "web-1/cpu", "critical", { receivedAt: new Date().toISOString() })), sqsRecord("{oops", "tokyo-ops")];
        const { stdout, stderr } = await invoke(workDir, { Records: records });
        expect(stdout).toContain('RESULT {"batchItemFailures":[]}');
        expect(tower.state()).toEqual(expectedSignal(DEFAULT_SEVERITY_SIGNALS.critical));
        expect(sns.messages.map((m) => m.json?.title)).toEqual(["tower-dispatch skipped 1 signal intent"]);
        expect(dlq.accepted.map((m) => m.MessageBody)).toEqual(["{oops"]);
        const logs = `${stdout}\n${stderr}`
            .split("\n")
            .filter((line) => line.startsWith("{"))
            .map((line) => JSON.parse(line));
        expect(logs.find((l) => l.message === "Tower acknowledged its new signal")).toMatchObject({ service: "tower-dispatch", level: "INFO", tower: "tokyo-ops" });
    }, 20_000);

    it("fails the invocation with a clear message when towers.json is missing", async () => {
        const bare = mkdtempSync(join(tmpdir(), "tower-dispatch-bare-"));
        try {
            writeFileSync(join(bare, "index.js"), bundleFunction("tower-dispatch"));
            const { stdout } = await invoke(bare, { Records: [sqsRecord(makeIntent("tokyo-ops", "a", "critical"))] });
            expect(stdout).toMatch(/REJECTED Cannot read .*tower-dispatch-bare-.*towers\.json .*redeploy with `pulumi up`/);
        } finally {
            rmSync(bare, { recursive: true, force: true });
        }
    }, 20_000);
});
