import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { CANARY_HEADER, canaryId, canaryMail, compactIsoTime, isMailAddress, rfc5322Date, type CanaryMailInput } from "../../../functions/mail-canary/canary-mail";

/** 2024-05-21T09:45:27.512Z, a Tuesday. */
const NOW = Date.UTC(2024, 4, 21, 9, 45, 27, 512);
const ID = "canary-dev-20240521T094527Z-a1b2c3";
const input = (overrides: Partial<CanaryMailInput> = {}): CanaryMailInput => ({
    from: "alertline-canary@alerts-dev.example.jp",
    to: "patlite@alerts-dev.example.jp",
    environment: "dev",
    nowMs: NOW,
    canaryId: ID,
    ...overrides,
});

/** The header section as name → value lines (the canary never folds). */
function headerLines(raw: Buffer): string[] {
    const text = raw.toString("latin1");
    return text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n");
}

describe("canaryMail", () => {
    it("writes every header mail-ingest and mail clients need, with these exact values", () => {
        expect(headerLines(canaryMail(input()).raw)).toEqual([
            "From: alertline-canary@alerts-dev.example.jp",
            "To: patlite@alerts-dev.example.jp",
            "Subject: alertline canary dev 2024-05-21T09:45:27.512Z",
            "Date: Tue, 21 May 2024 09:45:27 +0000",
            "Message-ID: <canary-dev-20240521T094527Z-a1b2c3@alerts-dev.example.jp>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: 7bit",
            "X-Alertline-Canary: canary-dev-20240521T094527Z-a1b2c3",
            "Auto-Submitted: auto-generated",
        ]);
        expect(canaryMail(input()).subject).toBe("alertline canary dev 2024-05-21T09:45:27.512Z");
    });

    it("ends every line with CRLF and has no bare CR or LF", () => {
        const text = canaryMail(input()).raw.toString("latin1");
        expect(text.endsWith("\r\n")).toBe(true);
        expect(text).not.toMatch(/[^\r]\n|\r[^\n]|^\n/);
        expect(text.split("\r\n\r\n").length).toBeGreaterThanOrEqual(2);
    });

    it("keeps the promise of 7bit: ASCII only, no line over 78 characters", () => {
        const raw = canaryMail(input()).raw;
        expect([...raw].every((byte) => byte < 0x80)).toBe(true);
        const long = raw.toString("latin1").split("\r\n").filter((line) => line.length > 78);
        expect(long).toEqual([]);
    });

    it("explains itself in the body: alertline's path test that lights no tower", () => {
        const text = canaryMail(input()).raw.toString("latin1");
        const body = text.slice(text.indexOf("\r\n\r\n") + 4).replace(/\r\n/g, " ");
        expect(body).toContain("alertline's canary");
        expect(body).toContain("lights no tower");
        expect(body).toContain(`Canary: ${ID}`);
    });

    it("is read by mailparser with the canary header, sender, subject and date intact", async () => {
        const parsed = await simpleParser(canaryMail(input()).raw);
        expect(parsed.headers.get(CANARY_HEADER.toLowerCase())).toBe(ID);
        expect(parsed.headers.get("auto-submitted")).toBe("auto-generated");
        expect(parsed.from?.value).toEqual([{ address: "alertline-canary@alerts-dev.example.jp", name: "" }]);
        expect(parsed.subject).toBe("alertline canary dev 2024-05-21T09:45:27.512Z");
        expect(parsed.messageId).toBe(`<${ID}@alerts-dev.example.jp>`);
        // RFC 5322 dates carry whole seconds.
        expect(parsed.date?.getTime()).toBe(NOW - 512);
        expect(parsed.text).toContain("mail-ingest recognises it");
    });

    it("refuses a line break in any header value, naming the setting", () => {
        expect(() => canaryMail(input({ from: "alertline-canary@alerts-dev.example.jp\r\nBcc: victim@example.com" }))).toThrow(/CANARY_FROM contains a line break/);
        expect(() => canaryMail(input({ to: "patlite@alerts-dev.example.jp\nBcc: victim@example.com" }))).toThrow(/CANARY_TO contains a line break/);
        expect(() => canaryMail(input({ environment: "dev\r\nBcc: victim@example.com" }))).toThrow(/ALERTLINE_ENVIRONMENT contains a line break/);
        expect(() => canaryMail(input({ canaryId: "canary-dev\rX-Injected: 1" }))).toThrow(/canary id contains a line break/);
    });

    it("refuses what is not a bare address, naming CANARY_FROM or CANARY_TO", () => {
        expect(() => canaryMail(input({ from: "alertline canary" }))).toThrow(/CANARY_FROM is not a mail address: "alertline canary"/);
        expect(() => canaryMail(input({ from: "Canary <alertline-canary@alerts-dev.example.jp>" }))).toThrow(/CANARY_FROM is not a mail address/);
        expect(() => canaryMail(input({ to: "patlite@localhost" }))).toThrow(/CANARY_TO is not a mail address/);
        expect(() => canaryMail(input({ to: "パトライト@alerts-dev.example.jp" }))).toThrow(/CANARY_TO must be printable ASCII/);
    });

    it("refuses a canary id that cannot be a Message-ID's left part", () => {
        expect(() => canaryMail(input({ canaryId: "canary dev" }))).toThrow(/dot-atom/);
        expect(() => canaryMail(input({ canaryId: "canary..dev" }))).toThrow(/dot-atom/);
    });
});

describe("the canary's small parts", () => {
    it("names a canary by environment, second and random part", () => {
        expect(canaryId("prod", NOW, "0f9e8d")).toBe("canary-prod-20240521T094527Z-0f9e8d");
        expect(() => canaryId("prod", NOW, "xyz")).toThrow(/6 lowercase hex digits/);
    });

    it("writes times the way RFC 5322 and ISO 8601's basic format do", () => {
        expect(compactIsoTime(Date.UTC(2025, 0, 2, 3, 4, 5, 999))).toBe("20250102T030405Z");
        expect(rfc5322Date(Date.UTC(2025, 0, 2, 3, 4, 5))).toBe("Thu, 02 Jan 2025 03:04:05 +0000");
    });

    it("takes bare addresses of a dotted domain only", () => {
        expect(isMailAddress("alertline-canary@alerts.example.jp")).toBe(true);
        expect(isMailAddress("a.b+tag@x.example")).toBe(true);
        expect(isMailAddress("@alerts.example.jp")).toBe(false);
        expect(isMailAddress("a@-bad.example")).toBe(false);
        expect(isMailAddress("a@b@c.example")).toBe(false);
    });
});
