import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SECRETS } from "../../components/shared/stack-config";
import { evaluateProgram, sharedEvaluation, WHOLE_STACK_TIMEOUT_MS } from "../harness/fresh-program";
import type { StackEvaluation } from "../../tools/offline/evaluate";
import { reveal, SecretValue } from "../../tools/offline/mock-engine";
import { PROJECT_ROOT } from "../../tools/offline/stack-files";

const WEBHOOK_TOKEN = "stack-test-webhook-token";
const secretsGiven = {
    "alertline:slackWebhookUrl": `https://hooks.slack.com/services/TSTACK/BSTACK/${WEBHOOK_TOKEN}`,
    "datadog:apiKey": "abcdefabcdefabcdefabcdefabcdef12",
};

const JSM_ONCALL = { backend: "jsm", cloudId: "3a015c30-bac7-4abc-97a1-50c1feea188a", team: "Ops Tokyo", email: "oncall-bot@example.jp" };
const JSM_TOKEN = "ATATT3xFfGF0-stack-test-token";

interface IngressRule {
    fromPort?: number;
    toPort?: number;
    protocol?: string;
    cidrBlocks?: string[];
    ipv6CidrBlocks?: string[];
}

/** True when a rule lets the whole internet reach port 22. */
function opensSshToTheWorld(rule: IngressRule): boolean {
    const world = [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])].some((c) => c === "0.0.0.0/0" || c === "::/0");
    const allPorts = rule.protocol === "-1" || rule.protocol === "all";
    const covers22 = allPorts || ((rule.fromPort ?? 0) <= 22 && 22 <= (rule.toPort ?? 65535));
    return world && covers22;
}

