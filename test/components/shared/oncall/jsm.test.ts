import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsmHeartbeatProvider, jsmTeamProvider, type JsmHeartbeatState, type JsmTeamState } from "../../../../components/shared/oncall/jsm";
import * as api from "../../../../components/shared/oncall/jsm-api";
import { startOnCallSink, type OnCallSink } from "../../../../tools/local/oncall";

/**
 * The JSM team lookup and heartbeat providers against the on-call stand-in's JSM ops REST API
 * (tools/local/jsm-ops.ts, written from JSM's reference; see
 * test/fixtures/contracts/README.md), over real HTTP. Retries wait no time here (`sleep`).
 */

const fixture = (file: string) => readFileSync(path.join(__dirname, "../../../fixtures/contracts/jsm", file), "utf8");

const CLOUD_ID = "3a015c30-bac7-4abc-97a1-50c1feea188a";
const EMAIL = "oncall-bot@example.jp";
const TOKEN = "ATATT3xFfGF0-provider-test-token";
const TEAM = { id: "4b26961a-a837-49d2-a1fe-0973013e3c3b", name: "Ops Tokyo" };

let sink: OnCallSink;
let connection: api.JsmConnection;
let waits: number[];
const options = () => ({ sleep: async (ms: number) => void waits.push(ms) });

beforeEach(async () => {
    waits = [];
    // A page size of 2 makes the team lookup follow links.next.
    sink = await startOnCallSink({
        jsmOps: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN, pageSize: 2, teams: [{ id: "t-1", name: "Billing" }, { id: "t-2", name: "Ops Osaka" }, TEAM] },
    });
    connection = { apiUrl: sink.gatewayUrl, cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN };
});
afterEach(async () => {
    await sink.close();
});

const heartbeatInputs = (overrides: Partial<JsmHeartbeatState> = {}): JsmHeartbeatState => ({
    name: "alertline-dev-mail-path",
    description: "pinged for every canary mail",
    interval: 30,
    intervalUnit: "minutes",
    enabled: true,
    teamId: TEAM.id,
    alertMessage: "alertline dev: no canary mail processed for 30 minutes.",
    alertTags: ["alertline", "canary"],
    alertPriority: "P2",
    connection,
    ...overrides,
});

describe("JsmTeam: the team looked up by name", () => {
    it("finds the team's id on a later page of List teams, with Basic auth", async () => {
        const provider = jsmTeamProvider(options());
        const created = await provider.create!({ displayName: "Ops Tokyo", connection });
        expect(created.id).toBe(TEAM.id);
        const lists = sink.jsmOps.requests.filter((r) => r.action === "list-teams");
        expect(lists.map((r) => [r.query.offset ?? "0", r.status, r.auth])).toEqual([
            ["0", 200, "basic"],
            ["2", 200, "basic"],
        ]);
    });

    it("names the team, the account and the visible teams when none has that name", async () => {
        const provider = jsmTeamProvider(options());
        await expect(provider.create!({ displayName: "Ops Nagoya", connection })).rejects.toThrow(
            /no operations team named "Ops Nagoya" that oncall-bot@example\.jp can see \(teams visible: "Billing", "Ops Osaka", "Ops Tokyo"\)\. Set alertline:oncall\.team/,
        );
    });

    it("reads an unchanged team as unchanged, and a team that is gone as gone", async () => {
        const provider = jsmTeamProvider(options());
        const props: JsmTeamState = { displayName: "Ops Tokyo", connection };
        const read = await provider.read!(TEAM.id, props);
        expect(read).toEqual({ id: TEAM.id, props });
        expect((await provider.diff!(TEAM.id, read.props as JsmTeamState, props)).changes).toBe(false);
        expect(await provider.read!("no-such-team", props)).toEqual({ id: "" });
    });

    it("looks another team up when the name changes, and changes nothing in JSM when only the token does", async () => {
        const provider = jsmTeamProvider(options());
        const olds: JsmTeamState = { displayName: "Ops Tokyo", connection };
        expect(await provider.diff!(TEAM.id, olds, { ...olds, displayName: "Ops Osaka" })).toMatchObject({ changes: true, replaces: ["displayName"] });
        expect(await provider.diff!(TEAM.id, olds, { ...olds, connection: { ...connection, apiToken: "ATATT-rotated-token-000000" } })).toMatchObject({ changes: true, replaces: [] });
        expect(await provider.diff!(TEAM.id, olds, { ...olds, connection: { ...connection, cloudId: "11111111-2222-4333-8444-555555555555" } })).toMatchObject({ replaces: ["connection"] });
        const before = sink.jsmOps.requests.length;
        await provider.delete!(TEAM.id, olds);
        expect(sink.jsmOps.requests.length).toBe(before);
    });
});

