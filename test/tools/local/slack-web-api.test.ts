import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, LogLevel, WebClient, type WebAPIPlatformError, type WebAPIRateLimitedError } from "@slack/web-api";
import { afterEach, describe, expect, it } from "vitest";
import { formatTs, parseTs, startSlackWebApi, TS_FORMAT, type SlackWebApi, type SlackWebApiOptions } from "../../../tools/local/slack-web-api";

/**
 * The Slack Web API stand-in answers like Slack's Web API for the methods alertline uses: the
 * reference's own examples pass (fixtures: test/fixtures/contracts/slack-web-api, sources in
 * test/fixtures/contracts/README.md), driven through the real WebClient of @slack/web-api; every
 * request Slack refuses is refused with Slack's error string (raw fetch, for what the SDK would
 * never send); ts values, threads, edits and the documented rate limits behave as documented.
 */

const CONTRACTS = join(__dirname, "../../fixtures/contracts/slack-web-api");
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(CONTRACTS, name), "utf8")) as T;
interface MethodDoc {
    readonly httpMethod: string;
    readonly jsonBody: boolean;
    readonly required: string[];
    readonly errors: Record<string, string>;
    readonly examples: Record<string, Record<string, any>>;
}
const methods = fixture<{ methods: Record<string, MethodDoc> }>("methods.json").methods;
interface Refused {
    readonly what: string;
    readonly method: string;
    readonly auth: "bearer" | "none" | "wrong" | "query" | "basic";
    readonly form?: Record<string, unknown>;
    readonly json?: Record<string, unknown>;
    readonly raw?: { contentType: string | null; body: string };
    readonly error: string;
}
const refused = fixture<{ refused: Refused[] }>("refusals.json").refused;
const behaviour = fixture<Record<string, any>>("behaviour.json");

const TOKEN = "xoxb-1111111111-2222222222222-ContractTestToken0001";
const CHANNEL = "C0ALERTS01";
const NOT_MEMBER = "C0ELSEWHR1";
const T0 = 1_700_000_000_000;

let api: SlackWebApi | undefined;
afterEach(async () => {
    await api?.close();
    api = undefined;
});

async function start(extra: Partial<SlackWebApiOptions> = {}): Promise<SlackWebApi> {
    api = await startSlackWebApi({
        token: TOKEN,
        channels: [
            { id: CHANNEL, name: "alerts" },
            { id: "C0ALERTS02", name: "alerts-2" },
            { id: NOT_MEMBER, name: "elsewhere", member: false },
        ],
        ...extra,
    });
    return api;
}

const client = (stand: SlackWebApi, token = TOKEN) =>
    new WebClient(token, { slackApiUrl: stand.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: LogLevel.ERROR });

/** A clock the test moves by hand. */
function manualClock(start = T0) {
    let now = start;
    return { now: () => now, advance: (ms: number) => void (now += ms), set: (ms: number) => void (now = ms) };
}

function substitute(value: unknown, posted: string): unknown {
    if (typeof value === "string") return value.replace(/\$TOKEN/g, TOKEN).replace(/\$CHANNEL/g, CHANNEL).replace(/\$NOT_MEMBER/g, NOT_MEMBER).replace(/\$POSTED/g, posted);
    if (Array.isArray(value)) return value.map((v) => substitute(v, posted));
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, posted)]));
    return value;
}

/** Sends one fixture request the way its `auth` and body kind say. */
async function send(stand: SlackWebApi, request: Refused, posted: string): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {};
    if (request.auth === "bearer") headers.authorization = `Bearer ${TOKEN}`;
    if (request.auth === "wrong") headers.authorization = "Bearer xoxb-0000000000-0000000000000-NotTheTokenAtAll";
    if (request.auth === "basic") headers.authorization = `Basic ${Buffer.from(`bot:${TOKEN}`).toString("base64")}`;
    let body: string | undefined;
    if (request.form !== undefined) {
        const form = substitute(request.form, posted) as Record<string, unknown>;
        body = new URLSearchParams(Object.entries(form).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)])).toString();
        headers["content-type"] = "application/x-www-form-urlencoded";
    } else if (request.json !== undefined) {
        body = JSON.stringify(substitute(request.json, posted));
        headers["content-type"] = "application/json; charset=utf-8";
    } else if (request.raw !== undefined) {
        body = substitute(request.raw.body, posted) as string;
        // fetch labels a string body text/plain itself; bytes go out with exactly the headers given.
        if (request.raw.contentType !== null) headers["content-type"] = request.raw.contentType;
    }
    const query = request.auth === "query" ? `?token=${encodeURIComponent(TOKEN)}` : "";
    const bytes = body === undefined || body === "" ? undefined : new TextEncoder().encode(body);
    const response = await fetch(`${stand.url}${request.method}${query}`, { method: "POST", headers, body: bytes });
    return { status: response.status, body: await response.json() };
}

