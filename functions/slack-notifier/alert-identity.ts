import { createHash } from "node:crypto";
import { storedKey } from "../shared/alert-key";
import type { AlertSummary } from "../shared/slack-message";
import type { ThreadNote } from "../shared/thread-note";
import { identityOf } from "./flood-control";

/**
 * App mode's "one message per alert": the identity of an alert WITHOUT its state, so a recovery
 * finds the message of its problem, and a thread note (acknowledgement, tower change) finds it too.
 *
 * - a summary carrying `alertKey` (mail-ingest puts the mail's correlation key there): that key, in
 *   the stored form (`storedKey`) that on-call aliases and tower notes use, so all three agree;
 * - otherwise flood control's identity (./flood-control `identityOf`): the CloudWatch alarm ARN,
 *   the Datadog monitor|host, the GuardDuty/Security Hub finding or AWS event id;
 * - nothing stable (plain text, an unknown JSON shape): undefined, and the alert is posted on its
 *   own, without a thread.
 */

/** What thread items are keyed by in the flood table: `thread#` and 32 hex digits of SHA-256. */
export const THREAD_KEY_PREFIX = "thread#";

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The identity of an alert with a correlation key, shared by summaries and thread notes. */
function correlationIdentity(alertKey: string): string {
    return `alertKey:${storedKey(alertKey)}`;
}

/** The alert's identity, or undefined when nothing in it is stable enough to thread on. */
export function alertIdentity(summary: AlertSummary): string | undefined {
    const raw = summary.raw;
    if (isObject(raw) && typeof raw.alertKey === "string" && raw.alertKey.trim() !== "") return correlationIdentity(raw.alertKey);
    const identity = identityOf(summary);
    return identity === undefined ? undefined : `${summary.source}:${identity}`;
}

/** The identity a thread note replies under: the alert whose correlation key it names. */
export function noteIdentity(note: ThreadNote): string {
    return correlationIdentity(note.alertKey);
}

/** The table key of an identity: bounded in length whatever the identity (a finding list can be long). */
export function threadKey(identity: string): string {
    return `${THREAD_KEY_PREFIX}${createHash("sha256").update(identity, "utf8").digest("hex").slice(0, 32)}`;
}
