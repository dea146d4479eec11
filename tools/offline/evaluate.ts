import * as pulumi from "@pulumi/pulumi";
import { MockEngineOptions, RecordingEngine, SecretValue, waitForRegistrations } from "./mock-engine";
import { readStackConfig, StackConfigMap } from "./stack-files";

/** What evaluating a stack produced. */
export interface StackEvaluation {
    readonly stack: string;
    readonly engine: RecordingEngine;
    readonly config: StackConfigMap;
    /** Stack outputs, with secret ones as SecretValue. */
    readonly outputs: Record<string, unknown>;
    /** Wall-clock milliseconds from first registration to the last. */
    readonly elapsedMs: number;
}

export interface EvaluateOptions {
    /** Config values that replace or add to the stack file's (`namespace:key` → value). */
    readonly configOverrides?: Record<string, unknown>;
    /** Loads the program. Tests pass `() => import("../../index")` after `vi.resetModules()`. */
    readonly loadProgram: () => Promise<unknown>;
    readonly engine?: MockEngineOptions;
}

/**
 * Runs the real program under the mock engine with a stack's real configuration, as
 * `pulumi preview --stack <stack>` would, and returns everything that was registered.
 * Errors in the program (a bad config, a failed apply) reject, with the program's message.
 */
export async function evaluateStack(stack: string, options: EvaluateOptions): Promise<StackEvaluation> {
    const config = readStackConfig(stack, options.configOverrides);
    const region = config.config["aws:region"] ?? options.engine?.region;
    const engine = new RecordingEngine({ ...options.engine, region });
    await engine.install(config.project, stack);
    pulumi.runtime.setAllConfig(config.config, config.secretKeys);

    // A failed apply (a secret that fails its check, say) surfaces as an unhandled rejection, and
    // `pulumi` ends the run on the first one; the registrations waiting on it never finish.
    // Like `pulumi`'s own runner, the harness is the only listener while the program runs: a
    // program error also rejects promises inside the SDK that nobody awaits, which a test runner
    // would otherwise report as a second, stray failure.
    let fail: (reason: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => undefined);
    const otherListeners = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", fail);
    const started = performance.now();
    try {
        const run = async () => {
            const program: { exports: Record<string, unknown> } = { exports: {} };
            await pulumi.runtime.runInPulumiStack(async () => {
                const module = (await options.loadProgram()) as Record<string, unknown>;
                program.exports = Object.fromEntries(Object.entries(module).filter(([key]) => key !== "default" && key !== "__esModule"));
                return program.exports;
            });
            await waitForRegistrations();
            return resolveOutputs(program.exports);
        };
        const outputs = await Promise.race([run(), failed]);
        return { stack, engine, config, outputs, elapsedMs: performance.now() - started };
    } finally {
        // Rejections that follow the first failure belong to this run, not to whatever runs next.
        await new Promise((resolve) => setTimeout(resolve, 10));
        process.off("unhandledRejection", fail);
        for (const listener of otherListeners) process.on("unhandledRejection", listener);
    }
}

/** Resolves stack outputs; secret ones come back wrapped so they print as "[secret]". */
async function resolveOutputs(exported: Record<string, unknown>): Promise<Record<string, unknown>> {
    const entries = await Promise.all(
        Object.entries(exported).map(async ([key, value]) => {
            const output: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
            const resolved = await new Promise<unknown>((resolve) => output.apply((v) => resolve(v)));
            return [key, (await pulumi.isSecret(output)) ? new SecretValue(resolved) : resolved] as const;
        }),
    );
    return Object.fromEntries(entries);
}
