// iconv-lite is the decoder mailparser itself uses (its dependency, pinned in the lock file); asking
// it whether a charset exists tells us exactly which parts mailparser could not decode.
import { encodingExists } from "iconv-lite";
import { simpleParser, type AddressObject, type ParsedMail as MailparserMail, type SimpleParserOptions } from "mailparser";
import { CANARY_HEADER_KEY } from "../shared/canary-header";

/**
 * Turns raw MIME into what classification needs (From address, subject, text body) with mailparser.
 * Alert mail arrives from anywhere and may be broken in any way: this never throws. Whatever could
 * not be read becomes a line in `problems`, and what could be read is returned: a broken MIME
 * structure still yields its headers and raw body text; an HTML-only mail yields the HTML's text.
 *
 * Japanese mail (ISO-2022-JP, Shift_JIS, EUC-JP, in headers as RFC 2047 encoded-words and in
 * bodies, quoted-printable or base64) is decoded by mailparser (encoding-japanese and iconv-lite).
 */

export interface ParsedAlertMail {
    /** First From address, as written (classification folds case); "" when there is none. */
    readonly from: string;
    /** The From header as display text, e.g. `Zabbix <zabbix@example.jp>`. */
    readonly fromDisplay: string;
    /** Decoded subject; "" when there is none. */
    readonly subject: string;
    /** Plain-text body (from the HTML when the mail has only HTML); at most {@link MAX_TEXT_CHARS}. */
    readonly text: string;
    /** The Date header (ISO 8601), if it could be read. */
    readonly date?: string;
    /** The Message-ID header, if any (not SES's message ID). */
    readonly messageIdHeader?: string;
    /**
     * The `X-Alertline-Canary` header (the canary's id), present only when the mail carries it. Anyone
     * can write this header: it is a claim, which mail-ingest checks against the canary's sender.
     */
    readonly canaryId?: string;
    readonly sizeBytes: number;
    /**
     * Why `from` cannot be taken as the mail's one sender, or undefined when it can: no or several
     * From headers, several addresses or a group in it, or mailparser and the direct header reader
     * reading different addresses (a forger's trick). The sender check refuses such mail.
     */
    readonly fromProblem?: string;
    /** What could not be read, in words for the alert channel; empty for a clean mail. */
    readonly problems: string[];
}

/** Text kept for the rules and the summary; a 40 MB text body is cut here. */
export const MAX_TEXT_CHARS = 1_000_000;
/** HTML longer than this is not converted with html-to-text (slow on huge input); tags are stripped instead. */
export const MAX_HTML_TO_TEXT = 2 * 1024 * 1024;
/** How much of the raw mail is scanned for charset names and, when MIME parsing fails, for headers. */
const SCAN_BYTES = 2 * 1024 * 1024;

/** Longest canary id kept; the canary's own ids are short, a forged header may not be. */
export const MAX_CANARY_ID_CHARS = 200;

/** Work mailparser would do that nobody reads here: HTML renderings of text, links, inlined images. */
export const PARSER_OPTIONS: SimpleParserOptions = {
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
    keepCidLinks: true,
    maxHtmlLengthToParse: MAX_HTML_TO_TEXT,
};

// ---- small decoders used when mailparser cannot help ------------------------------------------

/** A charset name as mailparser's decoders would accept it. */
export function isKnownCharset(charset: string): boolean {
    const name = charset.trim().replace(/^["']|["']$/g, "");
    if (name === "") return true;
    // mailparser decodes ISO-2022-JP and JIS with encoding-japanese, which iconv-lite does not know.
    if (/^jis|^iso-?2022-?jp/i.test(name)) return true;
    if (/^(us-?)?ascii$|^utf-?8$/i.test(name)) return true;
    return encodingExists(name);
}

/** Charset names in the headers and MIME part headers of the first {@link SCAN_BYTES}. */
export function declaredCharsets(raw: Buffer): string[] {
    const head = raw.subarray(0, SCAN_BYTES).toString("latin1");
    const found = new Set<string>();
    for (const m of head.matchAll(/charset\s*=\s*"?([^"\s;()]+)/gi)) found.add(m[1].toLowerCase());
    for (const m of head.matchAll(/=\?([^?*\s]+)(?:\*[^?\s]*)?\?[bq]\?/gi)) found.add(m[1].toLowerCase());
    return [...found];
}

