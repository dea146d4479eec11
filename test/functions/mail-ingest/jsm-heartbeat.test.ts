import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bundleFunction } from "../../../components/shared/function-code";
import { createOnCallClient, jsmOpsApiUrl } from "../../../functions/shared/oncall-alerts";
import { jsmHeartbeatFromEnv, onCallClientFromEnv } from "../../../functions/mail-ingest/oncall-env";
import { startStateTable, type LocalStateTable } from "../../../tools/local/dynamo";
import { startOnCallSink, type OnCallSink } from "../../../tools/local/oncall";
import { startS3Stub, type S3Stub } from "../../../tools/local/s3";
import { startSnsStub, type SnsStub } from "../../../tools/local/sns";
import { startSqsStub, type SqsStub } from "../../../tools/local/sqs";
import { invokeBundle, localAwsEnv } from "../lambda-runtime";
import { startKmsStub, type KmsStub } from "../slack-notifier/kms-stub";

/**
 * With `oncall.backend: jsm` the canary's heartbeat ping goes to JSM's ops REST API
 * (`GET …/jsm/ops/api/{cloudId}/v1/teams/{teamId}/heartbeats/ping?name=`, Basic auth with the account
 * e-mail and API token), not to the integration API alerts go to. Real function code against the
 * JSM stand-in (tools/local/jsm-ops.ts) and a local KMS.
 */

const CLOUD_ID = "3a015c30-bac7-4abc-97a1-50c1feea188a";
const TEAM_ID = "4b26961a-a837-49d2-a1fe-0973013e3c3b";
const EMAIL = "oncall-bot@example.jp";
const TOKEN = "ATATT3xFfGF0-mail-ingest-ping-token";
const GENIE_KEY = "5f1e8a3c-7b2d-4c9e-a1f0-0123456789ab";
const HEARTBEAT = "alertline-dev-mail-path";
const FUNCTION = "alertline-dev-mail-ingest";

/** The on-call stand-in with one JSM site: this cloud ID, account and team. */
const startJsmSink = () => startOnCallSink({ apiKey: GENIE_KEY, jsmOps: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN, teams: [{ id: TEAM_ID, name: "Ops Tokyo" }] } });

/** mail-ingest's on-call environment for backend jsm, as components/mail-ingest/mail-ingest.ts and mail-canary.ts set it. */
const jsmEnv = (sink: OnCallSink, kms: KmsStub) => ({
    ONCALL_API_URL: sink.jsmUrl,
    ONCALL_API_KEY_CIPHERTEXT: kms.encrypt(GENIE_KEY, { LambdaFunctionName: FUNCTION }),
    JSM_OPS_API_URL: jsmOpsApiUrl(CLOUD_ID, sink.gatewayUrl),
    JSM_TEAM_ID: TEAM_ID,
    JSM_EMAIL: EMAIL,
    JSM_API_TOKEN_CIPHERTEXT: kms.encrypt(TOKEN, { LambdaFunctionName: FUNCTION }),
});

