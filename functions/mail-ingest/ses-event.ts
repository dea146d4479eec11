import type { SesVerdicts } from "../shared/sender-policy";

/**
 * The SES receiving notification as it arrives in the SNS message (facts.md, "Amazon SES inbound
 * mail"). With the S3 action the mail is in the bucket and the notification says where; with the
 * SNS action (mail of 150 KB or less) the notification carries it in `content`. Nothing here is
 * trusted to have the documented shape: {@link readSesNotification} checks each field it uses and
 * says what was wrong.
 */

export interface SesHeader {
    readonly name: string;
    readonly value: string;
}

export interface SesMail {
    /** SES's ID of the mail; also the S3 object key (after any prefix). */
    readonly messageId: string;
    /** When SES received the mail (ISO 8601). */
    readonly timestamp?: string;
    /** Envelope sender (MAIL FROM). */
    readonly source?: string;
    readonly destination?: readonly string[];
    readonly headersTruncated?: boolean;
    readonly headers?: readonly SesHeader[];
    readonly commonHeaders?: {
        readonly from?: readonly string[];
        readonly subject?: string;
        readonly messageId?: string;
        readonly date?: string;
        readonly [name: string]: unknown;
    };
}

export interface SesS3Action {
    readonly type: "S3";
    readonly topicArn?: string;
    readonly bucketName: string;
    readonly objectKey: string;
    readonly objectKeyPrefix?: string;
}

export interface SesSnsAction {
    readonly type: "SNS";
    readonly topicArn?: string;
    /** How `content` is encoded; SES's default is UTF8, which may lose bytes (facts.md). */
    readonly encoding?: "UTF8" | "BASE64";
}

export interface SesReceipt extends SesVerdicts {
    readonly timestamp?: string;
    readonly processingTimeMillis?: number;
    readonly recipients?: readonly string[];
    readonly dmarcPolicy?: string;
    readonly action: SesS3Action | SesSnsAction | { readonly type: string; readonly [field: string]: unknown };
}

/** `notificationType: "Received"`: one mail SES accepted. */
export interface SesReceivedNotification {
    readonly notificationType: "Received";
    readonly mail: SesMail;
    readonly receipt: SesReceipt;
    /** The raw MIME message; SNS action only. */
    readonly content?: string;
}

/** Where the raw MIME message is. */
export type MailSource =
    | { readonly kind: "s3"; readonly bucket: string; readonly key: string }
    | { readonly kind: "sns-content"; readonly content: string; readonly encoding: "UTF8" | "BASE64" }
    | { readonly kind: "none"; readonly reason: string };

export type SesNotificationReading =
    | { readonly kind: "received"; readonly notification: SesReceivedNotification; readonly source: MailSource }
    /** A notification that is not a mail, e.g. `AmazonSnsSubscriptionSucceeded` when the rule is created. */
    | { readonly kind: "other"; readonly notificationType: string }
    | { readonly kind: "invalid"; readonly reason: string };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
    return typeof value === "string" && value !== "";
}

/** Where the mail is, from the receipt's action (and `content` for the SNS action). */
export function mailSourceOf(receipt: JsonObject, content: unknown): MailSource {
    const action = isObject(receipt.action) ? receipt.action : undefined;
    const type = action?.type;
    if (type === "S3") {
        if (!nonEmptyString(action?.bucketName) || !nonEmptyString(action?.objectKey)) {
            return { kind: "none", reason: "the S3 action names no bucketName and objectKey" };
        }
        return { kind: "s3", bucket: action.bucketName, key: action.objectKey };
    }
    if (typeof content === "string") {
        const encoding = action?.encoding === "BASE64" ? "BASE64" : "UTF8";
        return { kind: "sns-content", content, encoding };
    }
    if (type === "SNS") return { kind: "none", reason: "the SNS action notification carries no content" };
    return { kind: "none", reason: `receipt action type ${JSON.stringify(type ?? null)} does not say where the mail is (expected S3, or SNS with content)` };
}

/**
 * Reads the SNS message text as an SES notification. Never throws: a message that is not one says
 * why in `reason`.
 */
