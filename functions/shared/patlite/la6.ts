import { checkSignal, PatliteEncodingError } from "./errors";
import { pnsFrame, readPnsFrame } from "./pns";
import { LAMPS, type Lamp, type LampMode, type TowerSignal } from "./signal";

/**
 * PNS command for the LA6-POE (product category `AB`), from PATLITE's own socket samples
 * (`PATLITE-Corporation/LA6-POE_windows_python_example` src/main.py) and facts.md.
 *
 * Detailed control `D`: `41 42 44 00 00 07` then the colours of tiers 1–5, flash (00/01), buzzer
 * pattern (00 stop, 01–0B). Colours: 0 off, 1 red, 2 amber, 3 lemon, 4 green, 5 sky blue, 6 blue,
 * 7 purple, 8 peach, 9 white. Answer: 06 (ACK) or 15 (NAK). Example from facts.md: tiers green,
 * blue, off, white, red, no flash, buzzer 11 = `41 42 44 00 00 07 04 06 00 09 01 00 0B`.
 * Flash is one switch for the whole tower: with flash on, every lit tier flashes.
 *
 * Clear `C`: `41 42 43 00 00 00` (data size 0), answered 06 / 15; turns the tiers off and stops
 * the buzzer.
 *
 * Status `G`: `41 42 47 00 00 00`. The answer has no ACK byte in front: 8 bytes of input 1–8,
 * a mode byte (00 signal-light mode, 01 smart mode), then in signal-light mode the patterns of
 * tiers 1–5 and the buzzer pattern (15 bytes in all), in smart mode group number, mute, STOP input
 * and pattern number (13 bytes). A first byte of 15 means NAK. Unconfirmed: the pattern values
 * a tier reports after a `D` command (this module assumes the `S` command's coding, 00 off, 01 on,
 * 02 flashing) and whether a smart-mode answer is really 2 bytes shorter rather than padded.
 *
 * `T` (run smart-mode group 1–31, data size 1), `S`, `M`, `P`, `B`, `E` exist too; alertline
 * does not send them.
 */

export const LA6_PRODUCT = "AB";
export const LA6_TIERS = 5;
export const LA6_MAX_BUZZER = 11;

/** Colour names, indexed by their code. */
export const LA6_COLORS = ["off", "red", "amber", "lemon", "green", "sky-blue", "blue", "purple", "peach", "white"] as const;
export type La6ColorName = (typeof LA6_COLORS)[number];

/** The colour of each TowerSignal lamp on an LA6: lamp k (red, amber, green, blue, white) lights tier k. */
export const LA6_LAMP_COLORS: Record<Lamp, number> = { red: 1, amber: 2, green: 4, blue: 6, white: 9 };

/** One detailed-control command's content. */
export interface La6Detail {
    /** Colour codes of tiers 1–5 (0 off … 9 white). */
    readonly colors: readonly [number, number, number, number, number];
    /** Flash every lit tier. */
    readonly flash: boolean;
    /** 0 = silent, 1–11 = buzzer pattern. */
    readonly buzzer: number;
}

/** Everything off and silent. */
export const LA6_DARK: La6Detail = { colors: [0, 0, 0, 0, 0], flash: false, buzzer: 0 };

/**
 * A colour given by name (case-insensitive; "sky blue", "sky_blue" and "skyblue" also work) or by
 * code "0"–"9"; throws naming the accepted values.
 */
export function la6Color(text: string): number {
    const trimmed = text.trim().toLowerCase();
    if (/^[0-9]$/.test(trimmed)) return Number(trimmed);
    const normalised = trimmed.replace(/[\s_]+/g, "-").replace(/^skyblue$/, "sky-blue");
    const code = (LA6_COLORS as readonly string[]).indexOf(normalised);
    if (code < 0) throw new Error(`"${text}" is not an LA6 colour; use 0–9 or ${LA6_COLORS.join(", ")}`);
    return code;
}

