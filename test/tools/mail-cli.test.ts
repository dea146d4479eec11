import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MailCliError, parseMailArgs } from "../../tools/mail-cli";

/** The `mail` CLI as a person runs it: a child process, as `npm run --silent mail --` starts it. */

const root = join(__dirname, "../..");
const PROD = "functions/mail-ingest/rules/prod.yaml";
const fixture = (name: string) => `test/fixtures/mail/${name}`;
const tmp = mkdtempSync(join(tmpdir(), "mail-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mail(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(process.execPath, ["--import", "tsx", "tools/mail-cli.ts", ...args], { cwd: root, timeout: 90_000 }, (error, stdout, stderr) => {
            resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
        });
    });
}

// Each test starts tsx child processes (2–4 s each idle, five times that on a busy 2-core machine).
describe("npm run mail -- classify", { timeout: 120_000 }, () => {
    it("prints one JSON line with severity, rule, from and subject first", async () => {
        const result = await mail("classify", fixture("zabbix-sjis-disaster.eml"), "--rules", PROD);
        expect(result.code).toBe(0);
        expect(result.stdout.endsWith("\n")).toBe(true);
        expect(result.stdout.trim().split("\n")).toHaveLength(1);
        const out = JSON.parse(result.stdout);
        expect(Object.keys(out).slice(0, 4)).toEqual(["severity", "rule", "from", "subject"]);
        expect(out).toMatchObject({ severity: "critical", rule: "zabbix-ja-critical", from: "zabbix@zabbix.example.jp", subject: "障害: db-01 MySQLが停止しています" });
        // prod.yaml's Zabbix rules name our own offices (*our-offices), never customer-a.
        expect(out.route).toEqual({ all: false, towers: [], sites: ["tokyo-office", "osaka-office", "fukuoka-office"] });
        expect(result.stderr).toBe("");
    });

    it("prints null for the rule and the problems of a broken mail, still exiting 0", async () => {
        const out = JSON.parse((await mail("classify", fixture("missing-from.eml"), "--rules", PROD)).stdout);
        expect(out.rule).toBeNull();
        expect(out.severity).toBe("info");
        expect(out.route).toEqual({ all: false, towers: [], sites: [] });
        expect(out.from).toBe("");
        expect(out.problems).toEqual(["the mail has no From header"]);
    });

    it("exits 2 with the validation message for a bad rules file", async () => {
        const bad = join(tmp, "bad.yaml");
        writeFileSync(bad, 'rules:\n  - name: r\n    subject: "(unclosed"\n    severity: critical\n');
        const result = await mail("classify", fixture("nagios-problem.eml"), "--rules", bad);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe("");
        expect(result.stderr).toContain(`Invalid mail rules in ${bad}`);
        expect(result.stderr).toContain('rules[0] ("r").subject: invalid regular expression /(unclosed/');
    });

    it("exits 2 for a mail file that cannot be read", async () => {
        const missing = await mail("classify", "no/such.eml", "--rules", PROD);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toContain("cannot read the mail file no/such.eml: no such file");

        const directory = await mail("classify", tmp, "--rules", PROD);
        expect(directory.code).toBe(2);
        expect(directory.stderr).toContain(`cannot read the mail file ${tmp}: it is a directory`);
    });

    it("exits 2 for an unreadable rules file and for missing arguments", async () => {
        expect((await mail("classify", fixture("nagios-problem.eml"), "--rules", "nope.yaml")).code).toBe(2);
        const noRules = await mail("classify", fixture("nagios-problem.eml"));
        expect(noRules.code).toBe(2);
        expect(noRules.stderr).toContain("--rules <rules.yaml> is required");
    });
});

describe("parseMailArgs", () => {
    it("reads the command, the file and --rules in any order", () => {
        expect(parseMailArgs(["--rules", "r.yaml", "classify", "m.eml"])).toEqual({ command: "classify", file: "m.eml", rulesFile: "r.yaml" });
    });

    it("says what is wrong with the arguments", () => {
        expect(() => parseMailArgs(["clasify", "m.eml", "--rules", "r"])).toThrow(MailCliError);
        expect(() => parseMailArgs(["clasify", "m.eml", "--rules", "r"])).toThrow('unknown command "clasify"');
        expect(() => parseMailArgs(["classify", "--rules", "r"])).toThrow("classify needs the mail file");
        expect(() => parseMailArgs(["classify", "a.eml", "b.eml", "--rules", "r"])).toThrow('got also "b.eml"');
        expect(() => parseMailArgs(["classify", "a.eml", "--rule", "r"])).toThrow(/--rule/);
    });
});
