import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { PatliteSite, type PatliteSiteArgs } from "../../../components/patlite-site/patlite-site";
import { sitesSchema } from "../../../components/patlite-site/site-config";
import { SECURE_TUNNEL } from "../../../components/patlite-site/vpn-tunnels";
import { RecordingEngine } from "../../../tools/offline/mock-engine";
import { recordResources } from "../../harness/record";

const site = sitesSchema.parse([
    {
        name: "tokyo-office",
        cidr: "192.168.10.0/24",
        customerGateway: { ip: "203.0.113.10" },
        router: { model: "rtx830" },
        towers: [
            { name: "tokyo-ops", host: "192.168.10.50", protocol: "pns" },
            { name: "tokyo-noc", host: "192.168.10.51", port: 10001, protocol: "la6" },
        ],
    },
])[0];

const siteArgs = (overrides: Partial<PatliteSiteArgs> = {}): PatliteSiteArgs => ({
    environment: "dev",
    site,
    vpcCidr: "10.20.0.0/16",
    vpnGatewayId: "vgw-shared",
    senderSecurityGroupId: "sg-dispatcher",
    alertTopicArn: "arn:aws:sns:ap-northeast-1:123456789012:alerts",
    ...overrides,
});

let engine: RecordingEngine;
let routerConfig: string | undefined;
let routerConfigSecret: boolean;
beforeAll(async () => {
    engine = await recordResources(() => {
        const s = new PatliteSite("site-tokyo-office", siteArgs());
        s.routerConfig.apply((c) => (routerConfig = c));
        pulumi.isSecret(s.routerConfig).then((secret) => (routerConfigSecret = secret));
    });
});

const vpn = () => engine.get("aws:ec2/vpnConnection:VpnConnection", "site-tokyo-office-vpn");

describe("PatliteSite VPN", () => {
    it("connects the office's customer gateway to the shared VPN gateway with static routing", () => {
        const cgw = engine.get("aws:ec2/customerGateway:CustomerGateway", "site-tokyo-office-cgw");
        expect(cgw.inputs).toMatchObject({ ipAddress: "203.0.113.10", type: "ipsec.1" });
        expect(vpn().inputs).toMatchObject({ customerGatewayId: cgw.id, vpnGatewayId: "vgw-shared", staticRoutesOnly: true });
        expect(vpn().inputs.transitGatewayId).toBeUndefined();
    });

    it("pins IKEv2, AES-256, SHA-2 and DH 14+ on both tunnels, leaving nothing weak to negotiate", () => {
        for (const n of [1, 2]) {
            const tunnel = (field: string) => vpn().inputs[`tunnel${n}${field}`] as (string | number)[];
            expect(tunnel("IkeVersions")).toEqual(["ikev2"]);
            for (const phase of ["Phase1", "Phase2"]) {
                expect(tunnel(`${phase}EncryptionAlgorithms`).every((a) => String(a).startsWith("AES256"))).toBe(true);
                expect(tunnel(`${phase}IntegrityAlgorithms`).every((a) => String(a).startsWith("SHA2-"))).toBe(true);
                expect(tunnel(`${phase}DhGroupNumbers`).every((g) => Number(g) >= 14)).toBe(true);
                expect(tunnel(`${phase}DhGroupNumbers`).length).toBeGreaterThan(0);
            }
        }
        // An RTX830 has AES-CBC, SHA-256 at most and MODP groups: AWS allows exactly what both sides have.
        expect(vpn().inputs.tunnel1Phase1EncryptionAlgorithms).toEqual(["AES256"]);
        expect(vpn().inputs.tunnel2Phase2IntegrityAlgorithms).toEqual(["SHA2-256"]);
        expect(vpn().inputs.tunnel1Phase1DhGroupNumbers).toEqual([14]);
        for (const a of vpn().inputs.tunnel1Phase1IntegrityAlgorithms as string[]) expect(SECURE_TUNNEL.phase1IntegrityAlgorithms as readonly string[]).toContain(a);
    });

    it("routes the site's network into the VPN", () => {
        expect(engine.get("aws:ec2/vpnConnectionRoute:VpnConnectionRoute", "site-tokyo-office-route").inputs).toEqual({
            vpnConnectionId: vpn().id,
            destinationCidrBlock: "192.168.10.0/24",
        });
    });

    it("lets the sender reach exactly each tower's port", () => {
        const rules = engine.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs);
        expect(rules).toEqual([
            expect.objectContaining({ securityGroupId: "sg-dispatcher", ipProtocol: "tcp", fromPort: 10000, toPort: 10000, cidrIpv4: "192.168.10.50/32" }),
            expect.objectContaining({ securityGroupId: "sg-dispatcher", ipProtocol: "tcp", fromPort: 10001, toPort: 10001, cidrIpv4: "192.168.10.51/32" }),
        ]);
    });

    it("alarms into the alert channel when the VPN or either tunnel goes down, saying the towers are out of reach", () => {
        const alarms = engine.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
        expect(alarms.map((a) => a.inputs.dimensions)).toEqual([{ VpnId: vpn().id }, { TunnelIpAddress: vpn().state.tunnel1Address }, { TunnelIpAddress: vpn().state.tunnel2Address }]);
        for (const alarm of alarms) {
            expect(alarm.inputs).toMatchObject({ namespace: "AWS/VPN", metricName: "TunnelState", treatMissingData: "breaching", alarmActions: ["arn:aws:sns:ap-northeast-1:123456789012:alerts"] });
        }
        expect(String(alarms[0].inputs.alarmDescription)).toContain("PATLITE towers cannot be lit");
    });
});

