import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { dependenciesOf, identities, stackPolicy } from "./links";
import { isUnknown, Reader, Unknown } from "./props";

/**
 * One thing managed two ways. The AWS provider documents that a security group's inline rules
 * (`ingress`/`egress`) must not be combined with separate rule resources on the same group, and a
 * role's `managedPolicyArns`/`inlinePolicies` not with separate attachment or policy resources on
 * the same role: the inline list takes exclusive control, so each `pulumi up` that touches it removes
 * what the separate resources added ("rule conflicts, perpetual differences, and rules being
 * overwritten"). AWSGuard checks both (`security-group-no-rule-management-conflicts`,
 * `iam-role-no-policy-management-conflicts`).
 *
 * Stack policies see outputs, and after a `pulumi refresh` a group's `egress` (a role's
 * `managedPolicyArns`) also lists what the separate resources created, although nothing inline was
 * ever configured. So an inline entry counts as a conflict only when no separate resource accounts
 * for it; AWSGuard flags any non-empty list, and with it every refreshed stack.
 */

/** The resources `linker[property]` points at among `targets`: by the engine's dependencies, or by a known identity. */
function linkedTo(reader: Reader, linker: PolicyResource, property: string, targets: PolicyResource[], identityKeys: readonly string[]): PolicyResource[] | Unknown {
    const deps = dependenciesOf(linker, property).filter((d) => targets.includes(d));
    if (deps.length > 0) return deps;
    const values = reader.peekList(linker.props, property);
    if (isUnknown(values)) return property in (linker.propertyDependencies ?? {}) ? [] : values;
    const known = (values ?? []).filter((v): v is string => typeof v === "string");
    const unknown = (values ?? []).find(isUnknown);
    const found = targets.filter((t) => identities(reader, t, identityKeys).some((id) => known.includes(id)));
    if (found.length > 0 || !unknown) return found;
    return property in (linker.propertyDependencies ?? {}) ? [] : unknown;
}

// ---- security groups ----

const GROUP_TYPE = "aws:ec2/securityGroup:SecurityGroup";
const EC2_RULE_TYPE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const VPC_RULE_TYPES: Record<string, "ingress" | "egress"> = {
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "ingress",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "egress",
};

/** A rule's protocol as EC2 reports it: `-1` for all, numbers for tcp/udp/icmp/icmpv6. */
export function normalProtocol(protocol: unknown): string {
    const p = String(protocol ?? "-1").toLowerCase();
    return ({ all: "-1", tcp: "6", udp: "17", icmp: "1", icmpv6: "58" } as Record<string, string>)[p] ?? p;
}

/** What a rule allows, in one comparable shape: protocol, ports (none for all protocols), and its sources. */
interface RuleShape {
    readonly protocol: string;
    readonly ports: string;
    readonly sources: string[];
}

function shape(protocol: unknown, fromPort: unknown, toPort: unknown, sources: string[]): RuleShape {
    const p = normalProtocol(protocol);
    return { protocol: p, ports: p === "-1" ? "" : `${String(fromPort ?? "")}-${String(toPort ?? "")}`, sources };
}

/** Known strings of a list-or-single property, prefixed with their kind. */
function tagged(reader: Reader, obj: unknown, key: string, kind: string): string[] {
    const values = reader.peekList(obj, key);
    return Array.isArray(values) ? values.filter((v): v is string => typeof v === "string").map((v) => `${kind}:${v}`) : [];
}

/** The shape of an inline entry of a group's `ingress`/`egress`. */
function inlineShape(reader: Reader, entry: unknown): RuleShape {
    const sources = [
        ...tagged(reader, entry, "cidrBlocks", "cidr"),
        ...tagged(reader, entry, "ipv6CidrBlocks", "cidr6"),
        ...tagged(reader, entry, "prefixListIds", "pl"),
        ...tagged(reader, entry, "securityGroups", "sg"),
        ...(reader.peek(entry, "self") === true ? ["self"] : []),
    ];
    return shape(reader.peek(entry, "protocol"), reader.peek(entry, "fromPort"), reader.peek(entry, "toPort"), sources);
}

