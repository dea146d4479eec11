import { describe, expect, it } from "vitest";
import { hostMonitorSpecs, withNotify } from "../../../components/monitored-host/datadog-monitors";

const specs = hostMonitorSpecs({ environment: "prod", hostName: "mail-relay", processes: ["chronyd", "postfix"], cpuThresholdPercent: 85 });

describe("hostMonitorSpecs", () => {
    it("makes one process-up service check per process, scoped to the host's tags", () => {
        const processChecks = specs.filter((s) => s.key.startsWith("process-"));
        expect(processChecks.map((s) => s.query)).toEqual([
            '"process.up".over("env:prod","alertline_host:mail-relay","process:chronyd").by("host").last(2).count_by_status()',
            '"process.up".over("env:prod","alertline_host:mail-relay","process:postfix").by("host").last(2).count_by_status()',
        ]);
        for (const check of processChecks) expect(check.type).toBe("service check");
    });

    it("alerts when the Agent stops reporting, through no-data", () => {
        const agent = specs.find((s) => s.key === "agent-up")!;
        expect(agent.query).toBe('"datadog.agent.up".over("env:prod","alertline_host:mail-relay").by("host").last(2).count_by_status()');
        expect(agent.notifyNoData).toBe(true);
        expect(agent.noDataTimeframeMinutes).toBeGreaterThanOrEqual(2);
    });

    it("uses the host's CPU threshold in the query and the critical threshold alike", () => {
        const cpu = specs.find((s) => s.key === "cpu")!;
        expect(cpu.type).toBe("metric alert");
        expect(cpu.query).toBe("avg(last_5m):avg:system.cpu.user{env:prod,alertline_host:mail-relay} by {host} > 85");
        expect(cpu.thresholds.critical).toBe(85);
    });

    it("names every monitor after its environment and host so two stacks never collide", () => {
        expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
        for (const spec of specs) expect(spec.name.startsWith("[alertline prod] mail-relay:")).toBe(true);
    });
});

describe("withNotify", () => {
    it("puts the routing handles on the message's last line", () => {
        const message = withNotify(specs[0].message, "@opsgenie-alertline-prod @slack-acme-alerts");
        expect(message.split("\n").at(-1)).toBe("@opsgenie-alertline-prod @slack-acme-alerts");
    });
});
