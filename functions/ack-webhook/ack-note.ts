import { CLEARED_WORDS } from "../shared/clearing-actions";
import { threadNote, type ThreadNote } from "../shared/thread-note";
import type { ClearEvent } from "./webhook-event";

/**
 * The note ack-webhook publishes on the alert topic once it has accepted an acknowledgement or a
 * close, so Slack (app mode) replies in the alert's thread: "acknowledged by ayumi@example.com in
 * Opsgenie". Pure.
 *
 * Which backend sent the call is not in Opsgenie's or JSM's alert action data (the same shape for
 * both), so the stack gives each backend's outgoing webhook a header naming it,
 * {@link BACKEND_HEADER}, and the function the list of backends it serves (env ONCALL_BACKENDS).
 */

/** Header each backend's outgoing webhook sends with its name (components/mail-ingest/ack-endpoint.ts sets it). */
export const BACKEND_HEADER = "X-Alertline-Backend";
/** Environment variable with the stack's on-call backends, comma-separated, Opsgenie first: "opsgenie", "jsm" or "opsgenie,jsm". */
export const ONCALL_BACKENDS_ENV = "ONCALL_BACKENDS";

export const NOTE_BACKENDS = ["opsgenie", "jsm"] as const;
export type NoteBackend = (typeof NOTE_BACKENDS)[number];

const BACKEND_NAMES: Record<NoteBackend, string> = { opsgenie: "Opsgenie", jsm: "JSM" };

/** The backends an ONCALL_BACKENDS value names, in its order; unknown names are left out. */
export function configuredBackends(value: string | undefined): NoteBackend[] {
    return (value ?? "")
        .split(",")
        .map((name) => name.trim().toLowerCase())
        .filter((name): name is NoteBackend => (NOTE_BACKENDS as readonly string[]).includes(name));
}

/**
 * The backend a call came from: the header's, when it names one the stack serves (or the stack's
 * list is unknown); else the stack's only backend; else undefined (both in the window and no usable
 * header, e.g. a webhook set up by hand).
 */
export function callingBackend(header: string | undefined, configured: readonly NoteBackend[]): NoteBackend | undefined {
    const named = header?.trim().toLowerCase();
    const fromHeader = NOTE_BACKENDS.find((backend) => backend === named);
    if (fromHeader !== undefined && (configured.length === 0 || configured.includes(fromHeader))) return fromHeader;
    return configured.length === 1 ? configured[0] : undefined;
}

/** "acknowledged by ayumi@example.com in Opsgenie", "closed by … in JSM", or "… in on-call" when the backend is unknown. */
export function ackNoteText(event: Pick<ClearEvent, "action" | "user">, backend: NoteBackend | undefined): string {
    return `${CLEARED_WORDS[event.action]} by ${event.user} in ${backend === undefined ? "on-call" : BACKEND_NAMES[backend]}`;
}

/** The note for the alert whose identity is the on-call alert's alias (the mail's correlation key). */
export function ackNote(event: Pick<ClearEvent, "action" | "user" | "alias">, backend: NoteBackend | undefined, environment: string | undefined): ThreadNote {
    return threadNote(event.alias, ackNoteText(event, backend), environment);
}
