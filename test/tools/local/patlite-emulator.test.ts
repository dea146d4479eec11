import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sendSignal } from "../../../functions/shared/patlite/client";
import { toSignal } from "../../../functions/shared/patlite/signal";
import type { TowerProtocol } from "../../../functions/shared/tower-config";
import { readCommand, startTowerEmulator, TOWER_MAX_CONNECTIONS, type TowerEmulator } from "../../../tools/local/patlite-emulator";

const root = path.resolve(__dirname, "..", "..", "..");
const emulators: TowerEmulator[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function tower(protocol: TowerProtocol, log?: (line: string) => void, name?: string): Promise<TowerEmulator> {
    const emulator = await startTowerEmulator({ protocol, log, name });
    emulators.push(emulator);
    return emulator;
}

/** A raw client: connects, and collects what the tower sends until it closes. */
async function connect(emulator: TowerEmulator): Promise<{ socket: net.Socket; received: () => Buffer; closed: Promise<void> }> {
    const socket = net.connect(emulator.port, emulator.host);
    sockets.push(socket);
    socket.on("error", () => undefined);
    let received = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
    });
    return { socket, received: () => received, closed };
}

/** Sends bytes on a fresh connection and returns the answer once `length` bytes came. */
async function exchange(emulator: TowerEmulator, bytes: number[], length: number): Promise<Buffer> {
    const client = await connect(emulator);
    client.socket.write(Buffer.from(bytes));
    await until(() => client.received().length >= length);
    client.socket.end();
    return client.received();
}

async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

const PNS_MANUAL = [0x58, 0x58, 0x53, 0x00, 0x00, 0x06, 0x01, 0x02, 0x03, 0x00, 0x00, 0x04];

describe("the emulated tower speaks each protocol", () => {
    it("PNS: ACKs the manual's write with 06 and shows red on, amber flash 1, green flash 2, buzzer 4", async () => {
        const lines: string[] = [];
        const t = await tower("pns", (line) => lines.push(line), "desk");
        expect([...(await exchange(t, PNS_MANUAL, 1))]).toEqual([0x06]);
        expect(t.state()).toEqual(toSignal({ red: "on", amber: "flash1", green: "flash2", buzzer: 4 }));
        expect(t.commands.map((c) => [...c])).toEqual([PNS_MANUAL]);
        expect(lines).toEqual(["[desk] red:on amber:flash1 green:flash2 buzzer:4"]);
    });

    it("PHN: ACKs 57 55 with 41 43 4B and reads it back with R", async () => {
        const t = await tower("phn");
        expect([...(await exchange(t, [0x57, 0x55], 3))]).toEqual([0x41, 0x43, 0x4b]);
        expect(t.state()).toEqual(toSignal({ red: "on", amber: "flash1", green: "on", buzzer: 2 }));
        expect([...(await exchange(t, [0x52], 2))]).toEqual([0x52, 0x55]);
    });

    it("LA6: ACKs the detailed-control example and reports tiers in its log line", async () => {
        const lines: string[] = [];
        const t = await tower("la6", (line) => lines.push(line), "lab");
        expect([...(await exchange(t, [0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0x04, 0x06, 0x00, 0x09, 0x01, 0x00, 0x0b], 1))]).toEqual([0x06]);
        expect(t.la6Detail()).toEqual({ colors: [4, 6, 0, 9, 1], flash: false, buzzer: 11 });
        expect(lines).toEqual(["[lab] tier1:green tier2:blue tier4:white tier5:red buzzer:11"]);
        expect(t.state()).toEqual(toSignal({ red: "on", amber: "on", blue: "on", white: "on", buzzer: 11 }));
        expect([...(await exchange(t, [0x41, 0x42, 0x43, 0x00, 0x00, 0x00], 1))]).toEqual([0x06]);
        expect(t.la6Detail()).toEqual({ colors: [0, 0, 0, 0, 0], flash: false, buzzer: 0 });
        expect(lines[1]).toBe("[lab] dark");
    });

    it("PNS: leaves 09 lamps as they are, clears with C and reports the state with G", async () => {
        const t = await tower("pns");
        await exchange(t, PNS_MANUAL, 1);
        await exchange(t, [0x58, 0x58, 0x53, 0x00, 0x00, 0x06, 0x09, 0x00, 0x09, 0x01, 0x09, 0x09], 1);
        expect(t.state()).toEqual(toSignal({ red: "on", green: "flash2", blue: "on", buzzer: 4 }));
        expect([...(await exchange(t, [0x58, 0x58, 0x47, 0x00, 0x00, 0x00], 6))]).toEqual([0x01, 0x00, 0x03, 0x01, 0x00, 0x04]);
        expect([...(await exchange(t, [0x58, 0x58, 0x43, 0x00, 0x00, 0x00], 1))]).toEqual([0x06]);
        expect(t.state()).toEqual(toSignal({}));
    });

    it("takes several commands in one write, and a command split over several", async () => {
        const t = await tower("pns");
        const client = await connect(t);
        client.socket.write(Buffer.from([...PNS_MANUAL, 0x58, 0x58, 0x43, 0x00, 0x00, 0x00]));
        await until(() => client.received().length >= 2);
        expect([...client.received()]).toEqual([0x06, 0x06]);
        client.socket.write(Buffer.from(PNS_MANUAL.slice(0, 4)));
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(client.received()).toHaveLength(2);
        client.socket.write(Buffer.from(PNS_MANUAL.slice(4)));
        await until(() => client.received().length >= 3);
        expect([...client.received()]).toEqual([0x06, 0x06, 0x06]);
        expect(t.commands).toHaveLength(3);
    });

    it("logs only real changes", async () => {
        const lines: string[] = [];
        const t = await tower("pns", (line) => lines.push(line), "desk");
        await exchange(t, PNS_MANUAL, 1);
        await exchange(t, PNS_MANUAL, 1);
        expect(lines).toHaveLength(1);
        expect(t.commands).toHaveLength(2);
    });
});

