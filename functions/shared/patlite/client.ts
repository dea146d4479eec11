import * as net from "node:net";
import { TOWER_PROTOCOLS, type TowerProtocol } from "../tower-config";
import { decodeReply, encodeSignal, replyComplete, replyForeign, toHex, type ReplyKind } from "./codec";
import { PROTOCOL_LABELS } from "./errors";
import type { TowerSignal } from "./signal";

/**
 * Sends one command to a PATLITE tower over TCP and reads its answer: one connection per attempt
 * (open, write, read the answer with a timeout, close), so a tower's 8 connection slots are never
 * held between commands. A NAK, a timeout, a refused or reset connection or an answer that makes no
 * sense is retried with a doubling backoff. Tower faults never throw: the result says `ack: false`
 * and `error` names the tower as host:port and what happened.
 */

export interface TowerAddress {
    readonly host: string;
    readonly port: number;
    readonly protocol: TowerProtocol;
}

export interface SendOptions {
    /** Upper bound for one attempt, connect to answer. Default {@link DEFAULT_TIMEOUT_MS}. */
    timeoutMs?: number;
    /** Attempts in all, the first included. Default {@link DEFAULT_ATTEMPTS}. */
    attempts?: number;
    /** Wait before the second attempt, doubling before each further one. Default {@link DEFAULT_BACKOFF_MS}. */
    backoffMs?: number;
    /** Waits the given milliseconds; injected so tests do not sleep. Default a `setTimeout` promise. */
    sleep?: (ms: number) => Promise<void>;
    /**
     * Whether a NAK or an answer that is not the protocol's is retried like silence. Default true
     * (the dispatcher's policy). false (the operator CLI): such an answer ends the call at once,
     * bytes that cannot start the protocol's answer end the attempt without waiting for the
     * timeout, and the result says `answered`; silence and connection faults are still retried.
     */
    retryAnswers?: boolean;
}

export interface SendResult {
    /** The tower acknowledged (for a status read: answered with data). */
    readonly ack: boolean;
    /** Attempts made (0 when the address itself was unusable). */
    readonly attempts: number;
    /** The command, as hex ("58 58 53 00 00 06 …"). */
    readonly sent: string;
    /** The last answer received, as hex, if any bytes came back. */
    readonly reply?: string;
    /** Why there was no ACK, naming host:port; absent on success. */
    readonly error?: string;
    /** With `retryAnswers: false` only: the tower answered, with a NAK or with bytes that are not the protocol's. */
    readonly answered?: "nak" | "foreign";
}

/**
 * Most bytes of an answer that are read. Every PATLITE answer is at most 13 bytes (an LA6 status
 * with its extra bytes); a peer that sends more is not speaking the protocol (something else on the
 * tower's port, or a device streaming garbage), and reading it without bound made reports of
 * hundreds of kilobytes of hex that SNS refused.
 */
export const MAX_ANSWER_BYTES = 64;
/** Bytes of a foreign answer quoted, as hex, in a report. */
const QUOTED_BYTES = 16;

/** "10.0.0.5:10000 answered 65536 bytes of something that is not PNS (NH series) (starts 48 54 54 50 …)". */
export function notProtocolAnswer(where: string, protocol: TowerProtocol, bytes: number, start: Buffer): string {
    const quoted = toHex(start.subarray(0, QUOTED_BYTES));
    return `${where} answered ${bytes} bytes of something that is not ${PROTOCOL_LABELS[protocol]} (starts ${quoted}${start.length > QUOTED_BYTES || bytes > QUOTED_BYTES ? " …" : ""}); check that the tower, and nothing else, listens on that port`;
}

