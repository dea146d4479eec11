import * as net from "node:net";
import { parseArgs } from "node:util";
import { ackReply, nakReply, toHex } from "../../functions/shared/patlite/codec";
import { describeLa6, LA6_DARK, LA6_LAMP_COLORS, LA6_PRODUCT, la6StatusReply, readLa6DetailData, type La6Detail } from "../../functions/shared/patlite/la6";
import { PHN_READ, PHN_WRITE, phnSignalFromByte } from "../../functions/shared/patlite/phn";
import { applyPnsUpdate, NH_PRODUCT, PNS_HEADER_LENGTH, pnsStateBytes, readPnsFrame, readPnsUpdate } from "../../functions/shared/patlite/pns";
import { DARK, describeSignal, LAMPS, sameSignal, type LampMode, type TowerSignal } from "../../functions/shared/patlite/signal";
import { TOWER_PROTOCOLS, type TowerProtocol } from "../../functions/shared/tower-config";

/**
 * A PATLITE tower on a TCP port, for tests and `npm start`: speaks PHN, PNS (NH series) or PNS
 * for LA6-POE byte for byte, keeps the state, answers ACK/NAK as the manuals say, NAKs malformed
 * commands, takes at most 8 connections at once (a 9th is closed at once), and records every
 * command it receives.
 *
 * What it does where the manuals are silent (unconfirmed against real towers):
 * - a 9th simultaneous connection is accepted and closed at once without a byte; a real tower may
 *   instead leave it unaccepted until a slot frees;
 * - a command it cannot parse, an unknown command identifier, a wrong data size, a value out of
 *   range or a non-zero "empty" byte in a PNS header is answered NAK and the bytes received so far
 *   on that connection are dropped (the stream resynchronises on the next command);
 * - a half-received command waits for its remaining bytes as long as the connection stays open
 *   (PATLITE's converters NAK after 5 s between bytes; not modelled);
 * - PHN `R` answers with the operation byte last written, as written;
 * - LA6 commands other than `D`, `C` and `G` (`S`, `T`, `M`, `P`, `B`, `E`) are answered NAK,
 *   where a real LA6 would carry them out; alertline never sends them.
 */

export interface TowerEmulator {
    readonly host: string;
    readonly port: number;
    readonly protocol: TowerProtocol;
    /**
     * What the tower shows. For LA6, tier k lit in any colour counts as lamp k (see
     * {@link TowerEmulator.la6Detail} for the colours).
     */
    state(): TowerSignal;
    /** LA6 only: tier colours, flash and buzzer as last set (all off for other protocols). */
    la6Detail(): La6Detail;
    /** Every command received, malformed ones included, in order. */
    readonly commands: Buffer[];
    connectionsOpen(): number;
    /** The most connections that were open at the same time (refused ones not counted). */
    maxConcurrentConnections(): number;
    /** Connections closed at once because 8 were already open. */
    refusedConnections(): number;
    /**
     * The next `count` well-formed commands fail instead of taking effect: "nak" answers NAK,
     * "silent" answers nothing (the connection stays open), "close" closes the connection unanswered.
     */
    failNext(count: number, how: "nak" | "silent" | "close"): void;
    close(): Promise<void>;
}

export interface TowerEmulatorOptions {
    readonly protocol: TowerProtocol;
    /** Default 127.0.0.1. */
    readonly host?: string;
    /** Default 0 (any free port). */
    readonly port?: number;
    /** Shown in log lines. Default "<protocol>:<port>". */
    readonly name?: string;
    /** Gets one line per state change, e.g. "[tokyo-ops] red:flash1 buzzer:1". */
    readonly log?: (line: string) => void;
}

/** Towers take at most this many connections at once. */
export const TOWER_MAX_CONNECTIONS = 8;
/** Longest command the emulator waits for; anything longer is malformed. */
const MAX_COMMAND_BYTES = 64;

/** What one command does: the answer to send and, when accepted, the new state. */
type Step =
    | { readonly kind: "incomplete" }
    | { readonly kind: "malformed"; readonly reason: string }
    | { readonly kind: "command"; readonly length: number; readonly reply: (state: EmulatorState) => Buffer; readonly apply?: (state: EmulatorState) => EmulatorState };

interface EmulatorState {
    /** PHN: the operation byte last written. */
    readonly phnByte: number;
    /** PNS (NH series). */
    readonly signal: TowerSignal;
    /** LA6. */
    readonly la6: La6Detail;
}

const INITIAL: EmulatorState = { phnByte: 0, signal: DARK, la6: LA6_DARK };

/** What the next bytes on a connection mean, for a tower of this protocol. Pure; exported for tests. */
export function readCommand(protocol: TowerProtocol, bytes: Buffer): Step {
    if (bytes.length === 0) return { kind: "incomplete" };
    return protocol === "phn" ? readPhn(bytes) : readPns(protocol, bytes);
}