describe("the on-call client's JSM heartbeat ping", () => {
    let sink: OnCallSink;
    beforeEach(async () => {
        sink = await startJsmSink();
    });
    afterEach(async () => {
        await sink.close();
    });
    const client = (token = TOKEN, teamId = TEAM_ID, opsApiUrl = jsmOpsApiUrl(CLOUD_ID, sink.gatewayUrl)) =>
        createOnCallClient({ apiUrl: sink.jsmUrl, apiKey: async () => GENIE_KEY, jsmHeartbeat: { opsApiUrl, teamId, email: EMAIL, apiToken: async () => token } });

    it("pings through the ops REST API with Basic auth, not the integration API's GenieKey", async () => {
        expect(await client().pingHeartbeat(HEARTBEAT)).toEqual({ ok: true, status: 202 });
        expect(sink.jsmOps.requests).toEqual([expect.objectContaining({ method: "GET", action: "ping-heartbeat", teamId: TEAM_ID, heartbeat: HEARTBEAT, auth: "basic", status: 202 })]);
        expect(sink.requests).toEqual([]);
    });

    it("says what to fix, without the token, when JSM refuses the credentials", async () => {
        const result = await client("ATATT-revoked-0000000000000000").pingHeartbeat(HEARTBEAT);
        expect(result).toMatchObject({ ok: false, status: 401, retryable: false });
        expect(!result.ok && result.problem).toMatch(/JSM answered 401 \(Client must be authenticated.*\): JSM did not accept the e-mail and API token: check JSM_EMAIL \(alertline:oncall\.email\)/);
        expect(JSON.stringify(result)).not.toContain("ATATT-revoked");
    });

    it("names the cloud ID and team when JSM has no such site or team", async () => {
        const wrongTeam = await client(TOKEN, "no-such-team").pingHeartbeat(HEARTBEAT);
        expect(!wrongTeam.ok && wrongTeam.problem).toMatch(/JSM answered 404 .*check JSM_OPS_API_URL \(its cloud ID, alertline:oncall\.cloudId\) and JSM_TEAM_ID/);
        const wrongSite = await client(TOKEN, TEAM_ID, jsmOpsApiUrl("11111111-2222-4333-8444-555555555555", sink.gatewayUrl)).pingHeartbeat(HEARTBEAT);
        expect(wrongSite).toMatchObject({ ok: false, status: 404, retryable: false });
    });

    it("leaves 429 and 5xx to the Lambda's retry", async () => {
        sink.jsmOps.script(() => ({ status: 503 }));
        expect(await client().pingHeartbeat(HEARTBEAT)).toMatchObject({ ok: false, status: 503, retryable: true });
    });

    it("refuses to ping JSM's integration API, which has no heartbeats, and sends nothing", async () => {
        const alertsOnly = createOnCallClient({ apiUrl: sink.jsmUrl, apiKey: async () => GENIE_KEY });
        const result = await alertsOnly.pingHeartbeat(HEARTBEAT);
        expect(result).toMatchObject({ ok: false, retryable: false });
        expect(!result.ok && result.problem).toContain("JSM's integration API has no heartbeat ping");
        expect(sink.requests).toEqual([]);
        expect(sink.jsmOps.requests).toEqual([]);
    });
});

