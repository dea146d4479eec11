/**
 * Pure pieces of talking HTTP to Opsgenie and JSM that both sides use: the Lambdas' on-call client
 * (oncall-alerts.ts) and the Pulumi providers' request modules (components/shared/oncall/opsgenie-api.ts,
 * components/shared/oncall/jsm-api.ts). Functions never import from components/, so what both need lives here.
 *
 * Nothing here does I/O or holds state beyond constants: the dynamic providers capture this module
 * by value when Pulumi serialises them.
 */

/** What an error message must not repeat: one secret, or several (an API key, webhook header values, a Basic credential). */
export type Secrets = string | readonly string[];

/**
 * Replaces every occurrence of each secret so an error message can be shown or logged. One pass,
 * longest secret first: a secret containing a shorter one goes whole, and a short secret cannot
 * match inside a `[redacted]` already put in.
 */
export function redact(text: string, secrets: Secrets): string {
    const ordered = (typeof secrets === "string" ? [secrets] : [...secrets]).filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
    if (ordered.length === 0) return text;
    const anySecret = new RegExp(ordered.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
    return text.replace(anySecret, "[redacted]");
}

/**
 * An error body as a JSON object to read fields from, or, when it is not one, the short text to
 * show instead: "(empty body)", the start of a non-JSON body, or a JSON scalar.
 */
export function errorBodyObject(bodyText: string): Record<string, unknown> | string {
    let parsed: unknown;
    try {
        parsed = JSON.parse(bodyText);
    } catch {
        const text = bodyText.trim();
        return text === "" ? "(empty body)" : text.slice(0, 200);
    }
    if (typeof parsed !== "object" || parsed === null) return String(parsed).slice(0, 200);
    return parsed as Record<string, unknown>;
}

// ---------------------------------------------------------------- JSM's ops REST API

/**
 * Atlassian's API gateway. JSM's ops REST API (heartbeats, teams) is under
 * `/jsm/ops/api/{cloudId}` with Basic auth, the account's e-mail and an API token (Atlassian,
 * "Jira Service Management ops REST API", intro; the same base and auth in
 * atlassian/terraform-provider-atlassian-operations, httpClientHelpers.GenerateJsmOpsClientRequest).
 */
export const JSM_OPS_GATEWAY_URL = "https://api.atlassian.com";

/** Base of JSM's ops REST API for a site: `https://api.atlassian.com/jsm/ops/api/{cloudId}`. */
export function jsmOpsApiUrl(cloudId: string, gatewayUrl: string = JSM_OPS_GATEWAY_URL): string {
    return `${gatewayUrl.replace(/\/+$/, "")}/jsm/ops/api/${encodeURIComponent(cloudId)}`;
}

/** `Basic base64(email:token)`, as curl's `--user email:token` in Atlassian's examples. */
export function jsmBasicAuthorization(email: string, apiToken: string): string {
    return `Basic ${Buffer.from(`${email}:${apiToken}`, "utf8").toString("base64")}`;
}

/** What error texts must never repeat: the token, and the Basic credential built from it (a response may echo either). */
export function jsmCredentialSecrets(email: string, apiToken: string): string[] {
    return [apiToken, Buffer.from(`${email}:${apiToken}`, "utf8").toString("base64")];
}

/**
 * JSM's error body is `{"errors": [{"title": …}]}` (the ops REST API intro); `detail`, `code` and a
 * `source` naming the field are read too when present (unconfirmed beyond `title`), and an
 * Opsgenie-style `{message}` is read for safety. Anything else: the start of the text.
 */
export function jsmErrorText(bodyText: string): string {
    const parsed = errorBodyObject(bodyText);
    if (typeof parsed === "string") return parsed;
    const { errors, message } = parsed as { errors?: unknown; message?: unknown };
    const parts: string[] = [];
    if (Array.isArray(errors)) {
        for (const entry of errors) {
            if (typeof entry !== "object" || entry === null) continue;
            const { title, detail, source } = entry as Record<string, unknown>;
            const where = typeof source === "object" && source !== null ? Object.values(source).filter((v) => typeof v === "string").join(", ") : typeof source === "string" ? source : "";
            const text = [typeof title === "string" ? title : "", typeof detail === "string" ? detail : ""].filter((t) => t !== "").join(": ");
            if (text !== "" || where !== "") parts.push(where === "" ? text : `${where}: ${text}`);
        }
    }
    if (parts.length === 0 && typeof message === "string" && message !== "") parts.push(message);
    return parts.length === 0 ? "(no error text)" : parts.join("; ").slice(0, 600);
}
