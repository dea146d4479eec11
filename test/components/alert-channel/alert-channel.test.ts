import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
    AlertChannel,
    AlertChannelArgs,
    channelKeyPolicy,
    DEFAULT_FLOOD_CONTROL,
    floodControlSettings,
    notifierPolicy,
    slackAppEnvironment,
    slackHandle,
    slackModeProblem,
} from "../../../components/alert-channel/alert-channel";
import { floodControlFromEnv } from "../../../functions/slack-notifier/handler";
import { JSM_DATADOG_API_URL, onCallRoutingProblem } from "../../../components/shared/oncall/oncall-routing";
import { RecordingEngine, reveal, SecretValue } from "../../../tools/offline/mock-engine";
import { policyDocument, recordResources } from "../../harness/record";

const WEBHOOK = "https://hooks.slack.com/services/T0TEST/B0TEST/unit-test-webhook-token";
const ONCALL_KEY = "11111111-2222-4333-8444-555555555555";
const JSM_SETTINGS = { backend: "jsm" as const, cloudId: "3a015c30-bac7-4abc-97a1-50c1feea188a", team: "Ops Tokyo", email: "oncall-bot@example.jp" };
const JSM_TOKEN = "ATATT-unit-test-token-0000000000";

function channelArgs(overrides: Partial<AlertChannelArgs> = {}): AlertChannelArgs {
    return {
        environment: "dev",
        slackWebhookUrl: pulumi.secret(WEBHOOK),
        slackChannel: "#alerts-dev",
        datadogSlackAccount: "acme-monitoring",
        onCall: { backend: "opsgenie", region: "eu", team: "alertline-dev" },
        onCallApiKey: pulumi.secret(ONCALL_KEY),
        logRetentionDays: 14,
        ...overrides,
    };
}

let engine: RecordingEngine;
let handles: string;
let link: { backend?: string | readonly string[]; alertsApiUrl?: string; alertsApiKey?: string; teamId?: string } = {};
beforeAll(async () => {
    engine = await recordResources(() => {
        const channel = new AlertChannel("alerts", channelArgs());
        channel.datadogHandles.apply((h) => (handles = h));
        link = { backend: channel.onCall.backend, alertsApiUrl: channel.onCall.alertsApiUrl };
        channel.onCall.alertsApiKey?.apply((key) => (link.alertsApiKey = key));
        channel.onCall.opsgenie?.teamId.apply((id) => (link.teamId = id));
    });
});

const key = () => engine.get("aws:kms/key:Key", "alerts-key");
const fn = () => engine.get("aws:lambda/function:Function", "alerts-notifier");

describe("AlertChannel topic and key", () => {
    it("encrypts the topic with the channel's own rotating key", () => {
        expect(engine.get("aws:sns/topic:Topic", "alerts-topic").inputs.kmsMasterKeyId).toBe(key().state.arn);
        expect(key().inputs.enableKeyRotation).toBe(true);
    });

    it("lets CloudWatch use the key only from this account, and never grants kms:* to everyone", () => {
        const policy = policyDocument(key().inputs.policy);
        const publishers = policy.Statement.find((s) => s.Sid === "PublishersEncryptForTheTopic")!;
        expect(publishers.Principal).toEqual({ Service: ["cloudwatch.amazonaws.com"] });
        expect(publishers.Condition).toEqual({ StringEquals: { "aws:SourceAccount": "123456789012" } });
        for (const statement of policy.Statement) {
            expect(statement.Principal === "*" || statement.Principal?.AWS === "*").toBe(false);
        }
    });
});

