import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { close, listen, LOCAL_ACCOUNT, LOCAL_REGION, readBody } from "./http";

/**
 * A Lambda function URL on this machine: a node:http server on 127.0.0.1 that turns each request
 * into the function URL event (payload format 2.0, Lambda developer guide "Invoking Lambda function
 * URLs") for a real handler, and its result back into the HTTP response.
 *
 * As Lambda does: header names lower-case, repeated headers joined with commas, cookies in their own
 * list, a text body as is and any other body base64-encoded; a structured result (`statusCode`) is
 * the response, anything else is 200 with the result as JSON; a handler that throws answers 502.
 * Unconfirmed: which content types Lambda counts as text (here text/*, JSON, XML, JavaScript and
 * form data); a request without a content type is taken as binary.
 */

export type FunctionUrlHandler = (event: LambdaFunctionURLEvent) => Promise<unknown>;

export interface FunctionUrlRequest {
    readonly method: string;
    /** Path and query as sent, e.g. `/?x=1`. */
    readonly url: string;
    /** Every value of each header, in the order sent. */
    readonly headers: Readonly<Record<string, readonly string[]>>;
    readonly body: Buffer;
    readonly sourceIp: string;
    /** Default HTTP/1.1. */
    readonly protocol?: string;
}

const TEXT_TYPES = /^(?:text\/|application\/(?:json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|x-www-form-urlencoded)\b)/i;
/** The function URL's id, as in `https://<id>.lambda-url.<region>.on.aws`. */
const URL_ID = "localfunctionurl";

/** `12/Mar/2020:19:03:58 +0000`: requestContext.time as Lambda writes it. */
export function requestTime(nowMs: number): string {
    const d = new Date(nowMs);
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const two = (n: number) => String(n).padStart(2, "0");
    return `${two(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** The event Lambda would hand the function for this request. Pure apart from the request id. */
export function functionUrlEvent(request: FunctionUrlRequest, nowMs: number): LambdaFunctionURLEvent {
    const url = new URL(request.url, "http://localhost");
    const headers: Record<string, string> = {};
    let cookies: string[] | undefined;
    for (const [name, values] of Object.entries(request.headers)) {
        const lower = name.toLowerCase();
        if (lower === "cookie") cookies = values.flatMap((v) => v.split(";")).map((c) => c.trim()).filter((c) => c !== "");
        else headers[lower] = values.join(",");
    }
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
    const isText = TEXT_TYPES.test(headers["content-type"] ?? "");
    const hasBody = request.body.byteLength > 0;
    const domainName = `${URL_ID}.lambda-url.${LOCAL_REGION}.on.aws`;
    return {
        version: "2.0",
        routeKey: "$default",
        rawPath: url.pathname,
        rawQueryString: url.search.replace(/^\?/, ""),
        ...(cookies === undefined ? {} : { cookies }),
        headers,
        ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
        requestContext: {
            accountId: LOCAL_ACCOUNT,
            apiId: URL_ID,
            domainName,
            domainPrefix: URL_ID,
            http: { method: request.method.toUpperCase(), path: url.pathname, protocol: request.protocol ?? "HTTP/1.1", sourceIp: request.sourceIp, userAgent: headers["user-agent"] ?? "" },
            requestId: randomUUID(),
            routeKey: "$default",
            stage: "$default",
            time: requestTime(nowMs),
            timeEpoch: nowMs,
        },
        ...(hasBody ? { body: isText ? request.body.toString("utf8") : request.body.toString("base64") } : {}),
        isBase64Encoded: hasBody && !isText,
    };
}

export interface FunctionUrlResponse {
    readonly statusCode: number;
    readonly headers: Record<string, string>;
    readonly body: Buffer;
}

/** The HTTP response Lambda makes of what the function returned. Pure. */
export function functionUrlResponse(result: unknown): FunctionUrlResponse {
    const structured = typeof result === "object" && result !== null && typeof (result as { statusCode?: unknown }).statusCode === "number";
    if (!structured) {
        const body = typeof result === "string" ? result : JSON.stringify(result ?? null);
        return { statusCode: 200, headers: { "content-type": "application/json" }, body: Buffer.from(body, "utf8") };
    }
    const r = result as APIGatewayProxyStructuredResultV2 & { statusCode: number };
    const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
    const body = r.body === undefined ? Buffer.alloc(0) : r.isBase64Encoded ? Buffer.from(r.body, "base64") : Buffer.from(r.body, "utf8");
    return { statusCode: r.statusCode, headers, body };
}

export interface FunctionUrlOptions {
    readonly handler: FunctionUrlHandler;
    /** On 127.0.0.1; default 0 (a free port). */
    readonly port?: number;
    /** Where a failed invocation is reported (never with the request's headers). */
    readonly log?: (line: string) => void;
    /** Clock in epoch milliseconds. Default Date.now. */
    readonly now?: () => number;
}

export interface FunctionUrl {
    /** `http://127.0.0.1:<port>/`. */
    readonly url: string;
    readonly port: number;
    /** Whether an invocation is running. */
    busy(): boolean;
    /** Resolves when no invocation is running. */
    drain(): Promise<void>;
    close(): Promise<void>;
}

/** Every value of each header as sent, names lower-case. */
function headerValues(rawHeaders: readonly string[]): Record<string, string[]> {
    const headers: Record<string, string[]> = {};
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) (headers[rawHeaders[i].toLowerCase()] ??= []).push(rawHeaders[i + 1]);
    return headers;
}

/** Starts the server; rejects with the listen error (e.g. EADDRINUSE) when the port is taken. */
export async function startFunctionUrl(options: FunctionUrlOptions): Promise<FunctionUrl> {
    const now = options.now ?? Date.now;
    const log = options.log ?? (() => undefined);
    const running = new Set<Promise<void>>();
    const server = createServer((req, res) => {
        const invocation = (async () => {
            const body = await readBody(req);
            const event = functionUrlEvent(
                { method: req.method ?? "GET", url: req.url ?? "/", headers: headerValues(req.rawHeaders), body, sourceIp: req.socket.remoteAddress ?? "127.0.0.1", protocol: `HTTP/${req.httpVersion}` },
                now(),
            );
            let response: FunctionUrlResponse;
            try {
                response = functionUrlResponse(await options.handler(event));
            } catch (error) {
                log(`[function-url] the function failed; answered 502: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
                response = { statusCode: 502, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify({ Message: "Internal Server Error" })) };
            }
            res.writeHead(response.statusCode, response.headers);
            res.end(response.body);
        })();
        running.add(invocation);
        invocation.finally(() => running.delete(invocation)).catch(() => undefined);
    });
    const url = await listen(server, options.port ?? 0);
    return {
        url: `${url}/`,
        port: Number(new URL(url).port),
        busy: () => running.size > 0,
        async drain() {
            while (running.size > 0) await Promise.allSettled([...running]);
        },
        close: () => close(server),
    };
}
