import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { blockKitViolations } from "./slack";
import { close, listen, readBody } from "./http";

/**
 * Slack's Web API on this machine, for the methods alertline's app mode calls (`auth.test`,
 * `chat.postMessage`, `chat.update`) and the two a client reads back with
 * (`conversations.history`, `conversations.replies`). It answers like Slack, strictly; sources
 * (test/fixtures/contracts/README.md, "slack-web-api"):
 * - Slack's method reference (docs.slack.dev/reference/methods/<method>, as transcribed with its
 *   argument, error and example tables by slack-ruby/slack-api-ref @ f4837c0: `docs.slack.dev/methods/*.json`
 *   and `methods/<group>/*.json`, which adds the errors common to every method): arguments,
 *   required ones, error strings, tiers (chat.update and conversations.* Tier 3, chat.postMessage
 *   special);
 * - "Using the Slack Web API" (docs.slack.dev/apis/web-api): `https://slack.com/api/METHOD`, arguments
 *   as GET query parameters, a form-encoded POST body, or a mix; JSON bodies for write methods;
 *   HTTP 200 with `{ok:false,error}` for an error;
 * - "Keeping up with the JSONs" (docs.slack.dev/changelog/2017-10-keeping-up-with-the-jsons): a
 *   JSON body needs the token in `Authorization: Bearer`; a `token` inside JSON is not read
 *   (answered `not_authed`, as cake-contrib/Cake.Slack#25 saw);
 * - "No more tokens in querystrings for newly created apps" (docs.slack.dev/changelog/2020-11-…):
 *   apps created after 2021-02-24 may not send the token in the query string (refused
 *   `invalid_auth`, as HubSpot/slack-client#215 and palanik/slack-php#9 saw);
 * - "Rate limits" (docs.slack.dev/apis/web-api/rate-limits): chat.postMessage about one message
 *   per second per channel with short bursts allowed; Tier 3 50+ per minute per method per app per
 *   workspace; over a limit HTTP 429 with `Retry-After` in seconds (and `ratelimited`, the error
 *   the method tables describe as "Refer to the Retry-After header");
 * - "Truncating really long messages" (docs.slack.dev/changelog/2018-04-truncating-really-long-messages):
 *   chat.postMessage truncates `text` over 40,000 characters and says so with the
 *   `message_truncated` warning (Slack's current chat.postMessage error table no longer lists
 *   `msg_too_long`; chat.update's does: "The `text` field cannot exceed 4,000 characters");
 * - Block Kit limits: tools/local/slack.ts's blockKitViolations (@slack/types, facts.md);
 *   `invalid_blocks_format` ("not a valid JSON object or doesn't match the Block Kit syntax") for
 *   a `blocks` argument that is not a JSON array;
 * - how @slack/web-api 8.2.0's WebClient calls: `POST <slackApiUrl><method>`, form-encoded body
 *   with objects as JSON strings, `Authorization: Bearer <token>`; reads 429 + Retry-After.
 *
 * Unconfirmed (no source settles them; chosen so that the client sees a refusal, listed in the
 * README's "Not yet confirmed"): the HTTP status of `unknown_method` (200 here); `invalid_auth` for
 * a query-string token (one report saw `not_authed`); `invalid_arguments` for an absent required
 * argument on chat.* (measured for conversations.* in brekkylab/backlot#84); a `thread_ts` that
 * names no message (a float such as `1602251441.0017` too) is posted but shown nowhere
 * (python-slack-sdk#840), one that is not a positive number is `invalid_thread_ts`
 * (jenkinsci/slack-plugin#584), one naming a reply goes into that reply's
 * thread; the burst a channel allows (3 posts here) and whether replies and refused posts count;
 * `not_in_channel` for chat.update and conversations.replies in a channel the bot left; an unknown
 * block type `invalid_blocks`; blocks and attachments kept by a chat.update that omits them;
 * `invalid_json` / `json_not_object` for a broken JSON body (slacktee#75, slack-action#19);
 * methods other than these five answer `unknown_method` here although Slack has them.
 */

