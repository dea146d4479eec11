import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_MAX_KEY_LENGTH, storedKey as sharedStoredKey } from "../../../functions/shared/alert-key";
import { createEnvSecretSource } from "../../../functions/shared/kms-env-secret";
import { clipOnCallAlert, createOnCallClient, onCallAlias, onCallApiUrl, type OnCallAlert, type OnCallClient } from "../../../functions/shared/oncall-alerts";
import { applyIntents, DEFAULT_STATE_LIMITS, EMPTY_TOWER_STATE, storedKey as towerStoredKey } from "../../../functions/tower-dispatch/tower-state";
import { startOnCallSink, type OnCallScriptedAnswer, type OnCallSink } from "../../../tools/local/oncall";
import { closedPort } from "../closed-port";
import { startKmsStub, type KmsStub } from "../slack-notifier/kms-stub";

/** The on-call API key the sink accepts; any other gets 401. */
const KEY = "5f1e8a3c-7b2d-4c9e-a1f0-0123456789ab";

const ALERT: OnCallAlert = {
    message: "[CRITICAL] web-01 CPU over 90%",
    alias: "host=web-01 | eventid=123456",
    description: "Severity: High",
    priority: "P1",
    tags: ["alertline", "alertline-prod", "critical", "tower:tokyo-ops"],
    details: { rule: "zabbix-en-critical", towers: "tokyo-ops" },
    source: "alertline mail-ingest",
    entity: "tokyo",
};

describe("onCallApiUrl", () => {
    it("gives Opsgenie's US URL by default, its EU URL for eu, and JSM's integration URL", () => {
        expect(onCallApiUrl("opsgenie")).toBe("https://api.opsgenie.com");
        expect(onCallApiUrl("opsgenie", "eu")).toBe("https://api.eu.opsgenie.com");
        expect(onCallApiUrl("jsm")).toBe("https://api.atlassian.com/jsm/ops/integration");
    });
});

describe("clipOnCallAlert", () => {
    it("leaves an alert within the limits as it is", () => {
        expect(clipOnCallAlert(ALERT)).toEqual(ALERT);
    });

    it("cuts every text field to Opsgenie's limit instead of refusing the alert", () => {
        const clipped = clipOnCallAlert({ ...ALERT, message: "m".repeat(500), alias: "a".repeat(600), description: "d".repeat(20_000), source: "s".repeat(150), entity: "e".repeat(600) });
        expect(clipped.message).toHaveLength(130);
        expect(clipped.message.endsWith("…")).toBe(true);
        expect(clipped.alias).toHaveLength(512);
        expect(clipped.description).toHaveLength(15_000);
        expect(clipped.source).toHaveLength(100);
        expect(clipped.entity).toHaveLength(512);
    });

    it("keeps at most 20 tags of at most 50 characters, dropping empty and repeated ones", () => {
        const tags = ["alertline", "alertline", "", ...Array.from({ length: 30 }, (_, i) => `tower:${i}-${"x".repeat(60)}`)];
        const clipped = clipOnCallAlert({ ...ALERT, tags });
        expect(clipped.tags).toHaveLength(20);
        expect(clipped.tags?.[0]).toBe("alertline");
        expect(clipped.tags?.filter((t) => t === "alertline")).toHaveLength(1);
        expect(clipped.tags?.every((t) => t.length <= 50 && t !== "")).toBe(true);
    });

    it("keeps all details' keys and values within 8000 characters, cutting the later ones", () => {
        const details = { rule: "r", from: "f".repeat(5000), original: "o".repeat(5000), messageId: "m-1" };
        const clipped = clipOnCallAlert({ ...ALERT, details }).details ?? {};
        const size = Object.entries(clipped).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
        expect(size).toBeLessThanOrEqual(8000);
        expect(clipped.rule).toBe("r");
        expect(clipped.from).toBe(details.from);
        expect(clipped.original.endsWith("…")).toBe(true);
    });

    it("gives an empty message a placeholder, because on-call refuses an alert without one", () => {
        expect(clipOnCallAlert({ ...ALERT, message: "  " }).message).toBe("(no message)");
    });
});

