import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { MailIngest, MailIngestArgs } from "../../../components/mail-ingest/mail-ingest";
import { canarySender, heartbeatName, rateExpression } from "../../../components/mail-ingest/mail-canary";
import type { OnCallLink } from "../../../components/shared/oncall/oncall-routing";
import { assetText, RecordingEngine, reveal, SecretValue } from "../../../tools/offline/mock-engine";
import { policyDocument, recordResources } from "../../harness/record";
import { mailIngestArgs } from "./mail-ingest-args";

// Issue 5's loop around the mail path: on-call paging, the acknowledgement endpoint, the canary and
// its heartbeat, and the tower probe's schedule, as MailIngest wires them.

const opsgenieLink = (): OnCallLink => ({
    backend: "opsgenie",
    alertsApiUrl: "https://api.eu.opsgenie.com",
    alertsApiKey: pulumi.secret("alerts-integration-key"),
    opsgenie: { connection: { apiKey: pulumi.secret("configuration-key"), apiUrl: "https://api.eu.opsgenie.com" }, teamId: pulumi.output("team-42") },
});

const JSM_CLOUD_ID = "3a015c30-bac7-4abc-97a1-50c1feea188a";
const JSM_TOKEN = "ATATT-mail-ingest-test-token-000";
const jsmLink = (): OnCallLink => ({
    backend: "jsm",
    alertsApiUrl: "https://api.atlassian.com/jsm/ops/integration",
    alertsApiKey: pulumi.secret("jsm-key"),
    jsm: { connection: { cloudId: JSM_CLOUD_ID, email: "oncall-bot@example.jp", apiToken: pulumi.secret(JSM_TOKEN) }, teamId: pulumi.output("jsm-team-7") },
});

const args = (overrides: Partial<MailIngestArgs> = {}): MailIngestArgs =>
    mailIngestArgs({
        privateSubnetIds: ["subnet-private-1"],
        onCall: opsgenieLink(),
        canary: { enabled: true, intervalMinutes: 7, heartbeatMinutes: 21 },
        towerProbe: { enabled: true, intervalMinutes: 1, alarmAfterMisses: 3 },
        ...overrides,
    });

let engine: RecordingEngine;
let outputs: { ackWebhookUrl?: string; ackWebhookToken?: string; heartbeatName?: string; tokenIsSecret?: boolean } = {};
beforeAll(async () => {
    engine = await recordResources(() => {
        const mail = new MailIngest("mail", args());
        mail.ackWebhookUrl.apply((url) => (outputs.ackWebhookUrl = url));
        mail.ackWebhookToken.apply((token) => (outputs.ackWebhookToken = token));
        mail.heartbeatName.apply((name) => (outputs.heartbeatName = name));
        pulumi.isSecret(mail.ackWebhookToken).then((secret) => (outputs.tokenIsSecret = secret));
    });
});

const mailKeyArn = () => engine.get("aws:kms/key:Key", "mail-key").state.arn;
const rolePolicy = (fn: string) => policyDocument(engine.get("aws:iam/rolePolicy:RolePolicy", `${fn}-policy`).inputs.policy);
const archiveOf = (fn: string) => (engine.get("aws:lambda/function:Function", fn).inputs.code as { archive: Record<string, string> }).archive;

