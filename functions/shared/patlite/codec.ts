import type { TowerProtocol } from "../tower-config";
import { decodeLa6, encodeLa6, LA6_CLEAR_COMMAND, LA6_PRODUCT, LA6_STATUS_COMMAND, LA6_STATUS_REPLY_LENGTH } from "./la6";
import { decodePhn, encodePhn, PHN_ACK, PHN_CLEAR_COMMAND, PHN_NAK, PHN_READ, PHN_READ_COMMAND } from "./phn";
import { decodePns, encodePns, NH_PRODUCT, PNS_ACK, PNS_CLEAR_COMMAND, PNS_NAK, PNS_STATUS_COMMAND, readPnsFrame } from "./pns";
import type { TowerSignal } from "./signal";

/**
 * One door to the three PATLITE command sets: what to send for a signal, a clear, a status read,
 * and how to read what comes back. Hex text everywhere is upper case, bytes separated by one space,
 * as the manuals print them: "58 58 53 00 00 06 01 02 03 00 00 04".
 */

export { PatliteEncodingError } from "./errors";

/** How a tower answered a command. */
export type ReplyKind = "ack" | "nak" | "unknown";

/** The command that puts a tower in exactly this state; throws PatliteEncodingError for what the protocol cannot show. */
export function encodeSignal(protocol: TowerProtocol, signal: TowerSignal): Buffer {
    switch (protocol) {
        case "phn":
            return encodePhn(signal);
        case "pns":
            return encodePns(signal);
        case "la6":
            return encodeLa6(signal);
    }
    return unknownProtocol(protocol);
}

/** The signal a write command carries (PHN `W`, PNS `S`, LA6 `D`); throws for anything else. */
export function decodeSignal(protocol: TowerProtocol, command: Buffer): TowerSignal {
    switch (protocol) {
        case "phn":
            return decodePhn(command);
        case "pns":
            return decodePns(command);
        case "la6":
            return decodeLa6(command);
    }
    return unknownProtocol(protocol);
}

/**
 * What the tower really shows for a signal: PHN and LA6 know one flash kind (flash2 shows as
 * flash1), and an LA6 flashes every lit tier when any flashes. Throws where encoding would.
 */
export function shownSignal(protocol: TowerProtocol, signal: TowerSignal): TowerSignal {
    return decodeSignal(protocol, encodeSignal(protocol, signal));
}

/** Lamps off, buzzer stopped: PHN `57 00`, PNS `58 58 43 00 00 00`, LA6 `41 42 43 00 00 00`. */
export function encodeClear(protocol: TowerProtocol): Buffer {
    switch (protocol) {
        case "phn":
            return Buffer.from(PHN_CLEAR_COMMAND);
        case "pns":
            return Buffer.from(PNS_CLEAR_COMMAND);
        case "la6":
            return Buffer.from(LA6_CLEAR_COMMAND);
    }
    return unknownProtocol(protocol);
}

/** Asks for the current state: PHN `52`, PNS `58 58 47 00 00 00`, LA6 `41 42 47 00 00 00`. */
export function encodeStatusRead(protocol: TowerProtocol): Buffer {
    switch (protocol) {
        case "phn":
            return Buffer.from(PHN_READ_COMMAND);
        case "pns":
            return Buffer.from(PNS_STATUS_COMMAND);
        case "la6":
            return Buffer.from(LA6_STATUS_COMMAND);
    }
    return unknownProtocol(protocol);
}

/** Whether `command` asks for the state (its answer is data, not ACK). */
export function isStatusRead(protocol: TowerProtocol, command: Buffer | undefined): boolean {
    if (!command || command.length === 0) return false;
    if (protocol === "phn") return command[0] === PHN_READ;
    const frame = readPnsFrame(command);
    return frame !== undefined && frame.product === (protocol === "pns" ? NH_PRODUCT : LA6_PRODUCT) && frame.command === "G";
}

/** The positive answer to a control command: PHN `41 43 4B`, PNS `06`. */
export function ackReply(protocol: TowerProtocol): Buffer {
    return protocol === "phn" ? Buffer.from(PHN_ACK) : Buffer.from([PNS_ACK]);
}

/** The negative answer: PHN `4E 41 4B`, PNS `15`. */
export function nakReply(protocol: TowerProtocol): Buffer {
    return protocol === "phn" ? Buffer.from(PHN_NAK) : Buffer.from([PNS_NAK]);
}

