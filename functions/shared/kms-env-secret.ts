import { DecryptCommand, type KMSClient } from "@aws-sdk/client-kms";

/**
 * Secrets reach alertline's functions only as KMS ciphertext in an environment variable (the
 * components encrypt them with `aws.kms.Ciphertext`), so they never sit in plain text in the
 * console, state or logs. The encryption context is the AWS console's Lambda encryption-helper
 * shape, `{LambdaFunctionName: <function name>}`, so an operator can re-encrypt a rotated value by
 * hand and the function still decrypts it. Errors name the variable, never the value.
 */

/** The encryption context the infrastructure encrypts with and KMS checks on decrypt. */
export function functionEncryptionContext(functionName: string): Record<string, string> {
    return { LambdaFunctionName: functionName };
}

/** Decrypts `ciphertextBase64` (the value of `variable`) with the function's encryption context. */
export async function decryptEnvSecret(kms: Pick<KMSClient, "send">, variable: string, ciphertextBase64: string, functionName: string): Promise<string> {
    const compact = ciphertextBase64.replace(/\s+/g, "");
    if (compact === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
        throw new Error(`${variable} is not base64: set it to the base64 CiphertextBlob from kms encrypt (aws.kms.Ciphertext's ciphertextBlob)`);
    }
    let plaintext: Uint8Array | undefined;
    try {
        const result = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(compact, "base64"), EncryptionContext: functionEncryptionContext(functionName) }));
        plaintext = result.Plaintext;
    } catch (error) {
        const err = error as { name?: string; message?: string };
        throw new Error(
            `Could not decrypt ${variable} with KMS (${err?.name ?? "Error"}: ${err?.message ?? String(error)}): ` +
                `check that it was encrypted with encryption context {LambdaFunctionName: "${functionName}"} and that the function's role may kms:Decrypt with that key`,
            { cause: error },
        );
    }
    if (plaintext === undefined) throw new Error(`KMS returned no plaintext for ${variable}`);
    return Buffer.from(plaintext).toString("utf8");
}

/**
 * A function returning the decrypted value of `variable`, decrypting on first use and reusing the
 * result for the container's life. A failed decrypt is forgotten so the next invocation tries again
 * (a throttled or briefly denied KMS call must not poison the container). The environment is read on
 * first use, not at import, so a missing variable fails an invocation with a clear message.
 * `what` says what the value is, for the message when the variable is missing.
 */
export function createEnvSecretSource(kms: Pick<KMSClient, "send">, variable: string, what: string, env: NodeJS.ProcessEnv = process.env): () => Promise<string> {
    let pending: Promise<string> | undefined;
    const load = async (): Promise<string> => {
        const ciphertext = env[variable];
        if (ciphertext === undefined || ciphertext.trim() === "") {
            throw new Error(`${variable} is not set: set it to the base64 KMS ciphertext of ${what}, encrypted with encryption context {LambdaFunctionName: <this function's name>}`);
        }
        const functionName = env.AWS_LAMBDA_FUNCTION_NAME;
        if (functionName === undefined || functionName === "") {
            throw new Error("AWS_LAMBDA_FUNCTION_NAME is not set: Lambda sets it; when running elsewhere set it to the function name used in the encryption context");
        }
        return decryptEnvSecret(kms, variable, ciphertext, functionName);
    };
    return () => {
        pending ??= load().catch((error: unknown) => {
            pending = undefined;
            throw error;
        });
        return pending;
    };
}
