import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { onCallClientFromEnv } from "../../../functions/shared/oncall-env";
import { startOnCallSink, type OnCallSink } from "../../../functions/tools/local-aws/oncall";
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
