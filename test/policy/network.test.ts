import { describe, expect, it } from "vitest";
import { secureTunnelOptions } from "../../components/patlite-site/vpn-tunnels";
import { adminPortsOpened, isWorldCidr } from "../../policy/network";
import { KEY_ARN, keys, resource, TAGS, unknown, verdicts, verdictsOf } from "./registrations";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const INSTANCE = "aws:ec2/instance:Instance";
const VPN = "aws:ec2/vpnConnection:VpnConnection";
const POLICY = "security-group-no-world-admin-ports";

const group = (name: string, ingress: Record<string, unknown>[], egress: Record<string, unknown>[] = []) => resource(SG, name, { vpcId: "vpc-1", ingress, egress, tags: TAGS });
const tcp = (fromPort: number, toPort: number, cidrBlocks: string[], ipv6CidrBlocks: string[] = []) => ({ protocol: "tcp", fromPort, toPort, cidrBlocks, ipv6CidrBlocks });

describe("security-group-no-world-admin-ports", () => {
    it("passes HTTPS from the world, SSH from a private range, ICMP from the world and SSH out to the world", () => {
        const icmp = { protocol: "icmp", fromPort: -1, toPort: -1, cidrBlocks: ["0.0.0.0/0"] };
        expect(verdicts(group("web", [tcp(443, 443, ["0.0.0.0/0"]), tcp(22, 22, ["10.0.0.0/8"]), icmp], [tcp(22, 22, ["0.0.0.0/0"])]))).toEqual([]);
    });

    it("flags SSH from 0.0.0.0/0 and the whole port range from ::/0, naming each rule and both ports", () => {
        const found = verdictsOf(POLICY, group("open", [tcp(443, 443, ["0.0.0.0/0"]), tcp(22, 22, ["0.0.0.0/0"]), tcp(0, 65535, [], ["::/0"])]));
        expect(found).toHaveLength(2);
        expect(found[0].message).toContain("ingress rule #2");
        expect(found[0].message).toContain("22 (SSH)");
        expect(found[1].message).toContain("ingress rule #3");
        expect(found[1].message).toContain("22 (SSH) and 3389 (RDP)");
    });

    it("flags protocol -1 (all) whatever its ports say, and RDP over UDP by protocol number", () => {
        const found = verdictsOf(
            POLICY,
            group("all", [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }]),
            group("udp", [{ protocol: "17", fromPort: 3389, toPort: 3389, cidrBlocks: ["0.0.0.0/0"] }]),
        );
        expect(found.map((v) => v.name)).toEqual(["all", "udp"]);
        expect(found[0].message).toContain("all protocols and ports");
    });

    it("checks ingress SecurityGroupRules but not egress ones, and the v7 SecurityGroupIngressRule", () => {
        const found = verdictsOf(
            POLICY,
            resource(SG_RULE, "in", { type: "ingress", securityGroupId: "sg-1", protocol: "tcp", fromPort: 20, toPort: 25, cidrBlocks: ["0.0.0.0/0"] }),
            resource(SG_RULE, "out", { type: "egress", securityGroupId: "sg-1", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }),
            resource(INGRESS_RULE, "v4-all", { securityGroupId: "sg-1", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", tags: TAGS }),
            resource(INGRESS_RULE, "v6-rdp", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 3389, toPort: 3389, cidrIpv6: "::/0", tags: TAGS }),
            resource(INGRESS_RULE, "v4-private", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "192.168.0.0/16", tags: TAGS }),
        );
        expect(keys(found)).toEqual([`${POLICY} ${SG_RULE} in mandatory`, `${POLICY} ${INGRESS_RULE} v4-all mandatory`, `${POLICY} ${INGRESS_RULE} v6-rdp mandatory`]);
    });

    it("settles a rule whose other half is safe while one half is not known, and defers one that could go either way", () => {
        const found = verdictsOf(
            POLICY,
            group("safe-port", [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [unknown()] }]),
            group("safe-source", [{ protocol: "tcp", fromPort: unknown(), toPort: unknown(), cidrBlocks: ["10.0.0.0/8"] }]),
            group("open-question", [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: unknown() }, tcp(3389, 3389, ["0.0.0.0/0"])]),
        );
        expect(found.map((v) => `${v.name} ${v.level}`)).toEqual(["open-question mandatory", "open-question advisory"]);
        expect(found[0].message).toContain("ingress rule #2");
        expect(found[1].message).toContain("can't run policy");
    });

    it("reads ports as ranges: 0-65535 and 20-23 contain 22, 23-3388 contains neither, unset bounds are open", () => {
        expect(adminPortsOpened("tcp", 0, 65535)).toEqual(["22 (SSH)", "3389 (RDP)"]);
        expect(adminPortsOpened("tcp", 20, 23)).toEqual(["22 (SSH)"]);
        expect(adminPortsOpened("TCP", 23, 3388)).toEqual([]);
        expect(adminPortsOpened("6", undefined, undefined)).toEqual(["22 (SSH)", "3389 (RDP)"]);
        expect(adminPortsOpened("all", 443, 443)).toEqual(["22 (SSH)", "3389 (RDP)"]);
        expect(adminPortsOpened("icmpv6", 0, 65535)).toEqual([]);
        expect([isWorldCidr("0.0.0.0/0"), isWorldCidr("::/0"), isWorldCidr("10.0.0.0/8"), isWorldCidr("0.0.0.0/1")]).toEqual([true, true, false, false]);
    });
});