export const DEFAULT_TIMEOUT_MS = 3000;
export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 250;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `payload` and reads the answer; never throws for tower faults. */
export async function sendCommand(address: TowerAddress, payload: Buffer, options: SendOptions = {}): Promise<SendResult> {
    const sent = toHex(payload);
    const invalid = invalidAddress(address) ?? invalidOptions(options);
    if (invalid) return { ack: false, attempts: 0, sent, error: invalid };
    const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const sleep = options.sleep ?? realSleep;
    let backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    const retryAnswers = options.retryAnswers ?? true;
    let last: AttemptOutcome = { kind: "unknown", error: "not attempted" };
    for (let attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1) {
            await sleep(backoff);
            backoff *= 2;
        }
        last = await attemptOnce(address, payload, timeoutMs, retryAnswers);
        if (last.kind === "ack") return { ack: true, attempts: attempt, sent, reply: toHex(last.reply!) };
        if (!retryAnswers && (last.kind === "nak" || last.kind === "unknown")) {
            return {
                ack: false,
                attempts: attempt,
                sent,
                ...(last.reply && last.reply.length > 0 ? { reply: toHex(last.reply) } : {}),
                error: `${last.error}; not retried (an answer, not silence)`,
                answered: last.kind === "nak" ? "nak" : "foreign",
            };
        }
    }
    return {
        ack: false,
        attempts,
        sent,
        ...(last.reply && last.reply.length > 0 ? { reply: toHex(last.reply) } : {}),
        error: `${last.error}; gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}`,
    };
}

/**
 * Puts the tower in exactly this state. Rejects with PatliteEncodingError, before any connection,
 * when the protocol cannot show the signal (blue on a PHN tower, buzzer 5 on an NH): that is a
 * configuration fault, not a tower fault. Everything the tower does is in the result.
 */
export async function sendSignal(address: TowerAddress, signal: TowerSignal, options?: SendOptions): Promise<SendResult> {
    return sendCommand(address, encodeSignal(address.protocol, signal), options);
}

