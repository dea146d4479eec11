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

/**
 * The boot script. It installs the Agent, writes its configuration, and only then reads the API
 * key from SSM (over the VPC endpoint) straight into datadog.yaml, so the key never appears in
 * user data, in the process list, or in cloud-init's output log.
 */
export function hostUserData(input: HostUserDataInput): string {
    for (const name of [input.apiKeyParameterName, input.region, input.datadogSite]) {
        if (!/^[A-Za-z0-9_.\/-]+$/.test(name)) throw new Error(`refusing to put "${name}" into a shell script: unexpected characters`);
    }
    return [
        "#!/bin/bash",
        "# alertline: Datadog Agent with process checks; managed by Pulumi, edits are overwritten.",
        "set -euo pipefail",
        "umask 077",
        "",
        `DD_SITE='${input.datadogSite}' DD_INSTALL_ONLY=true bash -c "$(curl -fsSL https://install.datadoghq.com/scripts/install_script_agent7.sh)"`,
        "",
        writeFile("/etc/datadog-agent/datadog.yaml", agentConfigYaml(input), "640"),
        "mkdir -p /etc/datadog-agent/conf.d/process.d",
        writeFile("/etc/datadog-agent/conf.d/process.d/conf.yaml", processCheckYaml(input.processes), "640"),
        "",
        "# The key goes from SSM into the file without passing through a variable that `set -x` or a crash dump could show.",
        `aws ssm get-parameter --region '${input.region}' --name '${input.apiKeyParameterName}' --with-decryption --query Parameter.Value --output text \\`,
        "  | sed 's/^/api_key: /' >> /etc/datadog-agent/datadog.yaml",
        "chown -R dd-agent:dd-agent /etc/datadog-agent",
        "systemctl enable datadog-agent",
        "systemctl restart datadog-agent",
        "",
    ].join("\n");
}
