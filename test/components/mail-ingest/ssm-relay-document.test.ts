import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exactlyPattern, RELAY_DOCUMENT_PARAMETERS, relayDocumentContent, relayTargets } from "../../../components/mail-ingest/ssm-relay-document";

const TOWERS = [
    { host: "172.16.5.20", port: 10000, relay: { kind: "ssm" } },
    { host: "172.16.5.21", port: 10001, relay: { kind: "ssm" } },
    { host: "192.168.10.50", port: 10000, relay: { kind: "vpn" } },
];
const document = JSON.parse(relayDocumentContent(relayTargets(TOWERS)));

/**
 * How SSM checks SendCommand's Parameters against a Command document (SSM user guide, "Data
 * elements and parameters": a String parameter's value must match its allowedPattern, and a
 * parameter the document does not define is refused); true when SSM would run the command.
 */
function ssmAccepts(doc: { parameters: Record<string, { allowedPattern?: string; default?: string }> }, given: Record<string, string>): boolean {
    if (Object.keys(given).some((name) => !(name in doc.parameters))) return false;
    return Object.entries(doc.parameters).every(([name, spec]) => {
        const value = given[name] ?? spec.default;
        return value !== undefined && (spec.allowedPattern === undefined || new RegExp(spec.allowedPattern).test(value));
    });
}
const command = (towerHost: string, towerPort: string) => ({ towerHost, towerPort, payloadHex: "585853000006010203000004", replyBytes: "1" });
const script: string = document.mainSteps[0].inputs.runCommand.join("\n");

describe("relay document", () => {
    it("passes every parameter as an environment variable, checked by a pattern, never interpolated into the script", () => {
        expect(Object.keys(document.parameters)).toEqual([...RELAY_DOCUMENT_PARAMETERS]);
        for (const [name, parameter] of Object.entries<Record<string, string>>(document.parameters)) {
            expect(parameter.interpolationType).toBe("ENV_VAR");
            expect(parameter.allowedPattern).toBeDefined();
            expect(script).toContain(`$SSM_${name}`);
        }
        expect(script).not.toContain("{{");
    });

    it("rejects a payload that is not hex", () => {
        const pattern = new RegExp(document.parameters.payloadHex.allowedPattern);
        expect(pattern.test("585853000006")).toBe(true);
        expect(pattern.test("58; rm -rf /")).toBe(false);
    });

    it("accepts the towers relayed through SSM, each on its own port", () => {
        expect(ssmAccepts(document, command("172.16.5.20", "10000"))).toBe(true);
        expect(ssmAccepts(document, command("172.16.5.21", "10001"))).toBe(true);
    });

    it("refuses any other host or port: a VPN tower, another address of the site, the metadata service, a shell word", () => {
        for (const host of ["192.168.10.50", "172.16.5.2", "172.16.5.200", "169.254.169.254", "172x16x5x20", "172.16.5.20 ", "$(id)"]) {
            expect(ssmAccepts(document, command(host, "10000")), host).toBe(false);
        }
        for (const port of ["22", "443", "100000", "10000 ", ""]) {
            expect(ssmAccepts(document, command("172.16.5.20", port)), port).toBe(false);
        }
        expect(ssmAccepts(document, { ...command("172.16.5.20", "10000"), extra: "1" })).toBe(false);
    });

    it("relays nowhere when no tower relays through SSM", () => {
        const none = JSON.parse(relayDocumentContent(relayTargets(TOWERS.filter((t) => t.relay.kind === "vpn"))));
        expect(ssmAccepts(none, command("192.168.10.50", "10000"))).toBe(false);
        expect(none.parameters.towerHost.allowedPattern).toBe("^$");
    });

    it("builds exact patterns: dots are literal, values sorted and unique", () => {
        expect(exactlyPattern(["10.0.0.2", "10.0.0.1", "10.0.0.2"])).toBe("^(10\\.0\\.0\\.1|10\\.0\\.0\\.2)$");
    });

    it("refuses a target that is not an IPv4 address and port, naming it", () => {
        expect(() => relayDocumentContent([{ host: "towers.example", port: 10000 }])).toThrow(/"towers.example" is not an IPv4 address/);
        expect(() => relayDocumentContent([{ host: "10.0.0.1", port: 70000 }])).toThrow(/port 70000 of 10.0.0.1/);
    });
});

describe("relay script, run by bash against a TCP peer on loopback", () => {
    const received: Buffer[] = [];
    let server: Server;
    let port: number;
    beforeAll(async () => {
        server = createServer((socket) => {
            socket.on("data", (data) => {
                received.push(data);
                socket.end(Buffer.from([0x06]));
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    /** Runs the document's script for these targets under bash, as the SSM Agent would, with the parameters as SSM_ variables. */
    const runRelay = (targets: { host: string; port: number }[], towerHost: string, towerPort: number) => {
        const relay: string = JSON.parse(relayDocumentContent(targets)).mainSteps[0].inputs.runCommand.join("\n");
        const env = { PATH: process.env.PATH, SSM_towerHost: towerHost, SSM_towerPort: String(towerPort), SSM_payloadHex: "585853000006010203000004", SSM_replyBytes: "1", SSM_timeoutSeconds: "3" };
        return promisify(execFile)("bash", ["-c", relay], { env }).then(
            ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
            (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
        );
    };

    it("sends the payload bytes exactly and prints the reply as hex", async () => {
        received.length = 0;
        const { code, stdout } = await runRelay([{ host: "127.0.0.1", port }], "127.0.0.1", port);
        expect(code).toBe(0);
        expect(Buffer.concat(received).toString("hex")).toBe("585853000006010203000004");
        expect(stdout.trim()).toBe("reply=06");
    });

    it("refuses a host paired with another relayed tower's port, before connecting, though each passes its own pattern", async () => {
        received.length = 0;
        const targets = [{ host: "127.0.0.1", port: port + 1 }, { host: "127.0.0.2", port }];
        const doc = JSON.parse(relayDocumentContent(targets));
        expect(ssmAccepts(doc, command("127.0.0.1", String(port)))).toBe(true); // SSM's per-parameter check lets the pair through
        const result = await runRelay(targets, "127.0.0.1", port);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(`127.0.0.1:${port} is not a tower relayed through SSM`);
        expect(received).toEqual([]);
    });

    it("refuses every pair when no tower relays through SSM", async () => {
        received.length = 0;
        const result = await runRelay([], "127.0.0.1", port);
        expect(result.code).toBe(2);
        expect(received).toEqual([]);
    });
});
