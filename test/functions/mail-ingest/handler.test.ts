import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFunction } from "../../../components/shared/function-code";
import { memoisedConfig } from "../../../functions/mail-ingest/handler";
import { loadIngestConfig, type IngestConfig } from "../../../functions/mail-ingest/ingest";
import { MailRulesError } from "../../../functions/shared/mail-rules";
import { startStateTable, type LocalStateTable } from "../../../tools/local/dynamo";
import { startS3Stub, type S3Stub } from "../../../tools/local/s3";
import { startSnsStub, type SnsStub } from "../../../tools/local/sns";
import { startSqsStub, type SqsStub } from "../../../tools/local/sqs";
import { startOnCallSink, type OnCallSink } from "../../../tools/local/oncall";
import { invokeBundle, localAwsEnv } from "../lambda-runtime";
import { startKmsStub, type KmsStub } from "../slack-notifier/kms-stub";

const RULES = readFileSync(join(__dirname, "../../../functions/mail-ingest/rules/dev.yaml"), "utf8");
const FIXTURES = join(__dirname, "../../fixtures/mail");
const ENV = { SIGNAL_QUEUE_URL: "http://127.0.0.1:1/q.fifo", ALERT_TOPIC_ARN: "arn:aws:sns:ap-northeast-1:123456789012:alerts", STATE_TABLE: "state" };
const TOWERS = [{ name: "dev-desk", site: "tokyo-office", host: "192.168.10.50", port: 10000, protocol: "pns", signals: {}, relay: { kind: "vpn" }, allowedSenders: [] }];

function packageDir(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), "mail-ingest-config-"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
}

const dirs: string[] = [];
afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function configDir(overrides: Record<string, string> = {}): string {
    const dir = packageDir({ "rules.yaml": RULES, "towers.json": JSON.stringify(TOWERS), "ingest.json": JSON.stringify({ environment: "dev", allowedSenders: ["*@zabbix.example.jp"] }), ...overrides });
    dirs.push(dir);
    return dir;
}

