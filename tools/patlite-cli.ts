import { parseArgs } from "node:util";
import { sendCommand, towerEndpoint, type SendOptions, type SendResult, type TowerAddress } from "../functions/shared/patlite/client";
import { encodeClear, encodeSignal, encodeStatusRead, fromHex, PatliteEncodingError } from "../functions/shared/patlite/codec";
import { PROTOCOL_LABELS } from "../functions/shared/patlite/errors";
import { encodeLa6Detail, la6Color, LA6_COLORS, type La6Detail } from "../functions/shared/patlite/la6";
import { decodeStatusReply, type TowerReading } from "../functions/shared/patlite/status";
import { LAMP_MODES, LAMPS, toSignal, type Lamp, type LampMode, type SignalSpec } from "../functions/shared/patlite/signal";
import { TOWER_PROTOCOLS, type TowerProtocol } from "../functions/shared/tower-config";

/**
 * The on-site installation check: sends one command to a tower and prints one JSON line,
 * `{"ack": true, "sent": "58 58 53 00 00 06 01 02 03 00 00 04"}` (plus `"error"` when there is
 * one). Exit 0 on ACK, 1 without, 2 for bad arguments (with a usage message naming the flag).
 *
 *   npm run --silent patlite -- send --host 192.168.10.1 --protocol pns --red on --amber flash1 --green flash2 --buzzer 4
 *   npm run --silent patlite -- send --host 192.168.10.1 --protocol phn --red on --amber flash1 --green on --buzzer 2
 *   npm run --silent patlite -- send --host 192.168.10.1 --protocol la6 --colors green,blue,off,white,red --flash off --buzzer 11
 *   npm run --silent patlite -- send --host 192.168.10.1 --protocol pns --clear
 *   npm run --silent patlite -- status --host 192.168.10.1 --protocol pns [--json]
 *
 * `status` reads the tower's state (PHN `R`, PNS `G`, LA6 `G`; decoded by shared/patlite/status.ts)
 * once, with a short timeout. For both commands a NAK or an answer that is not the protocol's is
 * not retried and the error names the protocol as the likely cause (sendCommand `retryAnswers:
 * false`); silence and connection faults are retried (`send` only).
 */

/** A status read is one attempt with this timeout unless --timeout says otherwise. */
export const STATUS_TIMEOUT_MS = 1500;

export const USAGE = `usage: npm run --silent patlite -- send --host <ip> [--port 10000] --protocol phn|pns|la6 <what to show>
  what to show, one of:
    [--red|--amber|--green|--blue|--white off|on|flash1|flash2] [--buzzer N]
        the whole tower state: lamps not named are off, the buzzer is silent unless given.
        phn: red, amber, green only, one flash kind, buzzer 0-2; pns: buzzer 0-4;
        la6: lamp k lights tier k in that lamp's colour, buzzer 0-11, any flash flashes every lit tier.
    --colors c1,c2,c3,c4,c5 [--flash on|off] [--buzzer N]        (la6 only: tier colours, by name or 0-9:
        ${LA6_COLORS.map((name, code) => `${code} ${name}`).join(", ")})
    --clear                                                        (everything off and silent)
  options: --timeout <ms> (3000 per attempt), --attempts <n> (3; only silence and connection
    faults are retried: a NAK or a garbled answer is the tower's answer, most likely to the wrong --protocol)
prints {"ack": true|false, "sent": "<hex bytes>"}; exit 0 on ACK, 1 without, 2 for bad arguments
       npm run --silent patlite -- status --host <ip> [--port 10000] --protocol phn|pns|la6 [--json] [--timeout <ms>]
  reads the lamps and buzzer once (timeout ${STATUS_TIMEOUT_MS} ms, no retry) and prints them in words, or
  one JSON line with --json; exit 0 when read, 1 without, 2 for bad arguments`;


/** Bad arguments; `flag` is the one to fix, when there is one. */
export class UsageError extends Error {
    constructor(
        readonly flag: string | undefined,
        message: string,
    ) {
        super(message);
        this.name = "UsageError";
    }
}

/** What `send` will do. */
export interface SendRequest {
    readonly command?: "send";
    readonly address: TowerAddress;
    readonly payload: Buffer;
    readonly options: SendOptions;
}

