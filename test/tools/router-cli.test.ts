import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { WHOLE_STACK_TIMEOUT_MS } from "../harness/fresh-program";
import { markPlaceholders } from "../../tools/offline/router";

const run = promisify(execFile);
const root = path.resolve(__dirname, "..", "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

async function router(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await run(tsx, ["tools/router-cli.ts", ...args], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
        return { code: 0, stdout, stderr };
    } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
}

const commands = (text: string) =>
    text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"));

describe("npm run router", () => {
    it("prints prod's tokyo-office configuration: the LAN advertised, the VPC never, AWS's values as placeholders", async () => {
        const { code, stdout, stderr } = await router("--stack", "prod", "--site", "tokyo-office");
        expect(stderr).toBe("");
        expect(code).toBe(0);
        const lines = commands(stdout);
        const filter = /^bgp import filter (\d+) equal 192\.168\.10\.0\/24$/.exec(lines.find((l) => l.startsWith("bgp import filter")) ?? "");
        expect(filter).not.toBeNull();
        expect(lines).toContain(`bgp import 64512 static filter ${filter![1]}`);
        expect(lines.filter((l) => l.startsWith("bgp import")).some((l) => l.includes("10.30."))).toBe(false);
        expect(lines.filter((l) => l.startsWith("bgp export filter")).some((l) => l.includes("10.30.0.0/16"))).toBe(true);
        expect(lines).toContain("ipsec ike pre-shared-key 99 text <TUNNEL1-PRE-SHARED-KEY>");
        expect(lines).toContain("ipsec ike remote address 100 <TUNNEL2-AWS-OUTSIDE-ADDRESS>");
        expect(stdout).not.toMatch(/mockPsk|198\.51\.100\.\d/);
        expect(stdout).toContain("pulumi stack output siteRouterConfigs --stack prod --show-secrets");
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names the sites when the one asked for does not exist", async () => {
        const { code, stdout, stderr } = await router("--stack", "dev", "--site", "nagoya-office");
        expect(code).toBe(1);
        expect(stdout).toBe("");
        // nothing else: dev's plan no longer warns about an undefined alibabaDatadogTile output (issue 13)
        expect(stderr).toBe('alertline router for stack "dev": no site "nagoya-office" in alertline:sites; sites are tokyo-office\n');
    }, WHOLE_STACK_TIMEOUT_MS);

    it("answers a missing or unknown option with a sentence and the usage, not a stack trace", async () => {
        const missing = await router("--stack", "dev");
        expect(missing.code).toBe(2);
        expect(missing.stderr).toMatch(/^alertline router: --site is required\nusage: npm run --silent router -- --stack <dev\|prod> --site <name>\nexit codes: .*\n$/);
        const unknown = await router("--stack", "dev", "--bogus");
        expect(unknown.code).toBe(2);
        const noStack = await router("--stack", "staging", "--site", "tokyo-office");
        expect(noStack.code).toBe(2);
        expect(noStack.stderr).toMatch(/^alertline router: no stack "staging" here \(no Pulumi\.staging\.yaml\); stacks here: dev, prod\n/);
        expect(unknown.stderr).toMatch(/^alertline router: Unknown option '--bogus'/);
        expect(unknown.stderr).not.toMatch(/\n\s+at /);
    }, WHOLE_STACK_TIMEOUT_MS);
});

describe("markPlaceholders", () => {
    it("replaces whole addresses only: 198.51.100.1 is not part of 198.51.100.10 or 198.51.100.1.5", () => {
        const text = "remote 198.51.100.1\nother 198.51.100.10\nip 198.51.100.1/30\nnot 198.51.100.1.5\n";
        expect(markPlaceholders(text, { tunnel1Address: "198.51.100.1" })).toBe(
            "remote <TUNNEL1-AWS-OUTSIDE-ADDRESS>\nother 198.51.100.10\nip <TUNNEL1-AWS-OUTSIDE-ADDRESS>/30\nnot 198.51.100.1.5\n",
        );
    });
});
