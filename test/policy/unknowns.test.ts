import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { secureTunnelOptions } from "../../components/patlite-site/vpn-tunnels";
import { resourcePolicies } from "../../policy/policies";
import { KEY_ARN, TAGS } from "./registrations";

/**
 * What the engine's runtime does at preview, without the runner: props behind @pulumi/policy's own
 * `unknownCheckingProxy`, with values not known yet as the sentinel the engine sends. A policy that
 * reads such a value throws UnknownValueError and the engine reports it as not run; these tests show
 * that "set to an unknown output" never gets that far, and that what can be checked is reported.
 */

const { unknownStringValue: UNKNOWN } = require("@pulumi/policy/proxy") as { unknownStringValue: string };

function policy(name: string): ResourceValidationPolicy {
    const found = resourcePolicies.find((p) => p.name === name);
    if (!found) throw new Error(`no policy ${name}`);
    return found;
}

/** Calls one policy as the engine would; returns the messages it reported and what it threw. */
function validate(name: string, type: string, props: Record<string, unknown>): { messages: string[]; thrown: unknown } {
    const messages: string[] = [];
    const args = { type, name: "r", urn: `urn:pulumi:test::alertline::${type}::r`, props: unknownCheckingProxy(props) } as unknown as ResourceValidationArgs;
    const validations = [policy(name).validateResource!].flat();
    try {
        for (const validation of validations) validation(args, (message) => messages.push(message));
        return { messages, thrown: undefined };
    } catch (error) {
        return { messages, thrown: error };
    }
}

describe("policies under the engine's unknown-checking proxy", () => {
    it("the proxy throws for an unknown read, so a naive `props.kmsMasterKeyId` check would not run", () => {
        const props = unknownCheckingProxy({ kmsMasterKeyId: UNKNOWN });
        expect(() => props.kmsMasterKeyId).toThrow(UnknownValueError);
        expect("kmsMasterKeyId" in props).toBe(true);
    });

    it.each([
        ["sns-topic-encrypted", "aws:sns/topic:Topic", { kmsMasterKeyId: UNKNOWN }],
        ["sqs-queue-encrypted", "aws:sqs/queue:Queue", { kmsMasterKeyId: UNKNOWN }],
        ["log-group-encrypted", "aws:cloudwatch/logGroup:LogGroup", { kmsKeyId: UNKNOWN }],
        ["dynamodb-table-cmk", "aws:dynamodb/table:Table", { serverSideEncryption: { enabled: true, kmsKeyArn: UNKNOWN } }],
        ["lambda-environment-encrypted", "aws:lambda/function:Function", { environment: { variables: { QUEUE: UNKNOWN } }, kmsKeyArn: UNKNOWN }],
        ["ebs-encrypted", "aws:ec2/instance:Instance", { rootBlockDevice: { encrypted: true, kmsKeyId: UNKNOWN } }],
        ["required-tags", "aws:sns/topic:Topic", { tags: { environment: UNKNOWN, "managed-by": UNKNOWN } }],
        ["ec2-no-public-ip", "aws:ec2/eip:Eip", { domain: "vpc", networkInterface: UNKNOWN }],
    ])("%s: a property set to an unknown output counts as set — no violation, no error", (name, type, props) => {
        expect(validate(name, type, props)).toEqual({ messages: [], thrown: undefined });
    });

    it("reports IMDSv1 on an instance whose other settings are unknown, without throwing", () => {
        const props = { ami: UNKNOWN, subnetId: UNKNOWN, associatePublicIpAddress: false, metadataOptions: { httpTokens: "optional" }, rootBlockDevice: { encrypted: true, kmsKeyId: UNKNOWN }, tags: TAGS };
        const { messages, thrown } = validate("ec2-instance-imdsv2", "aws:ec2/instance:Instance", props);
        expect(thrown).toBeUndefined();
        expect(messages).toHaveLength(1);
        expect(messages[0]).toContain("IMDSv1");
    });

    it("reports the world-open rule beside one whose source is unknown but whose port is harmless, without throwing", () => {
        const ingress = [
            { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: UNKNOWN },
            { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] },
        ];
        const { messages, thrown } = validate("security-group-no-world-admin-ports", "aws:ec2/securityGroup:SecurityGroup", { ingress, tags: TAGS });
        expect(thrown).toBeUndefined();
        expect(messages).toHaveLength(1);
        expect(messages[0]).toContain("ingress rule #2");
    });

    it("reports tunnel 1's weakness first, then throws the engine's UnknownValueError for tunnel 2's unknown lists: not run, not skipped silently", () => {
        const props = { ...secureTunnelOptions("rtx1300"), tunnel1IkeVersions: ["ikev1", "ikev2"], tunnel2IkeVersions: UNKNOWN, tags: TAGS };
        const { messages, thrown } = validate("vpn-tunnels-secure", "aws:ec2/vpnConnection:VpnConnection", props);
        expect(messages).toHaveLength(1);
        expect(messages[0]).toContain("tunnel 1");
        expect(thrown).toBeInstanceOf(UnknownValueError);
        expect((thrown as Error).message).toContain("tunnel2IkeVersions");
    });

    it("has a known-good key ARN in no need of the proxy's help", () => {
        expect(validate("sns-topic-encrypted", "aws:sns/topic:Topic", { kmsMasterKeyId: KEY_ARN })).toEqual({ messages: [], thrown: undefined });
    });
});
