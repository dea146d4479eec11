import * as pulumi from "@pulumi/pulumi";
import { MockEngineOptions, RecordingEngine, waitForRegistrations } from "../../tools/offline/mock-engine";

/**
 * Runs `build` (which declares resources, typically one component) inside a fresh mock stack and
 * waits until every registration has reached the engine. For component tests; whole stacks go
 * through evaluateStack.
 */
export async function recordResources(build: () => unknown, options: MockEngineOptions & { config?: Record<string, string> } = {}): Promise<RecordingEngine> {
    const engine = new RecordingEngine(options);
    await engine.install("alertline", "test");
    pulumi.runtime.setAllConfig(options.config ?? {}, []);
    await pulumi.runtime.runInPulumiStack(async () => {
        build();
        return {};
    });
    await waitForRegistrations();
    return engine;
}

/** Parses a JSON policy document registered as a string input. */
export function policyDocument(value: unknown): { Statement: Record<string, any>[] } {
    if (typeof value !== "string") throw new Error(`expected a JSON policy string, got ${typeof value}`);
    return JSON.parse(value);
}
