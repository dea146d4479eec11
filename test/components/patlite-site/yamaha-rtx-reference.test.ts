/**
 * The YAMAHA RTX configuration against the references, not against itself: golden configurations
 * written by hand from the specification, AWS's Yamaha sample and YAMAHA's command reference
 * (test/fixtures/contracts/yamaha-rtx/golden), and a command checker driven by a command list
 * written from the reference (test/fixtures/contracts/yamaha-rtx/commands.json). Neither was
 * produced by, or written from, components/patlite-site/yamaha-rtx-config.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { yamahaRtxConfig, type RouterConfigInput } from "../../../components/patlite-site/yamaha-rtx-config";
import { commandLines, compareFirmware, loadCommandList, RTX_FIXTURES, RTX_MODELS, RtxCommandChecker, type RtxModel } from "./rtx-command-grammar";

type SpecInput = RouterConfigInput;
const generate = (input: SpecInput): string => yamahaRtxConfig(input);

const GOLDEN = join(RTX_FIXTURES, "golden");
const inputs = JSON.parse(readFileSync(join(GOLDEN, "inputs.json"), "utf8")) as Record<string, unknown>;
const goldenNames = Object.keys(inputs).filter((k) => k !== "about");
const goldenInput = (name: string): SpecInput => inputs[name] as SpecInput;
const goldenText = (name: string): string => readFileSync(join(GOLDEN, `${name}.txt`), "utf8");

describe("golden configurations (written by hand from the references)", () => {
    it("cover the five cases issue 10 asks for", () => {
        const cases = goldenNames.map((n) => {
            const i = goldenInput(n);
            return `${i.model}/${i.bgp ? "bgp" : "static"}/${i.behindNat ? (i.wanAddress ? "nat+wan" : "nat") : "direct"}/${i.firmware ?? "-"}`;
        });
        expect(cases.sort()).toEqual(["rtx1210/static/direct/14.01.20", "rtx1220/bgp/direct/-", "rtx1300/static/nat/-", "rtx810/static/direct/-", "rtx830/bgp/nat+wan/-"]);
    });

    for (const name of goldenNames) {
        it(`${name}: every line passes the checker for its model and firmware`, () => {
            const input = goldenInput(name);
            expect(new RtxCommandChecker(input.model, input.firmware).checkText(goldenText(name))).toEqual([]);
        });

        it(`${name}: the generator's command lines equal the golden's`, () => {
            expect(commandLines(generate(goldenInput(name)))).toEqual(commandLines(goldenText(name)));
        });
    }
});

/** The top two numbers of each model's tunnel range and 200 + each, the site config's defaults. */
const DEFAULT_TUNNELS: Record<RtxModel, readonly [number, number]> = { rtx810: [5, 6], rtx830: [19, 20], rtx1210: [99, 100], rtx1220: [99, 100], rtx1300: [99, 100] };
/** A firmware below every optional command's floor (the earliest revisions rtpro's model tables name). */
const LOW_FIRMWARE: Record<RtxModel, string> = { rtx810: "11.01.04", rtx830: "15.02.01", rtx1210: "14.01.05", rtx1220: "15.04.01", rtx1300: "23.00.01" };

const OPTIONAL_IKEV2 = ["ipsec ike proposal-limitation", "ipsec ike message-id-control", "ipsec ike child-exchange type", "ipsec ike negotiation receive"];
const COMMANDS = loadCommandList();

/** Whether the command list gives `model` on `firmware` (omitted = every command) this command. */
function hasCommand(model: RtxModel, firmware: string | undefined, id: string): boolean {
    const entry = COMMANDS.commands.find((c) => c.id === id)?.models[model];
    if (!entry || entry.available === false) return false;
    return firmware === undefined || entry.since === undefined || compareFirmware(firmware, entry.since) >= 0;
}

function matrixInput(model: RtxModel, bgp: boolean, nat: "direct" | "nat+wan" | "nat", firmware: string | undefined): SpecInput {
    const [n0, n1] = DEFAULT_TUNNELS[model];
    return {
        siteName: "matrix-site",
        vpnConnectionId: "vpn-0123456789abcdef0",
        model,
        ...(firmware === undefined ? {} : { firmware }),
        customerGatewayIp: "203.0.113.60",
        ...(nat === "direct" ? {} : { behindNat: true }),
        ...(nat === "nat+wan" ? { wanAddress: "192.0.2.60" } : {}),
        tunnelNumbers: [n0, n1],
        policyIds: [200 + n0, 200 + n1],
        vpcCidr: "192.0.2.128/25",
        siteCidr: "203.0.113.128/25",
        tunnels: [
            { outsideAddress: "198.51.100.61", customerInsideAddress: "169.254.60.2", awsInsideAddress: "169.254.60.1", presharedKey: "Matrix.key_one" },
            { outsideAddress: "198.51.100.62", customerInsideAddress: "169.254.61.6", awsInsideAddress: "169.254.61.5", presharedKey: "Matrix.key_two" },
        ],
        ...(bgp ? { bgp: { customerAsn: 65030, awsAsn: 64512 } } : {}),
    };
}