/** The shape of a separate rule resource. */
function ruleShape(reader: Reader, rule: PolicyResource): RuleShape {
    const props = rule.props;
    if (rule.type === EC2_RULE_TYPE) {
        const sources = [
            ...tagged(reader, props, "cidrBlocks", "cidr"),
            ...tagged(reader, props, "ipv6CidrBlocks", "cidr6"),
            ...tagged(reader, props, "prefixListIds", "pl"),
            ...tagged(reader, props, "sourceSecurityGroupId", "sg"),
            ...(reader.peek(props, "self") === true ? ["self"] : []),
        ];
        return shape(reader.peek(props, "protocol"), reader.peek(props, "fromPort"), reader.peek(props, "toPort"), sources);
    }
    const sources = [
        ...tagged(reader, props, "cidrIpv4", "cidr"),
        ...tagged(reader, props, "cidrIpv6", "cidr6"),
        ...tagged(reader, props, "prefixListId", "pl"),
        ...tagged(reader, props, "referencedSecurityGroupId", "sg"),
    ];
    return shape(reader.peek(props, "ipProtocol"), reader.peek(props, "fromPort"), reader.peek(props, "toPort"), sources);
}

/** True when every source of the inline entry is a source of a separate rule with the same protocol and ports. */
function accountedFor(entry: RuleShape, rules: RuleShape[]): boolean {
    const same = rules.filter((r) => r.protocol === entry.protocol && r.ports === entry.ports);
    return entry.sources.length > 0 && entry.sources.every((s) => same.some((r) => r.sources.includes(s)));
}

/** A rule resource's direction: fixed by type, or the `type` property of an ec2 SecurityGroupRule. */
function direction(reader: Reader, rule: PolicyResource): "ingress" | "egress" | Unknown | undefined {
    if (rule.type !== EC2_RULE_TYPE) return VPC_RULE_TYPES[rule.type];
    const value = reader.peek(rule.props, "type");
    return isUnknown(value) ? value : value === "ingress" || value === "egress" ? value : undefined;
}

/** Whether a group has (or may have, at preview) inline rules in either direction. */
function hasInlineRules(reader: Reader, group: PolicyResource): boolean {
    return ["ingress", "egress"].some((way) => {
        const list = reader.peekList(group.props, way);
        return isUnknown(list) || (list !== undefined && list.length > 0);
    });
}

export const securityGroupNoRuleManagementConflicts: StackValidationPolicy = stackPolicy({
    name: "security-group-no-rule-management-conflicts",
    description:
        "No security group has inline ingress/egress rules and separate rule resources (vpc.SecurityGroupIngressRule/EgressRule, ec2.SecurityGroupRule) in the same direction.",
    check: (resources, reader, report) => {
        const groups = resources.filter((r) => r.type === GROUP_TYPE);
        const rulesOf = new Map<PolicyResource, { ingress: PolicyResource[]; egress: PolicyResource[] }>();
        for (const rule of resources.filter((r) => r.type === EC2_RULE_TYPE || r.type in VPC_RULE_TYPES)) {
            const way = direction(reader, rule);
            const targets = linkedTo(reader, rule, "securityGroupId", groups, ["id"]);
            if (isUnknown(way) || isUnknown(targets)) {
                // Which group, or which direction, is not known yet: only a group with inline rules could be at stake.
                if (groups.some((g) => hasInlineRules(reader, g))) reader.deferIfUnknown(isUnknown(way) ? way : targets);
                continue;
            }
            if (way === undefined) continue;
            for (const group of targets) {
                const entry = rulesOf.get(group) ?? { ingress: [], egress: [] };
                entry[way].push(rule);
                rulesOf.set(group, entry);
            }
        }
        for (const [group, byWay] of rulesOf) {
            for (const way of ["ingress", "egress"] as const) {
                const separate = byWay[way];
                if (separate.length === 0) continue;
                const inline = reader.peekList(group.props, way);
                if (isUnknown(inline)) {
                    reader.deferIfUnknown(inline);
                    continue;
                }
                const entries = inline ?? [];
                const undecided = entries.find(isUnknown);
                const shapes = separate.map((r) => ruleShape(reader, r));
                const unmanaged = entries.filter((e) => !isUnknown(e) && !accountedFor(inlineShape(reader, e), shapes));
                if (unmanaged.length === 0) {
                    reader.deferIfUnknown(undecided);
                    continue;
                }
                const names = separate.map((r) => `"${r.name}"`).join(", ");
                report(
                    `Security group "${group.name}" has inline ${way} rules and also separate ${way} rule resources (${names}); the inline list takes ` +
                        `exclusive control, so an update of the group removes the separate rules: move the inline ${way} rules into aws.vpc.Security` +
                        `Group${way === "ingress" ? "Ingress" : "Egress"}Rule resources (one CIDR each) and leave ${way} unset on the group.`,
                    group.urn,
                );
            }
        }
    },
});

