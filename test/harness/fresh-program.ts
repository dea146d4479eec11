import { vi } from "vitest";
import { evaluateStack, StackEvaluation } from "../../tools/offline/evaluate";

/**
 * Time a test or hook that evaluates a whole stack (or spawns the plan) may take. Such a run costs
 * 3–8 s on an idle 2-core machine and has been seen at 15 s with the cores shared; the default 10 s
 * hook timeout and the suite's 30 s test timeout left no margin for a busy CI machine.
 */
export const WHOLE_STACK_TIMEOUT_MS = 180_000;

/**
 * Evaluates the real index.ts for a stack inside a vitest file. Module state is reset first, so
 * each call runs the program afresh (index.ts declares its resources at import).
 */
export async function evaluateProgram(stack: string, configOverrides?: Record<string, unknown>): Promise<StackEvaluation> {
    vi.resetModules();
    return evaluateStack(stack, { configOverrides, loadProgram: () => import("../../index") });
}

const shared = new Map<string, Promise<StackEvaluation>>();

/**
 * The same evaluation as {@link evaluateProgram}, run once per test file for each stack and set of
 * overrides: tests that only read what a stack registered share it instead of evaluating again.
 * Evaluations run one after the other, since the mock engine is process-wide.
 */
export function sharedEvaluation(stack: string, configOverrides?: Record<string, unknown>): Promise<StackEvaluation> {
    const key = JSON.stringify([stack, configOverrides ?? {}]);
    let evaluation = shared.get(key);
    if (evaluation === undefined) {
        const previous = Promise.allSettled([...shared.values()]);
        evaluation = previous.then(() => evaluateProgram(stack, configOverrides));
        shared.set(key, evaluation);
    }
    return evaluation;
}