describe("onCallAlias", () => {
    const keys = [
        "short",
        "host=web-01 | eventid=123456",
        "x".repeat(DEFAULT_MAX_KEY_LENGTH),
        "x".repeat(DEFAULT_MAX_KEY_LENGTH + 1),
        `host-${"y".repeat(500)}/trigger`,
        // An astral character across the cut: the prefix must not end on half of it.
        `${"z".repeat(DEFAULT_MAX_KEY_LENGTH - 35)}😀${"z".repeat(300)}`,
        `${"障害".repeat(300)}`,
    ];

    it("is the key tower-dispatch stores", () => {
        expect(DEFAULT_STATE_LIMITS.maxKeyLength).toBe(DEFAULT_MAX_KEY_LENGTH);
        for (const key of keys) expect(onCallAlias(key)).toBe(towerStoredKey(key, DEFAULT_STATE_LIMITS.maxKeyLength));
    });

    it("does not change when applied again, so an alias sent back as alertKey is the same stored key", () => {
        for (const key of keys) {
            const alias = onCallAlias(key);
            expect(alias.length).toBeLessThanOrEqual(DEFAULT_MAX_KEY_LENGTH);
            expect(onCallAlias(alias)).toBe(alias);
            expect(sharedStoredKey(alias)).toBe(alias);
        }
        for (let max = 34; max <= 300; max += 7) {
            for (const key of keys) expect(sharedStoredKey(sharedStoredKey(key, max), max)).toBe(sharedStoredKey(key, max));
        }
    });

    it("never ends a shortened key on half a surrogate pair", () => {
        const alias = onCallAlias(keys[5]);
        expect(() => encodeURIComponent(alias)).not.toThrow();
        expect(alias.includes("😀")).toBe(false);
    });

    it("keeps two long keys with the same start apart", () => {
        expect(onCallAlias(`host-${"y".repeat(500)}/a`)).not.toBe(onCallAlias(`host-${"y".repeat(500)}/b`));
    });

    it("lets a recovery carrying the alias clear the tower alert its problem set", () => {
        const longKey = keys[4];
        const intent = (alertKey: string, severity: "critical" | "recovery", messageId: string) => ({ alertKey, severity, messageId, subject: "s", receivedAt: "2024-05-21T09:45:28.512Z" });
        const lit = applyIntents(EMPTY_TOWER_STATE, [intent(longKey, "critical", "m-1")]);
        expect([...lit.active.keys()]).toHaveLength(1);
        const cleared = applyIntents(lit, [intent(onCallAlias(longKey), "recovery", "m-2")]);
        expect(cleared.active.size).toBe(0);
    });

    it("refuses a maximum too short to hold the hash", () => {
        expect(() => sharedStoredKey("k", 33)).toThrow(/at least 34/);
    });
});