describe("PatliteSite router configuration", () => {
    it("is a secret built from the connection's real tunnel outputs", () => {
        expect(routerConfigSecret).toBe(true);
        const state = vpn().state;
        expect(routerConfig).toContain(`ipsec ike remote address 19 ${state.tunnel1Address}`);
        expect(routerConfig).toContain(`ipsec ike remote address 20 ${state.tunnel2Address}`);
        expect(routerConfig).toContain(`ipsec ike pre-shared-key 20 text ${state.tunnel2PresharedKey}`);
        expect(routerConfig).toContain(`ip tunnel address ${state.tunnel1CgwInsideAddress}/30`);
        expect(routerConfig).toContain("YAMAHA RTX830 configuration");
        expect(routerConfig).toContain("tunnel select 19");
        expect(routerConfig).toContain("ip route 10.20.0.0/16 gateway tunnel 19 hide gateway tunnel 20 hide");
    });
});

describe("PatliteSite on a transit gateway", () => {
    const onTransitGateway = async (bgpAsn?: number) => {
        const tgwSite = { ...site, customerGateway: { ip: "203.0.113.10", bgpAsn }, transitGatewayId: "tgw-0123456789abcdef0" };
        let config: string | undefined;
        const recorded = await recordResources(() => {
            const s = new PatliteSite(
                "site-x",
                siteArgs({ site: tgwSite, privateRouteTableIds: ["rtb-private-1", "rtb-private-2"], attachedTransitGatewayId: pulumi.output("tgw-0123456789abcdef0") }),
            );
            s.routerConfig.apply((c) => (config = c));
        });
        return { recorded, config: config! };
    };

    it("attaches to the transit gateway, routes dynamically, and peers with the transit gateway's ASN", async () => {
        const { recorded: tgw, config } = await onTransitGateway(65010);
        const connection = tgw.get("aws:ec2/vpnConnection:VpnConnection", "site-x-vpn");
        expect(connection.inputs).toMatchObject({ transitGatewayId: "tgw-0123456789abcdef0", staticRoutesOnly: false });
        expect(connection.inputs.vpnGatewayId).toBeUndefined();
        expect(tgw.get("aws:ec2/customerGateway:CustomerGateway", "site-x-cgw").inputs.bgpAsn).toBe("65010");
        expect(tgw.ofType("aws:ec2/vpnConnectionRoute:VpnConnectionRoute")).toEqual([]);
        expect(tgw.ofType("aws:ec2transitgateway/route:Route")).toEqual([]);
        // The mock's transit gateway has ASN 64513; the VPN gateway's would be 64512.
        expect(config).toMatch(/^bgp neighbor \d+ 64513 /m);
        expect(config).not.toMatch(/^bgp neighbor \d+ 64512 /m);
    });

    it("routes the site's CIDR to the transit gateway from every private route table, after the attachment", async () => {
        const { recorded: tgw } = await onTransitGateway(65010);
        const routes = tgw.ofType("aws:ec2/route:Route").map((r) => r.inputs);
        expect(routes).toEqual([
            { routeTableId: "rtb-private-1", destinationCidrBlock: "192.168.10.0/24", transitGatewayId: "tgw-0123456789abcdef0" },
            { routeTableId: "rtb-private-2", destinationCidrBlock: "192.168.10.0/24", transitGatewayId: "tgw-0123456789abcdef0" },
        ]);
    });

    it("puts a static site's CIDR in the transit gateway's default route table, towards the site's VPN attachment", async () => {
        const { recorded: tgw } = await onTransitGateway(undefined);
        const connection = tgw.get("aws:ec2/vpnConnection:VpnConnection", "site-x-vpn");
        expect(connection.inputs.staticRoutesOnly).toBe(true);
        expect(tgw.get("aws:ec2transitgateway/route:Route", "site-x-tgw-route").inputs).toEqual({
            destinationCidrBlock: "192.168.10.0/24",
            transitGatewayAttachmentId: connection.state.transitGatewayAttachmentId,
            transitGatewayRouteTableId: "tgw-rtb-0default000000001",
        });
        expect(tgw.ofType("aws:ec2/route:Route")).toHaveLength(2);
    });

    it("refuses a transit-gateway site whose VPC is not attached to that transit gateway, before registering anything", () => {
        const tgwSite = { ...site, transitGatewayId: "tgw-0123456789abcdef0" };
        expect(() => new PatliteSite("site-y", siteArgs({ site: tgwSite }))).toThrow(
            /site "tokyo-office" attaches to transit gateway tgw-0123456789abcdef0, but the VPC is not attached to it/,
        );
    });
});

