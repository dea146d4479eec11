import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsmHeartbeatProvider, jsmTeamProvider } from "../../../components/shared/oncall/jsm";
import { createOnCallClient } from "../../../functions/shared/oncall-alerts";
import { heartbeatBodyProblems } from "../../../tools/local/jsm-ops";
import { startOnCallSink, type OnCallSink } from "../../../tools/local/oncall";

/**
 * The JSM stand-in (the on-call sink's JSM modes) refuses what JSM refuses and accepts what JSM's
 * reference documents (fixtures: test/fixtures/contracts/jsm, sources in their README), and
 * alertline's real requests (the providers, the function's ping, the alert client) pass it.
 */

const fixture = (file: string) => JSON.parse(readFileSync(path.join(__dirname, "../../fixtures/contracts/jsm", file), "utf8"));
const CLOUD_ID = "3a015c30-bac7-4abc-97a1-50c1feea188a";
const EMAIL = "oncall-bot@example.jp";
const TOKEN = "ATATT3xFfGF0-contract-test-token";
const TEAM_ID = "4b26961a-a837-49d2-a1fe-0973013e3c3b";
const GENIE_KEY = "f3a9c1d2-5e6b-4a7c-8d9e-0a1b2c3d4e5f";
const BASIC = `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString("base64")}`;

let sink: OnCallSink;
beforeEach(async () => {
    sink = await startOnCallSink({ violationsExpected: true, jsmOps: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN, teams: [{ id: TEAM_ID, name: "Ops Tokyo" }] } });
});
afterEach(async () => {
    await sink.close();
});