describe("the on-call client against an Opsgenie-like server", () => {
    const HEARTBEAT = "alertline-prod-mail-path";
    let sink: OnCallSink;
    let client: OnCallClient;
    /** The sink's next answers, one per request, before normal service resumes. */
    let script: OnCallScriptedAnswer[];
    const openAlert = (alias: string) => sink.alerts().find((a) => a.alias === alias && a.status === "open");

    beforeEach(async () => {
        script = [];
        sink = await startOnCallSink({ apiKey: KEY, knownHeartbeats: [HEARTBEAT], answer: () => script.shift() });
        client = createOnCallClient({ apiUrl: sink.url, apiKey: async () => KEY });
    });
    afterEach(async () => {
        await sink.close();
    });

    it("creates an alert with the GenieKey header and the alert as JSON body", async () => {
        expect(await client.createAlert(ALERT)).toEqual({ ok: true, status: 202 });
        expect(sink.requests).toHaveLength(1);
        expect(sink.requests[0].method).toBe("POST");
        expect(sink.requests[0].path).toBe("/v2/alerts");
        // The sink was started with apiKey: it accepts only "GenieKey <KEY>" (a wrong key is 401, below).
        expect(sink.requests[0].status).toBe(202);
        expect(openAlert(ALERT.alias)?.body).toEqual(ALERT);
    });

    it("gets an over-long alert accepted by cutting it, where the server refuses the uncut body", async () => {
        const long = { ...ALERT, message: `[CRITICAL] ${"very long subject ".repeat(50)}`, details: { body: "b".repeat(9000) } };
        expect(await client.createAlert(long)).toEqual({ ok: true, status: 202 });
        const raw = await fetch(`${sink.url}/v2/alerts`, { method: "POST", headers: { authorization: `GenieKey ${KEY}`, "content-type": "application/json" }, body: JSON.stringify(long) });
        expect(raw.status).toBe(422);
        // The uncut body was sent on purpose: it is the one contract violation, and the sink may close.
        expect(sink.violations).toEqual([expect.stringMatching(/^422 POST \/v2\/alerts: message is \d+ characters; the limit is 130/)]);
        sink.violations.length = 0;
    });

    it("closes by alias, with the alias encoded in the path, and sends the note", async () => {
        const alias = `web-04/HTTP | ${"k".repeat(300)}`;
        await client.createAlert({ ...ALERT, alias: onCallAlias(alias) });
        expect(await client.closeAlert(onCallAlias(alias), "Recovered by mail")).toEqual({ ok: true, status: 202 });
        const request = sink.requests[1];
        expect(request.query).toEqual({ identifierType: "alias" });
        expect(request.path).toContain("web-04%2FHTTP%20%7C%20");
        expect(request.alias).toBe(onCallAlias(alias));
        expect(sink.alerts().filter((a) => a.status === "open")).toHaveLength(0);
        expect(sink.alerts().find((a) => a.alias === onCallAlias(alias))?.status).toBe("closed");
        expect(request.body).toMatchObject({ note: "Recovered by mail" });
    });

    it("pings a heartbeat by name", async () => {
        expect(await client.pingHeartbeat(HEARTBEAT)).toEqual({ ok: true, status: 202 });
        expect(sink.requests.filter((r) => r.heartbeat === HEARTBEAT && r.status === 202)).toHaveLength(1);
    });

    it("says a heartbeat that does not exist must be created, and that retrying will not help", async () => {
        // Opsgenie itself accepts such a ping (see oncall.ts); the sink refuses it here because knownHeartbeats is set.
        const result = await client.pingHeartbeat("alertline-dev-mail-path");
        expect(result).toMatchObject({ ok: false, status: 404, retryable: false });
        expect(!result.ok && result.problem).toContain('there is no heartbeat named "alertline-dev-mail-path"');
        expect(!result.ok && result.problem).toContain("Heartbeat with name [alertline-dev-mail-path] does not exist.");
    });

    it("reports a wrong key as permanent, with the status, on-call's message and the fix, never the key", async () => {
        const wrongKey = "0bad0bad-1111-2222-3333-444455556666";
        const wrong = createOnCallClient({ apiUrl: sink.url, apiKey: async () => wrongKey });
        const result = await wrong.createAlert(ALERT);
        expect(result).toMatchObject({ ok: false, status: 401, retryable: false });
        if (result.ok) return;
        expect(result.problem).toContain("401");
        expect(result.problem).toContain("(Could not authenticate)");
        expect(result.problem).toContain("the on-call API key is wrong or lacks access: ");
        expect(result.problem).toContain("ONCALL_API_KEY_CIPHERTEXT");
        expect(result.problem).not.toContain(wrongKey);
    });

    it("redacts the key when a response echoes it", async () => {
        script.push({ status: 403, body: JSON.stringify({ message: `Key ${KEY} is not allowed; header was GenieKey ${KEY}` }) });
        const result = await client.createAlert(ALERT);
        expect(result).toMatchObject({ ok: false, status: 403, retryable: false });
        expect(JSON.stringify(result)).not.toContain(KEY);
        expect(!result.ok && result.problem).toContain("[redacted]");
    });

    it("lists the fields on-call could not process", async () => {
        script.push({ status: 422, body: JSON.stringify({ message: "Request body is not processable. Please check the errors.", errors: { message: "Message can not be empty." } }) });
        const result = await client.createAlert(ALERT);
        expect(result).toMatchObject({ ok: false, status: 422, retryable: false });
        expect(!result.ok && result.problem).toContain("message: Message can not be empty.");
    });

    it.each([429, 500, 503])("marks %i retryable without retrying itself", async (status) => {
        script.push({ status, body: JSON.stringify({ message: "Try again later." }) });
        const result = await client.createAlert(ALERT);
        expect(result).toMatchObject({ ok: false, status, retryable: true });
        expect(sink.requests).toHaveLength(1);
        expect(sink.alerts()).toHaveLength(0);
    });

    it("does not follow a redirect, which would carry the key elsewhere", async () => {
        script.push({ status: 302, headers: { location: "http://127.0.0.1:1/elsewhere" } });
        const result = await client.createAlert(ALERT);
        expect(result).toMatchObject({ ok: false, status: 302, retryable: false });
        expect(!result.ok && result.problem).toContain("redirects");
        expect(sink.requests).toHaveLength(1);
    });

    it("marks a request that gets no answer in time retryable", async () => {
        const impatient = createOnCallClient({ apiUrl: sink.url, apiKey: async () => KEY, timeoutMs: 200 });
        script.push({ status: 202, delayMs: 30_000 });
        const started = Date.now();
        const result = await impatient.createAlert(ALERT);
        expect(Date.now() - started).toBeLessThan(5000);
        expect(result).toMatchObject({ ok: false, retryable: true });
        expect(!result.ok && result.problem).toContain("no answer within 200 ms");
    });

    it("marks an unreachable on-call retryable, without a status", async () => {
        const port = await closedPort();
        const unreachable = createOnCallClient({ apiUrl: `http://127.0.0.1:${port}`, apiKey: async () => KEY });
        const result = await unreachable.pingHeartbeat(HEARTBEAT);
        expect(result.ok).toBe(false);
        expect(!result.ok && result.retryable).toBe(true);
        expect(!result.ok && result.status).toBeUndefined();
        expect(!result.ok && result.problem).toContain("was not reachable");
    });

    it("serves JSM's base URL with its path prefix", async () => {
        const jsmClient = createOnCallClient({ apiUrl: `${sink.jsmUrl}/`, apiKey: async () => KEY });
        expect(await jsmClient.createAlert(ALERT)).toEqual({ ok: true, status: 202 });
        expect(sink.requests[0].path).toBe("/jsm/ops/integration/v2/alerts");
        expect(sink.requests[0].api).toBe("jsm");
    });

    it("refuses a base URL that is not http(s)", () => {
        expect(() => createOnCallClient({ apiUrl: "api.opsgenie.com", apiKey: async () => "k" })).toThrow(/http\(s\) base URL/);
    });
});

