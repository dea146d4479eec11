import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as api from "../../../../components/shared/oncall/opsgenie-api";

const fixture = (file: string) => readFileSync(path.join(__dirname, "../../../fixtures/opsgenie", file), "utf8");
const KEY = "5e0c7a52-93d1-4d0e-8f51-2c1f0a9b7d33";

describe("opsgenieApiUrl", () => {
    it("gives the US and EU base URLs", () => {
        expect(api.opsgenieApiUrl("us")).toBe("https://api.opsgenie.com");
        expect(api.opsgenieApiUrl("eu")).toBe("https://api.eu.opsgenie.com");
    });

    it("names the allowed regions for anything else", () => {
        expect(() => api.opsgenieApiUrl("ap" as api.OpsgenieRegion)).toThrow(/"ap" is unknown: use "us" or "eu"/);
    });
});

describe("checkConnection", () => {
    it("accepts a key with a region URL", () => {
        expect(api.checkConnection({ apiKey: KEY, apiUrl: "https://api.eu.opsgenie.com" })).toEqual({ apiKey: KEY, apiUrl: "https://api.eu.opsgenie.com" });
    });

    it("names the empty key and how to fix it", () => {
        expect(() => api.checkConnection({ apiKey: " ", apiUrl: "https://api.opsgenie.com" })).toThrow(/connection\.apiKey is empty: pass an Opsgenie API key/);
    });

    it("rejects an apiUrl with a path and shows the valid ones", () => {
        expect(() => api.checkConnection({ apiKey: KEY, apiUrl: "https://api.opsgenie.com/v2" })).toThrow(/not a base URL: use opsgenieApiUrl\("us"\)/);
    });

    it("rejects a missing connection", () => {
        expect(() => api.checkConnection(undefined)).toThrow(/connection is missing/);
    });
});

describe("requests", () => {
    it("puts the key in a GenieKey Authorization header and JSON content type only with a body", () => {
        const post = api.createTeamRequest({ name: "alertline-dev", description: "" });
        expect(api.requestHeaders(KEY, post)).toEqual({
            Authorization: `GenieKey ${KEY}`,
            Accept: "application/json",
            "Content-Type": "application/json; charset=utf-8",
        });
        expect(api.requestHeaders(KEY, api.getTeamRequest("t1"))).not.toHaveProperty("Content-Type");
    });

    it("addresses teams by id with identifierType=id and escapes ids", () => {
        expect(api.requestUrl("https://api.eu.opsgenie.com", api.getTeamRequest("a b/c"))).toBe(
            "https://api.eu.opsgenie.com/v2/teams/a%20b%2Fc?identifierType=id",
        );
        expect(api.requestUrl("https://api.opsgenie.com", api.deleteTeamRequest("t1"))).toBe("https://api.opsgenie.com/v2/teams/t1?identifierType=id");
        expect(api.updateTeamRequest("t1", { name: "n", description: "d" })).toEqual({
            method: "PATCH",
            path: "/v2/teams/t1",
            body: { name: "n", description: "d" },
        });
    });

    it("refuses an empty id instead of addressing the collection", () => {
        expect(() => api.deleteIntegrationRequest("")).toThrow(/id is empty/);
    });

    it("creates an owned integration with the team as owner and responder", () => {
        const request = api.createIntegrationRequest({ name: "alertline-dev-datadog", type: "Datadog", enabled: true, ownerTeamId: "t1" });
        expect(request).toEqual({
            method: "POST",
            path: "/v2/integrations",
            body: {
                type: "Datadog",
                name: "alertline-dev-datadog",
                enabled: true,
                ownerTeam: { id: "t1" },
                responders: [{ type: "team", id: "t1" }],
            },
        });
    });

    it("creates a global integration without owner or responders", () => {
        const body = api.createIntegrationRequest({ name: "global", type: "API", enabled: false }).body;
        expect(body).toEqual({ type: "API", name: "global", enabled: false });
    });

    it("builds the PUT from the GET data minus _readOnly fields, with our fields on top", () => {
        const current = (JSON.parse(fixture("integration.json")) as { data: Record<string, unknown> }).data;
        const request = api.updateIntegrationRequest("i1", current, { name: "renamed", type: "Datadog", enabled: false, ownerTeamId: "t1" });
        expect(request.method).toBe("PUT");
        expect(request.path).toBe("/v2/integrations/i1");
        const body = request.body as Record<string, unknown>;
        for (const readOnly of current._readOnly as string[]) {
            if (readOnly !== "id" && readOnly !== "type") expect(body).not.toHaveProperty(readOnly);
        }
        expect(body).not.toHaveProperty("_readOnly");
        expect(body).toMatchObject({ id: "i1", name: "renamed", type: "Datadog", enabled: false });
        expect(body.allowWriteAccess).toBe(current.allowWriteAccess);
        expect(body.recipients).toEqual(current.recipients);
    });

    it("never sends the apiKey back in a PUT, even when GET does not list it as read-only", () => {
        const current = { id: "i1", name: "n", type: "API", apiKey: "live-key-123", _readOnly: ["id"], allowWriteAccess: true };
        const body = api.updateIntegrationRequest("i1", current, { name: "n", type: "API", enabled: true }).body!;
        expect(body).not.toHaveProperty("apiKey");
        expect(body).toMatchObject({ allowWriteAccess: true });
    });

    it("enables and disables through their own endpoints", () => {
        expect(api.setIntegrationEnabledRequest("i1", true).path).toBe("/v2/integrations/i1/enable");
        expect(api.setIntegrationEnabledRequest("i1", false).path).toBe("/v2/integrations/i1/disable");
    });
});

