import { describe, expect, it } from "vitest";
import {
    replyForeign,
    decodeReply,
    decodeSignal,
    encodeClear,
    encodeSignal,
    encodeStatusRead,
    fromHex,
    PatliteEncodingError,
    replyComplete,
    replyLength,
    shownSignal,
    toHex,
} from "../../../../functions/shared/patlite/codec";
import { DARK, toSignal } from "../../../../functions/shared/patlite/signal";

const critical = toSignal({ red: "flash1", buzzer: 1 });

describe("protocol dispatch", () => {
    it("encodes the manuals' examples per protocol", () => {
        expect(toHex(encodeSignal("pns", toSignal({ red: "on", amber: "flash1", green: "flash2", buzzer: 4 })))).toBe("58 58 53 00 00 06 01 02 03 00 00 04");
        expect(toHex(encodeSignal("phn", toSignal({ red: "on", amber: "flash1", green: "on", buzzer: 2 })))).toBe("57 55");
    });

    it("decodes each protocol's write command back to the signal", () => {
        for (const protocol of ["phn", "pns", "la6"] as const) expect(decodeSignal(protocol, encodeSignal(protocol, critical))).toEqual(critical);
    });

    it("says what a tower really shows", () => {
        expect(shownSignal("pns", toSignal({ red: "flash2", green: "on" }))).toEqual(toSignal({ red: "flash2", green: "on" }));
        expect(shownSignal("phn", toSignal({ red: "flash2", green: "on" }))).toEqual(toSignal({ red: "flash1", green: "on" }));
        expect(shownSignal("la6", toSignal({ red: "flash2", green: "on" }))).toEqual(toSignal({ red: "flash1", green: "flash1" }));
        expect(() => shownSignal("phn", toSignal({ white: "on" }))).toThrow(PatliteEncodingError);
    });

    it("clears and reads status with each protocol's own command", () => {
        expect(toHex(encodeClear("phn"))).toBe("57 00");
        expect(toHex(encodeClear("pns"))).toBe("58 58 43 00 00 00");
        expect(toHex(encodeClear("la6"))).toBe("41 42 43 00 00 00");
        expect(toHex(encodeStatusRead("phn"))).toBe("52");
        expect(toHex(encodeStatusRead("pns"))).toBe("58 58 47 00 00 00");
        expect(toHex(encodeStatusRead("la6"))).toBe("41 42 47 00 00 00");
        expect(decodeSignal("pns", encodeSignal("pns", DARK))).toEqual(DARK);
    });

    it("rejects an unknown protocol by name", () => {
        expect(() => encodeSignal("xyz" as never, DARK)).toThrow(/unknown tower protocol "xyz"; use phn, pns or la6/);
    });
});

describe("answers", () => {
    it("knows each protocol's ACK and NAK", () => {
        expect(decodeReply("phn", Buffer.from([0x41, 0x43, 0x4b]))).toBe("ack");
        expect(decodeReply("phn", Buffer.from([0x4e, 0x41, 0x4b]))).toBe("nak");
        expect(decodeReply("phn", Buffer.from([0x06]))).toBe("unknown");
        for (const protocol of ["pns", "la6"] as const) {
            expect(decodeReply(protocol, Buffer.from([0x06]))).toBe("ack");
            expect(decodeReply(protocol, Buffer.from([0x15]))).toBe("nak");
            expect(decodeReply(protocol, Buffer.from("ACK"))).toBe("unknown");
        }
    });

    it("expects 3 bytes from PHN, 1 from PNS, more for a status read", () => {
        expect(replyLength("phn")).toBe(3);
        expect(replyLength("pns")).toBe(1);
        expect(replyLength("la6")).toBe(1);
        expect(replyLength("phn", encodeStatusRead("phn"))).toBe(2);
        expect(replyLength("pns", encodeStatusRead("pns"))).toBe(6);
        expect(replyLength("la6", encodeStatusRead("la6"))).toBe(15);
        expect(replyLength("pns", encodeSignal("pns", critical))).toBe(1);
    });

    it("takes a status answer as ACK and a lone 15 as NAK", () => {
        const read = encodeStatusRead("pns");
        expect(decodeReply("pns", Buffer.from([2, 0, 0, 0, 0, 1]), read)).toBe("ack");
        expect(decodeReply("pns", Buffer.from([0x15]), read)).toBe("nak");
        expect(replyComplete("pns", Buffer.from([0x15]), read)).toBe(true);
        expect(replyComplete("pns", Buffer.from([2, 0, 0]), read)).toBe(false);
        expect(decodeReply("phn", Buffer.from([0x52, 0x55]), encodeStatusRead("phn"))).toBe("ack");
    });

    it("waits for the whole NAK when a PHN read answer starts like one", () => {
        const read = encodeStatusRead("phn");
        expect(replyComplete("phn", Buffer.from("NA"), read)).toBe(false);
        expect(replyComplete("phn", Buffer.from("NAK"), read)).toBe(true);
        expect(replyComplete("phn", Buffer.from([0x52, 0x00]), read)).toBe(true);
        expect(replyComplete("phn", Buffer.from("AC"))).toBe(false);
    });

    it("takes a 13-byte LA6 status answer in smart mode as whole", () => {
        const read = encodeStatusRead("la6");
        const smart = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 0, 0, 1]);
        expect(replyComplete("la6", smart.subarray(0, 12), read)).toBe(false);
        expect(replyComplete("la6", smart, read)).toBe(true);
        expect(decodeReply("la6", smart, read)).toBe("ack");
    });
});

