import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OpsgenieConnection } from "../../../../components/shared/oncall/opsgenie-api";
import { opsgenieApiIntegrationProvider, opsgenieHeartbeatProvider, opsgenieTeamProvider, type OpsgenieHeartbeatState } from "../../../../components/shared/oncall/opsgenie";
import { FakeOpsgenie } from "../../../fixtures/opsgenie/fake-opsgenie";

const KEY = "8d6f5c1e-2b7a-4c3d-9e0f-a1b2c3d4e5f6";
const fake = new FakeOpsgenie(KEY);
let connection: OpsgenieConnection;
let sleeps: number[];
const options = { sleep: async (ms: number) => void sleeps.push(ms) };
const teams = opsgenieTeamProvider(options);
const integrations = opsgenieApiIntegrationProvider(options);
const heartbeats = opsgenieHeartbeatProvider(options);

beforeAll(async () => {
    connection = { apiKey: KEY, apiUrl: await fake.start() };
});
afterAll(() => fake.stop());
beforeEach(() => {
    fake.reset();
    sleeps = [];
});

/** A loopback URL where nothing listens: a port that was just bound and released. */
async function closedPortUrl(): Promise<string> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}`;
}

/** Runs the operation and returns its error message (fails the test if it succeeds). */
async function failure(operation: Promise<unknown>): Promise<string> {
    const error = await operation.then(
        () => undefined,
        (e: unknown) => e as Error,
    );
    expect(error, "expected the operation to fail").toBeInstanceOf(Error);
    return error!.message;
}

describe("team provider", () => {
    it("creates a team with POST /v2/teams and the GenieKey header, and returns Opsgenie's id", async () => {
        const result = await teams.create({ name: "alertline-dev", description: "on-call for dev", connection });
        const [team] = fake.teams.values();
        expect(result.id).toBe(team.id);
        expect(result.outs).toEqual({ name: "alertline-dev", description: "on-call for dev", connection });
        expect(fake.requests).toEqual([
            {
                method: "POST",
                path: "/v2/teams",
                query: {},
                authorization: `GenieKey ${KEY}`,
                contentType: "application/json; charset=utf-8",
                body: { name: "alertline-dev", description: "on-call for dev" },
            },
        ]);
    });

    it("falls back to reading the team by name when the create answer has no id", async () => {
        fake.script("POST", "/v2/teams", { status: 201, body: { result: "Created", took: 0.1, requestId: "r" } });
        const existing = fake.addTeam("alertline-dev");
        const result = await teams.create({ name: "alertline-dev", connection });
        expect(result.id).toBe(existing.id);
        expect(fake.requests.map((r) => [r.method, r.path, r.query.identifierType])).toEqual([
            ["POST", "/v2/teams", undefined],
            ["GET", "/v2/teams/alertline-dev", "name"],
        ]);
    });

    it("reports a duplicate name with operation, status and Opsgenie's message, without the key", async () => {
        fake.addTeam("alertline-dev");
        const message = await failure(teams.create({ name: "alertline-dev", connection }));
        expect(message).toMatch(/^Opsgenie POST \/v2\/teams answered 422: .*There is already one Team with same name.* — /);
        expect(message).not.toContain(KEY);
    });

    it("stops on a bad name before sending anything", async () => {
        const message = await failure(teams.create({ name: "on/call", connection }));
        expect(message).toMatch(/team name "on\/call" is invalid/);
        expect(fake.requests).toEqual([]);
    });

    it("reads the live name and description back", async () => {
        const team = fake.addTeam("renamed-in-ui", "changed by hand");
        const result = await teams.read!(team.id, { name: "alertline-dev", description: "", connection });
        expect(result).toEqual({ id: team.id, props: { name: "renamed-in-ui", description: "changed by hand", connection } });
        expect(fake.requests.map((r) => [r.method, r.path, r.query])).toEqual([["GET", `/v2/teams/${team.id}`, { identifierType: "id" }]]);
    });

    it("reads a team that no longer exists as an empty id, which the engine treats as deleted", async () => {
        const result = await teams.read!("0b5c6f0e-gone", { name: "alertline-dev", description: "", connection });
        expect(result).toEqual({ id: "" });
    });

    it("updates name and description with PATCH /v2/teams/{id}", async () => {
        const team = fake.addTeam("alertline-dev", "old");
        const result = await teams.update!(team.id, { name: "alertline-dev", description: "old", connection }, { name: "alertline-dev2", description: "new", connection });
        expect(fake.requests.map((r) => [r.method, r.path, r.body])).toEqual([["PATCH", `/v2/teams/${team.id}`, { name: "alertline-dev2", description: "new" }]]);
        expect(fake.teams.get(team.id)).toMatchObject({ name: "alertline-dev2", description: "new" });
        expect(result.outs).toEqual({ name: "alertline-dev2", description: "new", connection });
    });

    it("records a rotated key without calling Opsgenie", async () => {
        const rotated = { ...connection, apiKey: "b0b0b0b0-rotated" };
        const result = await teams.update!("t1", { name: "n", description: "", connection }, { name: "n", description: "", connection: rotated });
        expect(fake.requests).toEqual([]);
        expect(result.outs?.connection).toEqual(rotated);
    });

    it("deletes with DELETE /v2/teams/{id}?identifierType=id", async () => {
        const team = fake.addTeam("alertline-dev");
        await teams.delete!(team.id, { name: "alertline-dev", connection });
        expect(fake.teams.has(team.id)).toBe(false);
        expect(fake.requests.map((r) => [r.method, r.path, r.query])).toEqual([["DELETE", `/v2/teams/${team.id}`, { identifierType: "id" }]]);
    });

    it("treats deleting a team that is already gone as done", async () => {
        await expect(teams.delete!("already-gone", { name: "alertline-dev", connection })).resolves.toBeUndefined();
        expect(fake.requests).toHaveLength(1);
    });

    it("updates in place for name and description, replaces when the region changes", async () => {
        const olds = { name: "a", description: "", connection };
        await expect(teams.diff!("t", olds, { name: "a", connection })).resolves.toEqual({ changes: false, replaces: [] });
        await expect(teams.diff!("t", olds, { name: "b", description: "x", connection })).resolves.toEqual({ changes: true, replaces: [] });
        await expect(teams.diff!("t", olds, { name: "a", connection: { ...connection, apiUrl: "https://api.eu.opsgenie.com" } })).resolves.toEqual({
            changes: true,
            replaces: ["connection"],
        });
    });
});

describe("retries", () => {
    it("retries a 429 after the Retry-After wait and then succeeds", async () => {
        fake.script("POST", "/v2/teams", { status: 429, body: { message: "Too many requests", took: 0 }, headers: { "Retry-After": "0" } });
        const result = await teams.create({ name: "alertline-dev", connection });
        expect(result.id).toBe([...fake.teams.keys()][0]);
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual(["POST /v2/teams", "POST /v2/teams"]);
        expect(sleeps).toEqual([0]);
    });

    it("gives up on a lasting 503 after five tries with backoff, naming the operation", async () => {
        const unavailable = { status: 503, body: { message: "Service Unavailable", took: 0 } };
        fake.script("GET", "/v2/teams/t1", unavailable, unavailable, unavailable, unavailable, unavailable);
        const message = await failure(teams.read!("t1", { name: "n", connection }));
        expect(message).toMatch(/^Opsgenie GET \/v2\/teams\/t1 answered 503: Service Unavailable — .*gave up after 5 attempts/);
        expect(fake.requests).toHaveLength(5);
        expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
    });

    it("does not retry a client error", async () => {
        fake.script("PATCH", "/v2/teams/t1", { status: 403, body: { message: "Forbidden", code: 40301, took: 0 } });
        const message = await failure(teams.update!("t1", { name: "a", connection }, { name: "b", connection }));
        expect(message).toMatch(/^Opsgenie PATCH \/v2\/teams\/t1 answered 403: Forbidden — the API key lacks a right/);
        expect(fake.requests).toHaveLength(1);
        expect(sleeps).toEqual([]);
    });

    it("names an unreachable server, retried, without the key", async () => {
        const closed = { apiKey: KEY, apiUrl: await closedPortUrl() };
        const message = await failure(teams.read!("t1", { name: "n", connection: closed }));
        expect(message).toContain(`Opsgenie GET /v2/teams/t1 could not reach ${closed.apiUrl} in 5 attempts: ECONNREFUSED — check connection.apiUrl`);
        expect(message).not.toContain(KEY);
        expect(sleeps).toHaveLength(4);
    });
});

describe("authentication", () => {
    it("explains a rejected key and keeps it out of the error", async () => {
        const wrong = { ...connection, apiKey: "11111111-wrong-key" };
        const message = await failure(teams.create({ name: "alertline-dev", connection: wrong }));
        expect(message).toMatch(/^Opsgenie POST \/v2\/teams answered 401: Could not authenticate — the API key was not accepted/);
        expect(message).not.toContain("11111111-wrong-key");
        expect(fake.requests[0].authorization).toBe("GenieKey 11111111-wrong-key");
    });

    it("redacts the key when Opsgenie echoes it back", async () => {
        fake.script("DELETE", "/v2/teams/t1", { status: 400, body: { message: `Cannot use key ${KEY} here`, took: 0 } });
        const message = await failure(teams.delete!("t1", { name: "n", connection }));
        expect(message).toContain("Cannot use key [redacted] here");
        expect(message).not.toContain(KEY);
    });
});

describe("API integration provider", () => {
    const datadog = (ownerTeamId: string) => ({ name: "alertline-dev-datadog", type: "Datadog", ownerTeamId, connection });

    it("creates the integration owned by the team, enables it, and returns its apiKey", async () => {
        const team = fake.addTeam("alertline-dev");
        const result = await integrations.create(datadog(team.id));
        const [created] = fake.integrations.values();
        expect(result.id).toBe(created.id);
        expect(result.outs).toEqual({
            name: "alertline-dev-datadog",
            type: "Datadog",
            enabled: true,
            ownerTeamId: team.id,
            connection,
            apiKey: created.apiKey,
        });
        expect(created.enabled).toBe(true);
        expect(fake.requests.map((r) => [r.method, r.path, r.authorization, r.body])).toEqual([
            [
                "POST",
                "/v2/integrations",
                `GenieKey ${KEY}`,
                {
                    type: "Datadog",
                    name: "alertline-dev-datadog",
                    enabled: true,
                    ownerTeam: { id: team.id },
                    responders: [{ type: "team", id: team.id }],
                },
            ],
            ["POST", `/v2/integrations/${created.id}/enable`, `GenieKey ${KEY}`, undefined],
        ]);
    });

    it("reads the key back when the create answer lacks it", async () => {
        fake.createAnswerHasApiKey = false;
        const result = await integrations.create({ name: "api", connection, enabled: false });
        const [created] = fake.integrations.values();
        expect(result.outs?.apiKey).toBe(created.apiKey);
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual(["POST /v2/integrations", `GET /v2/integrations/${created.id}`]);
    });

    it("fails clearly, and removes the integration again, when no answer holds the key", async () => {
        fake.createAnswerHasApiKey = false;
        fake.getAnswerHasApiKey = false;
        const message = await failure(integrations.create({ name: "api", connection }));
        expect(message).toMatch(/neither POST \/v2\/integrations nor GET \/v2\/integrations\/\S+ returned its apiKey/);
        expect(message).toMatch(/alertline deleted integration \S+ again\. Check that connection\.apiKey has Configuration access/);
        expect(message).not.toContain(KEY);
        expect(fake.integrations.size).toBe(0);
        expect(fake.requests.map((r) => r.method).at(-1)).toBe("DELETE");
    });

    it("removes the new integration when enabling it fails", async () => {
        fake.script("POST", "/v2/integrations", { status: 201, body: { data: { id: "i-new", name: "api", type: "API", enabled: false, apiKey: "k" } } });
        fake.script("POST", "/v2/integrations/i-new/enable", { status: 422, body: { message: "Cannot enable", took: 0 } });
        fake.script("DELETE", "/v2/integrations/i-new", { status: 200, body: { result: "Deleted" } });
        const message = await failure(integrations.create({ name: "api", connection }));
        expect(message).toMatch(/^Opsgenie POST \/v2\/integrations\/i-new\/enable answered 422: Cannot enable — .*\(after creating integration i-new: alertline deleted integration i-new again\.\)$/);
    });

    it("reads live state, keeping the stored key when GET omits it", async () => {
        const team = fake.addTeam("alertline-dev");
        const live = fake.addIntegration({ name: "renamed", type: "Datadog", enabled: false, ownerTeamId: team.id });
        fake.getAnswerHasApiKey = false;
        const stored = { name: "alertline-dev-datadog", type: "Datadog", enabled: true, ownerTeamId: team.id, connection, apiKey: "stored-key" };
        const result = await integrations.read!(live.id, stored);
        expect(result).toEqual({ id: live.id, props: { ...stored, name: "renamed", enabled: false } });
    });

    it("reads a deleted integration as an empty id", async () => {
        await expect(integrations.read!("gone", { name: "n", connection })).resolves.toEqual({ id: "" });
    });

    it("renames with GET then a full PUT that leaves out read-only fields and keeps the apiKey", async () => {
        const team = fake.addTeam("alertline-dev");
        const live = fake.addIntegration({ name: "old", type: "Datadog", enabled: true, ownerTeamId: team.id });
        const olds = { name: "old", type: "Datadog", enabled: true, ownerTeamId: team.id, connection, apiKey: live.apiKey };
        const result = await integrations.update!(live.id, olds, { ...olds, name: "new", apiKey: undefined });
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual([`GET /v2/integrations/${live.id}`, `PUT /v2/integrations/${live.id}`]);
        const put = fake.requests[1].body as Record<string, unknown>;
        expect(put).toMatchObject({ id: live.id, name: "new", type: "Datadog", enabled: true, allowWriteAccess: true });
        expect(put).not.toHaveProperty("_readOnly");
        expect(put).not.toHaveProperty("apiKey");
        expect(put).not.toHaveProperty("isGlobal");
        expect(fake.integrations.get(live.id)?.name).toBe("new");
        expect(result.outs?.apiKey).toBe(live.apiKey);
    });

    it("replaces on a new type or owner, updates name and enabled in place", async () => {
        const olds = { name: "n", type: "Datadog", enabled: true, ownerTeamId: "t1", connection, apiKey: "k" };
        const same = { name: "n", type: "Datadog", ownerTeamId: "t1", connection };
        await expect(integrations.diff!("i", olds, same)).resolves.toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        await expect(integrations.diff!("i", olds, { ...same, name: "m", enabled: false })).resolves.toEqual({
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
        await expect(integrations.diff!("i", olds, { ...same, type: "API" })).resolves.toEqual({ changes: true, replaces: ["type"], deleteBeforeReplace: true });
        await expect(integrations.diff!("i", olds, { ...same, ownerTeamId: "t2" })).resolves.toEqual({
            changes: true,
            replaces: ["ownerTeamId"],
            deleteBeforeReplace: true,
        });
    });

    it("treats an unknown connection at preview as an update, not a replacement", async () => {
        const olds = { name: "n", type: "API", connection };
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const result = await integrations.diff!("i", olds, { name: "n", type: "API", connection: unknown as unknown as OpsgenieConnection });
        expect(result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("deletes with DELETE /v2/integrations/{id}, and a 404 counts as deleted", async () => {
        const live = fake.addIntegration({ name: "n", type: "API", enabled: true });
        await integrations.delete!(live.id, { name: "n", connection });
        await integrations.delete!(live.id, { name: "n", connection });
        expect(fake.integrations.size).toBe(0);
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual([`DELETE /v2/integrations/${live.id}`, `DELETE /v2/integrations/${live.id}`]);
    });
});

describe("Webhook integration", () => {
    const TOKEN = "whsec-4b8e1d7a-shared-token";
    const hook = (headers?: Record<string, string>) => ({
        name: "alertline-dev-ack",
        type: "Webhook",
        webhookUrl: "https://ack.example.com/hook",
        ...(headers === undefined ? {} : { headers }),
        forwardedActions: ["acknowledge", "close"] as ("acknowledge" | "close")[],
        connection,
    });

    it("creates with url, headers, alert description/details and exactly the forwarded actions in the body", async () => {
        const result = await integrations.create(hook({ "X-Alertline-Token": TOKEN }));
        const [created] = fake.integrations.values();
        expect(fake.requests[0]).toMatchObject({
            method: "POST",
            path: "/v2/integrations",
            body: {
                type: "Webhook",
                name: "alertline-dev-ack",
                url: "https://ack.example.com/hook",
                addAlertDescription: true,
                addAlertDetails: true,
                headers: { "X-Alertline-Token": TOKEN },
                forwardingEnabled: true,
                forwardingActionMappings: [
                    { action: "acknowledge", mappedAction: "postToUrl" },
                    { action: "close", mappedAction: "postToUrl" },
                ],
            },
        });
        expect(fake.requests[0].body).not.toHaveProperty("responders");
        expect(created.extra).toMatchObject({ url: "https://ack.example.com/hook", headers: { "X-Alertline-Token": TOKEN } });
        expect(result.outs).toMatchObject({ type: "Webhook", webhookUrl: "https://ack.example.com/hook", headers: { "X-Alertline-Token": TOKEN } });
    });

    it("succeeds without an apiKey in any answer, leaving apiKey undefined and not asking for it", async () => {
        fake.createAnswerHasApiKey = false;
        fake.getAnswerHasApiKey = false;
        const result = await integrations.create(hook());
        const [created] = fake.integrations.values();
        expect(result.id).toBe(created.id);
        expect(result.outs?.apiKey).toBeUndefined();
        expect(result.outs?.headers).toEqual({});
        expect(fake.integrations.size).toBe(1);
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual(["POST /v2/integrations", `POST /v2/integrations/${created.id}/enable`]);
    });

    it("updates in place when a header changes: GET, then PUT with the whole new header map", async () => {
        const olds = (await integrations.create(hook({ "X-Alertline-Token": TOKEN, "X-Old": "gone" }))).outs!;
        const id = [...fake.integrations.keys()][0];
        const news = hook({ "X-Alertline-Token": "rotated-token" });
        expect(await integrations.diff!(id, olds, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        fake.requests.length = 0;
        const result = await integrations.update!(id, olds, news);
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual([`GET /v2/integrations/${id}`, `PUT /v2/integrations/${id}`]);
        expect(fake.requests[1].body).toMatchObject({ id, type: "Webhook", url: "https://ack.example.com/hook", headers: { "X-Alertline-Token": "rotated-token" } });
        expect(fake.integrations.get(id)?.extra.headers).toEqual({ "X-Alertline-Token": "rotated-token" });
        expect(result.outs?.headers).toEqual({ "X-Alertline-Token": "rotated-token" });
    });

    it("sets the forwarded actions on a Webhook whose stored state predates them", async () => {
        const live = fake.addIntegration({ name: "alertline-dev-ack", type: "Webhook", enabled: true });
        live.extra = { url: "https://ack.example.com/hook", headers: {} };
        const { forwardedActions: _, ...legacy } = { ...hook(), enabled: true };
        expect(await integrations.diff!(live.id, legacy, hook())).toMatchObject({ changes: true, replaces: [] });
        const result = await integrations.update!(live.id, legacy, hook());
        expect(fake.requests.map((r) => r.method)).toEqual(["GET", "PUT"]);
        expect(live.extra).toMatchObject({ forwardingEnabled: true, forwardingActionMappings: [{ action: "acknowledge", mappedAction: "postToUrl" }, { action: "close", mappedAction: "postToUrl" }] });
        expect(result.outs?.forwardedActions).toEqual(["acknowledge", "close"]);
        expect(fake.refusals).toEqual([]);
    });

    it("reads forwarded actions changed in Opsgenie back as drift", async () => {
        const created = await integrations.create(hook());
        fake.integrations.get(created.id)!.extra.forwardingActionMappings = [{ action: "create", mappedAction: "postToUrl" }];
        expect((await integrations.read!(created.id, created.outs)).props?.forwardedActions).toEqual(["create"]);
        fake.integrations.get(created.id)!.extra.forwardingActionMappings = [{ action: "close", mappedAction: "postToUrl" }, { action: "acknowledge", mappedAction: "postToUrl" }];
        expect((await integrations.read!(created.id, created.outs)).props?.forwardedActions).toEqual(["acknowledge", "close"]);
    });

    it("updates in place when the URL changes, and not at all when only header order differs", async () => {
        const olds = { ...hook({ A: "1", B: "2" }), enabled: true, apiKey: undefined };
        await expect(integrations.diff!("i", olds, { ...hook({ B: "2", A: "1" }) })).resolves.toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        await expect(integrations.diff!("i", { ...hook({}), enabled: true }, hook())).resolves.toMatchObject({ changes: false });
        await expect(integrations.diff!("i", olds, { ...hook({ A: "1", B: "2" }), webhookUrl: "https://new.example.com" })).resolves.toEqual({
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        await expect(integrations.diff!("i", olds, { ...hook(), headers: unknown as unknown as Record<string, string> })).resolves.toMatchObject({ changes: true, replaces: [] });
    });

    it("keeps header values out of the error when Opsgenie echoes them back", async () => {
        fake.script("POST", "/v2/integrations", { status: 422, body: { message: `Header value ${TOKEN} is not allowed`, took: 0 } });
        const message = await failure(integrations.create(hook({ "X-Alertline-Token": TOKEN })));
        expect(message).toMatch(/^Opsgenie POST \/v2\/integrations answered 422: Header value \[redacted\] is not allowed — /);
        expect(message).not.toContain(TOKEN);
    });

    it("keeps old and new header values out of a refused update", async () => {
        const live = fake.addIntegration({ name: "alertline-dev-ack", type: "Webhook", enabled: true });
        live.extra = { url: "https://ack.example.com/hook", headers: { "X-Alertline-Token": TOKEN } };
        fake.script("PUT", `/v2/integrations/${live.id}`, { status: 422, body: { message: `was ${TOKEN}, now new-token-9`, took: 0 } });
        const olds = { ...hook({ "X-Alertline-Token": TOKEN }), enabled: true };
        const message = await failure(integrations.update!(live.id, olds, hook({ "X-Alertline-Token": "new-token-9" })));
        expect(message).toContain("was [redacted], now [redacted]");
        expect(message).not.toContain(TOKEN);
        expect(message).not.toContain("new-token-9");
    });

    it("reads a Webhook's url and headers back, so changes made in Opsgenie show as drift", async () => {
        const live = fake.addIntegration({ name: "alertline-dev-ack", type: "Webhook", enabled: true });
        live.extra = { url: "https://changed.example.com", headers: { "X-Alertline-Token": "edited-in-ui" } };
        const stored = { ...hook({ "X-Alertline-Token": TOKEN }), enabled: true };
        const result = await integrations.read!(live.id, stored);
        expect(result.props).toMatchObject({ webhookUrl: "https://changed.example.com", headers: { "X-Alertline-Token": "edited-in-ui" } });
    });

    it("refuses webhook fields on a non-Webhook type before sending anything", async () => {
        const message = await failure(integrations.create({ name: "n", type: "Datadog", webhookUrl: "https://x.example.com", connection }));
        expect(message).toMatch(/webhookUrl, headers and forwardedActions apply only to type "Webhook"/);
        expect(fake.requests).toEqual([]);
    });
});

describe("heartbeat provider", () => {
    const beat = (fields: Partial<OpsgenieHeartbeatState> = {}): OpsgenieHeartbeatState => ({
        name: "alertline-dev-mail-path",
        interval: 30,
        intervalUnit: "minutes",
        connection,
        ...fields,
    });

    it("creates with POST /v2/heartbeats, every field in the body, and the name as id", async () => {
        const team = fake.addTeam("alertline-dev");
        const result = await heartbeats.create(beat({ ownerTeamId: team.id, alertTags: ["alertline", "canary"], alertPriority: "P2", description: "canary" }));
        expect(result.id).toBe("alertline-dev-mail-path");
        expect(fake.requests).toEqual([
            {
                method: "POST",
                path: "/v2/heartbeats",
                query: {},
                authorization: `GenieKey ${KEY}`,
                contentType: "application/json; charset=utf-8",
                body: {
                    name: "alertline-dev-mail-path",
                    description: "canary",
                    interval: 30,
                    intervalUnit: "minutes",
                    enabled: true,
                    ownerTeam: { id: team.id },
                    alertMessage: "alertline-dev-mail-path is expired",
                    alertTags: ["alertline", "canary"],
                    alertPriority: "P2",
                },
            },
        ]);
        expect(fake.heartbeats.get("alertline-dev-mail-path")).toMatchObject({ interval: 30, ownerTeamId: team.id, alertPriority: "P2" });
        expect(result.outs).toEqual({
            name: "alertline-dev-mail-path",
            description: "canary",
            interval: 30,
            intervalUnit: "minutes",
            enabled: true,
            ownerTeamId: team.id,
            alertMessage: "alertline-dev-mail-path is expired",
            alertTags: ["alertline", "canary"],
            alertPriority: "P2",
            connection,
        });
    });

    it("reports a name already taken with the operation and Opsgenie's field error, without the key", async () => {
        fake.addHeartbeat({ name: "alertline-dev-mail-path" });
        const message = await failure(heartbeats.create(beat()));
        expect(message).toMatch(/^Opsgenie POST \/v2\/heartbeats answered 422: .*\(name: Heartbeat with the same name already exists\) — .*already taken/);
        expect(message).not.toContain(KEY);
    });

    it("stops on a bad interval before sending anything", async () => {
        const message = await failure(heartbeats.create(beat({ interval: 0 })));
        expect(message).toMatch(/heartbeat interval 0 is invalid/);
        expect(fake.requests).toEqual([]);
    });

    it("reads live values back, keeping the stored tag order when the set is the same", async () => {
        fake.addHeartbeat({ name: "alertline-dev-mail-path", interval: 45, enabled: false, alertTags: ["canary", "alertline"], alertPriority: "P1" });
        const stored = beat({ enabled: true, alertTags: ["alertline", "canary"], alertPriority: "P2", alertMessage: "alertline-dev-mail-path is expired", description: "" });
        const result = await heartbeats.read!("alertline-dev-mail-path", stored);
        expect(result).toEqual({ id: "alertline-dev-mail-path", props: { ...stored, interval: 45, enabled: false, alertPriority: "P1" } });
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual(["GET /v2/heartbeats/alertline-dev-mail-path"]);
    });

    it("reads a heartbeat that no longer exists (404) as an empty id", async () => {
        await expect(heartbeats.read!("alertline-dev-mail-path", beat())).resolves.toEqual({ id: "" });
    });

    it("updates with PATCH /v2/heartbeats/{name}, sending every field", async () => {
        fake.addHeartbeat({ name: "alertline-dev-mail-path", alertTags: ["old"] });
        const olds = beat({ alertTags: ["old"] });
        const news = beat({ interval: 2, intervalUnit: "hours", alertTags: ["new"] });
        const result = await heartbeats.update!("alertline-dev-mail-path", olds, news);
        expect(fake.requests.map((r) => [r.method, r.path])).toEqual([["PATCH", "/v2/heartbeats/alertline-dev-mail-path"]]);
        expect(fake.requests[0].body).toEqual({
            name: "alertline-dev-mail-path",
            description: "",
            interval: 2,
            intervalUnit: "hours",
            enabled: true,
            alertMessage: "alertline-dev-mail-path is expired",
            alertTags: ["new"],
            alertPriority: "P3",
        });
        expect(fake.heartbeats.get("alertline-dev-mail-path")).toMatchObject({ interval: 2, intervalUnit: "hours", alertTags: ["new"] });
        expect(result.outs).toMatchObject({ interval: 2, intervalUnit: "hours", alertTags: ["new"], connection });
    });

    it("records a rotated key without calling Opsgenie", async () => {
        const rotated = { ...connection, apiKey: "b0b0b0b0-rotated" };
        const result = await heartbeats.update!("alertline-dev-mail-path", beat(), beat({ connection: rotated }));
        expect(fake.requests).toEqual([]);
        expect(result.outs?.connection).toEqual(rotated);
    });

    it("replaces (old one first) on a new name or a removed owner, updates the rest in place", async () => {
        const olds = { ...beat({ ownerTeamId: "t1", alertTags: ["a", "b"] }), description: "", enabled: true, alertMessage: "alertline-dev-mail-path is expired", alertPriority: "P3" as const };
        const none = { changes: false, replaces: [], deleteBeforeReplace: false };
        const inPlace = { changes: true, replaces: [], deleteBeforeReplace: false };
        // Defaults left out of the program equal the values state holds.
        await expect(heartbeats.diff!("h", olds, beat({ ownerTeamId: "t1", alertTags: ["b", "a"] }))).resolves.toEqual(none);
        await expect(heartbeats.diff!("h", olds, beat({ ownerTeamId: "t1", alertTags: ["a", "b"], interval: 31 }))).resolves.toEqual(inPlace);
        await expect(heartbeats.diff!("h", olds, beat({ ownerTeamId: "t2", alertTags: ["a", "b"] }))).resolves.toEqual(inPlace);
        await expect(heartbeats.diff!("h", olds, beat({ ownerTeamId: "t1", alertTags: ["a"] }))).resolves.toEqual(inPlace);
        await expect(heartbeats.diff!("h", olds, beat({ ownerTeamId: "t1", alertTags: ["a", "b"], alertPriority: "P1" }))).resolves.toEqual(inPlace);
        await expect(heartbeats.diff!("h", olds, beat({ name: "renamed", ownerTeamId: "t1", alertTags: ["a", "b"] }))).resolves.toEqual({
            changes: true,
            replaces: ["name"],
            deleteBeforeReplace: true,
        });
        await expect(heartbeats.diff!("h", olds, beat({ alertTags: ["a", "b"] }))).resolves.toEqual({ changes: true, replaces: ["ownerTeamId"], deleteBeforeReplace: true });
    });

    it("treats values unknown at preview as an update", async () => {
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const result = await heartbeats.diff!("h", beat(), beat({ interval: unknown as unknown as number, alertTags: unknown as unknown as string[] }));
        expect(result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("deletes with DELETE /v2/heartbeats/{name}, and a 404 counts as deleted", async () => {
        fake.addHeartbeat({ name: "alertline-dev-mail-path" });
        await heartbeats.delete!("alertline-dev-mail-path", beat());
        await heartbeats.delete!("alertline-dev-mail-path", beat());
        expect(fake.heartbeats.size).toBe(0);
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual(["DELETE /v2/heartbeats/alertline-dev-mail-path", "DELETE /v2/heartbeats/alertline-dev-mail-path"]);
    });

    it("retries a rate-limited create after Retry-After, then succeeds", async () => {
        fake.script("POST", "/v2/heartbeats", { status: 429, body: { message: "Too many requests", took: 0 }, headers: { "Retry-After": "1" } });
        const result = await heartbeats.create(beat());
        expect(result.id).toBe("alertline-dev-mail-path");
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual(["POST /v2/heartbeats", "POST /v2/heartbeats"]);
        expect(sleeps).toEqual([1000]);
    });

    it("gives up reading after five 502s with backoff, naming the operation", async () => {
        const bad = { status: 502, body: "<html>Bad Gateway</html>" };
        fake.script("GET", "/v2/heartbeats/alertline-dev-mail-path", bad, bad, bad, bad, bad);
        const message = await failure(heartbeats.read!("alertline-dev-mail-path", beat()));
        expect(message).toMatch(/^Opsgenie GET \/v2\/heartbeats\/alertline-dev-mail-path answered 502: .*Bad Gateway.* — .*gave up after 5 attempts/);
        expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
    });
});