describe("AlertChannel notifier", () => {
    it("subscribes the notifier to the topic and lets SNS invoke it", () => {
        const subscription = engine.get("aws:sns/topicSubscription:TopicSubscription", "alerts-notifier-subscription");
        expect(subscription.inputs).toMatchObject({ protocol: "lambda", topic: engine.get("aws:sns/topic:Topic", "alerts-topic").state.arn, endpoint: fn().state.arn });
        expect(engine.get("aws:lambda/permission:Permission", "alerts-notifier-invoke").inputs).toMatchObject({ principal: "sns.amazonaws.com" });
    });

    it("creates the function after its log group and its role's policy, so neither is missing while Lambda uses them", () => {
        const dependencies = fn().dependencies ?? [];
        expect(dependencies).toContain(engine.get("aws:cloudwatch/logGroup:LogGroup", "alerts-notifier-logs").urn);
        expect(dependencies).toContain(engine.get("aws:iam/rolePolicy:RolePolicy", "alerts-notifier-policy").urn);
    });

    it("encrypts the function's environment with the channel key", () => {
        expect(fn().inputs.kmsKeyArn).toBe(key().state.arn);
    });

    it("keeps the webhook only as ciphertext made with the function's name as encryption context", () => {
        const ciphertext = engine.get("aws:kms/ciphertext:Ciphertext", "alerts-webhook-ciphertext");
        expect(ciphertext.inputs.context).toEqual({ LambdaFunctionName: "alertline-dev-alerts-notifier" });
        expect(fn().inputs.name).toBe("alertline-dev-alerts-notifier");
        expect(ciphertext.inputs.plaintext).toBeInstanceOf(SecretValue);
        expect(reveal(ciphertext.inputs.plaintext)).toBe(WEBHOOK);
        const env = (fn().inputs.environment as { variables: Record<string, string> }).variables;
        expect(env.SLACK_WEBHOOK_CIPHERTEXT).toBe(ciphertext.state.ciphertextBlob);
    });

    it("shows neither the webhook nor the on-call key in any input outside a secret", () => {
        const visible = JSON.stringify(engine.registrations.map((r) => r.inputs));
        expect(visible).not.toContain("unit-test-webhook-token");
        expect(visible).not.toContain(ONCALL_KEY);
    });

    it("ships a bundled handler", () => {
        const code = fn().inputs.code as { archive: Record<string, string> };
        expect(Object.keys(code.archive)).toEqual(["index.js"]);
        expect(fn().inputs.handler).toBe("index.handler");
        expect(fn().inputs.runtime).toBe("nodejs22.x");
    });

    it("dead-letters failed events into a queue encrypted with the channel key", () => {
        const dlq = engine.get("aws:sqs/queue:Queue", "alerts-dlq");
        expect(dlq.inputs.kmsMasterKeyId).toBe(key().state.arn);
        expect(fn().inputs.deadLetterConfig).toEqual({ targetArn: dlq.state.arn });
    });

    it("logs to an encrypted group with the configured retention, named as Lambda expects", () => {
        const logs = engine.get("aws:cloudwatch/logGroup:LogGroup", "alerts-notifier-logs");
        expect(logs.inputs).toMatchObject({ name: "/aws/lambda/alertline-dev-alerts-notifier", retentionInDays: 14, kmsKeyId: key().state.arn });
    });

    it("may decrypt only ciphertext bound to its own name, and write only its own logs and queue", () => {
        const policy = policyDocument(engine.get("aws:iam/rolePolicy:RolePolicy", "alerts-notifier-policy").inputs.policy);
        const resources = policy.Statement.flatMap((s) => [s.Resource].flat());
        expect(resources).not.toContain("*");
        const decrypt = policy.Statement.find((s) => s.Sid === "DecryptOwnWebhook")!;
        expect(decrypt.Condition.StringEquals["kms:EncryptionContext:LambdaFunctionName"]).toBe("alertline-dev-alerts-notifier");
        expect(policy.Statement.flatMap((s) => [s.Action].flat())).not.toContain("kms:*");
    });
});

