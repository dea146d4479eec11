import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hostMonitorSpecs, type HostMonitorInput } from "../../../components/monitored-host/datadog-monitors";
import { MonitoredHost } from "../../../components/monitored-host/monitored-host";
import { OnCallRouting, type OnCallSettings } from "../../../components/shared/oncall/oncall-routing";
import { SecretValue } from "../../../tools/offline/mock-engine";
import { recordResources } from "../../harness/record";
import { parseMonitorQuery, parseServiceCheck, type ParsedQuery } from "./datadog-query-grammar";

/**
 * Datadog's side of the contract (fixtures and sources: test/fixtures/contracts/README.md): the
 * monitor queries alertline generates parse under a grammar written from Datadog's monitor-query
 * reference and keep the API's own consistency checks; the Opsgenie service object's inputs are
 * what the provider types and validates.
 */

const CONTRACTS = join(__dirname, "../../fixtures/contracts/datadog");
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(CONTRACTS, name), "utf8")) as T;
const queries = fixture<{ valid: { type: string; query: string }[]; invalid: { type: string; query: string; why: string }[] }>("monitor-queries.json");
const serviceObject = fixture<{ token: string; required: string[]; optional: string[]; regions: string[]; secret: string[] }>("opsgenie-service-object.json");

describe("the monitor-query grammar holds to Datadog's reference", () => {
    for (const example of queries.valid) {
        it(`accepts ${example.query}`, () => {
            expect(parseMonitorQuery(example.type, example.query).kind).toBe(example.type);
        });
    }
    for (const example of queries.invalid) {
        it(`refuses ${example.query} (${example.why})`, () => {
            expect(() => parseMonitorQuery(example.type, example.query)).toThrow();
        });
    }

    it("reads the parts of a service check in either order of by and last", () => {
        const parts = { kind: "service check", check: "process.up", over: ["env:dev", "process:sshd"], groupBy: ["host"], last: 2 };
        expect(parseServiceCheck('"process.up".over("env:dev","process:sshd").by("host").last(2).count_by_status()')).toEqual(parts);
        expect(parseServiceCheck('"process.up".over("env:dev", "process:sshd").last(2).by("host").count_by_status()')).toEqual(parts);
    });
});

/** What Datadog's API checks beyond the syntax, for one monitor (see monitor-queries.json). */
function apiProblems(parsed: ParsedQuery, thresholds: Record<string, number | undefined>): string[] {
    const values = Object.values(thresholds).filter((v): v is number => v !== undefined);
    if (parsed.kind === "service check") {
        const max = Math.max(...values);
        return parsed.last >= max ? [] : [`last(${parsed.last}) is below the largest threshold ${max}`];
    }
    return thresholds.critical === parsed.threshold ? [] : [`the query's threshold ${parsed.threshold} is not thresholds.critical ${thresholds.critical}`];
}

