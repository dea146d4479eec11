import { evaluateStack } from "./evaluate";
import { SecretValue } from "./mock-engine";

/** What `npm run router` prints and how it exits. */
export interface RouterResult {
    readonly code: 0 | 1;
    readonly stdout: string;
    readonly stderr: string;
}

/** VPN connection outputs AWS assigns at creation; offline they are the mock's, so they are marked. */
const ASSIGNED_BY_AWS = [
    ["vpnConnectionId", "VPN-CONNECTION-ID"],
    ["tunnel1PresharedKey", "TUNNEL1-PRE-SHARED-KEY"],
    ["tunnel2PresharedKey", "TUNNEL2-PRE-SHARED-KEY"],
    ["tunnel1Address", "TUNNEL1-AWS-OUTSIDE-ADDRESS"],
    ["tunnel2Address", "TUNNEL2-AWS-OUTSIDE-ADDRESS"],
    ["tunnel1CgwInsideAddress", "TUNNEL1-OFFICE-INSIDE-ADDRESS"],
    ["tunnel1VgwInsideAddress", "TUNNEL1-AWS-INSIDE-ADDRESS"],
    ["tunnel2CgwInsideAddress", "TUNNEL2-OFFICE-INSIDE-ADDRESS"],
    ["tunnel2VgwInsideAddress", "TUNNEL2-AWS-INSIDE-ADDRESS"],
] as const;

/** Replaces each value AWS will assign with `<NAME>`, matching whole addresses only (198.51.100.1 is not part of 198.51.100.10). */
export function markPlaceholders(config: string, assigned: Record<string, unknown>): string {
    let marked = config;
    for (const [field, label] of ASSIGNED_BY_AWS) {
        const value = assigned[field];
        if (typeof value !== "string" || value === "") continue;
        const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        marked = marked.replace(new RegExp(`(?<![\\w.])${escaped}(?![\\w]|\\.\\d)`, "g"), `<${label}>`);
    }
    return marked;
}

/**
 * The offline router configuration: the real program under the mock engine with the stack's
 * real configuration, and the text the stack would export for one site in `siteRouterConfigs`,
 * with what AWS assigns at creation (tunnel addresses, pre-shared keys) marked as placeholders.
 */
export async function runRouter(stack: string, siteName: string, options: { loadProgram?: () => Promise<unknown> } = {}): Promise<RouterResult> {
    const failed = (message: string): RouterResult => ({ code: 1, stdout: "", stderr: `alertline router for stack "${stack}": ${message}\n` });
    let evaluation;
    try {
        evaluation = await evaluateStack(stack, { loadProgram: options.loadProgram ?? (() => import("../../index")) });
    } catch (error) {
        return failed(`the stack does not plan:\n${error instanceof Error ? error.message : String(error)}`);
    }
    const exported = evaluation.outputs.siteRouterConfigs;
    const configs = (exported instanceof SecretValue ? exported.value : exported) as Record<string, unknown>;
    const names = Object.keys(configs ?? {});
    if (!names.includes(siteName)) {
        return failed(`no site "${siteName}" in alertline:sites; sites are ${names.join(", ") || "none"}`);
    }
    const raw = configs[siteName];
    const text = raw instanceof SecretValue ? raw.value : raw;
    if (typeof text !== "string") {
        return failed(`site "${siteName}" has no VPN of its own (no customerGateway), so there is no router configuration to print`);
    }
    const vpn = evaluation.engine.registrations.find((r) => r.type === "aws:ec2/vpnConnection:VpnConnection" && r.name === `site-${siteName}-vpn`);
    const header = [
        `# Offline plan of stack "${stack}": values in <…> are assigned by AWS when the VPN connection is created.`,
        "# After `pulumi up`, print the text to paste (it holds the pre-shared keys) with:",
        `#   pulumi stack output siteRouterConfigs --stack ${stack} --show-secrets --json | jq -r '.["${siteName}"]'`,
    ];
    return { code: 0, stdout: `${header.join("\n")}\n${markPlaceholders(text, { ...vpn?.state, vpnConnectionId: vpn?.id })}`, stderr: "" };
}
