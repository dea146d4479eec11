/**
 * The SSM Command document a relay host runs to pass one PATLITE command to a tower. Every value
 * arrives as an environment variable (`interpolationType: ENV_VAR` → `SSM_<name>`), checked by an
 * allowedPattern before the host sees it, and is never spliced into the command line itself.
 * Contract with tower-dispatch's relay: parameters towerHost, towerPort, payloadHex, replyBytes,
 * timeoutSeconds; the script prints `reply=<hex>` (empty hex when the tower said nothing).
 */
export const RELAY_DOCUMENT_PARAMETERS = ["towerHost", "towerPort", "payloadHex", "replyBytes", "timeoutSeconds"] as const;

/** A tower the relay document may reach. */
export interface RelayTarget {
    readonly host: string;
    readonly port: number;
}

/** The towers that relay through SSM (`relay: ssm` sites): the only ones the document may reach. */
export function relayTargets(towers: readonly { host: string; port: number; relay: { kind: string } }[]): RelayTarget[] {
    return towers.filter((tower) => tower.relay.kind === "ssm").map(({ host, port }) => ({ host, port }));
}

/**
 * An allowedPattern that matches exactly the given values. With none, it matches only the empty
 * string, which the script cannot connect to: a stack without SSM-relayed towers relays nowhere.
 */
export function exactlyPattern(values: readonly string[]): string {
    const unique = [...new Set(values)].sort();
    if (unique.length === 0) return "^$";
    return `^(${unique.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})$`;
}

/**
 * The relay script. Its first line refuses any host and port that are not one relayed tower's own
 * pair: the parameters' patterns check host and port separately, so without it a host could be
 * paired with another relayed tower's port, or one site's relay host sent to another site's tower.
 * The pairs are validated IPv4 addresses and port numbers, so they are safe as `case` words.
 */
function relayScript(targets: readonly RelayTarget[]): string[] {
    const pairs = [...new Set(targets.map((t) => `${t.host}:${t.port}`))].sort();
    const allowed = pairs.length === 0 ? "" : `${pairs.map((pair) => `'${pair}'`).join("|")}) ;; `;
    return [
        "set -euo pipefail",
        `case "$SSM_towerHost:$SSM_towerPort" in ${allowed}*) echo "alertline relay: $SSM_towerHost:$SSM_towerPort is not a tower relayed through SSM" >&2; exit 2 ;; esac`,
        "payload=$(printf '%s' \"$SSM_payloadHex\" | sed 's/../\\\\x&/g')",
        "exec 3<>\"/dev/tcp/$SSM_towerHost/$SSM_towerPort\"",
        "printf \"$payload\" >&3",
        "reply=$(timeout \"$SSM_timeoutSeconds\" head -c \"$SSM_replyBytes\" <&3 | od -An -v -tx1 | tr -d ' \\n' || true)",
        "exec 3>&-",
        "echo \"reply=$reply\"",
    ];
}

/**
 * The document, limited to the given towers: SSM refuses a towerHost or towerPort that is none of
 * theirs before any host sees the command, and the script refuses a host and port that are not one
 * tower's own pair. Whoever may send the document cannot make a relay host connect elsewhere.
 */
export function relayDocumentContent(targets: readonly RelayTarget[]): string {
    for (const target of targets) {
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(target.host)) throw new Error(`relay target host "${target.host}" is not an IPv4 address; towers[].host must be one`);
        if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new Error(`relay target port ${target.port} of ${target.host} is not a TCP port (1-65535)`);
    }
    return JSON.stringify(
        {
            schemaVersion: "2.2",
            description: "alertline: send one PATLITE command to a tower and print its reply (reply=<hex>)",
            parameters: {
                towerHost: { type: "String", description: "Tower IPv4 address (one of the towers relayed through SSM)", allowedPattern: exactlyPattern(targets.map((t) => t.host)), interpolationType: "ENV_VAR" },
                towerPort: { type: "String", description: "Tower TCP port (one of theirs)", allowedPattern: exactlyPattern(targets.map((t) => String(t.port))), interpolationType: "ENV_VAR" },
                payloadHex: { type: "String", description: "Command bytes as hex, no spaces", allowedPattern: "^([0-9a-fA-F]{2}){1,64}$", interpolationType: "ENV_VAR" },
                replyBytes: { type: "String", description: "Reply bytes to read", allowedPattern: "^\\d{1,2}$", interpolationType: "ENV_VAR" },
                timeoutSeconds: { type: "String", description: "Seconds to wait for the reply", default: "5", allowedPattern: "^\\d{1,2}$", interpolationType: "ENV_VAR" },
            },
            mainSteps: [{ action: "aws:runShellScript", name: "sendToTower", inputs: { timeoutSeconds: "30", runCommand: relayScript(targets) } }],
        },
        null,
        2,
    );
}