function stackFile(stack: string): { config: Record<string, unknown> } {
    return parse(readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8"));
}

describe.each(["dev", "prod"])("the %s stack, evaluated from its real Pulumi.<stack>.yaml", (stack) => {
    let evaluation: StackEvaluation;
    const hostEntries = stackFile(stack).config["alertline:hosts"] as { name: string; external?: unknown }[];
    const hostNames = hostEntries.map((h) => h.name);
    const ec2HostNames = hostEntries.filter((h) => h.external === undefined).map((h) => h.name);

    beforeAll(async () => {
        evaluation = await sharedEvaluation(stack, secretsGiven);
    }, WHOLE_STACK_TIMEOUT_MS);

    const all = (type: string) => evaluation.engine.ofType(type);

    it("declares one monitored host per config entry", () => {
        expect(all("alertline:index:MonitoredHost").map((h) => h.name)).toEqual(hostNames.map((n) => `host-${n}`));
        expect(all("aws:ec2/instance:Instance").map((i) => i.name)).toEqual(ec2HostNames.map((n) => `host-${n}-instance`));
    });

    it("requires IMDSv2 on every instance and encrypts every root volume with a KMS key", () => {
        for (const instance of all("aws:ec2/instance:Instance")) {
            expect((instance.inputs.metadataOptions as { httpTokens: string }).httpTokens).toBe("required");
            const root = instance.inputs.rootBlockDevice as { encrypted: boolean; kmsKeyId: string };
            expect(root.encrypted).toBe(true);
            expect(root.kmsKeyId).toMatch(/^arn:aws:kms:/);
        }
    });

    it("has no security-group rule that lets the world reach port 22", () => {
        const rules: IngressRule[] = [
            ...all("aws:ec2/securityGroup:SecurityGroup").flatMap((sg) => (sg.inputs.ingress as IngressRule[] | undefined) ?? []),
            ...all("aws:ec2/securityGroupRule:SecurityGroupRule").filter((r) => r.inputs.type === "ingress").map((r) => r.inputs as IngressRule),
            ...all("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => ({
                fromPort: r.inputs.fromPort as number,
                toPort: r.inputs.toPort as number,
                protocol: r.inputs.ipProtocol as string,
                cidrBlocks: r.inputs.cidrIpv4 ? [r.inputs.cidrIpv4 as string] : [],
                ipv6CidrBlocks: r.inputs.cidrIpv6 ? [r.inputs.cidrIpv6 as string] : [],
            })),
        ];
        expect(rules.filter(opensSshToTheWorld)).toEqual([]);
        // the check itself bites on the seed's rule
        expect(opensSshToTheWorld({ fromPort: 22, toPort: 22, protocol: "tcp", cidrBlocks: ["0.0.0.0/0"] })).toBe(true);
        expect(opensSshToTheWorld({ fromPort: 0, toPort: 65535, protocol: "tcp", ipv6CidrBlocks: ["::/0"] })).toBe(true);
    });

    it("watches chronyd and sshd on every host alertline runs with process monitors", () => {
        const monitors = all("datadog:index/monitor:Monitor");
        for (const host of ec2HostNames) {
            const queries = monitors.filter((m) => m.name.startsWith(`host-${host}-`)).map((m) => String(m.inputs.query));
            expect(queries.some((q) => q.includes('"process:chronyd"'))).toBe(true);
            expect(queries.some((q) => q.includes('"process:sshd"'))).toBe(true);
        }
    });

    it("encrypts every SNS topic with a KMS key", () => {
        const topics = all("aws:sns/topic:Topic");
        expect(topics.length).toBeGreaterThan(0);
        for (const topic of topics) expect(topic.inputs.kmsMasterKeyId).toMatch(/^arn:aws:kms:/);
    });

    it("gives the notifier a KMS key and no webhook in clear, anywhere", () => {
        for (const fn of all("aws:lambda/function:Function")) expect(fn.inputs.kmsKeyArn).toMatch(/^arn:aws:kms:/);
        expect(JSON.stringify(evaluation.engine.registrations.map((r) => r.inputs))).not.toContain(WEBHOOK_TOKEN);
        expect(JSON.stringify(evaluation.outputs)).not.toContain(WEBHOOK_TOKEN);
        // it is there, as a secret, where it belongs
        const ciphertext = all("aws:kms/ciphertext:Ciphertext")[0];
        expect(String(reveal(ciphertext.inputs.plaintext))).toContain(WEBHOOK_TOKEN);
    });

    it("exports the topic, the hosts' instance IDs and their monitor IDs", () => {
        expect(evaluation.outputs.alertTopicArn).toMatch(/^arn:aws:sns:/);
        expect(Object.keys(evaluation.outputs.hostInstanceIds as object)).toEqual(ec2HostNames);
        const monitorIds = evaluation.outputs.hostMonitorIds as Record<string, Record<string, string>>;
        expect(Object.keys(monitorIds)).toEqual(hostNames);
        for (const host of hostEntries as { name: string; processes?: string[] }[]) {
            const processes = host.processes ?? ["chronyd", "sshd"];
            expect(Object.keys(monitorIds[host.name]).sort()).toEqual(["agent-up", "cpu", ...processes.map((p) => `process-${p}`)].sort());
        }
    });

    it("gives every configured site a VPN with secure options on both tunnels and a secret router configuration", () => {
        const sites = stackFile(stack).config["alertline:sites"] as { name: string; customerGateway?: unknown }[];
        const vpns = all("aws:ec2/vpnConnection:VpnConnection");
        expect(vpns).toHaveLength(sites.filter((s) => s.customerGateway !== undefined).length);
        for (const vpn of vpns) {
            expect(vpn.inputs.tunnel1IkeVersions).toEqual(["ikev2"]);
            expect(vpn.inputs.tunnel2IkeVersions).toEqual(["ikev2"]);
        }
        expect(evaluation.outputs.siteRouterConfigs).toBeInstanceOf(SecretValue);
        const configs = (evaluation.outputs.siteRouterConfigs as SecretValue).value as Record<string, string>;
        expect(Object.keys(configs).sort()).toEqual(sites.map((s) => s.name).sort());
        for (const text of Object.values(configs)) expect(text.match(/^tunnel select \d+$/gm)).toHaveLength(2);
    });

    it("receives alert mail over TLS with scanning, into an encrypted bucket", () => {
        const rules = all("aws:ses/receiptRule:ReceiptRule");
        expect(rules).toHaveLength(1);
        expect(rules[0].inputs).toMatchObject({ tlsPolicy: "Require", scanEnabled: true });
        // the mail bucket with the mail key; its access-log bucket with SSE-S3, the only default S3 delivers logs into
        const encryption = Object.fromEntries(
            all("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").map((c) => [c.name, (c.inputs.rules as any[])[0].applyServerSideEncryptionByDefault.sseAlgorithm]),
        );
        expect(encryption).toEqual({ "mail-mail-encryption": "aws:kms", "mail-mail-access-logs-encryption": "AES256" });
    });

    it("holds no secret values in the committed stack file", () => {
        const keys = Object.keys(stackFile(stack).config);
        for (const secret of Object.values(SECRETS)) expect(keys).not.toContain(secret.key);
        expect(readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")).not.toMatch(/hooks\.slack\.com\/services\/T/);
    });
});

