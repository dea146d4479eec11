import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { evaluateStack, StackEvaluation } from "../../tools/offline/evaluate";
import { sharedEvaluation, WHOLE_STACK_TIMEOUT_MS } from "../harness/fresh-program";
import { formatViolations, runPolicies, Violation } from "../../tools/offline/policy-runner";
import { PROJECT_ROOT } from "../../tools/offline/stack-files";

/** Each real stack is evaluated once per file: the weakened test's baseline is the same dev run. */
const realStack = (stack: string): Promise<StackEvaluation> => sharedEvaluation(stack);

/** `policy type name level`, sorted: what a verdict is about, without its wording. */
const keys = (violations: readonly Violation[]) => violations.map((v) => `${v.policy} ${v.type} ${v.name} ${v.level}`).sort();

describe.each(["dev", "prod"])("the real %s stack under alertline-guardrails", (stack) => {
    let violations: Violation[];
    let types: Set<string>;

    beforeAll(async () => {
        const evaluation = await realStack(stack);
        violations = runPolicies(evaluation.engine.registrations);
        types = new Set(evaluation.engine.registrations.map((r) => r.type));
    }, WHOLE_STACK_TIMEOUT_MS);

    it("holds resources of every kind the pack checks, so passing means something", () => {
        for (const type of [
            "aws:sns/topic:Topic",
            "aws:sqs/queue:Queue",
            "aws:s3/bucket:Bucket",
            "aws:dynamodb/table:Table",
            "aws:cloudwatch/logGroup:LogGroup",
            "aws:ec2/instance:Instance",
            "aws:kms/key:Key",
            "aws:ses/receiptRule:ReceiptRule",
            "aws:ec2/vpnConnection:VpnConnection",
            "aws:ec2/securityGroup:SecurityGroup",
            "aws:lambda/function:Function",
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "aws:s3/bucketLogging:BucketLogging",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
            "aws:iam/rolePolicy:RolePolicy",
        ]) {
            expect(types).toContain(type);
        }
    });

    it("has no violation at all: every registered resource passes every policy", () => {
        expect(violations, formatViolations(violations)).toEqual([]);
    });
});

describe("a deliberately weakened dev stack", () => {
    const hostName = (parse(readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")).config["alertline:hosts"] as { name: string }[])[0].name;
    const groupName = `host-${hostName}-sg`;
    let baseline: Violation[];
    let weakened: Violation[];

    beforeAll(async () => {
        baseline = runPolicies((await realStack("dev")).engine.registrations);
        vi.resetModules();
        const evaluation = await evaluateStack("dev", {
            loadProgram: async () => {
                // Applies to every resource the program declares from here on, before the engine sees it.
                pulumi.runtime.registerStackTransformation((args) => {
                    if (args.type === "aws:sns/topic:Topic" && args.name === "alerts-topic") {
                        const { kmsMasterKeyId: _, ...props } = args.props;
                        return { props, opts: args.opts };
                    }
                    if (args.type === "aws:ec2/securityGroup:SecurityGroup" && args.name === groupName) {
                        const ssh = { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"], description: "SSH from anywhere" };
                        return { props: { ...args.props, ingress: [...(args.props.ingress ?? []), ssh] }, opts: args.opts };
                    }
                    // the dispatcher's group back to an inline rule beside the separate tower rules
                    if (args.type === "aws:ec2/securityGroup:SecurityGroup" && args.name === "mail-dispatch-sg") {
                        const dns = { protocol: "udp", fromPort: 53, toPort: 53, cidrBlocks: ["10.0.0.2/32"], description: "DNS" };
                        return { props: { ...args.props, egress: [dns] }, opts: args.opts };
                    }
                    if (args.type === "aws:ec2/instance:Instance" && args.name === `host-${hostName}-instance`) {
                        return { props: { ...args.props, monitoring: false }, opts: args.opts };
                    }
                    // the mail bucket's access logs delivered into the mail bucket itself
                    if (args.type === "aws:s3/bucketLogging:BucketLogging" && args.name === "mail-mail-access-logs-logging") {
                        return { props: { ...args.props, targetBucket: args.props.bucket }, opts: args.opts };
                    }
                    return undefined;
                });
                return import("../../index");
            },
        });
        weakened = runPolicies(evaluation.engine.registrations);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("yields exactly an unencrypted alert topic (twice: at rest, and as the alarms' target), the world-open SSH rule, the inline rule beside separate ones, basic monitoring and self-logging, beyond the real stack's own verdicts", () => {
        const added = keys(weakened).filter((k) => !keys(baseline).includes(k));
        expect(added).toEqual(
            [
                "alert-topics-customer-managed-key aws:sns/topic:Topic alerts-topic mandatory",
                "security-group-no-world-admin-ports aws:ec2/securityGroup:SecurityGroup " + groupName + " mandatory",
                "sns-topic-encrypted aws:sns/topic:Topic alerts-topic mandatory",
                "security-group-no-rule-management-conflicts aws:ec2/securityGroup:SecurityGroup mail-dispatch-sg mandatory",
                "ec2-instance-detailed-monitoring-enabled aws:ec2/instance:Instance host-" + hostName + "-instance mandatory",
                // logging into itself; and the log bucket, no longer a target, may not keep SSE-S3 or go unlogged
                "s3-bucket-logging-enabled aws:s3/bucket:Bucket mail-mail mandatory",
                "s3-bucket-logging-enabled aws:s3/bucket:Bucket mail-mail-access-logs mandatory",
                "s3-bucket-encrypted-and-private aws:s3/bucket:Bucket mail-mail-access-logs mandatory",
            ].sort(),
        );
        expect(keys(weakened)).toEqual([...keys(baseline), ...added].sort());
        const ssh = weakened.find((v) => v.policy === "security-group-no-world-admin-ports")!;
        expect(ssh.message).toContain("22 (SSH)");
        const target = weakened.find((v) => v.policy === "alert-topics-customer-managed-key")!;
        expect(target.message).toContain("CloudWatch");
    });
});
