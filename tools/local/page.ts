import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import * as path from "node:path";
import { close, listen } from "./http";
import type { PageState } from "./page-state";

/**
 * The local page of `npm start`: one HTML file (page.html, no framework, no build step, nothing
 * from elsewhere) served on 127.0.0.1, and the page's state pushed to it as Server-Sent Events.
 *
 *   GET /        page.html, with a Content-Security-Policy that allows its own inline script and
 *                style (by hash) and connections to this server only
 *   GET /state   the state now, as JSON
 *   GET /events  text/event-stream: the state at once, then again whenever it changes (checked every
 *                `checkMs`; when computing the state is slow, as after thousands of mails, the next
 *                look waits four times as long as the last took, at most 250 ms); a comment every
 *                15 s keeps idle proxies from closing the stream
 *
 * Requests whose Host is not this server's loopback address are refused (421), so a web page that
 * points a name of its own at 127.0.0.1 (DNS rebinding) cannot read the alerts.
 */

/** Where `npm start` serves the page unless told otherwise (--page-port). */
export const DEFAULT_PAGE_PORT = 2580;
/** How often the server looks for a change to push. */
export const DEFAULT_PAGE_CHECK_MS = 50;
/** The longest wait between two looks, however long computing the state takes. */
export const MAX_PAGE_CHECK_MS = 250;
const KEEPALIVE_MS = 15_000;

export interface LocalPageOptions {
    /** The state to show now; called every `checkMs` (or longer, see above) while a page is open. */
    readonly state: () => PageState;
    /** Default 0: a free port. */
    readonly port?: number;
    /** Default {@link DEFAULT_PAGE_CHECK_MS}. */
    readonly checkMs?: number;
    /** Told when the state cannot be computed (once per distinct message). Default stderr. */
    readonly log?: (line: string) => void;
}

export interface LocalPage {
    /** `http://127.0.0.1:<port>/` */
    readonly url: string;
    readonly port: number;
    close(): Promise<void>;
}

/** page.html, and the Content-Security-Policy naming its inline script and style by their SHA-256. */
export function pageDocument(html = readFileSync(path.join(__dirname, "page.html"), "utf8")): { html: string; csp: string } {
    const inline = (tag: string): string => {
        const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html);
        if (match === null) throw new Error(`page.html has no <${tag}> element`);
        return `'sha256-${createHash("sha256").update(match[1], "utf8").digest("base64")}'`;
    };
    const csp = [
        "default-src 'none'",
        `script-src ${inline("script")}`,
        `style-src ${inline("style")}`,
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ].join("; ");
    return { html, csp };
}

/** Starts the page's server on 127.0.0.1; resolves once it listens. */
export async function startLocalPage(options: LocalPageOptions): Promise<LocalPage> {
    const { html, csp } = pageDocument();
    const checkMs = options.checkMs ?? DEFAULT_PAGE_CHECK_MS;
    const streams = new Set<ServerResponse>();
    let last = "";
    let timer: NodeJS.Timeout | undefined;
    let keepalive: NodeJS.Timeout | undefined;
    let port = 0;
    const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
    let lastError = "";

    const push = (): number => {
        const started = performance.now();
        let json: string;
        try {
            json = JSON.stringify(options.state());
        } catch (error) {
            const message = `[page] the page's state failed; the page keeps the last one: ${error instanceof Error ? error.message : String(error)}`;
            if (message !== lastError) log(message);
            lastError = message;
            return performance.now() - started;
        }
        lastError = "";
        if (json !== last) {
            last = json;
            for (const stream of streams) stream.write(`data: ${json}\n\n`);
        }
        return performance.now() - started;
    };
    const look = (): void => {
        const cost = push();
        timer = setTimeout(look, Math.min(MAX_PAGE_CHECK_MS, Math.max(checkMs, 4 * cost)));
    };
    const watch = (): void => {
        if (streams.size > 0 && timer === undefined) {
            timer = setTimeout(look, checkMs);
            keepalive = setInterval(() => streams.forEach((s) => s.write(": keepalive\n\n")), KEEPALIVE_MS);
        }
        if (streams.size === 0 && timer !== undefined) {
            clearTimeout(timer);
            clearInterval(keepalive);
            timer = keepalive = undefined;
        }
    };

    const answer = (res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers });
        res.end(body);
    };
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
        const host = req.headers.host ?? "";
        if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
            return answer(res, 421, "text/plain; charset=utf-8", `this page answers only to http://127.0.0.1:${port}/ (Host was ${JSON.stringify(host)})\n`);
        }
        if (req.method !== "GET" && req.method !== "HEAD") return answer(res, 405, "text/plain; charset=utf-8", "only GET\n", { allow: "GET, HEAD" });
        const url = new URL(req.url ?? "/", `http://${host}`);
        if (url.pathname === "/") return answer(res, 200, "text/html; charset=utf-8", html, { "content-security-policy": csp });
        if (url.pathname === "/state") return answer(res, 200, "application/json", JSON.stringify(options.state()));
        if (url.pathname === "/events") {
            res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
            // The pages already open get any change first, so that `last` is what every page shows; the new one gets it at once.
            push();
            res.write(last === "" ? "retry: 1000\n\n" : `retry: 1000\ndata: ${last}\n\n`);
            streams.add(res);
            watch();
            req.on("close", () => {
                streams.delete(res);
                watch();
            });
            return;
        }
        answer(res, 404, "text/plain; charset=utf-8", "not found: the page is at /\n");
    };

    const server = createServer((req, res) => {
        try {
            handle(req, res);
        } catch (error) {
            answer(res, 500, "text/plain; charset=utf-8", `the page's state failed: ${error instanceof Error ? error.message : String(error)}\n`);
        }
    });
    const url = await listen(server, options.port ?? 0);
    port = Number(new URL(url).port);
    return {
        url: `${url}/`,
        port,
        async close() {
            for (const stream of streams) stream.end();
            streams.clear();
            watch();
            await close(server);
        },
    };
}
