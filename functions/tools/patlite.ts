import { parseArgs } from "node:util";
import { sendCommand, type SendOptions, type SendResult, type TowerAddress } from "../shared/patlite/client";
import { encodeClear, encodeSignal, PatliteEncodingError } from "../shared/patlite/codec";
import { encodeLa6Detail, la6Color, LA6_COLORS, type La6Detail } from "../shared/patlite/la6";
import { LAMP_MODES, LAMPS, toSignal, type Lamp, type LampMode, type SignalSpec } from "../shared/patlite/signal";
import { TOWER_PROTOCOLS, type TowerProtocol } from "../shared/tower-config";

/**
 * The on-site installation check: sends one command to a tower and prints one JSON line,
 * `{"ack": true, "sent": "58 58 53 00 00 06 01 02 03 00 00 04"}` (plus `"error"` when there is
 * one). Exit 0 on ACK, 1 without, 2 for bad arguments (with a usage message naming the flag).
 *
 *   npm run --silent patlite -- send --host 192.168.10.1 --protocol pns --red on --amber flash1 --green flash2 --buzzer 4
 *   npm run --silent patlite -- send --host 192.168.10.1 --protocol phn --red on --amber flash1 --green on --buzzer 2
 *   npm run --silent patlite -- send --host 192.168.10.1 --protocol la6 --colors green,blue,off,white,red --flash off --buzzer 11
 *   npm run --silent patlite -- send --host 192.168.10.1 --protocol pns --clear
 */

export const USAGE = `usage: npm run --silent patlite -- send --host <ip> [--port 10000] --protocol phn|pns|la6 <what to show>
  what to show, one of:
    [--red|--amber|--green|--blue|--white off|on|flash1|flash2] [--buzzer N]
        the whole tower state: lamps not named are off, the buzzer is silent unless given.
        phn: red, amber, green only, one flash kind, buzzer 0-2; pns: buzzer 0-4;
        la6: lamp k lights tier k in that lamp's colour, buzzer 0-11, any flash flashes every lit tier.
    --colors c1,c2,c3,c4,c5 [--flash on|off] [--buzzer N]        (la6 only: tier colours, by name or 0-9:
        ${LA6_COLORS.map((name, code) => `${code} ${name}`).join(", ")})
    --clear                                                        (everything off and silent)
  options: --timeout <ms> (3000 per attempt), --attempts <n> (3)
prints {"ack": true|false, "sent": "<hex bytes>"}; exit 0 on ACK, 1 without, 2 for bad arguments`;

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
    readonly address: TowerAddress;
    readonly payload: Buffer;
    readonly options: SendOptions;
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
    help: { type: "boolean" },
} as const;

/**
 * Reads the arguments after `patlite` (`send --host … --protocol …`) into the command to send;
 * throws {@link UsageError} naming the flag at fault. Returns "help" for `--help`. Pure: no I/O.
 */
export function parsePatliteArgs(argv: readonly string[]): SendRequest | "help" {
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
    if (positionals.length === 0) throw new UsageError(undefined, "missing command: the only command is send");
    if (positionals[0] !== "send") throw new UsageError(undefined, `unknown command "${positionals[0]}": the only command is send`);
    if (positionals.length > 1) throw new UsageError(undefined, `unexpected argument "${positionals[1]}": every value goes after its flag, e.g. --red on`);

    if (values.host === undefined || values.host.trim() === "") throw new UsageError("--host", "--host is required: the tower's IP address");
    const port = wholeNumber("--port", values.port ?? "10000", 1, 65535);
    if (values.protocol === undefined) throw new UsageError("--protocol", `--protocol is required: one of ${TOWER_PROTOCOLS.join(", ")}`);
    if (!(TOWER_PROTOCOLS as readonly string[]).includes(values.protocol)) {
        throw new UsageError("--protocol", `--protocol must be one of ${TOWER_PROTOCOLS.join(", ")}, got "${values.protocol}"`);
    }
    const protocol = values.protocol as TowerProtocol;
    const options: SendOptions = {
        ...(values.timeout !== undefined ? { timeoutMs: wholeNumber("--timeout", values.timeout, 1, 600_000) } : {}),
        ...(values.attempts !== undefined ? { attempts: wholeNumber("--attempts", values.attempts, 1, 100) } : {}),
    };
    const address: TowerAddress = { host: values.host.trim(), port, protocol };

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
    let request: SendRequest | "help";
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
    const result = await send(request.address, request.payload, request.options);
    io.stdout(`${resultLine(result)}\n`);
    return result.ack ? 0 : 1;
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
