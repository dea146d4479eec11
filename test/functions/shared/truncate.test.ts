import { describe, expect, it } from "vitest";
import { ALERT_MESSAGE_MAX_BYTES, boundedJson, SNS_MESSAGE_MAX_BYTES } from "../../../functions/shared/bounded-json";
import { TRUNCATION_MARKER, truncateBytes, truncateChars, utf8Length } from "../../../functions/shared/truncate";

/** Characters of every UTF-8 length and a surrogate pair, so a cut can land inside any of them. */
const ALPHABET = ["a", "é", "日", "😀", "\u0000", "\n"];

/** A deterministic pseudo-random string of `n` characters from {@link ALPHABET}. */
function mixed(n: number, seed: number): string {
    let x = seed;
    let out = "";
    for (let i = 0; i < n; i++) {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        out += ALPHABET[x % ALPHABET.length];
    }
    return out;
}

const wellFormed = (text: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe("truncateChars", () => {
    it("leaves text within the limit alone", () => {
        expect(truncateChars("abc", 3, "…")).toBe("abc");
        expect(truncateChars("", 12)).toBe("");
    });

    it("cuts to exactly the limit, ending with the marker", () => {
        const cut = truncateChars("x".repeat(100), 20);
        expect(cut).toBe(`${"x".repeat(20 - TRUNCATION_MARKER.length)}${TRUNCATION_MARKER}`);
        expect(cut.length).toBe(20);
        expect(truncateChars("abcdef", 4, "…")).toBe("abc…");
    });

    it("never ends on half a surrogate pair", () => {
        // "a😀…": the cut would fall between the two halves of the emoji; it goes before it instead.
        expect(truncateChars("a😀bcd", 3, "…")).toBe("a…");
        for (let seed = 1; seed <= 200; seed++) {
            const text = mixed(80, seed);
            for (const max of [13, 14, 15, 40]) {
                const cut = truncateChars(text, max);
                expect(cut.length).toBeLessThanOrEqual(max);
                expect(wellFormed(cut)).toBe(true);
                if (text.length > max) expect(cut.endsWith(TRUNCATION_MARKER)).toBe(true);
            }
        }
    });

    it("refuses a limit that cannot hold the marker, naming it", () => {
        expect(() => truncateChars("abcdef", 3)).toThrow(/no smaller than the marker "…\[truncated\]" \(12 characters\), got 3/);
    });
});

describe("truncateBytes", () => {
    it("leaves text within the limit alone, counting UTF-8 bytes, not characters", () => {
        expect(truncateBytes("日本", 6, "…")).toBe("日本");
        expect(truncateBytes("日本語", 8, "…")).toBe("日…");
    });

    it("never splits a multi-byte character or a surrogate pair, and stays within the limit", () => {
        for (let seed = 1; seed <= 200; seed++) {
            const text = mixed(120, seed);
            for (const max of [15, 16, 17, 18, 100]) {
                const cut = truncateBytes(text, max);
                expect(utf8Length(cut)).toBeLessThanOrEqual(max);
                expect(wellFormed(cut)).toBe(true);
                // What is kept is a prefix of the text: decoding the bytes gives no replacement character.
                expect(Buffer.from(cut, "utf8").toString("utf8")).toBe(cut);
                if (utf8Length(text) > max) {
                    expect(cut.endsWith(TRUNCATION_MARKER)).toBe(true);
                    expect(text.startsWith(cut.slice(0, -TRUNCATION_MARKER.length))).toBe(true);
                }
            }
        }
    });

    it("cuts a 250 KB key to a few bytes", () => {
        const cut = truncateBytes("k".repeat(250 * 1024), 1024);
        expect(utf8Length(cut)).toBe(1024);
        expect(cut.endsWith(TRUNCATION_MARKER)).toBe(true);
    });
});

describe("boundedJson", () => {
    it("is plain JSON.stringify for a message that fits", () => {
        const message = { title: "t", state: "OK", reason: "r", n: 1 };
        expect(boundedJson(message)).toBe(JSON.stringify(message));
    });

    it("cuts a report carrying a megabyte of device answer to well under SNS's limit, marking every cut", () => {
        const message = { title: "PATLITE tower unreachable: tokyo-ops", state: "ALARM", reason: `3 attempts failed: ${"5A ".repeat(350_000)}`, error: "x".repeat(400_000), tower: "tokyo-ops" };
        const text = boundedJson(message);
        expect(utf8Length(text)).toBeLessThanOrEqual(ALERT_MESSAGE_MAX_BYTES);
        expect(ALERT_MESSAGE_MAX_BYTES).toBeLessThan(SNS_MESSAGE_MAX_BYTES);
        const parsed = JSON.parse(text);
        expect(parsed.title).toBe(message.title);
        expect(parsed.tower).toBe("tokyo-ops");
        expect(parsed.reason).toMatch(/^3 attempts failed: 5A 5A .*…\[truncated\]$/);
        expect(parsed.error.endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(parsed.truncated).toMatch(/fields cut to \d+ characters/);
    });

    it("keeps keys such as __proto__ and constructor as keys when it cuts", () => {
        const message = JSON.parse(`{"title":"t","state":"WARN","reason":"${"r".repeat(100_000)}","__proto__":"p","constructor":"c"}`);
        const parsed = JSON.parse(boundedJson(message, 4096));
        expect(Object.keys(parsed)).toEqual(expect.arrayContaining(["__proto__", "constructor"]));
        expect(parsed.constructor).toBe("c");
    });

    it("falls back to title, state and the start of the reason when even cut fields do not fit", () => {
        const message = { title: "many", state: "WARN", reason: "why", ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`field-${i}`, "v"])) };
        const text = boundedJson(message, 8192);
        expect(utf8Length(text)).toBeLessThanOrEqual(8192);
        expect(JSON.parse(text)).toEqual({ title: "many", state: "WARN", reason: "why", truncated: expect.stringMatching(/^the message was \d+ bytes, over 8192; only its start is shown$/) });
    });

    it("stays within the limit with text that JSON escapes to six bytes a character", () => {
        const text = boundedJson({ title: "t", state: "ALARM", reason: "\u0001".repeat(300_000) }, 16_384);
        expect(utf8Length(text)).toBeLessThanOrEqual(16_384);
    });
});