/** What `status` will do. */
export interface StatusRequest {
    readonly command: "status";
    readonly address: TowerAddress;
    readonly payload: Buffer;
    readonly options: SendOptions;
    readonly json: boolean;
}

const OPTIONS = {
    host: { type: "string" },
    port: { type: "string" },
    protocol: { type: "string" },
    red: { type: "string" },
    amber: { type: "string" },
    green: { type: "string" },
    blue: { type: "string" },
    white: { type: "string" },
    buzzer: { type: "string" },
    colors: { type: "string" },
    flash: { type: "string" },
    clear: { type: "boolean" },
    timeout: { type: "string" },
    attempts: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean" },
} as const;

/**
 * Reads the arguments after `patlite` (`send --host … --protocol …`) into the command to send;
 * throws {@link UsageError} naming the flag at fault. Returns "help" for `--help`. Pure: no I/O.
 */
export function parsePatliteArgs(argv: readonly string[]): SendRequest | StatusRequest | "help" {
    let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true; args: string[] }>>;
    try {
        parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
        throw new UsageError(flag, message.replace(/\. To specify a positional argument.*$/s, ""));
    }
    const { values, positionals } = parsed;
    if (values.help) return "help";
    if (positionals.length === 0) throw new UsageError(undefined, "missing command: send or status");
    if (positionals[0] !== "send" && positionals[0] !== "status") throw new UsageError(undefined, `unknown command "${positionals[0]}": the commands are send and status`);
    if (positionals.length > 1) throw new UsageError(undefined, `unexpected argument "${positionals[1]}": every value goes after its flag, e.g. --red on`);

    if (values.host === undefined || values.host.trim() === "") throw new UsageError("--host", "--host is required: the tower's IP address");
    const port = wholeNumber("--port", values.port ?? "10000", 1, 65535);
    if (values.protocol === undefined) throw new UsageError("--protocol", `--protocol is required: one of ${TOWER_PROTOCOLS.join(", ")}`);
    if (!(TOWER_PROTOCOLS as readonly string[]).includes(values.protocol)) {
        throw new UsageError("--protocol", `--protocol must be one of ${TOWER_PROTOCOLS.join(", ")}, got "${values.protocol}"`);
    }
    const protocol = values.protocol as TowerProtocol;
    const address: TowerAddress = { host: values.host.trim(), port, protocol };
    if (positionals[0] === "status") {
        const extra = (["red", "amber", "green", "blue", "white", "buzzer", "colors", "flash", "clear", "attempts"] as const).find((flag) => values[flag] !== undefined);
        if (extra !== undefined) {
            throw new UsageError(`--${extra}`, extra === "attempts" ? "status reads once: --attempts is for send" : `status only reads the tower; --${extra} is for send`);
        }
        const timeoutMs = values.timeout !== undefined ? wholeNumber("--timeout", values.timeout, 1, 600_000) : STATUS_TIMEOUT_MS;
        return { command: "status", address, payload: encodeStatusRead(protocol), options: { attempts: 1, timeoutMs, retryAnswers: false }, json: values.json === true };
    }
    if (values.json) throw new UsageError("--json", "--json is for status; send always prints one JSON line");
    const options: SendOptions = {
        ...(values.timeout !== undefined ? { timeoutMs: wholeNumber("--timeout", values.timeout, 1, 600_000) } : {}),
        ...(values.attempts !== undefined ? { attempts: wholeNumber("--attempts", values.attempts, 1, 100) } : {}),
        retryAnswers: false,
    };

    const lampFlags = LAMPS.filter((lamp) => values[lamp] !== undefined);
    if (values.clear) {
        const extra = [...lampFlags, ...(["buzzer", "colors", "flash"] as const).filter((flag) => values[flag] !== undefined)];
        if (extra.length > 0) throw new UsageError(`--${extra[0]}`, `--clear turns everything off; it cannot be combined with --${extra[0]}`);
        return { address, payload: encodeClear(protocol), options };
    }

    if (values.colors !== undefined || values.flash !== undefined) {
        const flag = values.colors !== undefined ? "--colors" : "--flash";
        if (protocol !== "la6") throw new UsageError(flag, `${flag} is for --protocol la6 only; for ${protocol} give lamps, e.g. --red flash1`);
        if (values.colors === undefined) throw new UsageError("--flash", "--flash goes with --colors; with lamp flags use --red flash1 and the like");
        if (lampFlags.length > 0) throw new UsageError(`--${lampFlags[0]}`, `give either --colors or lamp flags, not both (--colors and --${lampFlags[0]})`);
        const detail: La6Detail = {
            colors: parseColors(values.colors),
            flash: onOff("--flash", values.flash ?? "off"),
            buzzer: values.buzzer === undefined ? 0 : wholeNumber("--buzzer", values.buzzer, 0, Number.MAX_SAFE_INTEGER),
        };
        return { address, payload: encoding(() => encodeLa6Detail(detail)), options };
    }

    const spec: { -readonly [L in Lamp]?: LampMode } & { buzzer?: number } = {};
    for (const lamp of lampFlags) spec[lamp] = lampMode(lamp, values[lamp]!);
    if (values.buzzer !== undefined) spec.buzzer = wholeNumber("--buzzer", values.buzzer, 0, Number.MAX_SAFE_INTEGER);
    return { address, payload: encoding(() => encodeSignal(protocol, toSignal(spec as SignalSpec))), options };
}

