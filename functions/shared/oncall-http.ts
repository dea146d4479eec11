/**
 * Pure pieces of talking HTTP to Opsgenie and JSM that both sides use: the Lambdas' on-call client
 * (oncall-alerts.ts) and the Pulumi providers' request modules (components/opsgenie-api.ts,
 * components/jsm-api.ts). Functions never import from components/, so what both need lives here.
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
