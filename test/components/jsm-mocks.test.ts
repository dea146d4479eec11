import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JsmHeartbeat, JsmTeam } from "../../components/jsm";
import { startOnCallSink, type OnCallSink } from "../../functions/tools/local-aws/oncall";
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
