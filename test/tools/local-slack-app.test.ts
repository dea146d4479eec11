import { execFile } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classify } from "../../functions/shared/mail-rules";
import { onCallAlias } from "../../functions/shared/oncall-alerts";
import { LOCAL_SLACK_CHANNEL_ID, localSlackSettings, parsePipelineArgs, PipelineUsageError, startLocalPipeline, USAGE, type LocalPipeline } from "../../tools/local-pipeline";
import { nodeSupportNote } from "../../tools/node-support";
import { STORM_DEFAULT_FROM } from "../../tools/mail-cli";
import { sendStorm, stormFinalSeverity, stormHost, type StormResult } from "../../tools/mail-storm";
import type { SlackStoredMessage } from "../../tools/local/slack-web-api";

/**
 * `npm start -- --slack app` under a storm (issue 14, bars 1 and 2): the whole local pipeline with
 * slack-notifier in app mode against the Slack Web API stand-in, fed over SMTP by
 * `npm run mail -- storm` (tools/mail-storm.ts): 500 mails for 20 alerts must end as 20 messages in
 * the channel, each with its thread and its final state, every rate limit waited out.
 *
 * Slack's real rates (one post a second per channel, Tier 3 chat.update 50 a minute) would make the
 * storm take minutes: the stand-in's clock and the notifier's clock, deadlines and waits run SCALE
 * times faster (the pipeline's test-only slackTimeScale), which changes no decision, only the wait.
 */

const SCALE = 5;
const MAILS = 500;
const ALERTS = 20;

let pipeline: LocalPipeline;
const lines: string[] = [];
let storm: StormResult;
let stormMs = 0;

const headerOf = (m: SlackStoredMessage): string => (m.blocks as { type: string; text?: { text: string } }[] | undefined)?.find((b) => b.type === "header")?.text?.text ?? "";
const colourOf = (m: SlackStoredMessage): unknown => (m.attachments as { color?: string }[] | undefined)?.[0]?.color;
const roots = () => pipeline.slackApi!.messages(pipeline.slackChannel!.id);
const repliesOf = (m: SlackStoredMessage) => pipeline.slackApi!.replies(pipeline.slackChannel!.id, m.ts);
/** The root message of an alert, by its host in the header (each host is one alert). */
const rootOf = (host: string) => roots().filter((m) => new RegExp(`disk full on ${host}$`).test(headerOf(m)));
/** How the log says a root was first posted (its text as first posted). */
const firstPosted = (m: SlackStoredMessage) => lines.find((l) => l.startsWith(`[slack] posted ${m.ts}: `))?.slice(`[slack] posted ${m.ts}: `.length);
/** The recovered alerts whose message was first posted red (one first posted after its last mail is green from the start, its thread saying it recovered). */
const recoveredAfterRed = () =>
    Array.from({ length: ALERTS }, (_, alert) => stormHost(alert, ALERTS)).filter((host, alert) => stormFinalSeverity(alert) === "recovery" && firstPosted(rootOf(host)[0])?.startsWith(":red_circle:"));
/** Root messages that are an alert's (a header naming a storm host). */
const alertRoots = () => roots().filter((m) => /disk full on storm-host-\d\d$/.test(headerOf(m)));