describe("every command the generator emits is in that model's command list", () => {
    for (const model of RTX_MODELS) {
        for (const bgp of [false, true]) {
            for (const nat of ["direct", "nat+wan", "nat"] as const) {
                for (const firmware of [undefined, LOW_FIRMWARE[model]]) {
                    it(`${model} ${bgp ? "bgp" : "static"} ${nat} firmware ${firmware ?? "omitted"}`, () => {
                        const text = generate(matrixInput(model, bgp, nat, firmware));
                        const checker = new RtxCommandChecker(model, firmware);
                        expect(checker.checkText(text)).toEqual([]);
                        const lines = commandLines(text);
                        // the input's tunnel numbers, not fixed ones; gateway ids and BGP neighbor ids follow them
                        const [n0, n1] = DEFAULT_TUNNELS[model];
                        expect(lines).toContain(`tunnel select ${n0}`);
                        expect(lines).toContain(`tunnel select ${n1}`);
                        expect(lines).toContain(`ipsec ike version ${n1} 2`);
                        if (bgp) expect(lines.filter((l) => l.startsWith("bgp neighbor ")).map((l) => l.split(" ")[2])).toEqual([`${n0}`, `${n1}`]);
                        // the optional IKEv2 commands: present (once per tunnel) exactly where the model table
                        // of §15.44-15.47 in the command list says the model and firmware have them
                        for (const id of OPTIONAL_IKEV2) {
                            const expected = hasCommand(model, firmware, id) ? 2 : 0;
                            expect(lines.filter((l) => l.startsWith(`${id} `)), `${id} on ${model} ${firmware ?? ""}`).toHaveLength(expected);
                        }
                        if (model !== "rtx810") {
                            // on the current models every emitted command has a settled source in the reference
                            const unsettled = commandLines(text).flatMap((l) => {
                                const v = checker.check(l);
                                return v.ok && !v.confirmed ? [v.command] : [];
                            });
                            expect(unsettled).toEqual([]);
                        }
                    });
                }
            }
        }
    }
});

