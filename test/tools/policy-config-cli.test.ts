import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { policyPackConfig } from "../../tools/policy-config-cli";
import { policyNames } from "../../tools/offline/policy-runner";

describe("policyPackConfig", () => {
    it("writes CrossGuard's per-policy enforcement levels from alertline:policyLevels", () => {
        const [first, second] = policyNames();
        expect(policyPackConfig(JSON.stringify({ [first]: "advisory", [second]: "disabled" }))).toEqual({
            [first]: { enforcementLevel: "advisory" },
            [second]: { enforcementLevel: "disabled" },
        });
    });

    it("writes nothing when the stack lowers no policy", () => {
        expect(policyPackConfig(undefined)).toBeUndefined();
        expect(policyPackConfig("{}")).toBeUndefined();
    });

    it("refuses a policy the pack does not have, since Pulumi would ignore it silently", () => {
        expect(() => policyPackConfig(JSON.stringify({ "sns-topic-encryptd": "advisory" }))).toThrow(/unknown policy "sns-topic-encryptd"; the policies of alertline-guardrails are: /);
    });

    it("refuses a level that is not one", () => {
        expect(() => policyPackConfig(JSON.stringify({ [policyNames()[0]]: "off" }))).toThrow(/use one of advisory, mandatory, disabled/);
    });
});

const root = path.resolve(__dirname, "..", "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

async function policyConfig(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await promisify(execFile)(tsx, ["tools/policy-config-cli.ts", ...args], { cwd: root });
        return { code: 0, stdout, stderr };
    } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
}

describe("npm run policy-config: the command line", () => {
    it("answers a bad flag, a missing value, an unknown stack or a missing --out with a sentence and the usage, exit 2, no stack trace", async () => {
        const cases: [string[], RegExp][] = [
            [["--bogus"], /^alertline policy-config: Unknown option '--bogus'/],
            [["--stack"], /^alertline policy-config: Option '--stack <value>' argument missing/],
            [["--stack", "staging", "--out", "x.json"], /^alertline policy-config: no stack "staging" here/],
            [["--stack", "dev"], /^alertline policy-config: --out is required\n/],
        ];
        for (const [args, sentence] of cases) {
            const { code, stdout, stderr } = await policyConfig(...args);
            expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: "" });
            expect(stderr).toMatch(sentence);
            expect(stderr).toContain("usage: npm run --silent policy-config -- --stack <dev|prod> --out <file.json>");
            expect(stderr).not.toMatch(/\n\s+at /);
        }
    }, 120_000);

    it("prints the usage for --help, exit 0; for a stack that lowers no policy writes nothing and prints nothing", async () => {
        const help = await policyConfig("--help");
        expect(help.code).toBe(0);
        expect(help.stdout).toMatch(/^usage: npm run --silent policy-config/);
        const dir = mkdtempSync(path.join(tmpdir(), "policy-config-"));
        try {
            const out = path.join(dir, "levels.json");
            const result = await policyConfig("--stack", "dev", "--out", out);
            expect({ code: result.code, stdout: result.stdout, written: existsSync(out) }).toEqual({ code: 0, stdout: "", written: false });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }, 120_000);
});
