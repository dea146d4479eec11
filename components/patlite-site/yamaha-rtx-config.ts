import { fullConfigFirmware, hasCommand, RTX_MODELS, type OptionalIkeCommand, type RouterModelName } from "./rtx-models";
import { ROUTER_PROPOSAL } from "./vpn-tunnels";

/** One AWS tunnel as the VPN connection reports it. */
export interface TunnelEndpoint {
    /** AWS's public (outside) address of the tunnel. */
    readonly outsideAddress: string;
    /** Inside /30: the office side takes .2, AWS .1. */
    readonly customerInsideAddress: string;
    readonly awsInsideAddress: string;
    readonly presharedKey: string;
}

export interface RouterConfigInput {
    readonly siteName: string;
    readonly vpnConnectionId: string;
    /** The office router. */
    readonly model: RouterModelName;
    /** Its firmware ("15.02.33"); commands newer than it are left out. Omitted: current firmware. */
    readonly firmware?: string;
    /** The public address AWS sees (the customer gateway); always the router's IKE identity. */
    readonly customerGatewayIp: string;
    /** The router sits behind NAT (IPoE map-e/DS-Lite, a home gateway): NAT traversal on. Default false. */
    readonly behindNat?: boolean;
    /** Behind NAT: the router's own WAN address; omitted, the router picks its address towards AWS. */
    readonly wanAddress?: string;
    /** Tunnel interface numbers; the security gateway and BGP neighbor IDs use the same numbers. */
    readonly tunnelNumbers: readonly [number, number];
    /** IPsec SA policy IDs; the first also numbers the BGP filters. */
    readonly policyIds: readonly [number, number];
    /** Networks behind AWS that the office must route into the tunnels. */
    readonly vpcCidr: string;
    readonly siteCidr: string;
    readonly tunnels: readonly [TunnelEndpoint, TunnelEndpoint];
    /** With BGP: the office ASN and the ASN of AWS's side (VPN or transit gateway); without, static routes. */
    readonly bgp?: { readonly customerAsn: number; readonly awsAsn: number };
}

/** RTX keywords for the pinned proposal (command reference §15.22, §15.24, §15.25, §15.48.2). */
const RTX_NAMES = {
    encryption: { AES256: "aes256-cbc" },
    integrity: { "SHA2-256": "sha256" },
    esp: { AES256: "aes256-cbc", "SHA2-256": "sha256-hmac" },
    group: { 14: "modp2048" },
} as const;

function checkedAddress(label: string, value: string): string {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(value)) throw new Error(`${label} "${value}" is not an IPv4 address; the VPN connection's outputs are not what the router config expects`);
    return value;
}

function checkedKey(value: string): string {
    // AWS's rule for pre-shared keys; anything else could break out of the `text` argument.
    if (!/^[A-Za-z1-9._][A-Za-z0-9._]{7,63}$/.test(value)) throw new Error("a tunnel's pre-shared key does not look like an AWS pre-shared key (8–64 of letters, digits, '.', '_')");
    return value;
}

function checkedNumbers(input: RouterConfigInput): void {
    const max = RTX_MODELS[input.model].maxTunnel;
    for (const n of input.tunnelNumbers) {
        if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`tunnel number ${n} is outside the ${RTX_MODELS[input.model].label}'s range 1–${max}`);
    }
    if (input.tunnelNumbers[0] === input.tunnelNumbers[1]) throw new Error("the two tunnels need different tunnel numbers");
    if (input.policyIds[0] === input.policyIds[1]) throw new Error("the two tunnels need different IPsec policy IDs");
}

const OPTIONAL_LINES: Record<OptionalIkeCommand, (g: number) => string> = {
    "proposal-limitation": (g) => `ipsec ike proposal-limitation ${g} on`,
    "message-id-control": (g) => `ipsec ike message-id-control ${g} on`,
    "child-exchange": (g) => `ipsec ike child-exchange type ${g} 2`,
    "negotiation-receive": (g) => `ipsec ike negotiation receive ${g} off`,
};

const COMMAND_NAMES: Record<OptionalIkeCommand, string> = {
    "proposal-limitation": "proposal-limitation",
    "message-id-control": "message-id-control",
    "child-exchange": "child-exchange type",
    "negotiation-receive": "negotiation receive",
};

