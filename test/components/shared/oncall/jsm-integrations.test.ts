import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsmApiIntegrationProvider, jsmIntegrationActionProvider, type JsmApiIntegrationState, type JsmIntegrationActionState } from "../../../../components/shared/oncall/jsm";
import * as api from "../../../../components/shared/oncall/jsm-api";
import { startOnCallSink, type OnCallSink } from "../../../../tools/local/oncall";

/**
 * The JSM integration and integration-action providers against the on-call stand-in's JSM ops REST
 * API (tools/local/jsm-ops.ts; sources in test/fixtures/contracts/README.md), over
 * real HTTP: the bar (create → refresh without diff → change → delete; deleted by hand →
 * recreated; wrong auth scheme or unknown field refused). Retries wait no time here (`sleep`).
 */

const CLOUD_ID = "3a015c30-bac7-4abc-97a1-50c1feea188a";
const EMAIL = "oncall-bot@example.jp";
const TOKEN = "ATATT3xFfGF0-integration-test-token";
const TEAM_ID = "4b26961a-a837-49d2-a1fe-0973013e3c3b";
const ACK_TOKEN = "s3cr3tAckTokenFromRandomPassword0123456789abcdef";

let sink: OnCallSink;
let connection: api.JsmConnection;
let waits: number[];
const options = () => ({ sleep: async (ms: number) => void waits.push(ms) });

beforeEach(async () => {
    waits = [];
    sink = await startOnCallSink({ jsmOps: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN, teams: [{ id: TEAM_ID, name: "Ops Tokyo" }] } });
    connection = { apiUrl: sink.gatewayUrl, cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN };
});
afterEach(async () => {
    await sink.close();
});

const integrationInputs = (overrides: Partial<JsmApiIntegrationState> = {}): JsmApiIntegrationState => ({
    name: "alertline-dev-datadog",
    type: "Datadog",
    enabled: true,
    teamId: TEAM_ID,
    typeSpecificProperties: {},
    deleteDefaultActions: false,
    connection,
    ...overrides,
});

const webhookInputs = (overrides: Partial<JsmApiIntegrationState> = {}): JsmApiIntegrationState =>
    integrationInputs({
        name: "alertline-dev-ack",
        type: "Webhook",
        typeSpecificProperties: { url: "https://ack.example.lambda-url.ap-northeast-1.on.aws/", headers: { "X-Alertline-Token": ACK_TOKEN }, addAlertDescription: true, addAlertDetails: true },
        deleteDefaultActions: true,
        ...overrides,
    });

