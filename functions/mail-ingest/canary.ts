import { mayLightTower, type SesVerdicts } from "../shared/sender-policy";
import type { ParsedAlertMail } from "./parse-mail";

/**
 * alertline's canary: a test mail sent through the whole mail path on a schedule. mail-ingest
 * recognises it and pings an on-call heartbeat instead of lighting towers; when canaries stop
 * arriving, the heartbeat expires and on-call is paged. The `X-Alertline-Canary` header alone is
 * a claim anyone can make, so a mail is the canary only when it also comes from the configured
 * canary sender and passes SES's checks. A mail that claims to be the canary and fails is never
 * allowed to ping (that would hide a broken path) nor to light a tower; it is reported.
 */

export type CanaryVerdict =
    | { readonly kind: "not-canary" }
    | { readonly kind: "canary"; readonly canaryId: string }
    /** Carries the canary header but failed the checks. */
    | { readonly kind: "impostor"; readonly canaryId: string; readonly reasons: readonly string[] };

/** Whether `mail` is alertline's canary. Pure. */
export function canaryVerdict(mail: Pick<ParsedAlertMail, "from" | "canaryId" | "fromProblem">, verdicts: SesVerdicts | undefined, canarySender: string | undefined): CanaryVerdict {
    if (mail.canaryId === undefined) return { kind: "not-canary" };
    const canaryId = mail.canaryId;
    if (canarySender === undefined) {
        return { kind: "impostor", canaryId, reasons: ["no canary sender is configured (canarySender in ingest.json), so no mail can be the canary"] };
    }
    const from = mail.from.trim();
    const sameSender = from.toLowerCase() === canarySender.trim().toLowerCase();
    const check = mayLightTower({ from, fromProblem: mail.fromProblem, verdicts, allowedSenders: [canarySender] });
    if (sameSender && check.trusted) return { kind: "canary", canaryId };
    // A wrong sender already fails the allow-list line; say it in the canary's terms instead.
    const reasons = sameSender ? check.reasons : [`sender ${from === "" ? "(none)" : from} is not the canary sender ${canarySender}`, ...check.reasons.filter((r) => !r.startsWith("sender ") && r !== "the mail has no From address")];
    return { kind: "impostor", canaryId, reasons };
}

/** Milliseconds from the mail's Date header to SES receiving it; undefined when either is unreadable. */
export function canaryAgeMs(receivedAt: string, dateHeader: string | undefined): number | undefined {
    if (dateHeader === undefined) return undefined;
    const received = Date.parse(receivedAt);
    const sent = Date.parse(dateHeader);
    return Number.isNaN(received) || Number.isNaN(sent) ? undefined : received - sent;
}

/** The channel's warning about a mail that claims to be the canary and failed the checks. */
export function impostorWarning(reasons: readonly string[]): string {
    return (
        `a mail claiming to be alertline's canary failed the sender check: ${reasons.join("; ")}. ` +
        "It lit no tower and pinged no heartbeat. If it is alertline's own canary, check canarySender in ingest.json and the sending domain's SPF, DKIM and DMARC records (see dnsRecordsToAdd); " +
        "otherwise someone is sending mail that imitates the canary."
    );
}
