import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { simpleParser, type AddressObject } from "mailparser";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { SesHeader, SesReceipt, SesReceivedNotification } from "../../functions/mail-ingest/ses-event";
import type { S3Stub } from "./s3";

/**
 * SES email receiving on this machine: a real SMTP server on 127.0.0.1 (the `smtp-server` package)
 * that does what the stack's receipt rule does with a mail for the alert address: store it in S3
 * under `mail/<messageId>` and publish the notification of the S3 action to the mail topic
 * (facts.md, "Amazon SES inbound mail"; shapes from the SES developer guide's "Examples of
 * notifications for Amazon SES email receiving").
 *
 * What differs from SES, on purpose:
 * - no TLS (STARTTLS is not offered; the real rule requires TLS) and no AUTH, so any SMTP client
 *   on this machine can send with no setup;
 * - the verdicts are not checked but set: all PASS by default, or SPF/DKIM/DMARC FAIL (as in the
 *   test fixture ses-s3-failed-verdicts.json) to see the untrusted path; a local server cannot
 *   check SPF, DKIM or DMARC, nor scan for viruses;
 * - mail to another address is refused at RCPT TO with 550, naming the alert address (SES would
 *   bounce it when no rule matches).
 * Like SES it prepends Return-Path and Received headers to the stored mail and lists all headers,
 * unfolded, in `mail.headers`. Unconfirmed: that `commonHeaders.subject` and `from` are decoded
 * (RFC 2047) as here, and how SES cuts `headers` when they exceed 10 KB (here: whole headers while
 * they fit, then `headersTruncated: true`). mail-ingest reads neither; it parses the stored mail.
 */

/** SES's S3 action takes mail up to this size (the SNS action only 150 KB). */
export const SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
/** Key prefix of the stack's S3 action (components/mail-ingest/mail-ingest.ts). */
export const SES_OBJECT_KEY_PREFIX = "mail/";
/** Headers beyond this many bytes are left out of the notification (`headersTruncated`). */
export const SES_HEADERS_MAX_BYTES = 10 * 1024;
/** The subject SES gives its notifications on the topic. */
export const SES_NOTIFICATION_SUBJECT = "Amazon SES Email Receipt Notification";

export type VerdictMode = "pass" | "fail";

export interface SesEnvelope {
    /** MAIL FROM; empty for a bounce (`<>`). */
    readonly mailFrom: string;
    /** RCPT TO, every address accepted. */
    readonly recipients: readonly string[];
    /** What the client said in HELO/EHLO, and where it connected from. */
    readonly helo?: string;
    readonly remoteAddress?: string;
}

export interface SesReceiveOptions {
    readonly messageId: string;
    /** When SES received the mail. */
    readonly receivedAt: Date;
    /** When the action ran (processingTimeMillis is the difference). Default receivedAt. */
    readonly actedAt?: Date;
    readonly bucketName: string;
    /** The mail topic the S3 action notifies. */
    readonly topicArn: string;
    readonly verdicts: VerdictMode;
    /** The receipt rule's recipients that this mail was addressed to. */
    readonly ruleRecipients: readonly string[];
}

export interface SesReceivedMail {
    readonly messageId: string;
    readonly objectKey: string;
    /** The mail as SES stores it: Return-Path and Received prepended. */
    readonly stored: Buffer;
    readonly notification: SesReceivedNotification;
}

/** An SES-style message ID: lowercase letters and digits (e.g. `d6iitobk75ur44p8kdnnp7g2n800`). */
export function newSesMessageId(): string {
    const alphabet = "0123456789abcdefghijklmnopqrstuv";
    return [...randomBytes(28)].map((byte) => alphabet[byte & 31]).join("");
}

/** The header bytes of a mail: up to the first empty line. */
export function headerBytes(mail: Buffer): Buffer {
    const crlf = mail.indexOf("\r\n\r\n");
    const lf = mail.indexOf("\n\n");
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf >= 0 ? lf : mail.length;
    return mail.subarray(0, end);
}

/** Every header, unfolded (a line break before whitespace removed), in order; cut at {@link SES_HEADERS_MAX_BYTES}. */
export function listHeaders(mail: Buffer): { headers: SesHeader[]; truncated: boolean } {
    // Header bytes are ASCII (RFC 5322) or UTF-8 (RFC 6532).
    const unfolded = headerBytes(mail).toString("utf8").replace(/\r?\n(?=[ \t])/g, "");
    const headers: SesHeader[] = [];
    let bytes = 0;
    for (const line of unfolded.split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        bytes += Buffer.byteLength(line) + 2;
        if (bytes > SES_HEADERS_MAX_BYTES) return { headers, truncated: true };
        headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).replace(/^[ \t]+/, "").replace(/\t/g, " ") });
    }
    return { headers, truncated: false };
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] | undefined {
    if (value === undefined) return undefined;
    const list = (Array.isArray(value) ? value : [value]).flatMap((object) => object.value);
    return list.map((a) => (a.name ? `${a.name} <${a.address ?? ""}>` : (a.address ?? "")));
}

