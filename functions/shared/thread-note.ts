/**
 * A note about an alert that is already in the alert channel: an acknowledgement from on-call, a
 * tower's state change. Published on the alert topic like any alert; slack-notifier in app mode
 * replies with `text` in the thread of the alert whose identity is `alertKey` (the mail's
 * correlation key in its stored form, the same one mail-ingest puts in its summary's `alertKey`).
 * Notes are published only in app mode (ALERTLINE_THREAD_NOTES=on, set by the stack): in webhook
 * mode, with no threads, each would be one more message in a channel that is already busy. The
 * `alertline` marker keeps a note from being read as an alert.
 */

export const THREAD_NOTE_KIND = "thread-note";
/** Longest text kept; a note is one line of what happened, not a report. */
export const THREAD_NOTE_TEXT_MAX = 1000;

export interface ThreadNote {
    readonly alertline: typeof THREAD_NOTE_KIND;
    /** The alert's identity: the correlation key of the mail that raised it. */
    readonly alertKey: string;
    /** One line, e.g. "tokyo-ops: red flash → quiet, acknowledged by ayumi@example.com". */
    readonly text: string;
    /** The stack's environment, shown in webhook mode. */
    readonly environment?: string;
}

/** Builds a note; the text is cut (marked) to THREAD_NOTE_TEXT_MAX characters. */
export function threadNote(alertKey: string, text: string, environment?: string): ThreadNote {
    if (alertKey.trim() === "") throw new Error("a thread note needs the alert's key (the mail's correlation key)");
    const cut = text.length > THREAD_NOTE_TEXT_MAX ? `${text.slice(0, THREAD_NOTE_TEXT_MAX - 1)}…` : text;
    return environment === undefined ? { alertline: THREAD_NOTE_KIND, alertKey, text: cut } : { alertline: THREAD_NOTE_KIND, alertKey, text: cut, environment };
}

/** The note in a parsed topic message, or undefined when the message is not one (an alert). */
export function readThreadNote(message: unknown): ThreadNote | undefined {
    if (typeof message !== "object" || message === null || Array.isArray(message)) return undefined;
    const m = message as Record<string, unknown>;
    if (m.alertline !== THREAD_NOTE_KIND) return undefined;
    if (typeof m.alertKey !== "string" || m.alertKey.trim() === "" || typeof m.text !== "string") return undefined;
    return threadNote(m.alertKey, m.text, typeof m.environment === "string" ? m.environment : undefined);
}

/**
 * Environment variable the components set to "on" for ack-webhook and tower-dispatch when
 * `alertline:slack.mode` is app: only then do they publish notes (in webhook mode every note would
 * be one more message in the channel). Unset or anything else: no notes.
 */
export const THREAD_NOTES_ENV = "ALERTLINE_THREAD_NOTES";

/** Whether an environment turns the notes on ({@link THREAD_NOTES_ENV} is "on"). */
export function threadNotesOn(env: Readonly<Record<string, string | undefined>>): boolean {
    return env[THREAD_NOTES_ENV] === "on";
}
