import * as ipaddr from "ipaddr.js";
import { z } from "zod";
import { encodeSignal, PatliteEncodingError } from "../../functions/shared/patlite/codec";
import { LAMP_MODES, LAMPS, toSignal } from "../../functions/shared/patlite/signal";
import { DEFAULT_SEVERITY_SIGNALS } from "../../functions/shared/severity";
import { TOWER_PROTOCOLS, TowerConfig } from "../../functions/shared/tower-config";
import { senderGlobsSchema } from "../shared/sender-globs";
import { defaultPolicyIds, defaultTunnelNumbers, ROUTER_MODELS, RTX_MODELS, type RouterModelName } from "./rtx-models";


/**
 * `alertline:sites`: the offices whose PATLITE towers alertline lights. Adding a site is one more
 * entry here. Cross-checks (overlapping CIDRs, towers outside their site, too many sites on one
 * VPN gateway) are in {@link siteProblems}, so they report every fault with its key.
 */

/** Connections a virtual private gateway takes by default; beyond that, a transit gateway. */
export const MAX_SITES_PER_VPN_GATEWAY = 10;

const name = (what: string) =>
    z
        .string({ message: `must be a name of 1–24 lowercase letters, digits or '-', starting with a letter (it names the ${what}'s resources)` })
        .regex(/^[a-z][a-z0-9-]{0,23}$/, `must be 1–24 lowercase letters, digits or '-', starting with a letter (it names the ${what}'s resources)`)
        // The mail rules' `towers: all` and `towers: none` must never be read as names.
        .refine((v) => v !== "all" && v !== "none", `is reserved: the mail rules read towers: all and towers: none as every tower and no tower; give the ${what} another name`);

const ipv4 = z.string({ message: "must be an IPv4 address such as 192.168.10.50 (a string)" }).refine((v) => ipaddr.IPv4.isValidFourPartDecimal(v), "must be an IPv4 address such as 192.168.10.50");
const cidr = z.string({ message: "must be an IPv4 network in CIDR form, e.g. 192.168.10.0/24 (a string)" }).refine((v) => {
    try {
        const [address, bits] = ipaddr.IPv4.parseCIDR(v);
        return address.toString() === v.split("/")[0] && ipaddr.IPv4.networkAddressFromCIDR(v).toString() === address.toString() && bits >= 8;
    } catch {
        return false;
    }
}, "must be an IPv4 network in CIDR form with host bits zero, e.g. 192.168.10.0/24");

const lampMode = z.enum(LAMP_MODES, { message: `must be one of ${LAMP_MODES.join(", ")}` });
const signalSpec = z
    .object({
        ...Object.fromEntries(LAMPS.map((lamp) => [lamp, lampMode.optional()])),
        buzzer: z.number({ message: "must be a buzzer pattern 0–11 (0 is silent)" }).int("must be a buzzer pattern 0–11 (0 is silent)").min(0, "must be a buzzer pattern 0–11 (0 is silent)").max(11, "must be a buzzer pattern 0–11 (0 is silent)").optional(),
    })
    .strict();

const towerSchema = z
    .object({
        name: name("tower"),
        host: ipv4,
        port: z.number({ message: "must be the tower's TCP port, 1–65535 (PATLITE's default is 10000)" }).int("must be the tower's TCP port, 1–65535 (PATLITE's default is 10000)").min(1, "must be the tower's TCP port, 1–65535 (PATLITE's default is 10000)").max(65535, "must be the tower's TCP port, 1–65535 (PATLITE's default is 10000)").default(10000),
        protocol: z.enum(TOWER_PROTOCOLS, { message: `must be one of ${TOWER_PROTOCOLS.join(", ")} (PHN, PNS for the NH series, PNS for LA6-POE)` }),
    })
    .strict();

/**
 * The office router's BGP AS number. AWS takes 1–4294967294 for a customer gateway, but the router
 * alertline writes the configuration for, a YAMAHA RTX, takes 2-byte AS numbers only (`bgp
 * autonomous-system`, 1–65535, RTX command reference), so a 4-byte one would give a VPN whose BGP
 * session never comes up.
 */
