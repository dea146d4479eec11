import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { evaluateStack } from "../../tools/offline/evaluate";
import { RecordingEngine, waitForRegistrations } from "../../tools/offline/mock-engine";

/**
 * `npm run bench:stack`: evaluates the dev stack with 1, 10 and 100 hosts under the mock engine,
 * and registers the same number of plain `aws.sns.Topic`s as a baseline, so the cost of our
 * components per resource shows against the SDK's own cost per resource. Each measurement runs in
 * a fresh process: module caches and JIT state from one size must not flatter the next.
 */

interface Measurement {
    readonly seconds: number;
    readonly resources: number;
}

async function measureHosts(count: number): Promise<Measurement> {
    const hosts = Array.from({ length: count }, (_, i) => ({ name: `bench-${i + 1}`, processes: ["chronyd", "sshd"] }));
    const evaluation = await evaluateStack("dev", { configOverrides: { "alertline:hosts": hosts }, loadProgram: () => import("../../index") });
    return { seconds: evaluation.elapsedMs / 1000, resources: evaluation.engine.registrations.length };
}

async function measureTopics(count: number): Promise<Measurement> {
    const engine = new RecordingEngine();
    await engine.install("alertline", "bench");
    const started = performance.now();
    await pulumi.runtime.runInPulumiStack(async () => {
        for (let i = 0; i < count; i++) new aws.sns.Topic(`topic-${i}`);
        return {};
    });
    await waitForRegistrations();
    return { seconds: (performance.now() - started) / 1000, resources: engine.registrations.length };
}

function runChild(kind: "hosts" | "topics", count: number): Measurement {
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, "--child", kind, "--count", String(count)], { encoding: "utf8" });
    const line = child.stdout.trim().split("\n").at(-1) ?? "";
    if (child.status !== 0 || !line.startsWith("{")) {
        throw new Error(`benchmark child (${kind} ${count}) failed with status ${child.status}:\n${child.stderr}`);
    }
    return JSON.parse(line) as Measurement;
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { child: { type: "string" }, count: { type: "string" }, sizes: { type: "string", default: "1,10,100" } } });
    if (values.child) {
        const count = Number(values.count);
        const result = values.child === "hosts" ? await measureHosts(count) : await measureTopics(count);
        process.stdout.write(`${JSON.stringify(result)}\n`);
        process.exit(0);
    }
    const sizes = (values.sizes ?? "1,10,100").split(",").map(Number);
    console.log("Stack evaluation under the mock engine (dev stack config, N hosts), against N-equivalent plain aws.sns.Topic registrations.");
    console.log("hosts  resources  seconds  ms/resource | topics  seconds  ms/resource | ratio");
    for (const hosts of sizes) {
        const stack = runChild("hosts", hosts);
        // Same total registrations on both sides: the stack resource plus N others.
        const baseline = runChild("topics", stack.resources - 1);
        const perStack = (stack.seconds * 1000) / stack.resources;
        const perTopic = (baseline.seconds * 1000) / baseline.resources;
        console.log(
            `${String(hosts).padStart(5)}  ${String(stack.resources).padStart(9)}  ${stack.seconds.toFixed(2).padStart(7)}  ${perStack.toFixed(2).padStart(11)} | ` +
                `${String(baseline.resources).padStart(6)}  ${baseline.seconds.toFixed(2).padStart(7)}  ${perTopic.toFixed(2).padStart(11)} | ${(perStack / perTopic).toFixed(2)}x`,
        );
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
