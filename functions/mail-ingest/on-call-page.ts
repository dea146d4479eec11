import { onCallAlias, type OnCallAlert, type OnCallClient, type OnCallTarget } from "../shared/oncall-alerts";
import type { ActiveSeverity, Severity } from "../shared/severity";
import type { SignalIntent } from "../shared/signal-intent";

/**
 * Paging on-call for a mail: a mail that lit a tower opens an on-call alert whose alias is the
 * tower's stored alert key, and a recovery that cleared a tower closes it. Mail that lit no tower
 * does not page; the alert channel has it already.
 *
 * Lambda semantics: a failure that a later try may fix throws {@link OnCallUnavailableError}, so the
 * event is retried (the mail's claim keeps the intents from going out twice; paging twice is
 * harmless, on-call deduplicates by alias). A refusal retrying cannot fix is reported in the
 * summary instead, so the mail still reaches the channel.
 */

export const ONCALL_SOURCE = "alertline mail-ingest";

export const PRIORITY_OF: Record<ActiveSeverity, OnCallAlert["priority"]> = { critical: "P1", warning: "P3", info: "P5" };

/** What a mail tells on-call. */
export type OnCallAction =
    | { readonly kind: "create"; readonly alert: OnCallAlert }
    | { readonly kind: "close"; readonly alias: string; readonly note: string }
    | { readonly kind: "none"; readonly reason: string };

export interface PageInput {
    readonly severity: Severity;
    readonly alertKey: string;
    readonly rule: string | null;
    readonly subject: string;
    /** The From header as shown (display name and address). */
    readonly from: string;
    readonly text: string;
    /** The intents the mail produced: one per tower it lit. */
    readonly intents: readonly SignalIntent[];
    readonly messageId: string;
    readonly environment: string;
    /** Where the original mail is, in words (describeSource). */
    readonly original: string;
}

/** The on-call action for a classified mail. Pure. */
export function onCallActionFor(input: PageInput): OnCallAction {
    const { severity, intents } = input;
    if (severity === "ignore") return { kind: "none", reason: "the mail was ignored by its rule" };
    if (intents.length === 0) return { kind: "none", reason: severity === "recovery" ? "it cleared no tower" : "it lit no tower" };
    const alias = onCallAlias(input.alertKey);
    const subject = input.subject.trim() === "" ? "(no subject)" : input.subject;
    if (severity === "recovery") {
        return { kind: "close", alias, note: `Recovered by mail "${subject}" from ${input.from || "(no sender)"} (SES message ${input.messageId}, rule ${input.rule ?? "(default)"})` };
    }
    const towers = [...new Set(intents.map((i) => i.tower))];
    return {
        kind: "create",
        alert: {
            message: `[${severity.toUpperCase()}] ${subject}`,
            alias,
            description: input.text.trim() === "" ? "(the mail has no text)" : input.text.trim(),
            priority: PRIORITY_OF[severity],
            tags: ["alertline", `alertline-${input.environment}`, severity, ...towers.map((t) => `tower:${t}`)],
            details: {
                rule: input.rule ?? "(none matched: default severity)",
                from: input.from || "(none)",
                towers: towers.join(", "),
                messageId: input.messageId,
                environment: input.environment,
                original: input.original,
            },
            source: ONCALL_SOURCE,
            entity: intents[0].site,
        },
    };
}

/** On-call could not be reached or answered 429/5xx; the handler lets Lambda retry the event. */
export class OnCallUnavailableError extends Error {
    constructor(
        readonly status: number | undefined,
        problem: string,
    ) {
        super(`on-call is unavailable, the mail will be retried: ${problem}`);
        this.name = "OnCallUnavailableError";
    }
}

/** What the summary says about on-call, and a problem line when on-call refused. */
export interface PageReport {
    /** "paged (alias …)", "closed (alias …)", "not paged: …" or "not closed: …". */
    readonly onCall: string;
    readonly problem?: string;
}