const routerAsn = z
    .number()
    .int("must be a whole AS number")
    .min(1, "must be an AS number from 1 to 65535 (the YAMAHA RTX takes 2-byte AS numbers; use a private one, 64512–65534)")
    .max(65535, "must be an AS number from 1 to 65535: the YAMAHA RTX router takes 2-byte AS numbers only; use a private one, 64512–65534");

const tunnelPair = (what: string, max: number) =>
    z
        .tuple([z.number().int().min(1).max(max), z.number().int().min(1).max(max)], { message: `must be two ${what}, one per tunnel, e.g. [91, 92]` })
        .refine(([a, b]) => a !== b, `must be two different ${what}`);

/** The office router the generated configuration is for. */
const routerSchema = z
    .object({
        /** The YAMAHA model: the generated text uses only commands it has. */
        model: z.enum(ROUTER_MODELS, { message: `must be one of ${ROUTER_MODELS.join(", ")} (the YAMAHA RTX model at the office)` }),
        /** Its firmware revision without "Rev." (show environment); commands newer than it are left out. */
        firmware: z
            .string()
            .regex(/^\d{1,2}\.\d{2}\.\d{2}$/, 'must be a firmware revision as `show environment` prints it without "Rev.", e.g. "15.02.33"')
            .optional(),
        /** The router does not hold the customer gateway address itself (IPoE map-e/DS-Lite, behind a home gateway). Default false. */
        behindNat: z.boolean().default(false),
        /** Behind NAT: the router's own WAN address; omitted, it picks its address towards AWS. */
        wanAddress: ipv4.optional(),
        /** Tunnel interface numbers (and gateway/neighbor IDs). Default: the top two of the model's range. */
        tunnelNumbers: tunnelPair("tunnel numbers", 6000).optional(),
        /** IPsec SA policy IDs. Default: 200 + each tunnel number. */
        policyIds: tunnelPair("policy IDs", 2147483647).optional(),
    })
    .strict();

const siteSchema = z
    .object({
        name: name("site"),
        /** The office LAN that holds the towers. */
        cidr,
        /** The office router's public address and BGP ASN; without an ASN the VPN uses static routing. */
        customerGateway: z.object({ ip: ipv4, bgpAsn: routerAsn.optional() }).strict().optional(),
        /** The office router the configuration is generated for; required with customerGateway. */
        router: routerSchema.optional(),
        /** Attach the VPN to this transit gateway instead of the shared VPN gateway. */
        transitGatewayId: z.string().regex(/^tgw-[0-9a-f]{8,17}$/, "must be a transit gateway ID such as tgw-0123456789abcdef0").optional(),
        /** How signals reach the towers: straight from the dispatcher over the VPN, or via SSM on a monitored host. */
        relay: z.enum(["vpn", "ssm"], { message: "must be vpn or ssm" }).default("vpn"),
        /** With relay ssm: the `hosts[].name` that sends the signals. */
        relayHost: z.string({ message: "must be the name of one of alertline:hosts (with relay: ssm)" }).optional(),
        /** Sender globs allowed to light this site's towers, beyond `mail.allowedSenders`. */
        allowedSenders: senderGlobsSchema,
        /** What the towers show per severity; unnamed severities keep the defaults. */
        signals: z.object({ critical: signalSpec, warning: signalSpec, info: signalSpec, quiet: signalSpec }).partial().strict().default({}),
        towers: z.array(towerSchema, { message: "must be a list of towers, e.g. [{ name: tokyo-ops, host: 192.168.10.50, protocol: pns }]" }).min(1, "must list at least one tower (name, host, protocol)"),
    })
    .strict();

export const sitesSchema = z.array(siteSchema, { message: "must be a list of sites (name, cidr, towers, ...); see the README's \"Adding a customer site\"" }).default([]);
export type SiteSettings = z.infer<typeof siteSchema>;
export type RouterSettings = z.infer<typeof routerSchema>;

