import { describe, expect, it } from "vitest";
import {
    applyPnsUpdate,
    decodePns,
    decodePnsStatusReply,
    encodePns,
    PNS_CLEAR_COMMAND,
    PNS_STATUS_COMMAND,
    pnsFrame,
    readPnsFrame,
    readPnsUpdate,
} from "../../../../functions/shared/patlite/pns";
import { DARK, LAMP_MODES, toSignal, type TowerSignal } from "../../../../functions/shared/patlite/signal";

function allPnsSignals(): TowerSignal[] {
    const out: TowerSignal[] = [];
    for (const red of LAMP_MODES)
        for (const amber of LAMP_MODES)
            for (const green of LAMP_MODES)
                for (const blue of LAMP_MODES)
                    for (const white of LAMP_MODES) for (const buzzer of [0, 1, 2, 3, 4]) out.push({ red, amber, green, blue, white, buzzer });
    return out;
}

describe("PNS (NH series) encoding", () => {
    it("gives the NHL manual's example: red on, amber flash 1, green flash 2, buzzer 4", () => {
        // NHL user manual §3.6, "[Example of sending the writing command transmission]".
        const manual = Buffer.from([0x58, 0x58, 0x53, 0x00, 0x00, 0x06, 0x01, 0x02, 0x03, 0x00, 0x00, 0x04]);
        expect(encodePns(toSignal({ red: "on", amber: "flash1", green: "flash2", buzzer: 4 }))).toEqual(manual);
        expect(decodePns(manual)).toEqual(toSignal({ red: "on", amber: "flash1", green: "flash2", buzzer: 4 }));
    });

    it("drives blue and white in bytes 10 and 11 and never writes 09 (no change)", () => {
        expect([...encodePns(toSignal({ blue: "on", white: "flash2" })).subarray(6)]).toEqual([0, 0, 0, 1, 3, 0]);
        for (const signal of allPnsSignals()) expect(encodePns(signal).subarray(6).includes(0x09)).toBe(false);
    });

    it("decodes what it encodes, over every state the NH series can show", () => {
        const signals = allPnsSignals();
        expect(signals).toHaveLength(4 ** 5 * 5);
        const mismatches = signals.filter((signal) => JSON.stringify(decodePns(encodePns(signal))) !== JSON.stringify(signal));
        expect(mismatches).toEqual([]);
    });

    it("refuses buzzer patterns above 4, naming the buzzer", () => {
        expect(() => encodePns(toSignal({ buzzer: 5 }))).toThrow(/PNS \(NH series\) knows buzzer patterns 1–4.*got buzzer 5/);
        expect(() => encodePns(toSignal({ buzzer: -1 }))).toThrow(/use 0–4/);
    });

    it("clears with C and reads the state with G", () => {
        expect(PNS_CLEAR_COMMAND).toEqual(Buffer.from([0x58, 0x58, 0x43, 0x00, 0x00, 0x00]));
        expect(PNS_STATUS_COMMAND).toEqual(Buffer.from([0x58, 0x58, 0x47, 0x00, 0x00, 0x00]));
        expect(decodePnsStatusReply(Buffer.from([0x02, 0x01, 0x03, 0x00, 0x00, 0x00]))).toEqual(toSignal({ red: "flash1", amber: "on", green: "flash2" }));
        expect(() => decodePnsStatusReply(Buffer.from([0x15]))).toThrow(/6 bytes/);
    });
});

describe("PNS frames and partial writes", () => {
    it("reads a frame only when its data has arrived", () => {
        const frame = pnsFrame("XX", "S", [1, 2, 3, 0, 0, 4]);
        expect(readPnsFrame(frame.subarray(0, 5))).toBeUndefined();
        expect(readPnsFrame(frame.subarray(0, 11))).toBeUndefined();
        const read = readPnsFrame(Buffer.concat([frame, Buffer.from([0x58])]));
        expect(read).toMatchObject({ product: "XX", command: "S", empty: 0, length: 12 });
        expect([...read!.data]).toEqual([1, 2, 3, 0, 0, 4]);
    });

    it("keeps what a write marks 09 (no change), as a tower does", () => {
        const update = readPnsUpdate(Buffer.from([0x09, 0x01, 0x09, 0x09, 0x09, 0x09]));
        expect(update).toEqual({ red: "keep", amber: "on", green: "keep", blue: "keep", white: "keep", buzzer: "keep" });
        expect(applyPnsUpdate(toSignal({ red: "flash1", buzzer: 3 }), update)).toEqual(toSignal({ red: "flash1", amber: "on", buzzer: 3 }));
    });

    it("does not take a write with 09 as a whole state", () => {
        expect(() => decodePns(Buffer.from([0x58, 0x58, 0x53, 0x00, 0x00, 0x06, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00]))).toThrow(/leaves red unchanged/);
    });

    it("rejects lamp and buzzer values the tower does not know, naming them", () => {
        expect(() => readPnsUpdate(Buffer.from([0x00, 0x04, 0x00, 0x00, 0x00, 0x00]))).toThrow(/amber byte 04 is not a PNS lamp value/);
        expect(() => readPnsUpdate(Buffer.from([0x00, 0x00, 0x00, 0x00, 0x00, 0x05]))).toThrow(/buzzer byte 05/);
        expect(() => readPnsUpdate(Buffer.from([0x00]))).toThrow(/6 data bytes/);
        expect(() => decodePns(Buffer.from([0x41, 0x42, 0x53, 0x00, 0x00, 0x06, 0, 0, 0, 0, 0, 0]))).toThrow(/not a PNS write command/);
        expect(decodePns(encodePns(DARK))).toEqual(DARK);
    });
});