describe("loadIngestConfig", () => {
    it("reads rules.yaml, towers.json and ingest.json beside the function and the environment", () => {
        const config = loadIngestConfig(configDir(), ENV);
        expect(config.environment).toBe("dev");
        expect(config.allowedSenders).toEqual(["*@zabbix.example.jp"]);
        expect(config.towers).toEqual([{ name: "dev-desk", site: "tokyo-office", allowedSenders: [] }]);
        expect(config.rules.rules.some((r) => r.name === "test-critical")).toBe(true);
        expect(config.stateTable).toBe("state");
    });

    it("names the missing environment variables", () => {
        expect(() => loadIngestConfig(configDir(), { STATE_TABLE: "s" })).toThrow("mail-ingest needs the environment variables SIGNAL_QUEUE_URL, ALERT_TOPIC_ARN");
    });

    it("rejects invalid rules with the file's path in the message", () => {
        const dir = configDir({ "rules.yaml": "rules:\n  - { name: x, severity: loud, subject: a }\n" });
        expect(() => loadIngestConfig(dir, ENV)).toThrow(MailRulesError);
        expect(() => loadIngestConfig(dir, ENV)).toThrow(join(dir, "rules.yaml"));
    });

    it("names a bad towers.json and the field at fault", () => {
        const dir = configDir({ "towers.json": JSON.stringify([{ name: "t" }]) });
        expect(() => loadIngestConfig(dir, ENV)).toThrow(/towers\.json is invalid:\n {2}- 0\.site/);
        const broken = configDir({ "ingest.json": "{" });
        expect(() => loadIngestConfig(broken, ENV)).toThrow(/ingest\.json is not valid JSON/);
    });

    it("reads the canary's sender and heartbeat name from ingest.json, and leaves them unset when absent", () => {
        const dir = configDir({ "ingest.json": JSON.stringify({ environment: "dev", canarySender: "alertline-canary@alerts.example.jp", heartbeatName: "alertline-dev-mail-path" }) });
        const config = loadIngestConfig(dir, ENV);
        expect(config.canarySender).toBe("alertline-canary@alerts.example.jp");
        expect(config.heartbeatName).toBe("alertline-dev-mail-path");
        const plain = loadIngestConfig(configDir(), ENV);
        expect(plain).not.toHaveProperty("canarySender");
        expect(plain).not.toHaveProperty("heartbeatName");
    });

    it("refuses a canary sender that is a glob or no address, and an empty heartbeat name", () => {
        const glob = configDir({ "ingest.json": JSON.stringify({ environment: "dev", canarySender: "*@alerts.example.jp" }) });
        expect(() => loadIngestConfig(glob, ENV)).toThrow(/ingest\.json is invalid:\n {2}- canarySender must be the canary's bare From address/);
        const name = configDir({ "ingest.json": JSON.stringify({ environment: "dev", canarySender: "Canary <c@alerts.example.jp>" }) });
        expect(() => loadIngestConfig(name, ENV)).toThrow(/canarySender must be the canary's bare From address/);
        const empty = configDir({ "ingest.json": JSON.stringify({ environment: "dev", canarySender: "c@alerts.example.jp", heartbeatName: " " }) });
        expect(() => loadIngestConfig(empty, ENV)).toThrow(/heartbeatName must be the on-call heartbeat's name/);
    });

    it("refuses a heartbeat name without a canary sender, which would page on-call when the heartbeat expires", () => {
        const dir = configDir({ "ingest.json": JSON.stringify({ environment: "dev", heartbeatName: "alertline-dev-mail-path" }) });
        expect(() => loadIngestConfig(dir, ENV)).toThrow(/heartbeatName needs canarySender/);
    });

    it("is read once per container by memoisedConfig", () => {
        let loads = 0;
        const config = memoisedConfig(() => {
            loads += 1;
            return { environment: "dev" } as IngestConfig;
        });
        config();
        config();
        expect(loads).toBe(1);
    });
});

/**
 * The function as Lambda runs it: the bundle the infrastructure ships (bundleFunction) as index.js
 * with its configuration files beside it, loaded in a fresh Node process with Lambda-like
 * environment variables and its default dependencies (real SDK clients found through
 * AWS_ENDPOINT_URL_*, Powertools Logger on stdout), against the local peers.
 */
describe("the bundled mail-ingest", () => {
    let workDir: string;
    let s3: S3Stub;
    let sqs: SqsStub;
    let sns: SnsStub;
    let dynamo: LocalStateTable;

    beforeAll(async () => {
        [s3, sqs, sns, dynamo] = await Promise.all([startS3Stub(), startSqsStub(), startSnsStub(), startStateTable("alertline-dev-state")]);
        workDir = configDir();
        writeFileSync(join(workDir, "index.js"), bundleFunction("mail-ingest"));
    });
    afterAll(async () => {
        await Promise.all([s3?.close(), sqs?.close(), sns?.close(), dynamo?.close()]);
    });

    function invoke(messages: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
        return invokeBundle({
            bundlePath: join(workDir, "index.js"),
            functionName: "alertline-dev-mail-ingest",
            events: messages.map((message) => ({ Records: [{ EventSource: "aws:sns", Sns: { MessageId: "n-1", Message: message } }] })),
            env: {
                ...localAwsEnv(workDir, { S3: s3.endpoint, SQS: sqs.endpoint, SNS: sns.endpoint, DYNAMODB: dynamo.endpoint }),
                SIGNAL_QUEUE_URL: sqs.queueUrl,
                ALERT_TOPIC_ARN: sns.topicArn,
                STATE_TABLE: dynamo.table,
            },
            remainingMs: 30_000,
        });
    }

    it("lights the configured tower once for a mail delivered twice, and logs JSON lines", async () => {
        const notification = JSON.parse(readFileSync(join(FIXTURES, "ses-s3-notification.json"), "utf8"));
        notification.receipt.action.bucketName = "mail-bucket";
        s3.put("mail-bucket", notification.receipt.action.objectKey, readFileSync(join(FIXTURES, "zabbix-ja-problem.eml")));
        const message = JSON.stringify(notification);

        const result = await invoke([message, message]);
        expect(result.stdout).toContain("HANDLER_RESOLVED");
        expect(result.code).toBe(0);
        expect(sqs.batches).toHaveLength(1);
        expect(sqs.queue.map((e) => e.MessageGroupId)).toEqual(["dev-desk"]);
        expect(JSON.parse(sqs.queue[0].MessageBody)).toMatchObject({ tower: "dev-desk", site: "tokyo-office", severity: "critical", rule: "zabbix-ja-critical" });
        expect(sns.messages).toHaveLength(1);
        expect(JSON.parse(sns.messages[0].message).title).toBe("[CRITICAL] 障害: web-01 のCPU使用率が90%を超えています");

        const logs = `${result.stdout}\n${result.stderr}`.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
        expect(logs.every((l) => l.service === "mail-ingest")).toBe(true);
        expect(logs.filter((l) => l.message === "Mail classified")).toHaveLength(1);
        expect(logs.filter((l) => l.message.includes("duplicate delivery ignored"))).toHaveLength(1);
    }, 20_000);
});

/**
 * The bundle with on-call configured as the component configures it: ONCALL_API_URL and the key as
 * KMS ciphertext bound to the function's name, decrypted by the default dependencies' KMS client.
 */
describe("the bundled mail-ingest with on-call", () => {
    const FUNCTION = "alertline-dev-mail-ingest";
    const HEARTBEAT = "alertline-dev-mail-path";
    const CANARY_SENDER = "alertline-canary@alerts.example.jp";
    /** The on-call API key the sink accepts; any other gets 401. */
    const KEY = "5f1e8a3c-7b2d-4c9e-a1f0-0123456789ab";
    let workDir: string;
    let s3: S3Stub;
    let sqs: SqsStub;
    let sns: SnsStub;
    let dynamo: LocalStateTable;
    let kms: KmsStub;
    let opsgenie: OnCallSink;

    beforeAll(async () => {
        [s3, sqs, sns, dynamo, kms, opsgenie] = await Promise.all([startS3Stub(), startSqsStub(), startSnsStub(), startStateTable("alertline-dev-state"), startKmsStub(), startOnCallSink({ apiKey: KEY })]);
        workDir = configDir({ "ingest.json": JSON.stringify({ environment: "dev", allowedSenders: ["*@zabbix.example.jp"], canarySender: CANARY_SENDER, heartbeatName: HEARTBEAT }) });
        writeFileSync(join(workDir, "index.js"), bundleFunction("mail-ingest"));
    });
    afterAll(async () => {
        await Promise.all([s3?.close(), sqs?.close(), sns?.close(), dynamo?.close(), kms?.close(), opsgenie?.close()]);
    });

    function notification(messageId: string, mail: Buffer): string {
        const sample = JSON.parse(readFileSync(join(FIXTURES, "ses-s3-notification.json"), "utf8"));
        sample.mail.messageId = messageId;
        sample.receipt.action.bucketName = "mail-bucket";
        sample.receipt.action.objectKey = `inbound/${messageId}`;
        s3.put("mail-bucket", `inbound/${messageId}`, mail);
        return JSON.stringify(sample);
    }

    function invoke(messages: string[], onCallEnv: NodeJS.ProcessEnv) {
        return invokeBundle({
            bundlePath: join(workDir, "index.js"),
            functionName: FUNCTION,
            events: messages.map((message) => ({ Records: [{ EventSource: "aws:sns", Sns: { MessageId: "n-1", Message: message } }] })),
            env: {
                ...localAwsEnv(workDir, { S3: s3.endpoint, SQS: sqs.endpoint, SNS: sns.endpoint, DYNAMODB: dynamo.endpoint, KMS: kms.endpoint }),
                AWS_LAMBDA_FUNCTION_NAME: FUNCTION,
                SIGNAL_QUEUE_URL: sqs.queueUrl,
                ALERT_TOPIC_ARN: sns.topicArn,
                STATE_TABLE: dynamo.table,
                ...onCallEnv,
            },
            remainingMs: 30_000,
        });
    }

    it("pages for a mail that lit the tower and pings the heartbeat for the canary, with the key decrypted once", async () => {
        const canary = Buffer.from(`From: ${CANARY_SENDER}\r\nSubject: alertline canary (dev)\r\nDate: Tue, 21 May 2024 09:45:27 +0000\r\nX-Alertline-Canary: canary-dev-1\r\nContent-Type: text/plain\r\n\r\ncanary\r\n`);
        const result = await invoke([notification("m-problem", readFileSync(join(FIXTURES, "zabbix-ja-problem.eml"))), notification("m-canary", canary)], {
            ONCALL_API_URL: opsgenie.url,
            ONCALL_API_KEY_CIPHERTEXT: kms.encrypt(KEY, { LambdaFunctionName: FUNCTION }),
        });
        expect(result.stdout).toContain("HANDLER_RESOLVED");
        const open = opsgenie.alerts().filter((a) => a.status === "open");
        expect(open.map((a) => a.alias)).toEqual(["host=web-01 | eventid=123456"]);
        expect(open[0].body).toMatchObject({ priority: "P1", tags: ["alertline", "alertline-dev", "critical", "tower:dev-desk"], entity: "tokyo-office" });
        expect(opsgenie.requests.filter((r) => r.heartbeat === HEARTBEAT && r.status === 202)).toHaveLength(1);
        expect(kms.requests).toHaveLength(1);
        expect(kms.requests[0].body.EncryptionContext).toEqual({ LambdaFunctionName: FUNCTION });
        expect(sqs.queue).toHaveLength(1);
        expect(sns.messages).toHaveLength(1);
        expect(JSON.parse(sns.messages[0].message).onCall).toBe("paged (alias host=web-01 | eventid=123456)");
        const logs = `${result.stdout}\n${result.stderr}`;
        expect(logs).toContain("Canary received");
        expect(logs).not.toContain(KEY);
    }, 20_000);

    it("fails the invocation with a clear message when only one of the on-call variables is set", async () => {
        const result = await invoke([notification("m-half", readFileSync(join(FIXTURES, "zabbix-ja-problem.eml")))], { ONCALL_API_URL: opsgenie.url });
        expect(result.code).toBe(1);
        expect(result.stdout).toContain("HANDLER_REJECTED ONCALL_API_URL is set but ONCALL_API_KEY_CIPHERTEXT is not");
    }, 20_000);
});
