/**
 * Cutting text to a service's limit with a visible marker. Every message alertline publishes (the
 * alert topic, Slack, on-call pages, logs of device answers) goes through one of these two, so a
 * reader always sees that something was cut, and a cut never splits a character: not a UTF-8
 * sequence (byte limits) and not a UTF-16 surrogate pair (character limits).
 */

/** What a cut text ends with unless the caller passes its own marker. */
export const TRUNCATION_MARKER = "…[truncated]";

function checkLimit(limit: number, marker: string, unit: string, markerSize: number): void {
    if (!Number.isInteger(limit) || limit < markerSize) {
        throw new RangeError(`The limit must be a whole number of ${unit} no smaller than the marker ${JSON.stringify(marker)} (${markerSize} ${unit}), got ${limit}`);
    }
}

/**
 * `text` if it has at most `maxChars` UTF-16 code units (JavaScript's `length`, what Java-based
 * services such as Opsgenie count, and never fewer than the code points Slack counts); otherwise its
 * start followed by `marker`, `maxChars` long in all, never ending on half a surrogate pair.
 */
export function truncateChars(text: string, maxChars: number, marker: string = TRUNCATION_MARKER): string {
    checkLimit(maxChars, marker, "characters", marker.length);
    if (text.length <= maxChars) return text;
    let end = maxChars - marker.length;
    const last = text.charCodeAt(end - 1);
    if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
    return `${text.slice(0, end)}${marker}`;
}

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD it is encoded as). */
export function utf8Length(text: string): number {
    return Buffer.byteLength(text, "utf8");
}

/**
 * `text` if its UTF-8 encoding has at most `maxBytes` bytes; otherwise its start followed by
 * `marker`, at most `maxBytes` bytes in all, cut between whole characters.
 */
export function truncateBytes(text: string, maxBytes: number, marker: string = TRUNCATION_MARKER): string {
    const markerBytes = utf8Length(marker);
    checkLimit(maxBytes, marker, "bytes", markerBytes);
    // Cheap exits first: a string of n code units needs at most 3n bytes.
    if (text.length * 3 <= maxBytes || utf8Length(text) <= maxBytes) return text;
    // encodeInto writes whole characters only and says how many code units it consumed.
    const { read } = encoder.encodeInto(text, new Uint8Array(maxBytes - markerBytes));
    return `${text.slice(0, read)}${marker}`;
}
