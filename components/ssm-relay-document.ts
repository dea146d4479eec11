/**
 * The SSM Command document a relay host runs to pass one PATLITE command to a tower. Every value
 * arrives as an environment variable (`interpolationType: ENV_VAR` → `SSM_<name>`), checked by an
 * allowedPattern before the host sees it, and is never spliced into the command line itself.
 * Contract with tower-dispatch's relay: parameters towerHost, towerPort, payloadHex, replyBytes,
 * timeoutSeconds; the script prints `reply=<hex>` (empty hex when the tower said nothing).
 */
export const RELAY_DOCUMENT_PARAMETERS = ["towerHost", "towerPort", "payloadHex", "replyBytes", "timeoutSeconds"] as const;

const RELAY_SCRIPT = [
    "set -euo pipefail",
    "payload=$(printf '%s' \"$SSM_payloadHex\" | sed 's/../\\\\x&/g')",
    "exec 3<>\"/dev/tcp/$SSM_towerHost/$SSM_towerPort\"",
    "printf \"$payload\" >&3",
    "reply=$(timeout \"$SSM_timeoutSeconds\" head -c \"$SSM_replyBytes\" <&3 | od -An -v -tx1 | tr -d ' \\n' || true)",
    "exec 3>&-",
    "echo \"reply=$reply\"",
];

export function relayDocumentContent(): string {
    return JSON.stringify(
        {
            schemaVersion: "2.2",
            description: "alertline: send one PATLITE command to a tower and print its reply (reply=<hex>)",
            parameters: {
                towerHost: { type: "String", description: "Tower IPv4 address", allowedPattern: "^\\d{1,3}(\\.\\d{1,3}){3}$", interpolationType: "ENV_VAR" },
                towerPort: { type: "String", description: "Tower TCP port", allowedPattern: "^\\d{1,5}$", interpolationType: "ENV_VAR" },
                payloadHex: { type: "String", description: "Command bytes as hex, no spaces", allowedPattern: "^([0-9a-fA-F]{2}){1,64}$", interpolationType: "ENV_VAR" },
                replyBytes: { type: "String", description: "Reply bytes to read", allowedPattern: "^\\d{1,2}$", interpolationType: "ENV_VAR" },
                timeoutSeconds: { type: "String", description: "Seconds to wait for the reply", default: "5", allowedPattern: "^\\d{1,2}$", interpolationType: "ENV_VAR" },
            },
            mainSteps: [{ action: "aws:runShellScript", name: "sendToTower", inputs: { timeoutSeconds: "30", runCommand: RELAY_SCRIPT } }],
        },
        null,
        2,
    );
}