describe("AlertChannel flood control", () => {
    const table = () => engine.get("aws:dynamodb/table:Table", "alerts-flood");
    const env = () => (fn().inputs.environment as { variables: Record<string, string> }).variables;

    it("keeps repeat counts in an on-demand table encrypted with the channel key, with TTL on expiresAt", () => {
        expect(table().inputs).toMatchObject({
            billingMode: "PAY_PER_REQUEST",
            hashKey: "pk",
            attributes: [{ name: "pk", type: "S" }],
            ttl: { attributeName: "expiresAt", enabled: true },
            serverSideEncryption: { enabled: true, kmsKeyArn: key().state.arn },
        });
        expect(table().inputs.tags).toEqual(key().inputs.tags);
    });

    it("tells the notifier the table and the default policy", () => {
        expect(env().FLOOD_TABLE).toBe(table().state.name);
        expect(env().FLOOD_WINDOW_SECONDS).toBe(String(DEFAULT_FLOOD_CONTROL.windowSeconds));
        expect(env().FLOOD_REPEAT_NOTICE_AFTER).toBe(String(DEFAULT_FLOOD_CONTROL.repeatNoticeAfter));
    });

    it("lets the notifier only update items of that table, and use the key only through DynamoDB", () => {
        const policy = policyDocument(engine.get("aws:iam/rolePolicy:RolePolicy", "alerts-notifier-policy").inputs.policy);
        const dynamoStatements = policy.Statement.filter((s) => [s.Action].flat().some((a: string) => a.startsWith("dynamodb:")));
        expect(dynamoStatements).toEqual([{ Sid: "FloodCounts", Effect: "Allow", Action: "dynamodb:UpdateItem", Resource: table().state.arn }]);
        const viaDynamo = policy.Statement.find((s) => s.Sid === "FloodTableKey")!;
        expect(viaDynamo.Resource).toBe(key().state.arn);
        expect(viaDynamo.Condition.StringEquals["kms:ViaService"]).toMatch(/^dynamodb\.[a-z0-9-]+\.amazonaws\.com$/);
    });

    it("passes configured settings through, and with a zero window creates no table and grants no DynamoDB", async () => {
        const custom = await recordResources(() => new AlertChannel("alerts", channelArgs({ floodControl: { windowSeconds: 120, repeatNoticeAfter: 4 } })));
        const vars = (custom.get("aws:lambda/function:Function", "alerts-notifier").inputs.environment as { variables: Record<string, string> }).variables;
        expect([vars.FLOOD_WINDOW_SECONDS, vars.FLOOD_REPEAT_NOTICE_AFTER]).toEqual(["120", "4"]);

        const off = await recordResources(() => new AlertChannel("alerts", channelArgs({ floodControl: { windowSeconds: 0 } })));
        expect(off.registrations.filter((r) => r.type === "aws:dynamodb/table:Table")).toEqual([]);
        const offVars = (off.get("aws:lambda/function:Function", "alerts-notifier").inputs.environment as { variables: Record<string, string> }).variables;
        expect(offVars.FLOOD_TABLE).toBeUndefined();
        expect(offVars.FLOOD_WINDOW_SECONDS).toBe("0");
        expect(off.get("aws:iam/rolePolicy:RolePolicy", "alerts-notifier-policy").inputs.policy).not.toContain("dynamodb");
    });

    it("refuses bad settings with the field and the allowed range", () => {
        expect(floodControlSettings()).toEqual(DEFAULT_FLOOD_CONTROL);
        expect(() => floodControlSettings({ windowSeconds: -1 })).toThrow(/floodControl\.windowSeconds.*0 \(off\) to 86400/);
        expect(() => floodControlSettings({ repeatNoticeAfter: 1 })).toThrow(/floodControl\.repeatNoticeAfter.*at least 2/);
    });
});

