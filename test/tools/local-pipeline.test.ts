import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { createTransport } from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { DARK, sameSignal, toSignal, type TowerSignal } from "../../functions/shared/patlite/signal";
import { DEFAULT_SEVERITY_SIGNALS } from "../../functions/shared/severity";
import { heartbeatName } from "../../components/mail-ingest/mail-canary";
import { banner, loadLocalStack, parsePipelineArgs, startLocalPipeline, type LocalPipeline, type LocalPipelineOptions } from "../../tools/local-pipeline";

/**
 * `npm start` driven from code: the real SMTP server, SES wrapping, mail-ingest, the local FIFO
 * queue, tower-dispatch, PATLITE emulators over TCP and slack-notifier, with the dev stack's own
 * configuration. Mail goes in over SMTP with nodemailer; the tests watch the emulators and the
 * Slack sink. The clock is real (tower-dispatch expires alerts by it), so waits are short polls.
 * The canary timer is off unless a test is about it (canarySeconds 0); runCanary sends one on demand.
 */

const FIXTURES = join(__dirname, "../fixtures/mail");
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));
const CRITICAL = toSignal(DEFAULT_SEVERITY_SIGNALS.critical);
const QUIET = toSignal(DEFAULT_SEVERITY_SIGNALS.quiet);
/** On the dev allow list (`*@zabbix.example.jp`). */
const ALLOWED_SENDER = "ops@zabbix.example.jp";

let pipeline: LocalPipeline | undefined;
let lines: string[];

afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
});

async function start(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
    lines = [];
    pipeline = await startLocalPipeline({ smtpPort: 0, canarySeconds: 0, log: (line) => void lines.push(line), ...options });
    return pipeline;
}

/** Sends over real SMTP; resolves when the server answered the end of DATA. */
async function send(p: LocalPipeline, mail: { raw: Buffer } | { from: string; subject: string; text: string; messageId?: string }, to = p.alertAddress): Promise<string> {
    const transport = createTransport({ host: p.smtpHost, port: p.smtpPort, secure: false, ignoreTLS: true });
    try {
        const info =
            "raw" in mail
                ? await transport.sendMail({ envelope: { from: "relay@example.net", to: [to] }, raw: mail.raw })
                : await transport.sendMail({ from: mail.from, to, subject: mail.subject, text: mail.text, messageId: mail.messageId });
        return info.response;
    } finally {
        transport.close();
    }
}

