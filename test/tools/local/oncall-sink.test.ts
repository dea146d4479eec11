import { afterEach, describe, expect, it } from "vitest";
import { alertBodyProblems, startOnCallSink, type OnCallSink, type OnCallSinkOptions } from "../../../tools/local/oncall";

/**
 * The local on-call sink answering like Opsgenie's alert and heartbeat API, and like JSM's
 * integration API under its prefix. Requests go over real HTTP with fetch.
 */

const KEY = "f3a9c1d2-5e6b-4a7c-8d9e-0a1b2c3d4e5f";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let sink: OnCallSink | undefined;
let lines: string[];
afterEach(async () => {
    await sink?.close();
    sink = undefined;
});

async function start(options: OnCallSinkOptions = {}): Promise<OnCallSink> {
    lines = [];
    sink = await startOnCallSink({ log: (line) => void lines.push(line), violationsExpected: true, ...options });
    return sink;
}

async function call(url: string, init: { method?: string; body?: unknown; key?: string | null; authorization?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (init.authorization !== undefined) headers.authorization = init.authorization;
    else if (init.key !== null) headers.authorization = `GenieKey ${init.key ?? KEY}`;
    const response = await fetch(url, { method: init.method ?? "POST", headers, body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const disk = { message: "Disk / 98% full on web-1", alias: "web-1/disk", priority: "P1", tags: ["disk"], details: { host: "web-1" } };

describe("local on-call sink (Opsgenie's alert API)", () => {
    it("answers a new alert with 202 and Opsgenie's asynchronous result, records it and logs one line", async () => {
        const s = await start();
        const answer = await call(`${s.url}/v2/alerts`, { body: disk });

        expect(answer.status).toBe(202);
        expect(answer.body).toEqual({ result: "Request will be processed", took: expect.any(Number), requestId: expect.stringMatching(UUID) });
        expect(s.requests).toEqual([{ method: "POST", path: "/v2/alerts", query: {}, api: "opsgenie", action: "create-alert", alias: "web-1/disk", body: disk, status: 202 }]);
        expect(s.alerts()).toEqual([expect.objectContaining({ alias: "web-1/disk", message: disk.message, priority: "P1", status: "open", count: 1 })]);
        expect(lines).toEqual(["[opsgenie] alert created P1 alias=web-1/disk «Disk / 98% full on web-1»"]);
    });

    it("takes an alert without priority as P3, Opsgenie's default", async () => {
        const s = await start();
        await call(`${s.url}/v2/alerts`, { body: { message: "backup late" } });
        expect(s.alerts()[0]).toMatchObject({ priority: "P3", alias: undefined });
        expect(lines).toEqual(["[opsgenie] alert created P3 alias=(none) «backup late»"]);
    });

    it("deduplicates an open alert by alias and opens a new one once it is closed", async () => {
        const s = await start();
        await call(`${s.url}/v2/alerts`, { body: disk });
        await call(`${s.url}/v2/alerts`, { body: disk });
        expect(s.alerts().map((a) => [a.status, a.count])).toEqual([["open", 2]]);

        await call(`${s.url}/v2/alerts/${encodeURIComponent("web-1/disk")}/close?identifierType=alias`, { body: { source: "alertline" } });
        await call(`${s.url}/v2/alerts`, { body: disk });
        expect(s.alerts().map((a) => [a.status, a.count])).toEqual([
            ["closed", 2],
            ["open", 1],
        ]);
        expect(lines[1]).toBe("[opsgenie] alert created P1 alias=web-1/disk «Disk / 98% full on web-1» (deduplicated: count 2)");
    });

    it("closes by the decoded alias with 202 and logs it", async () => {
        const s = await start();
        await call(`${s.url}/v2/alerts`, { body: disk });
        const answer = await call(`${s.url}/v2/alerts/web-1%2Fdisk/close?identifierType=alias`, { body: {} });

        expect(answer.status).toBe(202);
        expect(answer.body.result).toBe("Request will be processed");
        expect(s.requests[1]).toMatchObject({ action: "close-alert", path: "/v2/alerts/web-1%2Fdisk/close", query: { identifierType: "alias" }, alias: "web-1/disk", status: 202 });
        expect(s.alerts()[0].status).toBe("closed");
        expect(lines[1]).toBe("[opsgenie] alert closed alias=web-1/disk");
    });

    it("takes the identifier for an alert id when identifierType is not alias, as Opsgenie does", async () => {
        const s = await start();
        await call(`${s.url}/v2/alerts`, { body: disk });
        const answer = await call(`${s.url}/v2/alerts/web-1%2Fdisk/close`, { body: {} });

        expect(answer.status).toBe(202);
        expect(s.alerts()[0].status).toBe("open");
        expect([s.requests[1].alertId, s.requests[1].alias]).toEqual(["web-1/disk", undefined]);
        expect(lines[1]).toContain("closing by alias needs ?identifierType=alias");

        await call(`${s.url}/v2/alerts/${s.alerts()[0].alertId}/close`, {});
        expect(s.alerts()[0].status).toBe("closed");
    });

    it("answers a heartbeat ping by GET or POST with PONG and records the decoded name", async () => {
        const s = await start();
        const get = await call(`${s.url}/v2/heartbeats/alertline-dev%20canary/ping`, { method: "GET" });
        const post = await call(`${s.url}/v2/heartbeats/alertline-dev-canary/ping`, {});

        expect([get.status, post.status]).toEqual([202, 202]);
        expect(get.body).toEqual({ result: "PONG - Heartbeat received", took: expect.any(Number), requestId: expect.stringMatching(UUID) });
        expect(s.requests.map((r) => [r.method, r.action, r.heartbeat])).toEqual([
            ["GET", "ping-heartbeat", "alertline-dev canary"],
            ["POST", "ping-heartbeat", "alertline-dev-canary"],
        ]);
        expect(lines).toEqual(["[opsgenie] heartbeat pinged: alertline-dev canary", "[opsgenie] heartbeat pinged: alertline-dev-canary"]);
    });

    it.each([
        ["no Authorization header", { key: null }],
        ["an empty GenieKey", { authorization: "GenieKey " }],
        ["another scheme", { authorization: `Bearer ${KEY}` }],
    ])("refuses %s with 401 in Opsgenie's error shape and changes nothing", async (_what, auth) => {
        const s = await start();
        const answer = await call(`${s.url}/v2/alerts`, { body: disk, ...auth });

        expect(answer.status).toBe(401);
        expect(answer.body).toEqual({ message: "Could not authenticate", took: 0, requestId: expect.stringMatching(UUID) });
        expect(s.alerts()).toEqual([]);
        expect(s.requests).toMatchObject([{ action: "create-alert", status: 401 }]);
        expect(lines[0]).toMatch(/^\[opsgenie\] 401 POST \/v2\/alerts: /);
    });

    it("never records or logs the key", async () => {
        const s = await start();
        await call(`${s.url}/v2/alerts`, { body: disk });
        await call(`${s.url}/v2/heartbeats/canary/ping`, { method: "GET" });
        await call(`${s.url}/v2/alerts`, { body: disk, authorization: `Bearer ${KEY}` });

        expect(s.requests).toHaveLength(3);
        expect(JSON.stringify(s.requests)).not.toContain(KEY);
        expect(lines.join("\n")).not.toContain(KEY);
    });

    it("answers 404 for a path it does not serve and 405 for a wrong method", async () => {
        const s = await start();
        const unknown = await call(`${s.url}/v2/incidents`, { body: disk });
        const wrongMethod = await call(`${s.url}/v2/alerts/web-1/close`, { method: "GET" });

        expect([unknown.status, wrongMethod.status]).toEqual([404, 405]);
        expect(typeof unknown.body.message).toBe("string");
        expect(s.requests.map((r) => [r.action, r.status])).toEqual([
            [undefined, 404],
            ["close-alert", 405],
        ]);
    });

    it("answers 400 for a body that is not JSON and 422 with errors for an alert without message", async () => {
        const s = await start();
        const notJson = await call(`${s.url}/v2/alerts`, { body: "message=disk" });
        const noMessage = await call(`${s.url}/v2/alerts`, { body: { alias: "x" } });

        expect(notJson.status).toBe(400);
        expect(noMessage.status).toBe(422);
        expect(noMessage.body).toMatchObject({ message: "Request body is not processable. Please check the errors.", errors: { message: "Message can not be empty." } });
        expect(s.alerts()).toEqual([]);
    });

    it("answers every authenticated request with failWith's status and opens nothing", async () => {
        const s = await start({ failWith: 503 });
        const create = await call(`${s.url}/v2/alerts`, { body: disk });
        const ping = await call(`${s.url}/v2/heartbeats/canary/ping`, {});
        const unauthenticated = await call(`${s.url}/v2/alerts`, { body: disk, key: null });

        expect([create.status, ping.status, unauthenticated.status]).toEqual([503, 503, 401]);
        expect(typeof create.body.message).toBe("string");
        expect(s.alerts()).toEqual([]);
        expect(s.requests.map((r) => r.status)).toEqual([503, 503, 401]);
    });

    it("refuses a failWith that is not an error status", async () => {
        await expect(startOnCallSink({ failWith: 202 })).rejects.toThrow(/400–599/);
    });
});

describe("local on-call sink: the options tests use", () => {
    it("accepts only apiKey when it is set, and still never records or logs it", async () => {
        const s = await start({ apiKey: KEY });
        const right = await call(`${s.url}/v2/alerts`, { body: disk });
        const wrong = await call(`${s.url}/v2/alerts`, { body: disk, key: "0bad0bad-1111-2222-3333-444455556666" });

        expect([right.status, wrong.status]).toEqual([202, 401]);
        expect(wrong.body.message).toBe("Could not authenticate");
        expect(s.alerts()).toHaveLength(1);
        expect(lines[1]).toContain("the key the sink was started with");
        expect(`${JSON.stringify(s.requests)}\n${lines.join("\n")}`).not.toContain(KEY);
    });

    it("answers 404 for a heartbeat not in knownHeartbeats, and PONG for one that is", async () => {
        const s = await start({ knownHeartbeats: ["alertline-prod-mail-path"] });
        const known = await call(`${s.url}/v2/heartbeats/alertline-prod-mail-path/ping`, { method: "GET" });
        const unknown = await call(`${s.url}/v2/heartbeats/alertline-dev%20mail-path/ping`, { method: "GET" });

        expect([known.status, unknown.status]).toEqual([202, 404]);
        expect(unknown.body).toEqual({ message: "Heartbeat with name [alertline-dev mail-path] does not exist.", took: 0, requestId: expect.stringMatching(UUID) });
        expect(s.requests.map((r) => [r.heartbeat, r.status])).toEqual([
            ["alertline-prod-mail-path", 202],
            ["alertline-dev mail-path", 404],
        ]);
    });

    it("sends a scripted answer instead of its own, before authentication, and changes nothing", async () => {
        const script = [{ status: 503 }, { status: 302, body: "", headers: { location: "http://127.0.0.1:1/elsewhere" } }];
        const seen: unknown[] = [];
        const s = await start({ answer: (request) => (seen.push(request), script.shift()) });
        const failed = await call(`${s.url}/v2/alerts`, { body: disk, key: null });
        const redirected = await fetch(`${s.url}/v2/heartbeats/canary/ping`, { headers: { authorization: `GenieKey ${KEY}` }, redirect: "manual" });
        const normal = await call(`${s.url}/v2/alerts`, { body: disk });

        expect(failed).toEqual({ status: 503, body: { message: "Scripted answer 503", took: 0, requestId: expect.stringMatching(UUID) } });
        expect([redirected.status, redirected.headers.get("location")]).toEqual([302, "http://127.0.0.1:1/elsewhere"]);
        expect(normal.status).toBe(202);
        expect(s.alerts().map((a) => a.count)).toEqual([1]);
        expect(s.requests.map((r) => [r.action, r.status])).toEqual([
            ["create-alert", 503],
            ["ping-heartbeat", 302],
            ["create-alert", 202],
        ]);
        expect(seen[0]).toEqual({ method: "POST", path: "/v2/alerts", query: {}, api: "opsgenie", action: "create-alert", alias: "web-1/disk", body: disk });
        expect(JSON.stringify(seen)).not.toContain(KEY);
        expect(lines[0]).toBe("[opsgenie] 503 POST /v2/alerts: scripted answer; nothing changed");
    });

    it("waits delayMs before a scripted answer, long enough for a client's timeout", async () => {
        const s = await start({ answer: () => ({ status: 202, body: { result: "Request will be processed" }, delayMs: 300 }) });
        const started = Date.now();
        const slow = await call(`${s.url}/v2/alerts`, { body: disk });
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        expect(slow.body).toMatchObject({ result: "Request will be processed" });
        await expect(fetch(`${s.url}/v2/alerts`, { method: "POST", headers: { authorization: `GenieKey ${KEY}` }, body: JSON.stringify(disk), signal: AbortSignal.timeout(50) })).rejects.toThrow();
        expect(s.alerts()).toEqual([]);
    });

    it("answers 500 naming the mistake when a scripted status is not an HTTP answer", async () => {
        const s = await start({ answer: () => ({ status: 0 }) });
        const answer = await call(`${s.url}/v2/alerts`, { body: disk });
        expect(answer.status).toBe(500);
        expect(answer.body.message).toBe("Invalid scripted answer: status 0");
    });
});

describe("local on-call sink under JSM's integration prefix", () => {
    it("serves the same alert paths and records them as JSM, but no heartbeat ping: JSM has none in that API", async () => {
        const s = await start();
        expect(s.jsmUrl).toBe(`${s.url}/jsm/ops/integration`);
        const create = await call(`${s.jsmUrl}/v2/alerts`, { body: disk });
        const close = await call(`${s.jsmUrl}/v2/alerts/web-1%2Fdisk/close?identifierType=alias`, {});
        const ping = await call(`${s.jsmUrl}/v2/heartbeats/canary/ping`, { method: "GET" });
        const unknown = await call(`${s.url}/jsm/ops/integration/v1/alerts`, { body: disk });

        expect([create.status, close.status, ping.status, unknown.status]).toEqual([202, 202, 404, 404]);
        expect(s.requests.map((r) => [r.api, r.action])).toEqual([
            ["jsm", "create-alert"],
            ["jsm", "close-alert"],
            ["jsm", undefined],
            ["jsm", undefined],
        ]);
        expect(s.alerts()).toMatchObject([{ api: "jsm", alias: "web-1/disk", status: "closed" }]);
        expect(lines[0]).toBe("[opsgenie] alert created P1 alias=web-1/disk «Disk / 98% full on web-1» (JSM)");
    });
});

describe("alertBodyProblems", () => {
    it("accepts an alert within Opsgenie's limits", () => {
        expect(alertBodyProblems({ message: "m".repeat(130), alias: "a".repeat(512), priority: "P5", tags: Array(20).fill("t"), details: { k: "v".repeat(7999) } })).toEqual({});
    });

    it("names each field beyond Opsgenie's limits or of the wrong kind", () => {
        expect(alertBodyProblems({ message: "m".repeat(131), alias: "a".repeat(513), priority: "P0", tags: Array(21).fill("t"), details: { k: "v".repeat(8000) }, source: 7 })).toEqual({
            message: "message is 131 characters; the limit is 130",
            alias: "alias is 513 characters; the limit is 512",
            priority: "priority must be one of P1, P2, P3, P4, P5",
            tags: "21 tags; the limit is 20",
            details: "details hold 8001 characters; the limit is 8000",
            source: "source must be a string",
        });
        expect(alertBodyProblems([{ message: "x" }])).toEqual({ body: "must be a JSON object" });
    });
});
