import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";

/**
 * One AWS request, as IAM evaluates it: who, what action, on which resource, with which request
 * context, against the principal's identity policies and the resource's policy (a key, bucket or
 * topic policy). Evaluated offline by @cloud-copilot/iam-simulate.
 */
export interface IamRequest {
    /** Role ARN, or a service principal such as "ses.amazonaws.com". */
    readonly principal: string;
    readonly action: string;
    /** Resource ARN, or "*" for actions without resource-level permissions. */
    readonly resource: string;
    readonly context: Readonly<Record<string, string | readonly string[]>>;
    /** Resource-based policy of the resource (key policy, bucket policy, topic policy), if it has one. */
    readonly resourcePolicy?: unknown;
    /** Account owning the resource, when its ARN does not say (S3). Default: the ARN's, else the principal's. */
    readonly resourceAccount?: string;
    /** What the request stands for, for failure messages: "tower-dispatch: CancelCommandCommand (relay.ts)". */
    readonly why: string;
}

export type Verdict = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

/**
 * iam-simulate matches a variable condition key only when its variable part follows a "/" (as in
 * `aws:RequestTag/<key>`), so it drops `kms:EncryptionContext:<key>` from the request as "not
 * applicable" (0.1.173, simulationEngine.js `listHasVariableKeyMatch`), and its unvalidated engine
 * cannot take a resource policy (it loads it without the metadata it then reads). So such keys are
 * renamed, in the request and in every policy alike, to a string key of the form it does match:
 * `aws:RequestTag/kms-context.<key>`. Every other key it drops is a mistake in the request and throws.
 */
const KMS_CONTEXT = /^kms:EncryptionContext:(.+)$/i;
const renamed = (key: string) => key.replace(KMS_CONTEXT, "aws:RequestTag/kms-context.$1");

function renameInPolicy(policy: unknown): unknown {
    if (policy === undefined) return undefined;
    const doc = JSON.parse(JSON.stringify(policy)) as { Statement: { Condition?: Record<string, Record<string, unknown>> }[] | { Condition?: Record<string, Record<string, unknown>> } };
    for (const statement of [doc.Statement].flat()) {
        for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
            statement.Condition![operator] = Object.fromEntries(Object.entries(keys).map(([key, value]) => [renamed(key), value]));
        }
    }
    return doc;
}

/** Evaluates one request; throws when iam-simulate refuses the input (bad policy, action, ARN or context key). */
export async function simulate(request: IamRequest, identityPolicies: readonly { name: string; policy: unknown }[]): Promise<Verdict> {
    const accountId = accountOf(request);
    const simulation: Simulation = {
        request: {
            principal: request.principal,
            action: request.action,
            resource: { resource: request.resource, accountId },
            contextVariables: Object.fromEntries(Object.entries(request.context).map(([k, v]) => [renamed(k), typeof v === "string" ? v : [...v]])),
        },
        identityPolicies: identityPolicies.map((p) => ({ name: p.name, policy: renameInPolicy(p.policy) })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: renameInPolicy(request.resourcePolicy),
    };
    const result = await runSimulation(simulation, {});
    if (result.resultType === "error") throw new Error(`iam-simulate refused ${request.action} on ${request.resource} (${request.why}): ${JSON.stringify(result.errors)}`);
    const ignored = result.resultType === "single" ? (result.result.ignoredContextKeys ?? []) : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
    if (ignored.length > 0) throw new Error(`context keys ${ignored.join(", ")} do not apply to ${request.action} on ${request.resource} (${request.why})`);
    return result.overallResult as Verdict;
}

function accountOf(request: IamRequest): string {
    if (request.resourceAccount !== undefined) return request.resourceAccount;
    const fromArn = (arn: string) => arn.split(":")[4];
    if (request.resource !== "*" && fromArn(request.resource)) return fromArn(request.resource);
    if (request.principal.startsWith("arn:")) return fromArn(request.principal);
    throw new Error(`cannot tell the account of ${request.action} on ${request.resource}`);
}