describe("mail-ingest pages on-call", () => {
    it("gets the alerts API URL and the key only as ciphertext encrypted for it alone", () => {
        const ingest = engine.get("aws:lambda/function:Function", "mail-ingest");
        const variables = (ingest.inputs.environment as { variables: Record<string, unknown> }).variables;
        const ciphertext = engine.get("aws:kms/ciphertext:Ciphertext", "mail-ingest-oncall-key");
        expect(variables.ONCALL_API_URL).toBe("https://api.eu.opsgenie.com");
        expect(variables.ONCALL_API_KEY_CIPHERTEXT).toBe(ciphertext.state.ciphertextBlob);
        expect(JSON.stringify(variables)).not.toContain("alerts-integration-key");
        expect(ciphertext.inputs.plaintext).toBeInstanceOf(SecretValue);
        expect(ciphertext.inputs.context).toEqual({ LambdaFunctionName: ingest.inputs.name });
        const decrypt = rolePolicy("mail-ingest").Statement.find((s) => s.Sid === "DecryptOnCallKey")!;
        expect(decrypt).toMatchObject({ Action: "kms:Decrypt", Resource: mailKeyArn() });
        expect(decrypt.Condition.StringEquals["kms:EncryptionContext:LambdaFunctionName"]).toBe(ingest.inputs.name);
    });

    it("pages nothing and asks for no key when the stack has no on-call link", async () => {
        const quiet = await recordResources(() => new MailIngest("mail", args({ onCall: undefined, canary: undefined })));
        const variables = (quiet.get("aws:lambda/function:Function", "mail-ingest").inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(variables.ONCALL_API_URL).toBeUndefined();
        expect(quiet.ofType("aws:kms/ciphertext:Ciphertext")).toEqual([]);
        expect(policyDocument(quiet.get("aws:iam/rolePolicy:RolePolicy", "mail-ingest-policy").inputs.policy).Statement.map((s) => s.Sid)).not.toContain("DecryptOnCallKey");
        expect(quiet.ofType("aws:lambda/function:Function").map((f) => f.name).sort()).toEqual(["mail-dispatch", "mail-ingest"]);
    });
});

describe("the acknowledgement endpoint", () => {
    it("is a public function URL whose only key is a generated token, kept as ciphertext and output as a secret", () => {
        const ack = engine.get("aws:lambda/function:Function", "mail-ack");
        const url = engine.get("aws:lambda/functionUrl:FunctionUrl", "mail-ack-url");
        expect(url.inputs).toMatchObject({ functionName: ack.state.name, authorizationType: "NONE" });
        const token = engine.get("random:index/randomPassword:RandomPassword", "mail-ack-token");
        expect(token.inputs).toMatchObject({ length: 48, special: false });
        const ciphertext = engine.get("aws:kms/ciphertext:Ciphertext", "mail-ack-token-ciphertext");
        expect(ciphertext.inputs.context).toEqual({ LambdaFunctionName: ack.inputs.name });
        const variables = (ack.inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(variables.ACK_SECRET_CIPHERTEXT).toBe(ciphertext.state.ciphertextBlob);
        expect(JSON.stringify(variables)).not.toContain(String(token.state.result));
        expect(outputs.ackWebhookUrl).toBe(url.state.functionUrl);
        expect(outputs.ackWebhookToken).toBe(token.state.result);
        expect(outputs.tokenIsSecret).toBe(true);
    });

    it("grants both the function-URL and the invoke permission that a public URL needs, and nothing else", () => {
        const permissions = engine.ofType("aws:lambda/permission:Permission").filter((p) => p.name.startsWith("mail-ack-url"));
        expect(permissions.map((p) => [p.inputs.action, p.inputs.principal, p.inputs.functionUrlAuthType ?? null, p.inputs.invokedViaFunctionUrl ?? null]).sort()).toEqual([
            ["lambda:InvokeFunction", "*", null, true],
            ["lambda:InvokeFunctionUrl", "*", "NONE", null],
        ]);
    });

    it("may only queue on the signal queue, claim an alias's clear in the state table, decrypt its own token and note on the alert topic", () => {
        const policy = rolePolicy("mail-ack");
        const queue = engine.get("aws:sqs/queue:Queue", "mail-signals");
        const table = engine.get("aws:dynamodb/table:Table", "mail-state");
        expect(policy.Statement.find((s) => s.Sid === "QueueClears")).toMatchObject({ Action: "sqs:SendMessage", Resource: queue.state.arn });
        // The two calls of functions/shared/alias-clear.ts, on the table mail-ingest resets the clear in.
        expect(policy.Statement.find((s) => s.Sid === "ClearOnce")).toMatchObject({ Action: ["dynamodb:UpdateItem", "dynamodb:GetItem"], Resource: table.state.arn });
        const actions = policy.Statement.flatMap((s) => [s.Action].flat());
        expect(actions.filter((a: string) => !a.startsWith("logs:") && !a.startsWith("kms:"))).toEqual(["sqs:SendMessage", "dynamodb:UpdateItem", "dynamodb:GetItem", "sns:Publish"]);
        // The thread note: the alert topic and its key through SNS, as mail-ingest has them.
        expect(policy.Statement.find((s) => s.Sid === "NoteToChannel")).toEqual({ Sid: "NoteToChannel", Effect: "Allow", Action: "sns:Publish", Resource: "arn:aws:sns:ap-northeast-1:123456789012:alerts" });
        expect(policy.Statement.find((s) => s.Sid === "ChannelKey")).toMatchObject({
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: "arn:aws:kms:ap-northeast-1:123456789012:key/alerts",
            Condition: { StringEquals: { "kms:ViaService": expect.stringMatching(/^sns\./) } },
        });
        expect(Object.keys(archiveOf("mail-ack")).sort()).toEqual(["index.js", "towers.json"]);
    });

    it("creates Opsgenie's outgoing Webhook integration for the team, posting to the URL with the token header kept secret", () => {
        const webhook = engine.get("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "mail-ack-opsgenie-webhook");
        expect(webhook.inputs).toMatchObject({ type: "Webhook", ownerTeamId: "team-42", name: "alertline-dev-ack" });
        // Exactly what ack-webhook acts on, set explicitly rather than left to Opsgenie's default set.
        expect(webhook.inputs.forwardedActions).toEqual(["acknowledge", "close"]);
        expect(reveal(webhook.inputs.webhookUrl)).toBe(outputs.ackWebhookUrl);
        expect(webhook.inputs.headers).toBeInstanceOf(SecretValue);
        expect(reveal(webhook.inputs.headers)).toEqual({ "X-Alertline-Token": outputs.ackWebhookToken, "X-Alertline-Backend": "opsgenie" });
    });

    it("tells the function the alert topic and the backends it serves, and leaves the thread notes off by default (webhook mode)", () => {
        const variables = (engine.get("aws:lambda/function:Function", "mail-ack").inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(variables).toMatchObject({ ALERT_TOPIC_ARN: "arn:aws:sns:ap-northeast-1:123456789012:alerts", ONCALL_BACKENDS: "opsgenie" });
        expect(variables.ALERTLINE_THREAD_NOTES).toBeUndefined();
        const dispatch = (engine.get("aws:lambda/function:Function", "mail-dispatch").inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(dispatch.ALERTLINE_THREAD_NOTES).toBeUndefined();
    });

    it("turns the thread notes on for ack-webhook and tower-dispatch in Slack's app mode, and names each backend on its own webhook", async () => {
        const window: OnCallLink = { ...opsgenieLink(), backend: ["opsgenie", "jsm"], backends: ["opsgenie", "jsm"], jsm: jsmLink().jsm };
        const app = await recordResources(() => new MailIngest("mail", args({ onCall: window, threadNotes: true })));
        const variablesOf = (fn: string) => (app.get("aws:lambda/function:Function", fn).inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(variablesOf("mail-ack")).toMatchObject({ ALERTLINE_THREAD_NOTES: "on", ONCALL_BACKENDS: "opsgenie,jsm" });
        expect(variablesOf("mail-dispatch")).toMatchObject({ ALERTLINE_THREAD_NOTES: "on", ALERT_TOPIC_ARN: "arn:aws:sns:ap-northeast-1:123456789012:alerts" });
        expect(variablesOf("mail-ingest").ALERTLINE_THREAD_NOTES).toBeUndefined();
        expect(reveal(app.get("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "mail-ack-opsgenie-webhook").inputs.headers)).toMatchObject({ "X-Alertline-Backend": "opsgenie" });
        const jsmHook = reveal(app.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "mail-ack-jsm-webhook").inputs.typeSpecificProperties) as { headers: Record<string, string> };
        expect(jsmHook.headers).toMatchObject({ "X-Alertline-Backend": "jsm" });
        expect(jsmHook.headers["X-Alertline-Token"]).toEqual(expect.any(String));
    });

    it("with JSM creates nothing in Opsgenie and leaves the outgoing webhook to be added by hand", async () => {
        const jsm = await recordResources(() => new MailIngest("mail", args({ onCall: jsmLink() })));
        expect(jsm.ofType("pulumi-nodejs:dynamic/opsgenie:ApiIntegration")).toEqual([]);
        expect(jsm.ofType("pulumi-nodejs:dynamic/opsgenie:Heartbeat")).toEqual([]);
        expect(jsm.ofType("aws:lambda/functionUrl:FunctionUrl")).toHaveLength(1);
        const variables = (jsm.get("aws:lambda/function:Function", "mail-ingest").inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(variables.ONCALL_API_URL).toBe("https://api.atlassian.com/jsm/ops/integration");
    });
});

describe("the JSM heartbeat and its ping", () => {
    let jsm: RecordingEngine;
    beforeAll(async () => {
        jsm = await recordResources(() => new MailIngest("mail", args({ onCall: jsmLink() })));
    }, 60_000);

    it("creates the mail-path heartbeat in the looked-up team through JSM's ops REST API, the token kept secret", () => {
        const heartbeat = jsm.get("pulumi-nodejs:dynamic/jsm:Heartbeat", "mail-canary-heartbeat");
        expect(heartbeat.inputs).toMatchObject({ name: "alertline-dev-mail-path", interval: 21, intervalUnit: "minutes", enabled: true, teamId: "jsm-team-7", alertPriority: "P2" });
        const connection = heartbeat.inputs.connection as Record<string, unknown>;
        expect(connection).toMatchObject({ cloudId: JSM_CLOUD_ID, email: "oncall-bot@example.jp" });
        expect(connection.apiToken).toBeInstanceOf(SecretValue);
    });

    it("gives mail-ingest the ops API base, the heartbeat's team, the e-mail and the token only as ciphertext encrypted for it", () => {
        const variables = (jsm.get("aws:lambda/function:Function", "mail-ingest").inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(variables.JSM_OPS_API_URL).toBe(`https://api.atlassian.com/jsm/ops/api/${JSM_CLOUD_ID}`);
        expect(variables.JSM_TEAM_ID).toBe(jsm.get("pulumi-nodejs:dynamic/jsm:Heartbeat", "mail-canary-heartbeat").state.teamId);
        expect(variables.JSM_EMAIL).toBe("oncall-bot@example.jp");
        const ciphertext = jsm.get("aws:kms/ciphertext:Ciphertext", "mail-canary-jsm-token");
        expect(variables.JSM_API_TOKEN_CIPHERTEXT).toBe(ciphertext.state.ciphertextBlob);
        expect(ciphertext.inputs.context).toEqual({ LambdaFunctionName: "alertline-dev-mail-ingest" });
        expect(ciphertext.inputs.plaintext).toBeInstanceOf(SecretValue);
        expect(reveal(ciphertext.inputs.plaintext)).toBe(JSM_TOKEN);
        expect(JSON.stringify(variables)).not.toContain(JSM_TOKEN);
    });

    it("lets mail-ingest decrypt only what was encrypted for it, with the key the token was encrypted with", () => {
        const statements = policyDocument(jsm.get("aws:iam/rolePolicy:RolePolicy", "mail-ingest-policy").inputs.policy).Statement as Record<string, any>[];
        const decrypt = statements.filter((s) => s.Action === "kms:Decrypt" && s.Condition?.StringEquals?.["kms:EncryptionContext:LambdaFunctionName"] !== undefined);
        expect(decrypt).toHaveLength(1);
        expect(decrypt[0].Condition.StringEquals["kms:EncryptionContext:LambdaFunctionName"]).toBe("alertline-dev-mail-ingest");
        expect(decrypt[0].Resource).toBe(jsm.get("aws:kms/ciphertext:Ciphertext", "mail-canary-jsm-token").inputs.keyId);
    });

    it("grants the decrypt for the token even when no alert key is configured", async () => {
        const noKey = await recordResources(() => new MailIngest("mail", args({ onCall: { ...jsmLink(), alertsApiKey: undefined } })));
        const statements = policyDocument(noKey.get("aws:iam/rolePolicy:RolePolicy", "mail-ingest-policy").inputs.policy).Statement as Record<string, any>[];
        expect(statements.some((s) => s.Action === "kms:Decrypt" && s.Condition?.StringEquals?.["kms:EncryptionContext:LambdaFunctionName"] === "alertline-dev-mail-ingest")).toBe(true);
    });
});

describe("the canary and its heartbeat", () => {
    it("sends from the domain's canary address to the alert address on the configured schedule", () => {
        const canary = engine.get("aws:lambda/function:Function", "mail-canary");
        const variables = (canary.inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(variables).toMatchObject({ CANARY_FROM: "alertline-canary@alerts.example.jp", CANARY_TO: "patlite@alerts.example.jp" });
        const schedule = engine.get("aws:cloudwatch/eventRule:EventRule", "mail-canary-schedule");
        expect(schedule.inputs.scheduleExpression).toBe("rate(7 minutes)");
        expect(engine.get("aws:cloudwatch/eventTarget:EventTarget", "mail-canary-target").inputs.arn).toBe(canary.state.arn);
        expect(engine.get("aws:lambda/permission:Permission", "mail-canary-invoke").inputs).toMatchObject({ principal: "events.amazonaws.com", sourceArn: schedule.state.arn });
    });

    it("may send only as the canary address, through the domain's identity", () => {
        const send = rolePolicy("mail-canary").Statement.find((s) => s.Sid === "SendCanaryMail")!;
        expect(send.Resource).toBe(engine.get("aws:ses/domainIdentity:DomainIdentity", "mail-domain").state.arn);
        expect(send.Condition).toEqual({ StringEquals: { "ses:FromAddress": "alertline-canary@alerts.example.jp" } });
    });

    it("tells mail-ingest the sender and heartbeat, and makes the heartbeat expire after heartbeatMinutes", () => {
        const ingestJson = JSON.parse(assetText(archiveOf("mail-ingest")["ingest.json"]));
        expect(ingestJson).toMatchObject({ canarySender: canarySender("alerts.example.jp"), heartbeatName: heartbeatName("dev") });
        const heartbeat = engine.get("pulumi-nodejs:dynamic/opsgenie:Heartbeat", "mail-canary-heartbeat");
        expect(heartbeat.inputs).toMatchObject({ name: "alertline-dev-mail-path", interval: 21, intervalUnit: "minutes", ownerTeamId: "team-42", enabled: true });
        expect(outputs.heartbeatName).toBe("alertline-dev-mail-path");
    });

    it("is absent when switched off, and mail-ingest is told of no canary", async () => {
        const off = await recordResources(() => new MailIngest("mail", args({ canary: { enabled: false, intervalMinutes: 10, heartbeatMinutes: 30 } })));
        expect(off.ofType("aws:lambda/function:Function").map((f) => f.name)).not.toContain("mail-canary");
        const ingestJson = JSON.parse(assetText((off.get("aws:lambda/function:Function", "mail-ingest").inputs.code as { archive: Record<string, string> }).archive["ingest.json"]));
        expect(ingestJson.canarySender).toBeUndefined();
    });

    it("alarms on canary and acknowledgement-endpoint errors too", () => {
        const names = engine.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.name);
        expect(names).toEqual(expect.arrayContaining(["mail-canary-errors-alarm", "mail-ack-errors-alarm"]));
    });
});

describe("the tower probe", () => {
    it("invokes tower-dispatch on its own schedule, and the dispatcher has no CloudWatch grant (its metrics are EMF in its log)", () => {
        const dispatch = engine.get("aws:lambda/function:Function", "mail-dispatch");
        expect(engine.get("aws:cloudwatch/eventRule:EventRule", "mail-probe-schedule").inputs.scheduleExpression).toBe("rate(1 minute)");
        expect(engine.get("aws:cloudwatch/eventTarget:EventTarget", "mail-probe-target").inputs.arn).toBe(dispatch.state.arn);
        expect(engine.get("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "mail-probe-retries").inputs).toMatchObject({
            functionName: dispatch.state.name,
            maximumRetryAttempts: 0,
            maximumEventAgeInSeconds: 60,
        });
        const actions = rolePolicy("mail-dispatch").Statement.flatMap((s) => [s.Action].flat());
        expect(actions.filter((a) => String(a).startsWith("cloudwatch:"))).toEqual([]);
    });
});

describe("rateExpression", () => {
    it("uses EventBridge's singular unit for one minute and plural otherwise", () => {
        expect(rateExpression(1)).toBe("rate(1 minute)");
        expect(rateExpression(15)).toBe("rate(15 minutes)");
    });
});