describe("ec2-instance-imdsv2 and ec2-no-public-ip", () => {
    const host = (name: string, extra: Record<string, unknown>) =>
        resource(INSTANCE, name, {
            ami: "ami-1",
            instanceType: "t3.small",
            associatePublicIpAddress: false,
            monitoring: true,
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
            rootBlockDevice: { encrypted: true, kmsKeyId: KEY_ARN },
            tags: TAGS,
            ...extra,
        });

    it("passes a private IMDSv2-only instance, and one with the metadata service off", () => {
        expect(verdicts(host("good", {}), host("no-imds", { metadataOptions: { httpEndpoint: "disabled" } }))).toEqual([]);
    });

    it("flags optional tokens and unset metadata options", () => {
        const found = verdictsOf("ec2-instance-imdsv2", host("optional", { metadataOptions: { httpTokens: "optional" } }), host("unset", { metadataOptions: undefined }));
        expect(found.map((v) => v.name)).toEqual(["optional", "unset"]);
        expect(found[0].message).toContain('httpTokens: "required"');
    });

    it("flags a public IP asked for or left to the subnet, and an Elastic IP on an instance but not one for a NAT gateway", () => {
        const found = verdictsOf(
            "ec2-no-public-ip",
            host("public", { associatePublicIpAddress: true }),
            host("subnet-decides", { associatePublicIpAddress: undefined }),
            resource("aws:ec2/eip:Eip", "host-eip", { instance: "i-1", domain: "vpc", tags: TAGS }),
            resource("aws:ec2/eip:Eip", "nat-eip", { domain: "vpc", tags: TAGS }),
            resource("aws:ec2/eipAssociation:EipAssociation", "assoc", { instanceId: "i-1", allocationId: "eipalloc-1" }),
        );
        expect(found.map((v) => v.name)).toEqual(["public", "subnet-decides", "host-eip", "assoc"]);
    });
});

describe("vpn-tunnels-secure", () => {
    const vpn = (name: string, options: Record<string, unknown>) =>
        resource(VPN, name, { customerGatewayId: "cgw-1", vpnGatewayId: "vgw-1", type: "ipsec.1", staticRoutesOnly: true, tags: TAGS, ...options });

    it("passes the options every site VPN uses, on both tunnels", () => {
        expect(verdicts(vpn("secure", secureTunnelOptions("rtx1300")))).toEqual([]);
    });

    it("accepts AES128-GCM-16, which is not AES128-CBC", () => {
        expect(verdicts(vpn("gcm", { ...secureTunnelOptions("rtx1300"), tunnel1Phase2EncryptionAlgorithms: ["AES128-GCM-16", "AES256"] }))).toEqual([]);
    });

    it("flags IKEv1 listed beside IKEv2", () => {
        const found = verdictsOf("vpn-tunnels-secure", vpn("ikev1", { ...secureTunnelOptions("rtx1300"), tunnel1IkeVersions: ["ikev1", "ikev2"] }));
        expect(found).toHaveLength(1);
        expect(found[0].message).toContain("tunnel 1");
        expect(found[0].message).toContain('tunnel1IkeVersions allows ["ikev1"]');
    });

    it("flags tunnel 2 when only it is weaker than tunnel 1: SHA1, DH group 2 and AES128 each named", () => {
        const weaker = {
            ...secureTunnelOptions("rtx1300"),
            tunnel2Phase1IntegrityAlgorithms: ["SHA2-256", "SHA1"],
            tunnel2Phase1DhGroupNumbers: [2, 14],
            tunnel2Phase2EncryptionAlgorithms: ["AES128", "AES256"],
        };
        const found = verdictsOf("vpn-tunnels-secure", vpn("tunnel2", weaker));
        expect(found).toHaveLength(1);
        expect(found[0].message).toContain("tunnel 2");
        expect(found[0].message).not.toContain("tunnel1");
        for (const part of ['tunnel2Phase1IntegrityAlgorithms allows ["SHA1"]', "tunnel2Phase1DhGroupNumbers allows [2]", 'tunnel2Phase2EncryptionAlgorithms allows ["AES128"]']) {
            expect(found[0].message).toContain(part);
        }
    });

    it("counts unset lists as weak, since AWS then allows everything: a connection with no options fails on both tunnels", () => {
        const onlyTunnel1 = Object.fromEntries(Object.entries(secureTunnelOptions("rtx1300")).filter(([k]) => k.startsWith("tunnel1")));
        const found = verdictsOf("vpn-tunnels-secure", vpn("defaults", {}), vpn("half", onlyTunnel1));
        expect(found.map((v) => `${v.name} ${v.message.match(/tunnel \d/)?.[0]}`)).toEqual(["defaults tunnel 1", "defaults tunnel 2", "half tunnel 2"]);
        expect(found[2].message).toContain("tunnel2IkeVersions is unset");
        expect(found[2].message).toContain("tunnel2Phase2DhGroupNumbers is unset");
        // an empty list allows as much as none
        expect(verdictsOf("vpn-tunnels-secure", vpn("empty", { ...secureTunnelOptions("rtx1300"), tunnel2Phase1DhGroupNumbers: [] }))).toHaveLength(1);
    });
});
