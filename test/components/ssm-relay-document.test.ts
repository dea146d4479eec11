import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RELAY_DOCUMENT_PARAMETERS, relayDocumentContent } from "../../components/ssm-relay-document";

const document = JSON.parse(relayDocumentContent());
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

    it("sends the payload bytes exactly and prints the reply as hex", async () => {
        const { stdout } = await promisify(execFile)("bash", ["-c", script], {
            env: { PATH: process.env.PATH, SSM_towerHost: "127.0.0.1", SSM_towerPort: String(port), SSM_payloadHex: "585853000006010203000004", SSM_replyBytes: "1", SSM_timeoutSeconds: "3" },
        });
        expect(Buffer.concat(received).toString("hex")).toBe("585853000006010203000004");
        expect(stdout.trim()).toBe("reply=06");
    });
});