describe("npm start -- --slack app under a storm of 500 mails for 20 alerts", () => {
    beforeAll(async () => {
        pipeline = await startLocalPipeline({ stack: "dev", smtpPort: 0, canarySeconds: 0, slack: "app", slackTimeScale: SCALE, log: (line) => void lines.push(line) });
        const started = Date.now();
        // The storm, then each alert's last mail once everything before it has gone through (as the CLI's pause does).
        storm = await sendStorm({ smtp: { host: pipeline.smtpHost, port: pipeline.smtpPort }, to: pipeline.alertAddress, from: STORM_DEFAULT_FROM, mails: MAILS, alerts: ALERTS, concurrency: 10, settle: () => pipeline.settled() });
        await pipeline.settled();
        stormMs = Date.now() - started;
    }, 240_000);

    afterAll(async () => {
        await pipeline?.close();
    });

    it("runs slack-notifier in app mode against the stand-in, and no log line shows a bot token", () => {
        expect(pipeline.slackMode).toBe("app");
        expect(pipeline.stack.settings.slack).toMatchObject({ mode: "app", channelId: pipeline.slackChannel!.id });
        expect(pipeline.slackMessages).toEqual([]);
        // Every call carried the run's token (the stand-in answers invalid_auth otherwise) and no line of the log shows it.
        expect(pipeline.slackApi!.refusals.filter((r) => r.error !== "ratelimited")).toEqual([]);
        expect(lines.join("\n")).not.toMatch(/xoxb-/);
    });

    it("ends as exactly 20 alert messages, each with its final state, a count, and its thread", () => {
        const api = pipeline.slackApi!;
        const posts = api.calls.filter((c) => c.method === "chat.postMessage" && c.status === 200).length;
        const updates = api.calls.filter((c) => c.method === "chat.update" && c.status === 200).length;
        const limited = api.calls.filter((c) => c.status === 429).length;
        const retries = pipeline.slackFailures.length;
        const notesAlone = roots().length - alertRoots().length;
        console.log(`storm: ${storm.sent} mails in ${(storm.ms / 1000).toFixed(1)} s over SMTP; all settled after ${(stormMs / 1000).toFixed(1)} s wall (x${SCALE} Slack time); Slack: ${posts} posts, ${updates} updates, ${limited} answers 429, ${retries} notifier invocations failed and retried; ${alertRoots().length} alert messages and ${notesAlone} notes standing alone`);

        expect(storm.sent).toBe(MAILS);
        expect(alertRoots()).toHaveLength(ALERTS);
        for (let alert = 0; alert < ALERTS; alert++) {
            const host = stormHost(alert, ALERTS);
            const mine = rootOf(host);
            expect(mine, host).toHaveLength(1);
            const [root] = mine;
            const shown = JSON.stringify(root.blocks);
            // 25 mails an alert; the count on the message says how many it stands for.
            const count = Number(/×(\d+), last at/.exec(shown)?.[1]);
            expect(count, host).toBeGreaterThanOrEqual(MAILS / ALERTS);
            expect(count, host).toBeLessThanOrEqual(MAILS / ALERTS + pipeline.slackFailures.length);
            expect(root.updates, host).toBeGreaterThan(0);
            if (stormFinalSeverity(alert) === "recovery") {
                expect(headerOf(root), host).toBe(`:large_green_circle: [OK] [RECOVERY] [alertline-test] recovery: disk full on ${host}`);
                expect(colourOf(root), host).toBe("#2eb886");
                // Whether its red message was shown first or its turn came only after its last mail (posted
                // green from the start), the thread says it recovered, once.
                const recoveredReplies = repliesOf(root).filter((r) => r.text.includes("Recovered"));
                expect(recoveredReplies.map((r) => r.text), host).toEqual([expect.stringMatching(new RegExp(`^:large_green_circle: Recovered: \\[RECOVERY\\] \\[alertline-test\\] recovery: disk full on ${host} — disk / on ${host} is back to 41%`))]);
            } else {
                expect(headerOf(root), host).toBe(`:red_circle: [ALARM] [CRITICAL] [alertline-test] critical: disk full on ${host}`);
                expect(colourOf(root), host).toBe("#d40e0d");
                expect(repliesOf(root).some((r) => r.text.includes("Recovered")), host).toBe(false);
            }
        }
    });

    it("posts no other message: the tower's notes wait for their alert's first message and land in its thread", () => {
        // The first tower change ("dev-desk: now red …") comes within milliseconds of the first mails,
        // whose messages wait their turn at one post a second; the note waits for its alert's message
        // (slack-app.ts, itemWithMessage) rather than standing alone as a 21st message.
        expect(roots().filter((m) => !alertRoots().some((a) => a.ts === m.ts)).map((m) => m.text)).toEqual([]);
        const towerNotes = alertRoots().flatMap((root) => repliesOf(root).filter((r) => r.text.startsWith("dev-desk:")));
        expect(towerNotes.length).toBeGreaterThan(0);
    });

    it("left no ratelimited answer unhandled and no event dead-lettered", () => {
        const api = pipeline.slackApi!;
        // Slack pushed back: 20 first posts at one a second, updates at 50 a minute.
        const limited = api.calls.filter((c) => c.status === 429);
        expect(limited.length).toBeGreaterThan(0);
        expect(limited.every((c) => c.error === "ratelimited")).toBe(true);
        // Each 429 was waited out: the method it refused succeeded later.
        const lastOk = new Map<string, number>();
        api.calls.forEach((c, i) => c.status === 200 && !c.error && lastOk.set(c.method, i));
        api.calls.forEach((c, i) => c.status === 429 && expect(lastOk.get(c.method) ?? -1, `${c.method} call ${i}`).toBeGreaterThan(i));
        expect(pipeline.slackFailures.filter((f) => !f.willRetry)).toEqual([]);
        expect(lines.filter((l) => /\[slack-notifier\] invocation \d failed, giving up/.test(l))).toEqual([]);
        expect(api.orphans).toEqual([]);
    });

    it("prints the channel in the log: posted, updated, replied", () => {
        const posted = lines.filter((l) => l.startsWith("[slack] posted "));
        expect(posted).toHaveLength(roots().length);
        expect(posted.filter((l) => / disk full on storm-host-\d\d: /.test(l))).toHaveLength(ALERTS);
        expect(lines.some((l) => /^\[slack\] updated \d+\.\d{6} \(edit \d+\): /.test(l))).toBe(true);
        expect(recoveredAfterRed().length).toBeGreaterThan(0);
        // Every recovered alert says so in its thread, whether its message was first posted red or green.
        expect(lines.filter((l) => /^\[slack\] replied in \d+\.\d{6}: :large_green_circle: Recovered: /.test(l))).toHaveLength(ALERTS / 2);
    });

    it("shows a recovery by editing the original message (same ts) and replying in its thread", () => {
        const host = recoveredAfterRed()[0];
        const [root] = rootOf(host);
        const posted = lines.find((l) => l.startsWith("[slack] posted ") && l.includes(`disk full on ${host}`))!;
        expect(posted).toContain(`[slack] posted ${root.ts}: `);
        expect(posted).toContain(":red_circle:");
        expect(root.edited).toBeDefined();
        expect(headerOf(root)).toContain("[OK]");
        expect(repliesOf(root).every((r) => r.threadTs === root.ts)).toBe(true);
    });

    it("feeds the page's Slack step from the channel's messages", () => {
        const page = pipeline.pageState();
        const last = page.alerts[0];
        expect(last.subject).toMatch(/^\[alertline-test\] (critical|recovery): disk full on storm-host-\d\d$/);
        expect(last.steps.find((s) => s.step === "slack")).toMatchObject({ status: "done" });
    });

    it("shows an acknowledgement from on-call as a reply in the alert's thread", async () => {
        const host = stormHost(1, ALERTS);
        const { alertKey } = classify({ from: STORM_DEFAULT_FROM, subject: `[alertline-test] critical: disk full on ${host}`, text: "" }, pipeline.stack.rules);
        const [root] = rootOf(host);
        const before = repliesOf(root).length;
        expect(await pipeline.acknowledge("opsgenie", onCallAlias(alertKey))).toBe(202);
        await pipeline.settled();
        const replies = repliesOf(root).slice(before).map((r) => r.text);
        expect(replies).toContain("acknowledged by you@example.com in Opsgenie");
        expect(lines).toContain(`[slack] replied in ${root.ts}: acknowledged by you@example.com in Opsgenie`);
        expect(alertRoots()).toHaveLength(ALERTS);
        expect(roots().filter((m) => m.text.includes("acknowledged by"))).toEqual([]);
    });
});