async function platformError(call: Promise<unknown>): Promise<WebAPIPlatformError> {
    const error = (await call.then(
        () => undefined,
        (e: unknown) => e,
    )) as WebAPIPlatformError | undefined;
    if (error === undefined) throw new Error("the call succeeded; Slack would refuse it");
    expect(error.code).toBe(ErrorCode.PlatformError);
    return error;
}

describe("the Slack Web API stand-in accepts what Slack's reference documents", () => {
    it("answers auth.test for a bot token with the fields of the reference's bot example", async () => {
        const stand = await start();
        const answer = await client(stand).auth.test();
        const documented = methods["auth.test"].examples.success_with_bot_token;
        expect(Object.keys(answer).filter((k) => k !== "response_metadata").sort()).toEqual(Object.keys(documented).sort());
        expect(answer).toMatchObject({ ok: true, bot_id: expect.stringMatching(/^B/), user_id: expect.any(String), team_id: expect.stringMatching(/^T/) });
    });

    it("posts the reference's blocks example through WebClient and answers with the documented fields and a ts in Slack's format", async () => {
        const stand = await start();
        const blocks = [{ type: "section", text: { type: "plain_text", text: "Hello world" } }];
        const answer = await client(stand).chat.postMessage({ channel: CHANNEL, text: "Hello world", blocks });
        const documented = methods["chat.postMessage"].examples.success;
        expect(Object.keys(answer)).toEqual(expect.arrayContaining(Object.keys(documented)));
        expect(answer.message).toMatchObject({ type: documented.message.type, subtype: documented.message.subtype, text: "Hello world", ts: answer.ts, bot_id: expect.any(String) });
        expect(answer.ts).toMatch(TS_FORMAT);
        expect(documented.ts).toMatch(TS_FORMAT);
        expect(stand.messages(CHANNEL)).toEqual([{ ts: answer.ts, text: "Hello world", blocks, updates: 0 }]);
    });

    it("takes a channel name for chat.postMessage and answers with the channel's ID", async () => {
        const stand = await start();
        const answer = await client(stand).chat.postMessage({ channel: "#alerts", text: "by name" });
        expect(answer.channel).toBe(CHANNEL);
        expect(stand.messages("alerts")).toHaveLength(1);
    });

    it("updates a message through WebClient and answers with the fields of the reference's example", async () => {
        const stand = await start();
        const web = client(stand);
        const posted = await web.chat.postMessage({ channel: CHANNEL, text: "before" });
        const answer = await web.chat.update({ channel: CHANNEL, ts: posted.ts as string, text: "Updated text you carefully authored" });
        const documented = methods["chat.update"].examples.success;
        expect(Object.keys(answer)).toEqual(expect.arrayContaining(Object.keys(documented)));
        expect(answer).toMatchObject({ ok: true, channel: CHANNEL, ts: posted.ts, text: "Updated text you carefully authored" });
    });

    it("reads back history and a thread with the fields of the reference's examples", async () => {
        const stand = await start();
        const web = client(stand);
        const root = await web.chat.postMessage({ channel: CHANNEL, text: "island" });
        await web.chat.postMessage({ channel: CHANNEL, text: "one island", thread_ts: root.ts });
        await web.chat.postMessage({ channel: CHANNEL, text: "later root" });
        const history = await web.conversations.history({ channel: CHANNEL });
        const documentedHistory = methods["conversations.history"].examples.success;
        expect(Object.keys(history)).toEqual(expect.arrayContaining(Object.keys(documentedHistory)));
        expect(history.messages?.map((m) => m.text)).toEqual(["later root", "island"]);
        for (const m of history.messages ?? []) expect(Object.keys(m)).toEqual(expect.arrayContaining(Object.keys(documentedHistory.messages[0])));

        const thread = await web.conversations.replies({ channel: CHANNEL, ts: root.ts as string });
        const documentedThread = methods["conversations.replies"].examples.success;
        expect(Object.keys(thread)).toEqual(expect.arrayContaining(Object.keys(documentedThread)));
        const [parent, reply] = thread.messages ?? [];
        expect(parent).toMatchObject({ text: "island", ts: root.ts, thread_ts: root.ts, reply_count: 1 });
        expect(reply).toMatchObject({ text: "one island", thread_ts: root.ts, parent_user_id: expect.any(String) });
        for (const key of ["type", "user", "text", "thread_ts", "reply_count", "ts"]) expect(parent).toHaveProperty(key);
        for (const key of Object.keys(documentedThread.messages[1])) expect(reply).toHaveProperty(key);
    });

    it("takes GET with query arguments and a Bearer header, the reference's HTTP method for conversations.*", async () => {
        const stand = await start();
        await client(stand).chat.postMessage({ channel: CHANNEL, text: "read me" });
        expect(methods["conversations.history"].httpMethod).toBe("GET");
        const response = await fetch(`${stand.url}conversations.history?channel=${CHANNEL}&limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const body = (await response.json()) as { ok: boolean; messages: { text: string }[] };
        expect([response.status, body.ok, body.messages.map((m: { text: string }) => m.text)]).toEqual([200, true, ["read me"]]);
    });

    it("takes GET for chat.postMessage too (the Web API takes arguments as GET query parameters) but no HTTP method other than GET and POST", async () => {
        const stand = await start();
        const get = await fetch(`${stand.url}chat.postMessage?channel=${CHANNEL}&text=${encodeURIComponent("by GET")}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(await get.json()).toMatchObject({ ok: true, channel: CHANNEL });
        const put = await fetch(`${stand.url}chat.postMessage?channel=${CHANNEL}&text=put`, { method: "PUT", headers: { authorization: `Bearer ${TOKEN}` } });
        expect([put.status, ((await put.json()) as { ok: boolean }).ok]).toEqual([405, false]);
        expect(stand.messages(CHANNEL).map((m) => m.text)).toEqual(["by GET"]);
    });

    it("takes the token as a form POST parameter ('alternatively, as a POST parameter') and a JSON body with a Bearer header", async () => {
        const stand = await start();
        const form = await fetch(`${stand.url}chat.postMessage`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ token: TOKEN, channel: CHANNEL, text: "form" }).toString(),
        });
        expect(await form.json()).toMatchObject({ ok: true, channel: CHANNEL });
        expect(methods["chat.postMessage"].jsonBody).toBe(true);
        const json = await fetch(`${stand.url}chat.postMessage`, {
            method: "POST",
            headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${TOKEN}` },
            body: JSON.stringify({ channel: CHANNEL, text: "json", blocks: [{ type: "divider" }] }),
        });
        expect(await json.json()).toMatchObject({ ok: true, channel: CHANNEL });
        expect(stand.messages(CHANNEL).map((m) => m.text)).toEqual(["form", "json"]);
    });

    it("reads a JSON body's keys as arguments only: a \"__proto__\" key supplies no channel or text", async () => {
        const stand = await start();
        const answer = await fetch(`${stand.url}chat.postMessage`, {
            method: "POST",
            headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${TOKEN}` },
            body: `{"__proto__": {"channel": "${CHANNEL}", "text": "smuggled"}}`,
        });
        expect(((await answer.json()) as { ok: boolean }).ok).toBe(false);
        expect(stand.messages(CHANNEL)).toEqual([]);
    });

    it("posts text over 40,000 characters truncated, with the changelog's message_truncated warning", async () => {
        const stand = await start();
        const documented = behaviour.truncation;
        const answer = await client(stand).chat.postMessage({ channel: CHANNEL, text: "y".repeat(documented.limit + 5) });
        expect(answer.warning).toBe(documented.warning);
        expect(answer.response_metadata?.warnings).toEqual([documented.warning]);
        expect(answer.response_metadata?.messages).toEqual([documented.message]);
        expect(stand.messages(CHANNEL)[0].text).toHaveLength(documented.limit);
        expect(stand.calls.at(-1)).toEqual({ method: "chat.postMessage", status: 200, warning: "message_truncated" });
    });
});

