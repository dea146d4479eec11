import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isUnknown, Reader, resourcePolicy, show, Unknown } from "./props";

/** What reaches the network: security groups, EC2 instances, and the site VPN tunnels. */

const ADMIN_PORTS: readonly { port: number; service: string }[] = [
    { port: 22, service: "SSH" },
    { port: 3389, service: "RDP" },
];

/** True for a CIDR that spans the whole address space: any prefix of length 0 (0.0.0.0/0, ::/0). */
export function isWorldCidr(cidr: string): boolean {
    return /\/0+$/.test(cidr.trim());
}

/** Whether any CIDR list of a rule is the whole internet: true, false, or the Unknown that keeps it open. */
function reachesWorld(reader: Reader, rule: unknown, keys: readonly string[]): boolean | Unknown {
    let unknown: Unknown | undefined;
    for (const key of keys) {
        const cidrs = reader.peekList(rule, key);
        for (const cidr of isUnknown(cidrs) ? [cidrs] : (cidrs ?? [])) {
            if (isUnknown(cidr)) unknown ??= cidr;
            else if (typeof cidr === "string" && isWorldCidr(cidr)) return true;
        }
    }
    return unknown ?? false;
}

/**
 * Admin ports (22, 3389) a rule opens, from its protocol and port range. Protocol -1 / "all" opens
 * every port; TCP and UDP (also as 6 and 17) open fromPort..toPort, an unset or -1 bound counting as
 * the range's end; other protocols (ICMP, ESP…) have no ports. An Unknown argument that the answer
 * depends on comes back as is. Pure: tests call it directly.
 */
export function adminPortsOpened(protocol: unknown, fromPort: unknown, toPort: unknown): string[] | Unknown {
    if (isUnknown(protocol)) return protocol;
    const p = String(protocol ?? "-1").toLowerCase();
    const all = p === "-1" || p === "all";
    if (!all && !["tcp", "6", "udp", "17"].includes(p)) return [];
    if (!all && isUnknown(fromPort)) return fromPort;
    if (!all && isUnknown(toPort)) return toPort;
    const bound = (value: unknown, fallback: number) => (typeof value === "number" && value >= 0 ? value : fallback);
    const from = all ? 0 : bound(fromPort, 0);
    const to = all ? 65535 : bound(toPort, 65535);
    return ADMIN_PORTS.filter(({ port }) => from <= port && port <= to).map(({ port, service }) => `${port} (${service})`);
}

/**
 * The violation for one ingress rule if it opens an admin port to the world. A rule is settled as
 * soon as either half is known to be safe (no world source, or no admin port), whatever the other
 * half is; only a rule that could still go either way defers the policy at preview.
 */
function ingressViolation(reader: Reader, rule: unknown, fields: { protocol: string; cidrKeys: readonly string[] }, label: string): string | undefined {
    if (isUnknown(rule)) return void reader.deferIfUnknown(rule);
    const world = reachesWorld(reader, rule, fields.cidrKeys);
    if (world === false) return undefined;
    const protocol = reader.peek(rule, fields.protocol);
    const fromPort = reader.peek(rule, "fromPort");
    const toPort = reader.peek(rule, "toPort");
    const ports = adminPortsOpened(protocol, fromPort, toPort);
    if (isUnknown(ports)) return void reader.deferIfUnknown(ports);
    if (ports.length === 0) return undefined;
    if (isUnknown(world)) return void reader.deferIfUnknown(world);
    const range = String(protocol ?? "-1") === "-1" || String(protocol).toLowerCase() === "all" ? "all protocols and ports" : `${protocol} ${fromPort ?? "*"}-${toPort ?? "*"}`;
    return (
        `${label} lets the whole internet reach port ${ports.join(" and ")} (${range}): remove the rule, or limit its source to known CIDRs ` +
        "and its ports to what the service needs; reach hosts through Session Manager instead of SSH or RDP from the internet."
    );
}