/** A site's router with its defaults filled in. */
export interface ResolvedRouter {
    readonly model: RouterModelName;
    readonly firmware?: string;
    readonly behindNat: boolean;
    readonly wanAddress?: string;
    readonly tunnelNumbers: readonly [number, number];
    readonly policyIds: readonly [number, number];
}

export function resolvedRouter(router: RouterSettings): ResolvedRouter {
    const tunnelNumbers = router.tunnelNumbers ?? defaultTunnelNumbers(router.model);
    return {
        model: router.model,
        firmware: router.firmware,
        behindNat: router.behindNat,
        wanAddress: router.wanAddress,
        tunnelNumbers,
        policyIds: router.policyIds ?? defaultPolicyIds(tunnelNumbers),
    };
}

/** Problems with one site's router settings that the schema alone cannot see. */
function routerProblems(site: SiteSettings, i: number): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    const at = (...key: (string | number)[]) => ["sites", i, "router", ...key];
    if (site.customerGateway === undefined) {
        if (site.router !== undefined) problems.push({ path: at(), message: "is only used with customerGateway (the site's VPN): remove it or add the customerGateway" });
        return problems;
    }
    if (site.router === undefined) {
        problems.push({
            path: at(),
            message: `is required with customerGateway: give the office router's model (router: { model: ${ROUTER_MODELS.join(" | ")} }) so the generated configuration uses only commands it has`,
        });
        return problems;
    }
    const router = site.router;
    const model = RTX_MODELS[router.model];
    if (router.firmware !== undefined && !router.firmware.startsWith(`${model.firmwareLine}.`)) {
        problems.push({ path: at("firmware"), message: `"${router.firmware}" is not ${model.label} firmware, which is Rev.${model.firmwareLine}.xx; check the model and \`show environment\`` });
    }
    router.tunnelNumbers?.forEach((n, k) => {
        if (n > model.maxTunnel) problems.push({ path: at("tunnelNumbers", k), message: `${n} is outside the ${model.label}'s tunnel numbers 1–${model.maxTunnel}` });
    });
    if (router.wanAddress !== undefined && !router.behindNat) {
        problems.push({ path: at("wanAddress"), message: "is only used with behindNat: true (without NAT the router holds customerGateway.ip itself)" });
    }
    return problems;
}
export type TowerSettings = z.infer<typeof towerSchema>;

/** A problem found across settings: where it is and what to do. */
export interface SettingsProblem {
    readonly path: (string | number)[];
    readonly message: string;
}

/** Whether a value passed the schema's IPv4 check; cross-site checks skip values the schema already refused (and named). */
function isIpv4(value: unknown): value is string {
    return typeof value === "string" && ipaddr.IPv4.isValidFourPartDecimal(value);
}

function isCidr(value: unknown): value is string {
    if (typeof value !== "string") return false;
    try {
        ipaddr.IPv4.parseCIDR(value);
        return true;
    } catch {
        return false;
    }
}

function overlaps(a: string, b: string): boolean {
    if (!isCidr(a) || !isCidr(b)) return false;
    const [na, ba] = ipaddr.IPv4.parseCIDR(a);
    const [nb, bb] = ipaddr.IPv4.parseCIDR(b);
    return na.match(nb, Math.min(ba, bb));
}

/**
 * Checks that need more than one site: unique names, address plans that can be routed, towers
 * inside their site, relay hosts that exist, and the VPN gateway's connection limit.
 */
