import { DecryptCommand, type KMSClient } from "@aws-sdk/client-kms";

/**
 * The Slack webhook URL reaches the function only as KMS ciphertext in an environment variable
 * (the AlertChannel component encrypts it), so it never sits in plain text in the console, state
 * or logs. It is decrypted once per container: KMS calls cost time and count against quotas.
 */

/** Environment variable holding the base64 KMS ciphertext of the webhook URL. */
export const WEBHOOK_CIPHERTEXT_ENV = "SLACK_WEBHOOK_CIPHERTEXT";

/** Hosts for which plain http is accepted: local test sinks. Anything else must be https, or the secret crosses the network readable. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The encryption context the infrastructure encrypts with and KMS checks on decrypt; the same
 * shape as the AWS console's Lambda encryption helper, `{LambdaFunctionName: <function name>}`.
 */
export function webhookEncryptionContext(functionName: string): Record<string, string> {
    return { LambdaFunctionName: functionName };
}

/**
 * A usable webhook URL from the decrypted text. AWS's cloudwatch-alarm-to-slack blueprint stores the
 * URL without `https://`, so a missing scheme is added. Errors never quote the value: it is the secret.
 */
export function normaliseWebhookUrl(plaintext: string): string {
    const trimmed = plaintext.trim();
    if (trimmed === "") throw new Error(`${WEBHOOK_CIPHERTEXT_ENV} decrypted to an empty string: encrypt the Slack webhook URL itself, e.g. https://hooks.slack.com/services/T…/B…/…`);
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
    let url: URL;
    try {
        url = new URL(withScheme);
    } catch {
        throw new Error(`${WEBHOOK_CIPHERTEXT_ENV} decrypted to something that is not a URL: encrypt the Slack webhook URL, e.g. https://hooks.slack.com/services/T…/B…/…`);
    }
    if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) return url.href;
    throw new Error(`${WEBHOOK_CIPHERTEXT_ENV} decrypted to a ${url.protocol} URL: the Slack webhook must be an https URL`);
}

/** Decrypts the ciphertext with the function's encryption context and returns the webhook URL. */
export async function decryptWebhookUrl(kms: KMSClient, ciphertextBase64: string, functionName: string): Promise<string> {
    const compact = ciphertextBase64.replace(/\s+/g, "");
    if (compact === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
        throw new Error(`${WEBHOOK_CIPHERTEXT_ENV} is not base64: set it to the base64 CiphertextBlob from kms encrypt (aws.kms.Ciphertext's ciphertextBlob)`);
    }
    let plaintext: Uint8Array | undefined;
    try {
        const result = await kms.send(
            new DecryptCommand({ CiphertextBlob: Buffer.from(compact, "base64"), EncryptionContext: webhookEncryptionContext(functionName) }),
        );
        plaintext = result.Plaintext;
    } catch (error) {
        const err = error as { name?: string; message?: string };
        throw new Error(
            `Could not decrypt ${WEBHOOK_CIPHERTEXT_ENV} with KMS (${err?.name ?? "Error"}: ${err?.message ?? String(error)}): ` +
                `check that it was encrypted with encryption context {LambdaFunctionName: "${functionName}"} and that the function's role may kms:Decrypt with that key`,
            { cause: error },
        );
    }
    if (plaintext === undefined) throw new Error(`KMS returned no plaintext for ${WEBHOOK_CIPHERTEXT_ENV}`);
    return normaliseWebhookUrl(Buffer.from(plaintext).toString("utf8"));
}

/**
 * A function returning the webhook URL, decrypting on first use and reusing the result for the
 * container's life. A failed decrypt is forgotten so that the next invocation tries again
 * (a throttled or briefly denied KMS call must not poison the container). The environment is read
 * on first use, not at import, so that a missing variable fails an invocation with a clear message.
 */
export function createWebhookUrlSource(kms: KMSClient, env: NodeJS.ProcessEnv = process.env): () => Promise<string> {
    let pending: Promise<string> | undefined;
    const load = async (): Promise<string> => {
        const ciphertext = env[WEBHOOK_CIPHERTEXT_ENV];
        if (ciphertext === undefined || ciphertext.trim() === "") {
            throw new Error(`${WEBHOOK_CIPHERTEXT_ENV} is not set: set it to the base64 KMS ciphertext of the Slack webhook URL, encrypted with encryption context {LambdaFunctionName: <this function's name>}`);
        }
        const functionName = env.AWS_LAMBDA_FUNCTION_NAME;
        if (functionName === undefined || functionName === "") {
            throw new Error("AWS_LAMBDA_FUNCTION_NAME is not set: Lambda sets it; when running elsewhere set it to the function name used in the encryption context");
        }
        return decryptWebhookUrl(kms, ciphertext, functionName);
    };
    return () => {
        pending ??= load().catch((error: unknown) => {
            pending = undefined;
            throw error;
        });
        return pending;
    };
}