/** One message as the stand-in keeps it (the fields a test reads). */
export interface SlackStoredMessage {
    /** Slack's message ID: `<seconds>.<6 digits>`, unique and increasing per channel. */
    readonly ts: string;
    /** The root's ts, for a reply. */
    readonly threadTs?: string;
    readonly text: string;
    readonly blocks?: unknown[];
    readonly attachments?: unknown[];
    /** Set by chat.update: when the message was last edited. */
    readonly edited?: { readonly ts: string };
    /** How many times chat.update changed it. */
    readonly updates: number;
}

export interface SlackWebApiChannel {
    /** Channel ID (C…, G… or D…). */
    readonly id: string;
    /** Name without `#`; chat.postMessage also takes it. */
    readonly name: string;
    /** Whether the bot is a member. Default true; false answers `not_in_channel`. */
    readonly member?: boolean;
}

export interface SlackWebApiOptions {
    /** The bot token (xoxb-…) every call must carry. */
    readonly token: string;
    readonly channels: readonly SlackWebApiChannel[];
    /** chat.postMessage messages per second per channel. Default 1 (Slack's "Rate limits"). */
    readonly postsPerSecondPerChannel?: number;
    /** Posts a channel takes at once before the rate applies. Default 3 (unconfirmed: "short bursts >1 allowed"). */
    readonly postBurst?: number;
    /** Tier 3 calls (chat.update, conversations.*) per minute per method. Default 50. */
    readonly tier3PerMinute?: number;
    /** Milliseconds since the epoch; default Date.now. Drives ts values and the rate limits. */
    readonly clock?: () => number;
}

export interface SlackWebApiCall {
    readonly method: string;
    readonly status: number;
    /** Slack's error string when the answer was `ok: false`. */
    readonly error?: string;
    /** Slack's warning when the call succeeded with one (e.g. `message_truncated`). */
    readonly warning?: string;
}

export interface SlackWebApi {
    /** Base URL ending in `/api/`, for WebClient's `slackApiUrl`. */
    readonly url: string;
    /** Root messages of a channel (ID or name) in post order. */
    messages(channel: string): readonly SlackStoredMessage[];
    /** The replies (not the root) in the thread of `threadTs`, in post order. */
    replies(channel: string, threadTs: string): readonly SlackStoredMessage[];
    /** Every `ok: false` answer, in order. */
    readonly refusals: readonly { method: string; error: string }[];
    /** Every call, in order. */
    readonly calls: readonly SlackWebApiCall[];
    /** Posts whose `thread_ts` named no message: Slack answers ok and shows them nowhere. */
    readonly orphans: readonly (SlackStoredMessage & { channel: string })[];
    close(): Promise<void>;
}

/** The methods served. */
export const SLACK_WEB_API_METHODS = ["auth.test", "chat.postMessage", "chat.update", "conversations.history", "conversations.replies"] as const;
type Method = (typeof SLACK_WEB_API_METHODS)[number];
/** Methods Slack documents as taking a JSON body (json_input_supported in the method reference). */
const JSON_METHODS: readonly Method[] = ["auth.test", "chat.postMessage", "chat.update", "conversations.history"];

/** chat.postMessage truncates `text` beyond this (changelog 2018-04). */
export const POST_TEXT_LIMIT = 40_000;
/** chat.update refuses `text` beyond this with `msg_too_long` (chat.update's error table). */
export const UPDATE_TEXT_LIMIT = 4_000;
/** "A maximum of 100 attachments are allowed on a message" (too_many_attachments). */
export const ATTACHMENTS_LIMIT = 100;
/**
 * What chat.postMessage takes as `thread_ts` without `invalid_thread_ts`: a positive decimal
 * number. A float such as `1602251441.0017` passes and, naming no message, is posted unseen
 * (python-slack-sdk#840); `0` is refused (jenkinsci/slack-plugin#584).
 */
export const THREAD_TS = /^\d+(\.\d+)?$/;
/** A Slack ts: seconds, a dot, six digits. */
export const TS_FORMAT = /^\d{1,12}\.\d{6}$/;