describe("hex", () => {
    it("prints upper case with single spaces", () => {
        expect(toHex(Buffer.from([0x41, 0x42, 0x44, 0x00, 0x0b]))).toBe("41 42 44 00 0B");
        expect(toHex(Buffer.alloc(0))).toBe("");
    });

    it("reads spaced, packed, 0x-prefixed and lower-case hex", () => {
        const expected = Buffer.from([0x58, 0x58, 0x53, 0x0b]);
        for (const text of ["58 58 53 0B", "5858530b", "0x58 0x58 0x53 0x0b", " 58:58:53:0b "]) expect(fromHex(text)).toEqual(expected);
        expect(fromHex("")).toEqual(Buffer.alloc(0));
    });

    it("refuses odd digits and non-hex, saying how to write it", () => {
        expect(() => fromHex("5 8")).toThrow(/is not hex bytes; write them like "58 58 53 00"/);
        expect(() => fromHex("zz")).toThrow(/not hex bytes/);
    });
});

describe("replyForeign", () => {
    const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ""), "hex");
    it("accepts the start of each protocol's own answers", () => {
        for (const partial of ["41", "41 43", "4E", "4E 41"]) expect(replyForeign("phn", hex(partial)), partial).toBe(false);
        expect(replyForeign("phn", hex("52"), encodeStatusRead("phn"))).toBe(false);
        expect(replyForeign("pns", hex("06"))).toBe(false);
        expect(replyForeign("pns", hex("15"), encodeStatusRead("pns"))).toBe(false);
        expect(replyForeign("pns", hex("03 02"), encodeStatusRead("pns"))).toBe(false);
        expect(replyForeign("la6", hex("01 00"), encodeStatusRead("la6"))).toBe(false);
        expect(replyForeign("pns", Buffer.alloc(0))).toBe(false);
    });
    it("flags another protocol's answer from its first byte", () => {
        // A PNS/LA6 tower's NAK to PHN bytes, and a PHN tower's ASCII NAK to PNS/LA6 frames.
        expect(replyForeign("phn", hex("15"))).toBe(true);
        expect(replyForeign("phn", hex("06"), encodeStatusRead("phn"))).toBe(true);
        expect(replyForeign("phn", hex("41 43 4C"))).toBe(true);
        expect(replyForeign("pns", hex("4E"))).toBe(true);
        expect(replyForeign("pns", hex("4E"), encodeStatusRead("pns"))).toBe(true);
        expect(replyForeign("pns", hex("04"), encodeStatusRead("pns"))).toBe(true);
        expect(replyForeign("la6", hex("4E"), encodeStatusRead("la6"))).toBe(true);
        expect(replyForeign("la6", hex("02"), encodeStatusRead("la6"))).toBe(true);
    });
});
