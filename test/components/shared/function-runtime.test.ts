import * as aws from "@pulumi/aws";
import { buildSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { bundleFunction, FUNCTION_BUNDLE_TARGET, FUNCTION_RUNTIME } from "../../../components/shared/function-code";

/**
 * Lambda's Node.js runtimes and the day each is deprecated (no more security patches; creating and
 * then updating functions are blocked some weeks later). Source: AWS Lambda Developer Guide,
 * "Lambda runtimes", table "Supported runtimes" and "Deprecated runtimes",
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html (dates as listed there and on
 * https://endoflife.date/aws-lambda; they follow the Node.js project's end of life, April 30).
 */
const LAMBDA_NODE_DEPRECATION: Record<string, string> = {
    "nodejs18.x": "2025-09-01",
    "nodejs20.x": "2026-04-30",
    "nodejs22.x": "2027-04-30",
    "nodejs24.x": "2028-04-30",
};

describe("the Lambdas' Node.js runtime", () => {
    it("is one Lambda still supports today", () => {
        const deprecated = LAMBDA_NODE_DEPRECATION[FUNCTION_RUNTIME];
        expect(deprecated, `${FUNCTION_RUNTIME} is not in the table of Lambda Node.js runtimes`).toBeDefined();
        expect(
            new Date(`${deprecated}T00:00:00Z`).getTime() > Date.now(),
            `${FUNCTION_RUNTIME} is deprecated by Lambda since ${deprecated}: move FUNCTION_RUNTIME and FUNCTION_BUNDLE_TARGET to a supported runtime`,
        ).toBe(true);
    });

    it("is a runtime identifier the AWS provider knows", () => {
        expect(Object.values(aws.lambda.Runtime)).toContain(FUNCTION_RUNTIME);
    });

    it("and esbuild's target name the same Node.js major", () => {
        const runtimeMajor = /^nodejs(\d+)\.x$/.exec(FUNCTION_RUNTIME)?.[1];
        const targetMajor = /^node(\d+)$/.exec(FUNCTION_BUNDLE_TARGET)?.[1];
        expect(runtimeMajor).toBeDefined();
        expect(targetMajor).toBe(runtimeMajor);
    });

    it("is a target esbuild understands and builds for that Node.js", () => {
        // Logical assignment is native from Node.js 15: built for the runtime it stays as written,
        // built for Node.js 14 esbuild rewrites it. A target esbuild did not know would throw.
        const build = (target: string) =>
            buildSync({ stdin: { contents: "export let a; a ??= 1;" }, target, format: "cjs", write: false, logLevel: "silent" }).outputFiles[0].text;
        expect(build(FUNCTION_BUNDLE_TARGET)).toContain("??=");
        expect(build("node14")).not.toContain("??=");
    });

    it("runs a bundled AWS SDK whose Node-version warning does not fire on it, and the bundle does not turn the warning off", () => {
        // The SDK's check in @aws-sdk/core: `const vv = 22; if (userMajorVersion < vv) emitWarning(...)`.
        const code = bundleFunction("mail-ingest");
        const threshold = /const vv = (\d+);/.exec(code)?.[1];
        expect(threshold, "the bundle holds the SDK's Node-version check").toBeDefined();
        expect(Number(/^nodejs(\d+)\.x$/.exec(FUNCTION_RUNTIME)?.[1])).toBeGreaterThanOrEqual(Number(threshold));
        expect(code).not.toMatch(/AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED["'\]]*\s*=[^=]/);
    });
});
