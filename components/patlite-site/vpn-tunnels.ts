import { hasCommand, RTX_MODELS, type RouterModelName } from "./rtx-models";

/**
 * The IPsec settings alertline allows on any site VPN. AWS picks the lowest proposal the peer
 * offers among those a tunnel allows, so anything weak must be absent from the tunnel, not merely
 * unused: IKEv2 only, AES-256 (CBC or GCM), SHA-2, and DH groups 14 and up in both phases.
 */
export const SECURE_TUNNEL = {
    ikeVersions: ["ikev2"],
    phase1EncryptionAlgorithms: ["AES256", "AES256-GCM-16"],
    phase1IntegrityAlgorithms: ["SHA2-256", "SHA2-384", "SHA2-512"],
    phase1DhGroupNumbers: [14, 19, 20, 21],
    phase2EncryptionAlgorithms: ["AES256", "AES256-GCM-16"],
    phase2IntegrityAlgorithms: ["SHA2-256", "SHA2-384", "SHA2-512"],
    phase2DhGroupNumbers: [14, 19, 20, 21],
} as const;

/** The proposal the generated router configuration pins: within SECURE_TUNNEL, and one every RTX speaks. */
export const ROUTER_PROPOSAL = {
    ikeVersion: "ikev2",
    encryption: "AES256",
    integrity: "SHA2-256",
    dhGroup: 14,
} as const;

/** The algorithm lists of one tunnel, in AWS's names. */
export interface TunnelAlgorithms {
    readonly ikeVersions: readonly string[];
    readonly phase1EncryptionAlgorithms: readonly string[];
    readonly phase1IntegrityAlgorithms: readonly string[];
    readonly phase1DhGroupNumbers: readonly number[];
    readonly phase2EncryptionAlgorithms: readonly string[];
    readonly phase2IntegrityAlgorithms: readonly string[];
    readonly phase2DhGroupNumbers: readonly number[];
}

const keep = <T>(allowed: readonly T[], has: readonly T[]) => allowed.filter((a) => has.includes(a));

/**
 * What AWS allows on a site's tunnels: SECURE_TUNNEL narrowed to what the site's router has
 * (an RTX has AES-CBC, SHA-2 up to 256 bits before Rev.23.00, MODP groups up to 2048), so the
 * two sides' proposals meet by construction and nothing AWS allows goes unused.
 */
export function tunnelAlgorithms(model: RouterModelName): TunnelAlgorithms {
    const router = RTX_MODELS[model].algorithms;
    return {
        ikeVersions: [...SECURE_TUNNEL.ikeVersions],
        phase1EncryptionAlgorithms: keep(SECURE_TUNNEL.phase1EncryptionAlgorithms, router.encryption),
        phase1IntegrityAlgorithms: keep(SECURE_TUNNEL.phase1IntegrityAlgorithms, router.integrity),
        phase1DhGroupNumbers: keep(SECURE_TUNNEL.phase1DhGroupNumbers, router.dhGroups),
        phase2EncryptionAlgorithms: keep(SECURE_TUNNEL.phase2EncryptionAlgorithms, router.encryption),
        phase2IntegrityAlgorithms: keep(SECURE_TUNNEL.phase2IntegrityAlgorithms, router.integrity),
        phase2DhGroupNumbers: keep(SECURE_TUNNEL.phase2DhGroupNumbers, router.dhGroups),
    };
}

/**
 * What the router puts on the wire as initiator (command reference §15.22, §15.25, §15.44): with
 * `ipsec ike proposal-limitation on` only the pinned proposal; without it (RTX810, older RTX1210
 * firmware) every algorithm it has, with the configured group first.
 */
export function routerOffer(model: RouterModelName, firmware?: string): TunnelAlgorithms {
    if (hasCommand(model, "proposal-limitation", firmware)) {
        return {
            ikeVersions: [ROUTER_PROPOSAL.ikeVersion],
            phase1EncryptionAlgorithms: [ROUTER_PROPOSAL.encryption],
            phase1IntegrityAlgorithms: [ROUTER_PROPOSAL.integrity],
            phase1DhGroupNumbers: [ROUTER_PROPOSAL.dhGroup],
            phase2EncryptionAlgorithms: [ROUTER_PROPOSAL.encryption],
            phase2IntegrityAlgorithms: [ROUTER_PROPOSAL.integrity],
            phase2DhGroupNumbers: [ROUTER_PROPOSAL.dhGroup],
        };
    }
    const all = RTX_MODELS[model].algorithms;
    // IKEv2 on an RTX uses the first configured group and retries with the one the peer asks for (§15.24).
    const groups = [ROUTER_PROPOSAL.dhGroup, ...all.dhGroups.filter((g) => g !== ROUTER_PROPOSAL.dhGroup)];
    return {
        ikeVersions: [ROUTER_PROPOSAL.ikeVersion],
        phase1EncryptionAlgorithms: all.encryption,
        phase1IntegrityAlgorithms: all.integrity,
        phase1DhGroupNumbers: groups,
        phase2EncryptionAlgorithms: all.encryption,
        phase2IntegrityAlgorithms: all.integrity,
        phase2DhGroupNumbers: groups,
    };
}

/** `tunnel1…`/`tunnel2…` arguments of `aws.ec2.VpnConnection` carrying the model's tunnel algorithms on both tunnels. */
export function secureTunnelOptions(model: RouterModelName) {
    const algorithms = tunnelAlgorithms(model);
    const tunnel = (n: 1 | 2) => ({
        [`tunnel${n}IkeVersions`]: [...algorithms.ikeVersions],
        [`tunnel${n}Phase1EncryptionAlgorithms`]: [...algorithms.phase1EncryptionAlgorithms],
        [`tunnel${n}Phase1IntegrityAlgorithms`]: [...algorithms.phase1IntegrityAlgorithms],
        [`tunnel${n}Phase1DhGroupNumbers`]: [...algorithms.phase1DhGroupNumbers],
        [`tunnel${n}Phase2EncryptionAlgorithms`]: [...algorithms.phase2EncryptionAlgorithms],
        [`tunnel${n}Phase2IntegrityAlgorithms`]: [...algorithms.phase2IntegrityAlgorithms],
        [`tunnel${n}Phase2DhGroupNumbers`]: [...algorithms.phase2DhGroupNumbers],
        // The office router starts the tunnel; AWS does not wait for traffic to bring it up again.
        [`tunnel${n}StartupAction`]: "start",
        [`tunnel${n}DpdTimeoutAction`]: "restart",
    });
    return { ...tunnel(1), ...tunnel(2) };
}