describe("malformed commands get a NAK and change nothing", () => {
    const cases: [TowerProtocol, string, number[], number[]][] = [
        ["pns", "a lamp value of 05", [0x58, 0x58, 0x53, 0x00, 0x00, 0x06, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00], [0x15]],
        ["pns", "a buzzer value of 05", [0x58, 0x58, 0x53, 0x00, 0x00, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05], [0x15]],
        ["pns", "the LA6 product code", [0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0], [0x15]],
        ["pns", "a write with 5 data bytes", [0x58, 0x58, 0x53, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00], [0x15]],
        ["pns", "an unknown command", [0x58, 0x58, 0x5a, 0x00, 0x00, 0x00], [0x15]],
        ["pns", "a non-zero empty byte", [0x58, 0x58, 0x53, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00], [0x15]],
        ["phn", "a command other than W or R", [0x58, 0x01], [0x4e, 0x41, 0x4b]],
        ["la6", "a colour of 10", [0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0x0a, 0, 0, 0, 0, 0, 0], [0x15]],
        ["la6", "flash 2", [0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0x01, 0, 0, 0, 0, 2, 0], [0x15]],
        ["la6", "buzzer 12", [0x41, 0x42, 0x44, 0x00, 0x00, 0x07, 0x01, 0, 0, 0, 0, 0, 12], [0x15]],
        ["la6", "the NH product code", PNS_MANUAL, [0x15]],
    ];
    for (const [protocol, what, bytes, nak] of cases) {
        it(`${protocol}: ${what}`, async () => {
            const t = await tower(protocol);
            expect([...(await exchange(t, bytes, nak.length))]).toEqual(nak);
            expect(t.state()).toEqual(toSignal({}));
            expect(t.commands.map((c) => [...c])).toEqual([bytes]);
        });
    }

    it("reads commands as a pure function too", () => {
        expect(readCommand("pns", Buffer.from(PNS_MANUAL.slice(0, 7))).kind).toBe("incomplete");
        expect(readCommand("pns", Buffer.from([0x41])).kind).toBe("malformed");
        expect(readCommand("phn", Buffer.from([0x57])).kind).toBe("incomplete");
    });
});