export interface PageLogger {
    info(message: string, ...attributes: Record<string, unknown>[]): void;
    error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** Carries out the action. Throws {@link OnCallUnavailableError} for retryable failures only. */
export async function page(client: OnCallClient, action: OnCallAction, logger: PageLogger, messageId: string): Promise<PageReport> {
    if (action.kind === "none") return { onCall: `not paged: ${action.reason}` };
    const closing = action.kind === "close";
    const alias = closing ? action.alias : action.alert.alias;
    const result = closing ? await client.closeAlert(action.alias, action.note) : await client.createAlert(action.alert);
    if (result.ok) {
        logger.info(closing ? "Closed the on-call alert" : "Paged on-call", { messageId, alias, status: result.status });
        return { onCall: `${closing ? "closed" : "paged"} (alias ${alias})` };
    }
    if (result.retryable) throw new OnCallUnavailableError(result.status, result.problem);
    logger.error(closing ? "On-call refused to close the alert" : "On-call refused the page", { messageId, alias, status: result.status, problem: result.problem });
    return closing
        ? { onCall: `not closed: ${result.problem}`, problem: `on-call refused to close the alert: ${result.problem}` }
        : { onCall: `not paged: ${result.problem}`, problem: `on-call refused the page: ${result.problem}` };
}

/**
 * The migration window: carries out the action in every backend (Opsgenie and JSM), each once.
 * `already` names the backends an earlier attempt of this mail reached; they are skipped, so
 * Lambda's retry after one backend failed retries only that one. `reached` records a backend as
 * soon as it accepted (before any throw). A refusal in one backend never keeps the other from being
 * paged: it is reported in the summary. A retryable failure in any backend throws
 * {@link OnCallUnavailableError} after the others were tried and recorded.
 */
export async function pageAll(
    targets: readonly OnCallTarget[],
    action: OnCallAction,
    logger: PageLogger,
    messageId: string,
    already: readonly string[],
    reached: (backend: string) => Promise<void>,
): Promise<PageReport> {
    if (action.kind === "none") return { onCall: `not paged: ${action.reason}` };
    const closing = action.kind === "close";
    const alias = closing ? action.alias : action.alert.alias;
    const verb = closing ? "closed" : "paged";
    const pending = targets.filter((t) => !already.includes(t.backend));
    const results = await Promise.all(pending.map(async (t) => ({ backend: t.backend, result: closing ? await t.client.closeAlert(action.alias, action.note) : await t.client.createAlert(action.alert) })));
    const done = targets.filter((t) => already.includes(t.backend)).map((t) => t.backend as string);
    const refused: string[] = [];
    const unavailable: string[] = [];
    for (const { backend, result } of results) {
        if (result.ok) {
            await reached(backend);
            done.push(backend);
            logger.info(closing ? "Closed the on-call alert" : "Paged on-call", { messageId, alias, backend, status: result.status });
        } else if (result.retryable) {
            unavailable.push(`${backend}: ${result.problem}`);
        } else {
            logger.error(closing ? "On-call refused to close the alert" : "On-call refused the page", { messageId, alias, backend, status: result.status, problem: result.problem });
            refused.push(`${backend}: ${result.problem}`);
        }
    }
    if (unavailable.length > 0) {
        // Only the backends that failed are tried again: the others are recorded as reached.
        throw new OnCallUnavailableError(undefined, unavailable.join("; "));
    }
    const ordered = targets.map((t) => t.backend as string).filter((b) => done.includes(b));
    const head = ordered.length === 0 ? `not ${verb}` : `${verb} in ${ordered.join(" and ")} (alias ${alias})`;
    if (refused.length === 0) return { onCall: head };
    const refusal = closing ? "refused to close the alert" : "refused the page";
    return { onCall: `${head}; not ${verb} in ${refused.join("; ")}`, problem: `on-call ${refusal}: ${refused.join("; ")}` };
}

/** Pings the heartbeat in every backend; "pinged" when all answered, else each failure named by backend. Never throws. */
export async function pingAll(targets: readonly OnCallTarget[], name: string): Promise<{ readonly ok: boolean; readonly text: string; readonly failures: readonly { backend: string; status?: number; retryable: boolean; problem: string }[] }> {
    const results = await Promise.all(targets.map(async (t) => ({ backend: t.backend, result: await t.client.pingHeartbeat(name) })));
    const failures = results.flatMap(({ backend, result }) => (result.ok ? [] : [{ backend, status: result.status, retryable: result.retryable, problem: result.problem }]));
    if (failures.length === 0) return { ok: true, text: "pinged", failures };
    const pinged = results.filter((r) => r.result.ok).map((r) => r.backend);
    const text = `${pinged.length === 0 ? "" : `pinged in ${pinged.join(" and ")}; `}${failures.map((f) => `${f.backend}: ${f.problem}`).join("; ")}`;
    return { ok: false, text, failures };
}