function checkDetail(detail: La6Detail): void {
    if (!Array.isArray(detail.colors) || detail.colors.length !== LA6_TIERS) {
        throw new PatliteEncodingError("la6", "colors", `LA6 detailed control needs ${LA6_TIERS} tier colours, got ${JSON.stringify(detail.colors)}`);
    }
    detail.colors.forEach((color, index) => {
        if (!Number.isInteger(color) || color < 0 || color > 9) {
            throw new PatliteEncodingError("la6", "colors", `tier ${index + 1} colour ${JSON.stringify(color)} is not an LA6 colour code; use 0–9 (${LA6_COLORS.map((name, code) => `${code} ${name}`).join(", ")})`);
        }
    });
    if (typeof detail.flash !== "boolean") throw new PatliteEncodingError("la6", "flash", `flash must be true or false, got ${JSON.stringify(detail.flash)}`);
    if (!Number.isInteger(detail.buzzer) || detail.buzzer < 0 || detail.buzzer > LA6_MAX_BUZZER) {
        throw new PatliteEncodingError("la6", "buzzer", `LA6-POE knows buzzer patterns 1–${LA6_MAX_BUZZER} (0 = silent), got buzzer ${JSON.stringify(detail.buzzer)}; use 0–${LA6_MAX_BUZZER}`);
    }
}

/** `41 42 44 00 00 07` + tier colours, flash, buzzer. */
export function encodeLa6Detail(detail: La6Detail): Buffer {
    checkDetail(detail);
    return pnsFrame(LA6_PRODUCT, "D", [...detail.colors, detail.flash ? 1 : 0, detail.buzzer]);
}

/** Reads the seven data bytes of a `D` command; throws naming the byte at fault. */
export function readLa6DetailData(data: Buffer): La6Detail {
    if (data.length !== 7) throw new Error(`LA6 detailed control carries 7 data bytes (5 tier colours, flash, buzzer), got ${data.length}`);
    const colors = [...data.subarray(0, LA6_TIERS)] as unknown as La6Detail["colors"];
    colors.forEach((color, index) => {
        if (color > 9) throw new Error(`tier ${index + 1} colour byte ${color} is not an LA6 colour (0–9)`);
    });
    if (data[5] > 1) throw new Error(`flash byte ${data[5]} is neither 0 (off) nor 1 (on)`);
    if (data[6] > LA6_MAX_BUZZER) throw new Error(`buzzer byte ${data[6]} is not an LA6 buzzer pattern (0–${LA6_MAX_BUZZER})`);
    return { colors, flash: data[5] === 1, buzzer: data[6] };
}

/** The content of a `D` command; throws if `command` is not one. */
export function decodeLa6Detail(command: Buffer): La6Detail {
    const frame = readPnsFrame(command);
    if (!frame || frame.length !== command.length || frame.product !== LA6_PRODUCT || frame.command !== "D") {
        throw new Error(`not an LA6 detailed-control command (41 42 44 00 00 07 and seven bytes), got ${command.length} byte(s)`);
    }
    return readLa6DetailData(frame.data);
}

/**
 * How an LA6 shows a TowerSignal: lamp k lights tier k in that lamp's colour (red 1, amber 2,
 * green 4, blue 6, white 9) unless it is off. The LA6 has one flash switch for all tiers, so the
 * tower flashes when any lamp flashes, and then every lit tier flashes, steady ones included;
 * flash1 and flash2 are the same. Throws for a buzzer above 11.
 */
export function la6DetailFromSignal(signal: TowerSignal): La6Detail {
    checkSignal("la6", signal, LA6_MAX_BUZZER);
    const colors = LAMPS.map((lamp) => (signal[lamp] === "off" ? 0 : LA6_LAMP_COLORS[lamp])) as unknown as La6Detail["colors"];
    const flash = LAMPS.some((lamp) => signal[lamp] === "flash1" || signal[lamp] === "flash2");
    return { colors, flash, buzzer: signal.buzzer };
}

/**
 * The TowerSignal a detailed-control state means, where it means one: tier k dark or lit in lamp
 * k's colour. Lit tiers read as "flash1" when flash is on. Throws for a tier lit in another colour
 * (a TowerSignal has no words for "tier 1 green").
 */
