/**
 * The IPsec settings both tunnels of every site VPN use. AWS picks the lowest proposal the peer
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

/** The one proposal the generated router configuration offers: within SECURE_TUNNEL, and one the RTX speaks. */
export const ROUTER_PROPOSAL = {
    ikeVersion: "ikev2",
    encryption: "AES256",
    integrity: "SHA2-256",
    dhGroup: 14,
} as const;

/** `tunnel1…`/`tunnel2…` arguments of `aws.ec2.VpnConnection` carrying SECURE_TUNNEL on both tunnels. */
export function secureTunnelOptions() {
    const tunnel = (n: 1 | 2) => ({
        [`tunnel${n}IkeVersions`]: [...SECURE_TUNNEL.ikeVersions],
        [`tunnel${n}Phase1EncryptionAlgorithms`]: [...SECURE_TUNNEL.phase1EncryptionAlgorithms],
        [`tunnel${n}Phase1IntegrityAlgorithms`]: [...SECURE_TUNNEL.phase1IntegrityAlgorithms],
        [`tunnel${n}Phase1DhGroupNumbers`]: [...SECURE_TUNNEL.phase1DhGroupNumbers],
        [`tunnel${n}Phase2EncryptionAlgorithms`]: [...SECURE_TUNNEL.phase2EncryptionAlgorithms],
        [`tunnel${n}Phase2IntegrityAlgorithms`]: [...SECURE_TUNNEL.phase2IntegrityAlgorithms],
        [`tunnel${n}Phase2DhGroupNumbers`]: [...SECURE_TUNNEL.phase2DhGroupNumbers],
        // The office router starts the tunnel; AWS does not wait for traffic to bring it up again.
        [`tunnel${n}StartupAction`]: "start",
        [`tunnel${n}DpdTimeoutAction`]: "restart",
    });
    return { ...tunnel(1), ...tunnel(2) };
}
