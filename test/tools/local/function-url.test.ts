import { afterEach, describe, expect, it } from "vitest";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { functionUrlEvent, functionUrlResponse, requestTime, startFunctionUrl, type FunctionUrl } from "../../../tools/local/function-url";

/**
 * The local function URL: requests become payload-format-2.0 events as Lambda builds them, and the
 * function's result becomes the response. Checked against the example event in the Lambda
 * developer guide ("Invoking Lambda function URLs": lower-case headers, repeated values joined with
 * commas, cookies apart, text bodies as is, binary ones base64).
 */

const NOW = Date.UTC(2024, 4, 21, 9, 45, 27, 123);

describe("functionUrlEvent", () => {
    it("lower-cases header names, joins repeated values with commas and lists cookies apart", () => {
        const event = functionUrlEvent(
            { method: "post", url: "/hook?a=1&a=2&b=x", headers: { "X-Alertline-Token": ["t0k"], Accept: ["a/b", "c/d"], Cookie: ["s=1; t=2"] }, body: Buffer.alloc(0), sourceIp: "127.0.0.1" },
            NOW,
        );
        expect(event.headers).toEqual({ "x-alertline-token": "t0k", accept: "a/b,c/d" });
        expect(event.cookies).toEqual(["s=1", "t=2"]);
        expect(event.rawPath).toBe("/hook");
        expect(event.rawQueryString).toBe("a=1&a=2&b=x");
        expect(event.queryStringParameters).toEqual({ a: "1,2", b: "x" });
        expect(event.requestContext.http).toMatchObject({ method: "POST", path: "/hook", sourceIp: "127.0.0.1" });
        expect(event.requestContext.time).toBe("21/May/2024:09:45:27 +0000");
        expect(event.requestContext.timeEpoch).toBe(NOW);
        expect(event.body).toBeUndefined();
        expect(event.isBase64Encoded).toBe(false);
    });

    it("passes a JSON body as text and any other body base64-encoded", () => {
        const json = functionUrlEvent({ method: "POST", url: "/", headers: { "content-type": ["application/json; charset=utf-8"] }, body: Buffer.from('{"a":"é"}'), sourceIp: "::1" }, NOW);
        const bytes = functionUrlEvent({ method: "POST", url: "/", headers: { "content-type": ["application/octet-stream"] }, body: Buffer.from([0xff, 0x00]), sourceIp: "::1" }, NOW);
        expect([json.body, json.isBase64Encoded]).toEqual(['{"a":"é"}', false]);
        expect([bytes.body, bytes.isBase64Encoded]).toEqual(["/wA=", true]);
    });

    it("writes requestContext.time with a two-digit day", () => {
        expect(requestTime(Date.UTC(2020, 2, 2, 3, 4, 5))).toBe("02/Mar/2020:03:04:05 +0000");
    });
});

describe("functionUrlResponse", () => {
    it("takes a structured result as the response and any other result as 200 JSON", () => {
        const structured = functionUrlResponse({ statusCode: 401, headers: { "Content-Type": "application/json" }, body: '{"error":"unauthorized"}' });
        const bare = functionUrlResponse({ ok: true });
        expect([structured.statusCode, structured.headers, structured.body.toString()]).toEqual([401, { "content-type": "application/json" }, '{"error":"unauthorized"}']);
        expect([bare.statusCode, bare.body.toString()]).toEqual([200, '{"ok":true}']);
        expect(functionUrlResponse({ statusCode: 200, body: "AAE=", isBase64Encoded: true }).body).toEqual(Buffer.from([0, 1]));
    });
});

describe("startFunctionUrl", () => {
    let url: FunctionUrl | undefined;
    afterEach(async () => {
        await url?.close();
        url = undefined;
    });

    it("hands the handler the request as an event and answers with its result", async () => {
        const events: LambdaFunctionURLEvent[] = [];
        url = await startFunctionUrl({
            handler: async (event) => {
                events.push(event);
                return { statusCode: 202, headers: { "x-seen": event.headers["x-alertline-token"] ?? "" }, body: event.body ?? "" };
            },
        });
        const response = await fetch(url.url, { method: "POST", headers: { "content-type": "application/json", "X-Alertline-Token": "abc" }, body: '{"x":1}' });
        expect(response.status).toBe(202);
        expect(response.headers.get("x-seen")).toBe("abc");
        expect(await response.text()).toBe('{"x":1}');
        expect(events[0].requestContext.http.method).toBe("POST");
        expect(events[0].requestContext.http.sourceIp).toBe("127.0.0.1");
    });

    it("answers 502 when the function throws, and logs why without the request's headers", async () => {
        const logged: string[] = [];
        url = await startFunctionUrl({ handler: async () => Promise.reject(new Error("boom")), log: (line) => void logged.push(line) });
        const response = await fetch(url.url, { method: "POST", headers: { "x-alertline-token": "secret-value" }, body: "{}" });
        expect(response.status).toBe(502);
        expect(logged).toHaveLength(1);
        expect(logged[0]).toMatch(/boom/);
        expect(logged[0]).not.toContain("secret-value");
    });
});
