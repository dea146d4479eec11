import * as ipaddr from "ipaddr.js";
import type { StackEvaluation } from "../../tools/offline/evaluate";
import { MOCK_TRANSIT_GATEWAY_ASN, SecretValue, type Registration } from "../../tools/offline/mock-engine";

/**
 * The route check of issue 10, written from what AWS and the RTX need rather than from the
 * program: for every site with a VPN, a packet from the VPC to a tower has a route into the VPN
 * (VPN gateway or transit gateway), and the router sends the answer back into the tunnels. It
 * reads only the plan (registrations, the mock's answers) and the router text the stack exports.
 */

interface SiteEntry {
    readonly name: string;
    readonly cidr: string;
    readonly customerGateway?: { readonly ip: string; readonly bgpAsn?: number };
    readonly transitGatewayId?: string;
}

const commandLines = (text: string) =>
    text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"));

const within = (inner: string, outer: string) => {
    const [a, abits] = ipaddr.IPv4.parseCIDR(inner);
    const [, obits] = ipaddr.IPv4.parseCIDR(outer);
    return abits >= obits && a.match(ipaddr.IPv4.parseCIDR(outer));
};

/** The office side: which tunnels the router brings up, and whether it routes `vpcCidr` into them and advertises `siteCidr`. */
export function routerRouteProblems(text: string, vpc: { cidr: string }, site: { cidr: string; bgp: boolean; awsAsn?: number }, tunnels: readonly { outside: string; awsInside: string }[]): string[] {
    const problems: string[] = [];
    const lines = commandLines(text);
    // tunnel number -> the AWS address its IKE talks to
    const tunnelTo = new Map<number, string>();
    let current: number | undefined;
    for (const line of lines) {
        const select = /^tunnel select (\d+|none)$/.exec(line);
        if (select) current = select[1] === "none" ? undefined : Number(select[1]);
        const remote = /^ipsec ike remote address (\d+) (\S+)$/.exec(line);
        if (remote && current !== undefined && Number(remote[1]) === current) tunnelTo.set(current, remote[2]);
    }
    const enabled = [...tunnelTo.keys()].filter((n) => lines.includes(`tunnel enable ${n}`));
    const toAws = tunnels.map((t) => enabled.find((n) => tunnelTo.get(n) === t.outside));
    toAws.forEach((n, i) => {
        if (n === undefined) problems.push(`no enabled tunnel reaches AWS tunnel ${i + 1} (${tunnels[i].outside})`);
    });
    if (!site.bgp) {
        const route = lines.find((l) => l.startsWith(`ip route ${vpc.cidr} `));
        const gateways = [...(route ?? "").matchAll(/gateway tunnel (\d+)/g)].map((m) => Number(m[1]));
        for (const n of toAws) {
            if (n !== undefined && !gateways.includes(n)) problems.push(`the static route to the VPC (${vpc.cidr}) does not use tunnel ${n}`);
        }
        return problems;
    }
    const asn = site.awsAsn;
    tunnels.forEach((t, i) => {
        if (!lines.some((l) => new RegExp(`^bgp neighbor \\d+ ${asn} ${t.awsInside.replace(/\./g, "\\.")}( |$)`).test(l))) {
            problems.push(`no BGP neighbor with AWS (AS ${asn}) over tunnel ${i + 1} (${t.awsInside})`);
        }
    });
    // Advertised: `bgp import <asn> static filter F…` whose filters take the site's LAN; never the VPC.
    const importFilters = lines.flatMap((l) => new RegExp(`^bgp import ${asn} static filter ([\\d ]+)$`).exec(l)?.[1].split(" ").map(Number) ?? []);
    const importRules = lines.flatMap((l) => {
        const m = /^bgp import filter (\d+) (include|equal|refines) (.+)$/.exec(l);
        return m && importFilters.includes(Number(m[1])) ? m[3].split(" ").map((cidr) => ({ kind: m[2], cidr })) : [];
    });
    const advertises = (cidr: string) => importRules.some((r) => (r.kind === "equal" ? r.cidr === cidr : within(cidr, r.cidr) && (r.kind === "include" || r.cidr !== cidr)));
    if (!advertises(site.cidr)) problems.push(`BGP does not advertise the site's LAN ${site.cidr} to AWS (AS ${asn})`);
    if (advertises(vpc.cidr)) problems.push(`BGP advertises the VPC's own CIDR ${vpc.cidr} back to AWS`);
    // Installed: `bgp export <asn> filter F` whose filters take the VPC route.
    const exportFilters = lines.flatMap((l) => new RegExp(`^bgp export ${asn} filter ([\\d ]+)$`).exec(l)?.[1].split(" ").map(Number) ?? []);
    const installs = lines.some((l) => {
        const m = /^bgp export filter (\d+) (include|equal) (.+)$/.exec(l);
        return m !== null && exportFilters.includes(Number(m[1])) && m[3].split(" ").some((cidr) => (m[2] === "equal" ? cidr === vpc.cidr : within(vpc.cidr, cidr)));
    });
    if (!installs) problems.push(`BGP does not install the VPC route ${vpc.cidr} received from AWS (AS ${asn})`);
    return problems;
}

