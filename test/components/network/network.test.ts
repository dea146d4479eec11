import { beforeAll, describe, expect, it } from "vitest";
import { privateRouteTableAt, SharedNetwork } from "../../../components/network/network";
import { RecordingEngine } from "../../../tools/offline/mock-engine";
import { recordResources } from "../../harness/record";

let engine: RecordingEngine;
beforeAll(async () => {
    engine = await recordResources(() => new SharedNetwork("network", { environment: "dev", cidr: "10.20.0.0/16", availabilityZones: 3, natGateways: "Single" }));
});

describe("SharedNetwork", () => {
    it("asks awsx for public and private subnets in the configured zones, with the configured NAT strategy", () => {
        const vpc = engine.get("awsx:ec2:Vpc", "network-vpc");
        expect(vpc.inputs).toMatchObject({
            cidrBlock: "10.20.0.0/16",
            numberOfAvailabilityZones: 3,
            natGateways: { strategy: "Single" },
            subnetSpecs: [{ type: "Public" }, { type: "Private" }],
        });
    });

    it("attaches a VPN gateway to the VPC", () => {
        const vgw = engine.get("aws:ec2/vpnGateway:VpnGateway", "network-vgw");
        expect(vgw.inputs).toMatchObject({ vpcId: "vpc-network-vpc", amazonSideAsn: "64512" });
    });

    it("propagates the VPN gateway's routes into every private route table, once each", () => {
        const vgw = engine.get("aws:ec2/vpnGateway:VpnGateway", "network-vgw");
        const propagations = engine.ofType("aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation");
        expect(propagations.map((p) => p.inputs.routeTableId).sort()).toEqual(["rtb-private-1", "rtb-private-2", "rtb-private-3"]);
        for (const p of propagations) expect(p.inputs.vpnGatewayId).toBe(vgw.id);
        const lookup = engine.calls.find((c) => c.token === "aws:ec2/getRouteTables:getRouteTables")!;
        expect(lookup.inputs).toMatchObject({ vpcId: "vpc-network-vpc", filters: [{ name: "tag:SubnetType", values: ["Private"] }] });
    });

    it("reaches SSM through interface endpoints in the private subnets, open to the VPC only", () => {
        const endpoints = engine.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
        expect(endpoints.map((e) => e.inputs.serviceName).sort()).toEqual([
            "com.amazonaws.ap-northeast-1.ec2messages",
            "com.amazonaws.ap-northeast-1.ssm",
            "com.amazonaws.ap-northeast-1.ssmmessages",
        ]);
        for (const e of endpoints) {
            expect(e.inputs).toMatchObject({ vpcEndpointType: "Interface", privateDnsEnabled: true, subnetIds: ["subnet-private-1", "subnet-private-2", "subnet-private-3"] });
        }
        const sg = engine.get("aws:ec2/securityGroup:SecurityGroup", "network-endpoints-sg");
        expect(sg.inputs.ingress).toEqual([expect.objectContaining({ fromPort: 443, toPort: 443, cidrBlocks: ["10.20.0.0/16"] })]);
    });
});

describe("privateRouteTableAt", () => {
    it("pairs indexes with route tables in a stable order", () => {
        expect(privateRouteTableAt(["rtb-b", "rtb-a"], 0, 2)).toBe("rtb-a");
        expect(privateRouteTableAt(["rtb-b", "rtb-a"], 1, 2)).toBe("rtb-b");
    });

    it("fails loudly when the lookup does not find one table per zone", () => {
        expect(() => privateRouteTableAt(["rtb-a"], 0, 2)).toThrow(/expected 2 private route tables .* found 1/);
    });
});