/** `npm start …` as a process: its exit code and output. */
function npmStart(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        // The Node.js note is written unless the operator set the SDK's switch: run without it.
        const env = { ...process.env };
        delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
        execFile(process.execPath, ["--import", "tsx", "tools/local-pipeline.ts", ...args], { cwd: path.resolve(__dirname, "../.."), env, timeout: 90_000 }, (error, stdout, stderr) =>
            resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }),
        );
    });
}

describe("npm start's --slack option", () => {
    it("reads webhook (the default) or app, and refuses anything else with the usage", () => {
        expect(parsePipelineArgs([])).not.toHaveProperty("slack");
        expect(parsePipelineArgs(["--slack", "app"])).toMatchObject({ slack: "app" });
        expect(parsePipelineArgs(["--slack=webhook"])).toMatchObject({ slack: "webhook" });
        expect(() => parsePipelineArgs(["--slack", "bot"])).toThrow(PipelineUsageError);
        expect(() => parsePipelineArgs(["--slack", "bot"])).toThrow(/^--slack must be webhook \(an incoming webhook, the default\) or app .*got "bot"\nusage: npm start/s);
        expect(USAGE).toMatch(/\[--slack webhook\|app\]/);
        expect(USAGE).toMatch(/\n {2}--slack {11}how slack-notifier reaches Slack: webhook \(default/);
    });

    it("sets the run's alertline:slack.mode: app with the stack's channel ID or a local one, webhook without app mode's keys", () => {
        const webhookStack = { channel: "#alerts-dev", datadogAccount: "acme", mode: "webhook" as const };
        expect(localSlackSettings(webhookStack, "app")).toEqual({ channel: "#alerts-dev", datadogAccount: "acme", mode: "app", channelId: LOCAL_SLACK_CHANNEL_ID });
        expect(localSlackSettings(webhookStack, "webhook")).toEqual(webhookStack);
        const appStack = { channel: "#alerts", datadogAccount: "acme", mode: "app" as const, channelId: "C0PROD1234", threadMaxAgeHours: 12 };
        expect(localSlackSettings(appStack, "app")).toEqual(appStack);
        expect(localSlackSettings(appStack, "webhook")).toEqual({ channel: "#alerts", datadogAccount: "acme", mode: "webhook" });
    });

    it("answers a bad --slack with a sentence and the usage, exit 2, and --help with the usage before any note", async () => {
        const bad = await npmStart(["--slack", "bot"]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/^npm start: --slack must be webhook .* got "bot"\nusage: npm start -- /s);
        expect(bad.stdout).toBe("");
        const help = await npmStart(["--help"]);
        expect(help.code).toBe(0);
        expect(help.stdout).toBe(`${USAGE}\n`);
        // On Node.js 20 the note is not written for --help (it comes once the pipeline starts).
        const note = nodeSupportNote(process.version);
        if (note !== undefined) expect(help.stderr).not.toContain(note);
        expect(help.stderr).toBe("");
    }, 120_000);
});

describe("npm start -- --slack app when Slack cannot be reached", () => {
    it("retries a failed notifier invocation twice, then reports the event as dead-lettered", async () => {
        const log: string[] = [];
        const broken = await startLocalPipeline({ stack: "dev", smtpPort: 0, canarySeconds: 0, slack: "app", slackTimeScale: SCALE, log: (line) => void log.push(line) });
        try {
            // Slack goes away: every Web API call fails to connect, an error no wait fixes.
            await broken.slackApi!.close();
            await sendStorm({ smtp: { host: broken.smtpHost, port: broken.smtpPort }, to: broken.alertAddress, from: STORM_DEFAULT_FROM, mails: 1, alerts: 1 });
            await broken.settled();
            expect(broken.slackFailures.map((f) => [f.attempt, f.willRetry])).toEqual([
                [1, true],
                [2, true],
                [3, false],
            ]);
            expect(new Set(broken.slackFailures.map((f) => f.snsMessageId)).size).toBe(1);
            expect(log.filter((l) => l.startsWith("[slack-notifier] invocation "))).toEqual([
                expect.stringMatching(/^\[slack-notifier\] invocation 1 failed, retrying: /),
                expect.stringMatching(/^\[slack-notifier\] invocation 2 failed, retrying: /),
                expect.stringMatching(/^\[slack-notifier\] invocation 3 failed, giving up \(in AWS: the dead-letter queue\): /),
            ]);
        } finally {
            await broken.close();
        }
    }, 60_000);
});
