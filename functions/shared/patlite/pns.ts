import { checkSignal } from "./errors";
import { LAMPS, type LampMode, type TowerSignal } from "./signal";

/**
 * PNS command, the framing shared by the NH series and LA6-POE, and the NH-series commands.
 *
 * Frame: product category (2 ASCII bytes: `XX` for the NH series, `AB` for LA6-POE), command
 * identifier (1 ASCII byte), one empty byte (00), data size (2 bytes, big-endian), data.
 * (NHL user manual §3.6 "PNS Command Reception Function"; PATLITE's LA6-POE socket sample packs
 * the same header as `>2ssxH`.)
 *
 * NH series, write `S`: `58 58 53 00 00 06` then red, amber, green, blue, white, buzzer.
 * Lamps 00 off, 01 on, 02 flash pattern 1, 03 flash pattern 2, 09 no change; buzzer 00 stop,
 * 01–04 patterns, 09 no change. The tower answers 06 (ACK) or 15 (NAK), one byte. The NHL
 * manual's example: red on, amber flash 1, green flash 2, buzzer 4 =
 * `58 58 53 00 00 06 01 02 03 00 00 04`. A TowerSignal is the whole state, so encoding never
 * writes 09 ("no change").
 *
 * Clear `C` (`58 58 43 00 00 00`, answered 06) and status `G` (`58 58 47 00 00 00`, answered with
 * six bytes red, amber, green, blue, white, buzzer in the write command's coding): from
 * rospatlite's patlite.py (CLEAR / READ constants, clear checks for ACK), tdtds/net-pns (reads
 * 1 byte after `C`, 6 after `G`) and captmomo/Patlite-NHL-CSharp (6-byte status). Not seen in a
 * PATLITE manual page: treat the `C`/`G` details as confirmed by three independent clients only.
 * What the tower answers to `G` instead of data on an error (presumably 15) is unconfirmed.
 */

export const PNS_ACK = 0x06;
export const PNS_NAK = 0x15;
/** Lamp or buzzer value meaning "leave as it is". Accepted by towers, never sent by alertline. */
export const PNS_NO_CHANGE = 0x09;
export const PNS_HEADER_LENGTH = 6;
export const NH_PRODUCT = "XX";
export const NH_MAX_BUZZER = 4;

const LAMP_BYTE: Record<LampMode, number> = { off: 0x00, on: 0x01, flash1: 0x02, flash2: 0x03 };
const BYTE_LAMP: readonly LampMode[] = ["off", "on", "flash1", "flash2"];

/** `<product> <id> 00 <size hi> <size lo> <data…>`. */
export function pnsFrame(product: string, command: string, data: readonly number[] = []): Buffer {
    if (product.length !== 2 || command.length !== 1) throw new Error(`a PNS frame needs a 2-letter product and a 1-letter command, got "${product}" "${command}"`);
    const header = Buffer.alloc(PNS_HEADER_LENGTH);
    header.write(product, 0, "ascii");
    header.write(command, 2, "ascii");
    header.writeUInt16BE(data.length, 4);
    return Buffer.concat([header, Buffer.from(data)]);
}

/** One PNS frame read off the front of a byte stream. */
export interface PnsFrame {
    readonly product: string;
    readonly command: string;
    /** The byte between the identifier and the size; 00 in every documented command. */
    readonly empty: number;
    readonly data: Buffer;
    /** Bytes the frame took from the stream (header + data). */
    readonly length: number;
}

/** The frame at the start of `bytes`, or undefined while header or data are still incomplete. */
export function readPnsFrame(bytes: Buffer): PnsFrame | undefined {
    if (bytes.length < PNS_HEADER_LENGTH) return undefined;
    const size = bytes.readUInt16BE(4);
    if (bytes.length < PNS_HEADER_LENGTH + size) return undefined;
    return {
        product: bytes.toString("ascii", 0, 2),
        command: bytes.toString("ascii", 2, 3),
        empty: bytes[3],
        data: bytes.subarray(PNS_HEADER_LENGTH, PNS_HEADER_LENGTH + size),
        length: PNS_HEADER_LENGTH + size,
    };
}

/** The six data bytes of an NH-series `S` command: red, amber, green, blue, white, buzzer. */
export function pnsStateBytes(signal: TowerSignal): number[] {
    checkSignal("pns", signal, NH_MAX_BUZZER);
    return [...LAMPS.map((lamp) => LAMP_BYTE[signal[lamp]]), signal.buzzer];
}