/** Runs the CLI: parses, sends, prints one JSON line; resolves to the exit code. */
export async function runPatlite(
    argv: readonly string[],
    io: { stdout: (text: string) => void; stderr: (text: string) => void } = {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
    },
    send: (address: TowerAddress, payload: Buffer, options?: SendOptions) => Promise<SendResult> = sendCommand,
): Promise<number> {
    let request: SendRequest | StatusRequest | "help";
    try {
        request = parsePatliteArgs(argv);
    } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.stderr(`patlite: ${error.message}\n${USAGE}\n`);
        return 2;
    }
    if (request === "help") {
        io.stdout(`${USAGE}\n`);
        return 0;
    }
    const raw = await send(request.address, request.payload, request.options);
    const result = raw.answered && raw.error ? { ...raw, error: `${raw.error}. ${protocolHint(request.address.protocol, raw.reply)}` } : raw;
    if (request.command === "status") return printStatus(request, result, io);
    io.stdout(`${resultLine(result)}\n`);
    return result.ack ? 0 : 1;
}

const OTHER_PROTOCOL_WORDS: Record<TowerProtocol, string> = { phn: "a PHN tower", pns: "an NH series tower (PNS)", la6: "an LA6-POE (PNS for LA6)" };

/**
 * The likely cause of a NAK or a garbled answer: the tower speaks another protocol. Names the one
 * the answer looks like first (PHN answers in ASCII, `NAK`/`ACK`; PNS and LA6 with one byte, 15/06,
 * and an LA6 NAKs an NH frame as an NH NAKs an LA6 one), then the remaining one.
 * "the tower answered NAK to PNS (NH series): is it an LA6-POE (PNS for LA6) or a PHN tower? try --protocol la6 or --protocol phn".
 */
export function protocolHint(protocol: TowerProtocol, replyHex: string | undefined): string {
    let reply: Buffer;
    try {
        reply = fromHex(replyHex ?? "");
    } catch {
        reply = Buffer.alloc(0);
    }
    const asciiAnswer = reply.length > 0 && (reply[0] === 0x41 || reply[0] === 0x4e);
    const others = TOWER_PROTOCOLS.filter((other) => other !== protocol);
    const guess: TowerProtocol[] =
        protocol !== "phn" && asciiAnswer ? ["phn", ...others.filter((o) => o !== "phn")] : protocol !== "phn" ? [...others.filter((o) => o !== "phn"), "phn"] : others;
    const nak = reply.length > 0 && (protocol === "phn" ? reply.equals(Buffer.from("NAK", "ascii")) : reply.length === 1 && reply[0] === 0x15);
    const what = nak ? "answered NAK to" : "gave an answer that is not";
    return `the tower ${what} ${PROTOCOL_LABELS[protocol]}: is it ${guess.map((g) => OTHER_PROTOCOL_WORDS[g]).join(" or ")}? try ${guess.map((g) => `--protocol ${g}`).join(" or ")}`;
}

