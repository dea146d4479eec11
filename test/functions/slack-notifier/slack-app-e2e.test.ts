import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { SNSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertIdentity, noteIdentity, threadKey } from "../../../functions/slack-notifier/alert-identity";
import { parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";
import { createAlertThreads } from "../../../functions/slack-notifier/alert-threads";
import { createHandler, type NotifierLogger } from "../../../functions/slack-notifier/handler";
import { createSlackAppDelivery, createSlackWebClient, slackAppFromEnv, type SlackChat } from "../../../functions/slack-notifier/slack-app";
import { threadNote } from "../../../functions/shared/thread-note";
import { startStateTable, type LocalStateTable } from "../../../tools/local/dynamo";
import { startSlackWebApi, type SlackStoredMessage, type SlackWebApi } from "../../../tools/local/slack-web-api";
import { lambdaContext } from "../lambda-runtime";
import { startKmsStub, type KmsStub } from "./kms-stub";

/**
 * slack-notifier in app mode end to end: the real handler, wired from its environment as in
 * Lambda (bot token as KMS ciphertext, decrypted by the KMS stub), the thread store on dynalite and
 * Slack's Web API stand-in (tools/local/slack-web-api.ts), reached by @slack/web-api's WebClient.
 *
 * Time runs SCALE times faster than the wall clock, for the stand-in's rate limits, the handler's
 * deadlines and its Retry-After waits alike, so a storm that takes Slack half a minute takes a few
 * seconds here without changing what happens.
 */

const FUNCTION_NAME = "alertline-dev-alerts-notifier";
const TOKEN = "xoxb-1111-2222-alertlineTestToken";
const SCALE = 5;
const START = Date.now();
let offsetMs = 0;
const clock = (): number => Date.parse("2026-12-05T10:00:00Z") + offsetMs + (Date.now() - START) * SCALE;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms / SCALE));

const CHANNELS = { storm: "C0STORM01", alerts: "C0ALERTS1", notMember: "C0QUIET01", ageing: "C0AGEING1" } as const;

interface LogLine {
    level: string;
    message: string;
    attributes: Record<string, unknown>[];
}

let dynamo: LocalStateTable;
let kms: KmsStub;
let slack: SlackWebApi;
let lines: LogLine[] = [];
const logger: NotifierLogger = {
    info: (message, ...attributes) => void lines.push({ level: "info", message, attributes }),
    warn: (message, ...attributes) => void lines.push({ level: "warn", message, attributes }),
    error: (message, ...attributes) => void lines.push({ level: "error", message, attributes }),
};

beforeAll(async () => {
    dynamo = await startStateTable("alertline-dev-flood");
    kms = await startKmsStub();
    slack = await startSlackWebApi({
        token: TOKEN,
        channels: [
            { id: CHANNELS.storm, name: "alerts-storm" },
            { id: CHANNELS.alerts, name: "alerts" },
            { id: CHANNELS.notMember, name: "quiet", member: false },
            { id: CHANNELS.ageing, name: "alerts-ageing" },
        ],
        clock,
    });
});
afterAll(async () => {
    await slack?.close();
    await kms?.close();
    await dynamo?.close();
});

/** The handler as Lambda would build it for a stack with `alertline:slack.mode: app`. */
function appHandler(channel: string, extraEnv: Record<string, string> = {}) {
    const env = {
        SLACK_MODE: "app",
        SLACK_BOT_TOKEN_CIPHERTEXT: kms.encrypt(TOKEN, { LambdaFunctionName: FUNCTION_NAME }),
        SLACK_CHANNEL_ID: channel,
        SLACK_API_URL: slack.url,
        FLOOD_TABLE: dynamo.table,
        AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
        ...extraEnv,
    };
    const kmsClient = kms.client();
    const app = slackAppFromEnv(env, {
        logger,
        environment: "dev",
        kms: () => kmsClient,
        documentClient: () => dynamo.documentClient,
        parse: (record) => parseSnsMessage(record.Sns.Message, record.Sns.Subject ?? undefined),
        now: clock,
        sleep,
    });
    return createHandler({ webhookUrl: () => Promise.reject(new Error("app mode must not use the webhook")), logger, environment: "dev", now: clock, sleep, app });
}

