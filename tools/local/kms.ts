import { KMSClient } from "@aws-sdk/client-kms";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { close, listen, LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, readBody } from "./http";

/**
 * A local KMS for `npm start`: the part of KMS's JSON protocol (awsJson1_1, `X-Amz-Target:
 * TrentService.Decrypt`) that functions/shared/kms-env-secret.ts calls, so a secret reaches a
 * handler here as it does in Lambda: only as ciphertext in its environment. Sources: the KMS API
 * reference "Decrypt" (request `CiphertextBlob` base64, `EncryptionContext`; answer `KeyId`,
 * `Plaintext` base64, `EncryptionAlgorithm`) and "InvalidCiphertextException" ("the specified
 * ciphertext, or additional authenticated data incorporated into the ciphertext, such as the
 * encryption context, is corrupted, missing, or otherwise invalid"); AWS KMS cryptographic details,
 * "Decrypt" (an encryption context given at encryption must be given, the same, at decryption).
 *
 * The ciphertext is real: AES-256-GCM under a key made for the run, the encryption context as
 * additional authenticated data, so it holds no plain text and a different context fails to decrypt,
 * as in KMS. Its layout is this stand-in's own (KMS's blob format is not documented). Other
 * operations are refused with UnknownOperationException; nothing else of KMS (key policies, grants)
 * is modelled.
 */

export interface LocalKms {
    readonly endpoint: string;
    readonly keyId: string;
    /** The base64 ciphertext of `plaintext` under this run's key, bound to `context` (what `aws kms encrypt` returns). */
    encrypt(plaintext: string, context: Record<string, string>): string;
    /** A real SDK client aimed at this KMS. */
    client(): KMSClient;
    close(): Promise<void>;
}

/** The encryption context as authenticated data: its pairs sorted by key, so the order given does not matter (it does not in KMS). */
function contextBytes(context: Record<string, string> | undefined): Buffer {
    return Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), "utf8");
}

export async function startLocalKms(): Promise<LocalKms> {
    const key = randomBytes(32);
    const keyId = `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/00000000-0000-4000-8000-0000000c0c41`;

    const decrypt = (blob: Buffer, context: Record<string, string> | undefined): Buffer | undefined => {
        if (blob.length < 12 + 16) return undefined;
        try {
            const decipher = createDecipheriv("aes-256-gcm", key, blob.subarray(0, 12));
            decipher.setAAD(contextBytes(context));
            decipher.setAuthTag(blob.subarray(12, 28));
            return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
        } catch {
            return undefined; // wrong context, or not this key's ciphertext
        }
    };

    const server = createServer(async (req, res) => {
        const reply = (status: number, payload: unknown) => {
            res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
            res.end(JSON.stringify(payload));
        };
        const target = req.headers["x-amz-target"];
        let body: { CiphertextBlob?: unknown; EncryptionContext?: Record<string, string> };
        try {
            body = JSON.parse((await readBody(req)).toString("utf8")) as typeof body;
        } catch {
            return reply(400, { __type: "SerializationException", message: "the request body is not JSON" });
        }
        if (target !== "TrentService.Decrypt") return reply(400, { __type: "UnknownOperationException", message: `this local KMS only implements TrentService.Decrypt, got ${String(target)}` });
        if (typeof body.CiphertextBlob !== "string" || body.CiphertextBlob === "") return reply(400, { __type: "ValidationException", message: "CiphertextBlob is required" });
        const plaintext = decrypt(Buffer.from(body.CiphertextBlob, "base64"), body.EncryptionContext);
        // KMS gives no message with this error (the SDK shows an empty one).
        if (plaintext === undefined) return reply(400, { __type: "InvalidCiphertextException", message: "" });
        reply(200, { KeyId: keyId, Plaintext: plaintext.toString("base64"), EncryptionAlgorithm: "SYMMETRIC_DEFAULT" });
    });
    const endpoint = await listen(server);
    return {
        endpoint,
        keyId,
        encrypt: (plaintext, context) => {
            const iv = randomBytes(12);
            const cipher = createCipheriv("aes-256-gcm", key, iv);
            cipher.setAAD(contextBytes(context));
            const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
            return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64");
        },
        client: () => new KMSClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 }),
        close: () => close(server),
    };
}
