import { describe, expect, it } from "vitest";
import { PatliteEncodingError } from "../../../../functions/shared/patlite/errors";
import {
    decodePhn,
    decodePhnReadReply,
    encodePhn,
    PHN_CLEAR_COMMAND,
    PHN_READ_COMMAND,
    phnSignalFromByte,
    phnStateByte,
} from "../../../../functions/shared/patlite/phn";
import { DARK, toSignal, type LampMode, type TowerSignal } from "../../../../functions/shared/patlite/signal";

/** Every state a PHN tower can show: red/amber/green off, on or flashing (one flash kind), buzzer 0–2. */
function allPhnSignals(): TowerSignal[] {
    const modes: LampMode[] = ["off", "on", "flash1"];
    const out: TowerSignal[] = [];
    for (const red of modes) for (const amber of modes) for (const green of modes) for (const buzzer of [0, 1, 2]) out.push(toSignal({ red, amber, green, buzzer }));
    return out;
}

describe("PHN encoding", () => {
    it("gives the NHL manual's example: red on, amber flashing, green on, buzzer pattern 2 = 57 55", () => {
        // NHL user manual §3.5, "[Example of sending the writing command transmission]".
        expect(encodePhn(toSignal({ red: "on", amber: "flash1", green: "on", buzzer: 2 }))).toEqual(Buffer.from([0x57, 0x55]));
    });

    it("puts each lamp and buzzer pattern on the manual's bit", () => {
        // Bit table from the manual: 0–2 lighting red/amber/green, 3–4 buzzer 1/2, 5–7 flashing red/amber/green.
        const cases: [Parameters<typeof toSignal>[0], number][] = [
            [{ red: "on" }, 0x01],
            [{ amber: "on" }, 0x02],
            [{ green: "on" }, 0x04],
            [{ buzzer: 1 }, 0x08],
            [{ buzzer: 2 }, 0x10],
            [{ red: "flash1" }, 0x20],
            [{ amber: "flash1" }, 0x40],
            [{ green: "flash1" }, 0x80],
        ];
        for (const [spec, byte] of cases) expect(phnStateByte(toSignal(spec)), JSON.stringify(spec)).toBe(byte);
    });

    it("has one flash kind: flash2 is sent exactly like flash1", () => {
        expect(encodePhn(toSignal({ amber: "flash2" }))).toEqual(encodePhn(toSignal({ amber: "flash1" })));
        expect(decodePhn(encodePhn(toSignal({ amber: "flash2" })))).toEqual(toSignal({ amber: "flash1" }));
    });

    it("decodes what it encodes, over every state PHN can show", () => {
        const signals = allPhnSignals();
        expect(signals).toHaveLength(81);
        const bytes = new Set<number>();
        for (const signal of signals) {
            const command = encodePhn(signal);
            bytes.add(command[1]);
            expect(decodePhn(command)).toEqual(signal);
        }
        expect(bytes.size).toBe(81);
    });

    it("refuses the blue and white lamps, naming the lamp", () => {
        for (const lamp of ["blue", "white"] as const) {
            const attempt = () => encodePhn(toSignal({ red: "on", [lamp]: "on" }));
            expect(attempt).toThrow(PatliteEncodingError);
            expect(attempt).toThrow(new RegExp(`PHN cannot show the ${lamp} lamp`));
            try {
                attempt();
            } catch (error) {
                expect((error as PatliteEncodingError).field).toBe(lamp);
            }
        }
    });

    it("refuses buzzer patterns above 2 and lamp modes that do not exist", () => {
        expect(() => encodePhn(toSignal({ buzzer: 3 }))).toThrow(/buzzer patterns 1–2.*got buzzer 3/);
        expect(() => encodePhn({ ...DARK, red: "blink" as LampMode })).toThrow(/red: "blink" is not a lamp mode/);
        expect(() => encodePhn({ ...DARK, buzzer: 1.5 })).toThrow(/got buzzer 1.5/);
    });
});

describe("PHN decoding", () => {
    it("applies the manual's priorities: lighting over flashing, pattern 1 over pattern 2", () => {
        expect(phnSignalFromByte(0x21)).toEqual(toSignal({ red: "on" }));
        expect(phnSignalFromByte(0x18)).toEqual(toSignal({ buzzer: 1 }));
    });

    it("reads the answer to R (52 then the operation byte)", () => {
        expect(PHN_READ_COMMAND).toEqual(Buffer.from([0x52]));
        expect(decodePhnReadReply(Buffer.from([0x52, 0x55]))).toEqual(toSignal({ red: "on", amber: "flash1", green: "on", buzzer: 2 }));
        expect(() => decodePhnReadReply(Buffer.from("NAK"))).toThrow(/not a PHN read answer/);
    });

    it("clears with an all-zero write and rejects what is not a write", () => {
        expect(PHN_CLEAR_COMMAND).toEqual(Buffer.from([0x57, 0x00]));
        expect(decodePhn(PHN_CLEAR_COMMAND)).toEqual(DARK);
        expect(() => decodePhn(Buffer.from([0x52]))).toThrow(/not a PHN write command/);
        expect(() => decodePhn(Buffer.from([0x57, 0x01, 0x00]))).toThrow(/not a PHN write command/);
    });
});