describe("the stacks differ where the environments do", () => {
    it("dev watches one host and posts to #alerts-dev; prod watches several", async () => {
        const dev = stackFile("dev").config;
        const prod = stackFile("prod").config;
        expect((dev["alertline:hosts"] as unknown[]).length).toBe(1);
        expect((dev["alertline:slack"] as { channel: string }).channel).toBe("#alerts-dev");
        expect((prod["alertline:hosts"] as unknown[]).length).toBeGreaterThan(1);
        expect((dev["alertline:network"] as { natGateways: string }).natGateways).toBe("Single");
    });
});

describe("the prod stack's external hosts", () => {
    it("get their monitors, scoped by Datadog host name or tags, and nothing else", async () => {
        const prod = await sharedEvaluation("prod", secretsGiven);
        for (const [host, scope] of [["onprem-nas", '"host:nas01.office.example.jp"'], ["ali-web", '"cloud_provider:alibaba","role:web"']]) {
            const component = prod.engine.get("alertline:index:MonitoredHost", `host-${host}`);
            const children = prod.engine.childrenOf(component);
            expect(new Set(children.map((c) => c.type))).toEqual(new Set(["datadog:index/monitor:Monitor"]));
            const processCheck = children.find((c) => c.name === `host-${host}-process-chronyd`)!;
            expect(String(processCheck.inputs.query)).toBe(`"process.up".over(${scope},"process:chronyd").by("host").last(2).count_by_status()`);
            expect(children.map((c) => c.name)).toContain(`host-${host}-agent-up`);
        }
        expect(prod.engine.ofType("aws:ec2/instance:Instance").map((i) => i.name)).not.toContain("host-onprem-nas-instance");
    }, WHOLE_STACK_TIMEOUT_MS);

    it("come with a read-only RAM user for Datadog's Alibaba Cloud tile, whose key leaves only as a secret", async () => {
        const prod = await sharedEvaluation("prod", secretsGiven);
        const user = prod.engine.get("alicloud:ram/user:User", "alibaba-user");
        const attachments = prod.engine.ofType("alicloud:ram/userPolicyAttachment:UserPolicyAttachment");
        expect(attachments.map((a) => a.inputs.policyName)).toContain("AliyunCloudMonitorReadOnlyAccess");
        for (const a of attachments) {
            expect(a.inputs).toMatchObject({ userName: user.state.name, policyType: "System" });
            expect(String(a.inputs.policyName)).toMatch(/ReadOnlyAccess$/);
        }
        const key = prod.engine.get("alicloud:ram/accessKey:AccessKey", "alibaba-key");
        expect(prod.outputs.alibabaDatadogTile).toBeInstanceOf(SecretValue);
        expect((prod.outputs.alibabaDatadogTile as SecretValue).value).toEqual({ accountId: "5123456789012345", accessKeyId: key.id, accessKeySecret: key.state.secret });
        expect(JSON.stringify(prod.outputs)).not.toContain(String(key.state.secret));
    }, WHOLE_STACK_TIMEOUT_MS);
});

