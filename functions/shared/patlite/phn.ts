import { checkSignal, PatliteEncodingError } from "./errors";
import { toSignal, type LampMode, type TowerSignal } from "./signal";

/**
 * PHN command (PHN-series converters; NH-series towers and LA6-POE also accept it).
 *
 * Write: `'W'` (0x57) then one operation byte. Bits 0–2 light red/amber/green, bits 3–4 sound
 * buzzer pattern 1/2, bits 5–7 flash red/amber/green. The tower answers `ACK` (41 43 4B) or
 * `NAK` (4E 41 4B). The NHL manual's example: red on, amber flashing, green on, buzzer
 * pattern 2 = `57 55`. (NHL user manual §3.5 "PHN Command Reception Function"; PATLITE's
 * LA6-POE socket sample `PATLITE-Corporation/LA6-POE_windows_python_example` src/main.py, which
 * names the same bits.)
 *
 * Read: `'R'` (0x52) alone; the tower answers `'R'` then the current operation byte (2 bytes).
 * (PATLITE's LA6-POE sample checks `reply[0] == 'R'` and reads `reply[1]`; usausa/patlite-tool's
 * TcpPatliteClient reads the same 2 bytes.) Whether the byte read back is the last byte written
 * as is, or the state after the tower's priority rules below, is not documented: unconfirmed.
 *
 * What PHN cannot show, and so what encoding rejects: the blue and white lamps, buzzer patterns
 * above 2. It has one flash kind: `flash1` and `flash2` both become "flashing", which decodes as
 * `flash1`.
 *
 * The manual's priority rules, which {@link phnSignalFromByte} applies: a lamp with both its
 * lighting and its flashing bit set is lit steadily; both buzzer bits set sound pattern 1.
 * Encoding never sets both.
 */

export const PHN_WRITE = 0x57;
export const PHN_READ = 0x52;
/** The read command, `52`. */
export const PHN_READ_COMMAND: Buffer = Buffer.from([PHN_READ]);
export const PHN_ACK: Buffer = Buffer.from("ACK", "ascii");
export const PHN_NAK: Buffer = Buffer.from("NAK", "ascii");
/** Lamps PHN drives, in bit order. */
export const PHN_LAMPS = ["red", "amber", "green"] as const;
export const PHN_MAX_BUZZER = 2;

const ON_BIT = { red: 0x01, amber: 0x02, green: 0x04 } as const;
const FLASH_BIT = { red: 0x20, amber: 0x40, green: 0x80 } as const;
const BUZZER_BIT = [0, 0x08, 0x10] as const;

/** The operation byte for a signal; throws {@link PatliteEncodingError} for what PHN cannot show. */
export function phnStateByte(signal: TowerSignal): number {
    checkSignal("phn", signal, PHN_MAX_BUZZER);
    for (const lamp of ["blue", "white"] as const) {
        if (signal[lamp] !== "off") {
            throw new PatliteEncodingError(
                "phn",
                lamp,
                `PHN cannot show the ${lamp} lamp (${lamp}: ${signal[lamp]}): it drives red, amber and green only; set ${lamp} off or use protocol pns or la6`,
            );
        }
    }
    let byte = BUZZER_BIT[signal.buzzer];
    for (const lamp of PHN_LAMPS) {
        const mode = signal[lamp];
        if (mode === "on") byte |= ON_BIT[lamp];
        // PHN has one flash kind: flash1 and flash2 both mean "flashing".
        else if (mode === "flash1" || mode === "flash2") byte |= FLASH_BIT[lamp];
    }
    return byte;
}

/** `57 <byte>`: the write command for a signal. */
export function encodePhn(signal: TowerSignal): Buffer {
    return Buffer.from([PHN_WRITE, phnStateByte(signal)]);
}

/** `57 00`: PHN has no clear command; writing an all-zero byte turns everything off. */
export const PHN_CLEAR_COMMAND: Buffer = Buffer.from([PHN_WRITE, 0x00]);

/** What a tower shows for an operation byte, with the manual's priority rules (lighting over flashing, pattern 1 over 2). */
export function phnSignalFromByte(byte: number): TowerSignal {
    if (!Number.isInteger(byte) || byte < 0 || byte > 0xff) throw new RangeError(`a PHN operation byte is 0–255, got ${byte}`);
    const mode = (lamp: (typeof PHN_LAMPS)[number]): LampMode => (byte & ON_BIT[lamp] ? "on" : byte & FLASH_BIT[lamp] ? "flash1" : "off");
    const buzzer = byte & BUZZER_BIT[1] ? 1 : byte & BUZZER_BIT[2] ? 2 : 0;
    return toSignal({ red: mode("red"), amber: mode("amber"), green: mode("green"), buzzer });
}

/** The signal a `57 <byte>` write command carries; throws if `command` is not one. */
export function decodePhn(command: Buffer): TowerSignal {
    if (command.length !== 2 || command[0] !== PHN_WRITE) {
        throw new Error(`not a PHN write command (57 and one byte): got ${command.length} byte(s) starting ${command.length ? command[0].toString(16).padStart(2, "0") : "with nothing"}`);
    }
    return phnSignalFromByte(command[1]);
}

/** The signal in the answer to `R` (`52 <byte>`); throws if the answer is not one. */
export function decodePhnReadReply(reply: Buffer): TowerSignal {
    if (reply.length !== 2 || reply[0] !== PHN_READ) {
        throw new Error(`not a PHN read answer (52 and one byte): got ${reply.length} byte(s)`);
    }
    return phnSignalFromByte(reply[1]);
}
