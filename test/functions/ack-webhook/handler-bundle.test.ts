import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFunction } from "../../../components/shared/function-code";
import { signRequest } from "../../../functions/ack-webhook/auth";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import { functionEncryptionContext } from "../../../functions/shared/kms-env-secret";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { startSqsStub, type SqsStub } from "../../../tools/local/sqs";
import { invokeBundle, localAwsEnv } from "../lambda-runtime";
import { parseEmfLine } from "../../harness/emf";
import { startKmsStub, type KmsStub } from "../slack-notifier/kms-stub";
import { ACK_SECRET, FUNCTION_NAME, urlEvent, webhookFixture } from "./ack-harness";

/**
 * The function as Lambda runs it: the bundle the infrastructure ships (bundleFunction) as index.js
 * with towers.json beside it, in a fresh Node process with the environment the component sets and
 * its default dependencies (real SDK clients found through AWS_ENDPOINT_URL_<SERVICE>, a real
 * Powertools Logger), against the KMS stub and the local SQS queue.
 */

let workDir: string;
let kms: KmsStub;
let sqs: SqsStub;

const TOWERS: TowerConfig[] = [
    { name: "tokyo-ops", site: "tokyo", host: "192.0.2.10", port: 10000, protocol: "pns", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] },
];

beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "ack-webhook-bundle-"));
    writeFileSync(join(workDir, "index.js"), bundleFunction("ack-webhook"));
    writeFileSync(join(workDir, "towers.json"), JSON.stringify(TOWERS));
    kms = await startKmsStub();
    sqs = await startSqsStub();
}, 30_000);
afterAll(async () => {
    await Promise.all([kms?.close(), sqs?.close()]);
    rmSync(workDir, { recursive: true, force: true });
});

function invoke(events: unknown[]) {
    return invokeBundle({
        bundlePath: join(workDir, "index.js"),
        functionName: FUNCTION_NAME,
        events,
        env: {
            ...localAwsEnv(workDir, { KMS: kms.endpoint, SQS: sqs.endpoint }),
            AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
            ACK_SECRET_CIPHERTEXT: kms.encrypt(ACK_SECRET, functionEncryptionContext(FUNCTION_NAME)),
            SIGNAL_QUEUE_URL: sqs.queueUrl,
            ALERTLINE_ENVIRONMENT: "dev",
        },
    });
}

function results(stdout: string): { statusCode: number; body: string }[] {
    return stdout
        .split("\n")
        .filter((line) => line.startsWith("RESULT "))
        .map((line) => JSON.parse(line.slice("RESULT ".length)));
}

describe("the bundled ack-webhook", () => {
    it("decrypts its secret, reads towers.json beside itself, refuses a forged call and queues a signed one", async () => {
        const body = webhookFixture("acknowledge.json");
        // The bundle runs on the real clock, so the signature is made now.
        const forged = urlEvent({ body, headers: { "x-alertline-token": "forged-token-000000" } });
        const good = urlEvent({ body, headers: { "x-alertline-signature": signRequest(ACK_SECRET, body, Date.now()) } });
        const { stdout, stderr } = await invoke([forged, good]);
        expect(stdout).toContain("HANDLER_RESOLVED");
        expect(results(stdout).map((r) => r.statusCode)).toEqual([401, 202]);
        expect(JSON.parse(results(stdout)[1].body)).toEqual({ cleared: "zabbix:web-01.tokyo:cpu-load", towers: ["tokyo-ops"], unknownTowers: [] });
        expect(sqs.accepted.map((m) => m.MessageGroupId)).toEqual(["tokyo-ops"]);

        const output = `${stdout}\n${stderr}`;
        const logs = output
            .split("\n")
            .filter((line) => line.startsWith("{"))
            .map((line) => JSON.parse(line));
        expect(logs.find((l) => l.message === "Refused a request that failed authentication")).toMatchObject({
            service: "ack-webhook",
            level: "WARN",
            sourceIp: "203.0.113.45",
            userAgent: "Opsgenie-Webhook/1.0",
            reason: "token does not match",
        });
        expect(logs.find((l) => l.message === "Queued recoveries for the acknowledged alert")).toMatchObject({ level: "INFO", alias: "zabbix:web-01.tokyo:cpu-load" });
        // The accepted acknowledgement, and not the refused one, is counted (EMF from Powertools Metrics).
        expect(stdout.split("\n").flatMap((line) => parseEmfLine(line)).map((d) => [d.namespace, d.metric, d.dimensions, d.values, d.value])).toEqual([
            ["alertline/AlertPath", "AcknowledgementsAccepted", ["Environment"], { Environment: "dev" }, 1],
        ]);
        expect(output).not.toContain(ACK_SECRET);
        expect(output).not.toContain("forged-token-000000");
    }, 20_000);
});