describe("the prod stack's relayed site", () => {
    it("lets the relay host, not the dispatcher, reach the relayed site's tower, and packages the relay in towers.json", async () => {
        const prod = await sharedEvaluation("prod", secretsGiven);
        const hostSg = prod.engine.get("aws:ec2/securityGroup:SecurityGroup", "host-zabbix-proxy-sg");
        const rule = prod.engine.get("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "site-customer-a-customer-a-floor-egress");
        expect(rule.inputs).toMatchObject({ securityGroupId: hostSg.id, cidrIpv4: "172.16.5.20/32", fromPort: 10000 });
        const dispatcherSg = prod.engine.get("aws:ec2/securityGroup:SecurityGroup", "mail-dispatch-sg");
        const tokyo = prod.engine.get("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "site-tokyo-office-tokyo-ops-egress");
        expect(tokyo.inputs.securityGroupId).toBe(dispatcherSg.id);
        const policy = JSON.parse(String(prod.engine.get("aws:iam/rolePolicy:RolePolicy", "mail-dispatch-policy").inputs.policy));
        const relay = policy.Statement.find((s: { Sid: string }) => s.Sid === "RelayThroughHosts");
        expect(relay.Resource).toContain(`arn:aws:ec2:ap-northeast-1:123456789012:instance/${prod.engine.get("aws:ec2/instance:Instance", "host-zabbix-proxy-instance").id}`);
    }, WHOLE_STACK_TIMEOUT_MS);
});

describe("the stacks' AWS alert sources", () => {
    it("send GuardDuty, Security Hub, Health, Backup and Budgets to the alert topic, which lets EventBridge and Budgets publish", async () => {
        const dev = await sharedEvaluation("dev", secretsGiven);
        const topic = dev.engine.get("aws:sns/topic:Topic", "alerts-topic");
        // The canary's and the tower probe's schedules target functions, not the topic.
        const targets = dev.engine.ofType("aws:cloudwatch/eventTarget:EventTarget").filter((t) => t.name.startsWith("aws-sources-"));
        expect(targets.length).toBe(4);
        for (const target of targets) expect(target.inputs.arn).toBe(topic.state.arn);
        const budget = dev.engine.ofType("aws:budgets/budget:Budget")[0];
        expect(JSON.stringify(budget.inputs.notifications)).toContain(String(topic.state.arn));
        const keyPolicy = JSON.parse(String(dev.engine.get("aws:kms/key:Key", "alerts-key").inputs.policy));
        const publishers = keyPolicy.Statement.find((s: { Sid: string }) => s.Sid === "PublishersEncryptForTheTopic");
        expect(publishers.Principal.Service).toEqual(["cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"]);
    }, WHOLE_STACK_TIMEOUT_MS);
});

describe("the stacks close the loop and watch the path", () => {
    it("dev has the acknowledgement endpoint, the canary with its heartbeat, and an unreachable alarm per tower", async () => {
        const dev = await sharedEvaluation("dev", secretsGiven);
        expect(dev.engine.ofType("aws:lambda/functionUrl:FunctionUrl").map((u) => u.name)).toEqual(["mail-ack-url"]);
        expect(dev.engine.get("pulumi-nodejs:dynamic/opsgenie:Heartbeat", "mail-canary-heartbeat").inputs).toMatchObject({ name: "alertline-dev-mail-path", interval: 30 });
        const towers = dev.engine.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.endsWith("-unreachable"));
        expect(towers.map((a) => (a.inputs.dimensions as Record<string, string>).Tower)).toEqual(["dev-desk"]);
    }, WHOLE_STACK_TIMEOUT_MS);
});

describe("the on-call backend switch", () => {
    it("with jsm, the plan holds the JSM team, both integrations, the outgoing webhook and the heartbeat; mail-ingest pages with the created integration's key; nothing is created in Opsgenie", async () => {
        const dev = await evaluateProgram("dev", { ...secretsGiven, "alertline:oncall": JSM_ONCALL, "alertline:jsmApiToken": JSM_TOKEN });
        const jsmKey = dev.engine.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-alerts-integration").state.apiKey;
        expect(jsmKey).toEqual(expect.any(String));
        expect(dev.engine.registrations.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/opsgenie"))).toEqual([]);
        const ingest = dev.engine.get("aws:lambda/function:Function", "mail-ingest");
        const variables = (ingest.inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(variables.ONCALL_API_URL).toBe("https://api.atlassian.com/jsm/ops/integration");
        const ciphertext = dev.engine.get("aws:kms/ciphertext:Ciphertext", "mail-ingest-oncall-key");
        expect(ciphertext.inputs.plaintext).toBeInstanceOf(SecretValue);
        expect(reveal(ciphertext.inputs.plaintext)).toBe(jsmKey);
        const service = dev.engine.get("datadog:opsgenie/serviceObject:ServiceObject", "alerts-oncall-datadog-service");
        expect(service.inputs.customUrl).toBe("https://api.atlassian.com/jsm/ops/integration");
        const datadogIntegration = dev.engine.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-datadog-integration");
        expect(reveal(service.inputs.opsgenieApiKey)).toBe(datadogIntegration.state.apiKey);
        // JSM's outgoing webhook posts Acknowledge and Close to the acknowledgement endpoint with its token header.
        const ackUrl = dev.engine.ofType("aws:lambda/functionUrl:FunctionUrl");
        expect(ackUrl).toHaveLength(1);
        const webhook = dev.engine.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "mail-ack-jsm-webhook");
        expect(webhook.inputs).toMatchObject({ type: "Webhook", name: "alertline-dev-ack", deleteDefaultActions: true });
        const hookProperties = reveal(webhook.inputs.typeSpecificProperties) as { url: string; headers: Record<string, string> };
        expect(hookProperties.url).toBe(ackUrl[0].state.functionUrl);
        expect(hookProperties.headers["X-Alertline-Token"]).toBe(dev.engine.get("random:index/randomPassword:RandomPassword", "mail-ack-token").state.result);
        const actions = dev.engine.ofType("pulumi-nodejs:dynamic/jsm:IntegrationAction");
        expect(actions.map((a) => [a.inputs.type, a.inputs.direction, a.inputs.integrationId])).toEqual([
            ["acknowledge", "outgoing", webhook.id],
            ["close", "outgoing", webhook.id],
        ]);

        // The canary's heartbeat lives in JSM's ops REST API, in the team looked up by name, and mail-ingest pings it there.
        const team = dev.engine.get("pulumi-nodejs:dynamic/jsm:Team", "alerts-oncall-jsm-team");
        expect(team.inputs.displayName).toBe("Ops Tokyo");
        const heartbeat = dev.engine.get("pulumi-nodejs:dynamic/jsm:Heartbeat", "mail-canary-heartbeat");
        expect(heartbeat.inputs).toMatchObject({ name: "alertline-dev-mail-path", interval: 30, intervalUnit: "minutes", teamId: team.id });
        expect(reveal((heartbeat.inputs.connection as Record<string, unknown>).apiToken)).toBe(JSM_TOKEN);
        expect(variables).toMatchObject({ JSM_OPS_API_URL: `https://api.atlassian.com/jsm/ops/api/${JSM_ONCALL.cloudId}`, JSM_TEAM_ID: team.id, JSM_EMAIL: JSM_ONCALL.email });
        const token = dev.engine.get("aws:kms/ciphertext:Ciphertext", "mail-canary-jsm-token");
        expect(token.inputs.context).toEqual({ LambdaFunctionName: "alertline-dev-mail-ingest" });
        expect(reveal(token.inputs.plaintext)).toBe(JSM_TOKEN);
        expect(JSON.stringify(ingest.inputs)).not.toContain(JSM_TOKEN);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("with jsm and oncall.createTeam, the plan creates the team (no lookup) and every JSM resource uses the created team's id", async () => {
        const createTeam = { organizationId: "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", domainName: "example.atlassian.net", members: ["712020:aki", "712020:ken"] };
        const dev = await evaluateProgram("dev", { ...secretsGiven, "alertline:oncall": { ...JSM_ONCALL, createTeam }, "alertline:jsmApiToken": JSM_TOKEN });
        expect(dev.engine.ofType("pulumi-nodejs:dynamic/jsm:Team")).toEqual([]);
        const team = dev.engine.get("pulumi-nodejs:dynamic/jsm:CreatedTeam", "alerts-oncall-jsm-created-team");
        expect(team.inputs).toMatchObject({ organizationId: createTeam.organizationId, siteUrl: "https://example.atlassian.net", displayName: "Ops Tokyo", teamType: "MEMBER_INVITE", members: createTeam.members });
        expect(reveal((team.inputs.connection as Record<string, unknown>).apiToken)).toBe(JSM_TOKEN);
        expect(dev.engine.get("pulumi-nodejs:dynamic/jsm:Heartbeat", "mail-canary-heartbeat").inputs.teamId).toBe(team.id);
        for (const integration of dev.engine.ofType("pulumi-nodejs:dynamic/jsm:ApiIntegration")) expect(integration.inputs.teamId).toBe(team.id);
        const ingest = dev.engine.get("aws:lambda/function:Function", "mail-ingest");
        const variables = (ingest.inputs.environment as { variables: Record<string, string> }).variables;
        expect(variables.JSM_TEAM_ID).toBe(team.id);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("prod in the migration window (Dec 2026): both backends' resources, monitors page both, mail-ingest pages both, both heartbeats, one acknowledgement endpoint that clears once", async () => {
        const prodOncall = (stackFile("prod").config["alertline:oncall"] as { team: string; region?: string });
        const oncall = { backend: ["opsgenie", "jsm"], region: prodOncall.region ?? "us", team: prodOncall.team, cloudId: JSM_ONCALL.cloudId, email: JSM_ONCALL.email };
        const prod = await evaluateProgram("prod", {
            ...secretsGiven,
            "alertline:oncall": oncall,
            "alertline:jsmApiToken": JSM_TOKEN,
        });
        const { engine } = prod;
        // Opsgenie as before the window, JSM beside it.
        expect(engine.get("pulumi-nodejs:dynamic/opsgenie:Team", "alerts-oncall-team").inputs.name).toBe(prodOncall.team);
        expect(engine.get("pulumi-nodejs:dynamic/jsm:Team", "alerts-oncall-jsm-team").inputs.displayName).toBe(prodOncall.team);
        expect(engine.get("pulumi-nodejs:dynamic/opsgenie:Heartbeat", "mail-canary-heartbeat").inputs).toMatchObject({ name: "alertline-prod-mail-path" });
        expect(engine.get("pulumi-nodejs:dynamic/jsm:Heartbeat", "mail-canary-heartbeat").inputs).toMatchObject({ name: "alertline-prod-mail-path" });
        expect(engine.ofType("pulumi-nodejs:dynamic/opsgenie:ApiIntegration").map((i) => i.name).sort()).toEqual(["alerts-oncall-alerts-integration", "alerts-oncall-datadog-integration", "mail-ack-opsgenie-webhook"]);

        // Datadog: a service object per backend, and every monitor mentions both.
        const services = engine.ofType("datadog:opsgenie/serviceObject:ServiceObject");
        expect(services.map((s) => [s.name, s.inputs.name]).sort()).toEqual([
            ["alerts-oncall-datadog-service", "alertline-prod"],
            ["alerts-oncall-jsm-datadog-service", "alertline-prod-jsm"],
        ]);
        const monitors = engine.ofType("datadog:index/monitor:Monitor");
        expect(monitors.length).toBeGreaterThan(0);
        for (const monitor of monitors) expect(String(monitor.inputs.message)).toMatch(/@opsgenie-alertline-prod @opsgenie-alertline-prod-jsm /);

        // mail-ingest pages Opsgenie and JSM, each key encrypted for it alone, and pings JSM's heartbeat through the ops REST API.
        const ingest = engine.get("aws:lambda/function:Function", "mail-ingest");
        const variables = (ingest.inputs.environment as { variables: Record<string, unknown> }).variables;
        expect([variables.ONCALL_API_URL, variables.ONCALL_ALSO_API_URL]).toEqual([oncall.region === "eu" ? "https://api.eu.opsgenie.com" : "https://api.opsgenie.com", "https://api.atlassian.com/jsm/ops/integration"]);
        // JSM's alerts integration is created by the stack; its key (from JSM's create answer) reaches the function only encrypted.
        const jsmKey = String(engine.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-alerts-integration").state.apiKey);
        expect(engine.get("pulumi-nodejs:dynamic/jsm:ApiIntegration", "alerts-oncall-jsm-datadog-integration").inputs).toMatchObject({ type: "Datadog" });
        expect(engine.ofType("pulumi-nodejs:dynamic/jsm:IntegrationAction").length).toBe(2);
        const jsmCiphertext = engine.get("aws:kms/ciphertext:Ciphertext", "mail-ingest-oncall-jsm-key");
        expect(reveal(jsmCiphertext.inputs.plaintext)).toBe(jsmKey);
        expect(jsmCiphertext.inputs.context).toEqual({ LambdaFunctionName: "alertline-prod-mail-ingest" });
        expect(variables).toMatchObject({ JSM_OPS_API_URL: `https://api.atlassian.com/jsm/ops/api/${JSM_ONCALL.cloudId}`, JSM_EMAIL: JSM_ONCALL.email });
        expect(JSON.stringify(ingest.inputs)).not.toContain(jsmKey);

        // One acknowledgement endpoint for both webhooks; it shares the state table to clear once.
        const ack = engine.get("aws:lambda/function:Function", "mail-ack");
        const table = engine.get("aws:dynamodb/table:Table", "mail-state");
        expect((ack.inputs.environment as { variables: Record<string, unknown> }).variables.STATE_TABLE).toBe(table.state.name);
    }, WHOLE_STACK_TIMEOUT_MS);
});

describe("Slack's app mode (alertline:slack.mode app)", () => {
    const BOT_TOKEN = "xoxb-1234567890-1234567890123-stackTestBotToken";
    const APP_SLACK = { channel: "#alerts-dev", datadogAccount: "acme-monitoring", mode: "app", channelId: "C0123456789", threadMaxAgeHours: 12 };

    it("dev: the notifier posts as the bot to the channel ID, the token only as ciphertext; the notes are on for ack-webhook and tower-dispatch", async () => {
        const dev = await evaluateProgram("dev", { "datadog:apiKey": secretsGiven["datadog:apiKey"], "alertline:slack": APP_SLACK, [SECRETS.slackBotToken.key]: BOT_TOKEN });
        const { engine } = dev;
        expect(dev.config.placeholders).not.toContain(SECRETS.slackWebhookUrl.key);
        const variablesOf = (name: string) => (engine.get("aws:lambda/function:Function", name).inputs.environment as { variables: Record<string, unknown> }).variables;
        const ciphertext = engine.get("aws:kms/ciphertext:Ciphertext", "alerts-bot-token-ciphertext");
        expect(reveal(ciphertext.inputs.plaintext)).toBe(BOT_TOKEN);
        expect(variablesOf("alerts-notifier")).toMatchObject({
            SLACK_MODE: "app",
            SLACK_CHANNEL_ID: "C0123456789",
            SLACK_THREAD_MAX_AGE_SECONDS: String(12 * 3600),
            SLACK_BOT_TOKEN_CIPHERTEXT: ciphertext.state.ciphertextBlob,
            FLOOD_TABLE: engine.get("aws:dynamodb/table:Table", "alerts-flood").state.name,
        });
        expect(variablesOf("alerts-notifier").SLACK_WEBHOOK_CIPHERTEXT).toBeUndefined();
        expect(variablesOf("mail-ack")).toMatchObject({ ALERTLINE_THREAD_NOTES: "on", ONCALL_BACKENDS: "opsgenie", ALERT_TOPIC_ARN: engine.get("aws:sns/topic:Topic", "alerts-topic").state.arn });
        expect(variablesOf("mail-dispatch")).toMatchObject({ ALERTLINE_THREAD_NOTES: "on" });
        expect(JSON.stringify(engine.registrations.map((r) => r.inputs))).not.toContain("stackTestBotToken");
        expect(JSON.stringify(dev.outputs)).not.toContain("stackTestBotToken");
    }, WHOLE_STACK_TIMEOUT_MS);

    it("dev in webhook mode (its stack file): no thread notes, no bot token", async () => {
        const dev = await sharedEvaluation("dev", secretsGiven);
        const variablesOf = (name: string) => (dev.engine.get("aws:lambda/function:Function", name).inputs.environment as { variables: Record<string, unknown> }).variables;
        expect(variablesOf("mail-ack").ALERTLINE_THREAD_NOTES).toBeUndefined();
        expect(variablesOf("mail-dispatch").ALERTLINE_THREAD_NOTES).toBeUndefined();
        expect(variablesOf("alerts-notifier").SLACK_MODE).toBeUndefined();
        expect(dev.engine.ofType("aws:kms/ciphertext:Ciphertext").map((c) => c.name)).not.toContain("alerts-bot-token-ciphertext");
    }, WHOLE_STACK_TIMEOUT_MS);
});