export function siteProblems(sites: readonly SiteSettings[], vpcCidr: string, hostNames: readonly string[]): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    const siteNames = new Map<string, number>();
    const towerNames = new Map<string, string>();
    sites.forEach((site, i) => {
        if (siteNames.has(site.name)) {
            problems.push({ path: ["sites", i, "name"], message: `is used twice (also sites[${siteNames.get(site.name)}]); give every site a unique name` });
        }
        siteNames.set(site.name, i);
        if (overlaps(site.cidr, vpcCidr)) {
            problems.push({ path: ["sites", i, "cidr"], message: `overlaps the VPC (${vpcCidr}); the VPN could not route it: give the site its own range or move alertline:network.cidr` });
        }
        sites.slice(0, i).forEach((other, j) => {
            if (overlaps(site.cidr, other.cidr)) {
                problems.push({ path: ["sites", i, "cidr"], message: `overlaps sites[${j}] "${other.name}" (${other.cidr}); sites on one VPN need distinct address ranges` });
            }
        });
        site.towers.forEach((tower, k) => {
            // A tower the schema refused (bad protocol or signals) is named there; encoding it here would only throw.
            const protocolKnown = (TOWER_PROTOCOLS as readonly string[]).includes(tower.protocol);
            for (const severity of protocolKnown ? (["critical", "warning", "info", "quiet"] as const) : []) {
                const spec = site.signals?.[severity] ?? DEFAULT_SEVERITY_SIGNALS[severity];
                try {
                    encodeSignal(tower.protocol, toSignal(spec));
                } catch (error) {
                    if (!(error instanceof PatliteEncodingError)) throw error;
                    problems.push({
                        path: ["sites", i, "signals", severity],
                        message: `cannot be shown by tower "${tower.name}" (${tower.protocol}): ${error.message}; choose what that tower can show or a different protocol`,
                    });
                }
            }
            if (isIpv4(tower.host) && isCidr(site.cidr) && !ipaddr.IPv4.parse(tower.host).match(ipaddr.IPv4.parseCIDR(site.cidr))) {
                problems.push({ path: ["sites", i, "towers", k, "host"], message: `is outside the site's network ${site.cidr}; towers are reached through the site's VPN` });
            }
            const owner = towerNames.get(tower.name);
            if (owner !== undefined) {
                problems.push({ path: ["sites", i, "towers", k, "name"], message: `is used twice (also in site "${owner}"); tower names must be unique in the stack` });
            }
            towerNames.set(tower.name, site.name);
        });
        if (site.relay === "ssm" && (site.relayHost === undefined || !hostNames.includes(site.relayHost))) {
            problems.push({
                path: ["sites", i, "relayHost"],
                message: `must name one of alertline:hosts (${hostNames.join(", ") || "none defined"}) when relay is ssm`,
            });
        }
        problems.push(...routerProblems(site, i));
        if (site.relay === "vpn" && site.customerGateway === undefined) {
            problems.push({ path: ["sites", i, "customerGateway"], message: "is required with relay vpn: give the office router's public ip (and bgpAsn for dynamic routing)" });
        }
    });
    const onVpnGateway = sites.filter((s) => s.customerGateway !== undefined && s.transitGatewayId === undefined);
    if (onVpnGateway.length > MAX_SITES_PER_VPN_GATEWAY) {
        problems.push({
            path: ["sites"],
            message:
                `puts ${onVpnGateway.length} VPN connections on one VPN gateway, which takes ${MAX_SITES_PER_VPN_GATEWAY}: ` +
                "attach the further sites to a transit gateway (transitGatewayId) instead",
        });
    }
    return problems;
}

/**
 * A tower as the functions read it (`towers.json`): the site's signal choices merged over the
 * defaults, and the relay host's instance ID for sites that relay through SSM.
 */
export function towerConfig(site: SiteSettings, tower: TowerSettings, relayInstanceId?: string): TowerConfig {
    if (site.relay === "ssm" && relayInstanceId === undefined) {
        throw new Error(`site "${site.name}" relays through SSM but no instance ID was given for host "${site.relayHost}"`);
    }
    return {
        name: tower.name,
        site: site.name,
        host: tower.host,
        port: tower.port,
        protocol: tower.protocol,
        signals: { ...DEFAULT_SEVERITY_SIGNALS, ...site.signals },
        relay: site.relay === "ssm" ? { kind: "ssm", instanceId: relayInstanceId! } : { kind: "vpn" },
        allowedSenders: site.allowedSenders,
    };
}