/**
 * Bytes of a positive answer to `command` (default: a write or clear): PHN 3 (`ACK`), PNS and
 * LA6 1 (`06`); to a status read PHN 2 (`52 <byte>`), PNS 6, LA6 15 (signal-light mode).
 */
export function replyLength(protocol: TowerProtocol, command?: Buffer): number {
    if (isStatusRead(protocol, command)) {
        return protocol === "phn" ? 2 : protocol === "pns" ? 6 : LA6_STATUS_REPLY_LENGTH;
    }
    return protocol === "phn" ? PHN_ACK.length : 1;
}

/**
 * Whether `bytes` hold a whole answer to `command`: a whole NAK, the expected length, or (LA6
 * status in smart mode) 13 bytes. A client reads until this holds or its timeout.
 */
export function replyComplete(protocol: TowerProtocol, bytes: Buffer, command?: Buffer): boolean {
    const nak = nakReply(protocol);
    if (bytes.length < nak.length && nak.subarray(0, bytes.length).equals(bytes)) return false;
    if (bytes.length >= nak.length && bytes.subarray(0, nak.length).equals(nak)) return true;
    if (protocol === "la6" && isStatusRead(protocol, command) && bytes.length >= 9 && bytes[8] !== 0) return bytes.length >= 13;
    return bytes.length >= replyLength(protocol, command);
}

/**
 * Whether `bytes`, the start of an answer to `command`, cannot begin any answer the protocol gives:
 * not a prefix of its NAK, nor of its ACK (a write or clear), nor of its status answer (PHN `52`,
 * PNS a lamp byte 00–03, LA6 an input byte 00/01, as la6.ts reads them). Typically the tower speaks
 * another of the three protocols: a PHN tower's `4E 41 4B` to a PNS frame, a PNS tower's `15` to a
 * PHN `W`. Lets a client stop at the first byte instead of waiting for the rest until its timeout.
 */
export function replyForeign(protocol: TowerProtocol, bytes: Buffer, command?: Buffer): boolean {
    if (bytes.length === 0) return false;
    const prefixOf = (whole: Buffer): boolean => whole.subarray(0, bytes.length).equals(bytes.subarray(0, whole.length));
    if (prefixOf(nakReply(protocol))) return false;
    if (!isStatusRead(protocol, command)) return !prefixOf(ackReply(protocol));
    switch (protocol) {
        case "phn":
            return bytes[0] !== PHN_READ;
        case "pns":
            return bytes[0] > 0x03;
        case "la6":
            return bytes[0] > 0x01;
    }
    return unknownProtocol(protocol);
}

/** Reads an answer to `command` (default: a write or clear). A status answer of the right shape counts as "ack". */
export function decodeReply(protocol: TowerProtocol, bytes: Buffer, command?: Buffer): ReplyKind {
    if (bytes.equals(nakReply(protocol))) return "nak";
    if (!isStatusRead(protocol, command)) return bytes.equals(ackReply(protocol)) ? "ack" : "unknown";
    switch (protocol) {
        case "phn":
            return bytes.length === 2 && bytes[0] === PHN_READ ? "ack" : "unknown";
        case "pns":
            return bytes.length === 6 ? "ack" : "unknown";
        case "la6":
            return bytes.length === LA6_STATUS_REPLY_LENGTH || (bytes.length === 13 && bytes[8] !== 0) ? "ack" : "unknown";
    }
    return unknownProtocol(protocol);
}

/** "58 58 53 00 00 06": upper-case hex, one space between bytes; "" for no bytes. */
export function toHex(bytes: Uint8Array): string {
    return Array.from(bytes, (byte) => byte.toString(16).toUpperCase().padStart(2, "0")).join(" ");
}

/** Bytes from hex text: "58 58 53", "585853", "0x58 0x58", any case; throws for anything else. */
export function fromHex(text: string): Buffer {
    const tokens = text
        .trim()
        .split(/[\s,:]+/)
        .filter((token) => token.length > 0)
        .map((token) => token.replace(/^0x/i, ""));
    if (!tokens.every((token) => /^(?:[0-9a-fA-F]{2})+$/.test(token))) {
        throw new Error(`"${text}" is not hex bytes; write them like "58 58 53 00" (pairs of 0-9/A-F)`);
    }
    const digits = tokens.join("");
    return Buffer.from(digits, "hex");
}

function unknownProtocol(protocol: never): never {
    throw new Error(`unknown tower protocol ${JSON.stringify(protocol)}; use phn, pns or la6`);
}