export function readSesNotification(message: unknown): SesNotificationReading {
    if (typeof message !== "string") return { kind: "invalid", reason: "the SNS message is not a string" };
    let parsed: unknown;
    try {
        parsed = JSON.parse(message);
    } catch (error) {
        return { kind: "invalid", reason: `the SNS message is not JSON (${error instanceof Error ? error.message : String(error)})` };
    }
    if (!isObject(parsed)) return { kind: "invalid", reason: "the SNS message is JSON but not an object" };
    const type = parsed.notificationType;
    if (type !== "Received") {
        if (nonEmptyString(type)) return { kind: "other", notificationType: type };
        return { kind: "invalid", reason: "the SNS message has no notificationType; it is not an SES receiving notification" };
    }
    const mail = parsed.mail;
    if (!isObject(mail) || !nonEmptyString(mail.messageId)) {
        return { kind: "invalid", reason: "the SES notification has no mail.messageId" };
    }
    if (!/^[A-Za-z0-9._+=@-]{1,512}$/.test(mail.messageId)) {
        return { kind: "invalid", reason: `the SES notification's mail.messageId ${JSON.stringify(mail.messageId.slice(0, 80))} has unexpected characters` };
    }
    const receipt = isObject(parsed.receipt) ? parsed.receipt : {};
    const notification = { ...parsed, notificationType: "Received", mail, receipt } as unknown as SesReceivedNotification;
    return { kind: "received", notification, source: mailSourceOf(receipt, parsed.content) };
}

/**
 * The raw bytes of SNS-action content. BASE64 keeps every byte; UTF8 is what SES sends by default
 * and cannot carry 8-bit mail such as raw Shift_JIS: when that shows, a problem is returned too.
 */
export function decodeSnsContent(content: string, encoding: "UTF8" | "BASE64"): { raw: Buffer; problem?: string } {
    if (encoding === "BASE64") return { raw: Buffer.from(content, "base64") };
    const raw = Buffer.from(content, "utf8");
    // U+FFFD is what a byte that was not UTF-8 became on the way; 7-bit mail arrives intact.
    if (!content.includes("\uFFFD")) return { raw };
    return {
        raw,
        problem: "the mail came in an SNS action with UTF-8 encoding and some of its bytes were replaced (U+FFFD); set the action's encoding to BASE64 or use the S3 action",
    };
}

/** The `d=` tag of a DKIM-Signature header value (RFC 6376 §3.2 tag list), lower case; "" when it has none. */
export function dkimSigningDomain(value: string): string {
    for (const tag of value.split(";")) {
        const eq = tag.indexOf("=");
        if (eq < 0) continue;
        if (tag.slice(0, eq).replace(/\s+/g, "") !== "d") continue;
        return tag.slice(eq + 1).replace(/\s+/g, "").toLowerCase();
    }
    return "";
}

/**
 * The SES verdicts of a receipt (missing ones stay missing; the sender policy says so), with what
 * they were about from `mail`: the envelope sender (`source`) and the `d=` of every DKIM-Signature
 * in `headers` (unknown when SES truncated the headers or sent none).
 */
export function verdictsOf(receipt: SesReceipt, mail?: SesMail): SesVerdicts {
    const pick = (v: unknown) => (isObject(v) && typeof v.status === "string" ? { status: v.status } : undefined);
    const headers = Array.isArray(mail?.headers) ? (mail.headers as unknown[]) : undefined;
    const complete = headers !== undefined && mail?.headersTruncated !== true;
    return {
        spfVerdict: pick(receipt.spfVerdict),
        dkimVerdict: pick(receipt.dkimVerdict),
        dmarcVerdict: pick(receipt.dmarcVerdict),
        virusVerdict: pick(receipt.virusVerdict),
        spamVerdict: pick(receipt.spamVerdict),
        ...(typeof mail?.source === "string" ? { envelopeFrom: mail.source } : {}),
        ...(complete
            ? {
                  dkimSignatureDomains: headers
                      .filter((h): h is SesHeader => isObject(h) && typeof h.name === "string" && h.name.trim().toLowerCase() === "dkim-signature")
                      .map((h) => (typeof h.value === "string" ? dkimSigningDomain(h.value) : "")),
              }
            : {}),
    };
}
