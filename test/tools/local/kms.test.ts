import { DecryptCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnvSecretSource, decryptEnvSecret, functionEncryptionContext } from "../../../functions/shared/kms-env-secret";
import { startLocalKms, type LocalKms } from "../../../tools/local/kms";

/** The local KMS `npm start -- --slack app` hands slack-notifier its bot token through (tools/local/kms.ts). */

let kms: LocalKms;
beforeAll(async () => {
    kms = await startLocalKms();
});
afterAll(async () => {
    await kms?.close();
});

const TOKEN = "xoxb-123-456-localTokenForTheKmsTest";

describe("the local KMS", () => {
    it("decrypts, through the real SDK client, what it encrypted with the same encryption context", async () => {
        const ciphertext = kms.encrypt(TOKEN, functionEncryptionContext("alertline-dev-alerts-notifier"));
        const client = kms.client();
        try {
            expect(await decryptEnvSecret(client, "SLACK_BOT_TOKEN_CIPHERTEXT", ciphertext, "alertline-dev-alerts-notifier")).toBe(TOKEN);
            const source = createEnvSecretSource(client, "SLACK_BOT_TOKEN_CIPHERTEXT", "the bot token", { SLACK_BOT_TOKEN_CIPHERTEXT: ciphertext, AWS_LAMBDA_FUNCTION_NAME: "alertline-dev-alerts-notifier" });
            expect(await source()).toBe(TOKEN);
        } finally {
            client.destroy();
        }
    });

    it("keeps no plain text in the ciphertext, and two encryptions differ", () => {
        const context = functionEncryptionContext("f");
        const a = kms.encrypt(TOKEN, context);
        expect(Buffer.from(a, "base64").toString("latin1")).not.toContain("xoxb");
        expect(a).not.toContain("xoxb");
        expect(kms.encrypt(TOKEN, context)).not.toBe(a);
    });

    it("refuses another encryption context, a changed ciphertext and another operation, as KMS does", async () => {
        const ciphertext = kms.encrypt(TOKEN, functionEncryptionContext("alertline-dev-alerts-notifier"));
        const client = kms.client();
        try {
            await expect(decryptEnvSecret(client, "SLACK_BOT_TOKEN_CIPHERTEXT", ciphertext, "another-function")).rejects.toThrow(/InvalidCiphertextException/);
            const bytes = Buffer.from(ciphertext, "base64");
            bytes[bytes.length - 1] ^= 1;
            await expect(client.send(new DecryptCommand({ CiphertextBlob: bytes, EncryptionContext: functionEncryptionContext("alertline-dev-alerts-notifier") }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
            // The context's order does not matter; its content does.
            const two = kms.encrypt(TOKEN, { a: "1", b: "2" });
            expect(Buffer.from((await client.send(new DecryptCommand({ CiphertextBlob: Buffer.from(two, "base64"), EncryptionContext: { b: "2", a: "1" } }))).Plaintext!).toString("utf8")).toBe(TOKEN);
            const response = await fetch(kms.endpoint, { method: "POST", headers: { "x-amz-target": "TrentService.Encrypt", "content-type": "application/x-amz-json-1.1" }, body: "{}" });
            expect(response.status).toBe(400);
            expect(await response.json()).toMatchObject({ __type: "UnknownOperationException" });
        } finally {
            client.destroy();
        }
    });
});
