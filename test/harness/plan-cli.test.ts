import * as pulumi from "@pulumi/pulumi";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { WHOLE_STACK_TIMEOUT_MS } from "./fresh-program";
import { runPlan } from "./plan";
import { countsByType, resourceTree } from "./plan-format";
import type { Registration } from "./mock-engine";

const run = promisify(execFile);
const root = path.resolve(__dirname, "..", "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

async function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await run(tsx, ["test/harness/plan-cli.ts", ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
        return { code: 0, stdout, stderr };
    } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
}

describe("npm run plan", () => {
    it("prints the dev stack as one JSON object with resources, parents, inputs and outputs", async () => {
        const { code, stdout } = await plan("--stack", "dev", "--json");
        expect(code).toBe(0);
        const document = JSON.parse(stdout);
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
        const { code, stdout } = await plan("--stack", "prod", "--json");
        expect(code).toBe(0);
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

    it("fails with a clear message and status 1 for a stack that has no file", async () => {
        const { code, stderr } = await plan("--stack", "staging");
        expect(code).toBe(1);
        expect(stderr).toContain("no stack file Pulumi.staging.yaml: stacks here are dev, prod");
    }, WHOLE_STACK_TIMEOUT_MS);
});

describe("plan formatting", () => {
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