/** "10.1.2.3:10000". */
export function towerEndpoint(address: Pick<TowerAddress, "host" | "port">): string {
    return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

interface AttemptOutcome {
    readonly kind: ReplyKind | "error";
    readonly reply?: Buffer;
    readonly error?: string;
}

/**
 * Longest wait for the tower's side of the close after ours. Waiting for it means the tower has seen
 * the connection end before the next attempt or command opens another: one connection at a time,
 * as the tower counts them.
 */
const CLOSE_GRACE_MS = 1000;

/** One connection; `waitForWhole` false settles as soon as the bytes cannot start the protocol's answer. */
function attemptOnce(address: TowerAddress, payload: Buffer, timeoutMs: number, waitForWhole: boolean): Promise<AttemptOutcome> {
    const where = towerEndpoint(address);
    return new Promise((resolve) => {
        let connected = false;
        let received = Buffer.alloc(0);
        /** Bytes the peer sent, of which at most MAX_ANSWER_BYTES are kept in `received`. */
        let seen = 0;
        let outcome: AttemptOutcome | undefined;
        const socket = new net.Socket();
        const settle = (result: AttemptOutcome, abort = false): void => {
            if (outcome) return;
            outcome = result;
            clearTimeout(timer);
            // A peer that streams would keep us reading through the close grace: drop it at once.
            if (!connected || socket.destroyed || abort) {
                socket.destroy();
                resolve(result);
                return;
            }
            // Close our side and wait for the tower's, so the tower has let go of the connection.
            const grace = setTimeout(() => socket.destroy(), Math.min(timeoutMs, CLOSE_GRACE_MS));
            socket.once("close", () => {
                clearTimeout(grace);
                resolve(result);
            });
            socket.end();
        };
        const timer = setTimeout(() => {
            settle({
                kind: "error",
                reply: received,
                error: connected
                    ? `${where} sent no ${received.length > 0 ? `complete answer (got ${toHex(received)})` : "answer"} within ${timeoutMs} ms`
                    : `could not connect to ${where} within ${timeoutMs} ms`,
            });
        }, timeoutMs);
        socket.setNoDelay(true);
        socket.on("connect", () => {
            connected = true;
            socket.write(payload);
        });
        socket.on("data", (chunk: Buffer) => {
            if (outcome) return;
            seen += chunk.length;
            if (received.length < MAX_ANSWER_BYTES) received = Buffer.concat([received, chunk.subarray(0, MAX_ANSWER_BYTES - received.length)]);
            if (seen > MAX_ANSWER_BYTES) {
                socket.pause();
                settle({ kind: "unknown", reply: received, error: notProtocolAnswer(where, address.protocol, seen, received) }, true);
                return;
            }
            if (!waitForWhole && replyForeign(address.protocol, received, payload)) {
                settle({ kind: "unknown", reply: received, error: `${where} answered ${toHex(received)}, which is not a ${PROTOCOL_LABELS[address.protocol]} answer` });
                return;
            }
            if (!replyComplete(address.protocol, received, payload)) return;
            const kind = decodeReply(address.protocol, received, payload);
            settle({
                kind,
                reply: received,
                error: kind === "nak" ? `${where} answered NAK (${toHex(received)})` : kind === "unknown" ? `${where} gave an answer that is neither ACK nor NAK: ${toHex(received)}` : undefined,
            });
        });
        socket.on("error", (error: NodeJS.ErrnoException) => {
            settle({ kind: "error", reply: received, error: `${connected ? "connection to" : "could not connect to"} ${where}: ${describeSocketError(error)}` });
        });
        socket.on("close", () => {
            settle({
                kind: "error",
                reply: received,
                error: `${where} closed the connection before answering${received.length > 0 ? ` (got ${toHex(received)})` : ""}`,
            });
        });
        try {
            socket.connect({ host: address.host, port: address.port });
        } catch (error) {
            settle({ kind: "error", error: `could not connect to ${where}: ${error instanceof Error ? error.message : String(error)}` });
        }
    });
}

/** Socket error codes in words, with the likely fix where there is one. */
const SOCKET_ERRORS: Record<string, readonly [string, string?]> = {
    ECONNREFUSED: ["connection refused", "nothing listens on that port; check the tower's socket port setting"],
    ECONNRESET: ["connection reset by the tower"],
    EPIPE: ["connection closed by the tower while sending"],
    EHOSTUNREACH: ["host unreachable", "check the VPN and the site's routes"],
    ENETUNREACH: ["network unreachable", "check the VPN and the site's routes"],
    ETIMEDOUT: ["connection timed out", "check the VPN and the site's routes"],
    ENOTFOUND: ["host name not found"],
    EAI_AGAIN: ["host name lookup failed"],
};

function describeSocketError(error: NodeJS.ErrnoException): string {
    const known = error.code ? SOCKET_ERRORS[error.code] : undefined;
    if (!known) return error.message;
    const [what, hint] = known;
    return `${what} (${error.code})${hint ? ` - ${hint}` : ""}`;
}

function invalidAddress(address: TowerAddress): string | undefined {
    if (!address || typeof address.host !== "string" || address.host.trim() === "") return "invalid tower address: host is empty; give the tower's IP address";
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) {
        return `invalid tower address ${address.host}:${String(address.port)}: the port must be 1–65535 (towers listen on 10000 by default)`;
    }
    if (!(TOWER_PROTOCOLS as readonly string[]).includes(address.protocol)) {
        return `invalid tower address ${towerEndpoint(address)}: protocol ${JSON.stringify(address.protocol)} is not one of ${TOWER_PROTOCOLS.join(", ")}`;
    }
    return undefined;
}

function invalidOptions(options: SendOptions): string | undefined {
    const { attempts, timeoutMs, backoffMs } = options;
    if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1)) return `attempts must be a whole number of at least 1, got ${attempts}`;
    if (timeoutMs !== undefined && !(timeoutMs > 0)) return `timeoutMs must be above 0, got ${timeoutMs}`;
    if (backoffMs !== undefined && !(backoffMs >= 0)) return `backoffMs must be 0 or more, got ${backoffMs}`;
    return undefined;
}