/** Polls until the condition holds; resolves to the milliseconds it took. Fails after `limitMs`. */
async function until(condition: () => boolean, what: string, limitMs = 3000): Promise<number> {
    const started = performance.now();
    while (!condition()) {
        if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms: ${what}\n${lines.join("\n")}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return performance.now() - started;
}

const shows = (p: LocalPipeline, signal: TowerSignal, tower = devTower(p)) => () => sameSignal(p.towers.find((t) => t.name === tower)!.emulator.state(), signal);
const devTower = (p: LocalPipeline) => p.towers[0].name;
const emulator = (p: LocalPipeline) => p.towers[0].emulator;
const slackNaming = (p: LocalPipeline, subject: string) => () => p.slackMessages.some((m) => m.text.includes(subject));

describe("npm start (dev stack)", () => {
    it("runs one emulator per tower of the dev stack, on loopback", async () => {
        const p = await start();
        expect(p.towers.map((t) => [t.name, t.protocol, t.stackAddress])).toEqual([["dev-desk", "pns", "192.168.10.50:10000"]]);
        expect(p.towers[0].emulator.host).toBe("127.0.0.1");
        expect(p.alertAddress).toBe("patlite@alerts-dev.example.jp");
        expect(p.smtpHost).toBe("127.0.0.1");
    });

    it("lights the tower with the critical signal less than a second after the SMTP transaction, and tells Slack", async () => {
        const p = await start();
        const subject = "[alertline-test] critical: disk full";
        const response = await send(p, { from: ALLOWED_SENDER, subject, text: "disk / is 98% full" });
        const toLit = await until(shows(p, CRITICAL), "the tower shows the critical signal");

        expect(toLit).toBeLessThan(1000);
        expect(response).toMatch(/^250 /);
        expect(emulator(p).commands).toHaveLength(1);
        await until(slackNaming(p, subject), "Slack names the subject");
        expect(lines).toContain(`[${devTower(p)}] red:flash1 buzzer:1`);
    });

    it("returns the tower to quiet on the recovery mail", async () => {
        const p = await start();
        await send(p, { from: ALLOWED_SENDER, subject: "[alertline-test] critical: disk full", text: "disk / is 98% full" });
        await until(shows(p, CRITICAL), "critical");
        await send(p, { from: ALLOWED_SENDER, subject: "[alertline-test] recovery: disk full", text: "disk / is 60% full" });
        await until(shows(p, QUIET), "quiet after the recovery");
        expect(emulator(p).commands).toHaveLength(2);
    });

    it("lights and clears the tower for the Datadog fixtures sent as they are", async () => {
        const p = await start();
        await send(p, { raw: fixture("datadog-triggered.eml") });
        await until(shows(p, CRITICAL), "critical for [Triggered on {host:web-03}]");
        await send(p, { raw: fixture("datadog-recovered.eml") });
        await until(shows(p, QUIET), "quiet for [Recovered on {host:web-03}]");
        await until(slackNaming(p, "High CPU usage on web-03"), "Slack names the monitor");
    });

    it("lights the tower once for the same mail sent twice", async () => {
        const p = await start();
        const mail = { from: ALLOWED_SENDER, subject: "[alertline-test] critical: disk full", text: "disk / is 98% full", messageId: "<same.mail@zabbix.example.jp>" };
        await send(p, mail);
        await until(shows(p, CRITICAL), "critical");
        await send(p, mail);
        await until(() => p.slackMessages.length === 2, "the second mail reaches Slack");
        await p.settled();

        expect(emulator(p).commands).toHaveLength(1);
        expect(sameSignal(emulator(p).state(), CRITICAL)).toBe(true);
    });

    it("does not light the tower for a sender off the allow list, but posts the mail to Slack", async () => {
        const p = await start();
        const subject = "[alertline-test] critical: disk full";
        await send(p, { from: "mallory@attacker.example", subject, text: "open this" });
        await until(slackNaming(p, subject), "Slack names the subject");
        await p.settled();

        expect(emulator(p).commands).toHaveLength(0);
        expect(sameSignal(emulator(p).state(), DARK)).toBe(true);
        expect(p.slackMessages[0].text).toMatch(/untrusted/i);
    });

    it("does not light the tower when SES's verdicts fail (--verdicts fail), but posts the mail to Slack", async () => {
        const p = await start({ verdicts: "fail" });
        const subject = "[alertline-test] critical: disk full";
        await send(p, { from: ALLOWED_SENDER, subject, text: "disk / is 98% full" });
        await until(slackNaming(p, subject), "Slack names the subject");
        await p.settled();

        expect(emulator(p).commands).toHaveLength(0);
        expect(p.slackMessages[0].text).toMatch(/untrusted/i);
    });

    it("takes every mail fixture without a failed invocation; only the newsletter stays out of Slack", async () => {
        const p = await start();
        const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".eml"));
        for (const file of files) expect(await send(p, { raw: fixture(file) })).toMatch(/^250 /);
        await until(() => p.slackMessages.length >= files.length - 1, "a Slack message per fixture but the newsletter");
        await p.settled();

        expect(p.slackMessages).toHaveLength(files.length - 1);
        // Function errors, failed invocations (retried by the local SNS or SQS) and dead letters.
        expect(lines.filter((line) => /^\[[\w-]+\] ERROR |^\[[\w-]+\] invocation \d+ failed|^\[tower-dispatch\] the batch failed|^\[sqs\]/.test(line))).toEqual([]);
    });

    it("refuses mail for another address at RCPT TO, naming the alert address", async () => {
        const p = await start();
        await expect(send(p, { from: ALLOWED_SENDER, subject: "x", text: "x" }, "someone@alerts-dev.example.jp")).rejects.toThrow(/550.*patlite@alerts-dev\.example\.jp/);
        expect(p.slackMessages).toHaveLength(0);
    });
});

