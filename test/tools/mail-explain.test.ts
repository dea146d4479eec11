import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { explainMail, formatExplanation } from "../../tools/mail-explain";
import { parseMailArgs } from "../../tools/mail-cli";

/** `mail explain`: the function's own path with a stack's config, on saved mail. */

const root = join(__dirname, "../..");
const fixture = (name: string) => `test/fixtures/mail/${name}`;
const read = (name: string) => readFileSync(join(root, fixture(name)));

function mail(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(process.execPath, ["--import", "tsx", "tools/mail-cli.ts", ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
            resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
        });
    });
}

// Each test starts tsx child processes (2–4 s each idle, five times that on a busy 2-core machine).
describe("mail explain", { timeout: 120_000 }, () => {
    it("prod, a Zabbix problem about our host: our offices' towers with their signals, never customer-a's, and a P1 page", async () => {
        const e = await explainMail(read("zabbix-ja-problem.eml"), { file: "zabbix-ja-problem.eml", stack: "prod", verdicts: "pass" });
        expect(e.trusted).toBe(true);
        expect(e.rule).toBe("zabbix-ja-critical");
        expect(e.towers.map((t) => t.name)).toEqual(["tokyo-ops", "tokyo-noc", "osaka-ops", "fukuoka-ops"]);
        expect(e.towers.map((t) => t.site)).not.toContain("customer-a");
        // osaka-office shows its own critical signal (buzzer 2, Pulumi.prod.yaml), the others the default.
        expect(e.towers.find((t) => t.name === "osaka-ops")?.signal).toBe("red:flash1 buzzer:2");
        expect(e.towers.find((t) => t.name === "tokyo-ops")?.signal).toBe("red:flash1 buzzer:1");
        // every rule before the match says which of its conditions failed
        const earlier = e.rules.slice(0, -1);
        expect(earlier.length).toBeGreaterThan(0);
        for (const trial of earlier) expect(trial).toMatchObject({ matched: false, failed: { field: expect.stringMatching(/^(from|subject|body)$/) } });
        expect(e.rules.at(-1)).toEqual({ rule: "zabbix-ja-critical", matched: true });
        expect(e.rules.find((t) => t.rule === "customer-a-zabbix-warning")?.failed?.field).toBe("body");
        expect(e.onCall.action.kind).toBe("create");
        expect(e.onCall.action.kind === "create" && e.onCall.action.alert.priority).toBe("P1");
        expect(e.slack.towersLit).toBe("tokyo-ops, tokyo-noc, osaka-ops, fukuoka-ops");
    });

    it("a sender whose domain fails authentication: says which check failed and that no tower lights", async () => {
        const e = await explainMail(read("zabbix-ja-problem.eml"), { file: "zabbix-ja-problem.eml", stack: "prod", verdicts: "fail" });
        expect(e.trusted).toBe(false);
        expect(e.towers).toEqual([]);
        expect(e.reasons.join("; ")).toMatch(/DMARC FAIL/);
        expect(e.towersNotLit.map((t) => t.name)).toEqual(["tokyo-ops", "tokyo-noc", "osaka-ops", "fukuoka-ops"]);
        for (const t of e.towersNotLit) expect(t.reason).toMatch(/DMARC/);
        expect(e.onCall.action).toEqual({ kind: "none", reason: "it lit no tower" });
        const text = formatExplanation(e);
        expect(text).toContain("Towers: none light.");
        expect(text).toMatch(/tokyo-office: NOT trusted: .*DMARC FAIL/);
    });

    it("a sender on no allow list: names the check, lights nothing", async () => {
        const forged = Buffer.from(read("zabbix-ja-problem.eml").toString("utf8").replace(/^From: .*$/m, "From: zabbix@attacker.example"));
        const e = await explainMail(forged, { file: "forged.eml", stack: "prod", verdicts: "pass" });
        // No Zabbix rule takes a sender outside zabbix.example.jp, so the mail matches no rule and is untrusted.
        expect(e.towers).toEqual([]);
        expect(e.trusted).toBe(false);
        for (const s of e.sites) expect(s.reasons.join("; ")).toMatch(/sender zabbix@attacker\.example is not on the allow list/);
        expect(e.sites.some((s) => s.trusted)).toBe(false);
    });

    it("prints one JSON object with towers (name, site, signal) and trusted, from the command line", async () => {
        const result = await mail("explain", fixture("zabbix-ja-problem.eml"), "--stack", "prod", "--json");
        expect(result.code).toBe(0);
        const out = JSON.parse(result.stdout);
        expect(out.trusted).toBe(true);
        expect(out.towers[0]).toEqual({ name: "tokyo-ops", site: "tokyo-office", signal: "red:flash1 buzzer:1" });
        expect(Array.isArray(out.reasons)).toBe(true);
    });

    it("refuses what it cannot do with a sentence and the usage", async () => {
        expect(() => parseMailArgs(["explain", "a.eml"])).toThrow(/--stack <stack> is required/);
        expect(() => parseMailArgs(["explain", "a.eml", "--stack", "prod", "--rules", "x.yaml"])).toThrow(/explain reads the stack's own rules file; drop --rules/);
        expect(() => parseMailArgs(["explain", "a.eml", "--stack", "prod", "--verdicts", "gray"])).toThrow(/--verdicts must be pass or fail, got "gray"/);
        expect(() => parseMailArgs(["classify", "a.eml", "--stack", "prod"])).toThrow(/npm run --silent mail -- explain a\.eml --stack prod/);
        const missing = await mail("explain", fixture("zabbix-ja-problem.eml"), "--stack", "staging");
        expect(missing.code).toBe(2);
        expect(missing.stderr).toMatch(/^mail: stack "staging" does not load: no stack file Pulumi\.staging\.yaml: stacks here are /);
    });
});
