import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { heartbeatName } from "../../../../components/mail-ingest/mail-canary";
import { opsgenieApiIntegrationProvider, opsgenieHeartbeatProvider, opsgenieTeamProvider } from "../../../../components/shared/oncall/opsgenie";
import * as api from "../../../../components/shared/oncall/opsgenie-api";
import { CLEARING_ACTIONS, parseWebhookEvent } from "../../../../functions/ack-webhook/webhook-event";
import { createOnCallClient, onCallApiUrl } from "../../../../functions/shared/oncall-alerts";
import { alertBodyProblems, closeBodyProblems, startOnCallSink, type OnCallSink } from "../../../../tools/local/oncall";
import { CONFIG_CONTRACT, configProblems, FakeOpsgenie, type ConfigOperation } from "../../../fixtures/opsgenie/fake-opsgenie";

/**
 * Opsgenie's contract, checked from both sides: the stand-ins accept the requests Opsgenie's own
 * documentation and reference SDKs send (fixtures in test/fixtures/contracts/opsgenie, sources in
 * its README), refuse each kind of request Opsgenie refuses, and alertline's real code sends only
 * requests they accept. The outgoing Webhook is played by the stand-in and read by ack-webhook's parser.
 */

const KEY = "5c1e8d6f-2b7a-4c3d-9e0f-a1b2c3d4e5f6";
const CONTRACTS = path.join(__dirname, "../../../fixtures/contracts/opsgenie");
const sample = (file: string) => JSON.parse(readFileSync(path.join(CONTRACTS, file), "utf8")) as Record<string, unknown>;
const webhookSample = (file: string) => readFileSync(path.join(__dirname, "../../../fixtures/opsgenie-webhook", file), "utf8");

const fake = new FakeOpsgenie(KEY);
let base: string;
const noWait = { sleep: async () => undefined, maxAttempts: 1 };

beforeAll(async () => {
    base = await fake.start();
});
afterAll(() => fake.stop());
beforeEach(() => fake.reset());