/** Every site's two-way route, checked on a whole stack's plan. */
export function siteRouteProblems(evaluation: StackEvaluation): string[] {
    const regs = evaluation.engine.registrations;
    const all = (type: string) => regs.filter((r) => r.type === type);
    const vpc = all("awsx:ec2:Vpc")[0];
    const vpcCidr = String(vpc.inputs.cidrBlock);
    const vpcId = String(vpc.state.vpcId);
    const zones = Number(vpc.inputs.numberOfAvailabilityZones);
    const privateTables = Array.from({ length: zones }, (_, i) => `rtb-private-${i + 1}`);
    const vgw = all("aws:ec2/vpnGateway:VpnGateway")[0];
    const sites = JSON.parse(evaluation.config.config["alertline:sites"] ?? "[]") as SiteEntry[];
    const exported = evaluation.outputs.siteRouterConfigs;
    const configs = (exported instanceof SecretValue ? exported.value : exported) as Record<string, string | undefined>;
    const problems: string[] = [];
    for (const site of sites) {
        if (site.customerGateway === undefined) continue;
        const say = (message: string) => problems.push(`site "${site.name}": ${message}`);
        const cgw = all("aws:ec2/customerGateway:CustomerGateway").find((r) => r.inputs.ipAddress === site.customerGateway!.ip);
        const vpn = all("aws:ec2/vpnConnection:VpnConnection").find((r) => cgw !== undefined && r.inputs.customerGatewayId === cgw.id);
        if (vpn === undefined) {
            say(`no VPN connection from customer gateway ${site.customerGateway.ip}`);
            continue;
        }
        const bgp = site.customerGateway.bgpAsn !== undefined;
        if (vpn.inputs.staticRoutesOnly !== !bgp) say(`staticRoutesOnly is ${vpn.inputs.staticRoutesOnly} with${bgp ? "" : "out"} a BGP ASN`);
        let awsAsn: number | undefined;
        if (site.transitGatewayId === undefined) {
            if (vpn.inputs.vpnGatewayId !== vgw.id) say("its VPN is not on the stack's VPN gateway");
            awsAsn = Number(vgw.inputs.amazonSideAsn);
            for (const table of privateTables) {
                const propagated = all("aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation").some((p) => p.inputs.routeTableId === table && p.inputs.vpnGatewayId === vgw.id);
                if (!propagated) say(`route table ${table} gets no routes from the VPN gateway`);
            }
            if (!bgp && !all("aws:ec2/vpnConnectionRoute:VpnConnectionRoute").some((r) => r.inputs.vpnConnectionId === vpn.id && r.inputs.destinationCidrBlock === site.cidr)) {
                say(`the VPN has no static route for ${site.cidr}`);
            }
        } else {
            const tgw = site.transitGatewayId;
            if (vpn.inputs.transitGatewayId !== tgw) say(`its VPN is not on transit gateway ${tgw}`);
            const lookup = evaluation.engine.calls.find((c) => c.token === "aws:ec2transitgateway/getTransitGateway:getTransitGateway" && c.inputs.id === tgw);
            awsAsn = lookup === undefined ? undefined : MOCK_TRANSIT_GATEWAY_ASN;
            if (lookup === undefined) say(`transit gateway ${tgw} was never looked up, so its ASN and route table are guesses`);
            if (!all("aws:ec2transitgateway/vpcAttachment:VpcAttachment").some((a) => a.inputs.transitGatewayId === tgw && a.inputs.vpcId === vpcId)) {
                say(`the VPC is not attached to transit gateway ${tgw}`);
            }
            for (const table of privateTables) {
                const route = all("aws:ec2/route:Route").some((r) => r.inputs.routeTableId === table && r.inputs.destinationCidrBlock === site.cidr && r.inputs.transitGatewayId === tgw);
                if (!route) say(`route table ${table} has no route for ${site.cidr} to transit gateway ${tgw}`);
            }
            if (!bgp) {
                const tgwRoute = all("aws:ec2transitgateway/route:Route").some(
                    (r: Registration) => r.inputs.destinationCidrBlock === site.cidr && r.inputs.transitGatewayAttachmentId === vpn.state.transitGatewayAttachmentId,
                );
                if (!tgwRoute) say(`transit gateway ${tgw} has no route for ${site.cidr} to the site's VPN attachment`);
            }
        }
        const text = configs[site.name];
        if (text === undefined) {
            say("exports no router configuration");
            continue;
        }
        const tunnels = [1, 2].map((n) => ({ outside: String(vpn.state[`tunnel${n}Address`]), awsInside: String(vpn.state[`tunnel${n}VgwInsideAddress`]) }));
        for (const p of routerRouteProblems(text, { cidr: vpcCidr }, { cidr: site.cidr, bgp, awsAsn }, tunnels)) say(`router: ${p}`);
    }
    return problems;
}