/**
 * Configuration for a YAMAHA RTX router, to paste on site: both tunnels with the proposal alertline
 * pins on the AWS side (IKEv2, AES-256-CBC, SHA-256, DH group 14, PFS), and the routes — static, or
 * BGP advertising the office LAN and installing only the VPC's route. Written from AWS's Yamaha
 * sample (awsdocs/amazon-vpc-network-administrator-guide, doc_source/Yamaha.md) and YAMAHA's command
 * reference (chapters 14, 15, 29), with only the commands the model and firmware have. The router's
 * WAN and LAN interfaces and its filters are not touched; the comments say what to check by hand.
 */
export function yamahaRtxConfig(input: RouterConfigInput): string {
    const model = RTX_MODELS[input.model];
    checkedNumbers(input);
    const cgw = checkedAddress("customer gateway ip", input.customerGatewayIp);
    const behindNat = input.behindNat === true;
    if (!behindNat && input.wanAddress !== undefined) throw new Error("a WAN address is only used behind NAT (the router otherwise holds the customer gateway address itself)");
    const localAddress = behindNat ? (input.wanAddress === undefined ? undefined : checkedAddress("router WAN address", input.wanAddress)) : cgw;
    const encryption = RTX_NAMES.encryption[ROUTER_PROPOSAL.encryption];
    const hash = RTX_NAMES.integrity[ROUTER_PROPOSAL.integrity];
    const group = RTX_NAMES.group[ROUTER_PROPOSAL.dhGroup];
    const esp = `esp ${RTX_NAMES.esp[ROUTER_PROPOSAL.encryption]} ${RTX_NAMES.esp[ROUTER_PROPOSAL.integrity]}`;
    const [n1, n2] = input.tunnelNumbers;
    const has = (command: OptionalIkeCommand) => hasCommand(input.model, command, input.firmware);
    const missing = (Object.keys(OPTIONAL_LINES) as OptionalIkeCommand[]).filter((c) => !has(c));
    const firmwareNote =
        input.firmware !== undefined
            ? `firmware Rev.${input.firmware}`
            : fullConfigFirmware(input.model) === undefined
              ? `any Rev.${model.firmwareLine} firmware`
              : `firmware Rev.${fullConfigFirmware(input.model)} or later (set router.firmware for older firmware)`;

    const lines = [
        `# alertline: YAMAHA ${model.label} configuration for site "${input.siteName}" (${input.vpnConnectionId}), for ${firmwareNote}.`,
        "# It contains the pre-shared keys: keep it secret.",
        `# Both tunnels: IKEv2, ${ROUTER_PROPOSAL.encryption}-CBC, ${ROUTER_PROPOSAL.integrity}, DH group ${ROUTER_PROPOSAL.dhGroup}, PFS on.`,
        ...(missing.length > 0 ? [`# Left out, as this model/firmware lacks them: ${missing.map((c) => `ipsec ike ${COMMAND_NAMES[c]}`).join(", ")}.`] : []),
        "#",
        "# Before pasting, check that these numbers are free: each command must print nothing.",
        `#   show config | grep "tunnel select ${n1}"      show config | grep "tunnel select ${n2}"`,
        `#   show config | grep "ipsec tunnel ${input.policyIds[0]}"      show config | grep "ipsec tunnel ${input.policyIds[1]}"`,
        `#   show config | grep "ipsec ike remote address ${n1} "      show config | grep "ipsec ike remote address ${n2} "`,
        ...(input.bgp === undefined ? [] : ["#   show config | grep bgp      (an office already running BGP needs these lines merged by hand)"]),
        "# If one is taken, set sites[].router.tunnelNumbers / policyIds in the stack config and regenerate.",
        "#",
        "# WAN filter: if the interface facing the internet has `ip <if> secure filter in`, it drops what it does",
        "# not list. Add filters that pass, from each AWS address, ESP and IKE" + (behindNat ? " and NAT-T" : "") + ", and put them before the list's final reject:",
        ...input.tunnels.flatMap((t) => [
            `#   ip filter <free number> pass ${t.outsideAddress} * esp * *`,
            `#   ip filter <free number> pass ${t.outsideAddress} * udp * 500`,
            ...(behindNat ? [`#   ip filter <free number> pass ${t.outsideAddress} * udp * 4500`] : []),
        ]),
        ...(behindNat ? ["# Behind NAT, the device doing NAT must forward UDP 500 and 4500 from these addresses to this router (or allow them out and back)."] : []),
        "#",
    ];
    input.tunnels.forEach((tunnel, i) => {
        const n = input.tunnelNumbers[i];
        const policy = input.policyIds[i];
        const remote = checkedAddress(`tunnel ${i + 1} outside address`, tunnel.outsideAddress);
        lines.push(
            `tunnel select ${n}`,
            ` description tunnel alertline-${input.siteName}-${i + 1}`,
            " tunnel encapsulation ipsec",
            ` ipsec tunnel ${policy}`,
            `  ipsec sa policy ${policy} ${n} ${esp}`,
            `  ipsec ike version ${n} 2`,
            `  ipsec ike duration isakmp-sa ${n} 28800`,
            `  ipsec ike duration ipsec-sa ${n} 3600`,
            `  ipsec ike encryption ${n} ${encryption}`,
            `  ipsec ike group ${n} ${group}`,
            `  ipsec ike hash ${n} ${hash}`,
            `  ipsec ike pfs ${n} on`,
            ...(["proposal-limitation", "message-id-control", "child-exchange"] as const).filter(has).map((c) => `  ${OPTIONAL_LINES[c](n)}`),
            `  ipsec ike keepalive use ${n} on rfc4306 10 3`,
            ...(behindNat ? [`  ipsec ike nat-traversal ${n} on`] : []),
            ...(localAddress === undefined ? [] : [`  ipsec ike local address ${n} ${localAddress}`]),
            `  ipsec ike local name ${n} ${cgw} ipv4-addr`,
            `  ipsec ike remote address ${n} ${remote}`,
            `  ipsec ike remote name ${n} ${remote} ipv4-addr`,
            `  ipsec ike pre-shared-key ${n} text ${checkedKey(tunnel.presharedKey)}`,
            ...(has("negotiation-receive") ? [`  ${OPTIONAL_LINES["negotiation-receive"](n)}`] : []),
            "  ipsec tunnel outer df-bit clear",
            ` ip tunnel address ${checkedAddress(`tunnel ${i + 1} inside address`, tunnel.customerInsideAddress)}/30`,
            ` ip tunnel remote address ${checkedAddress(`tunnel ${i + 1} AWS inside address`, tunnel.awsInsideAddress)}`,
            " ip tunnel tcp mss limit auto",
            ` tunnel enable ${n}`,
        );
    });
    lines.push("tunnel select none", "ipsec auto refresh on");
    if (input.bgp === undefined) {
        lines.push("# The VPC, over whichever tunnel is up (both when both are).", `ip route ${input.vpcCidr} gateway tunnel ${n1} hide gateway tunnel ${n2} hide`);
    } else {
        const { customerAsn, awsAsn } = input.bgp;
        const filter = input.policyIds[0];
        lines.push(
            "# BGP: advertise the office LAN (a connected route counts as `static`, §29.9) and install only the VPC's route.",
            "bgp use on",
            `bgp autonomous-system ${customerAsn}`,
            ...input.tunnels.map((t, i) => `bgp neighbor ${input.tunnelNumbers[i]} ${awsAsn} ${t.awsInsideAddress} hold-time=30 local-address=${t.customerInsideAddress}`),
            `bgp import filter ${filter} equal ${input.siteCidr}`,
            `bgp import ${awsAsn} static filter ${filter}`,
            `bgp export filter ${filter} include ${input.vpcCidr}`,
            `bgp export ${awsAsn} filter ${filter}`,
            "bgp configure refresh",
        );
    }
    lines.push(
        "#",
        "# After pasting (and `save`), check:",
        `#   show ipsec sa gateway ${n1}      show ipsec sa gateway ${n2}      (an IKE SA and IPsec SAs on each)`,
        `#   show status tunnel ${n1}      show status tunnel ${n2}      (both "Up")`,
        ...(input.bgp === undefined
            ? []
            : [
                  "#   show status bgp neighbor      (both neighbors Established)",
                  `#   show status bgp neighbor ${input.tunnels[0].awsInsideAddress} advertised-routes      (${input.siteCidr}, nothing else)`,
              ]),
        `#   show ip route ${input.vpcCidr}      (via TUNNEL[${n1}] and/or TUNNEL[${n2}])`,
    );
    return `${lines.join("\n")}\n`;
}
