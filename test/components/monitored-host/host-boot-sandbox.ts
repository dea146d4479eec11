/**
 * A bash sandbox for the hosts' boot script: a temp directory stands for `/`, and stand-ins for
 * curl, aws, systemctl, chown and Datadog's install script (test/fixtures/host-boot/, sources in
 * test/fixtures/README.md) come first on PATH. Nothing here writes outside the temp directory.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const FIXTURES = path.join(__dirname, "..", "..", "fixtures", "host-boot");

/** The only directory the boot script writes to; the test re-roots it in the sandbox. */
export const AGENT_ETC = "/etc/datadog-agent";

/** Whether strace can trace here (it needs ptrace); the argv/environment sweep uses it when it can. */
export const HAS_STRACE = spawnSync("strace", ["-f", "-qq", "-e", "trace=execve", "-o", "/dev/null", "true"]).status === 0;

export interface SsmParameter {
    readonly region: string;
    readonly name: string;
    readonly type: "String" | "SecureString";
    readonly value: string;
}

export interface Run {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export class Sandbox {
    readonly root = mkdtempSync(path.join(tmpdir(), "alertline-boot-"));

    constructor(parameters: readonly SsmParameter[]) {
        for (const dir of ["bin", "srv", "ssm", "tmp", "record/env"]) mkdirSync(path.join(this.root, dir), { recursive: true });
        for (const tool of ["_record.sh", "curl", "aws", "systemctl", "chown"]) {
            copyFileSync(path.join(FIXTURES, "on-path", tool), path.join(this.root, "bin", tool));
            chmodSync(path.join(this.root, "bin", tool), 0o755);
        }
        copyFileSync(path.join(FIXTURES, "install_script_agent7.sh"), path.join(this.root, "srv", "install_script_agent7.sh"));
        writeFileSync(path.join(this.root, "ssm", "parameters"), parameters.map((p) => `${p.region}\t${p.name}\t${p.type}\t${p.value}\n`).join(""));
    }

    /** Path of `absolute` inside the sandbox. */
    at(absolute: string): string {
        return path.join(this.root, absolute);
    }

    read(absolute: string): string {
        return readFileSync(this.at(absolute), "utf8");
    }

    exists(absolute: string): boolean {
        return existsSync(this.at(absolute));
    }

    /**
     * The boot script with its one written directory moved into the sandbox: the documented, narrow
     * substitution of the literal `/etc/datadog-agent`. Refuses a script that names any other system
     * directory, so a new absolute path cannot escape the sandbox unnoticed. (`mktemp` follows
     * TMPDIR, which {@link env} points into the sandbox.)
     */
    rooted(script: string): string {
        const other = script.split(AGENT_ETC).join("").match(/(^|[\s'"=>])\/(etc|var|opt|usr|tmp|root|home|run|lib|srv|boot|dev|proc|sys)\b\S*/m);
        if (other) throw new Error(`boot script names ${other[0].trim()}, outside ${AGENT_ETC}: extend the sandbox before running it`);
        return script.split(AGENT_ETC).join(this.at(AGENT_ETC));
    }

    /** The environment cloud-init would give, minus everything a root shell does not need. */
    env(extra: Record<string, string> = {}): Record<string, string> {
        return { PATH: `${this.at("/bin")}:/usr/bin:/bin`, HOME: this.at("/tmp"), TMPDIR: this.at("/tmp"), ALERTLINE_SANDBOX: this.root, LANG: "C", ...extra };
    }

    /** Runs `bash <file>` in the sandbox, under strace (every execve with argv and environment) when asked. */
    run(file: string, opts: { extraEnv?: Record<string, string>; strace?: boolean } = {}): Promise<Run> {
        const args = opts.strace
            ? ["-f", "-qq", "-v", "-s", "1048576", "-e", "trace=execve", "-o", this.at("/record/strace"), "bash", file]
            : [file];
        const child = spawn(opts.strace ? "strace" : "bash", args, { cwd: this.root, env: this.env(opts.extraEnv), stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        return new Promise((resolve, reject) => {
            child.on("error", reject);
            child.on("close", (code) => resolve({ code, stdout, stderr }));
        });
    }

    /** Writes `script` (re-rooted) into the sandbox and runs it. */
    boot(script: string, opts: { strace?: boolean } = {}): Promise<Run> {
        const file = this.at("/user-data.sh");
        writeFileSync(file, this.rooted(script), { mode: 0o700 });
        return this.run(file, opts);
    }

    /** Every stand-in call in order: [tool, ...argv]. */
    calls(): string[][] {
        const file = this.at("/record/calls");
        if (!existsSync(file)) return [];
        return readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => line.split("\t"));
    }

    /** The environment each stand-in process started with, by `<tool>.<pid>`. */
    environments(): Map<string, string> {
        const dir = this.at("/record/env");
        return new Map(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f), "utf8")]));
    }

    strace(): string {
        return this.read("/record/strace");
    }

    remove(): void {
        rmSync(this.root, { recursive: true, force: true });
    }
}
