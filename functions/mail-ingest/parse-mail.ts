// iconv-lite is the decoder mailparser itself uses (its dependency, pinned in the lock file); asking
// it whether a charset exists tells us exactly which parts mailparser could not decode.
import { encodingExists } from "iconv-lite";
import { simpleParser, type AddressObject, type ParsedMail as MailparserMail, type SimpleParserOptions } from "mailparser";
import { CANARY_HEADER_KEY } from "../shared/canary-header";
import { MAX_CLASSIFY_BODY_CHARS } from "../shared/mail-rules";

/**
 * Turns raw MIME into what classification needs (From address, subject, text body) with mailparser.
 * Alert mail arrives from anywhere and may be broken in any way: this never throws. Whatever could
 * not be read becomes a line in `problems`, and what could be read is returned: a broken MIME
 * structure still yields its headers and raw body text; an HTML-only mail yields the HTML's text.
 *
 * Japanese mail (ISO-2022-JP, Shift_JIS, EUC-JP, in headers as RFC 2047 encoded-words and in
 * bodies, quoted-printable or base64) is decoded by mailparser (encoding-japanese and iconv-lite).
 *
 * Bounded before anything expensive: {@link boundForClassification} hands mailparser only the
 * headers classification uses (each at most {@link MAX_HEADER_VALUE_BYTES}) and the body's first
 * {@link MAX_PARSED_BODY_BYTES}; mailparser may create at most {@link MAX_MIME_PARTS} parts and
 * convert at most {@link MAX_HTML_TO_TEXT} of HTML with html-to-text (longer HTML is read by a
 * linear tag stripper). The text kept is at most {@link MAX_TEXT_CHARS}. The full mail stays in S3.
 */

/** What was read of a mail for classification: the bounds at work. */
export interface MailExamined {
    /** Bytes handed to the MIME parser: the kept header fields, then the start of the body. */
    readonly parsedBytes: number;
    /** Header lines in the mail's header block (as far as it was scanned). */
    readonly headerLines: number;
    /** Header fields handed to the parser (those of {@link CLASSIFY_HEADERS}). */
    readonly headersKept: number;
    /** Bytes of the mail's body, and how many of them were handed to the parser. */
    readonly bodyBytes: number;
    readonly bodyBytesParsed: number;
}

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
    /** What was read of the mail (absent for an empty mail). */
    readonly examined?: MailExamined;
}

/** Text kept for the rules and the summary: what the rules look at (64 K characters); a 40 MB text body is cut here. */
export const MAX_TEXT_CHARS = MAX_CLASSIFY_BODY_CHARS;
/**
 * HTML longer than this (64 KB) is not converted with html-to-text; its tags are stripped by a linear
 * reader instead. html-to-text is about linear up to there but recurses per nesting level (deep
 * nesting overflows the stack: caught, and stripped too).
 */
export const MAX_HTML_TO_TEXT = 64 * 1024;
/**
 * Raw body bytes handed to the MIME parser (256 KB): the text of an alert mail comes first and is a
 * few KB; 256 KB hold 64 K characters of base64 text. Attachments beyond are not read.
 */
export const MAX_PARSED_BODY_BYTES = 256 * 1024;
/** Header block scanned for the fields classification uses (1 MB, mailparser's own limit for a header). */
export const MAX_HEADER_SCAN_BYTES = 1024 * 1024;
/** Longest header field kept (unfolded, 8 KB): a longer From is not read at all; other fields are cut. */
export const MAX_HEADER_VALUE_BYTES = 8 * 1024;
/** Occurrences of one header field kept: enough to see a repeated From. */
export const MAX_HEADER_REPEATS = 4;
/** MIME parts mailparser may create before it gives up (its default, 1,000 nested parts, takes seconds). */
export const MAX_MIME_PARTS = 100;
/** Header bytes of one MIME part inside the body (mailparser's maxHeadSize; its default is 1 MB). */
export const MAX_PART_HEADER_BYTES = 64 * 1024;
/** The header fields classification, the summary and the sender check read; only these reach the parser. */
export const CLASSIFY_HEADERS: readonly string[] = ["from", "sender", "subject", "date", "message-id", "mime-version", "content-type", "content-transfer-encoding", "content-disposition", CANARY_HEADER_KEY];
/** How much of the bounded copy is scanned for charset names and, when MIME parsing fails, for headers. */
const SCAN_BYTES = MAX_HEADER_SCAN_BYTES;

/** Longest canary id kept; the canary's own ids are short, a forged header may not be. */
export const MAX_CANARY_ID_CHARS = 200;

