import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { toSignal } from "../../functions/shared/patlite/signal";
import type { TowerProtocol } from "../../functions/shared/tower-config";
import { startTowerEmulator, type TowerEmulator } from "../../tools/local/patlite-emulator";
import { parsePatliteArgs, protocolHint, resultLine, runPatlite, UsageError, type SendRequest } from "../../tools/patlite-cli";
import { closedPort } from "../functions/closed-port";

const run = promisify(execFile);
const root = path.resolve(__dirname, "..", "..");

/** Runs the operator CLI as a child process, as `npm run --silent patlite --` does. */
async function patlite(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "tools/patlite-cli.ts", ...args], { cwd: root });
        return { code: 0, stdout, stderr };
    } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
}

const emulators: TowerEmulator[] = [];
afterEach(async () => {
    await Promise.all(emulators.splice(0).map((e) => e.close()));
});
async function tower(protocol: TowerProtocol): Promise<TowerEmulator> {
    const emulator = await startTowerEmulator({ protocol });
    emulators.push(emulator);
    return emulator;
}


/** The manuals' examples: flags an operator types, and the bytes the manual prints for them. */
const MANUAL_EXAMPLES: { protocol: TowerProtocol; flags: string[]; sent: string }[] = [
    { protocol: "pns", flags: ["--red", "on", "--amber", "flash1", "--green", "flash2", "--buzzer", "4"], sent: "58 58 53 00 00 06 01 02 03 00 00 04" },
    { protocol: "phn", flags: ["--red", "on", "--amber", "flash1", "--green", "on", "--buzzer", "2"], sent: "57 55" },
    { protocol: "la6", flags: ["--colors", "green,blue,off,white,red", "--flash", "off", "--buzzer", "11"], sent: "41 42 44 00 00 07 04 06 00 09 01 00 0B" },
];

function request(args: string[]): SendRequest {
    const parsed = parsePatliteArgs(args);
    if (parsed === "help" || parsed.command === "status") throw new Error("unexpected help or status");
    return parsed;
}

function usageError(args: string[]): UsageError {
    try {
        parsePatliteArgs(args);
    } catch (error) {
        if (error instanceof UsageError) return error;
        throw error;
    }
    throw new Error(`no usage error for ${args.join(" ")}`);
}

describe("npm run patlite -- send (child process against an emulated tower)", () => {
    it("sends the manuals' exact bytes and prints them with ack true", async () => {
        await Promise.all(
            MANUAL_EXAMPLES.map(async ({ protocol, flags, sent }) => {
                const t = await tower(protocol);
                const { code, stdout } = await patlite("send", "--host", "127.0.0.1", "--port", String(t.port), "--protocol", protocol, ...flags);
                expect(stdout.endsWith("\n"), protocol).toBe(true);
                expect(stdout.trim().split("\n"), protocol).toHaveLength(1);
                expect(JSON.parse(stdout), protocol).toEqual({ ack: true, sent });
                expect(code, protocol).toBe(0);
                expect(t.commands.map((c) => c.toString("hex")), protocol).toEqual([sent.replace(/ /g, "").toLowerCase()]);
            }),
        );
    }, 20_000);

    it("prints ack false and exits 1 when the tower answers NAK", async () => {
        const t = await tower("pns");
        t.failNext(1, "nak");
        const { code, stdout } = await patlite("send", "--host", "127.0.0.1", "--port", String(t.port), "--protocol", "pns", "--red", "on", "--attempts", "1");
        expect(code).toBe(1);
        const line = JSON.parse(stdout);
        expect(line).toMatchObject({ ack: false, sent: "58 58 53 00 00 06 01 00 00 00 00 00" });
        expect(line.error).toContain(`127.0.0.1:${t.port} answered NAK (15)`);
        expect(t.state()).toEqual(toSignal({}));
    }, 15_000);

    it("prints ack false with an error naming host:port when nothing listens", async () => {
        const port = await closedPort();
        const { code, stdout } = await patlite("send", "--host", "127.0.0.1", "--port", String(port), "--protocol", "la6", "--clear", "--attempts", "1");
        expect(code).toBe(1);
        const line = JSON.parse(stdout);
        expect(line.ack).toBe(false);
        expect(line.sent).toBe("41 42 43 00 00 00");
        expect(line.error).toContain(`127.0.0.1:${port}`);
        expect(line.error).toContain("connection refused");
    }, 15_000);

    it("exits 2 with a usage message naming the bad flag, printing nothing on stdout", async () => {
        const bad = await patlite("send", "--host", "127.0.0.1", "--protocol", "phn", "--blue", "on");
        expect(bad.code).toBe(2);
        expect(bad.stdout).toBe("");
        expect(bad.stderr).toContain("--blue");
        expect(bad.stderr).toContain("usage: npm run --silent patlite -- send");
        const unknown = await patlite("send", "--host", "127.0.0.1", "--protocol", "pns", "--purple", "on");
        expect(unknown.code).toBe(2);
        expect(unknown.stderr).toContain("--purple");
    }, 15_000);

    it("works through the npm script", async () => {
        const t = await tower("pns");
        const { stdout } = await run("npm", ["run", "--silent", "patlite", "--", "send", "--host", "127.0.0.1", "--port", String(t.port), "--protocol", "pns", "--green", "on"], { cwd: root });
        expect(JSON.parse(stdout)).toEqual({ ack: true, sent: "58 58 53 00 00 06 00 00 01 00 00 00" });
        expect(t.state()).toEqual(toSignal({ green: "on" }));
        const status = await run("npm", ["run", "--silent", "patlite", "--", "status", "--host", "127.0.0.1", "--port", String(t.port), "--protocol", "pns", "--json"], { cwd: root });
        expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, reply: "00 00 01 00 00 00", reading: { kind: "signal", signal: toSignal({ green: "on" }) } });
    }, 20_000);
});

