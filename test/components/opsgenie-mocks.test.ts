import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpsgenieApiIntegration, OpsgenieTeam } from "../../components/opsgenie";
import { opsgenieApiUrl } from "../../components/opsgenie-api";
import { FakeOpsgenie } from "../fixtures/opsgenie/fake-opsgenie";

// How the SDK marks a secret in registered inputs (runtime/rpc.ts specialSigKey / specialSecretSig).
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const KEY = "3f9a1c7e-5b2d-4e8f-a6c4-d0e1f2a3b4c5";

interface Registration {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly additionalSecretOutputs: string[];
}

const registrations: Registration[] = [];

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getAdditionalsecretoutputsList(): string[];
}

beforeAll(async () => {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({
                id: `${args.name}-id`,
                state: args.type.endsWith(":ApiIntegration") ? { ...args.inputs, apiKey: "key-from-the-mock-engine" } : args.inputs,
            }),
            call: (args) => {
                throw new Error(`Mock not implemented: ${args.token}`);
            },
        },
        "alertline",
        "dev",
        false,
    );
    // Record the wire request itself: that is where secrets and additionalSecretOutputs are visible.
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, cb: unknown) => unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
        registrations.push({
            type: req.getType(),
            name: req.getName(),
            inputs: req.getObject()?.toJavaScript() ?? {},
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        });
        return register(req, cb);
    };
});

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

function registered(type: string, name: string): Registration {
    const found = registrations.find((r) => r.type === type && r.name === name);
    if (found === undefined) throw new Error(`${type} ${name} was not registered; got ${registrations.map((r) => `${r.type} ${r.name}`).join(", ")}`);
    return found;
}

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
        const requireFromString = createRequire(__filename)("require-from-string") as (code: string) => { handler(): pulumi.dynamic.ResourceProvider };
        const provider = requireFromString(registration.inputs.__provider as string).handler();
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
