import { stringify } from "yaml";
import { hostScope } from "./datadog-monitors";

/** What the boot script needs. Nothing here is secret: the API key stays in SSM until boot. */
export interface HostUserDataInput {
    readonly environment: string;
    readonly hostName: string;
    /** Datadog site, e.g. "datadoghq.com". */
    readonly datadogSite: string;
    /** Name of the SSM SecureString parameter that holds the Datadog API key. */
    readonly apiKeyParameterName: string;
    /** AWS region of that parameter. */
    readonly region: string;
    /** Processes the Agent's process check watches. */
    readonly processes: readonly string[];
}

/** `datadog.yaml` without `api_key`; the boot script appends the key it reads from SSM. */
export function agentConfigYaml(input: Pick<HostUserDataInput, "environment" | "hostName" | "datadogSite">): string {
    return stringify({
        site: input.datadogSite,
        tags: [...hostScope(input.environment, input.hostName), "managed-by:alertline"],
        env: input.environment,
        process_config: { process_collection: { enabled: true } },
    });
}

/** `conf.d/process.d/conf.yaml`: one instance per process, so `process.up` carries `process:<name>`. */
export function processCheckYaml(processes: readonly string[]): string {
    return stringify({
        init_config: {},
        instances: processes.map((name) => ({ name, search_string: [name], exact_match: true })),
    });
}

/** A heredoc whose terminator cannot occur in the body, so config text is written verbatim. */
function writeFile(path: string, body: string, mode: string): string {
    const marker = "ALERTLINE_EOF";
    if (body.split("\n").includes(marker)) throw new Error(`file body for ${path} contains the heredoc marker`);
    return [`cat > ${path} <<'${marker}'`, body.trimEnd(), marker, `chmod ${mode} ${path}`].join("\n");
}

/** Where Datadog documents its Agent 7 install script for Linux. */
export const AGENT_INSTALL_SCRIPT_URL = "https://install.datadoghq.com/scripts/install_script_agent7.sh";

/**
 * The boot script. It writes the Agent's whole configuration first, reading the API key from SSM
 * (over the VPC endpoint) straight into datadog.yaml, and only then runs Datadog's install script.
 *
 * Why this order (DataDog/agent-linux-install-script, install_script.sh.template @099e33a):
 * - without DD_API_KEY the script exits 1 ("API key not available in DD_API_KEY environment
 *   variable.", lines 1226-1232) unless `/etc/datadog-agent/datadog.yaml` already exists (or it is an
 *   Agent 5 upgrade); the script used to run first and so stopped every boot;
 * - when datadog.yaml exists it keeps it untouched ("Keeping old … configuration file", lines
 *   2338-2339) and only chowns it to dd-agent and sets 640 (lines 2390-2393); the package itself
 *   ships datadog.yaml.example, never datadog.yaml;
 * - handing it DD_API_KEY instead would put the key on command lines: it runs
 *   `bash -c "… DD_API_KEY='<key>' … yum install"` (line 1490), a `sh -c "sed -i …api_key: <key>…"`
 *   (line 1976) and passes it to curl for failure reports and telemetry (lines 141, 233, 608, 615).
 *   With no key in its environment it does none of that.
 * - DD_INSTALL_ONLY only sets no_start (lines 894-899): the script does not start the Agent, so it
 *   starts once, below, after the chown; the dd-agent user that chown needs is created by the
 *   package's preinst (DataDog/datadog-agent omnibus/package-scripts/agent-rpm/preinst).
 * The key never appears in user data, on a command line or in any process's environment: `aws`
 * prints it into a pipe and sed prefixes it, nothing else sees it; if `aws` fails, `pipefail` stops
 * the boot before the installer runs.
 * The installer is downloaded to a file rather than run as `bash -c "$(curl …)"`: a failed download
 * then stops the boot under `set -e` instead of running an empty script, and the script (101,345
 * bytes at 099e33a) is not passed as one argument, which Linux caps at 128 KiB (MAX_ARG_STRLEN).
 */
export function hostUserData(input: HostUserDataInput): string {
    for (const name of [input.apiKeyParameterName, input.region, input.datadogSite]) {
        if (!/^[A-Za-z0-9_.\/-]+$/.test(name)) throw new Error(`refusing to put "${name}" into a shell script: unexpected characters`);
    }
    const config = "/etc/datadog-agent/datadog.yaml";
    return [
        "#!/bin/bash",
        "# alertline: Datadog Agent with process checks; managed by Pulumi, edits are overwritten.",
        "set -euo pipefail",
        "umask 077",
        "",
        "# Configuration (key included) before the installer: it then keeps datadog.yaml and needs no key in its environment.",
        "mkdir -p /etc/datadog-agent/conf.d/process.d",
        writeFile(config, agentConfigYaml(input), "640"),
        "# The key goes from SSM into the file without passing through a variable, an argument or the environment.",
        `aws ssm get-parameter --region '${input.region}' --name '${input.apiKeyParameterName}' --with-decryption --query Parameter.Value --output text \\`,
        `  | sed 's/^/api_key: /' >> ${config}`,
        writeFile("/etc/datadog-agent/conf.d/process.d/conf.yaml", processCheckYaml(input.processes), "640"),
        "",
        'installer="$(mktemp)"',
        `curl -fsSL -o "$installer" ${AGENT_INSTALL_SCRIPT_URL}`,
        `DD_SITE='${input.datadogSite}' DD_INSTALL_ONLY=true bash "$installer"`,
        'rm -f "$installer"',
        "",
        "chown -R dd-agent:dd-agent /etc/datadog-agent",
        "systemctl enable datadog-agent",
        "systemctl restart datadog-agent",
        "",
    ].join("\n");
}