describe("argument parsing", () => {
    it("turns the manuals' flags into the manuals' bytes", () => {
        for (const { protocol, flags, sent } of MANUAL_EXAMPLES) {
            const parsed = request(["send", "--host", "10.20.30.40", "--protocol", protocol, ...flags]);
            expect(parsed.payload.toString("hex")).toBe(sent.replace(/ /g, "").toLowerCase());
            expect(parsed.address).toEqual({ host: "10.20.30.40", port: 10000, protocol });
        }
    });

    it("takes LA6 colours by name or number, and flash on", () => {
        const byNumber = request(["send", "--host", "h", "--protocol", "la6", "--colors", "4,6,0,9,1", "--flash", "on", "--buzzer", "3"]);
        const byName = request(["send", "--host", "h", "--protocol", "la6", "--colors", "Green,blue,off,white,RED", "--flash", "on", "--buzzer", "3"]);
        expect(byName.payload).toEqual(byNumber.payload);
        expect([...byNumber.payload.subarray(6)]).toEqual([4, 6, 0, 9, 1, 1, 3]);
    });

    it("maps lamp flags onto LA6 tiers", () => {
        expect([...request(["send", "--host", "h", "--protocol", "la6", "--red", "flash1", "--buzzer", "1"]).payload.subarray(6)]).toEqual([1, 0, 0, 0, 0, 1, 1]);
    });

    it("sends each protocol's clear for --clear", () => {
        expect(request(["send", "--host", "h", "--protocol", "pns", "--clear"]).payload.toString("hex")).toBe("585843000000");
        expect(request(["send", "--host", "h", "--protocol", "phn", "--clear"]).payload.toString("hex")).toBe("5700");
    });

    it("passes --port, --timeout and --attempts through", () => {
        const parsed = request(["send", "--host", "h", "--port", "10001", "--protocol", "pns", "--timeout", "500", "--attempts", "1"]);
        expect(parsed.address.port).toBe(10001);
        expect(parsed.options).toEqual({ timeoutMs: 500, attempts: 1, retryAnswers: false });
    });

    const bad: [string, string[], RegExp][] = [
        ["--host", ["send", "--protocol", "pns"], /--host is required/],
        ["--protocol", ["send", "--host", "h"], /--protocol is required: one of phn, pns, la6/],
        ["--protocol", ["send", "--host", "h", "--protocol", "nh"], /--protocol must be one of phn, pns, la6, got "nh"/],
        ["--port", ["send", "--host", "h", "--protocol", "pns", "--port", "0"], /--port must be a whole number from 1 to 65535, got "0"/],
        ["--port", ["send", "--host", "h", "--protocol", "pns", "--port", "ten"], /--port must be a whole number/],
        ["--red", ["send", "--host", "h", "--protocol", "pns", "--red", "blink"], /--red must be off, on, flash1, flash2, got "blink"/],
        ["--blue", ["send", "--host", "h", "--protocol", "phn", "--blue", "on"], /PHN cannot show the blue lamp/],
        ["--buzzer", ["send", "--host", "h", "--protocol", "pns", "--buzzer", "5"], /buzzer patterns 1–4/],
        ["--buzzer", ["send", "--host", "h", "--protocol", "phn", "--buzzer", "3"], /buzzer patterns 1–2/],
        ["--buzzer", ["send", "--host", "h", "--protocol", "la6", "--colors", "1,0,0,0,0", "--buzzer", "12"], /buzzer patterns 1–11/],
        ["--buzzer", ["send", "--host", "h", "--protocol", "pns", "--buzzer=-1"], /--buzzer must be a whole number/],
        ["--buzzer", ["send", "--host", "h", "--protocol", "pns", "--buzzer", "-1"], /--buzzer/],
        ["--colors", ["send", "--host", "h", "--protocol", "pns", "--colors", "1,0,0,0,0"], /--colors is for --protocol la6 only/],
        ["--colors", ["send", "--host", "h", "--protocol", "la6", "--colors", "1,0,0,0"], /--colors needs 5 tier colours/],
        ["--colors", ["send", "--host", "h", "--protocol", "la6", "--colors", "1,0,0,0,pink"], /"pink" is not an LA6 colour/],
        ["--flash", ["send", "--host", "h", "--protocol", "la6", "--flash", "on"], /--flash goes with --colors/],
        ["--flash", ["send", "--host", "h", "--protocol", "la6", "--colors", "1,0,0,0,0", "--flash", "yes"], /--flash must be on or off/],
        ["--red", ["send", "--host", "h", "--protocol", "la6", "--colors", "1,0,0,0,0", "--red", "on"], /either --colors or lamp flags/],
        ["--red", ["send", "--host", "h", "--protocol", "pns", "--clear", "--red", "on"], /--clear turns everything off; it cannot be combined with --red/],
        ["--bogus", ["send", "--host", "h", "--protocol", "pns", "--bogus"], /Unknown option '--bogus'/],
        ["--red", ["send", "--host", "h", "--protocol", "pns", "--red"], /--red/],
    ];
    for (const [flag, args, message] of bad) {
        it(`names ${flag} for: ${args.slice(1).join(" ")}`, () => {
            const error = usageError(args);
            expect(error.flag).toBe(flag);
            expect(error.message).toMatch(message);
        });
    }

    it("wants the send command and nothing loose", () => {
        expect(usageError([]).message).toMatch(/missing command: send or status/);
        expect(usageError(["light", "--host", "h"]).message).toMatch(/unknown command "light": the commands are send and status/);
        expect(usageError(["send", "on", "--host", "h", "--protocol", "pns"]).message).toMatch(/unexpected argument "on"/);
        expect(parsePatliteArgs(["--help"])).toBe("help");
    });
});