export const securityGroupNoWorldAdminPorts = resourcePolicy({
    name: "security-group-no-world-admin-ports",
    description: "No security group rule lets 0.0.0.0/0 or ::/0 reach port 22 or 3389, alone or inside a port range or an all-protocols rule.",
    types: ["aws:ec2/securityGroup:SecurityGroup", "aws:ec2/securityGroupRule:SecurityGroupRule", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"],
    check: (props, reader, { type, name }) => {
        const ec2Rule = { protocol: "protocol", cidrKeys: ["cidrBlocks", "ipv6CidrBlocks"] } as const;
        if (type === "aws:ec2/securityGroup:SecurityGroup") {
            const ingress = reader.needList(props, "ingress");
            if (!Array.isArray(ingress)) return [];
            return ingress.flatMap((rule, i) => ingressViolation(reader, rule, ec2Rule, `Security group "${name}" ingress rule #${i + 1}`) ?? []);
        }
        if (type === "aws:ec2/securityGroupRule:SecurityGroupRule") {
            const direction = reader.need(props, "type");
            if (direction !== "ingress") return [];
            return [ingressViolation(reader, props, ec2Rule, `Security group rule "${name}"`) ?? []].flat();
        }
        const vpcRule = { protocol: "ipProtocol", cidrKeys: ["cidrIpv4", "cidrIpv6"] } as const;
        return [ingressViolation(reader, props, vpcRule, `Security group ingress rule "${name}"`) ?? []].flat();
    },
});

export const ec2InstanceImdsv2 = resourcePolicy({
    name: "ec2-instance-imdsv2",
    description: "EC2 instances require IMDSv2 session tokens (metadataOptions.httpTokens = required).",
    types: ["aws:ec2/instance:Instance"],
    check: (props, reader, { name }) => {
        const options = reader.need(props, "metadataOptions");
        if (isUnknown(options)) return [];
        const endpoint = reader.need(options, "httpEndpoint");
        // With the metadata service switched off there is no IMDSv1 to abuse.
        if (endpoint === "disabled" || isUnknown(endpoint)) return [];
        const tokens = reader.need(options, "httpTokens");
        if (tokens === "required" || isUnknown(tokens)) return [];
        return [
            `EC2 instance "${name}" allows IMDSv1 (metadataOptions.httpTokens is ${show(tokens, "IMDSv1 allowed")}): ` +
                'set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }.',
        ];
    },
});

export const ec2NoPublicIp = resourcePolicy({
    name: "ec2-no-public-ip",
    description: "EC2 instances get no public IP: associatePublicIpAddress is false, and no Elastic IP is attached to an instance.",
    types: ["aws:ec2/instance:Instance", "aws:ec2/eip:Eip", "aws:ec2/eipAssociation:EipAssociation"],
    check: (props, reader, { type, name }) => {
        if (type === "aws:ec2/instance:Instance") {
            const associate = reader.need(props, "associatePublicIpAddress");
            if (associate === false || isUnknown(associate)) return [];
            return [
                `EC2 instance "${name}" may get a public IP (associatePublicIpAddress is ${show(associate, "the subnet decides")}): ` +
                    "set associatePublicIpAddress: false, place it in a private subnet and reach it through Session Manager.",
            ];
        }
        const instanceKey = type === "aws:ec2/eip:Eip" ? "instance" : "instanceId";
        if (!reader.has(props, instanceKey)) return [];
        return [`Elastic IP ${type === "aws:ec2/eip:Eip" ? "" : "association "}"${name}" gives an EC2 instance a public IP: remove ${instanceKey}; put the instance behind a load balancer or NAT instead.`];
    },
});

/** Per tunnel option list: what is weak, what AWS allows when it is unset, and what the pack accepts. */
const TUNNEL_RULES: readonly { suffix: string; weak: (v: unknown) => boolean; unsetAllows: string; secure: string }[] = [
    { suffix: "IkeVersions", weak: (v) => v !== "ikev2", unsetAllows: "IKEv1", secure: '["ikev2"]' },
    { suffix: "Phase1EncryptionAlgorithms", weak: (v) => v === "AES128", unsetAllows: "AES128", secure: '["AES256", "AES256-GCM-16"]' },
    { suffix: "Phase2EncryptionAlgorithms", weak: (v) => v === "AES128", unsetAllows: "AES128", secure: '["AES256", "AES256-GCM-16"]' },
    { suffix: "Phase1IntegrityAlgorithms", weak: (v) => v === "SHA1", unsetAllows: "SHA1", secure: '["SHA2-256", "SHA2-384", "SHA2-512"]' },
    { suffix: "Phase2IntegrityAlgorithms", weak: (v) => v === "SHA1", unsetAllows: "SHA1", secure: '["SHA2-256", "SHA2-384", "SHA2-512"]' },
    { suffix: "Phase1DhGroupNumbers", weak: (v) => typeof v !== "number" || v < 14, unsetAllows: "DH group 2", secure: "[14, 19, 20, 21]" },
    { suffix: "Phase2DhGroupNumbers", weak: (v) => typeof v !== "number" || v < 14, unsetAllows: "DH groups 2 and 5", secure: "[14, 19, 20, 21]" },
];

/** Problems of one tunnel; an unset or empty list is weak, since AWS then allows every option, IKEv1, SHA1 and group 2 included. */
function tunnelProblems(reader: Reader, props: Record<string, unknown>, tunnel: 1 | 2): string[] {
    const problems: string[] = [];
    for (const rule of TUNNEL_RULES) {
        const key = `tunnel${tunnel}${rule.suffix}`;
        const values = reader.peekList(props, key);
        if (isUnknown(values)) {
            reader.deferIfUnknown(values);
            continue;
        }
        if (values === undefined || values.length === 0) {
            problems.push(`${key} is ${values === undefined ? "unset" : "empty"}, so AWS allows everything, ${rule.unsetAllows} included: set it to ${rule.secure}`);
            continue;
        }
        const weak = values.filter((v) => !isUnknown(v) && rule.weak(v));
        if (weak.length > 0) problems.push(`${key} allows ${JSON.stringify(weak)}: set it to ${rule.secure}`);
        // Unknown entries matter only while nothing known is weak.
        else values.forEach((v) => reader.deferIfUnknown(v));
    }
    return problems;
}

export const vpnTunnelsSecure = resourcePolicy({
    name: "vpn-tunnels-secure",
    description: "Both tunnels of every Site-to-Site VPN allow only IKEv2, AES-256, SHA-2 and DH groups 14 and up (AWS picks the weakest option the peer offers among those allowed).",
    types: ["aws:ec2/vpnConnection:VpnConnection"],
    check: (props, reader, { name }) =>
        ([1, 2] as const).flatMap((tunnel) => {
            const problems = tunnelProblems(reader, props, tunnel);
            return problems.length === 0 ? [] : [`VPN connection "${name}" tunnel ${tunnel} allows weak IPsec options: ${problems.join("; ")}.`];
        }),
});

export const networkPolicies: ResourceValidationPolicy[] = [securityGroupNoWorldAdminPorts, ec2InstanceImdsv2, ec2NoPublicIp, vpnTunnelsSecure];