describe("the on-call client with its key from KMS", () => {
    let sink: OnCallSink;
    let kms: KmsStub;
    const FUNCTION = "alertline-prod-mail-ingest";

    beforeEach(async () => {
        [sink, kms] = await Promise.all([startOnCallSink({ apiKey: KEY }), startKmsStub()]);
    });
    afterEach(async () => {
        await Promise.all([sink.close(), kms.close()]);
    });

    function clientWith(ciphertext: string): OnCallClient {
        const env = { ONCALL_API_KEY_CIPHERTEXT: ciphertext, AWS_LAMBDA_FUNCTION_NAME: FUNCTION };
        return createOnCallClient({ apiUrl: sink.url, apiKey: createEnvSecretSource(kms.client(), "ONCALL_API_KEY_CIPHERTEXT", "the on-call key", env) });
    }

    it("decrypts the key once and pages with it", async () => {
        const client = clientWith(kms.encrypt(KEY, { LambdaFunctionName: FUNCTION }));
        expect((await client.createAlert(ALERT)).ok).toBe(true);
        expect((await client.closeAlert(ALERT.alias)).ok).toBe(true);
        expect(kms.requests).toHaveLength(1);
    });

    it("reports a key encrypted for another function as permanent", async () => {
        const client = clientWith(kms.encrypt(KEY, { LambdaFunctionName: "another-function" }));
        const result = await client.createAlert(ALERT);
        expect(result).toMatchObject({ ok: false, retryable: false });
        expect(!result.ok && result.problem).toContain("could not read the on-call API key");
        expect(sink.requests).toHaveLength(0);
    });

    it("reports KMS throttling as retryable, and the next call decrypts again", async () => {
        const client = clientWith(kms.encrypt(KEY, { LambdaFunctionName: FUNCTION }));
        kms.failNext(1, "ThrottlingException");
        expect(await client.createAlert(ALERT)).toMatchObject({ ok: false, retryable: true });
        expect(await client.createAlert(ALERT)).toEqual({ ok: true, status: 202 });
    });
});
