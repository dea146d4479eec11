import type { KMSClient } from "@aws-sdk/client-kms";
import { createEnvSecretSource, decryptEnvSecret, functionEncryptionContext } from "../shared/kms-env-secret";

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
    return functionEncryptionContext(functionName);
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
    return normaliseWebhookUrl(await decryptEnvSecret(kms, WEBHOOK_CIPHERTEXT_ENV, ciphertextBase64, functionName));
}

/** The webhook URL, decrypted on first use and kept for the container's life (see createEnvSecretSource). */
export function createWebhookUrlSource(kms: KMSClient, env: NodeJS.ProcessEnv = process.env): () => Promise<string> {
    const decrypted = createEnvSecretSource(kms, WEBHOOK_CIPHERTEXT_ENV, "the Slack webhook URL", env);
    return async () => normaliseWebhookUrl(await decrypted());
}