let messageIds = 0;
function snsEvent(message: string): SNSEvent {
    return { Records: [{ EventSource: "aws:sns", Sns: { MessageId: `sns-${++messageIds}`, Message: message, Subject: null } }] } as unknown as SNSEvent;
}

/**
 * An asynchronous invocation: a throw is retried, twice, as Lambda retries an SNS-triggered
 * function; here at once rather than after Lambda's minute or two, which is harder on the rate
 * limits. `dlq` is true when all three attempts failed (the event would be in the dead-letter queue).
 */
async function invoke(handler: ReturnType<typeof createHandler>, event: SNSEvent): Promise<{ attempts: number; dlq: boolean; error?: unknown }> {
    let error: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
        try {
            await handler(event, lambdaContext(FUNCTION_NAME, 60_000));
            return { attempts: attempt, dlq: false };
        } catch (e) {
            error = e;
        }
    }
    return { attempts: 3, dlq: true, error };
}

function alarm(name: string, state: "ALARM" | "OK", reason: string): string {
    return JSON.stringify({
        AlarmName: name,
        AlarmDescription: null,
        AWSAccountId: "123456789012",
        NewStateValue: state,
        OldStateValue: state === "OK" ? "ALARM" : "OK",
        NewStateReason: reason,
        StateChangeTime: "2026-12-05T10:00:00.000+0000",
        Region: "Asia Pacific (Tokyo)",
        AlarmArn: `arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:${name}`,
        Trigger: { MetricName: "CPUUtilization", Namespace: "AWS/EC2", Statistic: "AVERAGE", Period: 300, EvaluationPeriods: 1, ComparisonOperator: "GreaterThanThreshold", Threshold: 80 },
    });
}

/**
 * Runs the invocations with at most `limit` in flight, as Lambda does when the function's
 * concurrency is capped: an event waits in Lambda's queue until a slot is free, and its deadline
 * starts when it runs. (Uncapped, 500 in-process invocations share one dynalite and the SDK's 50
 * sockets, so their deadlines would measure this machine, not the code.)
 */
async function withConcurrency<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
    const results: T[] = new Array(tasks.length);
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < tasks.length) {
            const i = next++;
            results[i] = await tasks[i]();
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
    return results;
}

const headerOf = (m: SlackStoredMessage): string => JSON.stringify((m.blocks as { type: string; text?: { text: string } }[] | undefined)?.find((b) => b.type === "header")?.text?.text ?? "");
const colourOf = (m: SlackStoredMessage): unknown => (m.attachments as { color?: string }[] | undefined)?.[0]?.color;
const rootsWith = (channel: string, title: string) => slack.messages(channel).filter((m) => headerOf(m).includes(title));
const itemOf = (message: string) => createAlertThreads(dynamo.documentClient, dynamo.table, 3600).get(threadKey(alertIdentity(parseSnsMessage(message))!));

