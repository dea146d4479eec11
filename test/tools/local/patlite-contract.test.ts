import { readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ackReply, encodeClear, encodeSignal, encodeStatusRead, fromHex, nakReply, toHex } from "../../../functions/shared/patlite/codec";
import { encodeLa6Detail, type La6Detail } from "../../../functions/shared/patlite/la6";
import { toSignal, type SignalSpec } from "../../../functions/shared/patlite/signal";
import type { TowerProtocol } from "../../../functions/shared/tower-config";
import { readCommand, startTowerEmulator, type TowerEmulator } from "../../../tools/local/patlite-emulator";

/**
 * The PATLITE protocols byte for byte, from the manuals' examples and PATLITE's own sample client
 * (fixtures and sources: test/fixtures/contracts/README.md): alertline's codec writes the
 * documented bytes, the emulator answers them as a tower does, and NAKs what a tower refuses.
 */

interface Example {
    readonly what: string;
    readonly command: string;
    readonly answer?: string;
    readonly answerPrefix?: string;
    readonly after?: string;
    readonly signal?: SignalSpec;
    readonly detail?: La6Detail;
}
interface ProtocolFixture {
    readonly ack: string;
    readonly nak: string;
    readonly examples: Example[];
    readonly refused: Example[];
    readonly commands?: Record<string, number>;
}

const CONTRACTS = join(__dirname, "../../fixtures/contracts/patlite");
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(CONTRACTS, name), "utf8")) as T;
const phn = fixture<ProtocolFixture & { bits: Record<string, number> }>("phn.json");
const pns = fixture<ProtocolFixture & { lampValues: Record<string, number>; buzzerValues: { stop: number; patterns: number[]; noChange: number } }>("pns-nh.json");
const la6 = fixture<ProtocolFixture & { colors: Record<string, number>; flash: number[]; buzzer: { stop: number; patterns: number[] } }>("la6.json");
const byProtocol: [TowerProtocol, ProtocolFixture][] = [
    ["phn", phn],
    ["pns", pns],
    ["la6", la6],
];

const emulators: TowerEmulator[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(emulators.splice(0).map((e) => e.close()));
});

/** Sends `bytes` on one connection and resolves with what the tower sent once `length` bytes came (or 2 s passed). */
async function exchange(emulator: TowerEmulator, bytes: Buffer, length: number): Promise<Buffer> {
    const socket = net.connect(emulator.port, emulator.host);
    sockets.push(socket);
    let received = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
    });
    const done = new Promise<void>((resolve) => {
        socket.on("data", (chunk: Buffer) => {
            received = Buffer.concat([received, chunk]);
            if (received.length >= length) resolve();
        });
        setTimeout(resolve, 2000);
    });
    socket.write(bytes);
    await done;
    socket.end();
    return received;
}

describe("alertline writes the documented bytes", () => {
    it("PHN, PNS and LA6 examples, clear and status requests", () => {
        for (const [protocol, spec] of byProtocol) {
            for (const example of spec.examples) {
                if (example.signal) expect(toHex(encodeSignal(protocol, toSignal(example.signal))), `${protocol}: ${example.what}`).toBe(example.command);
                if (example.detail) expect(toHex(encodeLa6Detail(example.detail)), `${protocol}: ${example.what}`).toBe(example.command);
            }
            expect(toHex(ackReply(protocol))).toBe(spec.ack);
            expect(toHex(nakReply(protocol))).toBe(spec.nak);
        }
        expect(toHex(encodeStatusRead("phn"))).toBe(phn.examples.find((e) => e.what.startsWith("read"))!.command);
        expect(toHex(encodeClear("pns"))).toBe(pns.examples.find((e) => e.what === "clear")!.command);
        expect(toHex(encodeStatusRead("pns"))).toBe(pns.examples.find((e) => e.what.startsWith("status"))!.command);
        expect(toHex(encodeClear("la6"))).toBe(la6.examples.find((e) => e.what === "clear")!.command);
        expect(toHex(encodeStatusRead("la6"))).toBe(la6.examples.find((e) => e.what.startsWith("status"))!.command);
    });

    it("PHN puts each lamp and buzzer pattern on the sample client's bit", () => {
        const cases: [SignalSpec, string][] = [
            [{ red: "on" }, "redOn"],
            [{ amber: "on" }, "amberOn"],
            [{ green: "on" }, "greenOn"],
            [{ buzzer: 1 }, "buzzer1"],
            [{ buzzer: 2 }, "buzzer2"],
            [{ red: "flash1" }, "redFlash"],
            [{ amber: "flash1" }, "amberFlash"],
            [{ green: "flash2" }, "greenFlash"],
        ];
        for (const [signal, bit] of cases) expect([...encodeSignal("phn", toSignal(signal))], bit).toEqual([0x57, phn.bits[bit]]);
    });
});

