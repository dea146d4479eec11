/**
 * Which Node.js runs what (README, "Node.js versions"): the Lambdas run the `nodejs22.x` runtime
 * (components/shared/function-code.ts); the tools, the tests and CI run on Node.js 20.19+ or 22.12+.
 *
 * The AWS SDK for JavaScript v3 prints a 9-line NodeVersionSupportWarning the first time a client
 * is built on Node < 22 (@aws-sdk/core, dist-cjs/submodules/client/index.js,
 * `emitWarningIfUnsupportedVersion`), and it offers one switch to turn it off: the environment
 * variable AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true. The tools set that switch and say
 * what matters in one line of their own, on stderr (never in JSON on stdout). The Lambdas never set
 * it: on nodejs22.x the SDK's check does not fire (test/tools/node-support.test.ts).
 */

/** The AWS SDK v3's own switch for its Node-version warning (@aws-sdk/core `emitWarningIfUnsupportedVersion`). */
export const SDK_NODE_WARNING_SWITCH = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/** Node.js major the AWS SDK v3 requires for its releases after the first week of January 2027. */
export const SDK_NODE_MAJOR_FROM_2027 = 22;

/** Major version of a `process.version` string ("v20.20.2" -> 20). */
export function nodeMajor(version: string): number {
    const match = /^v?(\d+)\./.exec(version);
    if (match === null) throw new Error(`node version "${version}" is not vMAJOR.MINOR.PATCH`);
    return Number(match[1]);
}

/** Our one line about the Node.js in use, or undefined when there is nothing to say (Node >= 22). */
export function nodeSupportNote(version: string): string | undefined {
    if (nodeMajor(version) >= SDK_NODE_MAJOR_FROM_2027) return undefined;
    return `note: Node.js ${version}: works for the tools, but AWS SDK v3 releases after the first week of January 2027 need Node.js >=${SDK_NODE_MAJOR_FROM_2027}; use Node.js 22 (README, "Node.js versions")`;
}

/**
 * For a tool that builds AWS SDK clients: turns the SDK's 9-line warning off with its own switch
 * and writes our one line instead (once per process, to stderr). An explicit setting of the switch
 * by the operator is kept.
 */
export function quietSdkNodeWarning(
    env: NodeJS.ProcessEnv = process.env,
    version: string = process.version,
    write: (line: string) => void = (line) => process.stderr.write(line),
): void {
    if (env[SDK_NODE_WARNING_SWITCH] !== undefined) return;
    env[SDK_NODE_WARNING_SWITCH] = "true";
    const note = nodeSupportNote(version);
    if (note !== undefined) write(`${note}\n`);
}
