/**
 * The hosts' boot script, run for real by bash in a sandbox (see host-boot-sandbox.ts): Datadog's
 * install script is a stand-in that keeps the real script's preconditions, so a boot script that
 * would stop on a fresh Amazon Linux 2023 host stops here too.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { hostUserData } from "../../../components/monitored-host/host-user-data";
import { AGENT_ETC, FIXTURES, HAS_STRACE, Sandbox, type Run } from "./host-boot-sandbox";

const input = {
    environment: "dev",
    hostName: "monitor-1",
    datadogSite: "ap1.datadoghq.com",
    apiKeyParameterName: "/alertline/dev/monitor-1/datadog-api-key",
    region: "ap-northeast-1",
    processes: ["chronyd", "sshd"],
};
/** Shaped like a Datadog API key (32 hex digits); exists only in the sandbox's SSM store. */
const KEY = "feedc0de5ca1ab1e0ddba11deadbeef7";
const OTHER_HOST_KEY = "0badc0ffee0ddf00d0000000000000aa";
const parameters = [
    { region: "ap-northeast-1", name: input.apiKeyParameterName, type: "SecureString", value: KEY },
    { region: "ap-northeast-1", name: "/alertline/dev/monitor-2/datadog-api-key", type: "SecureString", value: OTHER_HOST_KEY },
] as const;
/** What Datadog's script prints before `exit 1` (install_script.sh.template line 1229), colours included. */
const NO_KEY_MESSAGE = "\x1b[31mAPI key not available in DD_API_KEY environment variable.\x1b[0m\n";

const sandboxes: Sandbox[] = [];
function sandbox(): Sandbox {
    const s = new Sandbox(parameters);
    sandboxes.push(s);
    return s;
}
afterAll(() => sandboxes.forEach((s) => s.remove()));

const occurrences = (text: string, needle: string) => text.split(needle).length - 1;
const explain = (run: Run) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