describe("AlertChannel in Slack's app mode", () => {
    const BOT_TOKEN = "xoxb-1234567890-1234567890123-unitTestBotTokenSecret";
    const appArgs = (overrides: Partial<AlertChannelArgs> = {}) =>
        channelArgs({ slackMode: "app", slackWebhookUrl: undefined, slackBotToken: pulumi.secret(BOT_TOKEN), slackChannelId: "C0123456789", ...overrides });
    let app: RecordingEngine;
    beforeAll(async () => {
        app = await recordResources(() => new AlertChannel("alerts", appArgs()));
    });
    const appFn = () => app.get("aws:lambda/function:Function", "alerts-notifier");
    const appEnv = () => (appFn().inputs.environment as { variables: Record<string, string> }).variables;
    const appPolicy = () => policyDocument(app.get("aws:iam/rolePolicy:RolePolicy", "alerts-notifier-policy").inputs.policy);

    it("tells the notifier the mode, the channel and the thread age in seconds, under slack-mode.ts's names", () => {
        expect(appEnv()).toMatchObject({ SLACK_MODE: "app", SLACK_CHANNEL_ID: "C0123456789", SLACK_THREAD_MAX_AGE_SECONDS: "86400" });
        expect(appEnv().SLACK_API_URL).toBeUndefined();
    });

    it("keeps the bot token only as ciphertext made with the function's name as encryption context, and makes no webhook ciphertext", () => {
        const ciphertext = app.get("aws:kms/ciphertext:Ciphertext", "alerts-bot-token-ciphertext");
        expect(ciphertext.inputs.context).toEqual({ LambdaFunctionName: "alertline-dev-alerts-notifier" });
        expect(ciphertext.inputs.keyId).toBe(app.get("aws:kms/key:Key", "alerts-key").state.arn);
        expect(ciphertext.inputs.plaintext).toBeInstanceOf(SecretValue);
        expect(reveal(ciphertext.inputs.plaintext)).toBe(BOT_TOKEN);
        expect(appEnv().SLACK_BOT_TOKEN_CIPHERTEXT).toBe(ciphertext.state.ciphertextBlob);
        expect(appEnv().SLACK_WEBHOOK_CIPHERTEXT).toBeUndefined();
        expect(app.registrations.filter((r) => r.type === "aws:kms/ciphertext:Ciphertext").map((r) => r.name)).toEqual(["alerts-bot-token-ciphertext"]);
    });

    it("shows the bot token in no registered input outside a secret", () => {
        expect(JSON.stringify(app.registrations.map((r) => r.inputs))).not.toContain("unitTestBotTokenSecret");
    });

    it("lets the notifier decrypt only ciphertext bound to its own name", () => {
        const decrypt = appPolicy().Statement.find((s) => s.Sid === "DecryptOwnWebhook")!;
        expect(decrypt.Action).toBe("kms:Decrypt");
        expect(decrypt.Condition.StringEquals["kms:EncryptionContext:LambdaFunctionName"]).toBe("alertline-dev-alerts-notifier");
    });

    it("grants UpdateItem and GetItem on its own table, nothing else of DynamoDB, the key only through DynamoDB", () => {
        const table = app.get("aws:dynamodb/table:Table", "alerts-flood");
        const dynamo = appPolicy().Statement.filter((s) => [s.Action].flat().some((a: string) => a.startsWith("dynamodb:")));
        expect(dynamo).toEqual([{ Sid: "FloodCountsAndThreads", Effect: "Allow", Action: ["dynamodb:UpdateItem", "dynamodb:GetItem"], Resource: table.state.arn }]);
        expect(appPolicy().Statement.find((s) => s.Sid === "FloodTableKey")?.Condition.StringEquals["kms:ViaService"]).toMatch(/^dynamodb\./);
        expect(appEnv().FLOOD_TABLE).toBe(table.state.name);
    });

    it("keeps the table with flood control off, where app mode still keeps each alert's message ts, with flood control staying off", async () => {
        const off = await recordResources(() => new AlertChannel("alerts", appArgs({ floodControl: { windowSeconds: 0 }, slackThreadMaxAgeHours: 6 })));
        const table = off.get("aws:dynamodb/table:Table", "alerts-flood");
        expect(table.inputs).toMatchObject({ hashKey: "pk", ttl: { attributeName: "expiresAt", enabled: true }, serverSideEncryption: { enabled: true } });
        const vars = (off.get("aws:lambda/function:Function", "alerts-notifier").inputs.environment as { variables: Record<string, string> }).variables;
        expect(vars).toMatchObject({ FLOOD_TABLE: table.state.name, FLOOD_WINDOW_SECONDS: "0", SLACK_THREAD_MAX_AGE_SECONDS: String(6 * 3600) });
        expect(vars.FLOOD_REPEAT_NOTICE_AFTER).toBeUndefined();
        // The notifier reads this environment as "flood control off" (its table is the thread store only).
        const client = () => {
            throw new Error("flood control asked for a DynamoDB client although its window is 0");
        };
        expect(floodControlFromEnv(vars, { info: () => undefined, warn: () => undefined, error: () => undefined } as never, client)).toBeUndefined();
        const policy = policyDocument(off.get("aws:iam/rolePolicy:RolePolicy", "alerts-notifier-policy").inputs.policy);
        expect(policy.Statement.find((s) => s.Sid === "FloodCountsAndThreads")?.Resource).toBe(table.state.arn);
    });

    it("refuses app mode without its token or channel, and webhook mode without its URL, naming the setting", () => {
        expect(() => new AlertChannel("alerts-no-token", appArgs({ slackBotToken: undefined }))).toThrow(/pulumi config set --secret alertline:slackBotToken/);
        expect(slackModeProblem({ slackMode: "app", slackBotToken: BOT_TOKEN })).toMatch(/alertline:slack\.channelId/);
        expect(slackModeProblem({ slackMode: "app", slackBotToken: BOT_TOKEN, slackChannelId: "C0123456789", slackThreadMaxAgeHours: 0 })).toMatch(/alertline:slack\.threadMaxAgeHours is 0: .*1 to 168/);
        expect(slackModeProblem({ slackMode: "app", slackBotToken: BOT_TOKEN, slackChannelId: "C0123456789" })).toBeUndefined();
        expect(slackModeProblem({})).toMatch(/alertline:slackWebhookUrl/);
        expect(slackModeProblem({ slackWebhookUrl: WEBHOOK })).toBeUndefined();
    });

    it("slackAppEnvironment sets nothing in webhook mode, the function's default", () => {
        expect(slackAppEnvironment("webhook", "C0123456789", 5)).toEqual({});
        expect(slackAppEnvironment("app", "C0123456789", 5)).toEqual({ SLACK_MODE: "app", SLACK_CHANNEL_ID: "C0123456789", SLACK_THREAD_MAX_AGE_SECONDS: "18000" });
        expect((fn().inputs.environment as { variables: Record<string, string> }).variables.SLACK_MODE).toBeUndefined();
    });
});

