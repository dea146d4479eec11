import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { parseArgs } from "node:util";
import { resourcePolicies, stackPolicies } from "../../policy/policies";
import { evaluateStack } from "../../tools/offline/evaluate";
import type { Registration } from "../../tools/offline/mock-engine";
import { runPolicies, RunPoliciesOptions } from "../../tools/offline/policy-runner";

/**
 * `npm run bench:policy [-- --hosts 70 --runs 25 --warmup 5 --json]`: evaluates the dev stack with enough hosts
 * to pass 1,000 resources under the mock engine, then times alertline-guardrails over it several
 * times, as `pulumi preview --policy-pack policy` would run it (through the same runner the tests
 * use). For scale, the same run times a trivial pass: one no-op resource policy and one no-op stack
 * policy through the same runner, which is the cost of handing resources to policies at all.
 * Not a timed test: the numbers are printed, never asserted.
 */

const MIN_RESOURCES = 1000;

interface Timing {
    readonly medianMs: number;
    readonly minMs: number;
    readonly maxMs: number;
    /** Median run time per registered resource, in microseconds. */
    readonly usPerResource: number;
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarise(samples: number[], resources: number): Timing {
    const round = (n: number) => Math.round(n * 100) / 100;
    const medianMs = median(samples);
    return { medianMs: round(medianMs), minMs: round(Math.min(...samples)), maxMs: round(Math.max(...samples)), usPerResource: round((medianMs * 1000) / resources) };
}

/**
 * Times each set of options `runs` times after `warmup` untimed rounds. The sets take turns within
 * each round, so garbage collection and CPU frequency changes hit them alike and their ratio holds.
 */
function timeTogether(registrations: readonly Registration[], variants: readonly RunPoliciesOptions[], runs: number, warmup: number): Timing[] {
    const samples = variants.map(() => [] as number[]);
    for (let round = 0; round < warmup + runs; round++) {
        variants.forEach((options, i) => {
            const started = performance.now();
            runPolicies(registrations, options);
            if (round >= warmup) samples[i].push(performance.now() - started);
        });
    }
    return samples.map((s) => summarise(s, registrations.length));
}

const trivialResource: ResourceValidationPolicy = {
    name: "trivial-resource",
    description: "reads the type and reports nothing",
    enforcementLevel: "mandatory",
    validateResource: (args) => void args.type,
};
const trivialStack: StackValidationPolicy = {
    name: "trivial-stack",
    description: "looks at every resource's type and reports nothing",
    enforcementLevel: "mandatory",
    validateStack: (args) => void args.resources.forEach((r) => r.type),
};

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: { hosts: { type: "string", default: "70" }, runs: { type: "string", default: "25" }, warmup: { type: "string", default: "5" }, json: { type: "boolean", default: false } },
    });
    const hostCount = Number(values.hosts);
    const runs = Number(values.runs);
    const warmup = Number(values.warmup);
    for (const [flag, value] of [["--hosts", hostCount], ["--runs", runs], ["--warmup", warmup]] as const) {
        if (!Number.isInteger(value) || value < (flag === "--warmup" ? 0 : 1)) throw new Error(`${flag} must be a whole number${flag === "--warmup" ? "" : " of at least 1"}, got ${JSON.stringify(values[flag.slice(2) as "hosts"])}`);
    }

    const hosts = Array.from({ length: hostCount }, (_, i) => ({ name: `bench-${i + 1}`, processes: ["chronyd", "sshd"] }));
    const evaluation = await evaluateStack("dev", { configOverrides: { "alertline:hosts": hosts }, loadProgram: () => import("../../index") });
    const registrations = evaluation.engine.registrations;
    if (registrations.length < MIN_RESOURCES) {
        throw new Error(`the dev stack with ${hostCount} hosts registered ${registrations.length} resources, fewer than ${MIN_RESOURCES}: raise --hosts`);
    }

    const [pack, trivial] = timeTogether(registrations, [{}, { policies: { resource: [trivialResource], stack: [trivialStack] } }], runs, warmup);
    const alone = [
        ...resourcePolicies.map((p) => ({ policy: p.name, options: { policies: { resource: [p], stack: [] } } })),
        ...stackPolicies.map((p) => ({ policy: p.name, options: { policies: { resource: [], stack: [p] } } })),
    ];
    const aloneTimings = timeTogether(registrations, alone.map((a) => a.options), Math.max(3, Math.ceil(runs / 3)), 1);
    const perPolicy = alone.map(({ policy }, i) => ({ policy, usPerResource: aloneTimings[i].usPerResource })).sort((a, b) => b.usPerResource - a.usPerResource);
    const violations = runPolicies(registrations);

    const result = {
        stack: "dev",
        hosts: hostCount,
        resources: registrations.length,
        customResources: registrations.filter((r) => r.custom).length,
        evaluationMs: Math.round(evaluation.elapsedMs),
        runs,
        warmup,
        policies: resourcePolicies.length + stackPolicies.length,
        pack,
        trivial,
        ratio: Math.round((pack.medianMs / trivial.medianMs) * 100) / 100,
        perPolicy,
        violations: { total: violations.length, mandatory: violations.filter((v) => v.level === "mandatory").length },
    };
    if (values.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
    }
    const line = (label: string, t: Timing) =>
        `${label.padEnd(44)} ${t.medianMs.toFixed(2).padStart(8)} ms median (${t.minMs.toFixed(2)}–${t.maxMs.toFixed(2)})  ${t.usPerResource.toFixed(1).padStart(7)} µs/resource`;
    console.log(
        `alertline-guardrails over the dev stack with ${hostCount} hosts under the mock engine: ${result.resources} resources ` +
            `(${result.customResources} custom), evaluated in ${(evaluation.elapsedMs / 1000).toFixed(1)} s; ${runs} timed runs after ${warmup} warm-up runs.`,
    );
    console.log(line(`pack (${result.policies} policies)`, pack));
    console.log(line("trivial pass (1 no-op resource + 1 stack policy)", trivial));
    console.log(`pack / trivial: ${result.ratio.toFixed(1)}x`);
    console.log("per policy, alone (µs/resource):");
    for (const p of perPolicy) console.log(`  ${p.usPerResource.toFixed(2).padStart(7)}  ${p.policy}`);
    console.log(`verdicts on this stack: ${result.violations.total} (${result.violations.mandatory} mandatory)`);
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error instanceof Error ? error.message : error);
        process.exit(1);
    },
);
