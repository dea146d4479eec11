import type { KMSClient } from "@aws-sdk/client-kms";
import { createEnvSecretSource } from "../shared/kms-env-secret";
import {
    createOnCallClient,
    JSM_API_TOKEN_ENV,
    JSM_EMAIL_ENV,
    JSM_OPS_API_URL_ENV,
    JSM_TEAM_ID_ENV,
    ONCALL_ALSO_API_KEY_ENV,
    ONCALL_ALSO_API_URL_ENV,
    ONCALL_API_KEY_ENV,
    ONCALL_API_URL_ENV,
    onCallBackendOf,
    type OnCallTarget,
    type JsmHeartbeatPingOptions,
    type OnCallClient,
} from "../shared/oncall-alerts";

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
    const jsmHeartbeat = jsmHeartbeatFromEnv(kms, env);
    return createOnCallClient({
        apiUrl: url,
        apiKey: createEnvSecretSource(kms, ONCALL_API_KEY_ENV, "the on-call API integration key (Opsgenie or JSM)", env),
        ...(jsmHeartbeat === undefined ? {} : { jsmHeartbeat }),
        ...options,
    });
}

/**
 * Every backend's client from the environment: the one of {@link onCallClientFromEnv} and, in the
 * migration window, the second backend's from `ONCALL_ALSO_API_URL` and
 * `ONCALL_ALSO_API_KEY_CIPHERTEXT` (both or neither; the second needs the first). One backend alone
 * gives its bare client, as before; two give both, named, Opsgenie's first. JSM's heartbeat ping
 * settings go to JSM's client.
 */
export function onCallTargetsFromEnv(kms: Pick<KMSClient, "send">, env: NodeJS.ProcessEnv = process.env, options: { fetch?: typeof fetch; timeoutMs?: number } = {}): OnCallClient | OnCallTarget[] | undefined {
    const url = env[ONCALL_ALSO_API_URL_ENV]?.trim() ?? "";
    const key = env[ONCALL_ALSO_API_KEY_ENV]?.trim() ?? "";
    if (url === "" && key === "") return onCallClientFromEnv(kms, env, options);
    if (url === "" || key === "") {
        const [set, unset] = url === "" ? [ONCALL_ALSO_API_KEY_ENV, ONCALL_ALSO_API_URL_ENV] : [ONCALL_ALSO_API_URL_ENV, ONCALL_ALSO_API_KEY_ENV];
        throw new Error(`${set} is set but ${unset} is not: paging a second on-call backend (the migration window) needs both or neither; the mail-ingest component sets them together`);
    }
    const firstUrl = env[ONCALL_API_URL_ENV]?.trim() ?? "";
    if (firstUrl === "") throw new Error(`${ONCALL_ALSO_API_URL_ENV} is set but ${ONCALL_API_URL_ENV} is not: the second backend is paged alongside the first, set both`);
    if ((env[ONCALL_API_KEY_ENV]?.trim() ?? "") === "") throw new Error(`${ONCALL_API_URL_ENV} is set but ${ONCALL_API_KEY_ENV} is not: on-call paging needs both`);
    checkApiUrl(url, ONCALL_ALSO_API_URL_ENV);
    const [firstBackend, secondBackend] = [onCallBackendOf(firstUrl), onCallBackendOf(url)];
    if (firstBackend === secondBackend) {
        throw new Error(`${ONCALL_API_URL_ENV} and ${ONCALL_ALSO_API_URL_ENV} both point at ${firstBackend}: the migration window pages Opsgenie and JSM, one each`);
    }
    const jsmHeartbeat = jsmHeartbeatFromEnv(kms, env);
    const withHeartbeat = (backend: string) => (backend === "jsm" && jsmHeartbeat !== undefined ? { jsmHeartbeat } : {});
    // The first backend's client without the JSM heartbeat, which belongs to JSM's client.
    checkApiUrl(firstUrl);
    const first = createOnCallClient({ apiUrl: firstUrl, apiKey: createEnvSecretSource(kms, ONCALL_API_KEY_ENV, `the ${firstBackend} API integration key`, env), ...withHeartbeat(firstBackend), ...options });
    const second = createOnCallClient({ apiUrl: url, apiKey: createEnvSecretSource(kms, ONCALL_ALSO_API_KEY_ENV, `the ${secondBackend} API integration key`, env), ...withHeartbeat(secondBackend), ...options });
    const targets: OnCallTarget[] = [
        { backend: firstBackend, client: first },
        { backend: secondBackend, client: second },
    ];
    return targets.sort((a, b) => (a.backend === "opsgenie" ? -1 : b.backend === "opsgenie" ? 1 : 0));
}

/**
 * JSM's heartbeat ping settings (see JsmHeartbeatPingOptions): all four variables or none; some
 * without the others is a deployment mistake and throws, naming the missing ones.
 */
export function jsmHeartbeatFromEnv(kms: Pick<KMSClient, "send">, env: NodeJS.ProcessEnv = process.env): JsmHeartbeatPingOptions | undefined {
    const names = [JSM_OPS_API_URL_ENV, JSM_TEAM_ID_ENV, JSM_EMAIL_ENV, JSM_API_TOKEN_ENV];
    const values = names.map((name) => env[name]?.trim() ?? "");
    if (values.every((v) => v === "")) return undefined;
    const missing = names.filter((_, i) => values[i] === "");
    if (missing.length > 0) {
        throw new Error(`${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set while ${names.filter((n) => !missing.includes(n)).join(", ")} ${names.length - missing.length === 1 ? "is" : "are"}: the JSM heartbeat ping needs all four (the mail canary component sets them together)`);
    }
    const [opsApiUrl, teamId, email] = values;
    let parsed: URL;
    try {
        parsed = new URL(opsApiUrl);
    } catch {
        throw new Error(`${JSM_OPS_API_URL_ENV} is not a URL: set it to https://api.atlassian.com/jsm/ops/api/<cloudId>`);
    }
    const local = parsed.hostname === "127.0.0.1" || parsed.hostname === "localhost";
    if ((parsed.protocol !== "https:" && !(parsed.protocol === "http:" && local)) || !/\/jsm\/ops\/api\/[^/]+\/?$/.test(parsed.pathname) || parsed.search !== "" || parsed.username !== "") {
        throw new Error(`${JSM_OPS_API_URL_ENV} must be JSM's ops REST API base for the site, https://api.atlassian.com/jsm/ops/api/<cloudId> (the API token travels with it)`);
    }
    return { opsApiUrl, teamId, email, apiToken: createEnvSecretSource(kms, JSM_API_TOKEN_ENV, "the Atlassian API token for JSM's ops REST API", env) };
}

/** Throws unless `url` is an https URL (plain http only to this machine, for local tests). */
export function checkApiUrl(url: string, variable: string = ONCALL_API_URL_ENV): void {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        // The value is not echoed: a key pasted into the wrong variable must not reach the logs.
        throw new Error(`${variable} is not a URL: set it to the on-call API base URL, e.g. https://api.opsgenie.com, https://api.eu.opsgenie.com or https://api.atlassian.com/jsm/ops/integration`);
    }
    const local = parsed.hostname === "127.0.0.1" || parsed.hostname === "localhost" || parsed.hostname === "[::1]";
    if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && local)) {
        throw new Error(`${variable} must be an https URL (the API key travels in its Authorization header), got ${parsed.protocol}//${parsed.host}`);
    }
    if (parsed.search !== "" || parsed.hash !== "" || parsed.username !== "" || parsed.password !== "") {
        throw new Error(`${variable} must be a plain base URL without query, fragment or credentials, e.g. https://api.opsgenie.com`);
    }
}
