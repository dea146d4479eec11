/**
 * The Datadog monitors that watch one host, as plain data. The component turns each spec into a
 * `datadog.Monitor`; tests read the queries here without any engine.
 */

/** What a host's monitors need to know. */
export interface HostMonitorInput {
    /** Environment name, e.g. "dev". */
    readonly environment: string;
    /** The host's alertline name (config `hosts[].name`), also its `alertline_host` tag. */
    readonly hostName: string;
    /** Processes that must be running. */
    readonly processes: readonly string[];
    /** CPU user percentage that raises an alert. */
    readonly cpuThresholdPercent: number;
    /** Datadog scope of the host's data. Default: the tags alertline's Agent config sets (hostScope). */
    readonly scope?: readonly string[];
}

/** One `datadog.Monitor`, named by `key` within its host. */
export interface MonitorSpec {
    readonly key: string;
    readonly name: string;
    readonly type: "service check" | "metric alert";
    readonly query: string;
    readonly message: string;
    readonly thresholds: { critical: number; warning?: number; ok?: number };
    readonly notifyNoData: boolean;
    readonly noDataTimeframeMinutes?: number;
    readonly priority: "1" | "2" | "3" | "4" | "5";
    readonly tags: string[];
}

/**
 * The scope that selects this host's data: the tags the Agent sends (see host-user-data), not the
 * host name, because on EC2 the Agent's host name is the instance ID, unknown until launch.
 */
export function hostScope(environment: string, hostName: string): string[] {
    return [`env:${environment}`, `alertline_host:${hostName}`];
}

/** Tags on the monitors themselves, for filtering in Datadog's UI and for downtimes. */
export function monitorTags(environment: string, hostName: string): string[] {
    return [...hostScope(environment, hostName), "managed-by:alertline"];
}

function quoted(tags: string[]): string {
    return tags.map((t) => `"${t}"`).join(",");
}

function message(what: string, recovery: string, input: HostMonitorInput): string {
    return [
        `{{#is_alert}}${what}{{/is_alert}}`,
        `{{#is_no_data}}No data from {{host.name}} (alertline host ${input.hostName}, ${input.environment}): the Agent may be down or the host unreachable.{{/is_no_data}}`,
        `{{#is_recovery}}${recovery}{{/is_recovery}}`,
        `Host: {{host.name}}, alertline host ${input.hostName} in ${input.environment}. Connect with Session Manager: aws ssm start-session --target <instance id>.`,
    ].join("\n");
}

/** A monitor's message with the handles that route it to the alert channel on its last line. */
export function withNotify(message: string, notify: string): string {
    return `${message}\n${notify}`;
}

/** Monitors for one host: process-up per process, agent-up with no-data, CPU. */
export function hostMonitorSpecs(input: HostMonitorInput): MonitorSpec[] {
    const scope = [...(input.scope ?? hostScope(input.environment, input.hostName))];
    const tags = monitorTags(input.environment, input.hostName);
    const prefix = `[alertline ${input.environment}] ${input.hostName}`;

    const processMonitors: MonitorSpec[] = input.processes.map((process) => ({
        key: `process-${process}`,
        name: `${prefix}: process ${process} is not running`,
        type: "service check",
        // Two consecutive failed checks before alerting: one missed check during an Agent restart is not an outage.
        query: `"process.up".over(${quoted([...scope, `process:${process}`])}).by("host").last(2).count_by_status()`,
        message: message(`Process ${process} is not running on {{host.name}}.`, `Process ${process} is running again on {{host.name}}.`, input),
        thresholds: { critical: 2, warning: 1, ok: 1 },
        notifyNoData: false,
        priority: "2",
        tags: [...tags, `process:${process}`],
    }));

    const agentUp: MonitorSpec = {
        key: "agent-up",
        name: `${prefix}: Datadog Agent is not reporting`,
        type: "service check",
        query: `"datadog.agent.up".over(${quoted(scope)}).by("host").last(2).count_by_status()`,
        message: message("The Datadog Agent on {{host.name}} reports a failure.", "The Datadog Agent on {{host.name}} is reporting again.", input),
        thresholds: { critical: 1, ok: 1 },
        notifyNoData: true,
        noDataTimeframeMinutes: 10,
        priority: "1",
        tags,
    };

    const cpu: MonitorSpec = {
        key: "cpu",
        name: `${prefix}: CPU above ${input.cpuThresholdPercent}%`,
        type: "metric alert",
        query: `avg(last_5m):avg:system.cpu.user{${scope.join(",")}} by {host} > ${input.cpuThresholdPercent}`,
        message: message(
            `CPU user time on {{host.name}} is {{value}}%, above ${input.cpuThresholdPercent}%.`,
            `CPU user time on {{host.name}} is back below ${input.cpuThresholdPercent}%.`,
            input,
        ),
        thresholds: { critical: input.cpuThresholdPercent },
        notifyNoData: false,
        priority: "3",
        tags,
    };

    return [...processMonitors, agentUp, cpu];
}
