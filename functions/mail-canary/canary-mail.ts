import { CANARY_HEADER } from "../shared/canary-header";

/**
 * The canary mail: a small plain-text message that travels the same path as alert mail
 * (SES receiving → S3 + SNS → mail-ingest). mail-ingest recognises it by the
 * {@link CANARY_HEADER} header together with the configured canary sender passing SES's checks,
 * lights no tower and pings the on-call heartbeat; when canaries stop arriving, the heartbeat
 * expires and on-call is paged. Pure: the clock and the id come from the caller.
 *
 * From the SES developer guide, "Amazon SES header fields" (awsdocs/amazon-ses-developer-guide
 * doc-source/header-fields.md at 5b3d6427a09a45cc58b7c4aec9f418509e8ccb76: "If you specify a Date
 * header, Amazon SES overrides it …", "If you provide a Message-ID header, Amazon SES overrides the
 * header with its own value"): what mail-ingest sees in those two may not be what is written
 * here. The canary id therefore travels in its own header; Message-ID is set anyway so that the
 * mail is complete when sent by any other route (npm start).
 */

/** Re-exported where the canary mail is built, for callers that import it from here. */
export { CANARY_HEADER };

export interface CanaryMailInput {
    /** The canary sender (env CANARY_FROM), an address of a domain SES may send from. */
    readonly from: string;
    /** The alert address the receipt rule takes (env CANARY_TO). */
    readonly to: string;
    /** Environment name (env ALERTLINE_ENVIRONMENT), shown in the subject. */
    readonly environment: string;
    /** When the canary is sent, epoch milliseconds. */
    readonly nowMs: number;
    /** See {@link canaryId}. */
    readonly canaryId: string;
}

export interface CanaryMail {
    /** RFC 5322 message, CRLF line endings, ASCII only. */
    readonly raw: Buffer;
    readonly subject: string;
}

/** RFC 5322 atext: what a dot-atom (address local part, Message-ID left part) is made of. */
const ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-";
const DOT_ATOM = new RegExp(`^[${ATEXT}]+(?:\\.[${ATEXT}]+)*$`);
/** A DNS name SES could verify: letters, digits and hyphens in labels, at least two labels. */
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** RFC 5322 §2.1.1: no line may be longer than 998 characters, CRLF excluded. */
const MAX_LINE = 998;

/** Whether the text is an RFC 5322 dot-atom (no quoting, no comments). */
export function isDotAtom(text: string): boolean {
    return DOT_ATOM.test(text);
}

/** Whether the text is a bare address `local@domain.tld`, as SES takes it for a sender identity. */
export function isMailAddress(text: string): boolean {
    const at = text.lastIndexOf("@");
    return at > 0 && isDotAtom(text.slice(0, at)) && DOMAIN.test(text.slice(at + 1));
}

/** Throws unless the value is safe inside one header line: no line break, printable ASCII only. */
function headerSafe(value: string, what: string): string {
    if (/[\r\n]/.test(value)) throw new Error(`${what} contains a line break (CR or LF), which would start a new mail header; refused: ${JSON.stringify(value)}`);
    if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`${what} must be printable ASCII (the canary's headers are not MIME-encoded): ${JSON.stringify(value)}`);
    return value;
}

function address(value: string, variable: string, example: string): string {
    headerSafe(value, variable);
    if (!isMailAddress(value)) throw new Error(`${variable} is not a mail address: ${JSON.stringify(value)}; set it to a bare address such as ${example}`);
    return value;
}

/** `20240521T094527Z`: the ISO 8601 basic format, to the second. */
export function compactIsoTime(nowMs: number): string {
    return new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/** RFC 5322 date-time in UTC: `Tue, 21 May 2024 09:45:27 +0000`. */
export function rfc5322Date(nowMs: number): string {
    return new Date(nowMs).toUTCString().replace(/ GMT$/, " +0000");
}

/**
 * `canary-<environment>-<compact ISO time>-<6 hex>`, e.g. `canary-dev-20240521T094527Z-a1b2c3`.
 * Pure: the caller supplies the random part (the handler takes 3 random bytes).
 */
export function canaryId(environment: string, nowMs: number, randomHex: string): string {
    if (!/^[0-9a-f]{6}$/.test(randomHex)) throw new Error(`the canary id's random part must be 6 lowercase hex digits, got ${JSON.stringify(randomHex)}`);
    return `canary-${environment}-${compactIsoTime(nowMs)}-${randomHex}`;
}

/** Two or three sentences for whoever opens the mail; 7bit, lines under 78 characters. */
function bodyLines(environment: string, id: string, sentAt: string): string[] {
    return [
        `This is alertline's canary for the ${environment} environment: a test mail`,
        "sent on a schedule to prove that alert mail still travels SES -> S3 ->",
        "mail-ingest. mail-ingest recognises it by its X-Alertline-Canary header",
        "and verified sender, lights no tower and pings the on-call heartbeat.",
        "Nobody needs to act on it; if these mails stop arriving, the heartbeat",
        "expires and on-call is paged.",
        "",
        `Canary: ${id}`,
        `Sent: ${sentAt}`,
    ];
}

/** Builds the canary. Throws, naming the setting, when an address or header value is unusable. */
export function canaryMail(input: CanaryMailInput): CanaryMail {
    const from = address(input.from, "CANARY_FROM", "alertline-canary@alerts.example.jp");
    const to = address(input.to, "CANARY_TO", "patlite@alerts.example.jp");
    const environment = headerSafe(input.environment, "ALERTLINE_ENVIRONMENT");
    if (environment.trim() === "") throw new Error("ALERTLINE_ENVIRONMENT is empty: set it to the environment name, e.g. dev");
    const id = headerSafe(input.canaryId, "the canary id");
    if (!isDotAtom(id)) throw new Error(`the canary id must be a dot-atom (letters, digits, '-', '_', '.'; it is the Message-ID's left part): ${JSON.stringify(id)}`);
    if (!Number.isFinite(input.nowMs)) throw new Error(`the canary's send time must be epoch milliseconds, got ${input.nowMs}`);

    const sentAt = new Date(input.nowMs).toISOString();
    const subject = `alertline canary ${environment} ${sentAt}`;
    const headers = [
        `From: ${from}`,
        `To: ${to}`,
        `Subject: ${subject}`,
        `Date: ${rfc5322Date(input.nowMs)}`,
        `Message-ID: <${id}@${from.slice(from.lastIndexOf("@") + 1)}>`,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: 7bit",
        `${CANARY_HEADER}: ${id}`,
        // RFC 3834: auto-responders (vacation replies, ticket systems) must not answer this.
        "Auto-Submitted: auto-generated",
    ];
    const lines = [...headers, "", ...bodyLines(environment, id, sentAt)];
    const tooLong = lines.find((line) => line.length > MAX_LINE);
    if (tooLong !== undefined) throw new Error(`a canary line would exceed RFC 5322's ${MAX_LINE} characters (is ALERTLINE_ENVIRONMENT that long?): ${tooLong.slice(0, 60)}…`);
    return { raw: Buffer.from(`${lines.join("\r\n")}\r\n`, "ascii"), subject };
}
