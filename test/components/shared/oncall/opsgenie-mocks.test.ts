import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpsgenieApiIntegration, OpsgenieHeartbeat, OpsgenieTeam } from "../../../../components/shared/oncall/opsgenie";
import { opsgenieApiUrl } from "../../../../components/shared/oncall/opsgenie-api";
import { FakeOpsgenie } from "../../../fixtures/opsgenie/fake-opsgenie";
import { loadProvider, recordRegistrations, registeredIn, type Registration, resolved, SECRET_SIG, SECRET_SIG_KEY } from "./dynamic-provider-mocks";

const KEY = "3f9a1c7e-5b2d-4e8f-a6c4-d0e1f2a3b4c5";

const registrations: Registration[] = [];

beforeAll(async () => {
    await recordRegistrations(registrations, (args) => (args.type.endsWith(":ApiIntegration") ? { ...args.inputs, apiKey: "key-from-the-mock-engine" } : args.inputs));
});

const registered = (type: string, name: string) => registeredIn(registrations, type, name);

describe("OpsgenieTeam and OpsgenieApiIntegration under mocks", () => {
    const fake = new FakeOpsgenie(KEY);
    afterAll(() => fake.stop());

    it("register as dynamic opsgenie types with a serialised provider, the key secret in inputs and in apiKey", async () => {
        const connection = { apiKey: pulumi.secret(KEY), apiUrl: opsgenieApiUrl("eu") };
        const team = new OpsgenieTeam("alerts-oncall-team", { name: "alertline-dev", description: "dev on-call", connection });
        const integration = new OpsgenieApiIntegration("alerts-datadog-integration", {
            name: "alertline-dev-datadog",
            type: "Datadog",
            ownerTeamId: team.id,
            connection,
        });
        const apiKey = await resolved(integration.apiKey);

        const teamRegistration = registered("pulumi-nodejs:dynamic/opsgenie:Team", "alerts-oncall-team");
        const registration = registered("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "alerts-datadog-integration");
        expect(teamRegistration.inputs.connection).toEqual({ apiKey: { [SECRET_SIG_KEY]: SECRET_SIG, value: KEY }, apiUrl: "https://api.eu.opsgenie.com" });
        expect(registration.inputs.connection).toEqual({ apiKey: { [SECRET_SIG_KEY]: SECRET_SIG, value: KEY }, apiUrl: "https://api.eu.opsgenie.com" });
        expect(registration.inputs).toMatchObject({ name: "alertline-dev-datadog", type: "Datadog", enabled: true, ownerTeamId: "alerts-oncall-team-id" });
        expect(registration.additionalSecretOutputs).toEqual(expect.arrayContaining(["apiKey", "connection"]));
        expect(teamRegistration.additionalSecretOutputs).toContain("connection");
        expect(typeof registration.inputs.__provider).toBe("string");
        expect(registration.inputs.__provider).toMatch(/^exports\.handler = /);

        expect(apiKey).toBe("key-from-the-mock-engine");
        expect(await pulumi.isSecret(integration.apiKey)).toBe(true);
    });

    it("serialises a provider that works on its own, as the dynamic provider process would load it", async () => {
        const team = new OpsgenieTeam("standalone-team", { name: "standalone", connection: { apiKey: pulumi.secret(KEY), apiUrl: opsgenieApiUrl("us") } });
        await resolved(team.urn);
        const url = await fake.start();
        const registration = registered("pulumi-nodejs:dynamic/opsgenie:Team", "standalone-team");
        // The dynamic provider host loads __provider with require-from-string and calls handler().
        const provider = loadProvider(registration);
        const result = await provider.create({ name: "alertline-dev", description: "dev on-call", connection: { apiKey: KEY, apiUrl: url } });
        expect(result.id).toBe([...fake.teams.keys()][0]);
        expect(fake.requests.map((r) => [r.method, r.path, r.authorization])).toEqual([["POST", "/v2/teams", `GenieKey ${KEY}`]]);
    });

    it("marks the key secret even when it is passed as plain text, and leaves the URL readable", async () => {
        const team = new OpsgenieTeam("plain-key-team", { name: "plain", connection: { apiKey: KEY, apiUrl: opsgenieApiUrl("us") } });
        await resolved(team.urn);
        expect(registered("pulumi-nodejs:dynamic/opsgenie:Team", "plain-key-team").inputs.connection).toEqual({
            apiKey: { [SECRET_SIG_KEY]: SECRET_SIG, value: KEY },
            apiUrl: "https://api.opsgenie.com",
        });
    });

    it("rejects a bad literal team name when the resource is declared", async () => {
        expect(() => new OpsgenieTeam("bad", { name: "on/call", connection: { apiKey: KEY, apiUrl: opsgenieApiUrl("us") } })).toThrow(
            /team name "on\/call" is invalid/,
        );
    });
});

describe("OpsgenieHeartbeat and a Webhook OpsgenieApiIntegration under mocks", () => {
    const fake = new FakeOpsgenie(KEY);
    afterAll(() => fake.stop());
    const secretOf = (value: unknown) => ({ [SECRET_SIG_KEY]: SECRET_SIG, value });
    const connection = () => ({ apiKey: pulumi.secret(KEY), apiUrl: opsgenieApiUrl("us") });

    it("register with the key, and the webhook headers, secret in inputs and in state", async () => {
        const heartbeat = new OpsgenieHeartbeat("canary-heartbeat", {
            name: "alertline-dev-mail-path",
            interval: 30,
            intervalUnit: "minutes",
            alertTags: ["alertline", "canary"],
            connection: connection(),
        });
        const hook = new OpsgenieApiIntegration("ack-webhook", {
            name: "alertline-dev-ack",
            type: "Webhook",
            webhookUrl: "https://ack.example.com/hook",
            headers: { "X-Alertline-Token": "shared-token-1" },
            forwardedActions: ["acknowledge", "close"],
            connection: connection(),
        });
        await resolved(heartbeat.urn);
        const headers = await resolved(hook.headers);

        const beat = registered("pulumi-nodejs:dynamic/opsgenie:Heartbeat", "canary-heartbeat");
        expect(beat.inputs).toMatchObject({
            name: "alertline-dev-mail-path",
            description: "",
            interval: 30,
            intervalUnit: "minutes",
            enabled: true,
            alertTags: ["alertline", "canary"],
            alertPriority: "P3",
        });
        expect(beat.inputs.connection).toEqual({ apiKey: secretOf(KEY), apiUrl: "https://api.opsgenie.com" });
        expect(beat.additionalSecretOutputs).toContain("connection");
        expect(beat.inputs.__provider).toMatch(/^exports\.handler = /);

        const webhook = registered("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "ack-webhook");
        expect(webhook.inputs).toMatchObject({ type: "Webhook", webhookUrl: "https://ack.example.com/hook", forwardedActions: ["acknowledge", "close"] });
        expect(webhook.inputs.headers).toEqual(secretOf({ "X-Alertline-Token": "shared-token-1" }));
        expect(webhook.inputs.connection).toEqual({ apiKey: secretOf(KEY), apiUrl: "https://api.opsgenie.com" });
        expect(webhook.additionalSecretOutputs).toEqual(expect.arrayContaining(["headers", "apiKey", "connection"]));
        expect(headers).toEqual({ "X-Alertline-Token": "shared-token-1" });
        expect(await pulumi.isSecret(hook.headers)).toBe(true);
    });

    it("keeps headers given as a secret Output secret, and waits for Outputs before checking webhook fields", async () => {
        const token = pulumi.secret(pulumi.output("shared-token-2"));
        const hook = new OpsgenieApiIntegration("ack-webhook-outputs", {
            name: "alertline-dev-ack-2",
            type: "Webhook",
            webhookUrl: pulumi.output("https://abc.lambda-url.ap-northeast-1.on.aws/"),
            headers: token.apply((value) => ({ "X-Alertline-Token": value })),
            forwardedActions: ["close"],
            connection: connection(),
        });
        await resolved(hook.urn);
        const registration = registered("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "ack-webhook-outputs");
        expect(registration.inputs.headers).toEqual(secretOf({ "X-Alertline-Token": "shared-token-2" }));
        expect(registration.inputs.webhookUrl).toBe("https://abc.lambda-url.ap-northeast-1.on.aws/");
    });

    it("rejects bad literal fields when the resource is declared", () => {
        expect(
            () => new OpsgenieHeartbeat("bad-interval", { name: "hb", interval: 0, intervalUnit: "minutes", connection: { apiKey: KEY, apiUrl: opsgenieApiUrl("us") } }),
        ).toThrow(/heartbeat interval 0 is invalid/);
        expect(
            () =>
                new OpsgenieApiIntegration("bad-webhook", {
                    name: "n",
                    type: "Datadog",
                    webhookUrl: "https://ack.example.com/hook",
                    connection: { apiKey: KEY, apiUrl: opsgenieApiUrl("us") },
                }),
        ).toThrow(/webhookUrl, headers and forwardedActions apply only to type "Webhook"/);
        expect(
            () =>
                new OpsgenieApiIntegration("webhook-without-actions", {
                    name: "n",
                    type: "Webhook",
                    webhookUrl: "https://ack.example.com/hook",
                    connection: { apiKey: KEY, apiUrl: opsgenieApiUrl("us") },
                }),
        ).toThrow(/forwardedActions must list the alert actions the webhook posts/);
    });

    it("serialise providers that work on their own: heartbeat create/diff/update and a Webhook create/diff", async () => {
        const declaredHeartbeat = new OpsgenieHeartbeat("standalone-heartbeat", { name: "standalone", interval: 5, intervalUnit: "minutes", connection: connection() });
        const declaredHook = new OpsgenieApiIntegration("standalone-webhook", {
            name: "standalone",
            type: "Webhook",
            webhookUrl: "https://ack.example.com/hook",
            forwardedActions: ["acknowledge", "close"],
            connection: connection(),
        });
        await Promise.all([resolved(declaredHeartbeat.urn), resolved(declaredHook.urn)]);
        const url = await fake.start();
        const conn = { apiKey: KEY, apiUrl: url };
        const heartbeats = loadProvider(registered("pulumi-nodejs:dynamic/opsgenie:Heartbeat", "standalone-heartbeat"));
        const created = await heartbeats.create({ name: "alertline-dev-mail-path", interval: 30, intervalUnit: "minutes", connection: conn });
        expect(created.id).toBe("alertline-dev-mail-path");
        const news = { name: "alertline-dev-mail-path", interval: 60, intervalUnit: "minutes", connection: conn };
        expect(await heartbeats.diff!(created.id, created.outs, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        await heartbeats.update!(created.id, created.outs, news);
        expect(fake.heartbeats.get("alertline-dev-mail-path")?.interval).toBe(60);

        const integrations = loadProvider(registered("pulumi-nodejs:dynamic/opsgenie:ApiIntegration", "standalone-webhook"));
        fake.createAnswerHasApiKey = false;
        const hookInputs = { name: "alertline-dev-ack", type: "Webhook", webhookUrl: "https://ack.example.com/hook", headers: { "X-Alertline-Token": "t" }, forwardedActions: ["acknowledge", "close"] as ("acknowledge" | "close")[], connection: conn };
        const hook = await integrations.create(hookInputs);
        expect(hook.outs.apiKey).toBeUndefined();
        expect(await integrations.diff!(hook.id, hook.outs, { ...hookInputs, headers: { "X-Alertline-Token": "t2" } })).toMatchObject({ changes: true, replaces: [] });
        expect(fake.requests.map((r) => r.method + " " + r.path)).toEqual([
            "POST /v2/heartbeats",
            "PATCH /v2/heartbeats/alertline-dev-mail-path",
            "POST /v2/integrations",
            `POST /v2/integrations/${hook.id}/enable`,
        ]);
    });
});
