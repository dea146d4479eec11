/**
 * The YAMAHA RTX routers alertline writes VPN configuration for, and what each can do. Source:
 * YAMAHA's RTX command reference, Rev.23.02.02 edition (covers RTX830 Rev.15.02, RTX1210 Rev.14.01,
 * RTX1220 Rev.15.04, RTX1300 Rev.23.00), chapter 15 "IPsec の設定". The RTX810 (Rev.11.01) is not in
 * that edition; its entry follows issue 10 and YAMAHA's IKEv2 model table and is marked unconfirmed
 * in the README.
 */

export const ROUTER_MODELS = ["rtx810", "rtx830", "rtx1210", "rtx1220", "rtx1300"] as const;
export type RouterModelName = (typeof ROUTER_MODELS)[number];

/** IKEv2 commands the current RTX line has and the RTX810 lacks (§15.44–15.47). */
export type OptionalIkeCommand = "proposal-limitation" | "message-id-control" | "child-exchange" | "negotiation-receive";

/** What the router proposes and accepts under IKEv2, in AWS's names. */
export interface RouterAlgorithms {
    /** IKE and ESP encryption the router has (§15.22, §15.48.2): CBC only, no GCM. */
    readonly encryption: readonly string[];
    /** IKE integrity and ESP authentication (§15.25, §15.48.2). */
    readonly integrity: readonly string[];
    /** DH groups (§15.24: modp768/1024/1536/2048; no ECP). */
    readonly dhGroups: readonly number[];
}

export interface RouterModel {
    /** As YAMAHA writes it. */
    readonly label: string;
    /** Firmware line, "Rev.<line>.xx". */
    readonly firmwareLine: string;
    /** Tunnel interface numbers and security gateway IDs the model takes (table at the head of §15). */
    readonly maxTunnel: number;
    /** Per optional command: the first firmware that has it ("" = every revision), absent = the model lacks it. */
    readonly optionalCommands: Readonly<Partial<Record<OptionalIkeCommand, string>>>;
    /** Algorithms under IKEv2. Without proposal-limitation the router proposes all of them at once. */
    readonly algorithms: RouterAlgorithms;
}

const CBC = ["AES256", "AES128"];
const MODP = [1, 2, 5, 14];
/** HMAC-SHA2-384/512 exist only on Rev.23.00 (RTX1300) among these models (§15.25 note). */
const SHA256_AND_BELOW = ["SHA2-256", "SHA1"];

const ALL_OPTIONAL = { "proposal-limitation": "", "message-id-control": "", "child-exchange": "", "negotiation-receive": "" } as const;

export const RTX_MODELS: Readonly<Record<RouterModelName, RouterModel>> = {
    rtx810: {
        label: "RTX810",
        firmwareLine: "11.01",
        // Unconfirmed: its six VPN tunnels; the Rev.23.02 reference does not cover the RTX810.
        maxTunnel: 6,
        optionalCommands: {},
        algorithms: { encryption: CBC, integrity: SHA256_AND_BELOW, dhGroups: MODP },
    },
    rtx830: {
        label: "RTX830",
        firmwareLine: "15.02",
        maxTunnel: 20,
        optionalCommands: { ...ALL_OPTIONAL, "negotiation-receive": "15.02.03" },
        algorithms: { encryption: CBC, integrity: SHA256_AND_BELOW, dhGroups: MODP },
    },
    rtx1210: {
        label: "RTX1210",
        firmwareLine: "14.01",
        maxTunnel: 100,
        optionalCommands: {
            "proposal-limitation": "14.01.09",
            "message-id-control": "14.01.09",
            "child-exchange": "14.01.11",
            "negotiation-receive": "14.01.26",
        },
        algorithms: { encryption: CBC, integrity: SHA256_AND_BELOW, dhGroups: MODP },
    },
    rtx1220: {
        label: "RTX1220",
        firmwareLine: "15.04",
        maxTunnel: 100,
        optionalCommands: ALL_OPTIONAL,
        algorithms: { encryption: CBC, integrity: SHA256_AND_BELOW, dhGroups: MODP },
    },
    rtx1300: {
        label: "RTX1300",
        firmwareLine: "23.00",
        maxTunnel: 100,
        optionalCommands: ALL_OPTIONAL,
        algorithms: { encryption: CBC, integrity: ["SHA2-512", "SHA2-384", "SHA2-256", "SHA1"], dhGroups: MODP },
    },
};

/** Compares "15.02.03"-style revisions numerically. */
export function compareFirmware(a: string, b: string): number {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

/**
 * Whether the router has an optional command: the model must have it, and the firmware (when
 * known) must be at least its floor. Unknown firmware is taken to be current.
 */
export function hasCommand(model: RouterModelName, command: OptionalIkeCommand, firmware?: string): boolean {
    const floor = RTX_MODELS[model].optionalCommands[command];
    if (floor === undefined) return false;
    return firmware === undefined || floor === "" || compareFirmware(firmware, floor) >= 0;
}

/** The highest floor among the model's optional commands: the firmware the full configuration needs. */
export function fullConfigFirmware(model: RouterModelName): string | undefined {
    const floors = Object.values(RTX_MODELS[model].optionalCommands).filter((f): f is string => f !== undefined && f !== "");
    return floors.sort(compareFirmware).at(-1);
}

/**
 * Default tunnel numbers: the top two of the model's range. IPoE uplinks (map-e, DS-Lite) and the
 * configurations most offices start from number their tunnels from 1, so the top of the range is
 * where a paste is least likely to overwrite one.
 */
export function defaultTunnelNumbers(model: RouterModelName): [number, number] {
    const max = RTX_MODELS[model].maxTunnel;
    return [max - 1, max];
}

/** Default IPsec policy IDs: 200 + the tunnel number, AWS's sample numbering moved with the tunnel. */
export function defaultPolicyIds(tunnelNumbers: readonly [number, number]): [number, number] {
    return [200 + tunnelNumbers[0], 200 + tunnelNumbers[1]];
}
