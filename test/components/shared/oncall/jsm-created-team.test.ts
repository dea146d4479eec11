import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsmCreatedTeamProvider, type JsmCreatedTeamState } from "../../../../components/shared/oncall/jsm";
import * as api from "../../../../components/shared/oncall/jsm-api";
import { startAtlassianTeams, teamBodyProblems, type AtlassianTeamsStandIn } from "../../../../tools/local/atlassian-teams";

/**
 * JsmCreatedTeam's provider against the Teams API stand-in (tools/local/atlassian-teams.ts,
 * written from Atlassian's Teams REST API reference and the Atlassian provider's team_resource.go;
 * see test/fixtures/contracts/README.md), over real HTTP. Retries wait no time here.
 */

const CLOUD_ID = "3a015c30-bac7-4abc-97a1-50c1feea188a";
const ORG = "9a1b2c3d-org-alertline";
const EMAIL = "oncall-bot@example.jp";
const TOKEN = "ATATT3xFfGF0-created-team-token";
// The first is the requesting account (the Teams API adds it as the first member).
const BOT = "712020:bot-account";
const AKI = "712020:aki";
const KEN = "712020:ken";
const YUI = "712020:yui";

let teams: AtlassianTeamsStandIn;
let waits: number[];
const options = () => ({ sleep: async (ms: number) => void waits.push(ms) });

beforeEach(async () => {
    waits = [];
    teams = await startAtlassianTeams({ organizationId: ORG, cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN, accounts: [BOT, AKI, KEN, YUI], pageSize: 2 });
});
afterEach(async () => {
    expect(teams.violations).toEqual([]);
    await teams.close();
});

const inputs = (overrides: Partial<JsmCreatedTeamState> = {}): JsmCreatedTeamState => ({
    organizationId: ORG,
    siteUrl: teams.url,
    displayName: "alertline dev",
    description: "pages from Datadog and alertline",
    teamType: "MEMBER_INVITE",
    members: [AKI, KEN],
    connection: { apiUrl: teams.url, cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN },
    ...overrides,
});

describe("JsmCreatedTeam: create → refresh → change → delete", () => {
    it("creates the team, leaves exactly the configured members, enables operations with the first as admin", async () => {
        const provider = jsmCreatedTeamProvider(options());
        const created = await provider.create!(inputs());
        const [team] = teams.teams();
        expect(created.id).toBe(team.teamId);
        expect(team).toMatchObject({ displayName: "alertline dev", teamType: "MEMBER_INVITE", opsEnabled: true, opsAdmins: [AKI] });
        // The requesting account the Teams API added is removed: the team holds only the configured members.
        expect([...team.members].sort()).toEqual([AKI, KEN].sort());
        expect(teams.requests.map((r) => `${r.method} ${r.path.replace(team.teamId, "{id}")} ${r.status} ${r.auth}`)).toEqual([
            `POST /gateway/api/public/teams/v1/org/${ORG}/teams/ 201 basic`,
            `POST /gateway/api/public/teams/v1/org/${ORG}/teams/{id}/members 200 basic`,
            `POST /gateway/api/public/teams/v1/org/${ORG}/teams/{id}/members/add 200 basic`,
            `POST /gateway/api/public/teams/v1/org/${ORG}/teams/{id}/members/remove 200 basic`,
            `POST /jsm/ops/api/${CLOUD_ID}/v1/teams/{id}/enable-ops 200 basic`,
        ]);

        // Refresh of an unchanged team: same props, and no diff against the same inputs (members in another order too).
        const read = await provider.read!(created.id, created.outs);
        expect(read.id).toBe(created.id);
        expect(read.props!.members).toEqual([AKI, KEN]);
        const same = await provider.diff!(created.id, read.props!, inputs({ members: [KEN, AKI] }));
        expect(same.changes).toBe(false);

        // A new name and members: an update, no replacement.
        const news = inputs({ displayName: "alertline dev (Tokyo)", members: [AKI, YUI] });
        const diff = await provider.diff!(created.id, read.props!, news);
        expect(diff).toMatchObject({ changes: true, replaces: [] });
        await provider.update!(created.id, read.props!, news);
        expect(teams.teams()[0]).toMatchObject({ displayName: "alertline dev (Tokyo)" });
        expect([...teams.teams()[0].members].sort()).toEqual([AKI, YUI].sort());

        // Another team type or organization replaces it.
        expect((await provider.diff!(created.id, read.props!, inputs({ teamType: "OPEN" }))).replaces).toEqual(["teamType"]);

        await provider.delete!(created.id, { ...news });
        expect(teams.teams()).toEqual([]);
        // Deleting again (already gone) is not an error.
        await provider.delete!(created.id, { ...news });
    });

    it("a team deleted by hand reads as gone, and is created again", async () => {
        const provider = jsmCreatedTeamProvider(options());
        const created = await provider.create!(inputs());
        expect(teams.deleteByHand(created.id)).toBe(true);
        expect((await provider.read!(created.id, created.outs)).id).toBe("");
        const again = await provider.create!(inputs());
        expect(again.id).not.toBe(created.id);
        expect(teams.teams().map((t) => t.teamId)).toEqual([again.id]);
    });

    it("members changed by hand show as drift and are put back", async () => {
        const provider = jsmCreatedTeamProvider(options());
        const created = await provider.create!(inputs({ members: [AKI, KEN, YUI] }));
        // Three members and a page size of 2: the members list follows pageInfo.endCursor.
        const read = await provider.read!(created.id, created.outs);
        expect([...read.props!.members].sort()).toEqual([AKI, KEN, YUI].sort());
        const listCalls = teams.requests.filter((r) => r.path.endsWith("/members") && r.status === 200);
        expect(listCalls.map((r) => (r.body as { after?: string }).after)).toContain("2");
    });
});

