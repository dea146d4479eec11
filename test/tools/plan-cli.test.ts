import * as pulumi from "@pulumi/pulumi";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { WHOLE_STACK_TIMEOUT_MS } from "../harness/fresh-program";
import { runPlan } from "../../tools/offline/plan";
import { countsByType, planDiff, placeholderCommand, resourceTree, type PlanResource } from "../../tools/offline/plan-format";
import { misspeltNamespaceKeys } from "../../components/shared/stack-config";
import { parse } from "yaml";
import type { Registration } from "../../tools/offline/mock-engine";

const run = promisify(execFile);
const root = path.resolve(__dirname, "..", "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

async function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await run(tsx, ["tools/plan-cli.ts", ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
        return { code: 0, stdout, stderr };
    } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
}

const beforeFile = path.join(mkdtempSync(path.join(tmpdir(), "plan-cli-")), "before.json");

describe("npm run plan", () => {
    it("prints the dev stack as one JSON object with resources, parents, inputs and outputs", async () => {
        const { code, stdout, stderr } = await plan("--stack", "dev", "--json");
        expect(code).toBe(0);
        // stdout is the JSON alone (what `npm run --silent plan -- --stack dev --json > before.json` keeps)
        const document = JSON.parse(stdout);
        writeFileSync(beforeFile, stdout);
        // dev has no alertline:alibaba: its output is null, and Pulumi has nothing undefined to warn about
        expect(document.outputs.alibabaDatadogTile).toBeNull();
        expect(stderr).not.toContain("Undefined value");
        expect(document.stack).toBe("dev");
        const types = document.resources.map((r: { type: string }) => r.type);
        expect(types).toContain("aws:ec2/instance:Instance");
        const urns = new Set(document.resources.map((r: { urn: string }) => r.urn));
        for (const r of document.resources) {
            expect(Object.keys(r)).toEqual(["type", "name", "urn", "parent", "inputs"]);
            if (r.type !== "pulumi:pulumi:Stack") expect(urns.has(r.parent)).toBe(true);
        }
        expect(document.outputs.alertTopicArn).toMatch(/^arn:aws:sns:/);
        expect(document.placeholders).toContain("alertline:slackWebhookUrl");
        // secrets never leave as values, not even the plan's own placeholders
        expect(stdout).not.toContain("offline-plan-placeholder");
        expect(stdout).toContain('"plaintext": "[secret]"');
        expect(document.violations).toEqual([]);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("hands over the whole document through a pipe, however long (prod's is over 128 KB)", async () => {
        const { code, stdout, stderr } = await plan("--stack", "prod", "--json");
        expect(code).toBe(0);
        expect(stderr).not.toContain("Undefined value");
        expect(stdout.length).toBeGreaterThan(131072);
        expect(JSON.parse(stdout).stack).toBe("prod");
    }, WHOLE_STACK_TIMEOUT_MS);

    it("prints a tree by component, counts by type and the outputs for a person", async () => {
        const { code, stdout } = await plan("--stack", "prod");
        expect(code).toBe(0);
        expect(stdout).toMatch(/├─ alertline:index:MonitoredHost {2}host-zabbix-proxy/);
        expect(stdout).toMatch(/^ {2}\s*3 {2}aws:ec2\/instance:Instance$/m);
        expect(stdout).toMatch(/^ {2}hostInstanceIds: \{"zabbix-proxy":/m);
        expect(stdout).toContain("Policy verdicts (alertline-guardrails): no violations.");
        expect(stdout).toContain("  pulumi config set --secret alertline:slackWebhookUrl <value> --stack prod\n");
    }, WHOLE_STACK_TIMEOUT_MS);

    it("exits 1 on a mandatory violation, after printing the plan with the verdict", async () => {
        vi.resetModules();
        const result = await runPlan("dev", {
            json: true,
            loadProgram: async () => {
                pulumi.runtime.registerStackTransformation((args) => {
                    if (args.type !== "aws:sns/topic:Topic" || args.name !== "alerts-topic") return undefined;
                    const { kmsMasterKeyId: _, ...props } = args.props;
                    return { props, opts: args.opts };
                });
                return import("../../index");
            },
        });
        expect(result.code).toBe(1);
        const violations = JSON.parse(result.stdout).violations as { policy: string; name: string; level: string }[];
        expect(violations.map((v) => `${v.policy} ${v.name} ${v.level}`).sort()).toEqual([
            "alert-topics-customer-managed-key alerts-topic mandatory",
            "sns-topic-encrypted alerts-topic mandatory",
        ]);
        expect(result.stderr).toContain("2 mandatory policy violation(s)");
    }, WHOLE_STACK_TIMEOUT_MS);

    it("answers a stack that has no file as a bad command line: the stacks there are, the usage, exit 2", async () => {
        const { code, stdout, stderr } = await plan("--stack", "staging");
        expect(code).toBe(2);
        expect(stdout).toBe("");
        expect(stderr).toMatch(/^alertline plan: no stack "staging" here \(no Pulumi\.staging\.yaml\); stacks here: dev, prod\nusage: /);
    }, WHOLE_STACK_TIMEOUT_MS);
});

describe("npm run plan: command line and --diff", () => {
    it("answers an unknown flag with a sentence and the usage, exit 2", async () => {
        const { code, stdout, stderr } = await plan("--stack", "dev", "--bogus");
        expect(code).toBe(2);
        expect(stdout).toBe("");
        expect(stderr).toContain("alertline plan: Unknown option '--bogus'");
        expect(stderr).toContain("usage: npm run --silent plan -- --stack <dev|prod>");
        expect(stderr).not.toMatch(/^\s+at /m);
    });

    it("answers --stack without a value, and no --stack at all, with exit 2 and the stacks", async () => {
        const noValue = await plan("--json", "--stack");
        expect(noValue.code).toBe(2);
        expect(noValue.stderr).toContain("--stack");
        expect(noValue.stderr).toContain("argument missing");
        const missing = await plan("--json");
        expect(missing.code).toBe(2);
        expect(missing.stderr).toContain("alertline plan: --stack is required (stacks here: dev, prod)");
        expect(missing.stderr).toContain("usage:");
    });

    it("answers --diff with a file that is not a plan with exit 2 and how to make one", async () => {
        const notAPlan = path.join(path.dirname(beforeFile), "not-a-plan.json");
        writeFileSync(notAPlan, "> alertline@0.1.0 plan\n{}");
        const { code, stderr } = await plan("--stack", "dev", "--diff", notAPlan);
        expect(code).toBe(2);
        expect(stderr).toContain(`--diff ${notAPlan} is not a readable --json plan`);
        expect(stderr).toContain(`npm run --silent plan -- --stack dev --json > ${notAPlan}`);
    });

    it("shows one more site as the site's resources added, the three mail functions (they route to sites) and the dashboard (the site's graphs) modified, nothing removed", async () => {
        const before = JSON.parse(readFileSync(beforeFile, "utf8"));
        const devSites = (parse(readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown[]> }).config["alertline:sites"];
        const second = { ...(devSites[0] as object), name: "osaka-office", cidr: "192.168.20.0/24", customerGateway: { ip: "203.0.113.20" }, towers: [{ name: "osaka-desk", host: "192.168.20.50", protocol: "pns" }] };
        vi.resetModules();
        const result = await runPlan("dev", { before, configOverrides: { "alertline:sites": [...devSites, second] } });
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        const lines = result.stdout.trimEnd().split("\n");
        const added = lines.filter((l) => l.startsWith("+ "));
        expect(added.length).toBeGreaterThan(3);
        for (const line of added) expect(line).toContain("osaka-office");
        expect(lines.filter((l) => l.startsWith("- "))).toEqual([]);
        expect(lines.filter((l) => l.startsWith("~ ")).map((l) => l.split("  ")[1]).sort()).toEqual(["alert-path-dashboard", "mail-ack", "mail-dispatch", "mail-ingest"]);
        expect(lines.at(-1)).toBe(`+${added.length} ~4 -0`);
        // the dashboard's body gains the new site's tower
        const dashboardChange = lines[lines.indexOf(lines.find((l) => l.includes("  alert-path-dashboard  "))!) + 1];
        expect(dashboardChange).toMatch(/^ {4}~ dashboardBody: /);
        expect(dashboardChange.split(" => ")[0]).not.toContain("osaka-desk");
        expect(dashboardChange.split(" => ")[1]).toContain("osaka-desk");
        // the changed input, old => new: the bundled towers.json gains the site
        expect(lines[lines.indexOf(lines.find((l) => l.includes("  mail-ack  "))!) + 1]).toMatch(/^ {4}~ code: .*"towers\.json":"text, (\d+) bytes.* => .*"towers\.json":"text, (?!\1 )\d+ bytes/);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("refuses a misspelt alertline namespace naming the key and the fix", async () => {
        vi.resetModules();
        const result = await runPlan("dev", { configOverrides: { "alertlin:logRetentionDays": 30 } });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(
            'alertlin:logRetentionDays: namespace "alertlin" is probably a typo of "alertline", so the setting would be ignored; rename the key to alertline:logRetentionDays',
        );
    }, WHOLE_STACK_TIMEOUT_MS);
});

describe("plan formatting", () => {
    const res = (urn: string, inputs: Record<string, unknown>): PlanResource => ({ type: "aws:x/y:Y", name: urn, urn, parent: null, inputs });

    it("diffs two plans by URN and input, secrets staying [secret]", () => {
        const diff = planDiff([res("a", { size: 1, key: "[secret]" }), res("gone", {})], [res("a", { size: 2, key: "[secret]" }), res("new", {})]);
        expect(diff.lines).toEqual(["~ aws:x/y:Y  a  (a)", "    ~ size: 1 => 2", "+ aws:x/y:Y  new  (new)", "- aws:x/y:Y  gone  (gone)", "+1 ~1 -1"]);
    });

    it("gives the exact command that replaces a placeholder", () => {
        expect(placeholderCommand("alertline:slackWebhookUrl", "dev")).toBe("pulumi config set --secret alertline:slackWebhookUrl <value> --stack dev");
    });

    it("takes namespaces within two edits of alertline for typos, and leaves providers' alone", () => {
        expect(misspeltNamespaceKeys(["alertlin:sites", "alertine:mail", "alretline:x", "aws:region", "datadog:apiUrl", "alertline:sites", "alerts:x"]).map((p) => p.split(":")[0] + ":" + p.split(":")[1])).toEqual([
            "alertlin:sites",
            "alertine:mail",
            "alretline:x",
        ]);
    });

    const reg = (name: string, parent: string | undefined, custom = true): Registration => ({
        type: custom ? "aws:x/y:Y" : "alertline:index:C",
        name,
        urn: `urn:${name}`,
        id: "",
        parent: parent && `urn:${parent}`,
        custom,
        inputs: {},
        state: {},
    });

    it("nests children under their parent, components before plain resources", () => {
        const lines = resourceTree([reg("stack", undefined, false), reg("a", "stack"), reg("comp", "stack", false), reg("b", "comp")]);
        expect(lines).toEqual(["alertline:index:C  stack", "├─ alertline:index:C  comp", "│  └─ aws:x/y:Y  b", "└─ aws:x/y:Y  a"]);
    });

    it("counts by type, most frequent first", () => {
        expect(countsByType([reg("a", undefined), reg("b", undefined), reg("c", undefined, false)])).toEqual([
            ["aws:x/y:Y", 2],
            ["alertline:index:C", 1],
        ]);
    });
});
