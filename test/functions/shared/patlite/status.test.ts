import { describe, expect, it } from "vitest";
import { encodeStatusRead } from "../../../../functions/shared/patlite/codec";
import { expectedSignal } from "./expected-signal";
import { decodeStatusReply, describeReading, isNakReply, lampsMatch, type TowerReading } from "../../../../functions/shared/patlite/status";

/**
 * Status requests and answers, byte for byte. Expected values are written out from facts.md
 * ("PATLITE signal towers") where it covers them, and otherwise from the sources named in the
 * protocol modules (PNS `G`: rospatlite, net-pns, Patlite-NHL-CSharp; LA6 `G`: PATLITE's LA6-POE
 * socket sample), never from this code's own output.
 */

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");
const signal = expectedSignal;

describe("status requests", () => {
    it("PHN asks with R (0x52) alone, as facts.md says", () => {
        expect([...encodeStatusRead("phn")]).toEqual([0x52]);
    });

    it("PNS (NH) asks with G: XX, G, an empty byte and data size 0", () => {
        expect([...encodeStatusRead("pns")]).toEqual([0x58, 0x58, 0x47, 0x00, 0x00, 0x00]);
    });

    it("LA6 asks with G under product code AB, as facts.md says", () => {
        expect([...encodeStatusRead("la6")]).toEqual([0x41, 0x42, 0x47, 0x00, 0x00, 0x00]);
    });
});

describe("decodeStatusReply", () => {
    it("PHN: 52 then the operation byte; facts.md's 0x55 is red on, amber flashing, green on, buzzer 2", () => {
        expect(decodeStatusReply("phn", hex("52 55"))).toEqual({ kind: "signal", signal: signal({ red: "on", amber: "flash1", green: "on", buzzer: 2 }) });
        // Bits 5–7 flash red/amber/green, bit 3 buzzer pattern 1.
        expect(decodeStatusReply("phn", hex("52 A8"))).toEqual({ kind: "signal", signal: signal({ red: "flash1", green: "flash1", buzzer: 1 }) });
        expect(decodeStatusReply("phn", hex("52 00"))).toEqual({ kind: "signal", signal: signal({}) });
    });

    it("PNS: six bytes red, amber, green, blue, white, buzzer in the write command's coding", () => {
        // The NHL manual's example state: red on, amber flash 1, green flash 2, buzzer 4.
        expect(decodeStatusReply("pns", hex("01 02 03 00 00 04"))).toEqual({ kind: "signal", signal: signal({ red: "on", amber: "flash1", green: "flash2", buzzer: 4 }) });
        expect(decodeStatusReply("pns", hex("00 00 00 01 02 00"))).toEqual({ kind: "signal", signal: signal({ blue: "on", white: "flash1" }) });
    });

    it("LA6: 8 inputs, mode 00, then tier patterns 1–5 and the buzzer; only lit or dark is read from a tier", () => {
        const reply = hex("00 01 00 00 00 00 00 00  00  01 00 02 00 01  0B");
        expect(decodeStatusReply("la6", reply)).toEqual({ kind: "lit", lit: { red: true, amber: false, green: true, blue: false, white: true }, buzzer: 11 });
    });

    it("LA6 in smart mode (mode byte 01): group and pattern, nothing about the tiers", () => {
        expect(decodeStatusReply("la6", hex("00 00 00 00 00 00 00 00  01  03 00 00 02"))).toEqual({ kind: "smart", group: 3, pattern: 2 });
    });

    it("refuses each protocol's NAK, naming it", () => {
        expect(() => decodeStatusReply("phn", hex("4E 41 4B"))).toThrow(/PHN tower answered NAK to the status request/);
        expect(() => decodeStatusReply("pns", hex("15"))).toThrow(/PNS tower answered NAK/);
        expect(() => decodeStatusReply("la6", hex("15"))).toThrow(/LA6 tower answered NAK/);
    });

    it("refuses answers of the wrong shape, saying what was expected", () => {
        expect(() => decodeStatusReply("phn", hex("41 43 4B"))).toThrow(/not a PHN read answer/);
        expect(() => decodeStatusReply("pns", hex("01 00 00 00 00"))).toThrow(/6 bytes/);
        expect(() => decodeStatusReply("pns", hex("05 00 00 00 00 00"))).toThrow(/red byte 05 is not a PNS lamp value/);
        expect(() => decodeStatusReply("la6", hex("00 00 00 00 00 00 00 00 00 01"))).toThrow(/at least 13 bytes/);
    });

    it("knows each protocol's NAK from a status answer", () => {
        expect(isNakReply("phn", hex("4E 41 4B"))).toBe(true);
        expect(isNakReply("phn", hex("52 15"))).toBe(false);
        expect(isNakReply("pns", hex("15"))).toBe(true);
        expect(isNakReply("la6", hex("15"))).toBe(true);
        expect(isNakReply("pns", hex("06"))).toBe(false);
    });
});