function readPhn(bytes: Buffer): Step {
    if (bytes[0] === PHN_READ) return { kind: "command", length: 1, reply: (state) => Buffer.from([PHN_READ, state.phnByte]) };
    if (bytes[0] !== PHN_WRITE) return { kind: "malformed", reason: `first byte ${toHex(bytes.subarray(0, 1))} is neither W (57) nor R (52)` };
    if (bytes.length < 2) return { kind: "incomplete" };
    const byte = bytes[1];
    return { kind: "command", length: 2, reply: () => ackReply("phn"), apply: (state) => ({ ...state, phnByte: byte }) };
}

function readPns(protocol: "pns" | "la6", bytes: Buffer): Step {
    const product = protocol === "pns" ? NH_PRODUCT : LA6_PRODUCT;
    const expected = Buffer.from(product, "ascii");
    const head = bytes.subarray(0, Math.min(2, bytes.length));
    if (!expected.subarray(0, head.length).equals(head)) {
        return { kind: "malformed", reason: `product category ${toHex(head)} is not ${product} (${toHex(expected)})` };
    }
    if (bytes.length >= PNS_HEADER_LENGTH && bytes.readUInt16BE(4) > MAX_COMMAND_BYTES) {
        return { kind: "malformed", reason: `data size ${bytes.readUInt16BE(4)} is more than any command carries` };
    }
    const frame = readPnsFrame(bytes);
    if (!frame) return { kind: "incomplete" };
    if (frame.empty !== 0) return { kind: "malformed", reason: `header byte 4 is ${toHex(Buffer.from([frame.empty]))}, not 00` };
    const ack = (): Buffer => ackReply(protocol);
    const sizeIs = (size: number): Step | undefined =>
        frame.data.length === size ? undefined : { kind: "malformed", reason: `command ${frame.command} carries ${size} data bytes, got ${frame.data.length}` };
    try {
        if (protocol === "pns") {
            switch (frame.command) {
                case "S": {
                    const update = sizeIs(6) ?? readPnsUpdate(frame.data);
                    if ("kind" in update) return update;
                    return { kind: "command", length: frame.length, reply: ack, apply: (state) => ({ ...state, signal: applyPnsUpdate(state.signal, update) }) };
                }
                case "C":
                    return sizeIs(0) ?? { kind: "command", length: frame.length, reply: ack, apply: (state) => ({ ...state, signal: DARK }) };
                case "G":
                    return sizeIs(0) ?? { kind: "command", length: frame.length, reply: (state) => Buffer.from(pnsStateBytes(state.signal)) };
            }
        } else {
            switch (frame.command) {
                case "D": {
                    const detail = sizeIs(7) ?? readLa6DetailData(frame.data);
                    if ("kind" in detail) return detail;
                    return { kind: "command", length: frame.length, reply: ack, apply: (state) => ({ ...state, la6: detail }) };
                }
                case "C":
                    return sizeIs(0) ?? { kind: "command", length: frame.length, reply: ack, apply: (state) => ({ ...state, la6: LA6_DARK }) };
                case "G":
                    return sizeIs(0) ?? { kind: "command", length: frame.length, reply: (state) => la6StatusReply(state.la6) };
            }
        }
    } catch (error) {
        return { kind: "malformed", reason: error instanceof Error ? error.message : String(error) };
    }
    return { kind: "malformed", reason: `command identifier ${JSON.stringify(frame.command)} is not one this emulator carries out` };
}

/** The state as a TowerSignal; for LA6 tier k lit in any colour counts as lamp k. */
function shownState(protocol: TowerProtocol, state: EmulatorState): TowerSignal {
    if (protocol === "phn") return phnSignalFromByte(state.phnByte);
    if (protocol === "pns") return state.signal;
    const mode = (index: number): LampMode => (state.la6.colors[index] === 0 ? "off" : state.la6.flash ? "flash1" : "on");
    const [red, amber, green, blue, white] = LAMPS.map((_, index) => mode(index));
    return { red, amber, green, blue, white, buzzer: state.la6.buzzer };
}

/** One line for the log: the signal, or for an LA6 whose tiers are not in lamp colours, the tiers. */
function describeState(protocol: TowerProtocol, state: EmulatorState): string {
    if (protocol !== "la6") return describeSignal(shownState(protocol, state));
    const lampColours = state.la6.colors.every((color, index) => color === 0 || color === LA6_LAMP_COLORS[LAMPS[index]]);
    return lampColours ? describeSignal(shownState(protocol, state)) : describeLa6(state.la6);
}

function sameState(a: EmulatorState, b: EmulatorState): boolean {
    return (
        a.phnByte === b.phnByte &&
        sameSignal(a.signal, b.signal) &&
        a.la6.flash === b.la6.flash &&
        a.la6.buzzer === b.la6.buzzer &&
        a.la6.colors.every((color, index) => color === b.la6.colors[index])
    );
}

