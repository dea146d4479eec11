import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { onCallClientFromEnv, onCallTargetsFromEnv } from "../../../functions/mail-ingest/oncall-env";
import { startOnCallSink, type OnCallSink } from "../../../tools/local/oncall";
import { startKmsStub, type KmsStub } from "../slack-notifier/kms-stub";

const FUNCTION = "alertline-prod-mail-ingest";
/** The on-call API key the sink accepts; any other gets 401. */
const KEY = "5f1e8a3c-7b2d-4c9e-a1f0-0123456789ab";

describe("onCallClientFromEnv", () => {
    let sink: OnCallSink;
    let kms: KmsStub;

    beforeEach(async () => {
        [sink, kms] = await Promise.all([startOnCallSink({ apiKey: KEY }), startKmsStub()]);
    });
    afterEach(async () => {
        await Promise.all([sink.close(), kms.close()]);
    });

    it("is off when neither variable is set", () => {
        expect(onCallClientFromEnv(kms.client(), { AWS_LAMBDA_FUNCTION_NAME: FUNCTION })).toBeUndefined();
    });

    it("names both variables when only one is set", () => {
        expect(() => onCallClientFromEnv(kms.client(), { ONCALL_API_URL: "https://api.opsgenie.com" })).toThrow(
            "ONCALL_API_URL is set but ONCALL_API_KEY_CIPHERTEXT is not: on-call paging needs both",
        );
        expect(() => onCallClientFromEnv(kms.client(), { ONCALL_API_KEY_CIPHERTEXT: "AQICAH" })).toThrow("ONCALL_API_KEY_CIPHERTEXT is set but ONCALL_API_URL is not");
    });

    it("refuses a plain-http URL to another host, and does not echo a value that is no URL", () => {
        const key = "AQICAHsecretlookingciphertext==";
        expect(() => onCallClientFromEnv(kms.client(), { ONCALL_API_URL: "http://api.opsgenie.com", ONCALL_API_KEY_CIPHERTEXT: key })).toThrow(/must be an https URL/);
        const pasted = "5f1e8a3c-7b2d-4c9e-a1f0-0123456789ab";
        expect(() => onCallClientFromEnv(kms.client(), { ONCALL_API_URL: pasted, ONCALL_API_KEY_CIPHERTEXT: key })).toThrow(/ONCALL_API_URL is not a URL/);
        try {
            onCallClientFromEnv(kms.client(), { ONCALL_API_URL: pasted, ONCALL_API_KEY_CIPHERTEXT: key });
        } catch (error) {
            expect(String(error)).not.toContain(pasted);
        }
    });

    it("pages with the key decrypted from the ciphertext in the environment", async () => {
        const env = { ONCALL_API_URL: sink.url, ONCALL_API_KEY_CIPHERTEXT: kms.encrypt(KEY, { LambdaFunctionName: FUNCTION }), AWS_LAMBDA_FUNCTION_NAME: FUNCTION };
        const client = onCallClientFromEnv(kms.client(), env);
        expect(await client?.pingHeartbeat("alertline-prod-mail-path")).toEqual({ ok: true, status: 202 });
        // The sink accepts only "GenieKey <KEY>": the 202 says the decrypted key was sent.
        expect(sink.requests.map((r) => [r.heartbeat, r.status])).toEqual([["alertline-prod-mail-path", 202]]);
    });
});

describe("onCallTargetsFromEnv (the migration window)", () => {
    let sink: OnCallSink;
    let jsmSink: OnCallSink;
    let kms: KmsStub;
    const JSM_KEY = "0a0b0c0d-1111-4222-8333-444455556666";

    beforeEach(async () => {
        // A sink per backend, each accepting only its own key: a 202 from each says each got its own.
        [sink, jsmSink, kms] = await Promise.all([startOnCallSink({ apiKey: KEY }), startOnCallSink({ apiKey: JSM_KEY }), startKmsStub()]);
    });
    afterEach(async () => {
        await Promise.all([sink.close(), jsmSink.close(), kms.close()]);
    });

    it("gives the bare client with one backend, as before", () => {
        const env = { ONCALL_API_URL: "https://api.opsgenie.com", ONCALL_API_KEY_CIPHERTEXT: "AQICAH", AWS_LAMBDA_FUNCTION_NAME: FUNCTION };
        expect(Array.isArray(onCallTargetsFromEnv(kms.client(), env))).toBe(false);
        expect(onCallTargetsFromEnv(kms.client(), { AWS_LAMBDA_FUNCTION_NAME: FUNCTION })).toBeUndefined();
    });

    it("gives both backends, Opsgenie first, each paging with its own decrypted key", async () => {
        const env = {
            ONCALL_API_URL: jsmSink.jsmUrl,
            ONCALL_API_KEY_CIPHERTEXT: kms.encrypt(JSM_KEY, { LambdaFunctionName: FUNCTION }),
            ONCALL_ALSO_API_URL: sink.url,
            ONCALL_ALSO_API_KEY_CIPHERTEXT: kms.encrypt(KEY, { LambdaFunctionName: FUNCTION }),
            AWS_LAMBDA_FUNCTION_NAME: FUNCTION,
        };
        const targets = onCallTargetsFromEnv(kms.client(), env);
        expect(Array.isArray(targets)).toBe(true);
        const list = targets as { backend: string; client: { createAlert: (a: unknown) => Promise<unknown> } }[];
        expect(list.map((t) => t.backend)).toEqual(["opsgenie", "jsm"]);
        for (const t of list) expect(await t.client.createAlert({ message: "m", alias: "a", priority: "P1" })).toMatchObject({ ok: true, status: 202 });
        expect([sink.alerts().map((a) => a.api), jsmSink.alerts().map((a) => a.api)]).toEqual([["opsgenie"], ["jsm"]]);
    });

    it("names the variables when the second backend is half set, points at the same backend twice, or comes without the first", () => {
        expect(() => onCallTargetsFromEnv(kms.client(), { ONCALL_API_URL: "https://api.opsgenie.com", ONCALL_API_KEY_CIPHERTEXT: "AQICAH", ONCALL_ALSO_API_URL: "https://api.atlassian.com/jsm/ops/integration" })).toThrow(
            "ONCALL_ALSO_API_URL is set but ONCALL_ALSO_API_KEY_CIPHERTEXT is not",
        );
        expect(() =>
            onCallTargetsFromEnv(kms.client(), { ONCALL_API_URL: "https://api.opsgenie.com", ONCALL_API_KEY_CIPHERTEXT: "AQICAH", ONCALL_ALSO_API_URL: "https://api.eu.opsgenie.com", ONCALL_ALSO_API_KEY_CIPHERTEXT: "AQICAH" }),
        ).toThrow("ONCALL_API_URL and ONCALL_ALSO_API_URL both point at opsgenie");
        expect(() => onCallTargetsFromEnv(kms.client(), { ONCALL_ALSO_API_URL: "https://api.atlassian.com/jsm/ops/integration", ONCALL_ALSO_API_KEY_CIPHERTEXT: "AQICAH" })).toThrow(
            "ONCALL_ALSO_API_URL is set but ONCALL_API_URL is not",
        );
        expect(() => onCallTargetsFromEnv(kms.client(), { ONCALL_API_URL: "https://api.opsgenie.com", ONCALL_API_KEY_CIPHERTEXT: "AQICAH", ONCALL_ALSO_API_URL: "http://api.atlassian.com/jsm/ops/integration", ONCALL_ALSO_API_KEY_CIPHERTEXT: "AQICAH" })).toThrow(
            /^ONCALL_ALSO_API_URL must be an https URL/,
        );
    });
});
