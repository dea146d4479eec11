import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { encodeStatusRead, PatliteEncodingError } from "../../../../functions/shared/patlite/codec";
import { MAX_ANSWER_BYTES, sendCommand, sendSignal, type TowerAddress } from "../../../../functions/shared/patlite/client";
import { toSignal } from "../../../../functions/shared/patlite/signal";
import type { TowerProtocol } from "../../../../functions/shared/tower-config";
import { startTowerEmulator, type TowerEmulator } from "../../../../tools/local/patlite-emulator";
import { closedPort } from "../../closed-port";

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
    await Promise.all(opened.splice(0).map((server) => server.close()));
});

async function tower(protocol: TowerProtocol): Promise<TowerEmulator & { address: TowerAddress }> {
    const emulator = await startTowerEmulator({ protocol });
    opened.push(emulator);
    return Object.assign(emulator, { address: { host: emulator.host, port: emulator.port, protocol } });
}

/** A sleep that records and returns at once. */
function recordingSleep() {
    const sleeps: number[] = [];
    return { sleeps, sleep: async (ms: number) => void sleeps.push(ms) };
}


/** A TCP server that answers every command with fixed bytes. */
async function answering(bytes: Buffer): Promise<number> {
    const server = net.createServer((socket) => {
        socket.on("error", () => undefined);
        socket.once("data", () => socket.write(bytes));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    opened.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    return (server.address() as net.AddressInfo).port;
}

/** A TCP server that streams garbage at whoever connects, until they hang up. */
async function streaming(): Promise<{ port: number; sent: () => number }> {
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const server = net.createServer((socket) => {
        socket.on("error", () => undefined);
        const pump = () => {
            while (!socket.destroyed && socket.write(chunk)) sent += chunk.length;
        };
        socket.on("drain", pump);
        pump();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    opened.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    return { port: (server.address() as net.AddressInfo).port, sent: () => sent };
}

async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

const critical = toSignal({ red: "flash1", buzzer: 1 });

describe("sendSignal", () => {
    it("puts each protocol's tower into the signal and reports the ACK", async () => {
        for (const protocol of ["phn", "pns", "la6"] as const) {
            const t = await tower(protocol);
            const result = await sendSignal(t.address, critical);
            expect(result, protocol).toMatchObject({ ack: true, attempts: 1 });
            expect(result.error).toBeUndefined();
            expect(result.reply).toBe(protocol === "phn" ? "41 43 4B" : "06");
            expect(t.state()).toEqual(critical);
            expect(result.sent).toBe(t.commands.map((c) => [...c].map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ")).join());
        }
    });

    it("opens one connection per command and closes it", async () => {
        const t = await tower("pns");
        await sendSignal(t.address, critical);
        await sendSignal(t.address, toSignal({ green: "on" }));
        await until(() => t.connectionsOpen() === 0);
        expect(t.connectionsOpen()).toBe(0);
        expect(t.maxConcurrentConnections()).toBe(1);
        expect(t.commands).toHaveLength(2);
    });

    it("throws before connecting when the protocol cannot show the signal", async () => {
        const t = await tower("phn");
        await expect(sendSignal(t.address, toSignal({ blue: "on" }))).rejects.toThrow(PatliteEncodingError);
        expect(t.commands).toHaveLength(0);
    });
});

describe("sendCommand retries", () => {
    it("retries a NAK after the backoff and succeeds on the second attempt", async () => {
        const t = await tower("pns");
        t.failNext(1, "nak");
        const { sleeps, sleep } = recordingSleep();
        const result = await sendSignal(t.address, critical, { sleep });
        expect(result).toMatchObject({ ack: true, attempts: 2, reply: "06" });
        expect(sleeps).toEqual([250]);
        expect(t.commands).toHaveLength(2);
        expect(t.state()).toEqual(critical);
    });

    it("gives up on a silent tower after the given attempts, doubling the backoff, and names host:port", async () => {
        const t = await tower("phn");
        t.failNext(3, "silent");
        const { sleeps, sleep } = recordingSleep();
        const result = await sendSignal(t.address, critical, { sleep, timeoutMs: 40, attempts: 3 });
        expect(result.ack).toBe(false);
        expect(result.attempts).toBe(3);
        expect(result.error).toBe(`127.0.0.1:${t.port} sent no answer within 40 ms; gave up after 3 attempts`);
        expect(sleeps).toEqual([250, 500]);
        expect(t.commands).toHaveLength(3);
    });

    it("retries a connection the tower closes without answering", async () => {
        const t = await tower("la6");
        t.failNext(2, "close");
        const { sleeps, sleep } = recordingSleep();
        const result = await sendSignal(t.address, critical, { sleep, backoffMs: 10 });
        expect(result).toMatchObject({ ack: true, attempts: 3 });
        expect(sleeps).toEqual([10, 20]);
    });

    it("reports NAK on every attempt with the last answer", async () => {
        const t = await tower("phn");
        t.failNext(2, "nak");
        const result = await sendSignal(t.address, critical, { attempts: 2, sleep: recordingSleep().sleep });
        expect(result).toMatchObject({ ack: false, attempts: 2, reply: "4E 41 4B" });
        expect(result.error).toBe(`127.0.0.1:${t.port} answered NAK (4E 41 4B); gave up after 2 attempts`);
    });

    it("reports a refused connection with host:port", async () => {
        const port = await closedPort();
        const { sleeps, sleep } = recordingSleep();
        const result = await sendSignal({ host: "127.0.0.1", port, protocol: "pns" }, critical, { sleep });
        expect(result.ack).toBe(false);
        expect(result.attempts).toBe(3);
        expect(result.error).toMatch(new RegExp(`^could not connect to 127\\.0\\.0\\.1:${port}: connection refused \\(ECONNREFUSED\\)`));
        expect(result.reply).toBeUndefined();
        expect(sleeps).toEqual([250, 500]);
    });

    it("does not take an answer that is neither ACK nor NAK", async () => {
        const port = await answering(Buffer.from([0x06]));
        const result = await sendSignal({ host: "127.0.0.1", port, protocol: "phn" }, critical, { attempts: 1, timeoutMs: 200 });
        // 06 is a PNS ACK; a PHN tower answers 3 bytes, so this one never completes its answer.
        expect(result).toMatchObject({ ack: false, attempts: 1, reply: "06" });
        expect(result.error).toBe(`127.0.0.1:${port} sent no complete answer (got 06) within 200 ms; gave up after 1 attempt`);
        const garbled = await answering(Buffer.from("XYZ"));
        const second = await sendSignal({ host: "127.0.0.1", port: garbled, protocol: "phn" }, critical, { attempts: 1 });
        expect(second.error).toBe(`127.0.0.1:${garbled} gave an answer that is neither ACK nor NAK: 58 59 5A; gave up after 1 attempt`);
    });

    it("reads a peer that streams bytes no further than MAX_ANSWER_BYTES and reports it in one short line", async () => {
        const peer = await streaming();
        const started = Date.now();
        const result = await sendSignal({ host: "127.0.0.1", port: peer.port, protocol: "pns" }, critical, { attempts: 3, timeoutMs: 3000, sleep: async () => undefined });
        // Dropped at once, not after the 3 s timeout of each attempt.
        expect(Date.now() - started).toBeLessThan(2000);
        expect(result.ack).toBe(false);
        expect(result.error).toMatch(new RegExp(`^127\\.0\\.0\\.1:${peer.port} answered \\d+ bytes of something that is not PNS \\(NH series\\) \\(starts (5A ){16}…\\); check that the tower, and nothing else, listens on that port; gave up after 3 attempts$`));
        expect(result.error!.length).toBeLessThan(300);
        expect(result.reply!.split(" ").length).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
        expect(peer.sent()).toBeGreaterThan(MAX_ANSWER_BYTES);
    });

    it("returns, without connecting, for an unusable address or options", async () => {
        expect(await sendCommand({ host: "127.0.0.1", port: 0, protocol: "pns" }, Buffer.from([1]))).toMatchObject({
            ack: false,
            attempts: 0,
            error: expect.stringMatching(/port must be 1–65535/),
        });
        expect((await sendCommand({ host: "", port: 10000, protocol: "pns" }, Buffer.from([1]))).error).toMatch(/host is empty/);
        expect((await sendCommand({ host: "h", port: 10000, protocol: "xyz" as never }, Buffer.from([1]))).error).toMatch(/protocol "xyz" is not one of phn, pns, la6/);
        expect((await sendCommand({ host: "h", port: 10000, protocol: "pns" }, Buffer.from([1]), { attempts: 0 })).error).toMatch(/attempts must be/);
    });
});

describe("status reads", () => {
    it("reads the state back: PNS six bytes, PHN R and the byte", async () => {
        const pns = await tower("pns");
        await sendSignal(pns.address, toSignal({ red: "on", amber: "flash1", green: "flash2", buzzer: 4 }));
        expect(await sendCommand(pns.address, encodeStatusRead("pns"))).toMatchObject({ ack: true, reply: "01 02 03 00 00 04" });
        const phn = await tower("phn");
        await sendSignal(phn.address, toSignal({ red: "on", amber: "flash1", green: "on", buzzer: 2 }));
        expect(await sendCommand(phn.address, encodeStatusRead("phn"))).toMatchObject({ ack: true, reply: "52 55" });
        const la6 = await tower("la6");
        await sendSignal(la6.address, critical);
        expect(await sendCommand(la6.address, encodeStatusRead("la6"))).toMatchObject({ ack: true, reply: "00 00 00 00 00 00 00 00 00 02 00 00 00 00 01" });
    });
});

describe("retryAnswers: false (the operator CLI)", () => {
    it("stops at a NAK after one attempt and says so; the default still retries it", async () => {
        const t = await tower("pns");
        t.failNext(3, "nak");
        const cli = await sendSignal(t.address, critical, { retryAnswers: false, sleep: recordingSleep().sleep });
        expect(cli).toMatchObject({ ack: false, attempts: 1, reply: "15", answered: "nak" });
        expect(cli.error).toBe(`127.0.0.1:${t.port} answered NAK (15); not retried (an answer, not silence)`);
        const dispatcher = await sendSignal(t.address, critical, { attempts: 3, sleep: recordingSleep().sleep });
        expect(dispatcher).toMatchObject({ ack: true, attempts: 3 });
        expect(dispatcher.answered).toBeUndefined();
    });

    it("does not wait out the timeout for an answer another protocol gives", async () => {
        const phn = await tower("phn");
        const started = Date.now();
        const result = await sendCommand({ ...phn.address, protocol: "pns" }, encodeStatusRead("pns"), { retryAnswers: false, timeoutMs: 3000 });
        expect(Date.now() - started).toBeLessThan(1000);
        expect(result).toMatchObject({ ack: false, attempts: 1, reply: "4E 41 4B", answered: "foreign" });
        expect(result.error).toBe(`127.0.0.1:${phn.port} answered 4E 41 4B, which is not a PNS (NH series) answer; not retried (an answer, not silence)`);
        expect(phn.commands).toHaveLength(1);
    });

    it("still retries silence", async () => {
        const t = await tower("phn");
        t.failNext(1, "silent");
        const { sleeps, sleep } = recordingSleep();
        const result = await sendSignal(t.address, critical, { retryAnswers: false, timeoutMs: 200, sleep });
        expect(result).toMatchObject({ ack: true, attempts: 2 });
        expect(sleeps).toEqual([250]);
    });
});
