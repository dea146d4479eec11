import { execFile } from "node:child_process";
import { join } from "node:path";
import type { Context } from "aws-lambda";

/**
 * Running a function as Lambda would, for the tests: a fake Lambda `Context`, the Lambda-like
 * environment pointing the real SDK clients at local peers, and the bundle invoked in a fresh Node
 * process.
 */

/** A full Lambda `Context` for `functionName`, with a fixed remaining time. */
export function lambdaContext(functionName: string, remainingMs = 60_000): Context {
    return {
        functionName,
        functionVersion: "$LATEST",
        invokedFunctionArn: `arn:aws:lambda:ap-northeast-1:123456789012:function:${functionName}`,
        memoryLimitInMB: "256",
        awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
        logGroupName: `/aws/lambda/${functionName}`,
        logStreamName: "2024/05/21/[$LATEST]abcdef",
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => remainingMs,
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
    };
}

export type LocalAwsService = "S3" | "SQS" | "SNS" | "DYNAMODB" | "KMS" | "SSM";

/**
 * The environment of a fresh process that must reach only local peers: a region, fake credentials,
 * one AWS_ENDPOINT_URL_<SERVICE> per endpoint, no shared config or credentials files (they point at
 * files that do not exist in `workDir`), no instance metadata and no retries. Callers add the
 * function's own variables.
 */
export function localAwsEnv(workDir: string, endpoints: Partial<Record<LocalAwsService, string>>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? "",
        AWS_REGION: "ap-northeast-1",
        AWS_ACCESS_KEY_ID: "AKIDLOCALTEST",
        AWS_SECRET_ACCESS_KEY: "local-test-secret",
        AWS_CONFIG_FILE: join(workDir, "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE: join(workDir, "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_MAX_ATTEMPTS: "1",
    };
    for (const [service, endpoint] of Object.entries(endpoints)) {
        if (endpoint !== undefined) env[`AWS_ENDPOINT_URL_${service}`] = endpoint;
    }
    return env;
}

/**
 * Loads the bundle, awaits `handler(event, context)` for each event in order in this one process
 * (one container), writes `RESULT <json>` after each invocation, then `HANDLER_RESOLVED`; on the
 * first rejection it writes `HANDLER_REJECTED <message>` and exits with 1. The context's functions
 * do not cross the process boundary, so they are made again here.
 */
const DRIVER = `
    const { bundlePath, context: fields, remainingMs, events } = JSON.parse(process.argv[1]);
    const { handler } = require(bundlePath);
    const context = { ...fields, getRemainingTimeInMillis: () => remainingMs, done: () => undefined, fail: () => undefined, succeed: () => undefined };
    (async () => {
        for (const event of events) {
            const result = await handler(event, context);
            process.stdout.write("\\nRESULT " + JSON.stringify(result) + "\\n");
        }
        process.stdout.write("\\nHANDLER_RESOLVED\\n");
    })().catch((e) => { process.stdout.write("\\nHANDLER_REJECTED " + e.message + "\\n"); process.exitCode = 1; });
`;

export interface InvokeBundleOptions {
    readonly bundlePath: string;
    readonly functionName: string;
    readonly events: readonly unknown[];
    readonly env: NodeJS.ProcessEnv;
    /** What the context's getRemainingTimeInMillis answers. Default 60 s. */
    readonly remainingMs?: number;
    /** When the process is killed. Default 10 s. */
    readonly timeoutMs?: number;
}

/** Invokes the bundle's `handler` once per event in one fresh Node process, like Lambda would. */
export function invokeBundle(options: InvokeBundleOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const { bundlePath, functionName, events, env, remainingMs = 60_000, timeoutMs = 10_000 } = options;
    const input = JSON.stringify({ bundlePath, context: lambdaContext(functionName, remainingMs), remainingMs, events });
    return new Promise((resolve) => {
        execFile(process.execPath, ["-e", DRIVER, input], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
            resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
        });
    });
}