describe("the emulator answers the documented commands as a tower does", () => {
    for (const [protocol, spec] of byProtocol) {
        for (const example of spec.examples) {
            it(`${protocol}: ${example.what}`, async () => {
                const tower = await startTowerEmulator({ protocol });
                emulators.push(tower);
                if (example.after) expect(toHex(await exchange(tower, fromHex(example.after), fromHex(spec.ack).length))).toBe(spec.ack);
                const expected = example.answer ?? example.answerPrefix!;
                const answer = await exchange(tower, fromHex(example.command), fromHex(expected).length);
                if (example.answer) expect(toHex(answer)).toBe(example.answer);
                else expect(toHex(answer.subarray(0, fromHex(expected).length))).toBe(expected);
            });
        }
    }

    it("la6: the status answer after the example reports tiers 1, 2, 4, 5 lit and buzzer 11", async () => {
        const tower = await startTowerEmulator({ protocol: "la6" });
        emulators.push(tower);
        await exchange(tower, fromHex(la6.examples[0].command), 1);
        const answer = await exchange(tower, fromHex("41 42 47 00 00 00"), 15);
        expect(answer).toHaveLength(15);
        expect([...answer.subarray(9, 14)].map((pattern) => pattern !== 0)).toEqual([true, true, false, true, true]);
        expect(answer[14]).toBe(11);
    });
});

describe("the emulator refuses what a tower refuses", () => {
    for (const [protocol, spec] of byProtocol) {
        for (const example of spec.refused) {
            it(`${protocol}: ${example.what} → NAK, nothing changes`, async () => {
                const tower = await startTowerEmulator({ protocol });
                emulators.push(tower);
                expect(toHex(await exchange(tower, fromHex(example.command), fromHex(example.answer!).length))).toBe(example.answer);
                expect(tower.state()).toEqual(toSignal({}));
            });
        }
    }

    /** What readCommand makes of an S/D command whose data byte `index` is `value` (the others valid). */
    const withByte = (protocol: "pns" | "la6", index: number, value: number) => {
        const base = protocol === "pns" ? [0x58, 0x58, 0x53, 0x00, 0x00, 0x06, 0, 0, 0, 0, 0, 0] : [0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0];
        base[6 + index] = value;
        return readCommand(protocol, Buffer.from(base)).kind;
    };
    const allowed = (values: number[]) => (value: number) => (values.includes(value) ? "command" : "malformed");

    it("pns: takes exactly the documented lamp values (00–03, 09) and buzzer values (00–04, 09), every byte tried", () => {
        const lamps = allowed(Object.values(pns.lampValues));
        const buzzer = allowed([pns.buzzerValues.stop, ...pns.buzzerValues.patterns, pns.buzzerValues.noChange]);
        for (let value = 0; value < 256; value++) {
            for (let lamp = 0; lamp < 5; lamp++) expect(withByte("pns", lamp, value), `lamp ${lamp} = ${value}`).toBe(lamps(value));
            expect(withByte("pns", 5, value), `buzzer = ${value}`).toBe(buzzer(value));
        }
    });

    it("la6: takes exactly the documented colours (0–9), flash (0, 1) and buzzer patterns (0–11), every byte tried", () => {
        const colours = allowed(Object.values(la6.colors));
        const flash = allowed(la6.flash);
        const buzzer = allowed([la6.buzzer.stop, ...la6.buzzer.patterns]);
        for (let value = 0; value < 256; value++) {
            for (let tier = 0; tier < 5; tier++) expect(withByte("la6", tier, value), `tier ${tier + 1} = ${value}`).toBe(colours(value));
            expect(withByte("la6", 5, value), `flash = ${value}`).toBe(flash(value));
            expect(withByte("la6", 6, value), `buzzer = ${value}`).toBe(buzzer(value));
        }
    });

    it("phn: takes every operation byte after W (all eight bits are defined) and NAKs any other first byte but R", () => {
        for (let value = 0; value < 256; value++) {
            expect(readCommand("phn", Buffer.from([0x57, value])).kind).toBe("command");
            expect(readCommand("phn", Buffer.from([value, 0x00])).kind).toBe(value === 0x57 || value === 0x52 ? "command" : "malformed");
        }
    });

    it("pns and la6: NAK every data size but the documented one for each command", () => {
        for (const [protocol, spec, product] of [["pns", pns, "XX"], ["la6", la6, "AB"]] as const) {
            for (const [command, size] of Object.entries(spec.commands!)) {
                for (let wrong = 0; wrong <= 16; wrong++) {
                    const frame = Buffer.concat([Buffer.from(`${product}${command}\0`, "ascii"), Buffer.from([0, wrong]), Buffer.alloc(wrong)]);
                    expect(readCommand(protocol, frame).kind, `${protocol} ${command} with ${wrong} data bytes`).toBe(wrong === size ? "command" : "malformed");
                }
            }
        }
    });

    it("a header announcing more data than any command carries is NAKed at once, not waited for", async () => {
        const tower = await startTowerEmulator({ protocol: "pns" });
        emulators.push(tower);
        expect(toHex(await exchange(tower, fromHex("58 58 53 00 FF FF"), 1))).toBe(pns.nak);
    });
});
