/**
 * Reads the body of an Opsgenie outgoing-webhook call ("alert action data", docs.opsgenie.com):
 * `{source, alert: {alertId, alias, message, tags, username, updatedAt, …}, action, integrationId,
 * integrationName}`. Acknowledge and Close clear the alert on the towers; every other action
 * (Create, AddNote, UnAcknowledge, …) is answered but changes nothing.
 *
 * Unconfirmed: JSM payload assumed identical to Opsgenie's (JSM took over Opsgenie's alerting and its
 * outgoing webhook; no separate JSM sample was found). Action names are matched without regard to
 * case in case JSM spells them differently.
 */

import { CLEARING_ACTIONS, type ClearingAction } from "../shared/clearing-actions";

export { CLEARING_ACTIONS, type ClearingAction };

/** Tag mail-ingest puts on an Opsgenie alert once per tower the alert lit. */
export const TOWER_TAG_PREFIX = "tower:";
/** Tag prefix naming the alertline environment that created the alert, e.g. `alertline-prod`. */
export const ENVIRONMENT_TAG_PREFIX = "alertline-";

export interface ClearEvent {
    readonly kind: "clear";
    readonly action: ClearingAction;
    /** The alert's alias: the correlation key tower-dispatch stored the alert under. */
    readonly alias: string;
    readonly alertId: string;
    /** Who acted: the alert's username, else the source's name, else "unknown user". */
    readonly user: string;
    readonly message: string;
    /** Tower names from `tower:<name>` tags, in tag order without repeats; null when the alert has none. */
    readonly towers: string[] | null;
    /**
     * alert.updatedAt as text, when present: differs between two acknowledgements of one alert (ack,
     * unack, ack again), so each is a new intent, while Opsgenie's retries of one call share it.
     */
    readonly updatedAt: string | null;
}

export type WebhookEvent = ClearEvent | { readonly kind: "ignore"; readonly reason: string } | { readonly kind: "invalid"; readonly problem: string };

export interface ParseOptions {
    /**
     * This deployment's environment (ALERTLINE_ENVIRONMENT). An alert tagged only for other alertline
     * environments is ignored, so one Opsgenie account feeding dev and prod endpoints does not let dev
     * acknowledgements clear prod towers with the same key, or the reverse.
     */
    readonly environment?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
    return typeof value === "string" ? value.trim() : "";
}

function clearingAction(action: string): ClearingAction | undefined {
    return CLEARING_ACTIONS.find((known) => known.toLowerCase() === action.toLowerCase());
}

/** Tower names from `tower:<name>` tags (prefix in any case), in order, without repeats or empty names. */
export function towersFromTags(tags: readonly string[]): string[] | null {
    const names: string[] = [];
    for (const tag of tags) {
        if (tag.slice(0, TOWER_TAG_PREFIX.length).toLowerCase() !== TOWER_TAG_PREFIX) continue;
        const name = tag.slice(TOWER_TAG_PREFIX.length).trim();
        if (name !== "" && !names.includes(name)) names.push(name);
    }
    return names.length > 0 ? names : null;
}

/** The environments named by `alertline-<environment>` tags. */
export function environmentsFromTags(tags: readonly string[]): string[] {
    return tags.filter((tag) => tag.toLowerCase().startsWith(ENVIRONMENT_TAG_PREFIX) && tag.length > ENVIRONMENT_TAG_PREFIX.length).map((tag) => tag.slice(ENVIRONMENT_TAG_PREFIX.length));
}

function updatedAtText(value: unknown): string | null {
    // Opsgenie sends nanoseconds, beyond a double's exact range: the text is only an identifier here.
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    if (typeof value === "string" && value.trim() !== "") return value.trim();
    return null;
}

/** Parses the raw body of one webhook call. */
export function parseWebhookEvent(rawBody: string, options: ParseOptions = {}): WebhookEvent {
    let json: unknown;
    try {
        json = JSON.parse(rawBody);
    } catch (error) {
        return { kind: "invalid", problem: `the body is not JSON (${(error as Error).message}); Opsgenie's webhook integration sends alert action data as JSON` };
    }
    if (!isObject(json)) return { kind: "invalid", problem: "the body is not a JSON object; expected Opsgenie alert action data {action, alert: {alias, …}}" };
    const action = text(json.action);
    if (action === "") return { kind: "invalid", problem: 'action is missing: expected Opsgenie alert action data with "action" such as "Acknowledge" or "Close"' };
    const alert = json.alert;
    if (!isObject(alert)) return { kind: "invalid", problem: `alert is missing or not an object (action "${action}"): expected Opsgenie alert action data with an "alert" object` };

    const cleared = clearingAction(action);
    if (cleared === undefined) return { kind: "ignore", reason: `action "${action}" does not clear towers (only ${CLEARING_ACTIONS.join(" and ")} do)` };

    const tags = Array.isArray(alert.tags) ? alert.tags.filter((tag): tag is string => typeof tag === "string") : [];
    const environment = options.environment;
    if (environment !== undefined && environment !== "") {
        const tagged = environmentsFromTags(tags);
        if (tagged.length > 0 && !tagged.includes(environment)) {
            return { kind: "ignore", reason: `the alert belongs to alertline environment ${tagged.join(", ")}; this endpoint serves ${environment}` };
        }
    }

    // Not trimmed: the alias must equal the stored correlation key byte for byte.
    const alias = typeof alert.alias === "string" && alert.alias.trim() !== "" ? alert.alias : "";
    const alertId = text(alert.alertId);
    const missing = [alias === "" ? "alert.alias" : "", alertId === "" ? "alert.alertId" : ""].filter((field) => field !== "");
    if (missing.length > 0) {
        return {
            kind: "invalid",
            problem:
                `${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} missing from the ${cleared} call: ` +
                "alertline finds the tower alert by the Opsgenie alert's alias (mail-ingest sets it to the alert's correlation key)",
        };
    }

    const source = isObject(json.source) ? json.source : {};
    return {
        kind: "clear",
        action: cleared,
        alias,
        alertId,
        user: text(alert.username) || text(source.name) || "unknown user",
        message: text(alert.message),
        towers: towersFromTags(tags),
        updatedAt: updatedAtText(alert.updatedAt),
    };
}
