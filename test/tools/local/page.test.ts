import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { pageDocument, startLocalPage, type LocalPage } from "../../../tools/local/page";
import type { PageState } from "../../../tools/local/page-state";

/**
 * The page's server over real HTTP: what it answers on each path, the Host check, and the event
 * stream pushing a changed state (and only a changed one). Chromium loads it in
 * test/tools/local-page.test.ts.
 */

const pages: LocalPage[] = [];
afterEach(async () => {
    await Promise.all(pages.splice(0).map((p) => p.close()));
});

function stateWith(mailsReceived: number): PageState {
    return { stack: "dev", environment: "dev", towers: [], alerts: [], mailsReceived, canaries: { received: 0 } };
}

async function start(state: () => PageState, log?: (line: string) => void): Promise<LocalPage> {
    const page = await startLocalPage({ state, port: 0, log });
    pages.push(page);
    return page;
}

/** A GET with the Host header as given (fetch would set its own). */
function get(page: LocalPage, path: string, host = `127.0.0.1:${page.port}`, method = "GET"): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: page.port, path, method, headers: { host } }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on("error", reject);
        req.end();
    });
}

/** Reads `count` events from /events; resolves with their data and how long each took to come. */
function events(page: LocalPage, count: number, onEvent: (index: number) => void = () => undefined): Promise<{ data: string[]; at: number[] }> {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const data: string[] = [];
        const at: number[] = [];
        const req = request({ host: "127.0.0.1", port: page.port, path: "/events", headers: { host: `127.0.0.1:${page.port}` } }, (res) => {
            expect(res.headers["content-type"]).toBe("text/event-stream");
            let buffer = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
                buffer += chunk;
                let end;
                while ((end = buffer.indexOf("\n\n")) >= 0) {
                    const event = buffer.slice(0, end);
                    buffer = buffer.slice(end + 2);
                    const line = event.split("\n").find((l) => l.startsWith("data: "));
                    if (line === undefined) continue;
                    data.push(line.slice("data: ".length));
                    at.push(performance.now() - started);
                    onEvent(data.length - 1);
                    if (data.length === count) {
                        req.destroy();
                        resolve({ data, at });
                    }
                }
            });
        });
        req.on("error", (error) => (data.length === count ? undefined : reject(error)));
        req.end();
    });
}

describe("the local page's server", () => {
    it("serves page.html with a policy that allows its own inline script and style and connections to itself only", async () => {
        const page = await start(() => stateWith(0));
        const response = await get(page, "/");
        expect(response.status).toBe(200);
        expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
        expect(response.body).toContain('new EventSource("/events")');
        const csp = String(response.headers["content-security-policy"]);
        expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]{43}='; style-src 'sha256-[A-Za-z0-9+/]{43}='; connect-src 'self';/);
        // Nothing from elsewhere: no URL with a scheme in the page at all.
        expect(response.body).not.toMatch(/(src|href)=|https?:\/\//);
    });

    it("answers /state with the state now", async () => {
        let mails = 1;
        const page = await start(() => stateWith(mails));
        expect(JSON.parse((await get(page, "/state")).body)).toEqual(stateWith(1));
        mails = 7;
        expect(JSON.parse((await get(page, "/state")).body).mailsReceived).toBe(7);
    });

    it("refuses a request for another host name (DNS rebinding) with 421, and anything but GET", async () => {
        const page = await start(() => stateWith(0));
        const rebound = await get(page, "/state", `attacker.example:${page.port}`);
        expect(rebound.status).toBe(421);
        expect(rebound.body).not.toContain("mailsReceived");
        expect((await get(page, "/state", `localhost:${page.port}`)).status).toBe(200);
        expect((await get(page, "/state", "127.0.0.1:1")).status).toBe(421);
        expect((await get(page, "/state", undefined, "POST")).status).toBe(405);
        expect((await get(page, "/favicon.ico")).status).toBe(404);
    });

    it("pushes the state at once, then each change within a quarter of a second, and nothing while it stays the same", async () => {
        let mails = 0;
        const page = await start(() => stateWith(mails));
        let changedAt = 0;
        const stream = events(page, 3, (index) => {
            // After the first event, a pause in which nothing changes, then a change; again after the second.
            if (index === 0) setTimeout(() => ((mails = 1), (changedAt = performance.now())), 300);
            if (index === 1) setTimeout(() => ((mails = 2), (changedAt = performance.now())), 300);
        });
        const started = performance.now();
        const { data, at } = await stream;
        expect(data.map((d) => (JSON.parse(d) as PageState).mailsReceived)).toEqual([0, 1, 2]);
        // The last change was pushed within 250 ms of being made (the server looks every 50 ms); no repeat of a state in the pauses.
        expect(started + at[2] - changedAt).toBeLessThan(250);
    });

    it("gives a page that opens later the state now, and the page already open the change too", async () => {
        let mails = 0;
        const page = await start(() => stateWith(mails));
        let second: Promise<{ data: string[] }> | undefined;
        const first = events(page, 2, (index) => {
            if (index === 0) {
                mails = 4;
                second = events(page, 1);
            }
        });
        expect((await first).data.map((d) => (JSON.parse(d) as PageState).mailsReceived)).toEqual([0, 4]);
        expect((await second!).data.map((d) => (JSON.parse(d) as PageState).mailsReceived)).toEqual([4]);
    });

    it("looks less often while the state is slow to compute, but still within 250 ms of each look", async () => {
        let looks = 0;
        let mails = 0;
        const page = await start(() => {
            looks++;
            // 40 ms of work per look: the next look waits 160 ms instead of 50.
            const until = performance.now() + 40;
            while (performance.now() < until);
            return stateWith(mails);
        });
        const stream = events(page, 2, (index) => {
            if (index === 0) {
                looks = 0;
                setTimeout(() => (mails = 1), 1000);
            }
        });
        const { at } = await stream;
        // At 50 ms a second would hold about 11 looks; at 200 ms (40 of work, 160 of wait) about 5.
        expect(looks).toBeLessThanOrEqual(8);
        expect(looks).toBeGreaterThanOrEqual(3);
        expect(at[1] - at[0]).toBeLessThan(1000 + 250 + 2 * 40 + 100);
    });

    it("logs a state that cannot be computed once, and keeps the stream open with the last state", async () => {
        const lines: string[] = [];
        let broken = false;
        let mails = 0;
        const page = await start(() => {
            if (broken) throw new Error("the emulator is gone");
            return stateWith(mails);
        }, (line) => void lines.push(line));
        const stream = events(page, 2, (index) => {
            if (index === 0) {
                broken = true;
                setTimeout(() => ((broken = false), (mails = 3)), 300);
            }
        });
        const { data } = await stream;
        expect(data.map((d) => (JSON.parse(d) as PageState).mailsReceived)).toEqual([0, 3]);
        expect(lines).toEqual(["[page] the page's state failed; the page keeps the last one: the emulator is gone"]);
    });

    it("refuses a page.html without its inline script", () => {
        expect(() => pageDocument("<html><style>p{}</style></html>")).toThrow(/page\.html has no <script> element/);
    });
});