/** Formats microseconds since the epoch as a Slack ts, e.g. `1700000000.000100`. */
export function formatTs(micros: number): string {
    if (!Number.isSafeInteger(micros) || micros < 0) throw new Error(`formatTs: ${micros} is not a non-negative integer count of microseconds`);
    return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, "0")}`;
}

/** Microseconds of a Slack ts (inverse of formatTs); undefined when `ts` is not in ts format. */
export function parseTs(ts: string): number | undefined {
    if (!TS_FORMAT.test(ts)) return undefined;
    const [seconds, fraction] = ts.split(".");
    return Number(seconds) * 1_000_000 + Number(fraction);
}

/** A refusal: Slack's error string, the `[ERROR] …` lines of response_metadata.messages, extra body fields. */
export interface SlackError {
    readonly error: string;
    readonly messages?: readonly string[];
    readonly extra?: Record<string, unknown>;
}

type Args = Record<string, unknown>;
type Parsed<T> = { ok: true; value: T } | { ok: false; refusal: SlackError };

/** A JSON-typed argument that form bodies carry as a JSON string (`blocks`, `attachments`): its value, or why it is not JSON. */
function jsonArgument(value: unknown): { ok: true; value: unknown } | { ok: false; problem: string } {
    if (typeof value !== "string") return { ok: true, value };
    try {
        return { ok: true, value: JSON.parse(value) };
    } catch (error) {
        return { ok: false, problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
    }
}

/** The message content of a chat.postMessage/chat.update call, or Slack's refusal of it. */
export function messageContent(method: "chat.postMessage" | "chat.update", args: Args): Parsed<{ text: string; blocks?: unknown[]; attachments?: unknown[]; truncated: boolean }> {
    let blocks: unknown[] | undefined;
    if (args.blocks !== undefined && args.blocks !== "") {
        const parsed = jsonArgument(args.blocks);
        if (!parsed.ok || !Array.isArray(parsed.value)) {
            return { ok: false, refusal: { error: "invalid_blocks_format", messages: [parsed.ok ? "blocks must be a JSON array" : parsed.problem] } };
        }
        const problems = blockKitViolations(parsed.value);
        if (problems.length > 0) return { ok: false, refusal: { error: "invalid_blocks", messages: problems, extra: { errors: problems } } };
        blocks = parsed.value;
    }
    let attachments: unknown[] | undefined;
    if (args.attachments !== undefined && args.attachments !== "") {
        const parsed = jsonArgument(args.attachments);
        if (!parsed.ok || !Array.isArray(parsed.value)) return { ok: false, refusal: { error: "invalid_attachments", messages: ["attachments must be a JSON array"] } };
        if (parsed.value.length > ATTACHMENTS_LIMIT) return { ok: false, refusal: { error: "too_many_attachments" } };
        const problems = parsed.value.flatMap((a, i) => (typeof a === "object" && a !== null && "blocks" in a ? blockKitViolations((a as { blocks: unknown }).blocks, `attachments[${i}].blocks`) : []));
        if (problems.length > 0) return { ok: false, refusal: { error: "invalid_attachments", messages: problems } };
        attachments = parsed.value;
    }
    if (args.text !== undefined && typeof args.text !== "string") return { ok: false, refusal: { error: "invalid_arguments", messages: ["text must be a string"] } };
    const text = (args.text as string | undefined) ?? "";
    if (text === "" && (blocks === undefined || blocks.length === 0) && (attachments === undefined || attachments.length === 0)) {
        return { ok: false, refusal: { error: "no_text" } };
    }
    if (method === "chat.update" && text.length > UPDATE_TEXT_LIMIT) return { ok: false, refusal: { error: "msg_too_long" } };
    const truncated = text.length > POST_TEXT_LIMIT;
    return { ok: true, value: { text: truncated ? text.slice(0, POST_TEXT_LIMIT) : text, blocks, attachments, truncated } };
}

/** Token bucket: `capacity` at once, refilled at `perSecond`. */
class Bucket {
    private tokens: number;
    private at: number;
    constructor(
        private readonly capacity: number,
        private readonly perSecond: number,
        now: number,
    ) {
        this.tokens = capacity;
        this.at = now;
    }
    private refill(now: number): void {
        this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.perSecond);
        this.at = now;
    }
    /** Seconds to wait before a token is there (0 when one is). */
    waitSeconds(now: number): number {
        this.refill(now);
        return this.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
    }
    take(now: number): void {
        this.refill(now);
        this.tokens -= 1;
    }
}

interface Channel {
    readonly id: string;
    readonly name: string;
    readonly member: boolean;
    readonly roots: Message[];
    readonly byTs: Map<string, Message>;
    lastMicros: number;
}
interface Message {
    ts: string;
    threadTs?: string;
    text: string;
    blocks?: unknown[];
    attachments?: unknown[];
    edited?: { ts: string };
    updates: number;
    replies: Message[];
}

const TEAM = { url: "https://alertline-local.slack.com/", team: "alertline local", team_id: "T0ALERTLN", user: "alertline", user_id: "U0ALERTBOT", bot_id: "B0ALERTBOT", app_id: "A0ALERTAPP" } as const;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

function checkOptions(options: SlackWebApiOptions): void {
    if (typeof options.token !== "string" || options.token.trim() === "") throw new Error("startSlackWebApi: options.token is empty; pass the bot token (xoxb-…) the client will send");
    const ids = new Set<string>();
    for (const [i, c] of options.channels.entries()) {
        if (!CHANNEL_ID.test(c.id)) throw new Error(`startSlackWebApi: options.channels[${i}].id ${JSON.stringify(c.id)} is not a Slack channel ID; use C…, G… or D… in capitals and digits`);
        if (ids.has(c.id)) throw new Error(`startSlackWebApi: options.channels[${i}].id ${c.id} is listed twice; give each channel once`);
        ids.add(c.id);
    }
    for (const key of ["postsPerSecondPerChannel", "postBurst", "tier3PerMinute"] as const) {
        const value = options[key];
        if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new Error(`startSlackWebApi: options.${key} is ${value}; give a positive number or leave it out`);
    }
}

function toStored(m: Message): SlackStoredMessage {
    return {
        ts: m.ts,
        ...(m.threadTs === undefined ? {} : { threadTs: m.threadTs }),
        text: m.text,
        ...(m.blocks === undefined ? {} : { blocks: m.blocks }),
        ...(m.attachments === undefined ? {} : { attachments: m.attachments }),
        ...(m.edited === undefined ? {} : { edited: { ...m.edited } }),
        updates: m.updates,
    };
}

/** A message as conversations.* and chat.* answers carry it (the reference's examples). */
function wireMessage(m: Message): Record<string, unknown> {
    return {
        type: "message",
        subtype: "bot_message",
        text: m.text,
        user: TEAM.user_id,
        bot_id: TEAM.bot_id,
        app_id: TEAM.app_id,
        ts: m.ts,
        ...(m.blocks === undefined ? {} : { blocks: m.blocks }),
        ...(m.attachments === undefined ? {} : { attachments: m.attachments }),
        ...(m.edited === undefined ? {} : { edited: { user: TEAM.user_id, ts: m.edited.ts } }),
        ...(m.threadTs !== undefined ? { thread_ts: m.threadTs, parent_user_id: TEAM.user_id } : {}),
        ...(m.threadTs === undefined && m.replies.length > 0
            ? { thread_ts: m.ts, reply_count: m.replies.length, latest_reply: m.replies[m.replies.length - 1].ts }
            : {}),
    };
}

/** Starts the stand-in on 127.0.0.1 (a free port). */
export async function startSlackWebApi(options: SlackWebApiOptions): Promise<SlackWebApi> {
    checkOptions(options);
    const clock = options.clock ?? Date.now;
    const postRate = options.postsPerSecondPerChannel ?? 1;
    const postBurst = options.postBurst ?? 3;
    const tier3 = options.tier3PerMinute ?? 50;
    const channels = options.channels.map<Channel>((c) => ({ id: c.id, name: c.name.replace(/^#/, ""), member: c.member ?? true, roots: [], byTs: new Map(), lastMicros: 0 }));
    const postBuckets = new Map<string, Bucket>();
    const tier3Buckets = new Map<string, Bucket>();
    const refusals: { method: string; error: string }[] = [];
    const calls: SlackWebApiCall[] = [];
    const orphans: (SlackStoredMessage & { channel: string })[] = [];

    const byId = (id: string) => channels.find((c) => c.id === id);
    const byIdOrName = (value: string) => byId(value) ?? channels.find((c) => c.name === value.replace(/^#/, ""));
    const lookup = (channel: string) => {
        const found = byIdOrName(channel);
        if (found === undefined) throw new Error(`no channel ${JSON.stringify(channel)} in this stand-in; channels are ${channels.map((c) => `${c.id} (#${c.name})`).join(", ")}`);
        return found;
    };
    const nextTs = (channel: Channel): string => {
        const micros = Math.max(Math.floor(clock() * 1000), channel.lastMicros + 1);
        channel.lastMicros = micros;
        return formatTs(micros);
    };

    function rateLimited(method: Method, key: string): number {
        const now = clock();
        if (method === "chat.postMessage") {
            let bucket = postBuckets.get(key);
            if (bucket === undefined) postBuckets.set(key, (bucket = new Bucket(postBurst, postRate, now)));
            return bucket.waitSeconds(now);
        }
        if (method === "auth.test") return 0;
        let bucket = tier3Buckets.get(method);
        if (bucket === undefined) tier3Buckets.set(method, (bucket = new Bucket(tier3, tier3 / 60, now)));
        const wait = bucket.waitSeconds(now);
        if (wait === 0) bucket.take(now);
        return wait;
    }

    type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string>; warning?: string };
    const refuse = (refusal: SlackError): Answer => ({
        status: 200,
        body: {
            ok: false,
            error: refusal.error,
            ...(refusal.extra ?? {}),
            ...(refusal.messages === undefined ? {} : { response_metadata: { messages: refusal.messages.map((m) => `[ERROR] ${m}`) } }),
        },
    });
    const missing = (name: string): Answer => refuse({ error: "invalid_arguments", messages: [`missing required field: ${name}`] });
    const str = (value: unknown): string | undefined => (typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined);

    function memberChannel(args: Args, byName: boolean): { channel: Channel } | { answer: Answer } {
        if (args.channel === undefined) return { answer: missing("channel") };
        const value = str(args.channel) ?? "";
        const channel = byName ? byIdOrName(value) : byId(value);
        if (channel === undefined) return { answer: refuse({ error: "channel_not_found" }) };
        if (!channel.member) return { answer: refuse({ error: "not_in_channel" }) };
        return { channel };
    }

    function postMessage(args: Args): Answer {
        const found = memberChannel(args, true);
        if ("answer" in found) return found.answer;
        const { channel } = found;
        const wait = rateLimited("chat.postMessage", channel.id);
        if (wait > 0) return { status: 429, headers: { "retry-after": String(wait) }, body: { ok: false, error: "ratelimited" } };
        const content = messageContent("chat.postMessage", args);
        if (!content.ok) return refuse(content.refusal);
        let root: Message | undefined;
        let orphan = false;
        const threadTs = args.thread_ts === undefined || args.thread_ts === "" ? undefined : str(args.thread_ts);
        if (args.thread_ts !== undefined && args.thread_ts !== "") {
            if (threadTs === undefined || !THREAD_TS.test(threadTs) || Number(threadTs) === 0) return refuse({ error: "invalid_thread_ts", messages: [`${String(args.thread_ts)} is not a valid thread_ts`] });
            const named = channel.byTs.get(threadTs);
            root = named?.threadTs === undefined ? named : channel.byTs.get(named.threadTs);
            orphan = root === undefined;
        }
        postBuckets.get(channel.id)?.take(clock());
        const message: Message = {
            ts: nextTs(channel),
            text: content.value.text,
            ...(content.value.blocks === undefined ? {} : { blocks: content.value.blocks }),
            ...(content.value.attachments === undefined ? {} : { attachments: content.value.attachments }),
            updates: 0,
            replies: [],
        };
        if (root !== undefined) {
            message.threadTs = root.ts;
            root.replies.push(message);
            channel.byTs.set(message.ts, message);
        } else if (orphan) {
            message.threadTs = threadTs;
            orphans.push({ ...toStored(message), channel: channel.id });
        } else {
            channel.roots.push(message);
            channel.byTs.set(message.ts, message);
        }
        const warning = content.value.truncated ? "message_truncated" : undefined;
        return {
            status: 200,
            warning,
            body: {
                ok: true,
                channel: channel.id,
                ts: message.ts,
                message: wireMessage(message),
                ...(warning === undefined
                    ? {}
                    : { warning, response_metadata: { warnings: [warning], messages: [`[WARN] Your message was truncated but still posted. The \`text\` field accepts up to ${POST_TEXT_LIMIT.toLocaleString("en")} characters.`] } }),
            },
        };
    }

    function update(args: Args): Answer {
        if (args.channel === undefined) return missing("channel");
        if (args.ts === undefined) return missing("ts");
        const found = memberChannel(args, false);
        if ("answer" in found) return found.answer;
        const { channel } = found;
        const message = channel.byTs.get(str(args.ts) ?? "");
        if (message === undefined) return refuse({ error: "message_not_found" });
        const wait = rateLimited("chat.update", "workspace");
        if (wait > 0) return { status: 429, headers: { "retry-after": String(wait) }, body: { ok: false, error: "ratelimited" } };
        const content = messageContent("chat.update", args);
        if (!content.ok) return refuse(content.refusal);
        message.text = content.value.text;
        if (content.value.blocks !== undefined) message.blocks = content.value.blocks;
        if (content.value.attachments !== undefined) message.attachments = content.value.attachments;
        message.edited = { ts: formatTs(Math.floor(clock() * 1000)) };
        message.updates += 1;
        return { status: 200, body: { ok: true, channel: channel.id, ts: message.ts, text: message.text, message: wireMessage(message) } };
    }

    function page(list: Message[], args: Args): Answer | { items: Message[]; next?: string } {
        const limit = args.limit === undefined ? 100 : Number(args.limit);
        if (!Number.isInteger(limit) || limit < 1) return refuse({ error: "invalid_arguments", messages: ["limit must be a positive integer"] });
        let start = 0;
        if (args.cursor !== undefined && args.cursor !== "") {
            const decoded = Buffer.from(String(args.cursor), "base64").toString("utf8");
            const match = /^next_ts:(\d+\.\d{6})$/.exec(decoded);
            const at = match === null ? -1 : list.findIndex((m) => m.ts === match[1]);
            if (at < 0) return refuse({ error: "invalid_cursor" });
            start = at;
        }
        const items = list.slice(start, start + Math.min(limit, 999));
        const after = list[start + items.length];
        return { items, next: after === undefined ? undefined : Buffer.from(`next_ts:${after.ts}`).toString("base64") };
    }

    function history(args: Args): Answer {
        const found = memberChannel(args, false);
        if ("answer" in found) return found.answer;
        const wait = rateLimited("conversations.history", "workspace");
        if (wait > 0) return { status: 429, headers: { "retry-after": String(wait) }, body: { ok: false, error: "ratelimited" } };
        const newestFirst = [...found.channel.roots].reverse();
        const paged = page(newestFirst, args);
        if ("status" in paged) return paged;
        return {
            status: 200,
            body: { ok: true, messages: paged.items.map(wireMessage), has_more: paged.next !== undefined, pin_count: 0, response_metadata: { next_cursor: paged.next ?? "" } },
        };
    }

    function replies(args: Args): Answer {
        if (args.channel === undefined) return missing("channel");
        if (args.ts === undefined) return missing("ts");
        const found = memberChannel(args, false);
        if ("answer" in found) return found.answer;
        const named = found.channel.byTs.get(str(args.ts) ?? "");
        if (named === undefined) return refuse({ error: "thread_not_found" });
        const wait = rateLimited("conversations.replies", "workspace");
        if (wait > 0) return { status: 429, headers: { "retry-after": String(wait) }, body: { ok: false, error: "ratelimited" } };
        const root = named.threadTs === undefined ? named : (found.channel.byTs.get(named.threadTs) as Message);
        const paged = page([root, ...root.replies], args);
        if ("status" in paged) return paged;
        return { status: 200, body: { ok: true, messages: paged.items.map(wireMessage), has_more: paged.next !== undefined, response_metadata: { next_cursor: paged.next ?? "" } } };
    }

    /** Auth, then the method; everything a request can be refused for before the method's own checks. */
    async function answer(req: IncomingMessage): Promise<{ method: string; answer: Answer }> {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const name = url.pathname.startsWith("/api/") ? url.pathname.slice("/api/".length) : "";
        if (!(SLACK_WEB_API_METHODS as readonly string[]).includes(name)) {
            return { method: name || url.pathname, answer: { status: 200, body: { ok: false, error: "unknown_method", req_method: name } } };
        }
        const method = name as Method;
        if (req.method !== "GET" && req.method !== "POST") {
            return { method, answer: { status: 405, body: { ok: false, error: "method_not_allowed", detail: `${req.method}: the Web API takes GET or POST` } } };
        }
        const body = (await readBody(req)).toString("utf8");
        const contentType = req.headers["content-type"];
        const [mediaType, ...params] = (contentType ?? "").split(";").map((p) => p.trim());
        const charset = params.find((p) => p.toLowerCase().startsWith("charset="))?.slice("charset=".length).replace(/"/g, "").toLowerCase();
        if (charset !== undefined && charset !== "utf-8" && charset !== "iso-8859-1") return { method, answer: refuse({ error: "invalid_charset" }) };
        // Keys come from the request: a map without a prototype, so "__proto__" is an argument like any other.
        const args: Args = Object.assign(Object.create(null) as Args, Object.fromEntries(url.searchParams));
        const queryToken = url.searchParams.has("token");
        delete args.token;
        let bodyToken: string | undefined;
        let json = false;
        if (body.length > 0) {
            if (contentType === undefined || mediaType === "") return { method, answer: refuse({ error: "missing_post_type" }) };
            switch (mediaType.toLowerCase()) {
                case "application/x-www-form-urlencoded": {
                    const form = new URLSearchParams(body);
                    for (const [key, value] of form) {
                        if (key === "token") bodyToken = value;
                        else args[key] = value;
                    }
                    break;
                }
                case "application/json": {
                    json = true;
                    let parsed: unknown;
                    try {
                        parsed = JSON.parse(body);
                    } catch {
                        return { method, answer: refuse({ error: "invalid_json" }) };
                    }
                    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { method, answer: refuse({ error: "json_not_object" }) };
                    // A token inside JSON is not read (Keeping up with the JSONs); other arguments count only
                    // for methods that take JSON.
                    if (JSON_METHODS.includes(method)) for (const [key, value] of Object.entries(parsed)) if (key !== "token") args[key] = value;
                    break;
                }
                case "multipart/form-data":
                case "text/plain":
                    return { method, answer: { status: 501, body: { ok: false, error: "stand_in_unsupported", detail: `${mediaType}: Slack takes it, this stand-in does not; send form-encoded or JSON` } } };
                default:
                    return { method, answer: refuse({ error: "invalid_post_type" }) };
            }
        }
        const authorization = req.headers.authorization;
        let token: string | undefined;
        if (authorization !== undefined) {
            const bearer = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
            if (bearer === null) return { method, answer: refuse({ error: "invalid_auth" }) };
            token = bearer[1];
        } else if (queryToken) {
            return { method, answer: refuse({ error: "invalid_auth" }) };
        } else if (!json) {
            token = bodyToken;
        }
        if (token === undefined || token === "") return { method, answer: refuse({ error: "not_authed" }) };
        if (token !== options.token) return { method, answer: refuse({ error: "invalid_auth" }) };
        switch (method) {
            case "auth.test":
                return { method, answer: { status: 200, body: { ok: true, url: TEAM.url, team: TEAM.team, user: TEAM.user, team_id: TEAM.team_id, user_id: TEAM.user_id, bot_id: TEAM.bot_id } } };
            case "chat.postMessage":
                return { method, answer: postMessage(args) };
            case "chat.update":
                return { method, answer: update(args) };
            case "conversations.history":
                return { method, answer: history(args) };
            case "conversations.replies":
                return { method, answer: replies(args) };
        }
    }

    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        answer(req).then(
            ({ method, answer }) => {
                const error = answer.body.ok === false ? String(answer.body.error) : undefined;
                calls.push({ method, status: answer.status, ...(error === undefined ? {} : { error }), ...(answer.warning === undefined ? {} : { warning: answer.warning }) });
                if (error !== undefined) refusals.push({ method, error });
                res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8", ...(answer.headers ?? {}) });
                res.end(JSON.stringify(answer.body));
            },
            (error: unknown) => {
                calls.push({ method: req.url ?? "", status: 500, error: "internal_error" });
                res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
                res.end(JSON.stringify({ ok: false, error: "internal_error", detail: error instanceof Error ? error.message : String(error) }));
            },
        );
    });
    const base = await listen(server);
    return {
        url: `${base}/api/`,
        messages: (channel) => lookup(channel).roots.map(toStored),
        replies: (channel, threadTs) => lookup(channel).byTs.get(threadTs)?.replies.map(toStored) ?? [],
        refusals,
        calls,
        orphans,
        close: () => close(server),
    };
}