function decodeBytes(bytes: Buffer, charset: string): string {
    try {
        return new TextDecoder(charset.trim() || "utf-8").decode(bytes);
    } catch {
        return new TextDecoder("utf-8").decode(bytes);
    }
}

/** RFC 2047 encoded-words in a header value, for the fallback header reader (mailparser does this when it can). */
export function decodeEncodedWords(value: string): string {
    const word = /=\?([^?*\s]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=/g;
    // Whitespace between two encoded-words is not part of the text (RFC 2047 §6.2).
    const joined = value.replace(/(\?=)\s+(?==\?)/g, "$1");
    return joined.replace(word, (_all, charset: string, encoding: string, payload: string) => {
        const bytes =
            encoding.toUpperCase() === "B"
                ? Buffer.from(payload, "base64")
                : Buffer.from(payload.replace(/_/g, " ").replace(/=([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), "latin1");
        return decodeBytes(bytes, charset);
    });
}

/** Where the header block ends (index of the body's first byte), or -1 when there is no blank line. */
function headerEnd(text: string): number {
    const m = /\r?\n\r?\n/.exec(text);
    return m ? m.index + m[0].length : -1;
}

/**
 * Headers read without mailparser: unfolded, first occurrence of each name wins. Raw 8-bit bytes
 * outside encoded-words are taken as UTF-8 (RFC 6532).
 */
export function readHeadersDirectly(raw: Buffer): { headers: Map<string, string>; bodyStart: number } {
    const head = raw.subarray(0, SCAN_BYTES).toString("latin1");
    const end = headerEnd(head);
    const block = end < 0 ? head : head.slice(0, end);
    const headers = new Map<string, string>();
    for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
        const m = /^([!-9;-~]+):\s*(.*)$/.exec(line);
        if (m && !headers.has(m[1].toLowerCase())) headers.set(m[1].toLowerCase(), Buffer.from(m[2].trim(), "latin1").toString("utf8"));
    }
    return { headers, bodyStart: end < 0 ? raw.length : end };
}

/** Every From header value of the header block, unfolded, in order (the direct reader, not mailparser). */
export function fromHeaderValues(raw: Buffer): string[] {
    const head = raw.subarray(0, SCAN_BYTES).toString("latin1");
    const end = headerEnd(head);
    const block = end < 0 ? head : head.slice(0, end);
    const values: string[] = [];
    for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
        const m = /^from[ \t]*:\s*(.*)$/i.exec(line);
        if (m) values.push(Buffer.from(m[1].trim(), "latin1").toString("utf8"));
    }
    return values;
}

/**
 * Why the From of a mail cannot be trusted as one sender (see {@link ParsedAlertMail.fromProblem}).
 * `parsed` is mailparser's reading (undefined when mailparser could not read the mail).
 */
export function fromProblemOf(raw: Buffer, parsed: { address: string; count: number; headers: number } | undefined): string | undefined {
    const values = fromHeaderValues(raw);
    const headers = Math.max(values.length, parsed?.headers ?? 0);
    if (headers === 0) return "the mail has no From header";
    if (headers > 1) return `the mail has ${headers} From headers (mail readers disagree on which counts); exactly one is trusted`;
    if (parsed === undefined) return "mailparser could not read the mail, so its From address cannot be cross-checked";
    if (parsed.count !== 1) return `the From header names ${parsed.count === 0 ? "no address" : `${parsed.count} addresses`}; exactly one is trusted`;
    const direct = addressIn(decodeEncodedWords(values[0] ?? ""));
    if (direct.toLowerCase() !== parsed.address.toLowerCase()) {
        return `mailparser reads the From address as ${JSON.stringify(parsed.address.slice(0, 120))} and the direct header reader as ${JSON.stringify(direct.slice(0, 120))}; they must agree`;
    }
    return undefined;
}

/** The first address in a From header value. */
export function addressIn(value: string): string {
    const angle = /<\s*([^<>\s]+@[^<>\s]+)\s*>/.exec(value);
    if (angle) return angle[1];
    const bare = /[^\s<>"',;:()]+@[^\s<>"',;:()]+/.exec(value);
    return bare ? bare[0] : "";
}

/** Readable text from HTML without a parser, for HTML too large for html-to-text. */
export function stripHtml(html: string): string {
    return html
        .slice(0, MAX_TEXT_CHARS * 2)
        .replace(/<(script|style)[\s\S]*?<\/\1\s*>/gi, " ")
        .replace(/<br\s*\/?>|<\/(p|div|tr|li|h[1-6])\s*>/gi, "\n")
        .replace(/<[^>]*>/g, " ")
        .replace(/&nbsp;/gi, " ")
        .replace(/&lt;/gi, "<")
        .replace(/&gt;/gi, ">")
        .replace(/&quot;/gi, '"')
        .replace(/&amp;/gi, "&")
        .replace(/[ \t]+/g, " ")
        .replace(/\n\s*\n+/g, "\n")
        .trim();
}

/** The raw body as text, minus MIME boundary lines and part headers, for mail whose parts could not be found. */
export function rawBodyText(raw: Buffer, bodyStart: number): string {
    const body = raw.subarray(bodyStart, bodyStart + MAX_TEXT_CHARS * 2);
    const text = new TextDecoder("utf-8").decode(body);
    return text
        .split(/\r?\n/)
        .filter((line) => !/^--\S+$/.test(line.trim()) && !/^content-(type|transfer-encoding|disposition|id):/i.test(line))
        .join("\n")
        .trim()
        .slice(0, MAX_TEXT_CHARS);
}

function sizeText(bytes: number): string {
    return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${bytes} bytes`;
}

function firstAddress(from: AddressObject | AddressObject[] | undefined): { address: string; display: string; count: number } {
    const objects = from === undefined ? [] : Array.isArray(from) ? from : [from];
    const values = objects.flatMap((o) => o.value ?? []);
    const flat = values.flatMap((v) => (v.group ? v.group : [v]));
    const withAddress = flat.find((v) => typeof v.address === "string" && v.address !== "");
    // A group (`name: a@x;`) is never one plain mailbox: it counts one more than its members.
    const groups = values.filter((v) => v.group !== undefined).length;
    return { address: withAddress?.address ?? "", display: objects.map((o) => o.text).join(", "), count: flat.length + groups };
}

// ---- the parser -----------------------------------------------------------------------------

async function runMailparser(raw: Buffer, problems: string[]): Promise<MailparserMail | undefined> {
    try {
        return await simpleParser(raw, PARSER_OPTIONS);
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (/HTML too long/i.test(message)) {
            try {
                const parsed = await simpleParser(raw, { ...PARSER_OPTIONS, skipHtmlToText: true });
                problems.push(`the HTML body is too large to convert to text (${message}); its tags were stripped instead`);
                return { ...parsed, text: stripHtml(typeof parsed.html === "string" ? parsed.html : "") || parsed.text };
            } catch (retryError) {
                problems.push(`the MIME structure could not be parsed (mailparser: ${retryError instanceof Error ? retryError.message : String(retryError)}); headers and body were read directly`);
                return undefined;
            }
        }
        problems.push(`the MIME structure could not be parsed (mailparser: ${message}); headers and body were read directly`);
        return undefined;
    }
}

/** Parses a raw MIME message. Never throws. */
export async function parseMail(input: Buffer | Uint8Array | string): Promise<ParsedAlertMail> {
    const problems: string[] = [];
    let raw: Buffer;
    try {
        raw = Buffer.isBuffer(input) ? input : typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    } catch {
        return { from: "", fromDisplay: "", subject: "", text: "", sizeBytes: 0, problems: ["the mail could not be read as bytes"] };
    }
    if (raw.length === 0) {
        return { from: "", fromDisplay: "", subject: "", text: "", sizeBytes: 0, problems: ["the mail is empty (0 bytes)"] };
    }
    try {
        return await parseNonEmpty(raw, problems);
    } catch (error) {
        // Should mailparser or a fallback fail in a way nobody foresaw, the headers still classify the mail.
        problems.push(`reading the mail failed unexpectedly (${error instanceof Error ? error.message : String(error)})`);
        return fallbackParse(raw, problems);
    }
}

/** The canary id from a header value as mailparser or the direct reader gives it (a repeated header: the first). */
export function canaryIdOf(value: unknown): string | undefined {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first !== "string") return undefined;
    return first.trim().slice(0, MAX_CANARY_ID_CHARS);
}

function fallbackParse(raw: Buffer, problems: string[]): ParsedAlertMail {
    const { headers, bodyStart } = readHeadersDirectly(raw);
    const fromHeader = decodeEncodedWords(headers.get("from") ?? "");
    const subject = decodeEncodedWords(headers.get("subject") ?? "");
    if (!headers.has("from")) problems.push("the mail has no From header");
    if (!headers.has("subject")) problems.push("the mail has no Subject header");
    const text = rawBodyText(raw, bodyStart);
    if (text === "") problems.push("the mail has an empty body");
    const canaryId = canaryIdOf(headers.get(CANARY_HEADER_KEY));
    const fromProblem = fromProblemOf(raw, undefined);
    return { from: addressIn(fromHeader), fromDisplay: fromHeader, subject, text, sizeBytes: raw.length, problems, ...(canaryId !== undefined ? { canaryId } : {}), ...(fromProblem !== undefined ? { fromProblem } : {}) };
}

async function parseNonEmpty(raw: Buffer, problems: string[]): Promise<ParsedAlertMail> {
    const parsed = await runMailparser(raw, problems);
    if (parsed === undefined) return fallbackParse(raw, problems);

    const headerCount = parsed.headers?.size ?? 0;
    if (headerCount === 0) problems.push("no mail headers were found (the message does not start with header lines)");

    const from = firstAddress(parsed.from);
    if (!parsed.headers?.has("from")) problems.push("the mail has no From header");
    else if (from.address === "") problems.push(`the From header ${JSON.stringify(from.display.slice(0, 200))} holds no address`);
    else if (from.count > 1) problems.push(`the From header names ${from.count} addresses; the first, ${from.address}, was used`);

    const subject = typeof parsed.subject === "string" ? parsed.subject : "";
    if (!parsed.headers?.has("subject")) problems.push("the mail has no Subject header");
    else if (/=\?[^?]+\?[bq]\?/i.test(subject)) problems.push("the Subject holds encoded words that could not be decoded");

    for (const charset of declaredCharsets(raw)) {
        if (!isKnownCharset(charset)) problems.push(`unknown charset "${charset}": text in it was read as UTF-8 and may be garbled`);
    }

    let text = typeof parsed.text === "string" ? parsed.text : "";
    if (text.trim() === "" && typeof parsed.html === "string" && parsed.html.trim() !== "") text = stripHtml(parsed.html);
    if (text.trim() === "") {
        const rawText = rawBodyText(raw, headerCount === 0 ? 0 : readHeadersDirectly(raw).bodyStart);
        const attachments = parsed.attachments?.length ?? 0;
        if (rawText !== "" && attachments === 0) {
            problems.push("no text part could be found in the MIME structure (a broken boundary?); the raw body was used for the rules");
            text = rawText;
        } else if (attachments > 0) {
            problems.push(`the mail has no text body, only ${attachments} attachment${attachments > 1 ? "s" : ""}`);
        } else {
            problems.push("the mail has an empty body");
        }
    }
    if (text.length > MAX_TEXT_CHARS) {
        problems.push(`the text body is ${text.length} characters (mail of ${sizeText(raw.length)}); the first ${MAX_TEXT_CHARS} were used`);
        text = text.slice(0, MAX_TEXT_CHARS);
    }

    const canaryId = canaryIdOf(parsed.headers?.get(CANARY_HEADER_KEY));
    const fromHeaders = Array.isArray(parsed.headerLines) ? parsed.headerLines.filter((l) => l.key === "from").length : 0;
    const fromProblem = fromProblemOf(raw, { address: from.address, count: from.count, headers: fromHeaders });
    return {
        ...(fromProblem !== undefined ? { fromProblem } : {}),
        from: from.address,
        fromDisplay: from.display,
        subject,
        text,
        date: parsed.date instanceof Date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.toISOString() : undefined,
        messageIdHeader: typeof parsed.messageId === "string" ? parsed.messageId : undefined,
        ...(canaryId !== undefined ? { canaryId } : {}),
        sizeBytes: raw.length,
        problems,
    };
}
