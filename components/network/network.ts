import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { standardTags } from "../shared/tags";

/** Arguments for {@link SharedNetwork}. */
export interface SharedNetworkArgs {
    /** Environment name, used in tags. */
    readonly environment: string;
    /** IPv4 CIDR of the VPC. Default "10.20.0.0/16". */
    readonly cidr?: string;
    /** Number of availability zones, each with a public and a private subnet. Default 2. */
    readonly availabilityZones?: number;
    /** NAT gateways for the private subnets' egress (Datadog, package repos). Default "Single". */
    readonly natGateways?: "None" | "Single" | "OnePerAz";
    /** Amazon-side BGP ASN of the VPN gateway the PATLITE sites connect to. Default 64512. */
    readonly vpnGatewayAsn?: number;
    /** Transit gateways that sites attach to; the private subnets get one attachment to each. Default none. */
    readonly transitGatewayIds?: readonly string[];
}

/**
 * Interface endpoints that let a private host be managed by Session Manager with no internet path.
 * `ssmmessages` carries the session itself, `ec2messages` the Run Command channel.
 */
export const SSM_ENDPOINT_SERVICES = ["ssm", "ssmmessages", "ec2messages"] as const;

/**
 * The network every component shares: a VPC with public and private subnets, a VPN gateway whose
 * routes propagate into the private route tables (so a site's routes reach the hosts and the
 * dispatcher), and SSM endpoints so hosts need no inbound access at all.
 */
export class SharedNetwork extends pulumi.ComponentResource {
    /** ID of the VPC. */
    declare readonly vpcId: pulumi.Output<string>;
    /** CIDR of the VPC, for security-group rules and site routes. */
    declare readonly vpcCidr: pulumi.Output<string>;
    /** IDs of the private subnets, one per availability zone. */
    declare readonly privateSubnetIds: pulumi.Output<string[]>;
    /** ID of the VPN gateway that Site-to-Site VPN connections attach to. */
    declare readonly vpnGatewayId: pulumi.Output<string>;
    /** The private route tables, one per availability zone, for routes to transit-gateway sites. */
    declare readonly privateRouteTableIds: pulumi.Output<string>[];
    /**
     * Per transit gateway in `transitGatewayIds`: its ID once the VPC is attached to it. A route
     * that targets it waits for the attachment, which AWS requires.
     */
    declare readonly attachedTransitGatewayIds: Readonly<Record<string, pulumi.Output<string>>>;

    constructor(name: string, args: SharedNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("alertline:index:SharedNetwork", name, {}, opts);
        const cidr = args.cidr ?? "10.20.0.0/16";
        const azCount = args.availabilityZones ?? 2;
        const tags = standardTags(args.environment, name);

        const vpc = new awsx.ec2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: cidr,
                numberOfAvailabilityZones: azCount,
                subnetStrategy: "Auto",
                subnetSpecs: [{ type: "Public" }, { type: "Private" }],
                natGateways: { strategy: args.natGateways ?? "Single" },
                enableDnsHostnames: true,
                enableDnsSupport: true,
                tags,
            },
            { parent: this },
        );

        const vpnGateway = new aws.ec2.VpnGateway(
            `${name}-vgw`,
            { vpcId: vpc.vpcId, amazonSideAsn: String(args.vpnGatewayAsn ?? 64512), tags },
            { parent: this },
        );

        // awsx tags each route table with SubnetType; looking them up after the subnets exist keeps
        // us independent of awsx's internal resource names.
        const privateRouteTables = aws.ec2.getRouteTablesOutput(
            {
                vpcId: pulumi.all([vpc.vpcId, vpc.privateSubnetIds]).apply(([id]) => id),
                filters: [{ name: "tag:SubnetType", values: ["Private"] }],
            },
            { parent: this },
        );
        // One private route table per availability zone: the count is known before the VPC exists,
        // so every propagation shows up in `pulumi preview`.
        const privateRouteTableIds = Array.from({ length: azCount }, (_, i) => privateRouteTables.ids.apply((ids) => privateRouteTableAt(ids, i, azCount)));
        privateRouteTableIds.forEach((routeTableId, i) => {
            new aws.ec2.VpnGatewayRoutePropagation(`${name}-vgw-propagation-${i + 1}`, { vpnGatewayId: vpnGateway.id, routeTableId }, { parent: this });
        });

        // A transit gateway reaches the VPC only through an attachment in its subnets; the sites
        // behind it add their routes to the private route tables themselves.
        const attachedTransitGatewayIds: Record<string, pulumi.Output<string>> = {};
        for (const transitGatewayId of new Set(args.transitGatewayIds ?? [])) {
            const attachment = new aws.ec2transitgateway.VpcAttachment(
                `${name}-${transitGatewayId}-attachment`,
                { transitGatewayId, vpcId: vpc.vpcId, subnetIds: vpc.privateSubnetIds, dnsSupport: "enable", tags: { ...tags, Name: `alertline-${args.environment}` } },
                { parent: this },
            );
            attachedTransitGatewayIds[transitGatewayId] = attachment.transitGatewayId;
        }

        const endpointSecurityGroup = new aws.ec2.SecurityGroup(
            `${name}-endpoints-sg`,
            {
                vpcId: vpc.vpcId,
                description: "HTTPS from inside the VPC to the SSM interface endpoints",
                ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidr], description: "HTTPS from the VPC" }],
                tags,
            },
            { parent: this },
        );
        const region = aws.getRegionOutput({}, { parent: this });
        for (const service of SSM_ENDPOINT_SERVICES) {
            new aws.ec2.VpcEndpoint(
                `${name}-${service}-endpoint`,
                {
                    vpcId: vpc.vpcId,
                    serviceName: pulumi.interpolate`com.amazonaws.${region.region}.${service}`,
                    vpcEndpointType: "Interface",
                    privateDnsEnabled: true,
                    subnetIds: vpc.privateSubnetIds,
                    securityGroupIds: [endpointSecurityGroup.id],
                    tags,
                },
                { parent: this },
            );
        }

        this.vpcId = vpc.vpcId;
        this.vpcCidr = pulumi.output(cidr);
        this.privateSubnetIds = vpc.privateSubnetIds;
        this.vpnGatewayId = vpnGateway.id;
        this.privateRouteTableIds = privateRouteTableIds;
        this.attachedTransitGatewayIds = attachedTransitGatewayIds;
        this.registerOutputs({
            vpcId: this.vpcId,
            vpcCidr: this.vpcCidr,
            privateSubnetIds: this.privateSubnetIds,
            vpnGatewayId: this.vpnGatewayId,
        });
    }
}

/**
 * Picks the i-th private route table, sorted so the pairing is stable between runs.
 * Fails loudly if the lookup found a different number than the VPC has zones: a silent mismatch
 * would leave a subnet without the sites' routes.
 */
export function privateRouteTableAt(ids: string[], index: number, expected: number): string {
    if (ids.length !== expected) {
        throw new Error(
            `expected ${expected} private route tables (one per availability zone) tagged SubnetType=Private, found ${ids.length}: ` +
                "check that the VPC was created by this stack's awsx.ec2.Vpc",
        );
    }
    return [...ids].sort()[index];
}