describe("slack-notifier app mode against the Slack Web API stand-in", () => {
    it("(a) a storm of 500 events for 20 alarms ends as 20 messages, each with its final state and count", async () => {
        const handler = appHandler(CHANNELS.storm);
        const names = Array.from({ length: 20 }, (_, i) => `storm-${String(i).padStart(2, "0")}`);
        // Wave 1: 480 events, 24 per alarm, all at once; wave 2: each alarm's last word, all at once.
        // Interleaved, as a storm arrives: every alarm's first event is in the first 50 in flight.
        const first = Array.from({ length: 24 }, (_, k) => names.map((name) => alarm(name, "ALARM", `CPU ${80 + k}% (event ${k + 1})`))).flat();
        const results = await withConcurrency(50, first.map((m) => () => invoke(handler, snsEvent(m))));
        const finals = names.map((name, i) => (i % 2 === 0 ? alarm(name, "OK", "CPU 12%: recovered") : alarm(name, "ALARM", "CPU 99%: final word")));
        results.push(...(await withConcurrency(50, finals.map((m) => () => invoke(handler, snsEvent(m))))));

        expect(results).toHaveLength(500);
        expect(results.filter((r) => r.dlq)).toEqual([]);
        const roots = slack.messages(CHANNELS.storm);
        expect(roots).toHaveLength(20);
        for (const [i, name] of names.entries()) {
            const [root] = rootsWith(CHANNELS.storm, name);
            expect(rootsWith(CHANNELS.storm, name)).toHaveLength(1);
            const shown = JSON.stringify(root.blocks);
            // 25 events; an event Lambda had to retry may be counted again (only an immediate repeat of
            // the same SNS message is recognised), so the count is exact when nothing was retried.
            const retried = results.filter((r, k) => (k < first.length ? first[k] : finals[k - first.length]).includes(`"${name}"`)).reduce((n, r) => n + r.attempts - 1, 0);
            const count = Number(/×(\d+), last at/.exec(shown)?.[1]);
            expect(count).toBeGreaterThanOrEqual(25);
            expect(count).toBeLessThanOrEqual(25 + retried);
            if (i % 2 === 0) {
                expect(headerOf(root)).toContain("[OK]");
                expect(colourOf(root)).toBe("#2eb886");
                expect(slack.replies(CHANNELS.storm, root.ts).map((r) => r.text)).toEqual([expect.stringMatching(/^:large_green_circle: Recovered: storm-\d\d — CPU 12%: recovered$/)]);
            } else {
                expect(headerOf(root)).toContain("[ALARM]");
                expect(shown).toContain("CPU 99%: final word");
                expect(slack.replies(CHANNELS.storm, root.ts)).toEqual([]);
            }
            const item = await itemOf(finals[i]);
            expect(item).toMatchObject({ version: count, rendered: count, count, ts: root.ts, lease: undefined });
        }
        // Slack pushed back (the posts alone are 20 at one per second) and every push-back was waited out.
        expect(slack.orphans).toEqual([]);
        const refusals = new Set(slack.refusals.map((r) => r.error));
        expect([...refusals]).toEqual(["ratelimited"]);
        expect(slack.calls.filter((c) => c.status === 429).length).toBeGreaterThanOrEqual(10);
        const posts = slack.calls.filter((c) => c.method === "chat.postMessage" && c.status === 200);
        expect(posts).toHaveLength(30);
        // Coalesced: far fewer edits than events.
        expect(slack.calls.filter((c) => c.method === "chat.update" && c.status === 200).length).toBeLessThan(200);
        // The token never reached a log line.
        expect(JSON.stringify(lines)).not.toContain(TOKEN);
    }, 180_000);

    it("(b) a recovery edits the same message (green) and replies in its thread", async () => {
        const handler = appHandler(CHANNELS.alerts);
        const problem = alarm("db-1 CPU", "ALARM", "CPU 97% > 80%");
        expect((await invoke(handler, snsEvent(problem))).attempts).toBe(1);
        const [root] = rootsWith(CHANNELS.alerts, "db-1 CPU");
        expect(headerOf(root)).toContain(":red_circle: [ALARM] db-1 CPU");
        expect(colourOf(root)).toBe("#d40e0d");

        await invoke(handler, snsEvent(alarm("db-1 CPU", "OK", "CPU 20% < 80%")));
        const after = rootsWith(CHANNELS.alerts, "db-1 CPU");
        expect(after).toHaveLength(1);
        expect(after[0].ts).toBe(root.ts);
        expect(after[0].updates).toBe(1);
        expect(headerOf(after[0])).toContain(":large_green_circle: [OK] db-1 CPU");
        expect(colourOf(after[0])).toBe("#2eb886");
        expect(slack.replies(CHANNELS.alerts, root.ts).map((r) => r.text)).toEqual([":large_green_circle: Recovered: db-1 CPU — CPU 20% &lt; 80%"]);
    });

    it("(c) a thread note replies in the thread of the alert with its key, and stands alone when there is none", async () => {
        const handler = appHandler(CHANNELS.alerts);
        const summary = JSON.stringify({ title: "[CRITICAL] disk full on db-2", state: "ALARM", reason: "/var 98%", severity: "critical", alertKey: "disk:db-2", messageId: "m1", environment: "dev" });
        await invoke(handler, snsEvent(summary));
        const [root] = rootsWith(CHANNELS.alerts, "disk full on db-2");
        const note = threadNote("disk:db-2", "tokyo-ops: red flash → quiet, acknowledged by ayumi@example.com");
        expect((await invoke(handler, snsEvent(JSON.stringify(note)))).dlq).toBe(false);
        expect(slack.replies(CHANNELS.alerts, root.ts).map((r) => r.text)).toEqual(["tokyo-ops: red flash → quiet, acknowledged by ayumi@example.com"]);
        expect(rootsWith(CHANNELS.alerts, "disk full on db-2")[0].updates).toBe(0);

        const before = slack.messages(CHANNELS.alerts).length;
        await invoke(handler, snsEvent(JSON.stringify(threadNote("never-alerted", "tokyo-ops: quiet"))));
        const roots = slack.messages(CHANNELS.alerts);
        expect(roots).toHaveLength(before + 1);
        expect(roots[roots.length - 1].text).toBe(":speech_balloon: tokyo-ops: quiet");
        expect(noteIdentity(note)).toBe(alertIdentity(parseSnsMessage(summary)));
    });

    it("(c2) a note whose alert's first message is still to come waits for it and replies in its thread, or goes back to Lambda", async () => {
        const handler = appHandler(CHANNELS.alerts);
        const summary = JSON.stringify({ title: "[CRITICAL] disk full on db-7", state: "ALARM", reason: "/var 97%", severity: "critical", alertKey: "disk:db-7", messageId: "m7", environment: "dev" });
        const threads = createAlertThreads(dynamo.documentClient, dynamo.table, 3600);
        const key = threadKey(alertIdentity(parseSnsMessage(summary))!);
        // The alert's event is recorded but its post waits its turn (Slack's rate), as in a storm.
        await threads.record(key, parseSnsMessage(summary), clock(), "sns-pending");
        const rootsBefore = slack.messages(CHANNELS.alerts).length;

        // No time to wait: the note is thrown back (Lambda retries it), and nothing is posted.
        await expect(handler(snsEvent(JSON.stringify(threadNote("disk:db-7", "tokyo-ops: now red")))!, lambdaContext(FUNCTION_NAME, 1000))).rejects.toThrow(/no Slack message yet/);
        expect(slack.messages(CHANNELS.alerts)).toHaveLength(rootsBefore);

        // Time to wait: the note waits while the alert's message is posted, then replies in its thread.
        const noted = invoke(handler, snsEvent(JSON.stringify(threadNote("disk:db-7", "tokyo-ops: now red:flash1 (critical)"))));
        await sleep(2000);
        expect((await invoke(handler, snsEvent(summary))).dlq).toBe(false);
        expect((await noted).dlq).toBe(false);
        const roots = slack.messages(CHANNELS.alerts).slice(rootsBefore);
        expect(roots.map((m) => m.text.startsWith(":speech_balloon:"))).toEqual([false]);
        expect(slack.replies(CHANNELS.alerts, roots[0].ts).map((r) => r.text)).toEqual(["tokyo-ops: now red:flash1 (critical)"]);
    });

    it("(b2) an alert first posted after it recovered (its problem waited its turn) is green, and its thread says it recovered", async () => {
        const handler = appHandler(CHANNELS.alerts);
        const problem = alarm("queue-depth-late", "ALARM", "Threshold Crossed: 9 datapoints were greater than the threshold (80.0).");
        const threads = createAlertThreads(dynamo.documentClient, dynamo.table, 3600);
        // The problem's event is recorded, its post still waiting on Slack's rate when the recovery comes.
        await threads.record(threadKey(alertIdentity(parseSnsMessage(problem))!), parseSnsMessage(problem), clock(), "sns-late-problem");
        expect((await invoke(handler, snsEvent(alarm("queue-depth-late", "OK", "Threshold Crossed: 1 datapoint was not greater than the threshold (80.0).")))).dlq).toBe(false);
        const [root] = rootsWith(CHANNELS.alerts, "queue-depth-late");
        expect(colourOf(root)).toBe("#2eb886");
        expect(slack.replies(CHANNELS.alerts, root.ts).map((r) => r.text)).toEqual([expect.stringMatching(/^:large_green_circle: Recovered: /)]);
        // An alert that was only ever OK says nothing in its thread.
        await invoke(handler, snsEvent(alarm("queue-depth-calm", "OK", "Threshold Crossed: 1 datapoint was not greater than the threshold (80.0).")));
        const [calm] = rootsWith(CHANNELS.alerts, "queue-depth-calm");
        expect(slack.replies(CHANNELS.alerts, calm.ts)).toEqual([]);
    });

    it("(d) an alert whose message is older than the maximum age starts a new message, counting from one", async () => {
        const handler = appHandler(CHANNELS.ageing, { SLACK_THREAD_MAX_AGE_SECONDS: "3600" });
        await invoke(handler, snsEvent(alarm("web-3 CPU", "ALARM", "first")));
        await invoke(handler, snsEvent(alarm("web-3 CPU", "ALARM", "second")));
        expect(JSON.stringify(rootsWith(CHANNELS.ageing, "web-3 CPU")[0].blocks)).toContain("×2");
        offsetMs += 3_601_000;
        await invoke(handler, snsEvent(alarm("web-3 CPU", "ALARM", "next day")));
        const roots = rootsWith(CHANNELS.ageing, "web-3 CPU");
        expect(roots).toHaveLength(2);
        expect(JSON.stringify(roots[0].blocks)).toContain("second");
        expect(JSON.stringify(roots[1].blocks)).toContain("next day");
        expect(JSON.stringify(roots[1].blocks)).not.toContain("×");
        expect(await itemOf(alarm("web-3 CPU", "ALARM", ""))).toMatchObject({ ts: roots[1].ts, count: 3, baseCount: 2 });
    });

    it("(e) a message someone deleted is posted again and its new ts kept", async () => {
        const handler = appHandler(CHANNELS.alerts);
        const message = alarm("cache-1 memory", "ALARM", "memory 95%");
        await invoke(handler, snsEvent(message));
        const [first] = rootsWith(CHANNELS.alerts, "cache-1 memory");
        // Slack no longer knows the stored ts (what a deleted message looks like to chat.update).
        await dynamo.documentClient.send(new UpdateCommand({ TableName: dynamo.table, Key: { pk: threadKey(alertIdentity(parseSnsMessage(message))!) }, UpdateExpression: "SET ts = :gone", ExpressionAttributeValues: { ":gone": "1000000000.000001" } }));
        const refusedBefore = slack.refusals.length;
        expect((await invoke(handler, snsEvent(alarm("cache-1 memory", "ALARM", "memory 97%")))).attempts).toBe(1);
        expect(slack.refusals.slice(refusedBefore).filter((r) => r.error !== "ratelimited")).toEqual([{ method: "chat.update", error: "message_not_found" }]);
        const roots = rootsWith(CHANNELS.alerts, "cache-1 memory");
        expect(roots).toHaveLength(2);
        expect(roots[1].ts).not.toBe(first.ts);
        expect(JSON.stringify(roots[1].blocks)).toContain("memory 97%");
        expect(JSON.stringify(roots[1].blocks)).toContain("×2");
        expect(await itemOf(message)).toMatchObject({ ts: roots[1].ts, rendered: 2 });
    });

    it("(f) a channel the bot is not in fails the event with the fix in the log, and lets go of the alert", async () => {
        lines = [];
        const handler = appHandler(CHANNELS.notMember);
        const message = alarm("quiet-1 disk", "ALARM", "disk 91%");
        const result = await invoke(handler, snsEvent(message));
        expect(result.dlq).toBe(true);
        expect(String(result.error)).toMatch(/not_in_channel.*invite the bot/);
        const errors = lines.filter((l) => l.level === "error").map((l) => l.message);
        expect(errors).toHaveLength(3);
        expect(errors[0]).toMatch(/^Slack refused the alert: not_in_channel; invite the bot to the channel \(\/invite @<app name>/);
        expect(slack.messages(CHANNELS.notMember)).toEqual([]);
        // Nothing is held: once the bot is invited, the next event (or the retry) shows the alert.
        expect(await itemOf(message)).toMatchObject({ lease: undefined, rendered: 0 });
    });

    it("(h) Slack out of reach fails the event at once (no retries inside), naming the failure, and holds nothing", async () => {
        lines = [];
        const handler = appHandler(CHANNELS.alerts, { SLACK_API_URL: "http://127.0.0.1:1/api/" });
        const message = alarm("net-1 link", "ALARM", "link down");
        const started = Date.now();
        const result = await invoke(handler, snsEvent(message));
        expect(Date.now() - started).toBeLessThan(5000);
        expect(result.dlq).toBe(true);
        expect(lines.filter((l) => l.level === "error").map((l) => l.message)).toEqual(Array(3).fill(expect.stringMatching(/^Slack refused the alert: request failed: .*Lambda retries the event/)));
        expect(await itemOf(message)).toMatchObject({ lease: undefined, rendered: 0 });
    });

    it("(g) blocks Slack refuses are sent again as plain text, and the alert is shown", async () => {
        // alertline's own blocks are always within Slack's limits, so a wrapper breaks them on the way
        // (an unknown block type, which the stand-in refuses with invalid_blocks as Slack does).
        const web = createSlackWebClient(TOKEN, slack.url);
        const sabotaged: SlackChat = {
            chat: {
                postMessage: (args) => web.chat.postMessage("blocks" in args && args.blocks !== undefined ? ({ ...args, blocks: [...args.blocks, { type: "no_such_block" }] } as typeof args) : args),
                update: (args) => web.chat.update(args),
            },
        };
        const deliver = createSlackAppDelivery({
            config: { channelId: CHANNELS.alerts, maxAgeSeconds: 86_400, table: dynamo.table, apiUrl: slack.url },
            client: async () => sabotaged,
            threads: createAlertThreads(dynamo.documentClient, dynamo.table, 90_000),
            logger,
            environment: "dev",
            parse: (record) => parseSnsMessage(record.Sns.Message),
            now: clock,
            sleep,
        });
        const handler = createHandler({ webhookUrl: () => Promise.reject(new Error("unused")), logger, now: clock, sleep, app: () => deliver });
        const refusedBefore = slack.refusals.length;
        expect((await invoke(handler, snsEvent(alarm("odd-1 queue", "ALARM", "queue depth 5000")))).attempts).toBe(1);
        expect(slack.refusals.slice(refusedBefore).filter((r) => r.error !== "ratelimited")).toEqual([{ method: "chat.postMessage", error: "invalid_blocks" }]);
        const roots = slack.messages(CHANNELS.alerts).filter((m) => m.text.includes("odd-1 queue"));
        expect(roots).toHaveLength(1);
        expect(roots[0].blocks ?? []).toEqual([]);
        expect(roots[0].text).toBe(":red_circle: [ALARM] odd-1 queue: queue depth 5000");
        expect(await itemOf(alarm("odd-1 queue", "ALARM", ""))).toMatchObject({ ts: roots[0].ts, rendered: 1 });
    });
});