/** Prints a status read: words, or one JSON line with --json; resolves to the exit code. */
function printStatus(request: StatusRequest, result: SendResult, io: { stdout: (text: string) => void; stderr: (text: string) => void }): number {
    const where = `${towerEndpoint(request.address)} (${PROTOCOL_LABELS[request.address.protocol]})`;
    let reading: TowerReading | undefined;
    let error = result.error;
    if (result.ack && result.reply !== undefined) {
        try {
            reading = decodeStatusReply(request.address.protocol, fromHex(result.reply));
        } catch (decodeError) {
            error = `${towerEndpoint(request.address)} answered ${result.reply}, which says nothing readable about the lamps: ${(decodeError as Error).message}. ${protocolHint(request.address.protocol, result.reply)}`;
        }
    }
    if (request.json) {
        const line = reading
            ? { ok: true, protocol: request.address.protocol, reply: result.reply, reading }
            : { ok: false, protocol: request.address.protocol, sent: result.sent, ...(result.reply ? { reply: result.reply } : {}), error };
        io.stdout(`${JSON.stringify(line)}\n`);
    } else if (reading) {
        io.stdout(`${where}: ${readingInWords(reading)}\n`);
    } else {
        io.stderr(`patlite: ${error}\n`);
    }
    return reading ? 0 : 1;
}

/** "red on, amber flash1, green off, blue off, white off; buzzer 4" (LA6: lit or dark per tier). */
export function readingInWords(reading: TowerReading): string {
    switch (reading.kind) {
        case "signal":
            return `${LAMPS.map((lamp) => `${lamp} ${reading.signal[lamp]}`).join(", ")}; ${reading.signal.buzzer === 0 ? "buzzer silent" : `buzzer ${reading.signal.buzzer}`}`;
        case "lit":
            return `${LAMPS.map((lamp, tier) => `tier ${tier + 1} (${lamp}) ${reading.lit[lamp] ? "lit" : "dark"}`).join(", ")}; ${reading.buzzer === 0 ? "buzzer silent" : `buzzer ${reading.buzzer}`} (an LA6 reports lit or dark, not the colour or flashing)`;
        case "smart":
            return `smart mode: stored group ${reading.group}, pattern ${reading.pattern} (the tower runs its own pattern)`;
    }
}

/** `{"ack": true, "sent": "57 55"}`, with `"error"` when there is one. */
export function resultLine(result: Pick<SendResult, "ack" | "sent" | "error">): string {
    const error = result.error === undefined ? "" : `, "error": ${JSON.stringify(result.error)}`;
    return `{"ack": ${result.ack}, "sent": ${JSON.stringify(result.sent)}${error}}`;
}

function encoding(encode: () => Buffer): Buffer {
    try {
        return encode();
    } catch (error) {
        if (error instanceof PatliteEncodingError) throw new UsageError(`--${error.field}`, `--${error.field}: ${error.message}`);
        throw error;
    }
}

function lampMode(lamp: Lamp, text: string): LampMode {
    if (!(LAMP_MODES as readonly string[]).includes(text)) throw new UsageError(`--${lamp}`, `--${lamp} must be ${LAMP_MODES.join(", ")}, got "${text}"`);
    return text as LampMode;
}

function parseColors(text: string): La6Detail["colors"] {
    const parts = text.split(",");
    if (parts.length !== 5) throw new UsageError("--colors", `--colors needs 5 tier colours separated by commas (tier 1 first), got ${parts.length}: "${text}"`);
    try {
        return parts.map((part) => la6Color(part)) as unknown as La6Detail["colors"];
    } catch (error) {
        throw new UsageError("--colors", `--colors: ${error instanceof Error ? error.message : String(error)}`);
    }
}

function onOff(flag: string, text: string): boolean {
    if (text === "on" || text === "1") return true;
    if (text === "off" || text === "0") return false;
    throw new UsageError(flag, `${flag} must be on or off, got "${text}"`);
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
    const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw new UsageError(flag, `${flag} must be a whole number${max === Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ` from ${min} to ${max}`}, got "${text}"`);
    }
    return value;
}

if (typeof require !== "undefined" && require.main === module) {
    runPatlite(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (error) => {
            process.stderr.write(`patlite: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