describe("failures on demand", () => {
    it("NAKs, stays silent or closes for the next commands, then works again", async () => {
        const t = await tower("pns");
        t.failNext(1, "nak");
        t.failNext(1, "close");
        expect([...(await exchange(t, PNS_MANUAL, 1))]).toEqual([0x15]);
        const closing = await connect(t);
        closing.socket.write(Buffer.from(PNS_MANUAL));
        await closing.closed;
        expect(closing.received()).toHaveLength(0);
        t.failNext(1, "silent");
        const silent = await connect(t);
        silent.socket.write(Buffer.from(PNS_MANUAL));
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(silent.received()).toHaveLength(0);
        expect(t.state()).toEqual(toSignal({}));
        expect([...(await exchange(t, PNS_MANUAL, 1))]).toEqual([0x06]);
        expect(t.state()).toEqual(toSignal({ red: "on", amber: "flash1", green: "flash2", buzzer: 4 }));
        expect(t.commands).toHaveLength(4);
    });
});

describe("connection limit", () => {
    it("refuses a 9th simultaneous connection and reports the most that were open", async () => {
        const t = await tower("pns");
        const clients = [];
        for (let i = 0; i < TOWER_MAX_CONNECTIONS; i++) clients.push(await connect(t));
        await until(() => t.connectionsOpen() === TOWER_MAX_CONNECTIONS);
        expect(t.connectionsOpen()).toBe(8);
        const ninth = await connect(t);
        ninth.socket.write(Buffer.from(PNS_MANUAL));
        await ninth.closed;
        expect(ninth.received()).toHaveLength(0);
        expect(t.refusedConnections()).toBe(1);
        expect(t.maxConcurrentConnections()).toBe(8);
        expect(t.commands).toHaveLength(0);
        // a freed slot takes a new connection
        clients[0].socket.end();
        await until(() => t.connectionsOpen() === 7);
        expect([...(await exchange(t, PNS_MANUAL, 1))]).toEqual([0x06]);
        expect(t.maxConcurrentConnections()).toBe(8);
    });

    it("counts one connection at a time for a client that sends one command after another", async () => {
        const t = await tower("la6");
        const address = { host: t.host, port: t.port, protocol: "la6" as const };
        for (const red of ["on", "flash1", "off", "on"] as const) expect((await sendSignal(address, toSignal({ red }))).ack).toBe(true);
        expect(t.maxConcurrentConnections()).toBe(1);
    });
});

describe("run alone", () => {
    it("prints where it listens and each state change", async () => {
        const child = spawn(process.execPath, ["--import", "tsx", "tools/local/patlite-emulator.ts", "--protocol", "pns", "--port", "0", "--name", "desk"], {
            cwd: root,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        try {
            await until(() => /listening on 127\.0\.0\.1:\d+/.test(out));
            const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
            expect(out).toMatch(/^\[desk\] pns tower listening on 127\.0\.0\.1:\d+/);
            const result = await sendSignal({ host: "127.0.0.1", port, protocol: "pns" }, toSignal({ red: "flash1", buzzer: 1 }));
            expect(result.ack).toBe(true);
            await until(() => out.includes("[desk] red:flash1 buzzer:1"));
            expect(out.trim().split("\n")).toEqual([expect.stringMatching(/listening/), "[desk] red:flash1 buzzer:1"]);
        } finally {
            child.kill("SIGTERM");
        }
        expect(await exited).toBe(0);
    }, 15_000);
});