// ---- IAM roles ----

const ROLE_TYPE = "aws:iam/role:Role";
const ATTACHMENT_TYPES: Record<string, string> = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "role",
    "aws:iam/policyAttachment:PolicyAttachment": "roles",
};
const ROLE_POLICY_TYPE = "aws:iam/rolePolicy:RolePolicy";

export const iamRoleNoPolicyManagementConflicts: StackValidationPolicy = stackPolicy({
    name: "iam-role-no-policy-management-conflicts",
    description:
        "No IAM role sets managedPolicyArns or inlinePolicies while separate RolePolicyAttachment, PolicyAttachment or RolePolicy resources manage the same kind of policy on it.",
    check: (resources, reader, report) => {
        const roles = resources.filter((r) => r.type === ROLE_TYPE);
        const attached = new Map<PolicyResource, PolicyResource[]>();
        const inlined = new Map<PolicyResource, PolicyResource[]>();
        for (const resource of resources) {
            const property = resource.type === ROLE_POLICY_TYPE ? "role" : ATTACHMENT_TYPES[resource.type];
            if (property === undefined) continue;
            const targets = linkedTo(reader, resource, property, roles, ["name", "id"]);
            if (isUnknown(targets)) {
                reader.deferIfUnknown(targets);
                continue;
            }
            const map = resource.type === ROLE_POLICY_TYPE ? inlined : attached;
            for (const role of targets) map.set(role, [...(map.get(role) ?? []), resource]);
        }
        for (const role of roles) {
            const problems: string[] = [];
            const attachments = attached.get(role) ?? [];
            if (attachments.length > 0) {
                const arns = reader.peekList(role.props, "managedPolicyArns");
                const managedBySeparate = attachments.map((a) => reader.peek(a.props, "policyArn"));
                if (isUnknown(arns)) reader.deferIfUnknown(arns);
                else {
                    const extra = (arns ?? []).filter((arn) => !isUnknown(arn) && !managedBySeparate.includes(arn));
                    if (extra.length > 0) problems.push(`managedPolicyArns (${extra.map((a) => JSON.stringify(a)).join(", ")}) beside ${attachments.map((a) => `"${a.name}"`).join(", ")}`);
                    else (arns ?? []).forEach((a) => reader.deferIfUnknown(a));
                }
            }
            const policies = inlined.get(role) ?? [];
            if (policies.length > 0) {
                const inline = reader.peekList(role.props, "inlinePolicies");
                const names = policies.map((p) => reader.peek(p.props, "name"));
                if (isUnknown(inline)) reader.deferIfUnknown(inline);
                else {
                    const extra = (inline ?? []).filter((entry) => {
                        if (isUnknown(entry)) return false;
                        const name = reader.peek(entry, "name");
                        // An entry can be told from a RolePolicy only by name; one not known yet leaves it open.
                        const undecided = isUnknown(name) ? name : names.find(isUnknown);
                        if (undecided) {
                            reader.deferIfUnknown(undecided);
                            return false;
                        }
                        return !names.includes(name);
                    });
                    if (extra.length > 0) problems.push(`inlinePolicies beside RolePolicy ${policies.map((p) => `"${p.name}"`).join(", ")}`);
                }
            }
            if (problems.length > 0) {
                report(
                    `IAM role "${role.name}" manages policies two ways: ${problems.join("; ")}. The role's list takes exclusive control and detaches or deletes ` +
                        "what the separate resources add on every update: drop managedPolicyArns/inlinePolicies from the role and keep the RolePolicyAttachment and RolePolicy resources.",
                    role.urn,
                );
            }
        }
    },
});

export const conflictPolicies: StackValidationPolicy[] = [securityGroupNoRuleManagementConflicts, iamRoleNoPolicyManagementConflicts];
