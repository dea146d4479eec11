import { truncateBytes, truncateChars, utf8Length } from "./truncate";

/**
 * JSON for the alert topic, bounded. SNS refuses a Publish whose message is over 256 KiB
 * ("messages must be UTF-8 encoded strings and at most 256 KB in size (262,144 bytes, not 262,144
 * characters)": SNS API reference, Publish, Message) with `InvalidParameter: Message too long`, and
 * then the report is lost. Summaries carry text from mail and from devices, so every publisher
 * serialises through {@link boundedJson}.
 */

/** SNS's limit on a published message, in bytes. */
export const SNS_MESSAGE_MAX_BYTES = 262_144;
/**
 * What alertline's summaries are bounded to: well below SNS's limit (a person reads them in Slack,
 * which shows far less), leaving room for SNS's own envelope when it delivers them.
 */
export const ALERT_MESSAGE_MAX_BYTES = 64 * 1024;

/** Items an array keeps once the message is being cut. */
const MAX_ARRAY_ITEMS = 50;

function cut(value: unknown, maxChars: number): unknown {
    if (typeof value === "string") return truncateChars(value, maxChars, value.length > maxChars && maxChars < 24 ? "…" : undefined);
    if (Array.isArray(value)) {
        const kept = value.slice(0, MAX_ARRAY_ITEMS).map((item) => cut(item, maxChars));
        return value.length > MAX_ARRAY_ITEMS ? [...kept, `…[${value.length - MAX_ARRAY_ITEMS} more not shown]`] : kept;
    }
    if (typeof value === "object" && value !== null) {
        // Own enumerable properties only, as JSON.stringify sees them; defineProperty so a key named
        // `__proto__` stays a key.
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) Object.defineProperty(out, truncateChars(key, Math.max(maxChars, 64), "…"), { value: cut(item, maxChars), enumerable: true, writable: true, configurable: true });
        return out;
    }
    return value;
}

/**
 * `JSON.stringify(value)` when it fits `maxBytes` (UTF-8); otherwise the same object with every
 * string cut (each cut marked) to a length that makes it fit, halving until it does, and arrays
 * kept to their first items. If even that does not fit (thousands of keys), a minimal message with
 * the title, state and the start of the reason, saying that the rest was cut.
 */
export function boundedJson(value: unknown, maxBytes: number = ALERT_MESSAGE_MAX_BYTES): string {
    const whole = JSON.stringify(value);
    if (utf8Length(whole) <= maxBytes) return whole;
    for (let maxChars = 8192; maxChars >= 16; maxChars = Math.floor(maxChars / 2)) {
        const text = JSON.stringify({ ...(cut(value, maxChars) as object), truncated: `fields cut to ${maxChars} characters to stay under ${maxBytes} bytes` });
        if (utf8Length(text) <= maxBytes) return text;
    }
    const source = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    const minimal = {
        title: truncateChars(str(source.title), 200),
        state: str(source.state).slice(0, 20),
        reason: "",
        truncated: `the message was ${utf8Length(whole)} bytes, over ${maxBytes}; only its start is shown`,
    };
    const room = maxBytes - utf8Length(JSON.stringify(minimal)) - 16;
    // JSON escaping can grow a character to 6 bytes (\u001f): budget for the worst case.
    minimal.reason = room >= 16 ? truncateBytes(str(source.reason), Math.floor(room / 6)) : "";
    return JSON.stringify(minimal);
}