describe("AlertChannel routing", () => {
    it("adds the Slack channel to Datadog and routes to it and to Opsgenie", () => {
        expect(engine.get("datadog:slack/channel:Channel", "alerts-datadog-slack").inputs).toMatchObject({ accountName: "acme-monitoring", channelName: "#alerts-dev" });
        expect(handles).toBe("@opsgenie-alertline-dev @slack-acme-monitoring-alerts-dev");
    });

    it("creates the Opsgenie team and its Datadog integration, and hands the integration's key to Datadog as a secret", () => {
        const team = engine.get("pulumi-nodejs:dynamic/opsgenie:Team", "alerts-oncall-team");
        const integration = engine.get("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "alerts-oncall-datadog-integration");
        expect(team.inputs.name).toBe("alertline-dev");
        expect(integration.inputs).toMatchObject({ type: "Datadog", ownerTeamId: team.id });
        const service = engine.get("datadog:opsgenie/serviceObject:ServiceObject", "alerts-oncall-datadog-service");
        expect(service.inputs).toMatchObject({ name: "alertline-dev", region: "eu" });
        expect(service.inputs.opsgenieApiKey).toBeInstanceOf(SecretValue);
        expect(reveal(service.inputs.opsgenieApiKey)).toBe(integration.state.apiKey);
    });
});

describe("AlertChannel's link for alertline's own pages", () => {
    it("creates an API integration of the team for the functions and hands its key, the region's URL and the team on", () => {
        const team = engine.get("pulumi-nodejs:dynamic/opsgenie:Team", "alerts-oncall-team");
        const integration = engine.get("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "alerts-oncall-alerts-integration");
        expect(integration.inputs).toMatchObject({ type: "API", ownerTeamId: team.id, name: "alertline-dev-alertline" });
        expect(link).toEqual({ backend: "opsgenie", alertsApiUrl: "https://api.eu.opsgenie.com", alertsApiKey: integration.state.apiKey, teamId: team.id });
    });

    it("with jsm creates the API integration in the team found by name and passes its key and JSM's integration API, and no Opsgenie team", async () => {
        let jsmLink: { url?: string; key?: string; hasOpsgenie?: boolean; teamId?: string } = {};
        const jsm = await recordResources(() => {
            const channel = new AlertChannel("alerts", channelArgs({ onCall: JSM_SETTINGS, onCallApiKey: undefined, onCallJsmApiToken: pulumi.secret(JSM_TOKEN) }));
            jsmLink = { url: channel.onCall.alertsApiUrl, hasOpsgenie: channel.onCall.opsgenie !== undefined };
            channel.onCall.alertsApiKey?.apply((key) => (jsmLink.key = key));
            channel.onCall.jsm?.teamId.apply((id) => (jsmLink.teamId = id));
        });
        const team = jsm.get("pulumi-nodejs:dynamic/jsm:Team", "alerts-oncall-jsm-team");
        const integration = jsm.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-alerts-integration");
        expect(integration.inputs).toMatchObject({ name: "alertline-dev-alertline", type: "API", teamId: team.id, enabled: true });
        expect(integration.state.apiKey).toEqual(expect.any(String));
        expect(jsmLink).toEqual({ url: "https://api.atlassian.com/jsm/ops/integration", key: integration.state.apiKey, hasOpsgenie: false, teamId: team.id });
    });
});

describe("AlertChannel in the migration window (oncall.backend [opsgenie, jsm])", () => {
    const DUAL = { backend: ["opsgenie", "jsm"] as const, region: "eu" as const, team: "alertline-dev", cloudId: JSM_SETTINGS.cloudId, email: JSM_SETTINGS.email };
    let dual: RecordingEngine;
    let dualHandles = "";
    let pages: { backend: string; url: string; key?: string }[] = [];
    beforeAll(async () => {
        dual = await recordResources(() => {
            const channel = new AlertChannel(
                "alerts",
                channelArgs({ onCall: DUAL, onCallJsmApiToken: pulumi.secret(JSM_TOKEN) }),
            );
            channel.datadogHandles.apply((h) => (dualHandles = h));
            pages = (channel.onCall.pages ?? []).map((p) => ({ backend: p.backend, url: p.alertsApiUrl }));
            (channel.onCall.pages ?? []).forEach((p, i) => p.alertsApiKey?.apply((k) => (pages[i].key = k)));
        });
    });

    it("keeps every Opsgenie resource as it was and adds JSM's team and integrations beside them", () => {
        for (const name of ["alerts-oncall-team", "alerts-oncall-datadog-integration", "alerts-oncall-alerts-integration"]) {
            expect(dual.registrations.some((r) => r.type.startsWith("pulumi-nodejs:dynamic/opsgenie:") && r.name === name)).toBe(true);
        }
        expect(dual.get("pulumi-nodejs:dynamic/jsm:Team", "alerts-oncall-jsm-team").inputs.displayName).toBe("alertline-dev");
        expect(dual.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-datadog-integration").inputs).toMatchObject({ type: "Datadog" });
        expect(dual.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-alerts-integration").inputs).toMatchObject({ type: "API" });
    });

    it("has a Datadog service object per backend, and monitors mention both", () => {
        const opsgenie = dual.get("datadog:opsgenie/serviceObject:ServiceObject", "alerts-oncall-datadog-service");
        const jsm = dual.get("datadog:opsgenie/serviceObject:ServiceObject", "alerts-oncall-jsm-datadog-service");
        expect(opsgenie.inputs).toMatchObject({ name: "alertline-dev", region: "eu" });
        expect(reveal(opsgenie.inputs.opsgenieApiKey)).toBe(dual.get("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "alerts-oncall-datadog-integration").state.apiKey);
        expect(jsm.inputs).toMatchObject({ name: "alertline-dev-jsm", region: "custom", customUrl: JSM_DATADOG_API_URL });
        expect(reveal(jsm.inputs.opsgenieApiKey)).toBe(dual.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-datadog-integration").state.apiKey);
        expect(dualHandles).toBe("@opsgenie-alertline-dev @opsgenie-alertline-dev-jsm @slack-acme-monitoring-alerts-dev");
    });

    it("links both backends' alert APIs for alertline's own pages, Opsgenie first", () => {
        const integration = dual.get("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "alerts-oncall-alerts-integration");
        expect(pages).toEqual([
            { backend: "opsgenie", url: "https://api.eu.opsgenie.com", key: integration.state.apiKey },
            { backend: "jsm", url: "https://api.atlassian.com/jsm/ops/integration", key: dual.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-alerts-integration").state.apiKey },
        ]);
    });

    it("refuses the window without Opsgenie's key or JSM's API token, naming the secret", () => {
        expect(onCallRoutingProblem({ settings: DUAL, jsmApiToken: JSM_TOKEN })).toMatch(/alertline:opsgenieApiKey/);
        expect(onCallRoutingProblem({ settings: DUAL, apiKey: ONCALL_KEY })).toMatch(/alertline:jsmApiToken/);
        expect(onCallRoutingProblem({ settings: DUAL, apiKey: ONCALL_KEY, jsmApiToken: JSM_TOKEN })).toBeUndefined();
        expect(onCallRoutingProblem({ settings: { backend: "opsgenie", region: "us", team: "t" }, apiKey: ONCALL_KEY })).toBeUndefined();
    });
});

describe("AlertChannel with the jsm backend", () => {
    it("creates JSM's Datadog integration in the team, points Datadog at JSM with its key, and creates nothing in Opsgenie", async () => {
        const jsm = await recordResources(() => new AlertChannel("alerts", channelArgs({ onCall: JSM_SETTINGS, onCallApiKey: undefined, onCallJsmApiToken: pulumi.secret(JSM_TOKEN) })));
        expect(jsm.registrations.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/opsgenie"))).toEqual([]);
        const team = jsm.get("pulumi-nodejs:dynamic/jsm:Team", "alerts-oncall-jsm-team");
        const integration = jsm.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-datadog-integration");
        expect(integration.inputs).toMatchObject({ name: "alertline-dev-datadog", type: "Datadog", teamId: team.id });
        const service = jsm.get("datadog:opsgenie/serviceObject:ServiceObject", "alerts-oncall-datadog-service");
        expect(service.inputs).toMatchObject({ region: "custom", customUrl: JSM_DATADOG_API_URL });
        expect(service.inputs.opsgenieApiKey).toBeInstanceOf(SecretValue);
        expect(reveal(service.inputs.opsgenieApiKey)).toBe(integration.state.apiKey);
    });

    it("looks the team up by name in JSM's ops REST API with the cloud ID, e-mail and the token kept secret", async () => {
        const jsm = await recordResources(() => new AlertChannel("alerts", channelArgs({ onCall: JSM_SETTINGS, onCallJsmApiToken: pulumi.secret(JSM_TOKEN) })));
        const team = jsm.get("pulumi-nodejs:dynamic/jsm:Team", "alerts-oncall-jsm-team");
        expect(team.inputs.displayName).toBe("Ops Tokyo");
        const connection = team.inputs.connection as Record<string, unknown>;
        expect(connection).toMatchObject({ cloudId: JSM_SETTINGS.cloudId, email: JSM_SETTINGS.email, apiUrl: "https://api.atlassian.com" });
        expect(connection.apiToken).toBeInstanceOf(SecretValue);
        expect(reveal(connection.apiToken)).toBe(JSM_TOKEN);
    });

    it("refuses jsm without the API token, naming the secret", () => {
        expect(() => new AlertChannel("alerts-no-token", channelArgs({ onCall: JSM_SETTINGS }))).toThrow(/alertline:jsmApiToken/);
    });
});

describe("pure helpers", () => {
    it("notifierPolicy grants DynamoDB only with a flood table, and only on that table", () => {
        const base = { logGroupArn: "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/f", keyArn: "arn:aws:kms:eu-west-1:111122223333:key/k", deadLetterQueueArn: "arn:aws:sqs:eu-west-1:111122223333:q", functionName: "f", region: "eu-west-1" };
        expect(JSON.stringify(notifierPolicy(base))).not.toContain("dynamodb");
        const tableArn = "arn:aws:dynamodb:eu-west-1:111122223333:table/alertline-dev-alerts-flood";
        const statements = notifierPolicy({ ...base, floodTableArn: tableArn }).Statement as Record<string, any>[];
        const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes("dynamodb:"));
        expect(dynamo.map((s) => s.Resource)).toEqual([tableArn]);
        expect(statements.find((s) => s.Sid === "FloodTableKey")?.Condition).toEqual({ StringEquals: { "kms:ViaService": "dynamodb.eu-west-1.amazonaws.com" } });
    });

    it("slackHandle drops the channel's #", () => {
        expect(slackHandle("acme", "#alerts-dev")).toBe("@slack-acme-alerts-dev");
    });

    it("channelKeyPolicy binds the logs service to this region's log groups", () => {
        const logs = policyDocument(JSON.stringify(channelKeyPolicy("111122223333", "eu-west-1", []))).Statement.find((s) => s.Sid === "LogsEncryptTheLogGroups")!;
        expect(logs.Principal).toEqual({ Service: "logs.eu-west-1.amazonaws.com" });
        expect(JSON.stringify(logs.Condition)).toContain("arn:aws:logs:eu-west-1:111122223333:log-group:*");
    });
});