describe("input checks", () => {
    it("defaults a team's description to empty", () => {
        expect(api.teamFields({ name: "alertline-dev" })).toEqual({ name: "alertline-dev", description: "" });
    });

    it("names the team name rule", () => {
        expect(() => api.teamFields({ name: "on/call" })).toThrow(/team name "on\/call" is invalid: use 1 to 99 letters, digits, spaces/);
        // The official provider refuses 100 characters and more (validateOpsGenieTeamName: len >= 100).
        expect(() => api.teamFields({ name: "x".repeat(100) })).toThrow(/is invalid/);
        expect(api.teamFields({ name: "On call team.1" }).name).toBe("On call team.1");
    });

    it("defaults an integration to type API, enabled, no owner", () => {
        expect(api.integrationFields({ name: "n" })).toEqual({ name: "n", type: "API", enabled: true });
    });

    it("names a bad integration type, enabled flag or owner", () => {
        expect(() => api.integrationFields({ name: "n", type: "Data dog" })).toThrow(/type "Data dog" is invalid: use .* "API" or "Datadog"/);
        expect(() => api.integrationFields({ name: "n", enabled: "yes" })).toThrow(/enabled must be true or false/);
        expect(() => api.integrationFields({ name: "n", ownerTeamId: "" })).toThrow(/ownerTeamId is empty/);
        expect(() => api.integrationFields({ name: "" })).toThrow(/name "" is invalid/);
    });
});

