import { describe, expect, it } from "vitest";
import { normalProtocol } from "../../policy/conflicts";
import { keys, resource, TAGS, unknown, urnOf, verdictsOf } from "./registrations";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EC2_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const SG_POLICY = "security-group-no-rule-management-conflicts";

const https = { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] };
const group = (name: string, inline: { ingress?: unknown; egress?: unknown } = {}) =>
    resource(SG, name, { vpcId: "vpc-1", ...inline, tags: TAGS }, { state: { vpcId: "vpc-1", ...inline, tags: TAGS, id: `sg-${name}` } });
/** A separate rule on `group`, linked as the engine links it: by property dependency and by the group's ID. */
const rule = (type: string, name: string, groupName: string, props: Record<string, unknown>) =>
    resource(type, name, { securityGroupId: `sg-${groupName}`, ...props, tags: TAGS }, { propertyDependencies: { securityGroupId: [urnOf(SG, groupName)] } });
const tower = (name: string, groupName: string, host: string) => rule(EGRESS, name, groupName, { ipProtocol: "tcp", fromPort: 10000, toPort: 10000, cidrIpv4: `${host}/32` });

describe("security-group-no-rule-management-conflicts", () => {
    it("passes a group whose rules are all separate resources, and a group whose rules are all inline", () => {
        const found = verdictsOf(
            SG_POLICY,
            group("dispatch"),
            rule(EGRESS, "dispatch-https", "dispatch", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
            tower("tokyo", "dispatch", "192.168.10.50"),
            group("host", { egress: [https] }),
        );
        expect(found).toEqual([]);
    });

    it("flags a group with inline egress and a separate egress rule, on the group, naming the rule and the fix", () => {
        const found = verdictsOf(SG_POLICY, group("dispatch", { egress: [https] }), tower("tokyo", "dispatch", "192.168.10.50"));
        expect(keys(found)).toEqual([`${SG_POLICY} ${SG} dispatch mandatory`]);
        expect(found[0].urn).toBe(urnOf(SG, "dispatch"));
        expect(found[0].message).toContain('"tokyo"');
        expect(found[0].message).toContain("aws.vpc.SecurityGroupEgressRule");
    });

    it("compares directions: inline ingress beside a separate egress rule is fine, beside an ec2 ingress rule it is not", () => {
        const inline = { ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/16"] }] };
        expect(verdictsOf(SG_POLICY, group("endpoints", inline), tower("tokyo", "endpoints", "192.168.10.50"))).toEqual([]);
        const ec2Ingress = rule(EC2_RULE, "ssh", "endpoints", { type: "ingress", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.1.0.0/16"] });
        const vpcIngress = rule(INGRESS, "dns", "other", { ipProtocol: "udp", fromPort: 53, toPort: 53, cidrIpv4: "10.0.0.0/16" });
        const found = verdictsOf(SG_POLICY, group("endpoints", inline), ec2Ingress, group("other", inline), vpcIngress);
        expect(keys(found)).toEqual([`${SG_POLICY} ${SG} endpoints mandatory`, `${SG_POLICY} ${SG} other mandatory`]);
        expect(found[0].message).toContain("inline ingress");
    });

    it("does not mistake a refreshed group's egress, which lists the separate rules' own entries, for inline rules", () => {
        // After `pulumi refresh` the group's egress output holds what the separate rules created, in EC2's form.
        const refreshed = [
            { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
            { protocol: "tcp", fromPort: 10000, toPort: 10000, cidrBlocks: ["192.168.10.50/32", "192.168.10.51/32"] },
        ];
        const separate = [
            rule(EGRESS, "dispatch-https", "dispatch", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
            tower("tokyo-1", "dispatch", "192.168.10.50"),
            tower("tokyo-2", "dispatch", "192.168.10.51"),
        ];
        expect(verdictsOf(SG_POLICY, group("dispatch", { egress: refreshed }), ...separate)).toEqual([]);
        // one CIDR more than the separate rules account for is an inline rule after all
        const widened = [refreshed[0], { ...refreshed[1], cidrBlocks: [...refreshed[1].cidrBlocks, "0.0.0.0/0"] }];
        expect(verdictsOf(SG_POLICY, group("dispatch", { egress: widened }), ...separate).map((v) => v.name)).toEqual(["dispatch"]);
    });

    it("defers a rule whose group cannot be told yet, only while some group has inline rules", () => {
        const loose = resource(EGRESS, "loose", { securityGroupId: unknown(), ipProtocol: "tcp", fromPort: 1, toPort: 1, cidrIpv4: "10.0.0.1/32", tags: TAGS });
        expect(verdictsOf(SG_POLICY, group("clean"), loose)).toEqual([]);
        expect(verdictsOf(SG_POLICY, group("inline", { egress: [https] }), loose).map((v) => v.level)).toEqual(["advisory"]);
    });

    it("normalises protocols as EC2 reports them", () => {
        expect(["tcp", "6", "TCP"].map(normalProtocol)).toEqual(["6", "6", "6"]);
        expect(["all", "-1", undefined].map(normalProtocol)).toEqual(["-1", "-1", "-1"]);
        expect(normalProtocol("udp")).toBe("17");
    });
});

const ROLE = "aws:iam/role:Role";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const IAM_POLICY = "iam-role-no-policy-management-conflicts";
const SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

const role = (name: string, extra: Record<string, unknown> = {}) =>
    resource(ROLE, name, { assumeRolePolicy: "{}", ...extra, tags: TAGS }, { state: { assumeRolePolicy: "{}", ...extra, tags: TAGS, name: `${name}-1234`, id: `${name}-1234` } });
const onRole = (type: string, name: string, roleName: string, props: Record<string, unknown>) =>
    resource(type, name, { role: `${roleName}-1234`, ...props }, { propertyDependencies: { role: [urnOf(ROLE, roleName)] } });

describe("iam-role-no-policy-management-conflicts", () => {
    it("passes a role whose policies are separate resources, and one whose policies are all on the role", () => {
        const found = verdictsOf(
            IAM_POLICY,
            role("fn"),
            onRole(ROLE_POLICY, "fn-policy", "fn", { name: "fn-policy-1", policy: "{}" }),
            onRole(ATTACHMENT, "fn-core", "fn", { policyArn: SSM_CORE }),
            role("legacy", { managedPolicyArns: [SSM_CORE], inlinePolicies: [{ name: "p", policy: "{}" }] }),
        );
        expect(found).toEqual([]);
    });

    it("flags managedPolicyArns beside a RolePolicyAttachment, and inlinePolicies beside a RolePolicy", () => {
        const found = verdictsOf(
            IAM_POLICY,
            role("managed", { managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }),
            onRole(ATTACHMENT, "managed-core", "managed", { policyArn: SSM_CORE }),
            role("inline", { inlinePolicies: [{ name: "own", policy: "{}" }] }),
            onRole(ROLE_POLICY, "inline-policy", "inline", { name: "inline-policy-1", policy: "{}" }),
        );
        expect(keys(found)).toEqual([`${IAM_POLICY} ${ROLE} inline mandatory`, `${IAM_POLICY} ${ROLE} managed mandatory`]);
        expect(found.find((v) => v.name === "managed")!.message).toContain("ReadOnlyAccess");
        expect(found.find((v) => v.name === "inline")!.message).toContain('RolePolicy "inline-policy"');
    });

    it("does not mistake a refreshed role's lists, which show the separate resources' policies, for its own", () => {
        const refreshed = role("fn", { managedPolicyArns: [SSM_CORE], inlinePolicies: [{ name: "fn-policy-1", policy: "{}" }] });
        const separate = [onRole(ROLE_POLICY, "fn-policy", "fn", { name: "fn-policy-1", policy: "{}" }), onRole(ATTACHMENT, "fn-core", "fn", { policyArn: SSM_CORE })];
        expect(verdictsOf(IAM_POLICY, refreshed, ...separate)).toEqual([]);
    });

    it("links by role name when there are no dependencies, and defers a RolePolicy whose name is not known yet", () => {
        const byName = resource(ATTACHMENT, "by-name", { role: "managed-1234", policyArn: SSM_CORE });
        expect(verdictsOf(IAM_POLICY, role("managed", { managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }), byName).map((v) => v.name)).toEqual(["managed"]);
        const pending = onRole(ROLE_POLICY, "fn-policy", "fn", { name: unknown(), policy: "{}" });
        expect(verdictsOf(IAM_POLICY, role("fn", { inlinePolicies: [{ name: "fn-policy-1", policy: "{}" }] }), pending).map((v) => v.level)).toEqual(["advisory"]);
    });
});
