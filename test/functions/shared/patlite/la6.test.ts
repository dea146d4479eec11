import { describe, expect, it } from "vitest";
import { PatliteEncodingError } from "../../../../functions/shared/patlite/errors";
import {
    decodeLa6,
    decodeLa6Detail,
    decodeLa6Status,
    encodeLa6,
    encodeLa6Detail,
    LA6_CLEAR_COMMAND,
    LA6_STATUS_COMMAND,
    la6Color,
    la6DetailFromSignal,
    la6SignalFromDetail,
    la6StatusReply,
    type La6Detail,
} from "../../../../functions/shared/patlite/la6";
import { DARK, LAMPS, toSignal, type TowerSignal } from "../../../../functions/shared/patlite/signal";

describe("LA6-POE detailed control", () => {
    it("gives the example: tiers 4,6,0,9,1, no flash, buzzer 11", () => {
        // facts.md, PNS for LA6-POE, product code AB, command D.
        const manual = Buffer.from([0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0x04, 0x06, 0x00, 0x09, 0x01, 0x00, 0x0b]);
        const detail: La6Detail = { colors: [4, 6, 0, 9, 1], flash: false, buzzer: 11 };
        expect(encodeLa6Detail(detail)).toEqual(manual);
        expect(decodeLa6Detail(manual)).toEqual(detail);
    });

    it("decodes what it encodes, over every tier colour combination with flash on and off and buzzer patterns cycling 0–11", () => {
        let count = 0;
        const mismatches: string[] = [];
        for (let code = 0; code < 100_000; code++) {
            const colors = [...String(code).padStart(5, "0")].map(Number) as unknown as La6Detail["colors"];
            for (const flash of [false, true]) {
                const detail: La6Detail = { colors, flash, buzzer: (code + (flash ? 7 : 0)) % 12 };
                const back = decodeLa6Detail(encodeLa6Detail(detail));
                count++;
                if (back.flash !== flash || back.buzzer !== detail.buzzer || back.colors.some((c, i) => c !== colors[i])) mismatches.push(JSON.stringify(detail));
            }
        }
        for (const flash of [false, true])
            for (let buzzer = 0; buzzer <= 11; buzzer++) {
                const detail: La6Detail = { colors: [1, 2, 3, 4, 5], flash, buzzer };
                expect(decodeLa6Detail(encodeLa6Detail(detail))).toEqual(detail);
            }
        expect(count).toBe(200_000);
        expect(mismatches).toEqual([]);
    });

    it("refuses colours, flash values and buzzer patterns the LA6 does not have", () => {
        expect(() => encodeLa6Detail({ colors: [10, 0, 0, 0, 0], flash: false, buzzer: 0 })).toThrow(/tier 1 colour 10 is not an LA6 colour code/);
        expect(() => encodeLa6Detail({ colors: [0, 0, 0, 0] as unknown as La6Detail["colors"], flash: false, buzzer: 0 })).toThrow(/needs 5 tier colours/);
        expect(() => encodeLa6Detail({ colors: [0, 0, 0, 0, 0], flash: false, buzzer: 12 })).toThrow(/buzzer patterns 1–11.*got buzzer 12/);
        expect(() => encodeLa6Detail({ colors: [0, 0, 0, 0, 0], flash: 1 as unknown as boolean, buzzer: 0 })).toThrow(/flash must be true or false/);
        expect(() => decodeLa6Detail(Buffer.from([0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0x0a, 0, 0, 0, 0, 0, 0]))).toThrow(/tier 1 colour byte 10/);
        expect(() => decodeLa6Detail(Buffer.from([0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0, 0, 0, 0, 0, 2, 0]))).toThrow(/flash byte 2/);
    });

    it("reads colours by name or code", () => {
        expect(["off", "red", "amber", "lemon", "green", "sky blue", "blue", "purple", "peach", "white"].map(la6Color)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(["Sky-Blue", "skyblue", "sky_blue", "5"].map(la6Color)).toEqual([5, 5, 5, 5]);
        expect(() => la6Color("pink")).toThrow(/"pink" is not an LA6 colour; use 0–9 or off, red/);
    });

    it("clears with C and asks for the status with G", () => {
        expect(LA6_CLEAR_COMMAND).toEqual(Buffer.from([0x41, 0x42, 0x43, 0x00, 0x00, 0x00]));
        expect(LA6_STATUS_COMMAND).toEqual(Buffer.from([0x41, 0x42, 0x47, 0x00, 0x00, 0x00]));
    });

    it("reads a status answer: 8 inputs, mode, 5 tier patterns, buzzer", () => {
        const reply = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0x00, 2, 2, 0, 2, 2, 0x0b]);
        expect(decodeLa6Status(reply)).toEqual({ inputs: [0, 1, 0, 0, 0, 0, 0, 0], mode: "signal-light", tierPatterns: [2, 2, 0, 2, 2], buzzer: 11 });
        expect(la6StatusReply({ colors: [4, 6, 0, 9, 1], flash: true, buzzer: 11 })).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 2, 2, 11]));
        expect(decodeLa6Status(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0x01, 3, 0, 0, 1]))).toMatchObject({ mode: "smart", smart: { group: 3, pattern: 1 } });
        expect(() => decodeLa6Status(Buffer.from([0x15]))).toThrow(/NAK/);
    });
});

describe("LA6-POE and tower signals", () => {
    it("lights tier k in lamp k's colour: red 1, amber 2, green 4, blue 6, white 9", () => {
        const all = toSignal({ red: "on", amber: "on", green: "on", blue: "on", white: "on" });
        expect(encodeLa6(all)).toEqual(Buffer.from([0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0x01, 0x02, 0x04, 0x06, 0x09, 0x00, 0x00]));
        expect(encodeLa6(toSignal({ red: "flash1", buzzer: 1 }))).toEqual(Buffer.from([0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01]));
    });

    it("flashes the whole tower when any lamp flashes, steady lamps included", () => {
        expect(la6DetailFromSignal(toSignal({ red: "flash2", green: "on" }))).toEqual({ colors: [1, 0, 4, 0, 0], flash: true, buzzer: 0 });
        expect(decodeLa6(encodeLa6(toSignal({ red: "flash2", green: "on" })))).toEqual(toSignal({ red: "flash1", green: "flash1" }));
    });

    it("decodes what it encodes, over every state an LA6 can show as a tower signal", () => {
        const signals: TowerSignal[] = [];
        for (let lit = 0; lit < 32; lit++)
            for (const mode of ["on", "flash1"] as const)
                for (let buzzer = 0; buzzer <= 11; buzzer++) {
                    if (lit === 0 && mode === "flash1") continue;
                    const spec = Object.fromEntries(LAMPS.filter((_, i) => lit & (1 << i)).map((lamp) => [lamp, mode]));
                    signals.push(toSignal({ ...spec, buzzer }));
                }
        expect(signals).toHaveLength((32 + 31) * 12);
        for (const signal of signals) expect(decodeLa6(encodeLa6(signal))).toEqual(signal);
    });

    it("refuses a buzzer above 11 and says which tier has no lamp colour", () => {
        expect(() => encodeLa6(toSignal({ buzzer: 12 }))).toThrow(PatliteEncodingError);
        expect(() => la6SignalFromDetail({ colors: [4, 0, 0, 0, 0], flash: false, buzzer: 0 })).toThrow(/tier 1 is green; as a tower signal, tier 1 can only be red \(1\) or off/);
        expect(la6SignalFromDetail({ colors: [0, 0, 0, 0, 0], flash: false, buzzer: 0 })).toEqual(DARK);
    });
});