describe("JsmHeartbeat over JSM's ops REST API", () => {
    it("create → refresh shows no diff → change updates in place → delete removes it", async () => {
        const provider = jsmHeartbeatProvider(options());
        const inputs = heartbeatInputs();
        const created = await provider.create!(inputs);
        expect(created.id).toBe("alertline-dev-mail-path");
        expect(sink.jsmOps.heartbeats()).toEqual([expect.objectContaining({ teamId: TEAM.id, name: "alertline-dev-mail-path", interval: 30, intervalUnit: "minutes", alertPriority: "P2", enabled: true })]);

        const refreshed = await provider.read!(created.id, created.outs);
        expect(refreshed.id).toBe(created.id);
        expect(await provider.diff!(created.id, refreshed.props as JsmHeartbeatState, inputs)).toMatchObject({ changes: false, replaces: [] });

        const changed = heartbeatInputs({ interval: 45, alertTags: ["canary", "alertline", "mail"] });
        const diff = await provider.diff!(created.id, refreshed.props as JsmHeartbeatState, changed);
        expect(diff).toMatchObject({ changes: true, replaces: [] });
        await provider.update!(created.id, refreshed.props as JsmHeartbeatState, changed);
        const patch = sink.jsmOps.requests.find((r) => r.action === "update-heartbeat")!;
        expect(patch).toMatchObject({ method: "PATCH", query: { name: "alertline-dev-mail-path" }, status: 200 });
        expect(sink.jsmOps.heartbeats()[0]).toMatchObject({ interval: 45, alertTags: ["canary", "alertline", "mail"] });

        await provider.delete!(created.id, { ...changed, connection });
        expect(sink.jsmOps.heartbeats()).toEqual([]);
        // Deleting what is already gone is what delete wants.
        await provider.delete!(created.id, { ...changed, connection });
        expect(sink.jsmOps.requests.filter((r) => r.action === "delete-heartbeat").map((r) => r.status)).toEqual([204, 404]);
    });

    it("reads a heartbeat deleted by hand as gone, so the next up creates it again", async () => {
        const provider = jsmHeartbeatProvider(options());
        const created = await provider.create!(heartbeatInputs());
        expect(sink.jsmOps.deleteByHand(TEAM.id, created.id)).toBe(true);
        expect(await provider.read!(created.id, created.outs)).toEqual({ id: "" });
        await provider.create!(heartbeatInputs());
        expect(sink.jsmOps.heartbeats().map((h) => h.name)).toEqual(["alertline-dev-mail-path"]);
    });

    it("reports a change made in JSM by hand as drift", async () => {
        const provider = jsmHeartbeatProvider(options());
        const created = await provider.create!(heartbeatInputs());
        const raw = await fetch(`${api.requestUrl(connection, api.updateHeartbeatRequest(TEAM.id, created.id, api.heartbeatFields({ ...heartbeatInputs(), interval: 90 })))}`, {
            method: "PATCH",
            headers: api.requestHeaders(connection, { method: "PATCH", path: "", body: {} }),
            body: JSON.stringify({ interval: 90 }),
        });
        expect(raw.status).toBe(200);
        const read = await provider.read!(created.id, created.outs);
        expect((read.props as JsmHeartbeatState).interval).toBe(90);
        expect((await provider.diff!(created.id, read.props as JsmHeartbeatState, heartbeatInputs())).changes).toBe(true);
    });

    it("replaces the heartbeat, old one first, when its name or team changes", async () => {
        const provider = jsmHeartbeatProvider(options());
        const olds = heartbeatInputs();
        expect(await provider.diff!("x", olds, heartbeatInputs({ name: "alertline-dev-mail" }))).toMatchObject({ replaces: ["name"], deleteBeforeReplace: true });
        expect(await provider.diff!("x", olds, heartbeatInputs({ teamId: "t-2" }))).toMatchObject({ replaces: ["teamId"], deleteBeforeReplace: true });
    });

    it("takes JSM's capitalised unit and reordered tags as no change", async () => {
        const provider = jsmHeartbeatProvider(options());
        const olds = { ...heartbeatInputs(), intervalUnit: "Minutes" as api.HeartbeatIntervalUnit, alertTags: ["canary", "alertline", "canary"] };
        expect((await provider.diff!("x", olds, heartbeatInputs())).changes).toBe(false);
    });

    it("retries 429 and 503 with backoff, honouring Retry-After, and then succeeds", async () => {
        const script = [{ status: 429, headers: { "retry-after": "3" } }, { status: 503 }];
        sink.jsmOps.script((request) => (request.action === "create-heartbeat" ? script.shift() : undefined));
        const created = await jsmHeartbeatProvider(options()).create!(heartbeatInputs());
        expect(created.id).toBe("alertline-dev-mail-path");
        expect(waits).toEqual([3000, 2000]);
        expect(sink.jsmOps.requests.filter((r) => r.action === "create-heartbeat").map((r) => r.status)).toEqual([429, 503, 201]);
    });

    it("gives up after its attempts and says so, without the token", async () => {
        sink.jsmOps.script(() => ({ status: 500, body: { errors: [{ title: `internal error for ${TOKEN}` }] } }));
        const failure = jsmHeartbeatProvider({ ...options(), maxAttempts: 3 }).create!(heartbeatInputs());
        await expect(failure).rejects.toThrow(/answered 500: internal error for \[redacted\] — JSM failed on its side and gave up after 3 attempts/);
        await expect(failure).rejects.not.toThrow(TOKEN);
    });

    it("names the field JSM refused on a 4xx, and does not retry it", async () => {
        sink.jsmOps.script((request) => (request.action === "create-heartbeat" ? { status: 422, body: { errors: [{ title: "alertPriority must be one of P1, P2, P3, P4, P5" }] } } : undefined));
        await expect(jsmHeartbeatProvider(options()).create!(heartbeatInputs())).rejects.toThrow(
            /^JSM POST \/v1\/teams\/4b26961a-a837-49d2-a1fe-0973013e3c3b\/heartbeats answered 422: alertPriority must be one of P1, P2, P3, P4, P5 — JSM refused `alertPriority`/,
        );
        expect(waits).toEqual([]);
    });

    it("refuses a bad field before sending anything, naming it", async () => {
        await expect(jsmHeartbeatProvider(options()).create!(heartbeatInputs({ interval: 0 }))).rejects.toThrow(/JSM heartbeat interval 0 is invalid/);
        await expect(jsmHeartbeatProvider(options()).create!(heartbeatInputs({ alertPriority: "P9" as api.AlertPriority }))).rejects.toThrow(/alertPriority "P9"/);
        expect(sink.jsmOps.requests).toEqual([]);
    });

    it("holds a heartbeat's alert tags to an alert's limit of 50 characters, as Opsgenie does", async () => {
        await expect(jsmHeartbeatProvider(options()).create!(heartbeatInputs({ alertTags: ["canary", "t".repeat(51)] }))).rejects.toThrow(/^JSM heartbeat alertTags has a tag of 51 characters .*at most 50/);
        expect(sink.jsmOps.requests).toEqual([]);
        expect(api.heartbeatFields({ ...heartbeatInputs(), alertTags: ["t".repeat(50)] }).alertTags).toEqual(["t".repeat(50)]);
    });

    it("says which credentials to check when JSM refuses them", async () => {
        const wrong = { ...connection, apiToken: "ATATT-revoked-token-0000000000" };
        await expect(jsmHeartbeatProvider(options()).create!(heartbeatInputs({ connection: wrong }))).rejects.toThrow(/answered 401: .*check alertline:oncall\.email and alertline:jsmApiToken/);
    });
});