describe("PatliteSite tower reachability alarms", () => {
    it("alarms per tower on the probe's metric after the configured misses, treating no data as a miss", async () => {
        const probed = await recordResources(() => new PatliteSite("site-tokyo-office", siteArgs({ towerProbe: { enabled: true, intervalMinutes: 5, alarmAfterMisses: 3 } })));
        const alarms = probed.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.endsWith("-unreachable"));
        expect(alarms.map((a) => a.name).sort()).toEqual(["site-tokyo-office-tokyo-noc-unreachable", "site-tokyo-office-tokyo-ops-unreachable"]);
        const ops = probed.get("aws:cloudwatch/metricAlarm:MetricAlarm", "site-tokyo-office-tokyo-ops-unreachable");
        expect(ops.inputs).toMatchObject({
            namespace: "alertline/Towers",
            metricName: "TowerReachable",
            dimensions: { Environment: "dev", Tower: "tokyo-ops" },
            period: 300,
            evaluationPeriods: 3,
            threshold: 1,
            comparisonOperator: "LessThanThreshold",
            treatMissingData: "breaching",
            alarmActions: ["arn:aws:sns:ap-northeast-1:123456789012:alerts"],
            okActions: ["arn:aws:sns:ap-northeast-1:123456789012:alerts"],
        });
        expect(String(ops.inputs.alarmDescription)).toContain("tokyo-ops at tokyo-office");
    });

    it("has no tower alarms without the probe", () => {
        expect(engine.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.endsWith("-unreachable"))).toEqual([]);
    });
});
