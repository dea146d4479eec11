import { decodeConfigValue } from "../../components/shared/stack-config";
import { evaluateStack } from "./evaluate";
import { planDiff, planJson, planResources, planText } from "./plan-format";
import { mandatory, runPolicies, validatePolicyLevels } from "./policy-runner";

/** What `npm run plan` prints and how it exits. */
export interface PlanResult {
    readonly code: 0 | 1;
    readonly stdout: string;
    readonly stderr: string;
}

export interface PlanOptions {
    readonly json?: boolean;
    /** A previous `--json` plan: print what changes from it instead of the whole plan. */
    readonly before?: unknown;
    /** Config values that replace the stack file's (tests). */
    readonly configOverrides?: Record<string, unknown>;
    /** Loads the program; the CLI imports index.ts, tests may wrap it. */
    readonly loadProgram?: () => Promise<unknown>;
}

/**
 * The offline plan: the real program with the real Pulumi.<stack>.yaml under the mock engine, then
 * the policy pack over everything it registered, with the stack's `alertline:policyLevels`.
 * Code 1 for a bad config (the program's own message) or a mandatory violation (after the plan).
 */
export async function runPlan(stack: string, options: PlanOptions = {}): Promise<PlanResult> {
    try {
        const evaluation = await evaluateStack(stack, { configOverrides: options.configOverrides, loadProgram: options.loadProgram ?? (() => import("../../index")) });
        const levelsText = evaluation.config.config["alertline:policyLevels"];
        const levels = levelsText === undefined ? {} : validatePolicyLevels(decodeConfigValue(levelsText));
        const violations = runPolicies(evaluation.engine.registrations, { levels });
        const json = planJson(evaluation, violations);
        const text =
            options.before !== undefined
                ? planDiff(planResources(options.before, "--diff BEFORE.json"), planResources(JSON.parse(json), "this plan")).lines.join("\n")
                : options.json
                  ? json
                  : planText(evaluation, violations);
        const stdout = `${text}\n`;
        const blocking = mandatory(violations).length;
        return blocking > 0
            ? { code: 1, stdout, stderr: `alertline plan for stack "${stack}": ${blocking} mandatory policy violation(s); see the verdicts.\n` }
            : { code: 0, stdout, stderr: "" };
    } catch (error) {
        return { code: 1, stdout: "", stderr: `alertline plan for stack "${stack}" failed:\n${error instanceof Error ? error.message : String(error)}\n` };
    }
}
