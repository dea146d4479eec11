import { describe, expect, it } from "vitest";
import { transitGatewayRouting, type TransitGatewayFacts } from "../../../components/patlite-site/transit-gateway-routing";

const defaults: TransitGatewayFacts = {
    id: "tgw-0123456789abcdef0",
    amazonSideAsn: 64513,
    associationDefaultRouteTableId: "tgw-rtb-0aaa",
    defaultRouteTableAssociation: "enable",
    defaultRouteTablePropagation: "enable",
};

describe("transitGatewayRouting", () => {
    it("peers with the transit gateway's own ASN and uses its default route table", () => {
        expect(transitGatewayRouting("osaka", defaults, true)).toEqual({ awsAsn: 64513, routeTableId: "tgw-rtb-0aaa" });
    });

    it("refuses a transit gateway without default association, saying how to enable it", () => {
        expect(() => transitGatewayRouting("osaka", { ...defaults, defaultRouteTableAssociation: "disable", associationDefaultRouteTableId: "" }, false)).toThrow(
            /site "osaka": transit gateway tgw-0123456789abcdef0 has default route table association disabled.*DefaultRouteTableAssociation=enable/,
        );
    });

    it("refuses a transit gateway without default propagation: the VPC's CIDR would not reach its table", () => {
        expect(() => transitGatewayRouting("osaka", { ...defaults, defaultRouteTablePropagation: "disable" }, false)).toThrow(/default route table propagation disabled.*DefaultRouteTablePropagation=enable/);
    });

    it("refuses BGP with a 4-byte transit gateway ASN the router cannot peer with, but not static routing", () => {
        const wide = { ...defaults, amazonSideAsn: 4200000000 };
        expect(() => transitGatewayRouting("osaka", wide, true)).toThrow(/ASN 4200000000, a 4-byte AS number the YAMAHA RTX cannot peer with \(it takes 1–65535\).*remove customerGateway\.bgpAsn/);
        expect(transitGatewayRouting("osaka", wide, false).routeTableId).toBe("tgw-rtb-0aaa");
    });
});