export function la6SignalFromDetail(detail: La6Detail): TowerSignal {
    checkDetail(detail);
    const modes = LAMPS.map((lamp, index): LampMode => {
        const color = detail.colors[index];
        if (color === 0) return "off";
        if (color !== LA6_LAMP_COLORS[lamp]) {
            throw new PatliteEncodingError(
                "la6",
                "colors",
                `tier ${index + 1} is ${LA6_COLORS[color]}; as a tower signal, tier ${index + 1} can only be ${lamp} (${LA6_LAMP_COLORS[lamp]}) or off`,
            );
        }
        return detail.flash ? "flash1" : "on";
    });
    const [red, amber, green, blue, white] = modes;
    return { red, amber, green, blue, white, buzzer: detail.buzzer };
}

/** The LA6 detailed-control command for a signal (see {@link la6DetailFromSignal}). */
export function encodeLa6(signal: TowerSignal): Buffer {
    return encodeLa6Detail(la6DetailFromSignal(signal));
}

/** The signal a `D` command carries (see {@link la6SignalFromDetail}). */
export function decodeLa6(command: Buffer): TowerSignal {
    return la6SignalFromDetail(decodeLa6Detail(command));
}

/** `41 42 43 00 00 00`: tiers off, buzzer stopped. */
export const LA6_CLEAR_COMMAND: Buffer = pnsFrame(LA6_PRODUCT, "C");
/** `41 42 47 00 00 00`: asks for inputs, mode and tier patterns. */
export const LA6_STATUS_COMMAND: Buffer = pnsFrame(LA6_PRODUCT, "G");
/** Length of a signal-light-mode answer to `G`: 8 inputs, mode, 5 tier patterns, buzzer. */
export const LA6_STATUS_REPLY_LENGTH = 15;

/** The answer to `G`, as far as alertline reads it. */
export interface La6Status {
    /** Inputs 1–8 (0/1). */
    readonly inputs: readonly number[];
    readonly mode: "signal-light" | "smart";
    /** Signal-light mode: pattern of tiers 1–5 (assumed 0 off, 1 on, 2 flashing: unconfirmed). */
    readonly tierPatterns?: readonly number[];
    /** Signal-light mode: buzzer pattern 0–11. */
    readonly buzzer?: number;
    /** Smart mode: group number, mute, STOP input, pattern number. */
    readonly smart?: { readonly group: number; readonly mute: number; readonly stopInput: number; readonly pattern: number };
}

/** Reads an answer to `G`; throws for a NAK or a short answer. */
export function decodeLa6Status(reply: Buffer): La6Status {
    // Inputs are 0/1, so a first byte of 15 can only be NAK.
    if (reply.length >= 1 && reply[0] === 0x15) throw new Error("the LA6 answered NAK to the status request");
    if (reply.length < 13) throw new Error(`an LA6 status answer has at least 13 bytes, got ${reply.length}`);
    const inputs = [...reply.subarray(0, 8)];
    if (reply[8] === 0) {
        if (reply.length < LA6_STATUS_REPLY_LENGTH) throw new Error(`a signal-light-mode LA6 status answer has ${LA6_STATUS_REPLY_LENGTH} bytes, got ${reply.length}`);
        return { inputs, mode: "signal-light", tierPatterns: [...reply.subarray(9, 14)], buzzer: reply[14] };
    }
    return { inputs, mode: "smart", smart: { group: reply[9], mute: reply[10], stopInput: reply[11], pattern: reply[12] } };
}

/** The signal-light-mode answer to `G` for a state, as the emulator gives it (inputs all 0). */
export function la6StatusReply(detail: La6Detail): Buffer {
    const patterns = detail.colors.map((color) => (color === 0 ? 0 : detail.flash ? 2 : 1));
    return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, ...patterns, detail.buzzer]);
}

/** "tier1:green tier2:blue tier4:white flash buzzer:11", or "dark"; for logs. */
export function describeLa6(detail: La6Detail): string {
    const parts = detail.colors.flatMap((color, index) => (color === 0 ? [] : [`tier${index + 1}:${LA6_COLORS[color] ?? color}`]));
    if (parts.length > 0 && detail.flash) parts.push("flash");
    if (detail.buzzer > 0) parts.push(`buzzer:${detail.buzzer}`);
    return parts.length === 0 ? "dark" : parts.join(" ");
}