describe("lampsMatch", () => {
    const read = (protocol: "phn" | "pns" | "la6", bytes: string): TowerReading => decodeStatusReply(protocol, hex(bytes));

    it("a dark tower does not match a signal with a lamp lit (the power-cycle case)", () => {
        expect(lampsMatch("pns", read("pns", "00 00 00 00 00 00"), signal({ red: "flash1", buzzer: 1 }))).toBe(false);
        expect(lampsMatch("phn", read("phn", "52 00"), signal({ green: "on" }))).toBe(false);
        expect(lampsMatch("la6", read("la6", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"), signal({ red: "flash1", buzzer: 1 }))).toBe(false);
    });

    it("matches the same lamps, whatever the buzzer does", () => {
        expect(lampsMatch("pns", read("pns", "02 00 00 00 00 00"), signal({ red: "flash1", buzzer: 1 }))).toBe(true);
        expect(lampsMatch("pns", read("pns", "02 00 00 00 00 01"), signal({ red: "flash1", buzzer: 1 }))).toBe(true);
        expect(lampsMatch("phn", read("phn", "52 04"), signal({ green: "on" }))).toBe(true);
    });

    it("compares in the protocol's terms: PHN has one flash kind, PNS two", () => {
        // PHN bit 5: red flashing. A flash2 signal is shown (and read back) as that.
        expect(lampsMatch("phn", read("phn", "52 20"), signal({ red: "flash2" }))).toBe(true);
        expect(lampsMatch("pns", read("pns", "02 00 00 00 00 00"), signal({ red: "flash2" }))).toBe(false);
        expect(lampsMatch("pns", read("pns", "03 00 00 00 00 00"), signal({ red: "flash2" }))).toBe(true);
        expect(lampsMatch("pns", read("pns", "01 00 00 00 00 00"), signal({ red: "flash1" }))).toBe(false);
    });

    it("LA6: compares which tiers are lit, not how", () => {
        const redOnly = read("la6", "00 00 00 00 00 00 00 00 00 02 00 00 00 00 01");
        expect(lampsMatch("la6", redOnly, signal({ red: "flash1", buzzer: 1 }))).toBe(true);
        expect(lampsMatch("la6", redOnly, signal({ red: "on" }))).toBe(true);
        expect(lampsMatch("la6", redOnly, signal({ red: "on", amber: "on" }))).toBe(false);
        expect(lampsMatch("la6", redOnly, signal({ green: "on" }))).toBe(false);
    });

    it("cannot compare an LA6 in smart mode", () => {
        expect(lampsMatch("la6", read("la6", "00 00 00 00 00 00 00 00 01 03 00 00 02"), signal({ red: "on" }))).toBeUndefined();
    });

    it("a signal the protocol cannot show never matches", () => {
        expect(lampsMatch("phn", read("phn", "52 00"), signal({ blue: "on" }))).toBe(false);
    });
});

describe("describeReading", () => {
    it("names what was read, for the probe's log line", () => {
        expect(describeReading(decodeStatusReply("pns", hex("02 00 00 00 00 01")))).toBe("red:flash1 buzzer:1");
        expect(describeReading(decodeStatusReply("la6", hex("00 00 00 00 00 00 00 00 00 01 01 00 00 00 03")))).toBe("lit red amber buzzer:3");
        expect(describeReading(decodeStatusReply("la6", hex("00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")))).toBe("dark");
        expect(describeReading({ kind: "smart", group: 3, pattern: 2 })).toBe("smart mode group 3 pattern 2");
    });
});
