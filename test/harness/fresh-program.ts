import { vi } from "vitest";
import { evaluateStack, StackEvaluation } from "./evaluate";

/**
 * Evaluates the real index.ts for a stack inside a vitest file. Module state is reset first, so
 * each call runs the program afresh (index.ts declares its resources at import).
 */
export async function evaluateProgram(stack: string, configOverrides?: Record<string, unknown>): Promise<StackEvaluation> {
    vi.resetModules();
    return evaluateStack(stack, { configOverrides, loadProgram: () => import("../../index") });
}
