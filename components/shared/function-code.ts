import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";
import * as path from "node:path";

/** Node.js runtime the functions are built for and run on. */
export const FUNCTION_RUNTIME = "nodejs22.x";

/** esbuild's target for the bundles: the Node.js major of FUNCTION_RUNTIME (test/components/shared/function-runtime.test.ts). */
export const FUNCTION_BUNDLE_TARGET = "node22";

const bundles = new Map<string, string>();

/**
 * Bundles `functions/<name>/handler.ts` with esbuild into one CommonJS file. Done while the program
 * runs, so `pulumi preview` shows a code change as a diff and a build error fails the preview.
 * The AWS SDK is bundled too: the runtime's copy changes under us, ours is pinned in the lock file.
 */
export function bundleFunction(name: string): string {
    const cached = bundles.get(name);
    if (cached !== undefined) return cached;
    const result = buildSync({
        entryPoints: [path.join(__dirname, "..", "..", "functions", name, "handler.ts")],
        bundle: true,
        platform: "node",
        target: FUNCTION_BUNDLE_TARGET,
        format: "cjs",
        write: false,
        legalComments: "none",
        logLevel: "silent",
    });
    const code = result.outputFiles[0].text;
    bundles.set(name, code);
    return code;
}

/**
 * The deployment package of a function: `index.js`, whose `handler` export Lambda calls, and any
 * configuration files it reads beside itself (rules, towers), so a change to them is a code change
 * that `pulumi preview` shows and `pulumi up` ships.
 */
export function functionCode(name: string, files: Record<string, pulumi.Input<string>> = {}): pulumi.Output<pulumi.asset.AssetArchive> {
    return pulumi.output(files).apply(
        (contents) =>
            new pulumi.asset.AssetArchive({
                "index.js": new pulumi.asset.StringAsset(bundleFunction(name)),
                ...Object.fromEntries(Object.entries(contents).map(([file, text]) => [file, new pulumi.asset.StringAsset(text)])),
            }),
    );
}

/** Physical function name; fixed (not auto-named) because KMS encryption context must name it up front. */
export function lambdaFunctionName(environment: string, component: string, role: string): string {
    const name = `alertline-${environment}-${component}-${role}`;
    if (name.length > 64 || !/^[A-Za-z0-9_-]+$/.test(name)) {
        throw new Error(`function name "${name}" is not a valid Lambda name (at most 64 of letters, digits, '-', '_'): shorten the component name "${component}"`);
    }
    return name;
}
