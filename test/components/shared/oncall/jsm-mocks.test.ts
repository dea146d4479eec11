import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JsmApiIntegration, JsmCreatedTeam, JsmHeartbeat, JsmIntegrationAction, JsmTeam } from "../../../../components/shared/oncall/jsm";
import { startAtlassianTeams } from "../../../../tools/local/atlassian-teams";
import { startOnCallSink, type OnCallSink } from "../../../../tools/local/oncall";
import { loadProvider, recordRegistrations, registeredIn, type Registration, resolved, SECRET_SIG, SECRET_SIG_KEY } from "./dynamic-provider-mocks";

const CLOUD_ID = "3a015c30-bac7-4abc-97a1-50c1feea188a";
const EMAIL = "oncall-bot@example.jp";
const TOKEN = "ATATT3xFfGF0-mocks-test-token";
const TEAM_ID = "4b26961a-a837-49d2-a1fe-0973013e3c3b";

const registrations: Registration[] = [];
let sink: OnCallSink;

beforeAll(async () => {
    await recordRegistrations(registrations);
    sink = await startOnCallSink({ jsmOps: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN, teams: [{ id: TEAM_ID, name: "Ops Tokyo" }] } });
});
afterAll(async () => {
    await sink.close();
});

const registered = (type: string, name: string) => registeredIn(registrations, type, name);

describe("JsmTeam and JsmHeartbeat under mocks", () => {
    it("register as dynamic jsm types with the token secret on the wire, even when given as plain text", async () => {
        const team = new JsmTeam("oncall-jsm-team", { displayName: "Ops Tokyo", connection: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN } });
        const beat = new JsmHeartbeat("canary-heartbeat", { name: "alertline-dev-mail-path", interval: 30, intervalUnit: "minutes", teamId: team.id, connection: { cloudId: CLOUD_ID, email: EMAIL, apiToken: pulumi.secret(TOKEN) } });
        await Promise.all([resolved(team.urn), resolved(beat.urn)]);
        const teamRegistration = registered("pulumi-nodejs:dynamic/jsm:Team", "oncall-jsm-team");
        const beatRegistration = registered("pulumi-nodejs:dynamic/jsm:Heartbeat", "canary-heartbeat");
        const wire = { cloudId: CLOUD_ID, email: EMAIL, apiToken: { [SECRET_SIG_KEY]: SECRET_SIG, value: TOKEN }, apiUrl: "https://api.atlassian.com" };
        expect(teamRegistration.inputs.connection).toEqual(wire);
        expect(beatRegistration.inputs.connection).toEqual(wire);
        expect(beatRegistration.inputs).toMatchObject({ name: "alertline-dev-mail-path", interval: 30, intervalUnit: "minutes", enabled: true, teamId: "oncall-jsm-team-id", alertPriority: "P3", description: "" });
        expect(teamRegistration.additionalSecretOutputs).toContain("connection");
        expect(beatRegistration.additionalSecretOutputs).toContain("connection");
    });

    it("serialise providers that work on their own, as the dynamic provider process loads them", async () => {
        const team = new JsmTeam("standalone-team", { displayName: "Ops Tokyo", connection: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN } });
        const beat = new JsmHeartbeat("standalone-heartbeat", { name: "standalone", interval: 5, intervalUnit: "minutes", teamId: TEAM_ID, connection: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN } });
        await Promise.all([resolved(team.urn), resolved(beat.urn)]);
        const connection = { apiUrl: sink.gatewayUrl, cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN };
        const found = await loadProvider(registered("pulumi-nodejs:dynamic/jsm:Team", "standalone-team")).create({ displayName: "Ops Tokyo", connection });
        expect(found.id).toBe(TEAM_ID);
        const created = await loadProvider(registered("pulumi-nodejs:dynamic/jsm:Heartbeat", "standalone-heartbeat")).create({ name: "standalone", interval: 5, intervalUnit: "minutes", teamId: TEAM_ID, connection });
        expect(created.id).toBe("standalone");
        expect(sink.jsmOps.requests.map((r) => [r.action, r.auth, r.status])).toEqual([
            ["list-teams", "basic", 200],
            ["create-heartbeat", "basic", 201],
        ]);
    });

    it("rejects bad literal fields when the resource is declared, naming them", () => {
        const connection = { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN };
        expect(() => new JsmHeartbeat("bad-unit", { name: "x", interval: 5, intervalUnit: "weeks" as "days", teamId: TEAM_ID, connection })).toThrow(/intervalUnit "weeks" is invalid/);
        expect(() => new JsmTeam("bad-team", { displayName: " ", connection })).toThrow(/displayName is empty/);
    });
});

