import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TOWER_METRIC_NAMESPACE, TOWER_REACHABLE_METRIC } from "../../functions/shared/metric-names";
import { resolvedRouter, type SiteSettings } from "./site-config";
import type { TowerProbeSettings } from "../shared/stack-config";
import { standardTags } from "../shared/tags";
import { transitGatewayRouting } from "./transit-gateway-routing";
import { secureTunnelOptions } from "./vpn-tunnels";
import { yamahaRtxConfig } from "./yamaha-rtx-config";

/** Arguments for {@link PatliteSite}. */
export interface PatliteSiteArgs {
    /** Environment name, used in names and tags. */
    readonly environment: string;
    /** The validated `alertline:sites` entry. */
    readonly site: SiteSettings;
    /** VPC CIDR the office routes into the tunnels. */
    readonly vpcCidr: string;
    /** Shared VPN gateway; unused when the site names a transitGatewayId. */
    readonly vpnGatewayId: pulumi.Input<string>;
    /** Amazon-side ASN of the VPN gateway, for the router's BGP configuration. Default 64512. */
    readonly vpnGatewayAsn?: number;
    /** Private route tables that route a transit-gateway site's CIDR; required for such a site. Default none. */
    readonly privateRouteTableIds?: pulumi.Input<string>[];
    /** The site's transit gateway ID once the VPC is attached to it (`SharedNetwork.attachedTransitGatewayIds`); required for such a site. */
    readonly attachedTransitGatewayId?: pulumi.Input<string>;
    /** Security group of whatever sends the signals: the dispatcher (relay vpn) or the relay host (relay ssm). */
    readonly senderSecurityGroupId: pulumi.Input<string>;
    /** Alert channel topic for the tunnel and tower alarms. */
    readonly alertTopicArn: pulumi.Input<string>;
    /** The dispatcher's tower probe; with it each tower gets an "unreachable" alarm. Default: off. */
    readonly towerProbe?: TowerProbeSettings;
}

/**
 * One office with PATLITE towers: its customer gateway and Site-to-Site VPN with secure settings
 * pinned on both tunnels, the route to its LAN, the sender's way to each tower's port, alarms that
 * say in Slack when the towers have gone out of reach, and the router configuration to paste on site.
 */
export class PatliteSite extends pulumi.ComponentResource {
    /** ID of the VPN connection (undefined for a site without its own VPN). */
    declare readonly vpnConnectionId: pulumi.Output<string | undefined>;
    /** YAMAHA RTX configuration for the office router (secret: it holds the pre-shared keys). */
    declare readonly routerConfig: pulumi.Output<string | undefined>;
    /** AWS's outside addresses of the two tunnels, for the office firewall. */
    declare readonly tunnelAddresses: pulumi.Output<string[]>;