describe("answers", () => {
    const createTeam = api.createTeamRequest({ name: "alertline-dev", description: "" });

    it("takes the new team's id from the create answer", () => {
        const body = JSON.parse(fixture("team-created.json")) as Record<string, unknown>;
        expect(api.createdTeamId(body)).toBe((body.data as { id: string }).id);
        expect(api.createdTeamId({ result: "Created" })).toBeUndefined();
    });

    it("reads a team, with a missing description as empty", () => {
        const body = JSON.parse(fixture("team.json")) as { data: Record<string, unknown> };
        const request = api.getTeamRequest(String(body.data.id));
        expect(api.parseTeam(request, body)).toEqual({ id: body.data.id, name: body.data.name, description: body.data.description });
        delete body.data.description;
        expect(api.parseTeam(request, body).description).toBe("");
    });

    it("reads an integration's owner, enabled flag and key", () => {
        const body = JSON.parse(fixture("integration.json")) as { data: Record<string, unknown> };
        const parsed = api.parseIntegration(api.getIntegrationRequest("i"), body);
        expect(parsed).toEqual({
            id: body.data.id,
            name: body.data.name,
            type: body.data.type,
            enabled: body.data.enabled,
            ownerTeamId: (body.data.ownerTeam as { id: string }).id,
            apiKey: body.data.apiKey,
        });
    });

    it("leaves apiKey out when the answer has none, and takes teamId as owner", () => {
        const parsed = api.parseIntegration(api.getIntegrationRequest("i"), { data: { id: "i", name: "n", type: "API", teamId: "t9" } });
        expect(parsed).toEqual({ id: "i", name: "n", type: "API", ownerTeamId: "t9" });
    });

    it("names the operation when data is missing", () => {
        expect(() => api.parseTeam(api.getTeamRequest("t"), { took: 1 })).toThrow(/GET \/v2\/teams\/t answered without a "data" object/);
        expect(() => api.parseIntegration(api.getIntegrationRequest("i"), { data: { name: "n", type: "API" } })).toThrow(/without data\.id/);
    });

    it("formats a failure as operation, status, Opsgenie's message with field errors, and a hint", () => {
        const message = api.failureMessage(createTeam, { status: 422, bodyText: fixture("error-unprocessable.json") }, KEY);
        const [head, hint] = message.split(" — ");
        expect(head).toBe(
            "Opsgenie POST /v2/teams answered 422: Request body is not processable. Please check the errors. (name: There is already one Team with same name)",
        );
        expect(hint).toMatch(/already taken .*: fix them, or delete or import the existing entity\.$/);
    });

    it("never repeats the API key, even when the server echoes it", () => {
        const echoed = JSON.stringify({ message: `Key ${KEY} is not valid` });
        const message = api.failureMessage(createTeam, { status: 401, bodyText: echoed }, KEY);
        expect(message).not.toContain(KEY);
        expect(message).toContain("Key [redacted] is not valid");
        expect(message).toMatch(/check connection\.apiKey and that connection\.apiUrl is the account's region/);
    });

    it("says how many tries a rate-limited request got", () => {
        expect(api.failureMessage(createTeam, { status: 429, bodyText: "" }, KEY, 5)).toMatch(
            /answered 429: \(empty body\) — .*rate-limited .* gave up after 5 attempts; wait a minute/,
        );
    });

    it("shows the start of a non-JSON error body", () => {
        expect(api.errorMessageOf("<html>Bad Gateway</html>")).toBe("<html>Bad Gateway</html>");
    });

    it("returns the parsed body of a 2xx answer and throws the failure message otherwise", () => {
        expect(api.successBody(createTeam, { status: 201, bodyText: '{"result":"Created"}' }, KEY)).toEqual({ result: "Created" });
        expect(api.successBody(createTeam, { status: 200, bodyText: "" }, KEY)).toEqual({});
        expect(() => api.successBody(createTeam, { status: 403, bodyText: fixture("error.json") }, KEY)).toThrow(
            /^Opsgenie POST \/v2\/teams answered 403: Could not authenticate — the API key lacks a right/,
        );
        expect(() => api.successBody(createTeam, { status: 200, bodyText: "ok" }, KEY)).toThrow(/answered 200 with a body that is not JSON/);
    });

    it("explains a missing integration key with what to do", () => {
        const message = api.missingApiKeyMessage("i1", "alertline-dev-datadog", "alertline deleted integration i1 again.");
        expect(message).toMatch(/created integration "alertline-dev-datadog" \(i1\) but neither POST \/v2\/integrations nor GET \/v2\/integrations\/i1 returned its apiKey/);
        expect(message).toMatch(/alertline deleted integration i1 again\. Check that connection\.apiKey has Configuration access/);
    });
});

describe("retries", () => {
    it("retries 429 and 5xx except 501, nothing else", () => {
        const retried = [200, 201, 400, 401, 404, 409, 422, 429, 500, 501, 502, 503, 504].filter(api.isRetryableStatus);
        expect(retried).toEqual([429, 500, 502, 503, 504]);
    });

    it("honours Retry-After seconds, capped at 30 s", () => {
        expect(api.retryDelayMs(1, "0")).toBe(0);
        expect(api.retryDelayMs(1, "2")).toBe(2000);
        expect(api.retryDelayMs(1, "3600")).toBe(30_000);
    });

    it("backs off exponentially without Retry-After, capped at 16 s", () => {
        expect([1, 2, 3, 4, 5, 6].map((attempt) => api.retryDelayMs(attempt, null))).toEqual([1000, 2000, 4000, 8000, 16_000, 16_000]);
        expect(api.retryDelayMs(2, "Wed, 21 Oct 2015 07:28:00 GMT")).toBe(2000);
    });
});

describe("redaction", () => {
    it("removes the key and every header value in one pass, longest first", () => {
        expect(api.redact("key K1 token abc-secret and abc", ["K1", "abc", "abc-secret"])).toBe("key [redacted] token [redacted] and [redacted]");
        // A one-letter secret must not eat into the markers already put in.
        expect(api.redact("token abcd e", ["abcd", "e"])).toBe("tok[redacted]n [redacted] [redacted]");
    });

    it("matches secrets literally, not as patterns", () => {
        expect(api.redact("x a.b+c y axb+c", ["a.b+c"])).toBe("x [redacted] y axb+c");
    });

    it("leaves text alone when there is no secret to remove", () => {
        expect(api.redact("nothing here", ["", ""])).toBe("nothing here");
        expect(api.redact("nothing here", "")).toBe("nothing here");
    });

    it("keeps header values out of failure and unreachable messages", () => {
        const token = "whsec-7f3a9c2e";
        const request = api.getIntegrationRequest("i1");
        const echoed = JSON.stringify({ message: `Header X-Alertline-Token: ${token} refused`, errors: { headers: `bad value ${token}` } });
        const message = api.failureMessage(request, { status: 422, bodyText: echoed }, [KEY, token]);
        expect(message).not.toContain(token);
        expect(message).toContain("Header X-Alertline-Token: [redacted] refused (headers: bad value [redacted])");
        expect(api.unreachableMessage(request, "https://api.opsgenie.com", `reset by ${token}`, [KEY, token], 5)).not.toContain(token);
    });

    it("collects header values from every header map given", () => {
        expect(api.headerSecrets({ a: "1", b: "2" }, undefined, { c: "3" })).toEqual(["1", "2", "3"]);
        expect(api.headerSecrets(undefined)).toEqual([]);
    });
});

describe("Webhook integrations", () => {
    const hook = { name: "alertline-dev-ack", type: "Webhook", webhookUrl: "https://ack.example.com/hook", forwardedActions: ["acknowledge", "close"] };

    it("keeps webhookUrl, headers and forwarded actions for type Webhook, with no headers as {}", () => {
        expect(api.integrationFields({ ...hook, headers: { "X-Alertline-Token": "t0k" } })).toEqual({
            name: "alertline-dev-ack",
            type: "Webhook",
            enabled: true,
            webhookUrl: "https://ack.example.com/hook",
            headers: { "X-Alertline-Token": "t0k" },
            forwardedActions: ["acknowledge", "close"],
        });
        expect(api.integrationFields(hook).headers).toEqual({});
    });

    it("refuses webhookUrl, headers or forwardedActions on another type, naming the fields and the type", () => {
        expect(() => api.integrationFields({ name: "n", type: "API", webhookUrl: "https://x.example.com" })).toThrow(
            /has type "API", but webhookUrl, headers and forwardedActions apply only to type "Webhook"/,
        );
        expect(() => api.integrationFields({ name: "n", headers: { A: "b" } })).toThrow(/type "API", but webhookUrl, headers/);
        expect(() => api.integrationFields({ name: "n", type: "Datadog", forwardedActions: ["close"] })).toThrow(/type "Datadog", but webhookUrl, headers and forwardedActions/);
    });

    it("requires the forwarded actions to be set explicitly, from Opsgenie's action names", () => {
        const { forwardedActions: _, ...unset } = hook;
        expect(() => api.integrationFields(unset)).toThrow(/forwardedActions must list the alert actions the webhook posts, from "create", "acknowledge", .*got undefined\. Set them explicitly: left out, Opsgenie posts its own default set/);
        expect(() => api.integrationFields({ ...hook, forwardedActions: [] })).toThrow(/forwardedActions must list/);
        expect(() => api.integrationFields({ ...hook, forwardedActions: ["Acknowledge"] })).toThrow(/forwardedActions must list.*got \["Acknowledge"\]/);
        expect(api.integrationFields({ ...hook, forwardedActions: ["close", "close", "acknowledge"] }).forwardedActions).toEqual(["close", "acknowledge"]);
    });

    it("maps the action a webhook payload carries to the name Opsgenie's mappings use, and refuses others", () => {
        expect(["Acknowledge", "Close", "Create", "AddNote", "UnAcknowledge"].map(api.forwardedActionFor)).toEqual(["acknowledge", "close", "create", "add-note", "unacknowledge"]);
        expect(() => api.forwardedActionFor("acknowledge")).toThrow(/webhook action "acknowledge" is not one alertline can forward: use one of Create, Acknowledge/);
    });

    it("requires an http(s) webhookUrl for type Webhook", () => {
        expect(() => api.integrationFields({ name: "n", type: "Webhook" })).toThrow(/type "Webhook" but no webhookUrl/);
        expect(() => api.integrationFields({ ...hook, webhookUrl: "ftp://x.example.com" })).toThrow(/webhookUrl "ftp:\/\/x\.example\.com" is not an http\(s\) URL/);
        expect(() => api.integrationFields({ ...hook, webhookUrl: "ack.example.com/hook" })).toThrow(/is not an http\(s\) URL/);
    });

    it("names a bad header without ever showing its value", () => {
        const secret = "s3cr3t-value";
        const errorOf = (headers: unknown) => {
            try {
                api.integrationFields({ ...hook, headers });
            } catch (error) {
                return (error as Error).message;
            }
            throw new Error("expected integrationFields to throw");
        };
        const lineBreak = errorOf({ "X-Token": `${secret}\r\nX-Injected: 1` });
        expect(lineBreak).toMatch(/headers\["X-Token"\] holds a line break or NUL \(value not shown\)/);
        expect(lineBreak).not.toContain(secret);
        expect(errorOf({ "X Token": secret })).toMatch(/headers name "X Token" is not an HTTP header name/);
        expect(errorOf({ "X Token": secret })).not.toContain(secret);
        expect(errorOf({ "X-Count": 3 })).toMatch(/headers\["X-Count"\] must be text; got number/);
        expect(errorOf([secret])).toMatch(/headers must be an object .*; got an array/);
    });

    it("creates with url, alert description and details, the headers, and exactly the forwarded actions; the team owns it but is no responder", () => {
        const fields = api.integrationFields({ ...hook, ownerTeamId: "t1", headers: { "X-Alertline-Token": "t0k" } });
        expect(api.createIntegrationRequest(fields).body).toEqual({
            type: "Webhook",
            name: "alertline-dev-ack",
            enabled: true,
            ownerTeam: { id: "t1" },
            url: "https://ack.example.com/hook",
            addAlertDescription: true,
            addAlertDetails: true,
            headers: { "X-Alertline-Token": "t0k" },
            forwardingEnabled: true,
            forwardingActionMappings: [
                { action: "acknowledge", mappedAction: "postToUrl" },
                { action: "close", mappedAction: "postToUrl" },
            ],
        });
    });

    it("adds no webhook fields to other types", () => {
        const body = api.createIntegrationRequest(api.integrationFields({ name: "n", type: "Datadog" })).body!;
        for (const field of ["url", "addAlertDescription", "addAlertDetails", "headers", "forwardingEnabled", "forwardingActionMappings"]) expect(body).not.toHaveProperty(field);
    });

    it("puts its own forwarded actions over whatever mappings GET returned", () => {
        const current = {
            id: "i1",
            name: "n",
            type: "Webhook",
            url: "https://ack.example.com/hook",
            forwardingEnabled: false,
            forwardingActionMappings: [{ action: "create", mappedAction: "postToUrl" }, { action: "add-note", mappedAction: "postToUrl" }],
        };
        const body = api.updateIntegrationRequest("i1", current, api.integrationFields({ ...hook, forwardedActions: ["close"] })).body!;
        expect(body).toMatchObject({ forwardingEnabled: true, forwardingActionMappings: [{ action: "close", mappedAction: "postToUrl" }] });
    });

    it("replaces the whole header map on update, so a removed header goes away", () => {
        const current = { id: "i1", name: "n", type: "Webhook", url: "https://old.example.com", headers: { Old: "o", Kept: "k" }, _readOnly: ["id"] };
        const request = api.updateIntegrationRequest("i1", current, api.integrationFields({ ...hook, headers: { Kept: "k2" } }));
        expect(request.body).toMatchObject({ url: "https://ack.example.com/hook", addAlertDescription: true, addAlertDetails: true, headers: { Kept: "k2" } });
        expect((request.body as { headers: object }).headers).not.toHaveProperty("Old");
        const cleared = api.updateIntegrationRequest("i1", current, api.integrationFields(hook));
        expect((cleared.body as { headers: object }).headers).toEqual({});
    });

    it("reads url and text headers back from GET", () => {
        const body = { data: { id: "i", name: "n", type: "Webhook", url: "https://h.example.com", headers: { A: "1" } } };
        expect(api.parseIntegration(api.getIntegrationRequest("i"), body)).toEqual({ id: "i", name: "n", type: "Webhook", webhookUrl: "https://h.example.com", headers: { A: "1" } });
        const mapped = { data: { ...body.data, forwardingActionMappings: [{ action: "close", mappedAction: "postToUrl" }, { action: "create", mappedAction: "somethingElse" }, { mappedAction: "postToUrl" }] } };
        expect(api.parseIntegration(api.getIntegrationRequest("i"), mapped).forwardedActions).toEqual(["close"]);
        const odd = { data: { id: "i", name: "n", type: "Webhook", headers: { A: 1 } } };
        expect(api.parseIntegration(api.getIntegrationRequest("i"), odd)).not.toHaveProperty("headers");
    });
});

describe("heartbeats", () => {
    const beat = { name: "alertline-dev-mail-path", interval: 30, intervalUnit: "minutes" };

    it("applies defaults: enabled, no description or tags, P3, and '<name> is expired'", () => {
        expect(api.heartbeatFields(beat)).toEqual({
            name: "alertline-dev-mail-path",
            description: "",
            interval: 30,
            intervalUnit: "minutes",
            enabled: true,
            alertMessage: "alertline-dev-mail-path is expired",
            alertTags: [],
            alertPriority: "P3",
        });
    });

    it("names the field and the rule for each bad input", () => {
        expect(() => api.heartbeatFields({ ...beat, interval: 0 })).toThrow(/heartbeat interval 0 is invalid: use a whole number of 1 or more/);
        expect(() => api.heartbeatFields({ ...beat, interval: 1.5 })).toThrow(/interval 1\.5 is invalid/);
        expect(() => api.heartbeatFields({ ...beat, interval: "10" })).toThrow(/interval "10" \(text\) is invalid/);
        expect(() => api.heartbeatFields({ ...beat, interval: undefined })).toThrow(/interval undefined is invalid/);
        expect(() => api.heartbeatFields({ ...beat, intervalUnit: "weeks" })).toThrow(/intervalUnit "weeks" is invalid: use "minutes", "hours" or "days"/);
        expect(() => api.heartbeatFields({ ...beat, name: "mail/path" })).toThrow(/heartbeat name "mail\/path" is invalid: use 1 to 99 letters, digits, '_', '\.' or '-' \(no spaces, not only dots\)/);
        // Opsgenie refuses spaces in heartbeat names (terraform-provider-opsgenie validateOpsgenieHeartbeat), unlike team names.
        expect(() => api.heartbeatFields({ ...beat, name: "alertline dev mail path" })).toThrow(/heartbeat name "alertline dev mail path" is invalid: .*no spaces/);
        expect(() => api.heartbeatFields({ ...beat, name: "x".repeat(100) })).toThrow(/heartbeat name "x+" is invalid/);
        expect(() => api.heartbeatFields({ ...beat, alertTags: ["t".repeat(51)] })).toThrow(/alertTags has a tag of 51 characters .*at most 50/);
        expect(() => api.heartbeatFields({ ...beat, name: ".." })).toThrow(/heartbeat name "\.\." is invalid.*not only dots/);
        expect(() => api.heartbeatFields({ ...beat, alertPriority: "P6" })).toThrow(/alertPriority "P6" is invalid: use "P1" \(highest\) to "P5"/);
        expect(() => api.heartbeatFields({ ...beat, alertTags: Array.from({ length: 21 }, (_, i) => `t${i}`) })).toThrow(/alertTags has 21 tags: an alert takes at most 20/);
        expect(() => api.heartbeatFields({ ...beat, alertTags: ["ok", ""] })).toThrow(/alertTags must be a list of non-empty texts/);
        expect(() => api.heartbeatFields({ ...beat, alertMessage: "m".repeat(131) })).toThrow(/alertMessage must be 1 to 130 characters .*got 131 characters/);
        expect(() => api.heartbeatFields({ ...beat, enabled: "yes" })).toThrow(/heartbeat enabled must be true or false/);
        expect(() => api.heartbeatFields({ ...beat, ownerTeamId: "" })).toThrow(/heartbeat ownerTeamId is empty/);
    });

    it("accepts the limits themselves", () => {
        const fields = api.heartbeatFields({ ...beat, name: "a".repeat(99), interval: 1, alertMessage: "m".repeat(130), alertTags: Array.from({ length: 20 }, (_, i) => `t${i}`.padEnd(50, "x")) });
        expect(fields.alertTags).toHaveLength(20);
        expect(api.heartbeatFields({ ...beat, name: "Alertline_dev.mail-path.1" }).name).toBe("Alertline_dev.mail-path.1");
    });

    it("creates with every field and the owner team by id", () => {
        const fields = api.heartbeatFields({ ...beat, description: "d", ownerTeamId: "t1", alertMessage: "m", alertTags: ["a", "b"], alertPriority: "P2", enabled: false });
        expect(api.createHeartbeatRequest(fields)).toEqual({
            method: "POST",
            path: "/v2/heartbeats",
            body: {
                name: "alertline-dev-mail-path",
                description: "d",
                interval: 30,
                intervalUnit: "minutes",
                enabled: false,
                ownerTeam: { id: "t1" },
                alertMessage: "m",
                alertTags: ["a", "b"],
                alertPriority: "P2",
            },
        });
        expect(api.createHeartbeatRequest(api.heartbeatFields(beat)).body).not.toHaveProperty("ownerTeam");
    });

    it("addresses a heartbeat by its escaped name for GET, PATCH and DELETE", () => {
        expect(api.requestUrl("https://api.opsgenie.com", api.getHeartbeatRequest("mail path.v2"))).toBe("https://api.opsgenie.com/v2/heartbeats/mail%20path.v2");
        const fields = api.heartbeatFields(beat);
        expect(api.updateHeartbeatRequest("alertline-dev-mail-path", fields)).toEqual({
            method: "PATCH",
            path: "/v2/heartbeats/alertline-dev-mail-path",
            body: api.createHeartbeatRequest(fields).body,
        });
        expect(api.deleteHeartbeatRequest("b")).toEqual({ method: "DELETE", path: "/v2/heartbeats/b" });
    });

    it("refuses an id that URL resolution would turn into another path", () => {
        expect(() => api.deleteHeartbeatRequest("..")).toThrow(/id "\.\." would address something other than \/v2\/heartbeats\/\{id\}/);
        expect(() => api.getHeartbeatRequest("")).toThrow(/id is empty/);
    });

    it("reads a heartbeat's fields and owner from a GET answer", () => {
        const body = JSON.parse(fixture("heartbeat.json")) as { data: Record<string, unknown> };
        expect(api.parseHeartbeat(api.getHeartbeatRequest("HeartbeatName"), body)).toEqual({
            name: body.data.name,
            description: body.data.description,
            interval: body.data.interval,
            intervalUnit: body.data.intervalUnit,
            enabled: body.data.enabled,
            ownerTeamId: (body.data.ownerTeam as { id: string }).id,
            alertMessage: body.data.alertMessage,
            alertTags: body.data.alertTags,
            alertPriority: body.data.alertPriority,
        });
    });

    it("leaves out what a sparse answer does not hold, and names a missing data.name", () => {
        const request = api.getHeartbeatRequest("h");
        expect(api.parseHeartbeat(request, { data: { name: "h", expired: false } })).toEqual({ name: "h", description: "" });
        expect(() => api.parseHeartbeat(request, { data: { interval: 1 } })).toThrow(/GET \/v2\/heartbeats\/h answered without data\.name/);
    });

    it("takes the stored name from the create answer when it has one", () => {
        expect(api.createdHeartbeatName({ data: { name: "h", enabled: true, expired: false } })).toBe("h");
        expect(api.createdHeartbeatName({ result: "Created" })).toBeUndefined();
    });

    it("compares alert tags as sets, with none equal to empty and anything else different", () => {
        expect(api.sameSet(["a", "b"], ["b", "a", "a"])).toBe(true);
        expect(api.sameSet(undefined, [])).toBe(true);
        expect(api.sameSet(["a"], ["a", "b"])).toBe(false);
        expect(api.sameSet(["a"], "04da6b54-80e4-46f7-96ec-b56ff0331ba9")).toBe(false);
    });
});