/** The NH-series write command for a signal: `58 58 53 00 00 06` + six bytes. */
export function encodePns(signal: TowerSignal): Buffer {
    return pnsFrame(NH_PRODUCT, "S", pnsStateBytes(signal));
}

/** `58 58 43 00 00 00`: lamps off, buzzer stopped. */
export const PNS_CLEAR_COMMAND: Buffer = pnsFrame(NH_PRODUCT, "C");
/** `58 58 47 00 00 00`: asks for the six state bytes. */
export const PNS_STATUS_COMMAND: Buffer = pnsFrame(NH_PRODUCT, "G");

/** An `S` command's data as the tower reads it: a lamp or the buzzer may be left unchanged (09). */
export type PnsUpdate = { readonly [L in (typeof LAMPS)[number]]: LampMode | "keep" } & { readonly buzzer: number | "keep" };

/**
 * Reads six `S` data bytes; throws naming the byte at fault for a value the tower would refuse
 * (a lamp outside 00–03/09, a buzzer outside 00–04/09) or a wrong byte count.
 */
export function readPnsUpdate(data: Buffer): PnsUpdate {
    if (data.length !== 6) throw new Error(`a PNS write carries 6 data bytes (red, amber, green, blue, white, buzzer), got ${data.length}`);
    const lamp = (index: number): LampMode | "keep" => {
        const value = data[index];
        if (value === PNS_NO_CHANGE) return "keep";
        const mode = BYTE_LAMP[value];
        if (mode === undefined) throw new Error(`${LAMPS[index]} byte ${hexByte(value)} is not a PNS lamp value (00 off, 01 on, 02 flash 1, 03 flash 2, 09 no change)`);
        return mode;
    };
    const buzzerByte = data[5];
    if (buzzerByte !== PNS_NO_CHANGE && buzzerByte > NH_MAX_BUZZER) {
        throw new Error(`buzzer byte ${hexByte(buzzerByte)} is not a PNS buzzer value (00 stop, 01–04 patterns, 09 no change)`);
    }
    return {
        red: lamp(0),
        amber: lamp(1),
        green: lamp(2),
        blue: lamp(3),
        white: lamp(4),
        buzzer: buzzerByte === PNS_NO_CHANGE ? "keep" : buzzerByte,
    };
}

/** The state after an update: "keep" leaves the current value. */
export function applyPnsUpdate(state: TowerSignal, update: PnsUpdate): TowerSignal {
    const pick = (lamp: (typeof LAMPS)[number]): LampMode => (update[lamp] === "keep" ? state[lamp] : update[lamp]);
    return {
        red: pick("red"),
        amber: pick("amber"),
        green: pick("green"),
        blue: pick("blue"),
        white: pick("white"),
        buzzer: update.buzzer === "keep" ? state.buzzer : update.buzzer,
    };
}

/**
 * The full signal an NH-series `S` command carries. Throws if `command` is not one, or if it says
 * "no change" (09) somewhere: such a command is not a whole state.
 */
export function decodePns(command: Buffer): TowerSignal {
    const frame = readPnsFrame(command);
    if (!frame || frame.length !== command.length || frame.product !== NH_PRODUCT || frame.command !== "S") {
        throw new Error(`not a PNS write command (58 58 53 00 00 06 and six bytes), got ${command.length} byte(s)`);
    }
    const update = readPnsUpdate(frame.data);
    const kept = [...LAMPS, "buzzer" as const].filter((key) => update[key] === "keep");
    if (kept.length > 0) throw new Error(`this PNS write leaves ${kept.join(", ")} unchanged (09), so it is not a whole tower state`);
    return update as TowerSignal;
}

/** The signal in the six-byte answer to `G`. */
export function decodePnsStatusReply(reply: Buffer): TowerSignal {
    if (reply.length !== 6) throw new Error(`a PNS status answer has 6 bytes (red, amber, green, blue, white, buzzer), got ${reply.length}`);
    const update = readPnsUpdate(reply);
    if (Object.values(update).includes("keep")) throw new Error("a PNS status answer cannot contain 09 (no change)");
    return update as TowerSignal;
}

function hexByte(value: number): string {
    return value.toString(16).toUpperCase().padStart(2, "0");
}