/** Starts an emulated tower; resolves once it listens. */
export async function startTowerEmulator(options: TowerEmulatorOptions): Promise<TowerEmulator> {
    const { protocol } = options;
    if (!(TOWER_PROTOCOLS as readonly string[]).includes(protocol)) throw new Error(`unknown tower protocol ${JSON.stringify(protocol)}; use ${TOWER_PROTOCOLS.join(", ")}`);
    const host = options.host ?? "127.0.0.1";
    let state = INITIAL;
    const commands: Buffer[] = [];
    const sockets = new Set<net.Socket>();
    let open = 0;
    let maxOpen = 0;
    let refused = 0;
    const failures: ("nak" | "silent" | "close")[] = [];
    let name = options.name;

    const handle = (socket: net.Socket): void => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => undefined); // a client that resets is its own business
        if (open >= TOWER_MAX_CONNECTIONS) {
            refused++;
            socket.destroy();
            return;
        }
        open++;
        maxOpen = Math.max(maxOpen, open);
        // A connection stops counting when the client closes its side (or it is gone altogether).
        let counted = true;
        const release = (): void => {
            if (counted) open--;
            counted = false;
        };
        socket.on("end", release);
        socket.on("close", release);
        socket.setNoDelay(true);
        let pending = Buffer.alloc(0);
        socket.on("data", (chunk: Buffer) => {
            pending = Buffer.concat([pending, chunk]);
            while (pending.length > 0 && !socket.destroyed) {
                const step = readCommand(protocol, pending);
                if (step.kind === "incomplete") {
                    if (pending.length > MAX_COMMAND_BYTES) {
                        commands.push(pending);
                        pending = Buffer.alloc(0);
                        socket.write(nakReply(protocol));
                    }
                    return;
                }
                if (step.kind === "malformed") {
                    commands.push(pending);
                    pending = Buffer.alloc(0);
                    socket.write(nakReply(protocol));
                    return;
                }
                const command = Buffer.from(pending.subarray(0, step.length));
                pending = pending.subarray(step.length);
                commands.push(command);
                const failure = failures.shift();
                if (failure === "nak") {
                    socket.write(nakReply(protocol));
                    continue;
                }
                if (failure === "silent") continue;
                if (failure === "close") {
                    socket.destroy();
                    return;
                }
                if (step.apply) {
                    const next = step.apply(state);
                    const changed = !sameState(state, next);
                    state = next;
                    if (changed) options.log?.(`[${name}] ${describeState(protocol, state)}`);
                }
                socket.write(step.reply(state));
            }
        });
    };

    const server = net.createServer(handle);
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, host, () => {
            server.off("error", reject);
            resolve();
        });
    });
    const port = (server.address() as net.AddressInfo).port;
    name ??= `${protocol}:${port}`;

    return {
        host,
        port,
        protocol,
        commands,
        state: () => shownState(protocol, state),
        la6Detail: () => state.la6,
        connectionsOpen: () => open,
        maxConcurrentConnections: () => maxOpen,
        refusedConnections: () => refused,
        failNext(count, how) {
            if (!Number.isInteger(count) || count < 0) throw new Error(`failNext needs a whole number of commands, got ${count}`);
            for (let i = 0; i < count; i++) failures.push(how);
        },
        close: () =>
            new Promise<void>((resolve, reject) => {
                for (const socket of sockets) socket.destroy();
                server.close((error) => (error ? reject(error) : resolve()));
            }),
    };
}

/** `npx tsx tools/local/patlite-emulator.ts --protocol pns --port 10000 --name desk`: runs one tower until Ctrl-C. */
async function main(): Promise<number> {
    const usage = "usage: npx tsx tools/local/patlite-emulator.ts --protocol phn|pns|la6 [--port 10000] [--host 127.0.0.1] [--name desk]";
    let values: { protocol?: string; port?: string; host?: string; name?: string; help?: boolean };
    try {
        ({ values } = parseArgs({
            options: { protocol: { type: "string" }, port: { type: "string", default: "10000" }, host: { type: "string" }, name: { type: "string" }, help: { type: "boolean" } },
        }));
    } catch (error) {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(`${usage}\n`);
        return 0;
    }
    if (!(TOWER_PROTOCOLS as readonly (string | undefined)[]).includes(values.protocol)) {
        process.stderr.write(`--protocol must be one of ${TOWER_PROTOCOLS.join(", ")}\n${usage}\n`);
        return 2;
    }
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(`--port must be 0–65535, got ${values.port}\n${usage}\n`);
        return 2;
    }
    const emulator = await startTowerEmulator({
        protocol: values.protocol as TowerProtocol,
        port,
        host: values.host,
        name: values.name,
        log: (line) => process.stdout.write(`${line}\n`),
    });
    const name = values.name ?? `${emulator.protocol}:${emulator.port}`;
    process.stdout.write(`[${name}] ${emulator.protocol} tower listening on ${emulator.host}:${emulator.port} (Ctrl-C stops it)\n`);
    await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
    });
    await emulator.close();
    return 0;
}

if (typeof require !== "undefined" && require.main === module) {
    main().then(
        (code) => (process.exitCode = code),
        (error) => {
            process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
