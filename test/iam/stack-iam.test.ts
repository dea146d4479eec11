import { beforeAll, describe, expect, it } from "vitest";
import { evaluateProgram, WHOLE_STACK_TIMEOUT_MS } from "../harness/fresh-program";
import { functionCalls, hostCalls, serviceCalls, unusedGrants, type RoleCalls } from "./calls";
import { simulate, type IamRequest, type Verdict } from "./simulate";
import { stackModel, type StackModel } from "./stack-model";

/**
 * Every role of the dev and prod stacks, evaluated from their real stack files, against
 * @cloud-copilot/iam-simulate: each request its code (and Lambda, the SSM Agent, the boot script,
 * the AWS services writing to our resources) makes must be allowed by the role's policies and the
 * key, bucket and topic policies; each misuse must be denied; and each granted action must be used
 * by some request. The requests come from the functions' SDK commands (test/iam/sdk-calls.ts), so a
 * new call without a grant fails here.
 */

const secretsGiven = {
    "alertline:slackWebhookUrl": "https://hooks.slack.com/services/TIAM/BIAM/iam-test-webhook-token",
    "datadog:apiKey": "abcdefabcdefabcdefabcdefabcdef12",
};

interface Outcome {
    readonly request: IamRequest;
    readonly verdict: Verdict;
}

async function evaluateAll(requests: readonly IamRequest[], model: StackModel): Promise<Outcome[]> {
    const policiesOf = (principal: string) => {
        const role = model.roles.find((r) => r.arn === principal);
        return role === undefined ? [] : role.policies;
    };
    const outcomes: Outcome[] = [];
    for (const request of requests) outcomes.push({ request, verdict: await simulate(request, policiesOf(request.principal)) });
    return outcomes;
}

const describeRequest = (o: Outcome) => `${o.verdict}: ${o.request.action} on ${o.request.resource} ${JSON.stringify(o.request.context)} — ${o.request.why}`;

/** The JSM backend gives mail-ingest another secret (the ops API token) and another peer: simulated too. */
const jsmBackend = {
    ...secretsGiven,
    "alertline:oncall": { backend: "jsm", team: "Ops Tokyo", cloudId: "2b0d6e4c-8a1f-4d3e-9c5b-7f6a1e2d3c4b", email: "ops@example.com" },
    "alertline:jsmApiToken": "ATATT3xFfGF0iamtestjsmapitoken0000000000",
};

/** Slack's app mode: slack-notifier keeps each alert's message in the flood table (GetItem, UpdateItem), with no webhook. */
const slackAppMode = {
    "datadog:apiKey": secretsGiven["datadog:apiKey"],
    "alertline:slack": { channel: "#alerts-dev", datadogAccount: "acme-monitoring", mode: "app", channelId: "C0123456789" },
    "alertline:slackBotToken": "xoxb-1111-2222-iamTestBotToken",
};

describe.each([
    { stack: "dev", label: "dev", overrides: secretsGiven },
    { stack: "dev", label: "dev in Slack's app mode", overrides: slackAppMode },
    { stack: "prod", label: "prod", overrides: secretsGiven },
    { stack: "dev", label: "dev with the jsm backend", overrides: jsmBackend },
])("IAM of the $label stack, simulated", ({ stack, label, overrides }) => {
    let model: StackModel;
    let roleCalls: RoleCalls[];
    let intended: Outcome[];
    let misuses: Outcome[];

    beforeAll(async () => {
        const evaluation = await evaluateProgram(stack, overrides);
        model = stackModel(evaluation);
        roleCalls = [...model.functions.map((fn) => functionCalls(model, fn)), ...model.hosts.map((host) => hostCalls(model, host)), serviceCalls(model)];
        intended = await evaluateAll(roleCalls.flatMap((c) => c.intended), model);
        misuses = await evaluateAll(roleCalls.flatMap((c) => c.misuses), model);
        const perRole = roleCalls.map((c) => `  ${c.who}: ${c.intended.length} calls, ${c.misuses.length} misuses${c.unreachable.length ? `; unreachable here: ${c.unreachable.join("; ")}` : ""}`);
        console.info(`[iam ${label}] ${model.roles.length} roles, ${intended.length} intended calls, ${misuses.length} misuses\n${perRole.join("\n")}`);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("knows who uses every role: a function whose code it bundles, or an EC2 host", () => {
        const users = new Set([...model.functions.map((f) => f.role.arn), ...model.hosts.map((h) => h.role.arn)]);
        expect(model.roles.filter((r) => !users.has(r.arn)).map((r) => r.resourceName)).toEqual([]);
        expect(model.roles.length).toBe(model.functions.length + model.hosts.length);
    });

    it("attaches no AWS-managed policy to any role: every grant is an inline statement the simulation reads", () => {
        expect(model.roles.filter((r) => r.managedPolicyArns.length > 0).map((r) => `${r.resourceName}: ${r.managedPolicyArns.join(", ")}`)).toEqual([]);
    });

    it("allows every call the code, Lambda, the SSM Agent, the boot script and the AWS services make", () => {
        expect(intended.length).toBeGreaterThan(50);
        expect(intended.filter((o) => o.verdict !== "Allowed").map(describeRequest)).toEqual([]);
    });

    it("denies every misuse: other buckets, prefixes, keys, contexts, queues, tables, topics, instances, documents, parameters, log groups, namespaces", () => {
        expect(misuses.length).toBeGreaterThan(100);
        expect(misuses.filter((o) => o.verdict === "Allowed").map(describeRequest)).toEqual([]);
    });

    it("grants no action that no call uses", () => {
        const unused = roleCalls.filter((c) => c.roleArn !== "").flatMap((c) => unusedGrants(model.roles.find((r) => r.arn === c.roleArn)!, c).map((a) => `${c.who}: ${a}`));
        expect(unused).toEqual([]);
    });

    it("simulates the dispatcher's SSM calls where a site relays through a host, and only there", () => {
        const dispatch = roleCalls.find((c) => c.who.startsWith("function tower-dispatch"))!;
        const relays = model.functions.find((f) => f.folder === "tower-dispatch")!.files["towers.json"].includes('"ssm"');
        const ssmActions = dispatch.intended.filter((r) => r.action.startsWith("ssm:")).map((r) => r.action);
        if (relays) expect(new Set(ssmActions)).toEqual(new Set(["ssm:SendCommand", "ssm:GetCommandInvocation", "ssm:CancelCommand"]));
        else expect(ssmActions).toEqual([]);
        expect(dispatch.unreachable.length).toBe(relays ? 0 : 3);
    });
});