describe("JsmApiIntegration and JsmIntegrationAction under mocks", () => {
    const connection = { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN };

    it("register as dynamic jsm types with the key, the type's settings and the connection as secret outputs, and the webhook's header secret on the wire", async () => {
        const integration = new JsmApiIntegration("datadog-integration", { name: "alertline-dev-datadog", type: "Datadog", teamId: TEAM_ID, connection });
        const webhook = new JsmApiIntegration("ack-webhook", {
            name: "alertline-dev-ack",
            type: "Webhook",
            teamId: TEAM_ID,
            typeSpecificProperties: { url: "https://ack.example/", headers: { "X-Alertline-Token": "tok-0123456789" } },
            deleteDefaultActions: true,
            connection,
        });
        const action = new JsmIntegrationAction("ack-webhook-acknowledge", { integrationId: webhook.id, name: "Acknowledge to ack-webhook", type: "acknowledge", direction: "outgoing", connection });
        await Promise.all([resolved(integration.urn), resolved(webhook.urn), resolved(action.urn)]);
        const datadog = registered("pulumi-nodejs:dynamic/jsm:ApiIntegration", "datadog-integration");
        expect(datadog.inputs).toMatchObject({ name: "alertline-dev-datadog", type: "Datadog", teamId: TEAM_ID, enabled: true, deleteDefaultActions: false });
        expect(datadog.additionalSecretOutputs).toEqual(expect.arrayContaining(["apiKey", "typeSpecificProperties", "connection"]));
        const hook = registered("pulumi-nodejs:dynamic/jsm:ApiIntegration", "ack-webhook");
        expect(hook.inputs.typeSpecificProperties).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: { url: "https://ack.example/", headers: { "X-Alertline-Token": "tok-0123456789" } } });
        const act = registered("pulumi-nodejs:dynamic/jsm:IntegrationAction", "ack-webhook-acknowledge");
        expect(act.inputs).toMatchObject({ integrationId: "ack-webhook-id", type: "acknowledge", direction: "outgoing", domain: "alert", groupType: "forwarding", enabled: true });
        expect(act.additionalSecretOutputs).toContain("connection");
    });

    it("serialise providers that create in the stand-in on their own, as the dynamic provider process loads them", async () => {
        const integration = new JsmApiIntegration("standalone-integration", { name: "standalone", type: "API", teamId: TEAM_ID, connection });
        const action = new JsmIntegrationAction("standalone-action", { integrationId: integration.id, name: "Close", type: "close", direction: "incoming", connection });
        await Promise.all([resolved(integration.urn), resolved(action.urn)]);
        const live = { apiUrl: sink.gatewayUrl, cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN };
        const created = await loadProvider(registered("pulumi-nodejs:dynamic/jsm:ApiIntegration", "standalone-integration")).create({ name: "standalone", type: "API", enabled: true, teamId: TEAM_ID, typeSpecificProperties: {}, connection: live });
        expect(created.outs.apiKey).toEqual(sink.jsmOps.integrations().find((i) => i.id === created.id)?.apiKey);
        const made = await loadProvider(registered("pulumi-nodejs:dynamic/jsm:IntegrationAction", "standalone-action")).create({ integrationId: created.id, name: "Close", type: "close", direction: "incoming", connection: live });
        expect(sink.jsmOps.integrationActions(created.id).map((a) => a.id)).toContain(made.id);
    });

    it("rejects bad literal fields when the resource is declared, naming them", () => {
        expect(() => new JsmApiIntegration("bad-type", { name: "x", type: "Nagios", teamId: TEAM_ID, connection })).toThrow(/type "Nagios" is not one alertline creates/);
        expect(() => new JsmApiIntegration("bad-hook", { name: "x", type: "Webhook", teamId: TEAM_ID, typeSpecificProperties: {}, connection })).toThrow(/typeSpecificProperties\.url/);
        expect(() => new JsmIntegrationAction("bad-direction", { integrationId: "i", name: "x", type: "close", direction: "sideways" as "incoming", connection })).toThrow(/direction "sideways"/);
    });
});

describe("JsmCreatedTeam under mocks", () => {
    const ORG = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
    const MEMBERS = ["712020:aki", "712020:ken"];

    it("registers as a dynamic jsm type with the token secret on the wire and the site URL from domainName; refuses bad literal fields", async () => {
        const team = new JsmCreatedTeam("oncall-jsm-created-team", { organizationId: ORG, domainName: "example.atlassian.net", displayName: "Ops Tokyo", members: MEMBERS, connection: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN } });
        await resolved(team.urn);
        const registration = registered("pulumi-nodejs:dynamic/jsm:CreatedTeam", "oncall-jsm-created-team");
        expect(registration.inputs).toMatchObject({ organizationId: ORG, siteUrl: "https://example.atlassian.net", displayName: "Ops Tokyo", description: "", teamType: "MEMBER_INVITE", members: MEMBERS });
        expect((registration.inputs.connection as Record<string, unknown>).apiToken).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: TOKEN });
        expect(registration.additionalSecretOutputs).toContain("connection");
        const connection = { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN };
        expect(() => new JsmCreatedTeam("bad-members", { organizationId: ORG, domainName: "example.atlassian.net", displayName: "x", members: [], connection })).toThrow(/members is empty/);
    });

    it("serialises a provider that creates the team on its own, as the dynamic provider process loads it", async () => {
        const teams = await startAtlassianTeams({ organizationId: ORG, cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN, accounts: ["712020:bot", ...MEMBERS] });
        try {
            const team = new JsmCreatedTeam("standalone-created-team", { organizationId: ORG, domainName: "example.atlassian.net", displayName: "Ops Tokyo", members: MEMBERS, connection: { cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN } });
            await resolved(team.urn);
            const live = { apiUrl: teams.url, cloudId: CLOUD_ID, email: EMAIL, apiToken: TOKEN };
            const created = await loadProvider(registered("pulumi-nodejs:dynamic/jsm:CreatedTeam", "standalone-created-team")).create({
                organizationId: ORG,
                siteUrl: teams.url,
                displayName: "Ops Tokyo",
                description: "",
                teamType: "MEMBER_INVITE",
                members: MEMBERS,
                connection: live,
            });
            expect(teams.teams()).toMatchObject([{ teamId: created.id, opsEnabled: true, members: MEMBERS }]);
            expect(teams.violations).toEqual([]);
        } finally {
            await teams.close();
        }
    });
});
