import type { KMSClient } from "@aws-sdk/client-kms";
import { createEnvSecretSource } from "./kms-env-secret";
import { createOnCallClient, ONCALL_API_KEY_ENV, ONCALL_API_URL_ENV, type OnCallClient } from "./oncall-alerts";

/**
 * A function's on-call client from its environment: `ONCALL_API_URL` and
 * `ONCALL_API_KEY_CIPHERTEXT` (the API integration key as KMS ciphertext, decrypted on first use).
 * Both unset means on-call is off (undefined); one without the other is a deployment mistake and
 * throws, naming the fix. The URL is checked here so that a typo fails loudly at the first mail
 * rather than as an unreachable host at the first page.
 */
export function onCallClientFromEnv(kms: Pick<KMSClient, "send">, env: NodeJS.ProcessEnv = process.env, options: { fetch?: typeof fetch; timeoutMs?: number } = {}): OnCallClient | undefined {
    const url = env[ONCALL_API_URL_ENV]?.trim() ?? "";
    const key = env[ONCALL_API_KEY_ENV]?.trim() ?? "";
    if (url === "" && key === "") return undefined;
    if (url === "" || key === "") {
        const [set, unset] = url === "" ? [ONCALL_API_KEY_ENV, ONCALL_API_URL_ENV] : [ONCALL_API_URL_ENV, ONCALL_API_KEY_ENV];
        throw new Error(`${set} is set but ${unset} is not: on-call paging needs both (the API base URL and the KMS-encrypted API integration key) or neither (paging off); the mail-ingest component sets them together`);
    }
    checkApiUrl(url);
    return createOnCallClient({ apiUrl: url, apiKey: createEnvSecretSource(kms, ONCALL_API_KEY_ENV, "the on-call API integration key (Opsgenie or JSM)", env), ...options });
}

/** Throws unless `url` is an https URL (plain http only to this machine, for local tests). */
export function checkApiUrl(url: string): void {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        // The value is not echoed: a key pasted into the wrong variable must not reach the logs.
        throw new Error(`${ONCALL_API_URL_ENV} is not a URL: set it to the on-call API base URL, e.g. https://api.opsgenie.com, https://api.eu.opsgenie.com or https://api.atlassian.com/jsm/ops/integration`);
    }
    const local = parsed.hostname === "127.0.0.1" || parsed.hostname === "localhost" || parsed.hostname === "[::1]";
    if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && local)) {
        throw new Error(`${ONCALL_API_URL_ENV} must be an https URL (the API key travels in its Authorization header), got ${parsed.protocol}//${parsed.host}`);
    }
    if (parsed.search !== "" || parsed.hash !== "" || parsed.username !== "" || parsed.password !== "") {
        throw new Error(`${ONCALL_API_URL_ENV} must be a plain base URL without query, fragment or credentials, e.g. https://api.opsgenie.com`);
    }
}