describe("the Slack Web API stand-in refuses what Slack refuses", () => {
    it.each(refused.map((r) => [r.what, r] as const))("refuses %s", async (_what, request) => {
        const stand = await start();
        const posted = (await client(stand).chat.postMessage({ channel: CHANNEL, text: "posted first" })).ts as string;
        const answer = await send(stand, request, posted);
        expect(answer).toMatchObject({ status: 200, body: { ok: false, error: request.error } });
        expect(stand.refusals).toEqual([{ method: request.method, error: request.error }]);
        expect(stand.messages(CHANNEL).map((m) => ({ text: m.text, updates: m.updates }))).toEqual([{ text: "posted first", updates: 0 }]);
    });

    it("names in the fixture only errors the reference documents for that method, or marks them unconfirmed", () => {
        for (const request of refused) {
            const documented = Object.values(methods).some((m) => request.error in m.errors);
            const source = (request as unknown as { source: string }).source;
            expect(documented || /unconfirmed|saw|shows|measured/.test(source), `${request.what}: ${request.error}`).toBe(true);
        }
    });

    it("surfaces the refusals alertline must decide on through WebClient as platform errors", async () => {
        const stand = await start();
        const web = client(stand);
        expect((await platformError(client(stand, "xoxb-wrong").chat.postMessage({ channel: CHANNEL, text: "t" }))).data.error).toBe("invalid_auth");
        expect((await platformError(web.chat.postMessage({ channel: "C0NOSUCH0", text: "t" }))).data.error).toBe("channel_not_found");
        expect((await platformError(web.chat.postMessage({ channel: NOT_MEMBER, text: "t" }))).data.error).toBe("not_in_channel");
        const tooLong = await platformError(web.chat.postMessage({ channel: CHANNEL, text: "t", blocks: [{ type: "section", text: { type: "mrkdwn", text: "x".repeat(3001) } }] }));
        expect(tooLong.data.error).toBe("invalid_blocks");
        expect(tooLong.data.response_metadata?.messages?.[0]).toMatch(/^\[ERROR\] blocks\[0\] section: text has 3001 characters/);
        const posted = await web.chat.postMessage({ channel: CHANNEL, text: "t" });
        expect((await platformError(web.chat.update({ channel: CHANNEL, ts: posted.ts as string, text: "u".repeat(4001) }))).data.error).toBe("msg_too_long");
        expect(stand.refusals.map((r) => r.error)).toEqual(["invalid_auth", "channel_not_found", "not_in_channel", "invalid_blocks", "msg_too_long"]);
    });

    it("answers an unknown method with unknown_method and the method it was asked for", async () => {
        const stand = await start();
        const response = await fetch(`${stand.url}chat.postMesage`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
        expect(await response.json()).toEqual({ ok: false, error: "unknown_method", req_method: "chat.postMesage" });
    });
});

describe("ts values, threads and edits", () => {
    it("gives each message a ts in Slack's format, unique and increasing per channel even when the clock stands still or goes back", async () => {
        const clock = manualClock();
        const stand = await start({ clock: clock.now, postBurst: 10 });
        const web = client(stand);
        const ts: string[] = [];
        for (let i = 0; i < 3; i++) ts.push((await web.chat.postMessage({ channel: CHANNEL, text: `m${i}` })).ts as string);
        clock.advance(-5_000);
        ts.push((await web.chat.postMessage({ channel: CHANNEL, text: "m3" })).ts as string);
        expect(ts).toEqual(["1700000000.000000", "1700000000.000001", "1700000000.000002", "1700000000.000003"]);
        expect(new Set(ts).size).toBe(ts.length);
        clock.advance(65_000);
        const later = (await web.chat.postMessage({ channel: CHANNEL, text: "later" })).ts as string;
        expect(later).toBe("1700000060.000000");
        expect(stand.messages(CHANNEL).map((m) => m.ts)).toEqual([...ts, later]);
    });

    it("formats and parses ts values as the reference writes them", () => {
        expect(formatTs(1_503_435_956_000_247)).toBe("1503435956.000247");
        expect(parseTs("1503435956.000247")).toBe(1_503_435_956_000_247);
        expect(parseTs("1503435956.247")).toBeUndefined();
        expect(() => formatTs(-1)).toThrow(/non-negative/);
    });

    it("keeps a reply's thread_ts on its root, also for a reply to a reply, and lists only roots as messages", async () => {
        const stand = await start({ postBurst: 10 });
        const web = client(stand);
        const root = (await web.chat.postMessage({ channel: CHANNEL, text: "root" })).ts as string;
        const first = await web.chat.postMessage({ channel: CHANNEL, text: "first reply", thread_ts: root });
        const second = await web.chat.postMessage({ channel: CHANNEL, text: "reply to a reply", thread_ts: first.ts as string });
        expect([first.message?.thread_ts, second.message?.thread_ts]).toEqual([root, root]);
        expect(stand.messages(CHANNEL).map((m) => m.text)).toEqual(["root"]);
        expect(stand.replies(CHANNEL, root)).toEqual([
            { ts: first.ts, threadTs: root, text: "first reply", updates: 0 },
            { ts: second.ts, threadTs: root, text: "reply to a reply", updates: 0 },
        ]);
    });

    it("posts a reply whose thread_ts names no message, also a float-like one, shows it nowhere and records it as an orphan", async () => {
        const stand = await start();
        const web = client(stand);
        const answer = await web.chat.postMessage({ channel: CHANNEL, text: "lost", thread_ts: "1600000000.000001" });
        const float = await web.chat.postMessage({ channel: CHANNEL, text: "I won't thread!", thread_ts: "1602251441.0017" });
        expect([answer.ok, float.ok]).toEqual([true, true]);
        expect(stand.messages(CHANNEL)).toEqual([]);
        expect(stand.orphans).toEqual([
            { channel: CHANNEL, ts: answer.ts, threadTs: "1600000000.000001", text: "lost", updates: 0 },
            { channel: CHANNEL, ts: float.ts, threadTs: "1602251441.0017", text: "I won't thread!", updates: 0 },
        ]);
    });

    it("keeps the ts on chat.update, records the edit and counts it, and shows the edit in history", async () => {
        const clock = manualClock();
        const stand = await start({ clock: clock.now });
        const web = client(stand);
        const blocks = [{ type: "section", text: { type: "mrkdwn", text: ":red_circle: down" } }];
        const posted = (await web.chat.postMessage({ channel: CHANNEL, text: "down", blocks })).ts as string;
        clock.advance(2_500);
        await web.chat.update({ channel: CHANNEL, ts: posted, text: "down ×2" });
        clock.advance(1_000);
        const green = [{ type: "section", text: { type: "mrkdwn", text: ":large_green_circle: recovered" } }];
        await web.chat.update({ channel: CHANNEL, ts: posted, text: "recovered", blocks: green });
        expect(stand.messages(CHANNEL)).toEqual([{ ts: posted, text: "recovered", blocks: green, edited: { ts: "1700000003.500000" }, updates: 2 }]);
        const history = await web.conversations.history({ channel: CHANNEL });
        expect(history.messages?.[0]).toMatchObject({ ts: posted, text: "recovered", edited: { ts: "1700000003.500000" } });
    });

    it("keeps the blocks of a message when chat.update sends text only", async () => {
        const stand = await start();
        const web = client(stand);
        const blocks = [{ type: "divider" }];
        const posted = (await web.chat.postMessage({ channel: CHANNEL, text: "a", blocks })).ts as string;
        await web.chat.update({ channel: CHANNEL, ts: posted, text: "b" });
        expect(stand.messages(CHANNEL)[0]).toMatchObject({ text: "b", blocks });
    });

    it("pages history with the cursor it hands out", async () => {
        const stand = await start({ postBurst: 10 });
        const web = client(stand);
        for (const text of ["a", "b", "c"]) await web.chat.postMessage({ channel: CHANNEL, text });
        const first = await web.conversations.history({ channel: CHANNEL, limit: 2 });
        expect([first.messages?.map((m) => m.text), first.has_more]).toEqual([["c", "b"], true]);
        const second = await web.conversations.history({ channel: CHANNEL, limit: 2, cursor: first.response_metadata?.next_cursor });
        expect([second.messages?.map((m) => m.text), second.has_more, second.response_metadata?.next_cursor]).toEqual([["a"], false, ""]);
    });
});

describe("the documented rate limits", () => {
    it("answers chat.postMessage over the per-channel rate with 429, Retry-After and ratelimited, which WebClient reports, and takes posts again a second later", async () => {
        const clock = manualClock();
        const stand = await start({ clock: clock.now });
        const web = client(stand);
        const documented = behaviour.rateLimits;
        for (let i = 0; i < 3; i++) await web.chat.postMessage({ channel: CHANNEL, text: `burst ${i}` });
        const raw = await fetch(`${stand.url}chat.postMessage`, {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ channel: CHANNEL, text: "one too many" }).toString(),
        });
        expect([raw.status, raw.headers.get("retry-after"), await raw.json()]).toEqual([documented.status, "1", documented.body]);
        const limited = (await web.chat.postMessage({ channel: CHANNEL, text: "still too many" }).catch((e: unknown) => e)) as WebAPIRateLimitedError;
        expect([limited.code, limited.retryAfter]).toEqual([ErrorCode.RateLimitedError, 1]);
        expect((await web.chat.postMessage({ channel: "C0ALERTS02", text: "other channel" })).ok).toBe(true);
        clock.advance(1_000);
        expect((await web.chat.postMessage({ channel: CHANNEL, text: "a second later" })).ok).toBe(true);
        expect(stand.messages(CHANNEL).map((m) => m.text)).toEqual(["burst 0", "burst 1", "burst 2", "a second later"]);
        expect(stand.refusals).toEqual([
            { method: "chat.postMessage", error: "ratelimited" },
            { method: "chat.postMessage", error: "ratelimited" },
        ]);
    });

    it("lets postsPerSecondPerChannel set the rate: at 2 per second a post passes half a second after the burst", async () => {
        const clock = manualClock();
        const stand = await start({ clock: clock.now, postsPerSecondPerChannel: 2, postBurst: 1 });
        const web = client(stand);
        await web.chat.postMessage({ channel: CHANNEL, text: "first" });
        clock.advance(499);
        expect(((await web.chat.postMessage({ channel: CHANNEL, text: "early" }).catch((e: unknown) => e)) as WebAPIRateLimitedError).code).toBe(ErrorCode.RateLimitedError);
        clock.advance(1);
        expect((await web.chat.postMessage({ channel: CHANNEL, text: "on time" })).ok).toBe(true);
    });

    it("does not count refused posts against the channel's rate", async () => {
        const clock = manualClock();
        const stand = await start({ clock: clock.now, postBurst: 1 });
        const web = client(stand);
        for (let i = 0; i < 3; i++) await platformError(web.apiCall("chat.postMessage", { channel: CHANNEL }));
        expect((await web.chat.postMessage({ channel: CHANNEL, text: "first real post" })).ok).toBe(true);
    });

    it("answers chat.update over Tier 3 (50 a minute) with 429 and the seconds until the next one", async () => {
        const clock = manualClock();
        const stand = await start({ clock: clock.now });
        const web = client(stand);
        const ts = (await web.chat.postMessage({ channel: CHANNEL, text: "count 0" })).ts as string;
        for (let i = 1; i <= behaviour.rateLimits.tier3PerMinute; i++) await web.chat.update({ channel: CHANNEL, ts, text: `count ${i}` });
        const limited = (await web.chat.update({ channel: CHANNEL, ts, text: "count 51" }).catch((e: unknown) => e)) as WebAPIRateLimitedError;
        expect([limited.code, limited.retryAfter]).toEqual([ErrorCode.RateLimitedError, 2]);
        clock.advance(1_000);
        expect(((await web.chat.update({ channel: CHANNEL, ts, text: "count 51" }).catch((e: unknown) => e)) as WebAPIRateLimitedError).code).toBe(ErrorCode.RateLimitedError);
        clock.advance(1_000);
        expect((await web.chat.update({ channel: CHANNEL, ts, text: "count 51" })).ok).toBe(true);
        expect(stand.messages(CHANNEL)[0]).toMatchObject({ text: "count 51", updates: 51 });
    });
});

describe("startSlackWebApi's options", () => {
    it("refuses a channel ID that is not one, naming the key and the fix", async () => {
        await expect(startSlackWebApi({ token: TOKEN, channels: [{ id: "alerts", name: "alerts" }] })).rejects.toThrow(/options\.channels\[0\]\.id "alerts" is not a Slack channel ID; use C…, G… or D…/);
    });

    it("refuses an empty token and a rate that is not positive", async () => {
        await expect(startSlackWebApi({ token: " ", channels: [] })).rejects.toThrow(/options\.token is empty/);
        await expect(startSlackWebApi({ token: TOKEN, channels: [], postsPerSecondPerChannel: 0 })).rejects.toThrow(/options\.postsPerSecondPerChannel is 0; give a positive number/);
    });
});