describe("JsmApiIntegration over JSM's ops REST API", () => {
    it("create → refresh shows no diff → change updates in place → delete removes it, with the key from the create answer kept", async () => {
        const provider = jsmApiIntegrationProvider(options());
        const inputs = integrationInputs();
        const created = await provider.create!(inputs);
        const stored = sink.jsmOps.integrations();
        expect(stored).toEqual([expect.objectContaining({ id: created.id, name: "alertline-dev-datadog", type: "Datadog", enabled: true, teamId: TEAM_ID })]);
        expect(created.outs!.apiKey).toBe(stored[0].apiKey);
        expect(sink.jsmOps.requests.find((r) => r.action === "create-integration")).toMatchObject({ method: "POST", path: `/jsm/ops/api/${CLOUD_ID}/v1/integrations`, auth: "basic", status: 201 });

        const refreshed = await provider.read!(created.id, created.outs);
        expect(refreshed.id).toBe(created.id);
        // GET never returns the key; state keeps the one Datadog uses.
        expect((refreshed.props as JsmApiIntegrationState).apiKey).toBe(stored[0].apiKey);
        expect(await provider.diff!(created.id, refreshed.props as JsmApiIntegrationState, inputs)).toMatchObject({ changes: false, replaces: [] });

        const changed = integrationInputs({ name: "alertline-dev-datadog-2", enabled: false });
        expect(await provider.diff!(created.id, refreshed.props as JsmApiIntegrationState, changed)).toMatchObject({ changes: true, replaces: [] });
        const updated = await provider.update!(created.id, refreshed.props as JsmApiIntegrationState, changed);
        expect(sink.jsmOps.requests.find((r) => r.action === "update-integration")).toMatchObject({ method: "PATCH", status: 200 });
        expect(sink.jsmOps.integrations()[0]).toMatchObject({ name: "alertline-dev-datadog-2", enabled: false });
        expect(updated.outs!.apiKey).toBe(stored[0].apiKey);

        await provider.delete!(created.id, updated.outs as JsmApiIntegrationState);
        expect(sink.jsmOps.integrations()).toEqual([]);
        await provider.delete!(created.id, updated.outs as JsmApiIntegrationState);
        expect(sink.jsmOps.requests.filter((r) => r.action === "delete-integration").map((r) => r.status)).toEqual([204, 404]);
        expect(sink.jsmOps.violations).toEqual([]);
    });

    it("reads an integration deleted by hand as gone, so the next up creates it again with a new key", async () => {
        const provider = jsmApiIntegrationProvider(options());
        const created = await provider.create!(integrationInputs());
        expect(sink.jsmOps.deleteIntegrationByHand(created.id)).toBe(true);
        expect(await provider.read!(created.id, created.outs)).toEqual({ id: "" });
        const again = await provider.create!(integrationInputs());
        expect(again.id).not.toBe(created.id);
        expect(again.outs!.apiKey).not.toBe(created.outs!.apiKey);
        expect(sink.jsmOps.integrations().map((i) => i.name)).toEqual(["alertline-dev-datadog"]);
    });

    it("replaces the integration, old one first, when its type or team changes; a new token changes nothing in JSM", async () => {
        const provider = jsmApiIntegrationProvider(options());
        const olds = integrationInputs();
        expect(await provider.diff!("x", olds, integrationInputs({ type: "API" }))).toMatchObject({ replaces: ["type"], deleteBeforeReplace: true });
        expect(await provider.diff!("x", olds, integrationInputs({ teamId: "another-team" }))).toMatchObject({ replaces: ["teamId"], deleteBeforeReplace: true });
        const rotated = integrationInputs({ connection: { ...connection, apiToken: "ATATT-rotated-token-000000" } });
        expect(await provider.diff!("x", olds, rotated)).toMatchObject({ changes: true, replaces: [] });
        const created = await provider.create!(olds);
        const before = sink.jsmOps.requests.length;
        await provider.update!(created.id, created.outs!, rotated);
        expect(sink.jsmOps.requests.length).toBe(before);
    });

    it("creates the outgoing webhook without JSM's default actions, and shows a header changed in JSM as drift", async () => {
        const provider = jsmApiIntegrationProvider(options());
        const created = await provider.create!(webhookInputs());
        expect(created.outs!.apiKey).toBeUndefined();
        expect(sink.jsmOps.integrationActions(created.id)).toEqual([]);
        expect(sink.jsmOps.integrations()[0].typeSpecificProperties).toEqual(webhookInputs().typeSpecificProperties);
        const refreshed = await provider.read!(created.id, created.outs);
        expect((await provider.diff!(created.id, refreshed.props as JsmApiIntegrationState, webhookInputs())).changes).toBe(false);

        const res = await fetch(api.requestUrl(connection, api.getIntegrationRequest(created.id)), {
            method: "PATCH",
            headers: api.requestHeaders(connection, { method: "PATCH", path: "", body: {} }),
            body: JSON.stringify({ typeSpecificProperties: { url: "https://elsewhere.example/", headers: {} } }),
        });
        expect(res.status).toBe(200);
        const drifted = await provider.read!(created.id, created.outs);
        expect((drifted.props as JsmApiIntegrationState).typeSpecificProperties).toEqual({ url: "https://elsewhere.example/", headers: {} });
        expect((await provider.diff!(created.id, drifted.props as JsmApiIntegrationState, webhookInputs())).changes).toBe(true);
        await provider.update!(created.id, drifted.props as JsmApiIntegrationState, webhookInputs());
        expect(sink.jsmOps.integrations()[0].typeSpecificProperties).toEqual(webhookInputs().typeSpecificProperties);
    });

    it("retries 429 and 503 with backoff, then succeeds; a 4xx names the field JSM refused, without the webhook's token", async () => {
        const script = [{ status: 429, headers: { "retry-after": "2" } }, { status: 503 }];
        sink.jsmOps.script((request) => (request.action === "create-integration" ? script.shift() : undefined));
        await jsmApiIntegrationProvider(options()).create!(integrationInputs());
        expect(waits).toEqual([2000, 2000]);
        expect(sink.jsmOps.requests.filter((r) => r.action === "create-integration").map((r) => r.status)).toEqual([429, 503, 201]);

        sink.jsmOps.script((request) =>
            request.action === "create-integration" ? { status: 422, body: { errors: [{ title: `typeSpecificProperties rejected: header ${ACK_TOKEN} too long` }] } } : undefined,
        );
        const failure = jsmApiIntegrationProvider(options()).create!(webhookInputs());
        await expect(failure).rejects.toThrow(/^JSM POST \/v1\/integrations answered 422: typeSpecificProperties rejected: header \[redacted\] too long — JSM refused `typeSpecificProperties`/);
        await expect(failure).rejects.not.toThrow(ACK_TOKEN);
    });

    it("passes on JSM's refusal of a webhook property it does not know, naming the field, and creates nothing", async () => {
        const inputs = webhookInputs({ typeSpecificProperties: { url: "https://ack.example/", headers: {}, signingSecret: "x" } });
        await expect(jsmApiIntegrationProvider(options()).create!(inputs)).rejects.toThrow(
            /^JSM POST \/v1\/integrations answered 422: Unrecognized field "typeSpecificProperties\.signingSecret" for a Webhook integration — JSM refused `typeSpecificProperties`/,
        );
        expect(sink.jsmOps.integrations()).toEqual([]);
        expect(waits).toEqual([]);
        expect(sink.jsmOps.violations).toHaveLength(1);
        // The one refusal this test provokes; cleared so closing the sink still checks that nothing else was refused.
        sink.jsmOps.violations.length = 0;
    });

    it("deletes the integration again when the create answer holds no key, and says what to check", async () => {
        sink.jsmOps.script((request) => (request.action === "create-integration" ? { status: 201, body: { id: "int-without-key", name: "alertline-dev-datadog", type: "Datadog", enabled: true, teamId: TEAM_ID } } : undefined));
        await expect(jsmApiIntegrationProvider(options()).create!(integrationInputs())).rejects.toThrow(/held no apiKey.*alertline deleted integration int-without-key again/);
        expect(sink.jsmOps.requests.filter((r) => r.action === "delete-integration").map((r) => r.integrationId)).toEqual(["int-without-key"]);
    });

    it("refuses bad fields before sending anything, naming them", async () => {
        const provider = jsmApiIntegrationProvider(options());
        await expect(provider.create!(integrationInputs({ type: "Nagios" }))).rejects.toThrow(/type "Nagios" is not one alertline creates/);
        await expect(provider.create!(integrationInputs({ name: "x".repeat(251) }))).rejects.toThrow(/name .* is invalid: use 1 to 250/);
        await expect(provider.create!(webhookInputs({ typeSpecificProperties: { url: "ftp://x" } }))).rejects.toThrow(/typeSpecificProperties\.url "ftp:\/\/x" is not an http\(s\) URL/);
        expect(sink.jsmOps.requests).toEqual([]);
    });
});