async function send(method: string, pathname: string, body?: unknown, authorization: string | null = `GenieKey ${KEY}`): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (authorization !== null) headers.authorization = authorization;
    const response = await fetch(`${base}${pathname}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe("the configuration stand-in accepts what Opsgenie's docs and reference SDKs send", () => {
    const samples: [string, ConfigOperation, string][] = [
        ["team-create.request.json", "team-create", "/v2/teams"],
        ["heartbeat-create.request.json", "heartbeat-create", "/v2/heartbeats"],
        ["integration-api-create.request.json", "integration-create", "/v2/integrations"],
        ["integration-datadog-create.request.json", "integration-create", "/v2/integrations"],
        ["integration-webhook-create.request.json", "integration-create", "/v2/integrations"],
    ];
    it.each(samples)("%s passes the contract and is created", async (file, operation, pathname) => {
        expect(configProblems(operation, sample(file))).toEqual({});
        const answer = await send("POST", pathname, sample(file));
        expect(answer.status).toBe(201);
        expect(fake.refusals).toEqual([]);
    });

    it("heartbeat-update.request.json passes a PATCH of an existing heartbeat", async () => {
        fake.addHeartbeat({ name: "nightly-backup.db_01" });
        expect(configProblems("heartbeat-update", sample("heartbeat-update.request.json"))).toEqual({});
        expect((await send("PATCH", "/v2/heartbeats/nightly-backup.db_01", sample("heartbeat-update.request.json"))).status).toBe(200);
    });

    it("the create answer of an API integration holds data.apiKey, which alertline reads", () => {
        const request = api.createIntegrationRequest(api.integrationFields({ name: "n" }));
        expect(api.parseIntegration(request, sample("integration-api-created.response.json")).apiKey).toBe("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
    });

    it("a Webhook's GET answer reads back as its url, headers and forwarded actions", () => {
        const live = api.parseIntegration(api.getIntegrationRequest("x"), sample("integration-webhook.response.json"));
        expect(live).toMatchObject({ type: "Webhook", webhookUrl: "https://hooks.example.com/opsgenie", forwardedActions: ["create"] });
    });
});

describe("the configuration stand-in refuses what Opsgenie refuses", () => {
    it("an unknown path (404) and a method the path does not take (405)", async () => {
        const team = fake.addTeam("Network Ops");
        expect((await send("POST", "/v2/teamz", { name: "x" })).status).toBe(404);
        expect((await send("POST", "/v1/teams", { name: "x" })).status).toBe(404);
        expect((await send("GET", "/v2/heartbeats/a/b/c")).status).toBe(404);
        expect((await send("PUT", `/v2/teams/${team.id}`, { name: "x" })).status).toBe(405);
        // terraform-provider-opsgenie: "the Opsgenie Integration API does not support HTTP PATCH method".
        const integration = fake.addIntegration({ name: "n", type: "API", enabled: true });
        expect((await send("PATCH", `/v2/integrations/${integration.id}`, { name: "x" })).status).toBe(405);
        expect(fake.refusals.map((r) => r.status)).toEqual([404, 404, 404, 405, 405]);
    });

    it.each([
        ["no Authorization header", null],
        ["Basic", `Basic ${Buffer.from(`user:${KEY}`).toString("base64")}`],
        ["Bearer", `Bearer ${KEY}`],
        ["the key alone", KEY],
        ["the scheme in other case", `geniekey ${KEY}`],
        ["another account's key", "GenieKey 00000000-0000-0000-0000-000000000000"],
    ])("any authentication but GenieKey <key> (%s) with 401", async (_, authorization) => {
        const answer = await send("POST", "/v2/teams", { name: "Network Ops" }, authorization);
        expect(answer).toMatchObject({ status: 401, body: { message: "Could not authenticate" } });
        expect(fake.teams.size).toBe(0);
    });

    it("a body that is not a JSON object with 400", async () => {
        expect((await send("POST", "/v2/teams", "name=Network Ops")).status).toBe(400);
        expect((await send("POST", "/v2/teams", ["Network Ops"])).status).toBe(400);
    });

    it.each<[string, string, Record<string, unknown>, Record<string, unknown>]>([
        ["an unknown team field", "/v2/teams", { name: "Ops", colour: "red" }, { colour: "is not a field of this request" }],
        ["a team without name", "/v2/teams", { description: "d" }, { name: "must not be null" }],
        ["a team name of 100 characters", "/v2/teams", { name: "t".repeat(100) }, { name: "is 100 characters; the limit is 99" }],
        ["a heartbeat without enabled", "/v2/heartbeats", { name: "hb", interval: 1, intervalUnit: "minutes" }, { enabled: "must not be null" }],
        ["a heartbeat name with spaces", "/v2/heartbeats", { name: "mail path", interval: 1, intervalUnit: "minutes", enabled: true }, { name: "must match ^[a-zA-Z0-9._-]+$" }],
        ["a heartbeat name of 100 characters", "/v2/heartbeats", { name: "h".repeat(100), interval: 1, intervalUnit: "minutes", enabled: true }, { name: "is 100 characters; the limit is 99" }],
        ["a misspelt heartbeat field", "/v2/heartbeats", { name: "hb", interval: 1, intervalUnits: "minutes", enabled: true }, { intervalUnit: "must not be null", intervalUnits: "is not a field of this request" }],
        ["an over-long heartbeat alert message", "/v2/heartbeats", { name: "hb", interval: 1, intervalUnit: "minutes", enabled: true, alertMessage: "m".repeat(131) }, { alertMessage: "is 131 characters; the limit is 130" }],
        ["a heartbeat tag of 51 characters", "/v2/heartbeats", { name: "hb", interval: 1, intervalUnit: "minutes", enabled: true, alertTags: ["t".repeat(51)] }, { alertTags: "a tag is longer than 50 characters" }],
        ["a heartbeat interval unit Opsgenie lacks", "/v2/heartbeats", { name: "hb", interval: 1, intervalUnit: "weeks", enabled: true }, { intervalUnit: "must be one of minutes, hours, days" }],
        ["an integration without type", "/v2/integrations", { name: "n" }, { type: "must not be null" }],
        ["a Webhook without url", "/v2/integrations", { name: "n", type: "Webhook" }, { url: "must not be null" }],
        // facts.md named `alertActions`: opsgenie-oas gives that list to older callback types, not to Webhook.
        ["alertActions on a Webhook", "/v2/integrations", { name: "n", type: "Webhook", url: "https://h.example.com", alertActions: ["Acknowledge"] }, { alertActions: "is not a field of this request" }],
        ["incoming-only fields on a Webhook", "/v2/integrations", { name: "n", type: "Webhook", url: "https://h.example.com", ignoreTeamsFromPayload: true }, { ignoreTeamsFromPayload: "is not a field of this request" }],
        ["webhook fields on an API integration", "/v2/integrations", { name: "n", type: "API", url: "https://h.example.com" }, { url: "is not a field of this request" }],
        ["a Webhook action mapped to another integration's action", "/v2/integrations", { name: "n", type: "Webhook", url: "https://h.example.com", forwardingActionMappings: [{ action: "close", mappedAction: "publish" }] }, { "forwardingActionMappings[0].mappedAction": "must be postToUrl for a Webhook" }],
        ["a mapping of an action Opsgenie does not have", "/v2/integrations", { name: "n", type: "Webhook", url: "https://h.example.com", forwardingActionMappings: [{ action: "Acknowledge", mappedAction: "postToUrl" }] }, { "forwardingActionMappings[0].action": expect.stringMatching(/^must be one of create, acknowledge, /) }],
        ["an integration name of 251 characters", "/v2/integrations", { name: "n".repeat(251), type: "API" }, { name: "is 251 characters; the limit is 250" }],
    ])("%s with 422 naming the field", async (_, pathname, body, errors) => {
        const answer = await send("POST", pathname, body);
        expect(answer.status).toBe(422);
        expect(answer.body.errors).toEqual(errors);
        expect(fake.teams.size + fake.heartbeats.size + fake.integrations.size).toBe(0);
    });

    it("a PUT that sends an integration's apiKey back, or another id than the path's", async () => {
        const integration = fake.addIntegration({ name: "n", type: "API", enabled: true });
        expect((await send("PUT", `/v2/integrations/${integration.id}`, { id: integration.id, name: "n", type: "API", apiKey: "k" })).body.errors).toEqual({ apiKey: "is not a field of this request" });
        expect((await send("PUT", `/v2/integrations/${integration.id}`, { id: "other", name: "n", type: "API" })).body.errors).toEqual({ id: "does not match the path" });
    });
});

describe("alertline's own configuration requests pass the stand-in", () => {
    it("team, Datadog, API and Webhook integrations and the heartbeat: create, read, update, delete, with no refusal", async () => {
        const connection = { apiKey: KEY, apiUrl: base };
        const teams = opsgenieTeamProvider(noWait);
        const integrations = opsgenieApiIntegrationProvider(noWait);
        const heartbeats = opsgenieHeartbeatProvider(noWait);

        // The names and values the stack gives them (components/shared/oncall/oncall-routing.ts, ack-endpoint.ts, mail-canary.ts).
        const team = await teams.create({ name: "alertline-dev", description: "alertline dev: pages from Datadog and alertline", connection });
        const datadog = await integrations.create({ name: "alertline-dev-datadog", type: "Datadog", ownerTeamId: team.id, enabled: true, connection });
        const alerts = await integrations.create({ name: "alertline-dev-alertline", type: "API", ownerTeamId: team.id, enabled: true, connection });
        const hookInputs = {
            name: "alertline-dev-ack",
            type: "Webhook",
            ownerTeamId: team.id,
            enabled: true,
            webhookUrl: "https://abc.lambda-url.ap-northeast-1.on.aws/",
            headers: { "X-Alertline-Token": "token-1" },
            forwardedActions: CLEARING_ACTIONS.map(api.forwardedActionFor),
            connection,
        };
        const hook = await integrations.create(hookInputs);
        const beatInputs = {
            name: heartbeatName("dev"),
            description: "pinged by mail-ingest",
            interval: 30,
            intervalUnit: "minutes" as const,
            enabled: true,
            ownerTeamId: team.id,
            alertMessage: "alertline dev: no canary mail processed for 30 minutes. Alert mail may not be reaching the towers.",
            alertTags: ["alertline", "alertline-dev", "canary"],
            alertPriority: "P2" as const,
            connection,
        };
        const beat = await heartbeats.create(beatInputs);

        await teams.update!(team.id, team.outs!, { ...team.outs!, description: "changed" });
        await integrations.update!(datadog.id, datadog.outs!, { ...datadog.outs!, name: "alertline-dev-datadog-2" });
        await integrations.update!(alerts.id, alerts.outs!, { ...alerts.outs!, enabled: false });
        await integrations.update!(hook.id, hook.outs!, { ...hookInputs, headers: { "X-Alertline-Token": "token-2" }, forwardedActions: ["close"] });
        await heartbeats.update!(beat.id, beat.outs!, { ...beatInputs, interval: 45 });
        for (const [provider, created] of [[integrations, datadog], [integrations, hook], [teams, team], [heartbeats, beat]] as const) {
            await (provider as typeof integrations).read!(created.id, created.outs as never);
        }
        await heartbeats.delete!(beat.id, beat.outs!);
        for (const created of [datadog, alerts, hook]) await integrations.delete!(created.id, created.outs!);
        await teams.delete!(team.id, team.outs!);

        expect(fake.refusals).toEqual([]);
        expect(fake.requests.length).toBeGreaterThan(15);
        expect(fake.requests.every((r) => r.authorization === `GenieKey ${KEY}`)).toBe(true);
    });

    it("the mail-path heartbeat name of every environment name the config allows passes Opsgenie's name rule", () => {
        // stack-config: environment is ^[a-z][a-z0-9-]{0,11}$.
        for (const environment of ["a", "dev", "prod", "stg-2", "abcdefghijkl", "a-----------"]) {
            const name = heartbeatName(environment);
            expect(name).toMatch(new RegExp(CONFIG_CONTRACT.heartbeats.name.pattern));
            expect(name.length).toBeLessThanOrEqual(CONFIG_CONTRACT.heartbeats.name.maxChars);
            expect(api.heartbeatFields({ name, interval: 30, intervalUnit: "minutes" }).name).toBe(name);
        }
    });
});

describe("the outgoing Webhook sends ack-webhook exactly what it acts on", () => {
    let receiver: http.Server;
    let receiverUrl: string;
    let received: { headers: http.IncomingHttpHeaders; body: string }[];
    beforeAll(async () => {
        receiver = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (chunk: Buffer) => chunks.push(chunk));
            req.on("end", () => {
                received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
                res.writeHead(200).end();
            });
        });
        await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
        receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    beforeEach(() => {
        received = [];
    });

    const alert = JSON.parse(webhookSample("acknowledge.json")).alert as Record<string, unknown>;

    it("posts Acknowledge and Close, with the token header, and nothing for Create, AddNote or UnAcknowledge", async () => {
        const integrations = opsgenieApiIntegrationProvider(noWait);
        const hook = await integrations.create({
            name: "alertline-dev-ack",
            type: "Webhook",
            webhookUrl: receiverUrl,
            headers: { "X-Alertline-Token": "token-1" },
            forwardedActions: CLEARING_ACTIONS.map(api.forwardedActionFor),
            connection: { apiKey: KEY, apiUrl: base },
        });
        for (const action of ["Create", "Acknowledge", "AddNote", "UnAcknowledge", "Close"]) await fake.fireAlertAction(action, alert);

        expect(received.map((r) => JSON.parse(r.body).action)).toEqual(["Acknowledge", "Close"]);
        for (const call of received) {
            expect(call.headers["x-alertline-token"]).toBe("token-1");
            const event = parseWebhookEvent(call.body, { environment: "dev" });
            expect(event).toMatchObject({ kind: "clear", alias: alert.alias, towers: ["tokyo-ops"] });
            expect(JSON.parse(call.body)).toMatchObject({ integrationId: hook.id, integrationName: "alertline-dev-ack" });
        }
    });

    it("every action ack-webhook clears on maps to an Opsgenie action, and the rest stay out", () => {
        const forwarded = CLEARING_ACTIONS.map(api.forwardedActionFor);
        expect(forwarded).toEqual(["acknowledge", "close"]);
        const ignored = (Object.values(api.FORWARDED_ACTIONS) as string[]).filter((action) => !(CLEARING_ACTIONS as readonly string[]).includes(action));
        for (const action of ignored) {
            expect(parseWebhookEvent(JSON.stringify({ action, alert: { alias: "a", alertId: "i" } }))).toMatchObject({ kind: "ignore" });
            expect(forwarded).not.toContain(api.forwardedActionFor(action));
        }
    });

    it("the documented payload shapes parse: Acknowledge and Close clear their alias on the tagged towers, AddNote is ignored", () => {
        expect(parseWebhookEvent(webhookSample("acknowledge.json"), { environment: "dev" })).toMatchObject({ kind: "clear", action: "Acknowledge", alias: "zabbix:web-01.tokyo:cpu-load", towers: ["tokyo-ops"], user: "hanako.sato@example.co.jp" });
        expect(parseWebhookEvent(webhookSample("close.json"), { environment: "dev" })).toMatchObject({ kind: "clear", action: "Close", alias: "zabbix:db-02.osaka:disk-var", towers: ["tokyo-ops", "osaka-phn"] });
        expect(parseWebhookEvent(webhookSample("addnote.json"), { environment: "dev" })).toMatchObject({ kind: "ignore" });
    });
});

describe("the alert API: the sink accepts Opsgenie's documented bodies, refuses the rest, and alertline's client passes", () => {
    let sink: OnCallSink;
    beforeAll(async () => {
        // This block sends what Opsgenie refuses on purpose; alertline's own requests are checked to add no violation.
        sink = await startOnCallSink({ apiKey: KEY, violationsExpected: true });
    });
    afterAll(() => sink.close());

    const post = async (pathname: string, body: unknown, authorization = `GenieKey ${KEY}`, method = "POST") => {
        const response = await fetch(`${sink.url}${pathname}`, { method, headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(body) });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    it("takes the documented create and close bodies", async () => {
        expect(alertBodyProblems(sample("alert-create.request.json"))).toEqual({});
        expect(closeBodyProblems(sample("alert-close.request.json"))).toEqual({});
        expect((await post("/v2/alerts", sample("alert-create.request.json"))).status).toBe(202);
        expect((await post("/v2/alerts/zabbix%3Adb-02.osaka%3Adisk-var/close?identifierType=alias", sample("alert-close.request.json"))).status).toBe(202);
    });

    it.each([
        ["Bearer", `Bearer ${KEY}`],
        ["lower-case scheme", `geniekey ${KEY}`],
        ["two spaces", `GenieKey  ${KEY}`],
        ["Basic", `Basic ${Buffer.from(`:${KEY}`).toString("base64")}`],
    ])("refuses %s authentication with 401", async (_, authorization) => {
        expect((await post("/v2/alerts", { message: "m" }, authorization)).status).toBe(401);
    });

    it("refuses unknown fields, over-limit fields, an unknown path or method and a bad identifierType", async () => {
        expect((await post("/v2/alerts", { message: "m", severity: "P1" })).body.errors).toMatchObject({ severity: expect.stringMatching(/^severity is not a field of this request/) });
        expect((await post("/v2/alerts", { message: "m", tags: ["t".repeat(51)] })).body.errors).toEqual({ tags: "a tag is longer than 50 characters" });
        expect((await post("/v2/alerts", { message: "m", user: "u".repeat(101) })).body.errors).toEqual({ user: "user is 101 characters; the limit is 100" });
        expect((await post("/v2/alerts", { message: "m", actions: Array.from({ length: 11 }, (_, i) => `a${i}`) })).body.errors).toEqual({ actions: "11 actions; the limit is 10" });
        expect((await post("/v2/alerts/a/close?identifierType=alias", { source: "alertline", reason: "x" })).body.errors).toMatchObject({ reason: expect.stringMatching(/not a field/) });
        expect((await post("/v2/alerts/a/close?identifierType=name", {})).status).toBe(422);
        expect((await post("/v2/alert", { message: "m" })).status).toBe(404);
        expect((await post("/v2/alerts/a/close", {}, `GenieKey ${KEY}`, "PUT")).status).toBe(405);
    });

    it("alertline's client: an over-long alert, its close by alias and a heartbeat ping are all accepted", async () => {
        sink.requests.length = 0;
        sink.violations.length = 0;
        const client = createOnCallClient({ apiUrl: sink.url, apiKey: async () => KEY });
        const long = {
            message: "m".repeat(300),
            alias: "zabbix:web-01/cpu",
            priority: "P1" as const,
            description: "d".repeat(20_000),
            tags: [...Array.from({ length: 25 }, (_, i) => `tag-${i}`), "x".repeat(80)],
            details: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, "v".repeat(600)])),
            source: "s".repeat(150),
            entity: "e".repeat(600),
        };
        expect(await client.createAlert(long)).toEqual({ ok: true, status: 202 });
        expect(await client.closeAlert("zabbix:web-01/cpu", "n".repeat(30_000))).toEqual({ ok: true, status: 202 });
        expect(await client.pingHeartbeat(heartbeatName("dev"))).toEqual({ ok: true, status: 202 });
        const pong = await fetch(`${sink.url}/v2/heartbeats/${heartbeatName("dev")}/ping`, { headers: { authorization: `GenieKey ${KEY}` } });
        const documented = sample("heartbeat-ping.response.json");
        expect(await pong.json()).toEqual({ result: documented.result, took: expect.any(Number), requestId: expect.any(String) });
        sink.requests.pop();
        expect(sink.requests.map((r) => [r.action, r.status])).toEqual([
            ["create-alert", 202],
            ["close-alert", 202],
            ["ping-heartbeat", 202],
        ]);
        expect(sink.violations).toEqual([]);
    });
});

describe("regions", () => {
    it("US and EU are separate hosts, and a key is only known in its own region", async () => {
        expect(new URL(api.opsgenieApiUrl("eu")).host).toBe("api.eu.opsgenie.com");
        expect(onCallApiUrl("opsgenie", "eu")).toBe(api.opsgenieApiUrl("eu"));
        expect(onCallApiUrl("opsgenie", "us")).toBe(api.opsgenieApiUrl("us"));
        // Two stand-ins for two regions, each knowing only its own account's key: the EU key sent to the US host is refused.
        const eu = new FakeOpsgenie("eu-account-key");
        const euUrl = await eu.start();
        try {
            const teams = opsgenieTeamProvider(noWait);
            const message = await teams.create({ name: "alertline-dev", connection: { apiKey: "eu-account-key", apiUrl: base } }).then(
                () => "created",
                (error: Error) => error.message,
            );
            expect(message).toMatch(/answered 401: Could not authenticate — .*connection\.apiUrl is the account's region \(US https:\/\/api\.opsgenie\.com, EU https:\/\/api\.eu\.opsgenie\.com\)/);
            expect(message).not.toContain("eu-account-key");
            expect(fake.teams.size).toBe(0);
            await teams.create({ name: "alertline-dev", connection: { apiKey: "eu-account-key", apiUrl: euUrl } });
            expect(eu.teams.size).toBe(1);
        } finally {
            await eu.stop();
        }
    });
});