    constructor(name: string, args: PatliteSiteArgs, opts?: pulumi.ComponentResourceOptions) {
        // Checked before anything registers: a half-built site would route nothing.
        if (args.site.transitGatewayId !== undefined && (args.attachedTransitGatewayId === undefined || (args.privateRouteTableIds ?? []).length === 0)) {
            throw new Error(
                `site "${args.site.name}" attaches to transit gateway ${args.site.transitGatewayId}, but the VPC is not attached to it: ` +
                    "pass SharedNetwork's attachedTransitGatewayIds[transitGatewayId] and privateRouteTableIds",
            );
        }
        super("alertline:index:PatliteSite", name, {}, opts);
        const site = args.site;
        const tags = standardTags(args.environment, name, { site: site.name });

        site.towers.forEach((tower) => {
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-${tower.name}-egress`,
                {
                    securityGroupId: args.senderSecurityGroupId,
                    description: `PATLITE tower ${tower.name} at ${site.name}`,
                    ipProtocol: "tcp",
                    fromPort: tower.port,
                    toPort: tower.port,
                    cidrIpv4: `${tower.host}/32`,
                    tags,
                },
                { parent: this },
            );
        });

        if (args.towerProbe?.enabled === true) {
            for (const tower of site.towers) {
                const spec = towerReachabilityAlarm(args.environment, site.name, tower.name, args.towerProbe);
                new aws.cloudwatch.MetricAlarm(
                    `${name}-${tower.name}-unreachable`,
                    { ...spec, alarmActions: [args.alertTopicArn], okActions: [args.alertTopicArn], tags },
                    { parent: this },
                );
            }
        }

        if (site.customerGateway === undefined) {
            this.vpnConnectionId = pulumi.output(undefined);
            this.routerConfig = pulumi.output(undefined);
            this.tunnelAddresses = pulumi.output([]);
            this.registerOutputs({ vpnConnectionId: this.vpnConnectionId, routerConfig: this.routerConfig, tunnelAddresses: this.tunnelAddresses });
            return;
        }
        if (site.router === undefined) throw new Error(`site "${site.name}" has a customerGateway but no router; validation requires one`);
        const router = resolvedRouter(site.router);
        const bgpAsn = site.customerGateway.bgpAsn;
        const customerGateway = new aws.ec2.CustomerGateway(
            `${name}-cgw`,
            {
                ipAddress: site.customerGateway.ip,
                // AWS requires an ASN even for static routing; 65000 is its documented placeholder.
                bgpAsn: String(bgpAsn ?? 65000),
                type: "ipsec.1",
                tags: { ...tags, Name: `alertline-${args.environment}-${site.name}` },
            },
            { parent: this },
        );

        const onTransitGateway = site.transitGatewayId !== undefined;
        const vpn = new aws.ec2.VpnConnection(
            `${name}-vpn`,
            {
                customerGatewayId: customerGateway.id,
                ...(onTransitGateway ? { transitGatewayId: site.transitGatewayId } : { vpnGatewayId: args.vpnGatewayId }),
                type: "ipsec.1",
                staticRoutesOnly: bgpAsn === undefined,
                ...secureTunnelOptions(router.model),
                tags: { ...tags, Name: `alertline-${args.environment}-${site.name}` },
            },
            { parent: this, additionalSecretOutputs: ["tunnel1PresharedKey", "tunnel2PresharedKey", "customerGatewayConfiguration"] },
        );

        if (bgpAsn === undefined && !onTransitGateway) {
            new aws.ec2.VpnConnectionRoute(`${name}-route`, { vpnConnectionId: vpn.id, destinationCidrBlock: site.cidr }, { parent: this });
        }
        // The VPN gateway propagates its sites into the private route tables; a transit gateway does
        // not, so its site needs a route in each of them, and a static site its CIDR in the gateway's table.
        let awsAsn: pulumi.Output<number> = pulumi.output(args.vpnGatewayAsn ?? 64512);
        if (onTransitGateway) {
            const routeTableIds = args.privateRouteTableIds!;
            const tgw = aws.ec2transitgateway.getTransitGatewayOutput({ id: site.transitGatewayId }, { parent: this });
            const routing = tgw.apply((facts) => transitGatewayRouting(site.name, facts, bgpAsn !== undefined));
            awsAsn = routing.awsAsn;
            routeTableIds.forEach((routeTableId, i) => {
                new aws.ec2.Route(
                    `${name}-vpc-route-${i + 1}`,
                    { routeTableId, destinationCidrBlock: site.cidr, transitGatewayId: args.attachedTransitGatewayId },
                    { parent: this },
                );
            });
            if (bgpAsn === undefined) {
                new aws.ec2transitgateway.Route(
                    `${name}-tgw-route`,
                    { destinationCidrBlock: site.cidr, transitGatewayAttachmentId: vpn.transitGatewayAttachmentId, transitGatewayRouteTableId: routing.routeTableId },
                    { parent: this },
                );
            }
        }

        for (const spec of tunnelAlarmSpecs(site.name)) {
            new aws.cloudwatch.MetricAlarm(
                `${name}-${spec.key}`,
                {
                    name: `alertline-${args.environment}-${site.name}-${spec.key}`,
                    alarmDescription: spec.description,
                    namespace: "AWS/VPN",
                    metricName: "TunnelState",
                    statistic: "Maximum",
                    period: 300,
                    evaluationPeriods: spec.evaluationPeriods,
                    threshold: 1,
                    comparisonOperator: "LessThanThreshold",
                    // No data from a VPN is a VPN nobody can reach.
                    treatMissingData: "breaching",
                    dimensions:
                        spec.tunnel === undefined
                            ? { VpnId: vpn.id }
                            : { TunnelIpAddress: spec.tunnel === 1 ? vpn.tunnel1Address : vpn.tunnel2Address },
                    alarmActions: [args.alertTopicArn],
                    okActions: [args.alertTopicArn],
                    tags,
                },
                { parent: this },
            );
        }

        this.vpnConnectionId = vpn.id;
        this.tunnelAddresses = pulumi.all([vpn.tunnel1Address, vpn.tunnel2Address]);
        this.routerConfig = pulumi.secret(
            pulumi
                .all([
                    vpn.id,
                    vpn.tunnel1Address,
                    vpn.tunnel1CgwInsideAddress,
                    vpn.tunnel1VgwInsideAddress,
                    vpn.tunnel1PresharedKey,
                    vpn.tunnel2Address,
                    vpn.tunnel2CgwInsideAddress,
                    vpn.tunnel2VgwInsideAddress,
                    vpn.tunnel2PresharedKey,
                    awsAsn.apply(String),
                ])
                .apply(([id, o1, c1, a1, k1, o2, c2, a2, k2, peerAsn]) =>
                    yamahaRtxConfig({
                        siteName: site.name,
                        vpnConnectionId: id,
                        ...router,
                        customerGatewayIp: site.customerGateway!.ip,
                        vpcCidr: args.vpcCidr,
                        siteCidr: site.cidr,
                        tunnels: [
                            { outsideAddress: o1, customerInsideAddress: c1, awsInsideAddress: a1, presharedKey: k1 },
                            { outsideAddress: o2, customerInsideAddress: c2, awsInsideAddress: a2, presharedKey: k2 },
                        ],
                        bgp: bgpAsn === undefined ? undefined : { customerAsn: bgpAsn, awsAsn: Number(peerAsn) },
                    }),
                ),
        );
        this.registerOutputs({ vpnConnectionId: this.vpnConnectionId, routerConfig: this.routerConfig, tunnelAddresses: this.tunnelAddresses });
    }
}

/** Tunnel alarms: both tunnels down is an outage of every tower at the site; one down is lost redundancy. */
export function tunnelAlarmSpecs(siteName: string): { key: string; tunnel?: 1 | 2; evaluationPeriods: number; description: string }[] {
    return [
        {
            key: "vpn-down",
            evaluationPeriods: 2,
            description: `VPN to ${siteName} is down on both tunnels: its PATLITE towers cannot be lit until it is back. Check the office router and its internet line.`,
        },
        {
            key: "tunnel1-down",
            tunnel: 1,
            evaluationPeriods: 3,
            description: `VPN tunnel 1 to ${siteName} is down; tunnel 2 carries the signals, with no redundancy left.`,
        },
        {
            key: "tunnel2-down",
            tunnel: 2,
            evaluationPeriods: 3,
            description: `VPN tunnel 2 to ${siteName} is down; tunnel 1 carries the signals, with no redundancy left.`,
        },
    ];
}

/**
 * A tower that missed `alarmAfterMisses` probes in a row. No data counts as a miss: a probe that
 * stopped running cannot vouch for the tower either.
 */
export function towerReachabilityAlarm(environment: string, siteName: string, towerName: string, probe: Pick<TowerProbeSettings, "intervalMinutes" | "alarmAfterMisses">) {
    return {
        name: `alertline-${environment}-${siteName}-${towerName}-unreachable`,
        alarmDescription:
            `PATLITE tower ${towerName} at ${siteName} has not answered its status read for ${probe.alarmAfterMisses} probes (every ${probe.intervalMinutes} min): ` +
            `it cannot be lit. Check its power and LAN cable, then the site's VPN.`,
        namespace: TOWER_METRIC_NAMESPACE,
        metricName: TOWER_REACHABLE_METRIC,
        dimensions: { Environment: environment, Tower: towerName },
        statistic: "Maximum",
        period: probe.intervalMinutes * 60,
        evaluationPeriods: probe.alarmAfterMisses,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
    };
}
