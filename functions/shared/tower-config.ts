import type { SeveritySignals } from "./severity";

/** PATLITE command sets alertline speaks. */
export const TOWER_PROTOCOLS = ["phn", "pns", "la6"] as const;
export type TowerProtocol = (typeof TOWER_PROTOCOLS)[number];

/**
 * One tower as the functions see it: written by the infrastructure as `towers.json` into the
 * tower-dispatch and mail-ingest packages (Lambda's 4 KB environment would not hold many sites).
 */
export interface TowerConfig {
    /** Unique in the stack, e.g. "tokyo-ops". */
    readonly name: string;
    /** Site name from `alertline:sites`. */
    readonly site: string;
    /** IPv4 address inside the site's CIDR, reached over the VPN (or by the SSM relay host). */
    readonly host: string;
    /** TCP port. Default 10000. */
    readonly port: number;
    readonly protocol: TowerProtocol;
    /** What the tower shows per severity, already merged with the defaults. */
    readonly signals: SeveritySignals;
    /** How signals reach the tower: straight over the VPN, or through SSM Run Command on a host. */
    readonly relay: { readonly kind: "vpn" } | { readonly kind: "ssm"; readonly instanceId: string };
    /** Sender globs allowed to light this tower, beyond the environment's. */
    readonly allowedSenders: readonly string[];
}