describe("alertline's monitor queries are Datadog queries", () => {
    const inputs: [string, HostMonitorInput][] = [
        ["an EC2 host (scope: alertline's Agent tags)", { environment: "dev", hostName: "web", processes: ["chronyd", "sshd"], cpuThresholdPercent: 80 }],
        ["processes with every character the config allows", { environment: "prod", hostName: "batch-01", processes: ["node_exporter", "java.exe", "postgres:", "td-agent"], cpuThresholdPercent: 95 }],
        ["an external host by name", { environment: "prod", hostName: "nas", processes: ["smbd"], cpuThresholdPercent: 70, scope: ["host:nas01.office.example.jp"] }],
        ["an external host by tags", { environment: "prod", hostName: "ecs", processes: ["nginx"], cpuThresholdPercent: 90, scope: ["role:web", "cloud_provider:alibaba"] }],
    ];
    for (const [what, input] of inputs) {
        it(`${what}: every query parses and keeps the API's checks`, () => {
            const specs = hostMonitorSpecs(input);
            expect(specs.length).toBe(input.processes.length + 2);
            for (const spec of specs) {
                const parsed = parseMonitorQuery(spec.type, spec.query);
                expect(apiProblems(parsed, spec.thresholds), spec.query).toEqual([]);
                expect(parsed.groupBy, spec.query).toEqual(["host"]);
                const scope = parsed.kind === "service check" ? parsed.over : parsed.scope;
                for (const tag of input.scope ?? [`env:${input.environment}`, `alertline_host:${input.hostName}`]) expect(scope, spec.query).toContain(tag);
            }
            const processChecks = specs.filter((s) => s.key.startsWith("process-")).map((s) => parseServiceCheck(s.query));
            expect(processChecks.map((p) => p.kind === "service check" && p.check)).toEqual(input.processes.map(() => "process.up"));
            expect(processChecks.map((p) => p.kind === "service check" && p.over.find((t) => t.startsWith("process:")))).toEqual(input.processes.map((p) => `process:${p}`));
        });
    }

    it("registers the monitors with those queries and thresholds as Datadog receives them", async () => {
        const engine = await recordResources(() => {
            new MonitoredHost("host-nas", { environment: "prod", hostName: "nas", processes: ["smbd", "sshd"], cpuThresholdPercent: 70, external: { scope: ["host:nas01.office.example.jp"] }, notify: pulumi.output("@opsgenie-alertline-prod") });
        });
        const monitors = engine.ofType("datadog:index/monitor:Monitor");
        expect(monitors).toHaveLength(4);
        for (const monitor of monitors) {
            const { type, query, monitorThresholds } = monitor.inputs as { type: string; query: string; monitorThresholds: Record<string, string> };
            const thresholds = Object.fromEntries(Object.entries(monitorThresholds).map(([k, v]) => [k, Number(v)]));
            expect(apiProblems(parseMonitorQuery(type, query), thresholds), query).toEqual([]);
        }
    });
});

describe("the Opsgenie service object's inputs are what the provider takes", () => {
    /** Every way the registered inputs break the provider's schema (opsgenie-service-object.json). */
    function schemaProblems(inputs: Record<string, unknown>): string[] {
        const problems: string[] = [];
        for (const key of serviceObject.required) if (inputs[key] === undefined || inputs[key] === "") problems.push(`${key} is required`);
        for (const key of Object.keys(inputs)) if (![...serviceObject.required, ...serviceObject.optional].includes(key)) problems.push(`${key} is not an input of ${serviceObject.token}`);
        if (!serviceObject.regions.includes(String(inputs.region))) problems.push(`region ${JSON.stringify(inputs.region)} is not one of ${serviceObject.regions.join(", ")}`);
        if ((inputs.region === "custom") !== (inputs.customUrl !== undefined)) problems.push("customUrl goes with region custom, and only with it");
        if (inputs.customUrl !== undefined && !/^https:\/\/[^/\s]+(\/\S*)?$/.test(String(inputs.customUrl))) problems.push(`customUrl ${JSON.stringify(inputs.customUrl)} is not an https URL`);
        for (const key of serviceObject.secret) if (!(inputs[key] instanceof SecretValue)) problems.push(`${key} is not a secret`);
        return problems;
    }

    const settings: [string, OnCallSettings][] = [
        ["Opsgenie US", { backend: "opsgenie", region: "us", team: "ops" } as OnCallSettings],
        ["Opsgenie EU", { backend: "opsgenie", region: "eu", team: "ops" } as OnCallSettings],
        ["JSM", { backend: "jsm", team: "ops", cloudId: "2b0d6e4c-8a1f-4d3e-9c5b-7f6a1e2d3c4b", email: "ops@example.com" } as OnCallSettings],
    ];
    for (const [what, onCall] of settings) {
        it(`${what}`, async () => {
            const engine = await recordResources(() => new OnCallRouting("oncall", { environment: "dev", settings: onCall, apiKey: pulumi.secret("0123456789abcdef"), jsmApiToken: pulumi.secret("jsm-api-token") }));
            const [service] = engine.ofType(serviceObject.token);
            expect(schemaProblems(service.inputs)).toEqual([]);
        });
    }
});
