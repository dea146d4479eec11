/** What alertline reads of a transit gateway a site attaches to (`aws.ec2transitgateway.getTransitGateway`). */
export interface TransitGatewayFacts {
    readonly id: string;
    readonly amazonSideAsn: number;
    readonly associationDefaultRouteTableId: string;
    readonly defaultRouteTableAssociation: string;
    readonly defaultRouteTablePropagation: string;
}

/** How a transit-gateway site is routed on the AWS side. */
export interface TransitGatewayRouting {
    /** The ASN the office router peers with: the transit gateway's, not the VPN gateway's. */
    readonly awsAsn: number;
    /** The route table the site's VPN attachment and the VPC attachment land in. */
    readonly routeTableId: string;
}

/** The largest AS number the YAMAHA RTX takes (`bgp autonomous-system`, `bgp neighbor`). */
export const ROUTER_MAX_ASN = 65535;

/**
 * Checks that a transit gateway can carry a site the way alertline wires it, and says how.
 * alertline relies on the transit gateway's default route table: both the site's VPN attachment
 * and the VPC attachment are associated with it, the VPC's CIDR propagates into it, and a static
 * site gets its CIDR there as a static route. A transit gateway set up otherwise would accept the
 * attachments and route nothing, so it is refused with what to change.
 */
export function transitGatewayRouting(siteName: string, tgw: TransitGatewayFacts, bgp: boolean): TransitGatewayRouting {
    const where = `site "${siteName}": transit gateway ${tgw.id}`;
    if (tgw.defaultRouteTableAssociation !== "enable" || tgw.associationDefaultRouteTableId === "") {
        throw new Error(
            `${where} has default route table association disabled; alertline puts the site's VPN and the VPC attachment in the default route table. ` +
                `Enable it (aws ec2 modify-transit-gateway --transit-gateway-id ${tgw.id} --options DefaultRouteTableAssociation=enable) or attach the site to the VPN gateway (remove transitGatewayId)`,
        );
    }
    if (tgw.defaultRouteTablePropagation !== "enable") {
        throw new Error(
            `${where} has default route table propagation disabled, so the VPC's CIDR would never reach its route table and the towers' answers would have no way back. ` +
                `Enable it (aws ec2 modify-transit-gateway --transit-gateway-id ${tgw.id} --options DefaultRouteTablePropagation=enable) or attach the site to the VPN gateway (remove transitGatewayId)`,
        );
    }
    if (bgp && tgw.amazonSideAsn > ROUTER_MAX_ASN) {
        throw new Error(
            `${where} has Amazon-side ASN ${tgw.amazonSideAsn}, a 4-byte AS number the YAMAHA RTX cannot peer with (it takes 1–${ROUTER_MAX_ASN}): ` +
                "use static routing for this site (remove customerGateway.bgpAsn)",
        );
    }
    return { awsAsn: tgw.amazonSideAsn, routeTableId: tgw.associationDefaultRouteTableId };
}