describe("JsmIntegrationAction over JSM's ops REST API", () => {
    const actionInputs = (integrationId: string, overrides: Partial<JsmIntegrationActionState> = {}): JsmIntegrationActionState => ({
        integrationId,
        name: "Acknowledge to ack-webhook",
        type: "acknowledge",
        domain: "alert",
        direction: "outgoing",
        groupType: "forwarding",
        enabled: true,
        connection,
        ...overrides,
    });

    it("create → refresh shows no diff → change updates in place → delete; deleted by hand reads as gone", async () => {
        const webhook = await jsmApiIntegrationProvider(options()).create!(webhookInputs());
        const provider = jsmIntegrationActionProvider(options());
        const inputs = actionInputs(webhook.id);
        const created = await provider.create!(inputs);
        expect(sink.jsmOps.integrationActions(webhook.id)).toEqual([expect.objectContaining({ id: created.id, type: "acknowledge", direction: "outgoing", domain: "alert", enabled: true })]);

        const refreshed = await provider.read!(created.id, created.outs);
        expect(await provider.diff!(created.id, refreshed.props as JsmIntegrationActionState, inputs)).toMatchObject({ changes: false, replaces: [] });

        const changed = actionInputs(webhook.id, { name: "Close to ack-webhook", type: "close" });
        expect(await provider.diff!(created.id, refreshed.props as JsmIntegrationActionState, changed)).toMatchObject({ changes: true, replaces: [] });
        await provider.update!(created.id, refreshed.props as JsmIntegrationActionState, changed);
        expect(sink.jsmOps.integrationActions(webhook.id)[0]).toMatchObject({ type: "close", name: "Close to ack-webhook" });
        expect(await provider.diff!(created.id, changed, actionInputs(webhook.id, { direction: "incoming" }))).toMatchObject({ replaces: ["direction"] });

        expect(sink.jsmOps.deleteIntegrationActionByHand(webhook.id, created.id)).toBe(true);
        expect(await provider.read!(created.id, changed)).toEqual({ id: "" });
        const again = await provider.create!(changed);
        await provider.delete!(again.id, changed);
        expect(sink.jsmOps.integrationActions(webhook.id)).toEqual([]);
        // The integration deleted by hand takes its actions with it: gone, and deleting it is a no-op.
        expect(sink.jsmOps.deleteIntegrationByHand(webhook.id)).toBe(true);
        expect(await provider.read!(again.id, changed)).toEqual({ id: "" });
        await provider.delete!(again.id, changed);
        expect(sink.jsmOps.violations).toEqual([]);
    });
});