describe("the boot script on a fresh host, in a bash sandbox", () => {
    const script = hostUserData(input);
    const box = sandbox();
    let run: Run;
    beforeAll(async () => {
        run = await box.boot(script, { strace: HAS_STRACE });
    }, 60_000);

    it("exits 0", () => {
        expect(run.code, explain(run)).toBe(0);
    });

    it("leaves datadog.yaml with the key from SSM exactly once, the site and the monitors' tags", () => {
        const text = box.read(`${AGENT_ETC}/datadog.yaml`);
        expect(occurrences(text, KEY)).toBe(1);
        expect(text).not.toContain(OTHER_HOST_KEY);
        const conf = parse(text);
        expect(conf.api_key).toBe(KEY);
        expect(conf.site).toBe("ap1.datadoghq.com");
        expect(conf.tags).toEqual(expect.arrayContaining(["env:dev", "alertline_host:monitor-1"]));
        expect(conf.process_config.process_collection.enabled).toBe(true);
    });

    it("leaves the process check configuration", () => {
        const conf = parse(box.read(`${AGENT_ETC}/conf.d/process.d/conf.yaml`));
        expect(conf.instances.map((i: { name: string }) => i.name)).toEqual(["chronyd", "sshd"]);
    });

    it("runs Datadog's installer without a key, after datadog.yaml exists, so the installer keeps it and does not start the Agent", () => {
        const tools = box.calls().map(([tool]) => tool);
        expect(tools.indexOf("aws")).toBeGreaterThanOrEqual(0);
        expect(tools.indexOf("installer")).toBeGreaterThan(tools.indexOf("aws"));
        expect(run.stdout).toContain(`Keeping old ${box.at(`${AGENT_ETC}/datadog.yaml`)} configuration file`);
        expect(run.stdout).toContain("DD_INSTALL_ONLY environment variable set.");
        const installerEnv = [...box.environments()].filter(([name]) => name.startsWith("installer.")).map(([, env]) => env);
        expect(installerEnv).toHaveLength(1);
        expect(installerEnv[0]).toMatch(/^DD_INSTALL_ONLY=true$/m);
        expect(installerEnv[0]).toMatch(/^DD_SITE=ap1\.datadoghq\.com$/m);
        expect(installerEnv[0]).not.toMatch(/^DD_API_KEY=/m);
    });

    it("gives /etc/datadog-agent to dd-agent once the package created the user, then enables and restarts datadog-agent", () => {
        const calls = box.calls();
        const after = calls.slice(calls.findIndex(([tool]) => tool === "installer") + 1);
        expect(after).toEqual([
            ["chown", "dd-agent:dd-agent", box.at(`${AGENT_ETC}/datadog.yaml`)], // the installer's own chown (template line 2391)
            ["chown", "-R", "dd-agent:dd-agent", box.at(AGENT_ETC)],
            ["systemctl", "enable", "datadog-agent"],
            ["systemctl", "restart", "datadog-agent"],
        ]);
        expect(box.exists("/units/datadog-agent.service.enabled")).toBe(true);
        expect(box.exists("/units/datadog-agent.service.active")).toBe(true);
    });

    it("removes the downloaded installer", () => {
        expect(box.calls().find(([tool]) => tool === "curl")).toEqual(["curl", "-fsSL", "-o", expect.stringMatching(/^\//), "https://install.datadoghq.com/scripts/install_script_agent7.sh"]);
        expect(readdirSync(box.at("/tmp"))).toEqual([]);
    });

    it("never shows the key: not in the script, not in any stand-in's argv, not in any stand-in's environment", () => {
        expect(script).not.toContain(KEY);
        expect(box.calls().length).toBeGreaterThanOrEqual(7);
        expect(box.calls().flat().join("\n")).not.toContain(KEY);
        const environments = box.environments();
        const tools = new Set([...environments.keys()].map((name) => name.split(".")[0]));
        expect([...tools].sort()).toEqual(["aws", "chown", "curl", "installer", "systemctl"]);
        for (const [name, env] of environments) expect(env, name).not.toContain(KEY);
    });

    it.skipIf(!HAS_STRACE)("never shows the key in the argv or environment of any process the boot starts (strace, every execve)", () => {
        const trace = box.strace();
        const execs = trace.split("\n").filter((line) => /execve\(/.test(line));
        // The trace is complete enough to mean something: it saw aws, sed, the installer's bash,
        // chown and systemctl, with their environments.
        for (const tool of ["/bin/aws", "/sed", "/bin/chown", "/bin/systemctl", "install_script_agent7.sh"]) {
            expect(execs.some((line) => line.includes(tool)), tool).toBe(true);
        }
        expect(execs.every((line) => line.includes("ALERTLINE_SANDBOX="))).toBe(true);
        expect(trace).not.toContain(KEY);
    });
});

describe("the sandbox catches the bug of issue 9", () => {
    it("the boot script as generated before issue 9 stops at Datadog's installer: exit 1, its message, no Agent", async () => {
        const box = sandbox();
        const run = await box.boot(readFileSync(path.join(FIXTURES, "user-data-before-issue-9.sh"), "utf8"));
        expect(run.code).toBe(1);
        expect(run.stdout).toContain(NO_KEY_MESSAGE);
        expect(box.calls().map(([tool]) => tool)).toEqual(["curl", "installer"]);
        expect(box.exists("/users/dd-agent")).toBe(false);
        expect(box.exists(`${AGENT_ETC}/datadog.yaml`)).toBe(false);
    });

    it("a failed download of the installer stops the boot before anything is chowned or started", async () => {
        const box = sandbox();
        writeFileSync(box.at("/srv/offline"), "");
        const run = await box.boot(hostUserData(input));
        expect(run.code).toBe(6);
        expect(run.stderr).toContain("curl: (6) Could not resolve host: install.datadoghq.com");
        expect(box.calls().map(([tool]) => tool)).toEqual(["aws", "curl"]);
    });
});

describe("the boot script when SSM does not answer", () => {
    it("stops with the CLI's error before Datadog's installer runs, leaving no api_key line", async () => {
        const box = sandbox();
        const run = await box.boot(hostUserData({ ...input, apiKeyParameterName: "/alertline/dev/monitor-9/datadog-api-key" }));
        expect(run.code).toBe(254);
        expect(run.stderr).toContain("An error occurred (ParameterNotFound) when calling the GetParameter operation");
        expect(box.calls().map(([tool]) => tool)).toEqual(["aws"]);
        expect(box.read(`${AGENT_ETC}/datadog.yaml`)).not.toContain("api_key");
    });
});

describe("the stand-ins refuse what the real tools refuse", () => {
    const installer = (box: Sandbox, env: Record<string, string>) => box.run(box.at("/srv/install_script_agent7.sh"), { extraEnv: env });

    it("Datadog's installer with no DD_API_KEY and no datadog.yaml prints the real message, exits 1 and installs nothing", async () => {
        const box = sandbox();
        const run = await installer(box, { DD_SITE: "ap1.datadoghq.com", DD_INSTALL_ONLY: "true" });
        expect(run.code).toBe(1);
        expect(run.stdout).toBe(NO_KEY_MESSAGE);
        expect(box.exists("/users/dd-agent")).toBe(false);
        expect(box.exists("/units/datadog-agent.service")).toBe(false);
    });

    it("Datadog's installer given DD_API_KEY writes datadog.yaml from the example with the key and site, and DD_INSTALL_ONLY keeps it from starting", async () => {
        const box = sandbox();
        const run = await installer(box, { DD_API_KEY: KEY, DD_SITE: "ap1.datadoghq.com", DD_INSTALL_ONLY: "true" });
        expect(run.code, explain(run)).toBe(0);
        const conf = parse(box.read(`${AGENT_ETC}/datadog.yaml`));
        expect(conf).toEqual({ api_key: KEY, site: "ap1.datadoghq.com" });
        expect(box.exists("/users/dd-agent")).toBe(true);
        expect(box.calls().filter(([tool]) => tool === "systemctl")).toEqual([]);
        // The recorders see a key handed to a process: the leak checks above are not vacuous.
        expect([...box.environments()].find(([name]) => name.startsWith("installer."))?.[1]).toContain(`DD_API_KEY=${KEY}`);
    });

    it("Datadog's installer without DD_INSTALL_ONLY restarts the Agent itself", async () => {
        const box = sandbox();
        const run = await installer(box, { DD_API_KEY: KEY });
        expect(run.code, explain(run)).toBe(0);
        expect(box.calls().filter(([tool]) => tool === "systemctl")).toEqual([["systemctl", "restart", "datadog-agent.service"]]);
    });

    it("Datadog's installer with no key but an existing datadog.yaml keeps that file byte for byte", async () => {
        const box = sandbox();
        const mine = "site: ap1.datadoghq.com\napi_key: " + KEY + "\n";
        mkdirSync(box.at(AGENT_ETC), { recursive: true });
        writeFileSync(box.at(`${AGENT_ETC}/datadog.yaml`), mine);
        const run = await installer(box, { DD_INSTALL_ONLY: "true" });
        expect(run.code, explain(run)).toBe(0);
        expect(box.read(`${AGENT_ETC}/datadog.yaml`)).toBe(mine);
    });

    it("chown refuses dd-agent before the package created the user", async () => {
        const box = sandbox();
        mkdirSync(box.at(AGENT_ETC), { recursive: true });
        const run = await box.boot(`chown -R dd-agent:dd-agent ${AGENT_ETC}\n`);
        expect(run.code).toBe(1);
        expect(run.stderr).toBe("chown: invalid user: 'dd-agent:dd-agent'\n");
    });

    it("systemctl refuses a unit no package installed", async () => {
        const box = sandbox();
        const run = await box.boot("systemctl restart datadog-agent\n");
        expect(run.code).toBe(5);
        expect(run.stderr).toContain("Unit datadog-agent.service not found.");
    });

    it("aws answers get-parameter only with the decrypted value of an existing parameter and the flags it knows", async () => {
        const box = sandbox();
        const get = (flags: string) => box.boot(`aws ssm get-parameter ${flags}\n`);
        const ok = await get(`--region ap-northeast-1 --name ${input.apiKeyParameterName} --with-decryption --query Parameter.Value --output text`);
        expect(ok).toMatchObject({ code: 0, stdout: `${KEY}\n` });
        const encrypted = await get(`--region ap-northeast-1 --name ${input.apiKeyParameterName} --query Parameter.Value --output text`);
        expect(encrypted.code).toBe(0);
        expect(encrypted.stdout).not.toContain(KEY);
        const missing = await get("--region ap-northeast-1 --name /alertline/dev/nope --with-decryption --query Parameter.Value --output text");
        expect(missing.code).toBe(254);
        expect(missing.stderr).toContain("(ParameterNotFound)");
        const unknown = await get(`--region ap-northeast-1 --name ${input.apiKeyParameterName} --with-decryption --decrypt --query Parameter.Value --output text`);
        expect(unknown.code).toBe(252);
        const noRegion = await get(`--name ${input.apiKeyParameterName} --with-decryption --query Parameter.Value --output text`);
        expect(noRegion.code).toBe(253);
        const otherCommand = await box.boot("aws ssm get-parameters-by-path --path /alertline --with-decryption\n");
        expect(otherCommand.code).toBe(252);
    });
});