/** `mail.commonHeaders`: the usual headers, names and subject decoded; only those the mail has. */
export async function commonHeadersOf(mail: Buffer, returnPath: string): Promise<SesReceivedNotification["mail"]["commonHeaders"]> {
    const parsed = await simpleParser(Buffer.concat([headerBytes(mail), Buffer.from("\r\n\r\n")]), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
    const date = listHeaders(mail).headers.find((h) => h.name.toLowerCase() === "date")?.value;
    const common: Record<string, unknown> = {
        returnPath,
        from: addresses(parsed.from),
        date,
        to: addresses(parsed.to),
        cc: addresses(parsed.cc),
        messageId: parsed.messageId,
        subject: parsed.subject,
    };
    return Object.fromEntries(Object.entries(common).filter(([, value]) => value !== undefined));
}

/** The verdicts a local server sets, since it cannot check them. */
export function verdictsFor(mode: VerdictMode): Pick<SesReceipt, "spamVerdict" | "virusVerdict" | "spfVerdict" | "dkimVerdict" | "dmarcVerdict" | "dmarcPolicy"> {
    if (mode === "pass") return { spamVerdict: { status: "PASS" }, virusVerdict: { status: "PASS" }, spfVerdict: { status: "PASS" }, dkimVerdict: { status: "PASS" }, dmarcVerdict: { status: "PASS" } };
    return { spamVerdict: { status: "GRAY" }, virusVerdict: { status: "PASS" }, spfVerdict: { status: "FAIL" }, dkimVerdict: { status: "FAIL" }, dmarcVerdict: { status: "FAIL" }, dmarcPolicy: "reject" };
}

/** RFC 5322 date as a Received header writes it: `Fri, 11 Sep 2015 20:32:33 +0000 (UTC)`. */
function receivedDate(date: Date): string {
    return `${date.toUTCString().replace("GMT", "+0000")} (UTC)`;
}

/**
 * What SES makes of one mail with the S3 action: the stored bytes and the notification. Pure apart
 * from parsing the headers.
 */
export async function receiveMail(raw: Buffer, envelope: SesEnvelope, options: SesReceiveOptions): Promise<SesReceivedMail> {
    const { messageId } = options;
    const objectKey = `${SES_OBJECT_KEY_PREFIX}${messageId}`;
    const from = envelope.helo ? `${envelope.helo} (${envelope.helo} [${envelope.remoteAddress ?? "127.0.0.1"}])` : `[${envelope.remoteAddress ?? "127.0.0.1"}]`;
    const prepended =
        `Return-Path: <${envelope.mailFrom}>\r\n` +
        `Received: from ${from}\r\n by inbound-smtp.localhost with SMTP id ${messageId}\r\n for ${envelope.recipients[0] ?? ""};\r\n ${receivedDate(options.receivedAt)}\r\n`;
    const stored = Buffer.concat([Buffer.from(prepended, "utf8"), raw]);
    const { headers, truncated } = listHeaders(stored);
    const actedAt = options.actedAt ?? options.receivedAt;
    const notification: SesReceivedNotification = {
        notificationType: "Received",
        mail: {
            timestamp: options.receivedAt.toISOString(),
            source: envelope.mailFrom,
            messageId,
            destination: [...envelope.recipients],
            headersTruncated: truncated,
            headers,
            commonHeaders: await commonHeadersOf(stored, envelope.mailFrom),
        },
        receipt: {
            timestamp: options.receivedAt.toISOString(),
            processingTimeMillis: Math.max(0, actedAt.getTime() - options.receivedAt.getTime()),
            recipients: [...options.ruleRecipients],
            ...verdictsFor(options.verdicts),
            action: { type: "S3", topicArn: options.topicArn, bucketName: options.bucketName, objectKeyPrefix: SES_OBJECT_KEY_PREFIX, objectKey },
        },
    };
    return { messageId, objectKey, stored, notification };
}

export interface SesInboundOptions {
    /** The alert addresses the receipt rule takes (compared case-insensitively). */
    readonly recipients: readonly string[];
    readonly bucketName: string;
    readonly s3: Pick<S3Stub, "put">;
    /** Publishes to the mail topic. */
    readonly sns: Pick<SNSClient, "send">;
    readonly topicArn: string;
    readonly verdicts: VerdictMode;
    /** Default 0: any free port. */
    readonly port?: number;
    readonly now?: () => number;
    /** One line per received or refused mail. */
    readonly log?: (line: string) => void;
}

export interface SesInbound {
    readonly host: string;
    readonly port: number;
    /** Every mail accepted, in order. */
    readonly received: SesReceivedMail[];
    close(): Promise<void>;
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
    return Object.assign(new Error(message), { responseCode: code });
}

/** Starts the SMTP server; resolves once it listens on 127.0.0.1. */
export async function startSesInbound(options: SesInboundOptions): Promise<SesInbound> {
    const now = options.now ?? Date.now;
    const log = options.log ?? (() => undefined);
    const allowed = new Set(options.recipients.map((r) => r.toLowerCase()));
    const received: SesReceivedMail[] = [];

    const handleData = async (raw: Buffer, session: SMTPServerSession, receivedAt: Date): Promise<string> => {
        const mailFrom = session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address;
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        const mail = await receiveMail(
            raw,
            { mailFrom, recipients, helo: session.hostNameAppearsAs, remoteAddress: session.remoteAddress },
            {
                messageId: newSesMessageId(),
                receivedAt,
                actedAt: new Date(now()),
                bucketName: options.bucketName,
                topicArn: options.topicArn,
                verdicts: options.verdicts,
                ruleRecipients: recipients.filter((r) => allowed.has(r.toLowerCase())),
            },
        );
        options.s3.put(options.bucketName, mail.objectKey, mail.stored);
        await options.sns.send(new PublishCommand({ TopicArn: options.topicArn, Subject: SES_NOTIFICATION_SUBJECT, Message: JSON.stringify(mail.notification) }));
        received.push(mail);
        const subject = mail.notification.mail.commonHeaders?.subject ?? "(no subject)";
        log(`[ses] received ${mail.messageId} from <${mailFrom}>: ${JSON.stringify(subject)} (${raw.length} bytes, verdicts ${options.verdicts.toUpperCase()}) → s3://${options.bucketName}/${mail.objectKey}`);
        return mail.messageId;
    };

    const server = new SMTPServer({
        name: "inbound-smtp.localhost",
        banner: "alertline npm start: SES stand-in (no TLS, no AUTH)",
        secure: false,
        disabledCommands: ["AUTH", "STARTTLS"],
        authOptional: true,
        size: SES_MAX_MESSAGE_BYTES,
        closeTimeout: 1000,
        // No DNS for a loopback peer: a reverse lookup only delays every connection.
        disableReverseLookup: true,
        logger: false,
        onRcptTo(address, _session, callback) {
            if (allowed.has(address.address.toLowerCase())) return callback();
            log(`[ses] refused RCPT TO <${address.address}>: not the alert address`);
            callback(smtpError(550, `5.1.1 <${address.address}>: mailbox does not exist here; send to ${options.recipients.join(" or ")}`));
        },
        onData(stream: SMTPServerDataStream, session, callback) {
            const chunks: Buffer[] = [];
            stream.on("data", (chunk: Buffer) => chunks.push(chunk));
            stream.on("error", (error) => callback(error));
            stream.on("end", () => {
                const receivedAt = new Date(now());
                if (stream.sizeExceeded) {
                    log(`[ses] refused a mail over ${SES_MAX_MESSAGE_BYTES} bytes`);
                    return callback(smtpError(552, `5.3.4 Message exceeds the maximum size of ${SES_MAX_MESSAGE_BYTES} bytes (SES's S3 action limit)`));
                }
                handleData(Buffer.concat(chunks), session, receivedAt).then(
                    (messageId) => callback(null, `Ok ${messageId}`),
                    (error: unknown) => {
                        log(`[ses] could not store or announce a mail: ${error instanceof Error ? error.message : String(error)}`);
                        callback(smtpError(451, "4.3.0 Temporary failure storing the mail; try again"));
                    },
                );
            });
        },
    });
    // smtp-server reports socket errors here; a client that resets is not ours to crash on.
    server.on("error", (error) => log(`[ses] SMTP error: ${error.message}`));
    await new Promise<void>((resolve, reject) => {
        server.server.once("error", reject);
        server.listen(options.port ?? 0, "127.0.0.1", () => {
            server.server.off("error", reject);
            resolve();
        });
    });
    const { port } = server.server.address() as AddressInfo;
    return {
        host: "127.0.0.1",
        port,
        received,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