/** Work mailparser would do that nobody reads here: HTML renderings of text, links, inlined images. */
export const PARSER_OPTIONS: SimpleParserOptions = {
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
    keepCidLinks: true,
    maxHtmlLengthToParse: MAX_HTML_TO_TEXT,
    // Passed on to mailsplit (MessageSplitter's config); @types/mailparser does not list them.
    ...({ maxChildNodes: MAX_MIME_PARTS, maxHeadSize: MAX_PART_HEADER_BYTES } as object),
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

const BLOCK_TAGS = new Set(["br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr", "title", "blockquote", "pre"]);
const ENTITIES: Record<string, string> = { nbsp: " ", lt: "<", gt: ">", quot: '"', amp: "&", apos: "'" };

/**
 * Readable text from HTML without a parser, for HTML too large (or too deep) for html-to-text. One
 * pass, linear in the input: tags are dropped (block tags become line breaks), script and style
 * contents skipped, the common entities decoded. Reads at most 4 × {@link MAX_TEXT_CHARS} of HTML.
 */
export function stripHtml(input: string): string {
    const html = input.slice(0, MAX_TEXT_CHARS * 4);
    const lower = html.toLowerCase();
    let out = "";
    let i = 0;
    // Position of the next ">" at or after i; -1 once there is none (then no later "<" opens a tag).
    let nextGt = lower.indexOf(">");
    while (i < html.length) {
        const lt = lower.indexOf("<", i);
        if (lt < 0 || nextGt < 0) {
            out += html.slice(i);
            break;
        }
        out += html.slice(i, lt);
        if (nextGt < lt) nextGt = lower.indexOf(">", lt);
        if (nextGt < 0) {
            out += html.slice(lt);
            break;
        }
        const name = /^<\/?([a-z][a-z0-9]*)/.exec(lower.slice(lt, lt + 12))?.[1] ?? "";
        let after = nextGt + 1;
        if ((name === "script" || name === "style") && lower[lt + 1] !== "/") {
            const close = lower.indexOf(`</${name}`, after);
            after = close < 0 ? html.length : close;
        } else if (BLOCK_TAGS.has(name)) {
            out += "\n";
        } else {
            out += " ";
        }
        i = after;
    }
    return out
        .replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (all, ref: string) => {
            const lowerRef = ref.toLowerCase();
            if (lowerRef.startsWith("#")) {
                const code = lowerRef.startsWith("#x") ? parseInt(lowerRef.slice(2), 16) : parseInt(lowerRef.slice(1), 10);
                return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
            }
            return ENTITIES[lowerRef] ?? all;
        })
        .replace(/[ \t]+/g, " ")
        .replace(/ ?\n[\n ]*/g, "\n")
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

// ---- the bound, applied before the parser -----------------------------------------------------

/** A mail cut down to what classification reads, with what was left out. */
export interface BoundedMail {
    /** The copy handed to the parser: the kept header fields, a blank line, the start of the body. */
    readonly raw: Buffer;
    readonly examined: MailExamined;
    /** What the bound left out that matters to the reader of the summary. */
    readonly problems: string[];
}

const HEADER_LINE = /^([!-9;-~]+)[ \t]*:/;
/** The empty group that stands for a From header too long to read. */
export const OVERSIZED_FROM_GROUP = "oversized-from-header-not-read";

/** The header value cut to at most `max` bytes, at the last space before the cut when there is one (so no encoded-word is split). */
function cutValue(value: string, max: number): string {
    if (value.length <= max) return value;
    const space = value.lastIndexOf(" ", max);
    return value.slice(0, space > max / 2 ? space : max);
}

/**
 * Cuts a raw mail down to what classification reads, in one linear pass and before anything
 * expensive: the header fields of {@link CLASSIFY_HEADERS} found in the first
 * {@link MAX_HEADER_SCAN_BYTES} of the header block (unfolded, at most {@link MAX_HEADER_REPEATS}
 * of each, each at most {@link MAX_HEADER_VALUE_BYTES}; a longer From becomes an empty group, so
 * that no cut can hide a second address and the From headers keep their count), then the body's first {@link MAX_PARSED_BODY_BYTES}, ending at a
 * line break. A mail that does not start with a header line is passed on as it is, cut to the same
 * size. Never throws.
 */
export function boundForClassification(raw: Buffer): BoundedMail {
    const problems: string[] = [];
    const head = raw.subarray(0, MAX_HEADER_SCAN_BYTES).toString("latin1");
    if (!HEADER_LINE.test(head.slice(0, 1000))) {
        const cut = raw.subarray(0, MAX_PARSED_BODY_BYTES);
        if (raw.length > cut.length) problems.push(`the mail does not start with headers and is ${sizeText(raw.length)}; its first ${sizeText(cut.length)} were read (the full mail stays in S3)`);
        return { raw: cut, problems, examined: { parsedBytes: cut.length, headerLines: 0, headersKept: 0, bodyBytes: raw.length, bodyBytesParsed: cut.length } };
    }
    let end = headerEnd(head);
    let bodyStart = end;
    if (end < 0) {
        // Fields are read from the first MAX_HEADER_SCAN_BYTES only; the body is still found (a native, linear search).
        end = head.length;
        const blank = [raw.indexOf("\n\r\n", MAX_HEADER_SCAN_BYTES - 2), raw.indexOf("\n\n", MAX_HEADER_SCAN_BYTES - 1)].filter((i) => i >= 0);
        const at = blank.length > 0 ? Math.min(...blank) : -1;
        bodyStart = at < 0 ? raw.length : raw[at + 1] === 0x0d ? at + 3 : at + 2;
        if (raw.length > MAX_HEADER_SCAN_BYTES) {
            problems.push(`the header block is over ${sizeText(MAX_HEADER_SCAN_BYTES)}${at < 0 ? " and never ends" : ""}; header fields after its first ${sizeText(MAX_HEADER_SCAN_BYTES)} were not read`);
        }
    }
    const kept: string[] = [];
    const seen = new Map<string, number>();
    let headerLines = 0;
    let current: { name: string; parts: string[]; length: number } | undefined;
    const flush = () => {
        if (current === undefined) return;
        const field = current;
        current = undefined;
        const key = field.name.toLowerCase();
        const count = (seen.get(key) ?? 0) + 1;
        seen.set(key, count);
        if (!CLASSIFY_HEADERS.includes(key)) return;
        if (count > MAX_HEADER_REPEATS) {
            if (count === MAX_HEADER_REPEATS + 1) problems.push(`the mail repeats the ${field.name} header; only its first ${MAX_HEADER_REPEATS} were read`);
            return;
        }
        const value = field.parts.join(" ");
        if (value.length > MAX_HEADER_VALUE_BYTES) {
            if (key === "from") {
                // Not cut (a cut could hide a second address) but kept as an empty group, so that the From
                // headers are still counted: it names no address, and a mail with another From has two.
                problems.push(`a From header of ${sizeText(field.length)} (over ${sizeText(MAX_HEADER_VALUE_BYTES)}) was not read`);
                kept.push(`${field.name}: ${OVERSIZED_FROM_GROUP}:;`);
                return;
            }
            problems.push(`the ${field.name} header is ${sizeText(field.length)}; its first ${sizeText(MAX_HEADER_VALUE_BYTES)} were read`);
        }
        kept.push(`${field.name}: ${cutValue(value, MAX_HEADER_VALUE_BYTES)}`);
    };
    let lineStart = 0;
    while (lineStart < end) {
        let lineEnd = head.indexOf("\n", lineStart);
        if (lineEnd < 0 || lineEnd > end) lineEnd = end;
        const line = head.slice(lineStart, lineEnd).replace(/\r$/, "");
        lineStart = lineEnd + 1;
        if (line === "") continue;
        headerLines++;
        if (line[0] === " " || line[0] === "\t") {
            // A continuation line: kept only as far as the field's bound needs.
            if (current !== undefined && current.length <= MAX_HEADER_VALUE_BYTES) {
                const part = line.trim();
                current.parts.push(part);
                current.length += part.length + 1;
            } else if (current !== undefined) {
                current.length += line.length;
            }
            continue;
        }
        flush();
        const m = HEADER_LINE.exec(line);
        if (m) {
            const value = line.slice(m[0].length).trim();
            current = { name: m[1], parts: [value.slice(0, MAX_HEADER_VALUE_BYTES + 1)], length: value.length };
        }
    }
    flush();
    const bodyBytes = Math.max(0, raw.length - bodyStart);
    let bodyEnd = Math.min(raw.length, bodyStart + MAX_PARSED_BODY_BYTES);
    if (bodyEnd < raw.length) {
        const lastBreak = raw.lastIndexOf(0x0a, bodyEnd - 1);
        if (lastBreak > bodyStart) bodyEnd = lastBreak + 1;
        problems.push(`the body is ${sizeText(bodyBytes)}; its first ${sizeText(bodyEnd - bodyStart)} were read for classification (the full mail stays in S3)`);
    }
    const headerBlock = Buffer.from(`${kept.join("\r\n")}\r\n\r\n`, "latin1");
    const copy = Buffer.concat([headerBlock, raw.subarray(bodyStart, bodyEnd)]);
    return { raw: copy, problems, examined: { parsedBytes: copy.length, headerLines, headersKept: kept.length, bodyBytes, bodyBytesParsed: bodyEnd - bodyStart } };
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
        // html-to-text refused (over maxHtmlLengthToParse) or failed (too deep): read the HTML with the linear stripper.
        if (/HTML too long|Failed to parse HTML/i.test(message)) {
            try {
                const parsed = await simpleParser(raw, { ...PARSER_OPTIONS, skipHtmlToText: true });
                problems.push(/too long/i.test(message) ? `the HTML body is too large to convert to text (${message}); its tags were stripped instead` : `the HTML body could not be converted to text (${message}); its tags were stripped instead`);
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
    let bounded: BoundedMail;
    try {
        bounded = boundForClassification(raw);
    } catch (error) {
        // Should the bound fail in a way nobody foresaw, a plain cut still keeps the parser's work bounded.
        problems.push(`bounding the mail failed unexpectedly (${error instanceof Error ? error.message : String(error)}); its first ${sizeText(MAX_PARSED_BODY_BYTES)} were read as they are`);
        const cut = raw.subarray(0, MAX_PARSED_BODY_BYTES);
        bounded = { raw: cut, problems: [], examined: { parsedBytes: cut.length, headerLines: 0, headersKept: 0, bodyBytes: raw.length, bodyBytesParsed: cut.length } };
    }
    problems.push(...bounded.problems);
    try {
        return { ...(await parseNonEmpty(bounded.raw, raw.length, bounded.examined.headerLines, problems)), examined: bounded.examined };
    } catch (error) {
        // Should mailparser or a fallback fail in a way nobody foresaw, the headers still classify the mail.
        problems.push(`reading the mail failed unexpectedly (${error instanceof Error ? error.message : String(error)})`);
        return { ...fallbackParse(bounded.raw, raw.length, problems), examined: bounded.examined };
    }
}

/** The canary id from a header value as mailparser or the direct reader gives it (a repeated header: the first). */
export function canaryIdOf(value: unknown): string | undefined {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first !== "string") return undefined;
    return first.trim().slice(0, MAX_CANARY_ID_CHARS);
}

/** Reads the bounded copy `raw` without mailparser; `sizeBytes` is the whole mail's size. */
function fallbackParse(raw: Buffer, sizeBytes: number, problems: string[]): ParsedAlertMail {
    const { headers, bodyStart } = readHeadersDirectly(raw);
    const fromHeader = decodeEncodedWords(headers.get("from") ?? "");
    const subject = decodeEncodedWords(headers.get("subject") ?? "");
    if (!headers.has("from")) problems.push("the mail has no From header");
    if (!headers.has("subject")) problems.push("the mail has no Subject header");
    const text = rawBodyText(raw, bodyStart);
    if (text === "") problems.push("the mail has an empty body");
    const canaryId = canaryIdOf(headers.get(CANARY_HEADER_KEY));
    // The bounded copy keeps every From header (up to MAX_HEADER_REPEATS, an oversized one as an empty group), so the count holds.
    const fromProblem = fromProblemOf(raw, undefined);
    return { from: addressIn(fromHeader), fromDisplay: fromHeader, subject, text, sizeBytes, problems, ...(canaryId !== undefined ? { canaryId } : {}), ...(fromProblem !== undefined ? { fromProblem } : {}) };
}

/** Parses the bounded copy `raw` (see {@link boundForClassification}); `sizeBytes` is the whole mail's size. */
async function parseNonEmpty(raw: Buffer, sizeBytes: number, headerLines: number, problems: string[]): Promise<ParsedAlertMail> {
    const parsed = await runMailparser(raw, problems);
    if (parsed === undefined) return fallbackParse(raw, sizeBytes, problems);

    // The copy holds only the fields classification reads: a mail whose header lines are all others still has headers.
    const headerCount = Math.max(parsed.headers?.size ?? 0, headerLines);
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
        problems.push(`the text body read is ${text.length} characters (mail of ${sizeText(sizeBytes)}); the rules look at the first ${MAX_TEXT_CHARS}`);
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
        sizeBytes,
        problems,
    };
}