describe("JSM ping settings from the environment", () => {
    let kms: KmsStub;
    let sink: OnCallSink;
    beforeAll(async () => {
        [kms, sink] = await Promise.all([startKmsStub(), startJsmSink()]);
    });
    afterAll(async () => {
        await Promise.all([kms.close(), sink.close()]);
    });
    const env = () => ({ AWS_LAMBDA_FUNCTION_NAME: FUNCTION, ...jsmEnv(sink, kms) });

    it("decrypts the token with the function's encryption context and pings with it", async () => {
        const before = kms.requests.length;
        const client = onCallClientFromEnv(kms.client(), env());
        expect(await client?.pingHeartbeat(HEARTBEAT)).toEqual({ ok: true, status: 202 });
        // The stand-in accepts only Basic(EMAIL:TOKEN): the 202 says the decrypted token was sent.
        expect(kms.requests.slice(before).map((r) => r.body.EncryptionContext)).toEqual([{ LambdaFunctionName: FUNCTION }]);
    });

    it("cannot decrypt a token encrypted for another function", async () => {
        const client = onCallClientFromEnv(kms.client(), { ...env(), JSM_API_TOKEN_CIPHERTEXT: kms.encrypt(TOKEN, { LambdaFunctionName: "alertline-dev-other" }) });
        const result = await client!.pingHeartbeat(HEARTBEAT);
        expect(result).toMatchObject({ ok: false, retryable: false });
        expect(!result.ok && result.problem).toContain("could not read the JSM API token");
    });

    it("is off with none of the four variables and refuses some of them, naming the missing ones", () => {
        expect(jsmHeartbeatFromEnv(kms.client(), {})).toBeUndefined();
        const { JSM_EMAIL: _email, JSM_API_TOKEN_CIPHERTEXT: _token, ...half } = env();
        expect(() => jsmHeartbeatFromEnv(kms.client(), half)).toThrow("JSM_EMAIL, JSM_API_TOKEN_CIPHERTEXT are not set while JSM_OPS_API_URL, JSM_TEAM_ID are");
    });

    it("refuses an ops API URL that is not JSM's, or plain http to another host", () => {
        expect(() => jsmHeartbeatFromEnv(kms.client(), { ...env(), JSM_OPS_API_URL: "https://api.atlassian.com/jsm/ops/integration" })).toThrow(/must be JSM's ops REST API base/);
        expect(() => jsmHeartbeatFromEnv(kms.client(), { ...env(), JSM_OPS_API_URL: `http://api.atlassian.com/jsm/ops/api/${CLOUD_ID}` })).toThrow(/must be JSM's ops REST API base/);
    });
});

describe("the bundled mail-ingest pinging JSM for the canary", () => {
    const RULES = readFileSync(join(__dirname, "../../../functions/mail-ingest/rules/dev.yaml"), "utf8");
    const TOWERS = [{ name: "dev-desk", site: "tokyo-office", host: "192.168.10.50", port: 10000, protocol: "pns", signals: {}, relay: { kind: "vpn" }, allowedSenders: [] }];
    const CANARY_SENDER = "alertline-canary@alerts.example.jp";
    let workDir: string;
    let s3: S3Stub;
    let sqs: SqsStub;
    let sns: SnsStub;
    let dynamo: LocalStateTable;
    let kms: KmsStub;
    let sink: OnCallSink;

    beforeAll(async () => {
        [s3, sqs, sns, dynamo, kms, sink] = await Promise.all([
            startS3Stub(),
            startSqsStub(),
            startSnsStub(),
            startStateTable("alertline-dev-state"),
            startKmsStub(),
            startJsmSink(),
        ]);
        workDir = mkdtempSync(join(tmpdir(), "mail-ingest-jsm-"));
        writeFileSync(join(workDir, "rules.yaml"), RULES);
        writeFileSync(join(workDir, "towers.json"), JSON.stringify(TOWERS));
        writeFileSync(join(workDir, "ingest.json"), JSON.stringify({ environment: "dev", allowedSenders: ["*@zabbix.example.jp"], canarySender: CANARY_SENDER, heartbeatName: HEARTBEAT }));
        writeFileSync(join(workDir, "index.js"), bundleFunction("mail-ingest"));
    }, 60_000);
    afterAll(async () => {
        await Promise.all([s3?.close(), sqs?.close(), sns?.close(), dynamo?.close(), kms?.close(), sink?.close()]);
        if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
    });

    it("pings the JSM heartbeat with the decrypted token, lights nothing, and logs no secret", async () => {
        const sample = JSON.parse(readFileSync(join(__dirname, "../../fixtures/mail/ses-s3-notification.json"), "utf8"));
        sample.mail.messageId = "m-canary";
        sample.receipt.action.bucketName = "mail-bucket";
        sample.receipt.action.objectKey = "inbound/m-canary";
        s3.put("mail-bucket", "inbound/m-canary", Buffer.from(`From: ${CANARY_SENDER}\r\nSubject: alertline canary (dev)\r\nDate: Tue, 21 May 2024 09:45:27 +0000\r\nX-Alertline-Canary: canary-dev-1\r\nContent-Type: text/plain\r\n\r\ncanary\r\n`));
        const result = await invokeBundle({
            bundlePath: join(workDir, "index.js"),
            functionName: FUNCTION,
            events: [{ Records: [{ EventSource: "aws:sns", Sns: { MessageId: "n-1", Message: JSON.stringify(sample) } }] }],
            env: {
                ...localAwsEnv(workDir, { S3: s3.endpoint, SQS: sqs.endpoint, SNS: sns.endpoint, DYNAMODB: dynamo.endpoint, KMS: kms.endpoint }),
                AWS_LAMBDA_FUNCTION_NAME: FUNCTION,
                SIGNAL_QUEUE_URL: sqs.queueUrl,
                ALERT_TOPIC_ARN: sns.topicArn,
                STATE_TABLE: dynamo.table,
                ...jsmEnv(sink, kms),
            },
            remainingMs: 30_000,
        });
        expect(result.stdout).toContain("HANDLER_RESOLVED");
        expect(sink.jsmOps.pings).toEqual([{ teamId: TEAM_ID, name: HEARTBEAT }]);
        expect(sink.jsmOps.requests.map((r) => [r.action, r.auth, r.status])).toEqual([["ping-heartbeat", "basic", 202]]);
        expect(sink.requests).toEqual([]);
        expect(sqs.queue).toHaveLength(0);
        expect(sns.messages).toHaveLength(0);
        const logs = `${result.stdout}\n${result.stderr}`;
        expect(logs).toContain("Canary received");
        expect(logs).not.toContain(TOKEN);
        expect(logs).not.toContain(Buffer.from(`${EMAIL}:${TOKEN}`).toString("base64"));
    }, 30_000);
});
