import type { StackEvaluation } from "./evaluate";
import type { Registration } from "./mock-engine";
import type { Violation } from "./policy-runner";

/** The plan as one JSON document, for tools. Secrets serialise as "[secret]". */
export function planJson(evaluation: StackEvaluation, violations: readonly Violation[]): string {
    return JSON.stringify(
        {
            stack: evaluation.stack,
            resources: evaluation.engine.registrations.map((r) => ({ type: r.type, name: r.name, urn: r.urn, parent: r.parent ?? null, inputs: r.inputs })),
            outputs: evaluation.outputs,
            placeholders: evaluation.config.placeholders,
            violations: violations.map((v) => ({ policy: v.policy, type: v.type, name: v.name, level: v.level, message: v.message })),
        },
        null,
        2,
    );
}

/** Resources as a tree under the stack, children in registration order. */
export function resourceTree(registrations: readonly Registration[]): string[] {
    const children = new Map<string | undefined, Registration[]>();
    for (const r of registrations) {
        const siblings = children.get(r.parent) ?? [];
        siblings.push(r);
        children.set(r.parent, siblings);
    }
    const lines: string[] = [];
    const walk = (parent: string | undefined, indent: string) => {
        const kids = [...(children.get(parent) ?? [])].sort((a, b) => Number(a.custom) - Number(b.custom));
        kids.forEach((r, i) => {
            const last = i === kids.length - 1;
            lines.push(`${indent}${parent === undefined ? "" : last ? "└─ " : "├─ "}${r.type}  ${r.name}`);
            walk(r.urn, parent === undefined ? "" : indent + (last ? "   " : "│  "));
        });
    };
    walk(undefined, "");
    return lines;
}

/** How many resources of each type, most first. */
export function countsByType(registrations: readonly Registration[]): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of registrations) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function showOutput(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Policy verdicts for a person: mandatory first, one block per violation. */
export function verdictLines(violations: readonly Violation[]): string[] {
    if (violations.length === 0) return ["Policy verdicts (alertline-guardrails): no violations."];
    const sorted = [...violations].sort((a, b) => Number(a.level !== "mandatory") - Number(b.level !== "mandatory") || a.policy.localeCompare(b.policy));
    const mandatoryCount = sorted.filter((v) => v.level === "mandatory").length;
    return [
        `Policy verdicts (alertline-guardrails): ${mandatoryCount} mandatory, ${sorted.length - mandatoryCount} advisory.`,
        ...sorted.map((v) => `  [${v.level}] ${v.policy}  ${v.type}  ${v.name}
      ${v.message}`),
    ];
}

/** The plan for a person: what would be created, how much of it, what the stack exports, and the verdicts. */
export function planText(evaluation: StackEvaluation, violations: readonly Violation[]): string {
    const regs = evaluation.engine.registrations;
    const counts = countsByType(regs);
    const width = Math.max(...counts.map(([, n]) => String(n).length));
    const lines = [
        `alertline plan for stack "${evaluation.stack}": evaluated offline under the mock engine; nothing was deployed.`,
        ...(evaluation.config.placeholders.length > 0
            ? [
                  `Secrets not readable here were filled with placeholders (${evaluation.config.placeholders.length}); before pulumi up, set each:`,
                  ...evaluation.config.placeholders.map((key) => `  ${placeholderCommand(key, evaluation.stack)}`),
              ]
            : ["All required secrets were given."]),
        "",
        `Resources (${regs.length}):`,
        ...resourceTree(regs).map((l) => `  ${l}`),
        "",
        "Counts by type:",
        ...counts.map(([type, n]) => `  ${String(n).padStart(width)}  ${type}`),
        "",
        "Outputs:",
        ...Object.entries(evaluation.outputs).map(([k, v]) => `  ${k}: ${showOutput(v)}`),
        "",
        ...verdictLines(violations),
    ];
    return lines.join("\n");
}

/** One resource of a `--json` plan. */
export interface PlanResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly parent: string | null;
    readonly inputs: Record<string, unknown>;
}

/** What `--diff` reads from BEFORE.json; refuses anything that is not a `--json` plan. */
export function planResources(document: unknown, what: string): PlanResource[] {
    const resources = (document as { resources?: unknown } | null)?.resources;
    if (!Array.isArray(resources) || resources.some((r) => typeof r?.urn !== "string" || typeof r?.inputs !== "object")) {
        throw new Error(`${what} is not a --json plan (no resources[] with urn and inputs); make one with npm run --silent plan -- --stack <stack> --json`);
    }
    return resources as PlanResource[];
}

const show = (value: unknown) => (value === undefined ? "(none)" : JSON.stringify(value));

/**
 * What changes between two `--json` plans, per resource by URN and per changed top-level input,
 * like `pulumi preview --diff`; ends with a `+added ~modified -removed` line like terraform plan's
 * summary. Secrets are "[secret]" on both sides, so a secret's new value does not show as a change.
 */
export function planDiff(before: readonly PlanResource[], after: readonly PlanResource[]): { lines: string[]; added: number; modified: number; removed: number } {
    const old = new Map(before.map((r) => [r.urn, r]));
    const now = new Map(after.map((r) => [r.urn, r]));
    const lines: string[] = [];
    let added = 0;
    let modified = 0;
    let removed = 0;
    for (const r of after) {
        const was = old.get(r.urn);
        if (was === undefined) {
            added++;
            lines.push(`+ ${r.type}  ${r.name}  (${r.urn})`);
            continue;
        }
        const keys = [...new Set([...Object.keys(was.inputs), ...Object.keys(r.inputs)])].sort();
        const changed = keys.filter((k) => JSON.stringify(was.inputs[k]) !== JSON.stringify(r.inputs[k]));
        if (changed.length === 0) continue;
        modified++;
        lines.push(`~ ${r.type}  ${r.name}  (${r.urn})`);
        for (const k of changed) lines.push(`    ~ ${k}: ${show(was.inputs[k])} => ${show(r.inputs[k])}`);
    }
    for (const r of before) {
        if (now.has(r.urn)) continue;
        removed++;
        lines.push(`- ${r.type}  ${r.name}  (${r.urn})`);
    }
    lines.push(`+${added} ~${modified} -${removed}`);
    return { lines, added, modified, removed };
}

/** The `pulumi config set` line that replaces a placeholder with the real secret. */
export function placeholderCommand(key: string, stack: string): string {
    return `pulumi config set --secret ${key} <value> --stack ${stack}`;
}