describe("the JSM API's pure parts", () => {
    it("parses the documented List heartbeats answer, including its next page", () => {
        const body = JSON.parse(fixture("heartbeats-list.json"));
        const page = api.parseHeartbeatsPage(api.listHeartbeatsRequest("t", "Service Heartbeat"), body);
        expect(page.heartbeats).toEqual([
            {
                name: "Service Heartbeat",
                description: "Heartbeat for checking service health",
                interval: 5,
                intervalUnit: "Days",
                enabled: true,
                status: "Responsive",
                alertMessage: "Service does not respond",
                alertTags: ["HighPriority", "Database"],
                alertPriority: "P2",
            },
        ]);
        expect(page.next).toEqual({ offset: "13", size: "5" });
    });

    it("reads JSM's documented error body", () => {
        const text = fixture("error.json");
        expect(api.errorMessageOf(text)).toBe("Actual reason why user was not found");
    });

    it("reads team entries under either spelling of their fields, skipping incomplete ones", () => {
        const page = api.parseTeamsPage(api.listTeamsRequest(), { values: [{ teamId: "a", teamName: "A" }, { id: "b", name: "B" }, { id: "c", displayName: "C" }, { id: "d" }] });
        expect(page.teams).toEqual([
            { id: "a", name: "A" },
            { id: "b", name: "B" },
            { id: "c", name: "C" },
        ]);
    });

    it("builds the ops API URL with the cloud ID and Basic auth from e-mail and token", () => {
        const request = api.pingHeartbeatRequest("team 1", "mail path");
        expect(api.requestUrl({ apiUrl: api.JSM_API_URL, cloudId: CLOUD_ID }, request)).toBe(`https://api.atlassian.com/jsm/ops/api/${CLOUD_ID}/v1/teams/team%201/heartbeats/ping?name=mail+path`);
        expect(api.requestHeaders({ email: "a@b.jp", apiToken: "tok" }, request).Authorization).toBe(`Basic ${Buffer.from("a@b.jp:tok").toString("base64")}`);
    });

    it("checks the connection, naming the field and where to find it", () => {
        expect(() => api.checkConnection({ cloudId: "mysite", email: EMAIL, apiToken: TOKEN })).toThrow(/connection\.cloudId "mysite" .*_edge\/tenant_info/);
        expect(() => api.checkConnection({ cloudId: CLOUD_ID, email: "nobody", apiToken: TOKEN })).toThrow(/connection\.email/);
        expect(() => api.checkConnection({ cloudId: CLOUD_ID, email: EMAIL, apiToken: " " })).toThrow(/id\.atlassian\.com\/manage-profile\/security\/api-tokens/);
    });
});