describe("output", () => {
    it("is one JSON line, with error only when there is one", async () => {
        expect(resultLine({ ack: true, sent: "57 55" })).toBe('{"ack": true, "sent": "57 55"}');
        expect(JSON.parse(resultLine({ ack: false, sent: "57 55", error: 'said "no"' }))).toEqual({ ack: false, sent: "57 55", error: 'said "no"' });
        const out: string[] = [];
        const err: string[] = [];
        const code = await runPatlite(["send", "--host", "h", "--protocol", "pns"], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, async (_address, payload) => ({
            ack: false,
            attempts: 3,
            sent: payload.toString("hex"),
            error: "h:10000 answered NAK (15); gave up after 3 attempts",
        }));
        expect(code).toBe(1);
        expect(out).toEqual(['{"ack": false, "sent": "585853000006000000000000", "error": "h:10000 answered NAK (15); gave up after 3 attempts"}\n']);
        expect(err).toEqual([]);
    });
});

describe("npm run patlite -- status (child process against an emulated tower)", () => {
    // Sent with send, then read back: PHN and PNS give the whole signal (PHN knows one flash kind,
    // so flash2 reads back flash1); an LA6 says only which tiers are lit (status.ts).
    const cases: { protocol: TowerProtocol; flags: string[]; words: string; reading: unknown }[] = [
        {
            protocol: "phn",
            flags: ["--red", "flash2", "--green", "on", "--buzzer", "2"],
            words: "red flash1, amber off, green on, blue off, white off; buzzer 2",
            reading: { kind: "signal", signal: { red: "flash1", amber: "off", green: "on", blue: "off", white: "off", buzzer: 2 } },
        },
        {
            protocol: "pns",
            flags: ["--red", "on", "--amber", "flash1", "--green", "flash2", "--white", "on", "--buzzer", "4"],
            words: "red on, amber flash1, green flash2, blue off, white on; buzzer 4",
            reading: { kind: "signal", signal: { red: "on", amber: "flash1", green: "flash2", blue: "off", white: "on", buzzer: 4 } },
        },
        {
            protocol: "la6",
            flags: ["--colors", "green,off,off,white,red", "--flash", "on", "--buzzer", "11"],
            words: "tier 1 (red) lit, tier 2 (amber) dark, tier 3 (green) dark, tier 4 (blue) lit, tier 5 (white) lit; buzzer 11",
            reading: { kind: "lit", lit: { red: true, amber: false, green: false, blue: true, white: true }, buzzer: 11 },
        },
    ];

    it("shows, in words and as JSON, the lamps that were sent", async () => {
        await Promise.all(
            cases.map(async ({ protocol, flags, words, reading }) => {
                const t = await tower(protocol);
                const at = ["--host", "127.0.0.1", "--port", String(t.port), "--protocol", protocol];
                expect((await patlite("send", ...at, ...flags)).code, protocol).toBe(0);
                const text = await patlite("status", ...at);
                expect(text.code, protocol).toBe(0);
                expect(text.stdout, protocol).toContain(`127.0.0.1:${t.port}`);
                expect(text.stdout, protocol).toContain(words);
                const json = await patlite("status", ...at, "--json");
                expect(json.code, protocol).toBe(0);
                expect(json.stdout.trim().split("\n"), protocol).toHaveLength(1);
                expect(JSON.parse(json.stdout), protocol).toMatchObject({ ok: true, protocol, reading });
                // One status request per read, the protocol's own bytes.
                const request = { phn: "52", pns: "585847000000", la6: "414247000000" }[protocol];
                expect(t.commands.slice(1).map((c) => c.toString("hex")), protocol).toEqual([request, request]);
            }),
        );
    }, 30_000);

    it("answers a wrong --protocol at once, with one attempt and the likely protocol", async () => {
        const towers = await Promise.all((["phn", "pns", "la6"] as const).map((protocol) => tower(protocol)));
        for (const t of towers) {
            for (const wrong of (["phn", "pns", "la6"] as const).filter((p) => p !== t.protocol)) {
                for (const command of ["status", "send"] as const) {
                    const label = `${t.protocol} tower asked ${wrong} (${command})`;
                    const before = t.commands.length;
                    const started = Date.now();
                    const out: string[] = [];
                    const code = await runPatlite(
                        [command, "--host", "127.0.0.1", "--port", String(t.port), "--protocol", wrong, ...(command === "send" ? ["--red", "on"] : ["--json"])],
                        { stdout: (text) => out.push(text), stderr: (text) => out.push(text) },
                    );
                    expect(Date.now() - started, label).toBeLessThan(500);
                    expect(code, label).toBe(1);
                    expect(t.commands.length - before, label).toBe(1);
                    const line = JSON.parse(out.join(""));
                    expect(line.ack ?? line.ok, label).toBe(false);
                    expect(line.error, label).toMatch(new RegExp(`try (--protocol \\w+ or )?--protocol ${t.protocol}`));
                    expect(line.error, label).toContain("not retried");
                }
            }
        }
        // The protocols' NAKs tell the towers apart where they can: a PHN tower answers NAK in ASCII.
        const phn = towers[0];
        const pnsAsked = await patlite("status", "--host", "127.0.0.1", "--port", String(phn.port), "--protocol", "pns");
        expect(pnsAsked.code).toBe(1);
        expect(pnsAsked.stdout).toBe("");
        expect(pnsAsked.stderr).toMatch(/answered 4E 41 4B, which is not a PNS \(NH series\) answer.*is it a PHN tower or .*\? try --protocol phn or --protocol la6/);
    }, 30_000);

    it("still retries silence, and says so", async () => {
        const t = await tower("pns");
        t.failNext(1, "silent");
        const result = await patlite("send", "--host", "127.0.0.1", "--port", String(t.port), "--protocol", "pns", "--green", "on", "--timeout", "300");
        expect(JSON.parse(result.stdout)).toEqual({ ack: true, sent: "58 58 53 00 00 06 00 00 01 00 00 00" });
        expect(t.commands).toHaveLength(2);
        const status = await tower("la6");
        status.failNext(1, "silent");
        const read = await patlite("status", "--host", "127.0.0.1", "--port", String(status.port), "--protocol", "la6", "--timeout", "300", "--json");
        expect(read.code).toBe(1);
        expect(JSON.parse(read.stdout).error).toBe(`127.0.0.1:${status.port} sent no answer within 300 ms; gave up after 1 attempt`);
        expect(status.commands).toHaveLength(1);
    }, 15_000);

    it("rejects send's flags, and --json on send", () => {
        expect(usageError(["status", "--host", "h", "--protocol", "pns", "--red", "on"])).toMatchObject({ flag: "--red", message: expect.stringMatching(/status only reads the tower/) });
        expect(usageError(["status", "--host", "h", "--protocol", "pns", "--attempts", "3"])).toMatchObject({ flag: "--attempts" });
        expect(usageError(["send", "--host", "h", "--protocol", "pns", "--json"])).toMatchObject({ flag: "--json" });
        expect(usageError(["status", "--host", "h"])).toMatchObject({ flag: "--protocol" });
        const parsed = parsePatliteArgs(["status", "--host", "h", "--protocol", "la6"]);
        expect(parsed).toMatchObject({ command: "status", options: { attempts: 1, timeoutMs: 1500, retryAnswers: false }, json: false });
    });

    it("reports a status answer of the right length that the shared decoder cannot read, with the hint", async () => {
        const out: string[] = [];
        const err: string[] = [];
        // 09 ("no change") is never in a PNS status answer (pns.ts decodePnsStatusReply).
        const code = await runPatlite(["status", "--host", "h", "--protocol", "pns"], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, async (_address, payload) => ({
            ack: true,
            attempts: 1,
            sent: payload.toString("hex"),
            reply: "09 00 00 00 00 00",
        }));
        expect(code).toBe(1);
        expect(out).toEqual([]);
        expect(err.join("")).toMatch(/^patlite: h:10000 answered 09 00 00 00 00 00, which says nothing readable about the lamps: .*09.* try --protocol la6 or --protocol phn\n$/);
    });

    it("guesses the tower from the answer's form", () => {
        expect(protocolHint("pns", "15")).toBe("the tower answered NAK to PNS (NH series): is it an LA6-POE (PNS for LA6) or a PHN tower? try --protocol la6 or --protocol phn");
        expect(protocolHint("la6", "4E 41 4B")).toMatch(/not PNS for LA6-POE: is it a PHN tower or an NH series tower \(PNS\)\? try --protocol phn or --protocol pns$/);
        expect(protocolHint("phn", "4E 41 4B")).toMatch(/^the tower answered NAK to PHN: .* try --protocol pns or --protocol la6$/);
        expect(protocolHint("phn", "15")).toMatch(/^the tower gave an answer that is not PHN/);
    });
});