describe("the checker refuses what the reference refuses", () => {
    const refused: readonly { model: RtxModel; firmware?: string; line: string; why: RegExp }[] = [
        { model: "rtx830", line: "ipsec ike hash 1 sha512", why: /"sha512" is not one of md5\|sha\|sha256 on rtx830/ },
        { model: "rtx1220", line: "ipsec ike hash 1 sha384", why: /not one of md5\|sha\|sha256/ },
        { model: "rtx1300", line: "ipsec ike group 1 ecp256", why: /"ecp256" is not one of modp768\|modp1024\|modp1536\|modp2048/ },
        { model: "rtx830", line: "ipsec ike group 1 ecp256", why: /ecp256/ },
        { model: "rtx1220", line: "bgp autonomous-system 4200000000", why: /"4200000000" is not an integer 1\.\.65535/ },
        { model: "rtx1300", line: "bgp neighbor 1 4200000000 169.254.10.1 hold-time=30", why: /1\.\.65535/ },
        { model: "rtx830", line: "tunnel select 21", why: /"21" is not an integer 1\.\.20 on rtx830/ },
        { model: "rtx1300", line: "tunnel select 101", why: /1\.\.100 on rtx1300/ },
        { model: "rtx810", line: "tunnel select 7", why: /1\.\.6 on rtx810/ },
        { model: "rtx830", line: "ipsec ike version 21 2", why: /gateway_id.*1\.\.20 on rtx830/ },
        { model: "rtx810", line: "ipsec ike proposal-limitation 1 on", why: /not available on rtx810/ },
        { model: "rtx810", line: "ipsec ike message-id-control 1 on", why: /not available on rtx810/ },
        { model: "rtx810", line: "ipsec ike child-exchange type 1 2", why: /not available on rtx810/ },
        { model: "rtx810", line: "ipsec ike negotiation receive 1 off", why: /not available on rtx810/ },
        { model: "rtx1210", firmware: "14.01.05", line: "ipsec ike proposal-limitation 1 on", why: /needs rtx1210 Rev\.14\.01\.09 or later, firmware is Rev\.14\.01\.05/ },
        { model: "rtx1210", firmware: "14.01.08", line: "ipsec ike message-id-control 1 on", why: /Rev\.14\.01\.09/ },
        { model: "rtx1210", firmware: "14.01.10", line: "ipsec ike child-exchange type 1 2", why: /Rev\.14\.01\.11/ },
        { model: "rtx1210", firmware: "14.01.20", line: "ipsec ike negotiation receive 1 off", why: /Rev\.14\.01\.26/ },
        { model: "rtx830", firmware: "15.02.02", line: "ipsec ike negotiation receive 1 off", why: /Rev\.15\.02\.03/ },
        { model: "rtx1220", line: "ipsec ike encryption 1 aes128-gcm", why: /not one of 3des-cbc\|des-cbc\|aes-cbc\|aes256-cbc/ },
        { model: "rtx1220", line: "ipsec sa policy 201 1 esp aes256-gcm sha256-hmac", why: /aes256-gcm/ },
        { model: "rtx1220", line: "ipsec sa policy 201 1 esp aes256-cbc sha512-hmac", why: /sha512-hmac/ },
        { model: "rtx1220", line: "ipsec sa policy 0 1 esp aes256-cbc sha256-hmac", why: /policy_id.*1\.\.2147483647/ },
        { model: "rtx1220", line: "ipsec ike duration ipsec-sa 1 299", why: /300\.\.691200/ },
        { model: "rtx1220", line: "ipsec ike duration isakmp-sa 1 691201", why: /300\.\.691200/ },
        { model: "rtx1220", line: "ipsec ike duration phase1-sa 1 28800", why: /\{sa\}/ },
        { model: "rtx1220", line: "ipsec ike keepalive use 1 on rfc4306 0 3", why: /\{interval\}.*1\.\.600/ },
        { model: "rtx1220", line: "ipsec ike keepalive use 1 on rfc4306 10 51", why: /\{count\}.*1\.\.50/ },
        { model: "rtx1220", line: "ipsec ike keepalive use 1 on rfc4306 10", why: /missing \{count\}/ },
        { model: "rtx1220", line: "ipsec ike local name 1 203.0.113.10 ipv4", why: /id_type/ },
        { model: "rtx1220", line: "ipsec ike local address 1 203.0.113.300", why: /IPv4 address/ },
        { model: "rtx1220", line: "ipsec ike pre-shared-key 1 text", why: /missing \{text\}/ },
        { model: "rtx1220", line: "ipsec ike pre-shared-key 1 text bad#key1", why: /unescaped/ },
        { model: "rtx1220", line: `ipsec ike pre-shared-key 1 text ${"k".repeat(129)}`, why: /at most 128/ },
        { model: "rtx1220", line: `description tunnel ${"d".repeat(65)}`, why: /at most 64/ },
        { model: "rtx1220", line: "ip tunnel address 169.254.10.2/33", why: /\/0\.\.32/ },
        { model: "rtx1220", line: "ip tunnel tcp mss limit 1500", why: /536\.\.1460/ },
        { model: "rtx1220", line: "ip route 192.0.2.1/25 gateway tunnel 1 hide", why: /host bits zero/ },
        { model: "rtx1220", line: "ip route 192.0.2.0/25 gateway tunnel 101 hide", why: /1\.\.100 on rtx1220/ },
        { model: "rtx1220", line: "bgp neighbor 1 64512 169.254.10.1 hold-time=2", why: /hold-time/ },
        { model: "rtx1220", line: "bgp neighbor 1 64512 169.254.10.1 holdtime=30", why: /TYPE=VALUE/ },
        { model: "rtx1220", line: "bgp import 64512 connected filter 1", why: /static\|rip\|ospf\|aggregate/ },
        { model: "rtx1220", line: "bgp import filter 1 equal 203.0.113.129/25", why: /host bits zero/ },
        { model: "rtx1220", line: "bgp export 70000 filter 1", why: /1\.\.65535/ },
        { model: "rtx1220", line: "tunnel encapsulation gre", why: /one of ipsec/ },
        { model: "rtx1220", line: "tunnel enable 5 extra", why: /unexpected "extra"/ },
        { model: "rtx1220", line: "ipsec ike foo 1 on", why: /not a command in the list/ },
    ];
    for (const { model, firmware, line, why } of refused) {
        it(`${model}${firmware ? ` Rev.${firmware}` : ""}: ${line.length > 60 ? `${line.slice(0, 60)}…` : line}`, () => {
            const verdict = new RtxCommandChecker(model, firmware).check(line);
            expect(verdict.ok).toBe(false);
            expect(verdict.ok ? "" : verdict.reason).toMatch(why);
        });
    }

    it("accepts each floor exactly at the revision the reference names", () => {
        expect(new RtxCommandChecker("rtx1210", "14.01.09").check("ipsec ike proposal-limitation 1 on").ok).toBe(true);
        expect(new RtxCommandChecker("rtx1210", "14.01.11").check("ipsec ike child-exchange type 1 2").ok).toBe(true);
        expect(new RtxCommandChecker("rtx1210", "14.01.26").check("ipsec ike negotiation receive 1 off").ok).toBe(true);
        expect(new RtxCommandChecker("rtx830", "15.02.03").check("ipsec ike negotiation receive 1 off").ok).toBe(true);
        expect(new RtxCommandChecker("rtx1300").check("ipsec sa policy 1 1 esp aes256-cbc sha512-hmac").ok).toBe(true);
        expect(new RtxCommandChecker("rtx1300").check("ipsec ike hash 1 sha512").ok).toBe(true);
    });

    it("refuses a firmware of another model's line", () => {
        expect(() => new RtxCommandChecker("rtx1210", "15.02.03")).toThrow(/not a rtx1210 revision \(Rev\.14\.01\.xx\)/);
        expect(() => new RtxCommandChecker("rtx830", "Rev.15.02.03")).toThrow(/not a revision like 14\.01\.20/);
    });

    it("names the failing line and its number in a whole text", () => {
        const failures = new RtxCommandChecker("rtx830").checkText("# comment\ntunnel select 19\n ipsec ike hash 19 sha512\n\ntunnel select none\n");
        expect(failures).toHaveLength(1);
        expect(failures[0]).toMatchObject({ lineNumber: 3, line: "ipsec ike hash 19 sha512" });
    });

    it("is not stricter than AWS's Yamaha sample and the reference's own examples", () => {
        const accepted = [
            // AWS Site-to-Site VPN, Yamaha example (awsdocs/amazon-vpc-network-administrator-guide doc_source/Yamaha.md)
            "tunnel select 1",
            "ipsec ike encryption 1 aes-cbc",
            "ipsec ike group 1 modp1024",
            "ipsec ike hash 1 sha",
            "ipsec ike pre-shared-key 1 text plain-text-password1",
            "ipsec tunnel 201",
            "ipsec sa policy 201 1 esp aes-cbc  sha-hmac",
            "ipsec ike duration ipsec-sa 1 3600",
            "ipsec ike pfs 1 on",
            "ipsec tunnel outer df-bit clear",
            "ipsec ike keepalive use 1 on dpd 10 3",
            "ipsec ike remote address 1 72.21.209.225",
            "ip tunnel address 169.254.255.2/30",
            "ip tunnel remote address 169.254.255.1",
            "ip tunnel tcp mss limit 1387",
            "tunnel enable 1",
            "tunnel select none",
            "ipsec auto refresh on",
            "bgp use on",
            "bgp autonomous-system 65000",
            "bgp neighbor 1 7224 169.254.255.1 hold-time=30 local-address=169.254.255.2",
            "bgp import filter 1 equal 0.0.0.0/0",
            "bgp import 7224 static filter 1",
            "bgp configure refresh",
            // the reference's [設定例]
            "ipsec ike pre-shared-key 8 0xCDEEEDC0CDEDCD",
            "ipsec sa policy 101 1 esp aes-cbc sha-hmac",
            "ipsec auto refresh 1 off",
            "bgp export filter 1 include 10.0.0.0/16 172.16.0.0/16",
            "bgp export filter 2 reject equal 192.168.0.0/24",
            "bgp import filter 1 include 10.0.0.0/16 172.16.0.0/16",
            "ip route default gateway 192.168.0.1",
            "ip route 10.0.0.0/16 gateway tunnel 1 weight 0 gateway tunnel 2 hide",
            "ip filter 200080 pass * 203.0.113.10 esp * *",
            "ip filter 200081 pass * 203.0.113.10 udp * 500",
        ];
        const checker = new RtxCommandChecker("rtx1210");
        expect(accepted.map((l) => checker.check(l)).filter((v) => !v.ok)).toEqual([]);
    });

    it("lists every command with a citation and an entry for every model", () => {
        const list = loadCommandList();
        for (const c of list.commands) {
            expect(c.cite.page, c.id).toBeGreaterThan(0);
            expect(Object.keys(c.models).sort(), c.id).toEqual([...RTX_MODELS].sort());
        }
    });
});
