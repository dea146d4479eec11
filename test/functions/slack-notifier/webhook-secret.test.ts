import { KMSClient } from "@aws-sdk/client-kms";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWebhookUrlSource, normaliseWebhookUrl, WEBHOOK_CIPHERTEXT_ENV } from "../../../functions/slack-notifier/webhook-secret";
import { startKmsStub, type KmsStub } from "./kms-stub";

const FUNCTION_NAME = "alertline-dev-slack-notifier";
const WEBHOOK = "https://hooks.slack.com/services/T0ALERTLN/B0NOTIFIER/kmsProtectedSecretToken";

let kms: KmsStub;
let client: KMSClient;

beforeEach(async () => {
    kms = await startKmsStub();
    client = kms.client();
});
afterEach(async () => {
    client.destroy();
    await kms.close();
});

const envWith = (ciphertext: string | undefined, functionName: string | undefined = FUNCTION_NAME): NodeJS.ProcessEnv => ({
    [WEBHOOK_CIPHERTEXT_ENV]: ciphertext,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
});

describe("createWebhookUrlSource", () => {
    it("decrypts through KMS's Decrypt API with the function name as encryption context", async () => {
        const ciphertext = kms.encrypt(WEBHOOK, { LambdaFunctionName: FUNCTION_NAME });
        const url = await createWebhookUrlSource(client, envWith(ciphertext))();
        expect(url).toBe(WEBHOOK);
        expect(kms.requests).toHaveLength(1);
        expect(kms.requests[0].target).toBe("TrentService.Decrypt");
        expect(kms.requests[0].body.CiphertextBlob).toBe(ciphertext);
        expect(kms.requests[0].body.EncryptionContext).toEqual({ LambdaFunctionName: FUNCTION_NAME });
        expect(String(kms.requests[0].headers.authorization)).toContain("AKIDLOCALTEST"); // signed by the real SDK
    });

    it("decrypts once for many calls, also when they overlap", async () => {
        const source = createWebhookUrlSource(client, envWith(kms.encrypt(WEBHOOK, { LambdaFunctionName: FUNCTION_NAME })));
        const overlapping = await Promise.all([source(), source(), source()]);
        const later = await source();
        expect(new Set([...overlapping, later])).toEqual(new Set([WEBHOOK]));
        expect(kms.requests).toHaveLength(1);
    });

    it("tries again on the next call after a failed decrypt", async () => {
        const source = createWebhookUrlSource(client, envWith(kms.encrypt(WEBHOOK, { LambdaFunctionName: FUNCTION_NAME })));
        kms.failNext(1, "AccessDeniedException");
        await expect(source()).rejects.toThrow(/AccessDeniedException.*kms:Decrypt/);
        await expect(source()).resolves.toBe(WEBHOOK);
        expect(kms.requests).toHaveLength(2);
    });

    it("names the expected encryption context when KMS refuses the ciphertext", async () => {
        const ciphertext = kms.encrypt(WEBHOOK, { LambdaFunctionName: "some-other-function" });
        const error = await createWebhookUrlSource(client, envWith(ciphertext))().catch((e: unknown) => e as Error);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toContain("InvalidCiphertextException");
        expect((error as Error).message).toContain(`LambdaFunctionName: "${FUNCTION_NAME}"`);
    });

    it("says which variable is missing and what to put there, without calling KMS", async () => {
        await expect(createWebhookUrlSource(client, envWith(undefined))()).rejects.toThrow(/SLACK_WEBHOOK_CIPHERTEXT is not set: set it to the base64 KMS ciphertext/);
        await expect(createWebhookUrlSource(client, envWith("abc=", ""))()).rejects.toThrow(/AWS_LAMBDA_FUNCTION_NAME is not set/);
        expect(kms.requests).toHaveLength(0);
    });

    it("rejects a ciphertext that is not base64", async () => {
        await expect(createWebhookUrlSource(client, envWith("https://hooks.slack.com/oops"))()).rejects.toThrow(/SLACK_WEBHOOK_CIPHERTEXT is not base64/);
        expect(kms.requests).toHaveLength(0);
    });
});

describe("normaliseWebhookUrl", () => {
    it("adds https:// to a URL stored without a scheme, as AWS's blueprint stores it", () => {
        expect(normaliseWebhookUrl("hooks.slack.com/services/T/B/x\n")).toBe("https://hooks.slack.com/services/T/B/x");
    });

    it("refuses plain http except on loopback, without quoting the secret", () => {
        const refusal = (() => {
            try {
                normaliseWebhookUrl("http://hooks.slack.com/services/T/B/plainHttpSecret");
                return "accepted";
            } catch (error) {
                return (error as Error).message;
            }
        })();
        expect(refusal).toMatch(/must be an https URL/);
        expect(refusal).not.toContain("plainHttpSecret");
        expect(normaliseWebhookUrl("http://127.0.0.1:8080/services/T/B/x")).toBe("http://127.0.0.1:8080/services/T/B/x");
    });

    it("refuses an empty plaintext", () => {
        expect(() => normaliseWebhookUrl("  ")).toThrow(/empty/);
    });
});