describe("JsmCreatedTeam: refusals and retries", () => {
    it("retries 429 and 5xx, then succeeds", async () => {
        let failures = 2;
        teams.script((method, path) => (method === "POST" && path.endsWith("/teams/") && failures-- > 0 ? { status: failures === 1 ? 429 : 503 } : undefined));
        const created = await jsmCreatedTeamProvider(options()).create!(inputs());
        expect(created.id).toBe(teams.teams()[0].teamId);
        expect(waits).toHaveLength(2);
    });

    it("retries enable-ops while JSM does not see the new team yet (404, as the provider does), then enables it", async () => {
        let unseen = 2;
        teams.script((method, path) => (path.endsWith("/enable-ops") && unseen-- > 0 ? { status: 404, body: { errors: [{ title: "Team not found" }] } } : undefined));
        const created = await jsmCreatedTeamProvider(options()).create!(inputs());
        expect(teams.teams()).toMatchObject([{ teamId: created.id, opsEnabled: true }]);
        expect(teams.requests.filter((r) => r.path.endsWith("/enable-ops")).map((r) => r.status)).toEqual([404, 404, 200]);
    });

    it("a team JSM never sees fails with the Teams API's hint, and the half-made team is deleted", async () => {
        teams.script((method, path) => (path.endsWith("/enable-ops") ? { status: 404, body: { errors: [{ title: "Team not found" }] } } : undefined));
        const error = await jsmCreatedTeamProvider({ ...options(), maxAttempts: 3 }).create!(inputs()).then(() => undefined, (e: Error) => e);
        expect(error?.message).toMatch(/enable-ops answered 404/);
        expect(teams.requests.filter((r) => r.path.endsWith("/enable-ops"))).toHaveLength(3);
        expect(teams.teams()).toEqual([]);
    });

    it("403 from the Teams API points at the organization id and the account's team rights", async () => {
        teams.script((method, path) => (path.endsWith("/teams/") ? { status: 403, body: { errors: [{ title: "Forbidden" }] } } : undefined));
        const error = await jsmCreatedTeamProvider(options()).create!(inputs()).then(() => undefined, (e: Error) => e);
        expect(error?.message).toContain("alertline:oncall.createTeam.organizationId");
    });

    it("a wrong API token is refused with a message naming the settings, and the token is not repeated", async () => {
        const error = await jsmCreatedTeamProvider(options())
            .create!(inputs({ connection: { apiUrl: teams.url, cloudId: CLOUD_ID, email: EMAIL, apiToken: "ATATT-wrong-token" } }))
            .then(() => undefined, (e: Error) => e);
        expect(error?.message).toContain("answered 401");
        expect(error?.message).toContain("alertline:jsmApiToken");
        expect(error?.message).not.toContain("ATATT-wrong-token");
        expect(teams.teams()).toEqual([]);
    });

    it("an unknown account id fails the create, names the setting, and the half-made team is deleted", async () => {
        const error = await jsmCreatedTeamProvider(options())
            .create!(inputs({ members: [AKI, "712020:nobody"] }))
            .then(() => undefined, (e: Error) => e);
        expect(error?.message).toContain("712020:nobody");
        expect(error?.message).toContain("alertline:oncall.createTeam.members");
        expect(teams.teams()).toEqual([]);
    });

    it("a field the Teams API refuses is named in the error", async () => {
        teams.script((method, path) => (method === "POST" && path.endsWith("/teams/") ? { status: 400, body: { errors: [{ title: "displayName is already used by another team" }] } } : undefined));
        const error = await jsmCreatedTeamProvider(options()).create!(inputs()).then(() => undefined, (e: Error) => e);
        expect(error?.message).toContain("`displayName`");
    });

    it("the stand-in refuses an unknown field and a missing one, as the service does", () => {
        expect(teamBodyProblems({ displayName: "x", description: "", teamType: "OPEN", members: [] }, "create")).toEqual(["members is not a known field"]);
        expect(teamBodyProblems({ displayName: "x", teamType: "OPEN" }, "create")).toEqual(["description is required"]);
        // The Atlassian provider's own create body (its TeamDto, answer-only fields included) is accepted.
        const providerBody = { description: "d", displayName: "x", siteId: null, organizationId: "", teamId: "", teamType: "OPEN", userPermissions: null };
        expect(teamBodyProblems(providerBody, "create")).toEqual([]);
        expect(teamBodyProblems({ displayName: "x", teamType: "SECRET" }, "update")).toEqual(["teamType must be one of OPEN, MEMBER_INVITE, EXTERNAL"]);
    });
});

describe("createdTeamFields: bad input names the field", () => {
    it("refuses no members, a bad account id, a bad team type", () => {
        expect(() => api.createdTeamFields({ displayName: "a", members: [] })).toThrow(/members is empty/);
        expect(() => api.createdTeamFields({ displayName: "a", members: ["has space"] })).toThrow(/profile/);
        expect(() => api.createdTeamFields({ displayName: "a", members: [AKI], teamType: "CLOSED" })).toThrow(/OPEN, MEMBER_INVITE, EXTERNAL/);
        expect(api.createdTeamFields({ displayName: "a", members: [AKI] }).teamType).toBe("MEMBER_INVITE");
    });
    it("memberChanges adds and removes the difference", () => {
        expect(api.memberChanges([AKI, KEN], [BOT, AKI])).toEqual({ add: [KEN], remove: [BOT] });
    });
});
