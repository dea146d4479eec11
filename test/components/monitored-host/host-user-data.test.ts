import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { agentConfigYaml, hostUserData, processCheckYaml } from "../../../components/monitored-host/host-user-data";

const input = {
    environment: "dev",
    hostName: "monitor-1",
    datadogSite: "ap1.datadoghq.com",
    apiKeyParameterName: "/alertline/dev/monitor-1/datadog-api-key",
    region: "ap-northeast-1",
    processes: ["chronyd", "sshd"],
};

describe("processCheckYaml", () => {
    it("declares one instance per process, named so process.up is tagged process:<name>", () => {
        const conf = parse(processCheckYaml(["chronyd", "sshd"]));
        expect(conf.instances).toEqual([
            { name: "chronyd", search_string: ["chronyd"], exact_match: true },
            { name: "sshd", search_string: ["sshd"], exact_match: true },
        ]);
    });
});

describe("agentConfigYaml", () => {
    it("enables Live Processes and tags the host as the monitors expect", () => {
        const conf = parse(agentConfigYaml(input));
        expect(conf.process_config.process_collection.enabled).toBe(true);
        expect(conf.tags).toEqual(expect.arrayContaining(["env:dev", "alertline_host:monitor-1"]));
        expect(conf.site).toBe("ap1.datadoghq.com");
        expect(conf.api_key).toBeUndefined();
    });
});

describe("hostUserData", () => {
    const script = hostUserData(input);

    it("reads the API key from the SSM parameter at boot, decrypted, into datadog.yaml", () => {
        expect(script).toContain("aws ssm get-parameter --region 'ap-northeast-1' --name '/alertline/dev/monitor-1/datadog-api-key' --with-decryption");
        expect(script).toMatch(/sed 's\/\^\/api_key: \/' >> \/etc\/datadog-agent\/datadog\.yaml/);
    });

    it("never carries an api_key value or DD_API_KEY itself", () => {
        expect(script).not.toMatch(/^\s*api_key:/m);
        expect(script).not.toContain("DD_API_KEY");
    });

    it("writes datadog.yaml and its key before Datadog's installer runs, and starts the Agent only after the chown", () => {
        const lines = script.split("\n");
        const line = (start: string) => {
            const i = lines.findIndex((l) => l.startsWith(start));
            expect(i, start).toBeGreaterThanOrEqual(0);
            return i;
        };
        const installer = line(`DD_SITE='ap1.datadoghq.com' DD_INSTALL_ONLY=true bash "$installer"`);
        expect(line("cat > /etc/datadog-agent/datadog.yaml <<")).toBeLessThan(installer);
        expect(line("aws ssm get-parameter")).toBeLessThan(installer);
        expect(line("cat > /etc/datadog-agent/conf.d/process.d/conf.yaml <<")).toBeLessThan(installer);
        expect(line("curl -fsSL -o \"$installer\" https://install.datadoghq.com/scripts/install_script_agent7.sh")).toBeLessThan(installer);
        expect(line("chown -R dd-agent:dd-agent /etc/datadog-agent")).toBeGreaterThan(installer);
        expect(line("systemctl enable datadog-agent")).toBeGreaterThan(line("chown -R"));
        expect(line("systemctl restart datadog-agent")).toBeGreaterThan(line("systemctl enable"));
    });

    it("writes the process check configuration the monitors rely on", () => {
        const start = script.indexOf("cat > /etc/datadog-agent/conf.d/process.d/conf.yaml <<'ALERTLINE_EOF'\n");
        expect(start).toBeGreaterThan(0);
        const body = script.slice(script.indexOf("\n", start) + 1, script.indexOf("\nALERTLINE_EOF", start));
        expect(parse(body).instances.map((i: { name: string }) => i.name)).toEqual(["chronyd", "sshd"]);
    });

    it("refuses values that could inject shell", () => {
        expect(() => hostUserData({ ...input, apiKeyParameterName: "/x'; curl evil #" })).toThrow(/unexpected characters/);
    });
});