const ops = (rest: string, cloudId = CLOUD_ID) => `${sink.gatewayUrl}/jsm/ops/api/${cloudId}${rest}`;
async function call(url: string, init: { method?: string; authorization?: string | null; body?: unknown } = {}): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (init.authorization !== null) headers.authorization = init.authorization ?? BASIC;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(url, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

describe("the JSM stand-in accepts what JSM documents", () => {
    it("takes the reference's Create heartbeat example and lists it back with the documented fields", async () => {
        const created = await call(ops(`/v1/teams/${TEAM_ID}/heartbeats`), { method: "POST", body: fixture("heartbeat-create-request.json") });
        expect(created.status).toBe(201);
        const listed = await call(ops(`/v1/teams/${TEAM_ID}/heartbeats?name=${encodeURIComponent("DNS Server Checker")}`));
        expect(listed.status).toBe(200);
        const documented = fixture("heartbeats-list.json");
        expect(Object.keys(listed.body).sort()).toEqual(Object.keys(documented).sort());
        expect(Object.keys(listed.body.values[0]).sort()).toEqual(Object.keys(documented.values[0]).sort());
        expect(listed.body.values[0]).toMatchObject({ name: "DNS Server Checker", interval: 5, intervalUnit: "minutes", ownerTeamId: TEAM_ID });
    });

    it("serves every operation the fixture lists from JSM's reference, with the documented auth", async () => {
        const documented = fixture("operations.json");
        await call(ops(`/v1/teams/${TEAM_ID}/heartbeats`), { method: "POST", body: { name: "existing", interval: 5, intervalUnit: "minutes" } });
        const answers: [string, number][] = [];
        for (const op of documented.operations as { name: string; method: string; path: string; query?: string[] }[]) {
            const query = op.query?.includes("name") ? "?name=existing" : "";
            const body = op.method === "POST" ? { name: "created", interval: 5, intervalUnit: "minutes" } : op.method === "PATCH" ? { interval: 6 } : undefined;
            answers.push([op.name, (await call(ops(`${op.path.replace("{teamId}", TEAM_ID)}${query}`), { method: op.method, body })).status]);
        }
        expect(answers).toEqual([
            ["List teams", 200],
            ["List heartbeats", 200],
            ["Create heartbeat", 201],
            ["Update heartbeat", 200],
            ["Delete heartbeat", 204],
            ["Ping Heartbeat", 202],
        ]);
        const genie = `GenieKey ${GENIE_KEY}`;
        const events = documented.integrationEvents.operations as { method: string; path: string }[];
        const create = await call(`${sink.jsmUrl}${events[0].path}`, { method: events[0].method, authorization: genie, body: { message: "m", alias: "a" } });
        const close = await call(`${sink.jsmUrl}${events[1].path.replace("{identifier}", "a")}?identifierType=alias`, { method: events[1].method, authorization: genie, body: {} });
        expect([create.status, close.status]).toEqual([202, 202]);
    });

    it("lists teams in the shape of the teams fixture", async () => {
        const listed = await call(ops("/v1/teams"));
        const documented = fixture("teams-list.json");
        expect(Object.keys(listed.body).sort()).toEqual(Object.keys(documented).sort());
        expect(Object.keys(listed.body.values[0]).sort()).toEqual(Object.keys(documented.values[0]).sort());
    });

    it("answers a ping of any name, as JSM processes pings without checking the heartbeat exists", async () => {
        const ping = await call(ops(`/v1/teams/${TEAM_ID}/heartbeats/ping?name=unknown-heartbeat`));
        expect(ping.status).toBe(202);
        expect(sink.jsmOps.pings).toEqual([{ teamId: TEAM_ID, name: "unknown-heartbeat" }]);
    });
});

describe("the JSM stand-in refuses what JSM refuses, with JSM's error shape", () => {
    const refusals: [string, () => Promise<{ status: number; body: any }>, number, RegExp][] = [
        ["a GenieKey on the ops REST API", () => call(ops("/v1/teams"), { authorization: `GenieKey ${GENIE_KEY}` }), 401, /GenieKey is not accepted/],
        ["no Authorization header", () => call(ops("/v1/teams"), { authorization: null }), 401, /Basic auth/],
        ["a wrong API token", () => call(ops("/v1/teams"), { authorization: `Basic ${Buffer.from(`${EMAIL}:wrong`).toString("base64")}` }), 401, /e-mail or API token is wrong/],
        ["another site's cloud ID", () => call(ops("/v1/teams", "11111111-2222-4333-8444-555555555555")), 404, /cloud ID/],
        ["an unknown path", () => call(ops("/v2/heartbeats")), 404, /No such ops REST API resource/],
        ["an unknown method", () => call(ops(`/v1/teams/${TEAM_ID}/heartbeats`), { method: "PUT", body: {} }), 405, /use GET, POST, PATCH, DELETE/],
        ["a POST ping", () => call(ops(`/v1/teams/${TEAM_ID}/heartbeats/ping?name=x`), { method: "POST" }), 405, /use GET/],
        ["an unknown team", () => call(ops("/v1/teams/no-such-team/heartbeats")), 404, /Team no-such-team not found/],
        ["an unknown field", () => call(ops(`/v1/teams/${TEAM_ID}/heartbeats`), { method: "POST", body: { ...fixture("heartbeat-create-request.json"), ownerTeam: { id: TEAM_ID } } }), 422, /Unrecognized field "ownerTeam"/],
        ["a missing required field", () => call(ops(`/v1/teams/${TEAM_ID}/heartbeats`), { method: "POST", body: { name: "x", interval: 5 } }), 422, /intervalUnit is required/],
        ["a wrong type", () => call(ops(`/v1/teams/${TEAM_ID}/heartbeats`), { method: "POST", body: { name: "x", interval: "5", intervalUnit: "minutes" } }), 422, /interval must be a whole number/],
        ["an update without the heartbeat's name", () => call(ops(`/v1/teams/${TEAM_ID}/heartbeats`), { method: "PATCH", body: { interval: 5 } }), 400, /name is required/],
        ["a renaming update", async () => {
            await call(ops(`/v1/teams/${TEAM_ID}/heartbeats`), { method: "POST", body: { name: "a", interval: 5, intervalUnit: "minutes" } });
            return call(ops(`/v1/teams/${TEAM_ID}/heartbeats?name=a`), { method: "PATCH", body: { name: "b" } });
        }, 422, /name cannot be changed/],
        ["a ping through the integration events API", () => call(`${sink.jsmUrl}/v2/heartbeats/x/ping`, { authorization: `GenieKey ${GENIE_KEY}` }), 404, /Could not find handler/],
        ["Basic auth on the integration events API", () => call(`${sink.jsmUrl}/v2/alerts`, { method: "POST", body: { message: "m" } }), 401, /Could not authenticate/],
    ];
    for (const [what, send, status, text] of refusals) {
        it(`refuses ${what} with ${status}`, async () => {
            const answer = await send();
            expect(answer.status).toBe(status);
            const message = answer.body.errors?.[0]?.title ?? answer.body.message;
            expect(message).toMatch(text);
            if (answer.body.errors !== undefined) expect(Object.keys(answer.body)).toEqual(["errors"]);
        });
    }

    it("lists every field problem of a heartbeat body at once", () => {
        expect(heartbeatBodyProblems({ name: "", extra: 1 }, "create")).toEqual(['name must be a non-empty string', 'Unrecognized field "extra"', "interval is required", "intervalUnit is required"]);
        expect(heartbeatBodyProblems({ enabled: false }, "update")).toEqual([]);
    });
});

describe("alertline's real requests pass the JSM stand-in", () => {
    it("the team lookup, the heartbeat's whole life, the function's ping and the alert client", async () => {
        const connection = { apiUrl: sink.gatewayUrl, cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN };
        const team = await jsmTeamProvider().create!({ displayName: "Ops Tokyo", connection });
        const provider = jsmHeartbeatProvider();
        const inputs = { name: "alertline-dev-mail-path", interval: 30, intervalUnit: "minutes" as const, teamId: team.id, alertTags: ["canary"], connection };
        const created = await provider.create!(inputs);
        const read = await provider.read!(created.id, created.outs);
        await provider.update!(created.id, read.props!, { ...inputs, interval: 40 });

        const client = createOnCallClient({
            apiUrl: sink.jsmUrl,
            apiKey: async () => GENIE_KEY,
            jsmHeartbeat: { opsApiUrl: `${sink.gatewayUrl}/jsm/ops/api/${CLOUD_ID}`, teamId: team.id, email: EMAIL, apiToken: async () => TOKEN },
        });
        expect(await client.pingHeartbeat("alertline-dev-mail-path")).toEqual({ ok: true, status: 202 });
        expect(await client.createAlert({ message: "disk full", alias: "web-1/disk", priority: "P1" })).toEqual({ ok: true, status: 202 });
        expect(await client.closeAlert("web-1/disk")).toEqual({ ok: true, status: 202 });
        await provider.delete!(created.id, { ...inputs, interval: 40 });

        expect(sink.jsmOps.requests.map((r) => [r.action, r.status, r.auth])).toEqual([
            ["list-teams", 200, "basic"],
            ["create-heartbeat", 201, "basic"],
            ["list-heartbeats", 200, "basic"],
            ["update-heartbeat", 200, "basic"],
            ["ping-heartbeat", 202, "basic"],
            ["delete-heartbeat", 204, "basic"],
        ]);
        expect(sink.requests.map((r) => [r.api, r.action, r.status])).toEqual([
            ["jsm", "create-alert", 202],
            ["jsm", "close-alert", 202],
        ]);
        expect(sink.jsmOps.heartbeats()).toEqual([]);
    });
});

describe("the JSM stand-in's integrations: what the Atlassian provider sends passes, what JSM refuses is refused", () => {
    const integrations = (rest = "") => ops(`/v1/integrations${rest}`);

    it("takes the Atlassian provider's create body (answer-only id and apiKey included) and answers the key once", async () => {
        const created = await call(integrations(), { method: "POST", body: fixture("integration-create-request.json") });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({ name: "api integration", type: "API", enabled: true, teamId: TEAM_ID, typeSpecificProperties: { suppressNotifications: false }, apiKey: expect.any(String) });
        const read = await call(integrations(`/${created.body.id}`));
        expect(read.status).toBe(200);
        expect(read.body.apiKey).toBeUndefined();
        const listed = await call(integrations());
        expect(listed.body.values).toEqual([{ id: created.body.id, name: "api integration", type: "API", enabled: true, teamId: TEAM_ID }]);
        const action = await call(integrations(`/${created.body.id}/actions`), { method: "POST", body: fixture("integration-action-create-request.json") });
        expect(action.status).toBe(201);
        expect(action.body).toMatchObject({ id: expect.any(String), type: "create", direction: "incoming", domain: "alert" });
        expect(sink.jsmOps.violations).toEqual([]);
    });

    it("refuses an integration key's GenieKey scheme on the ops REST API", async () => {
        const res = await call(integrations(), { method: "POST", authorization: `GenieKey ${GENIE_KEY}`, body: { name: "x", type: "API", teamId: TEAM_ID } });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ errors: [{ title: expect.stringMatching(/GenieKey is not accepted/) }] });
        expect(sink.jsmOps.integrations()).toEqual([]);
    });

    it("refuses an unknown field and a missing type, naming them; a wrong method is 405", async () => {
        const res = await call(integrations(), { method: "POST", body: { name: "x", teamId: TEAM_ID, ownerTeam: { id: TEAM_ID } } });
        expect(res.status).toBe(422);
        expect(res.body.errors[0].title).toContain('Unrecognized field "ownerTeam"');
        expect(res.body.errors[0].title).toContain("type is required");
        expect((await call(integrations(), { method: "PUT", body: {} })).status).toBe(405);
        const action = await call(integrations("/no-such/actions"), { method: "POST", body: { type: "close", name: "c", domain: "alert", direction: "sideways" } });
        expect(action.status).toBe(404);
        expect(sink.jsmOps.violations).toHaveLength(2);
    });

    it("refuses a change of team after creation, and an unknown webhook property; a new Webhook carries default outgoing actions", async () => {
        const created = await call(integrations(), { method: "POST", body: { name: "ack", type: "Webhook", teamId: TEAM_ID, typeSpecificProperties: { url: "https://x.example/" } } });
        expect(created.status).toBe(201);
        expect(created.body.apiKey).toBeUndefined();
        expect(sink.jsmOps.integrationActions(created.body.id).map((a) => [a.direction, a.type])).toContainEqual(["outgoing", "acknowledge"]);
        expect((await call(integrations(`/${created.body.id}`), { method: "PATCH", body: { teamId: "another" } })).status).toBe(422);
        const bad = await call(integrations(`/${created.body.id}`), { method: "PATCH", body: { typeSpecificProperties: { url: "https://x.example/", secretHeader: "a" } } });
        expect(bad.status).toBe(422);
        expect(bad.body.errors[0].title).toContain('Unrecognized field "typeSpecificProperties.secretHeader"');
        const noUrl = await call(integrations(), { method: "POST", body: { name: "ack2", type: "Webhook", teamId: TEAM_ID } });
        expect(noUrl.status).toBe(422);
        expect(noUrl.body.errors[0].title).toContain("typeSpecificProperties.url is required");
    });
});
