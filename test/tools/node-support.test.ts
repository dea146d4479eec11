import { createRequire } from "node:module";
import { afterEach, describe, expect, it, vi } from "vitest";
import { nodeMajor, nodeSupportNote, quietSdkNodeWarning, SDK_NODE_WARNING_SWITCH } from "../../tools/node-support";

const require = createRequire(__filename);

/** A fresh copy of the AWS SDK's own check (its "warning already emitted" flag is module state). */
function sdkCheck(): (version: string) => void {
    const id = require.resolve("@aws-sdk/core/client");
    delete require.cache[id];
    return (require(id) as { emitWarningIfUnsupportedVersion: (version: string) => void }).emitWarningIfUnsupportedVersion;
}

describe("the AWS SDK v3's Node.js warning (@aws-sdk/core emitWarningIfUnsupportedVersion)", () => {
    const saved = process.env[SDK_NODE_WARNING_SWITCH];
    afterEach(() => {
        if (saved === undefined) delete process.env[SDK_NODE_WARNING_SWITCH];
        else process.env[SDK_NODE_WARNING_SWITCH] = saved;
        vi.restoreAllMocks();
    });

    it("is switched off for the test runner by vitest.config.mts", () => {
        expect(saved).toBe("true");
    });

    it("fires on Node.js 20, the tools' Node, when the switch is not set", () => {
        delete process.env[SDK_NODE_WARNING_SWITCH];
        const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
        sdkCheck()("v20.20.2");
        expect(emit).toHaveBeenCalledTimes(1);
        expect(String(emit.mock.calls[0][0])).toMatch(/NodeVersionSupportWarning[\s\S]*node >=22/);
    });

    it("is silenced by its own switch, the one the tools and the test runner set", () => {
        process.env[SDK_NODE_WARNING_SWITCH] = "true";
        const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
        sdkCheck()("v20.20.2");
        expect(emit).not.toHaveBeenCalled();
    });

    it("cannot fire in the Lambdas: nodejs22.x runs Node.js 22, and they never set the switch", () => {
        delete process.env[SDK_NODE_WARNING_SWITCH];
        const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
        const check = sdkCheck();
        check("v22.23.5");
        check("v24.1.0");
        expect(emit).not.toHaveBeenCalled();
    });
});

describe("nodeSupportNote / quietSdkNodeWarning", () => {
    it("reads the major of process.version and refuses anything else", () => {
        expect(nodeMajor("v20.20.2")).toBe(20);
        expect(nodeMajor("v22.23.5")).toBe(22);
        expect(() => nodeMajor("twenty")).toThrow(/"twenty" is not vMAJOR/);
    });

    it("says one line on Node.js 20 and nothing on 22 or later", () => {
        const note = nodeSupportNote("v20.20.2");
        expect(note).toMatch(/^note: Node\.js v20\.20\.2: .*January 2027.*Node\.js >=22; use Node\.js 22/);
        expect(note).not.toContain("\n");
        expect(nodeSupportNote("v22.23.5")).toBeUndefined();
        expect(nodeSupportNote("v24.0.0")).toBeUndefined();
    });

    it("sets the SDK's switch and writes the note once, to the given stream", () => {
        const env: NodeJS.ProcessEnv = {};
        const lines: string[] = [];
        quietSdkNodeWarning(env, "v20.20.2", (line) => lines.push(line));
        expect(env[SDK_NODE_WARNING_SWITCH]).toBe("true");
        expect(lines).toEqual([`${nodeSupportNote("v20.20.2")}\n`]);
        quietSdkNodeWarning(env, "v20.20.2", (line) => lines.push(line));
        expect(lines).toHaveLength(1);
    });

    it("keeps the operator's own setting of the switch and then says nothing", () => {
        const env: NodeJS.ProcessEnv = { [SDK_NODE_WARNING_SWITCH]: "false" };
        const lines: string[] = [];
        quietSdkNodeWarning(env, "v20.20.2", (line) => lines.push(line));
        expect(env[SDK_NODE_WARNING_SWITCH]).toBe("false");
        expect(lines).toEqual([]);
    });

    it("on Node.js 22 sets the switch (harmless) and writes nothing", () => {
        const env: NodeJS.ProcessEnv = {};
        const lines: string[] = [];
        quietSdkNodeWarning(env, "v22.23.5", (line) => lines.push(line));
        expect(env[SDK_NODE_WARNING_SWITCH]).toBe("true");
        expect(lines).toEqual([]);
    });
});