describe("npm start: on-call, canary and acknowledgement (dev stack)", () => {
    const HEARTBEAT = heartbeatName("dev");
    const pings = (p: LocalPipeline) => p.onCallRequests.filter((r) => r.action === "ping-heartbeat" && r.heartbeat === HEARTBEAT && r.status === 202);
    const CRITICAL_SUBJECT = "[alertline-test] critical: disk full";
    /** What the dev rules (test-critical, key on the subject's text) make of CRITICAL_SUBJECT. */
    const CRITICAL_ALIAS = "test=disk full";

    const postAck = (p: LocalPipeline, body: unknown, headers: Record<string, string> = {}) =>
        fetch(p.ackUrl, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    const acknowledgement = (alias: string, tags: readonly string[]) => ({
        action: "Acknowledge",
        alert: { alertId: "4a1b2c3d-opsgenie", alias, message: `[CRITICAL] ${CRITICAL_SUBJECT}`, username: "oncall@example.com", tags },
        source: { name: "web", type: "web" },
    });

    it("runs a canary through the mail path to a heartbeat ping, lighting no tower and posting nothing", async () => {
        const p = await start();
        const sent = await p.runCanary();
        await p.settled();

        expect(pings(p)).toHaveLength(1);
        expect(p.onCallRequests.filter((r) => r.action !== "ping-heartbeat")).toEqual([]);
        expect(emulator(p).commands).toHaveLength(0);
        expect(sameSignal(emulator(p).state(), DARK)).toBe(true);
        expect(p.slackMessages).toEqual([]);
        expect(lines).toContain(`[opsgenie] heartbeat pinged: ${HEARTBEAT}`);
        expect(lines.some((l) => l.startsWith("[mail-canary] Canary sent ") && l.includes(sent.canaryId))).toBe(true);
        expect(lines.some((l) => /^\[ses\] received \S+ from <alertline-canary@alerts-dev\.example\.jp>: "alertline canary dev /.test(l))).toBe(true);
        expect(lines.some((l) => l.startsWith("[mail-ingest] Canary received ") && l.includes(sent.canaryId) && l.includes('"heartbeat":"pinged"'))).toBe(true);
    });

    it("with the jsm backend pings the heartbeat through JSM's ops REST API stand-in, with Basic auth", async () => {
        const p = await start({ onCall: { backend: "jsm", cloudId: "3a015c30-bac7-4abc-97a1-50c1feea188a", team: "Ops Tokyo", email: "oncall-bot@example.jp" } });
        const sent = await p.runCanary();
        await p.settled();
        expect(p.onCallBackend).toBe("jsm");
        expect(p.onCallRequests).toEqual([]);
        expect(lines).toContain(`[jsm] heartbeat pinged: ${HEARTBEAT} (no such heartbeat; answered as JSM does, without checking)`);
        expect(lines.some((l) => l.startsWith("[mail-ingest] Canary received ") && l.includes(sent.canaryId) && l.includes('"heartbeat":"pinged"'))).toBe(true);
    });

    it("sends the first canary right after start and the next after the interval", async () => {
        const started = performance.now();
        const p = await start({ canarySeconds: 0.4 });
        await until(() => pings(p).length >= 1, "the first heartbeat ping", 2000);
        const first = performance.now() - started;
        await until(() => pings(p).length >= 2, "the second heartbeat ping", 2000);

        expect(first).toBeLessThan(400 + 2000);
        expect(p.canarySeconds).toBe(0.4);
        expect(emulator(p).commands).toHaveLength(0);
    });

    it("pages on-call for a mail that lit a tower, and the acknowledgement returns the tower to quiet", async () => {
        const p = await start();
        await send(p, { from: ALLOWED_SENDER, subject: CRITICAL_SUBJECT, text: "disk / is 98% full" });
        await until(shows(p, CRITICAL), "critical");
        await until(() => p.onCallAlerts().length === 1, "an on-call alert");
        const alert = p.onCallAlerts()[0];
        const tags = alert.body.tags as string[];

        expect(alert.alias).toBe(CRITICAL_ALIAS);
        expect(alert.priority).toBe("P1");
        expect(tags).toContain(`tower:${devTower(p)}`);

        const refused = await postAck(p, acknowledgement(alert.alias!, tags));
        const wrong = await postAck(p, acknowledgement(alert.alias!, tags), { "x-alertline-token": `${p.ackToken}x` });
        await p.settled();
        expect([refused.status, wrong.status]).toEqual([401, 401]);
        expect(emulator(p).commands).toHaveLength(1);
        expect(sameSignal(emulator(p).state(), CRITICAL)).toBe(true);

        const accepted = await postAck(p, acknowledgement(alert.alias!, tags), { "x-alertline-token": p.ackToken });
        expect(accepted.status).toBe(202);
        expect(await accepted.json()).toEqual({ cleared: CRITICAL_ALIAS, towers: [devTower(p)], unknownTowers: [] });
        await p.settled();
        expect(sameSignal(emulator(p).state(), QUIET)).toBe(true);
        expect(lines.join("\n")).not.toContain(p.ackToken);
    });

    it("prints a curl that acknowledges the test mail's alert", async () => {
        const p = await start();
        await send(p, { from: ALLOWED_SENDER, subject: CRITICAL_SUBJECT, text: "disk / is 98% full" });
        await until(shows(p, CRITICAL), "critical");
        const curl = banner(p)
            .split("\n")
            .map((line) => line.trim())
            .find((line) => line.startsWith("curl -sS -X POST"));
        expect(curl).toBeDefined();

        const { stdout } = await promisify(execFile)("bash", ["-c", curl!]);
        await p.settled();

        expect(JSON.parse(stdout)).toMatchObject({ cleared: p.onCallAlerts()[0].alias });
        expect(sameSignal(emulator(p).state(), QUIET)).toBe(true);
    });

    it("--oncall jsm: a critical mail pages JSM, JSM's acknowledgement clears the tower, the canary pings the JSM heartbeat", async () => {
        expect(parsePipelineArgs(["--oncall", "jsm"])).toMatchObject({ oncall: "jsm" });
        const p = await start({ oncall: "jsm" });
        expect(p.onCallBackend).toBe("jsm");
        expect(p.stack.settings.oncall).toMatchObject({ backend: "jsm", team: "alertline-dev" });

        await send(p, { from: ALLOWED_SENDER, subject: CRITICAL_SUBJECT, text: "disk / is 98% full" });
        await until(shows(p, CRITICAL), "critical");
        await until(() => p.onCallAlerts().length === 1, "a JSM alert");
        const [alert] = p.onCallAlerts();
        expect([alert.api, alert.alias, alert.priority]).toEqual(["jsm", CRITICAL_ALIAS, "P1"]);
        // Nothing went to Opsgenie's API: every alert request went under /jsm/ops/integration with GenieKey.
        expect(p.onCallRequests.filter((r) => r.action === "create-alert").map((r) => [r.api, r.path, r.status])).toEqual([["jsm", "/jsm/ops/integration/v2/alerts", 202]]);

        expect(await p.acknowledge("jsm", CRITICAL_ALIAS)).toBe(202);
        await p.settled();
        // JSM's outgoing webhook posted its alert action data to ack-webhook, which queued the recovery.
        expect(p.webhookCalls.map((c) => [c.api, c.action, c.alias, c.status])).toEqual([["jsm", "Acknowledge", CRITICAL_ALIAS, 202]]);
        expect(sameSignal(emulator(p).state(), QUIET)).toBe(true);
        expect(lines.join("\n")).not.toContain(p.ackToken);

        const sent = await p.runCanary();
        await p.settled();
        expect(p.onCallRequests.filter((r) => r.action === "ping-heartbeat")).toEqual([]);
        expect(lines).toContain(`[jsm] heartbeat pinged: ${HEARTBEAT} (no such heartbeat; answered as JSM does, without checking)`);
        expect(lines.some((l) => l.startsWith("[mail-ingest] Canary received ") && l.includes(sent.canaryId) && l.includes('"heartbeat":"pinged"'))).toBe(true);
    });

    it("--oncall dual: one mail pages each backend once; an acknowledgement from either clears the tower once", async () => {
        const p = await start({ oncall: "dual" });
        expect(p.onCallBackend).toBe("dual");
        expect(p.onCallBackends).toEqual(["opsgenie", "jsm"]);

        await send(p, { from: ALLOWED_SENDER, subject: CRITICAL_SUBJECT, text: "disk / is 98% full" });
        await until(shows(p, CRITICAL), "critical");
        await until(() => p.onCallAlerts().length === 2, "an alert in each backend");
        await p.settled();
        // Both pages go out at once, so either may be opened first.
        expect(p.onCallAlerts().map((a) => [a.api, a.alias, a.count, a.priority]).sort()).toEqual([
            ["jsm", CRITICAL_ALIAS, 1, "P1"],
            ["opsgenie", CRITICAL_ALIAS, 1, "P1"],
        ]);
        const recoveriesQueued = () => lines.filter((l) => l.startsWith("[ack-webhook] Queued recoveries")).length;

        // JSM's acknowledgement clears the tower; Opsgenie's, for the same page, queues nothing.
        expect(await p.acknowledge("jsm", CRITICAL_ALIAS)).toBe(202);
        await p.settled();
        expect(sameSignal(emulator(p).state(), QUIET)).toBe(true);
        const commandsAfterFirst = emulator(p).commands.length;
        expect(await p.acknowledge("opsgenie", CRITICAL_ALIAS)).toBe(202);
        await p.settled();
        expect(p.webhookCalls.map((c) => [c.api, c.action, c.status])).toEqual([
            ["jsm", "Acknowledge", 202],
            ["opsgenie", "Acknowledge", 200],
        ]);
        expect(recoveriesQueued()).toBe(1);
        expect(lines.some((l) => l.startsWith("[ack-webhook] The alert was already cleared since its last page") && l.includes("Acknowledge of alert"))).toBe(true);
        expect(emulator(p).commands).toHaveLength(commandsAfterFirst);

        // The problem mailed again lights the tower again and re-opens the clear: Opsgenie's next acknowledgement clears it.
        await send(p, { from: ALLOWED_SENDER, subject: CRITICAL_SUBJECT, text: "disk / is 99% full" });
        await until(shows(p, CRITICAL), "critical again");
        await p.settled();
        expect(await p.acknowledge("opsgenie", CRITICAL_ALIAS)).toBe(202);
        await p.settled();
        expect(sameSignal(emulator(p).state(), QUIET)).toBe(true);
        expect(recoveriesQueued()).toBe(2);

        // The canary keeps both heartbeats alive.
        await p.runCanary();
        await p.settled();
        expect(p.onCallRequests.filter((r) => r.action === "ping-heartbeat" && r.api === "opsgenie").map((r) => [r.heartbeat, r.status])).toEqual([[HEARTBEAT, 202]]);
        expect(lines).toContain(`[jsm] heartbeat pinged: ${HEARTBEAT} (no such heartbeat; answered as JSM does, without checking)`);
        expect(lines.some((l) => l.startsWith("[mail-ingest] Canary received ") && l.includes('"heartbeat":"pinged"'))).toBe(true);
    });

    it("--oncall dual: the recovery mail closes both alerts, and their Close webhooks queue nothing more", async () => {
        const p = await start({ oncall: "dual" });
        await send(p, { from: ALLOWED_SENDER, subject: CRITICAL_SUBJECT, text: "disk / is 98% full" });
        await until(shows(p, CRITICAL), "critical");
        await p.settled();
        await send(p, { from: ALLOWED_SENDER, subject: "[alertline-test] recovery: disk full", text: "disk / is 60% full" });
        await until(() => p.onCallAlerts().every((a) => a.status === "closed"), "both alerts closed");
        await p.settled();
        expect(sameSignal(emulator(p).state(), QUIET)).toBe(true);
        expect(p.webhookCalls.map((c) => [c.api, c.action, c.status]).sort()).toEqual([
            ["jsm", "Close", 200],
            ["opsgenie", "Close", 200],
        ]);
        expect(lines.filter((l) => l.startsWith("[ack-webhook] Queued recoveries"))).toEqual([]);
    });

    it("refuses an unknown --oncall, naming the choices", () => {
        expect(() => parsePipelineArgs(["--oncall", "pagerduty"])).toThrow(/--oncall must be opsgenie, jsm or dual/);
    });

    it("names the backend, heartbeat and acknowledgement endpoint in the banner", async () => {
        const p = await start();
        const text = banner(p);
        expect(p.onCallBackend).toBe("opsgenie");
        expect(text).toContain(p.onCallUrl);
        expect(text).toContain(`heartbeat ${HEARTBEAT}`);
        expect(text).toMatch(/canary +none sent \(--canary-seconds 0\)/);
        expect(text).toContain(p.ackUrl);
    });
});

describe("npm start (prod stack)", () => {
    it("runs a tower relayed through SSM as a direct one, and says so", () => {
        const stack = loadLocalStack("prod");
        const relayed = stack.towers.filter((t) => t.note !== undefined);
        expect(relayed.length).toBeGreaterThan(0);
        for (const tower of stack.towers) expect(tower.config.relay).toEqual({ kind: "vpn" });
        expect(relayed[0].note).toMatch(/SSM/);
    });

    it("lights our offices' towers, each protocol and each site's own critical signal, for a Zabbix disaster about our host; customer-a's only for its own host", async () => {
        const p = await start({ stack: "prod" });
        const sites = loadLocalStack("prod").settings.sites;
        const critical = (tower: (typeof p.towers)[number]) => toSignal({ ...DEFAULT_SEVERITY_SIGNALS, ...sites.find((s) => s.name === tower.site)!.signals }.critical);
        const ours = p.towers.filter((t) => t.site !== "customer-a");
        const customerA = p.towers.find((t) => t.site === "customer-a")!;
        expect(new Set(ours.map((t) => t.protocol))).toEqual(new Set(["pns", "la6", "phn"]));
        await send(p, { raw: fixture("zabbix-ja-problem.eml") }); // ホスト: web-01, one of ours
        for (const tower of ours) await until(shows(p, critical(tower), tower.name), `${tower.name} shows its site's critical signal`);
        await p.settled();
        expect(customerA.emulator.commands).toHaveLength(0);
        // The same mail on customer-a's host (prod.yaml routes cust-a-* to customer-a and tokyo-noc).
        await send(p, {
            from: "zabbix@zabbix.example.jp",
            subject: "障害: cust-a-web-01 のCPU使用率が90%を超えています",
            text: "障害名: cust-a-web-01 のCPU使用率が90%を超えています\nホスト: cust-a-web-01\n深刻度: 重度の障害\n元の障害ID: 777001\n",
        });
        await until(shows(p, critical(customerA), customerA.name), "customer-a's tower shows its critical signal");
    });
});

describe("parsePipelineArgs", () => {
    it("defaults to the dev stack on port 2525 with passing verdicts", () => {
        expect(parsePipelineArgs([])).toEqual({ stack: "dev", smtpPort: 2525, verdicts: "pass", canarySeconds: 60, ackPort: 0 });
        expect(parsePipelineArgs(["--canary-seconds", "0", "--ack-port", "8080"])).toMatchObject({ canarySeconds: 0, ackPort: 8080 });
    });

    it("names a bad port, verdict or canary interval", () => {
        expect(() => parsePipelineArgs(["--smtp-port", "70000"])).toThrow(/--smtp-port must be a port number/);
        expect(() => parsePipelineArgs(["--ack-port=-1"])).toThrow(/--ack-port must be a port number/);
        for (const bad of ["1.5", "-5", "soon", "86401"]) expect(() => parsePipelineArgs([`--canary-seconds=${bad}`])).toThrow(/--canary-seconds must be a whole number of seconds 0–86400/);
        expect(() => parsePipelineArgs(["--verdicts", "maybe"])).toThrow(/--verdicts must be pass or fail/);
        expect(() => parsePipelineArgs(["--bogus"])).toThrow(/usage: npm start/);
    });

    it("names an unknown stack and lists the real ones", async () => {
        await expect(startLocalPipeline({ stack: "staging", smtpPort: 0, log: () => undefined })).rejects.toThrow(/no stack file Pulumi\.staging\.yaml.*dev/);
    });
});
