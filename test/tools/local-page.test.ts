import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { banner, parsePipelineArgs, startLocalPipeline, USAGE, type LocalPipeline } from "../../tools/local-pipeline";
import { DEFAULT_PAGE_PORT } from "../../tools/local/page";

/**
 * `npm start`'s page in a real browser: Debian's Chromium, headless, driven by playwright-core
 * (no browser download). The pipeline is the real one (SMTP in, mail-ingest, the FIFO queue,
 * tower-dispatch, the PATLITE emulator, on-call and Slack stand-ins); the test sends mail over
 * SMTP and watches the page's DOM, as someone watching the page would.
 *
 * Chromium is launched once for the file; each test starts its own pipeline.
 */

const CHROMIUM = "/usr/bin/chromium";
const ALLOWED_SENDER = "ops@zabbix.example.jp";
const CRITICAL_SUBJECT = "[alertline-test] critical: disk full";
const RECOVERY_SUBJECT = "[alertline-test] recovery: disk full";
/** The red of a lit red lamp in page.html. */
const LIT_RED = "rgb(230, 0, 18)";

/** The few DOM names the page-side callbacks use (the project's tsconfig has no DOM library). */
interface DomElement {
    readonly dataset: Record<string, string | undefined>;
    readonly textContent: string | null;
    querySelector(selector: string): DomElement | null;
    querySelectorAll(selector: string): Iterable<DomElement>;
}
declare const document: DomElement;
declare const window: Record<string, unknown>;
declare function getComputedStyle(element: DomElement): { readonly backgroundColor: string };

const skipReason = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`;
if (skipReason !== undefined) console.warn(`test/tools/local-page.test.ts skipped: ${skipReason}`);

let context: BrowserContext | undefined;
let profile: string | undefined;
let pipeline: LocalPipeline | undefined;
let lines: string[] = [];
/** Console errors and CSP refusals the page reported. */
let pageErrors: string[] = [];

// Chromium's start takes 1–2 s on an idle machine; the hook's own limit keeps it clear of a busy one's.
beforeAll(async () => {
    if (skipReason !== undefined) return;
    profile = mkdtempSync(join(tmpdir(), "alertline-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
}, 60_000);

afterAll(async () => {
    await context?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
});

afterEach(async () => {
    for (const open of context?.pages() ?? []) await open.close();
    await pipeline?.close();
    pipeline = undefined;
});

/** The pipeline (dev stack, every port free, no canary) and its page, open and live. */
async function openPage(): Promise<{ p: LocalPipeline; page: Page }> {
    lines = [];
    pageErrors = [];
    const p = await startLocalPipeline({ smtpPort: 0, pagePort: 0, canarySeconds: 0, log: (line) => void lines.push(line) });
    pipeline = p;
    const page = await context!.newPage();
    page.on("console", (message) => void (message.type() === "error" && pageErrors.push(message.text())));
    page.on("pageerror", (error) => void pageErrors.push(error.message));
    await page.goto(p.pageUrl);
    await page.waitForSelector('#connection[data-live="true"]', { timeout: 10_000 });
    await page.waitForSelector(`[data-tower="${p.towers[0].name}"] .lamp`, { timeout: 10_000 });
    return { p, page };
}

/** Sends over real SMTP; resolves when the server answered the end of DATA. */
async function send(p: LocalPipeline, subject: string, text: string): Promise<void> {
    const transport = createTransport({ host: p.smtpHost, port: p.smtpPort, secure: false, ignoreTLS: true });
    try {
        await transport.sendMail({ from: ALLOWED_SENDER, to: p.alertAddress, subject, text });
    } finally {
        transport.close();
    }
}

const lampSelector = (p: LocalPipeline, lamp: string) => `[data-tower="${p.towers[0].name}"] [data-lamp="${lamp}"]`;

/** Milliseconds until the lamp's mode (as the page shows it) passes the test; throws with the log after `limitMs`. */
async function lampUntil(page: Page, selector: string, modes: readonly string[], limitMs = 5000): Promise<number> {
    const started = performance.now();
    try {
        await page.waitForFunction(({ selector, modes }) => modes.includes(document.querySelector(selector)?.dataset.mode ?? ""), { selector, modes }, { polling: 10, timeout: limitMs });
    } catch (error) {
        throw new Error(`${selector} not ${modes.join("|")} within ${limitMs} ms: ${String(error)}\n${lines.join("\n")}`);
    }
    return performance.now() - started;
}

/** When (performance.now()) the condition first held, polled every 2 ms for at most 5 s. */
async function whenTrue(condition: () => boolean): Promise<number> {
    const started = performance.now();
    while (!condition()) {
        if (performance.now() - started > 5000) throw new Error(`the condition did not hold within 5 s\n${lines.join("\n")}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return performance.now();
}

/** The steps of the listed alert with this subject, as the page shows them. */
function stepsOf(page: Page, subject: string): Promise<{ step: string; status: string; text: string }[]> {
    return page.$$eval(
        "#alerts .alert",
        (items, subject) =>
            (items as unknown as DomElement[])
                .filter((item) => item.querySelector(".subject")?.textContent === subject)
                .flatMap((item) => [...item.querySelectorAll(".step")].map((s) => ({ step: s.dataset.step ?? "", status: s.dataset.status ?? "", text: s.textContent ?? "" }))),
        subject,
    );
}

/** Waits until the alert with this subject shows every step settled (nothing pending). */
async function settledPath(page: Page, subject: string): Promise<{ step: string; status: string; text: string }[]> {
    await page.waitForFunction(
        (subject) => {
            const item = [...document.querySelectorAll("#alerts .alert")].find((i) => i.querySelector(".subject")?.textContent === subject);
            return item !== undefined && [...item.querySelectorAll(".step")].every((s) => s.dataset.status !== "pending");
        },
        subject,
        { polling: 20, timeout: 10_000 },
    );
    return stepsOf(page, subject);
}

describe.skipIf(skipReason !== undefined)("npm start's page in headless Chromium (dev stack)", () => {
    it("turns the red lamp on within a second of a critical mail's SMTP send, lists the mail with its path, and goes back to quiet on the recovery", async () => {
        const { p, page } = await openPage();
        const red = lampSelector(p, "red");
        expect(await page.getAttribute(red, "data-mode")).toBe("off");
        expect(await page.textContent("#alerts")).toBe("no mail yet");

        const emulatorLit = whenTrue(() => p.towers[0].emulator.state().red !== "off");
        await send(p, CRITICAL_SUBJECT, "disk / is 98% full");
        const sent = performance.now();
        const toRed = await lampUntil(page, red, ["on", "flash1", "flash2"]);
        console.log(`local page: red lamp lit on the page ${toRed.toFixed(0)} ms after the SMTP send completed (the emulator: ${((await emulatorLit) - sent).toFixed(0)} ms)`);
        expect(toRed).toBeLessThan(1000);
        // The dev tower's critical signal: red flash 1 with buzzer pattern 1 (DEFAULT_SEVERITY_SIGNALS), drawn in red.
        expect(await page.getAttribute(red, "data-mode")).toBe("flash1");
        expect(await page.$eval(red, (lamp) => getComputedStyle(lamp as unknown as DomElement).backgroundColor)).toBe(LIT_RED);
        expect(await page.textContent(`[data-tower="${p.towers[0].name}"] .buzzer`)).toBe("buzzer pattern 1");
        expect(await page.textContent(`[data-tower="${p.towers[0].name}"] .meta`)).toBe("site tokyo-office · pns");

        expect(await settledPath(page, CRITICAL_SUBJECT)).toEqual([
            { step: "mail", status: "done", text: `mail received: from ${ALLOWED_SENDER}` },
            { step: "classified", status: "done", text: "classified: critical, rule test-critical" },
            { step: "towers", status: "done", text: "towers: dev-desk dispatched" },
            { step: "on-call", status: "done", text: "on-call: paged (alias test=disk full); now opsgenie open" },
            { step: "slack", status: "done", text: "Slack: posted" },
        ]);

        await send(p, RECOVERY_SUBJECT, "disk / is 60% full");
        const toQuiet = await lampUntil(page, red, ["off"]);
        console.log(`local page: red lamp off ${toQuiet.toFixed(0)} ms after the recovery's SMTP send completed`);
        // Quiet is steady green (DEFAULT_SEVERITY_SIGNALS.quiet), buzzer silent.
        await lampUntil(page, lampSelector(p, "green"), ["on"]);
        expect(await page.textContent(`[data-tower="${p.towers[0].name}"] .buzzer`)).toBe("buzzer silent");
        expect(await settledPath(page, RECOVERY_SUBJECT)).toEqual([
            { step: "mail", status: "done", text: `mail received: from ${ALLOWED_SENDER}` },
            { step: "classified", status: "done", text: "classified: recovery, rule test-recovery" },
            { step: "towers", status: "done", text: "towers: dev-desk dispatched" },
            { step: "on-call", status: "done", text: "on-call: closed (alias test=disk full)" },
            { step: "slack", status: "done", text: "Slack: posted" },
        ]);
        // The newest first; the critical one's alert is closed now.
        expect(await page.$$eval("#alerts .alert .subject", (subjects) => subjects.map((s) => s.textContent))).toEqual([RECOVERY_SUBJECT, CRITICAL_SUBJECT]);
        expect((await stepsOf(page, CRITICAL_SUBJECT))[3].text).toBe("on-call: paged (alias test=disk full); now opsgenie closed");
        expect(pageErrors).toEqual([]);
    });

    it("shows a subject full of markup as text: no element, no script run", async () => {
        const { p, page } = await openPage();
        const hostile = `[alertline-test] critical: <script>window.__alertlineInjected = 1</script><img src=x onerror="window.__alertlineInjected = 2"><b>bold</b>`;
        await send(p, hostile, "x");
        await page.waitForSelector("#alerts .alert .subject", { timeout: 10_000 });

        expect(await page.textContent("#alerts .alert .subject")).toBe(hostile);
        expect(await page.$$("#alerts script, #alerts img, #alerts b")).toHaveLength(0);
        expect(await page.evaluate(() => window.__alertlineInjected)).toBeUndefined();
        // The on-call alias carries the subject too (lower-cased by the dev rule's key); the path shows it as text as well.
        const onCall = (await settledPath(page, hostile)).find((s) => s.step === "on-call");
        expect(onCall?.text).toContain("<script>window.__alertlineinjected = 1</script>");
        expect(await page.evaluate(() => window.__alertlineInjected)).toBeUndefined();
        expect(pageErrors).toEqual([]);
    });
});

describe("npm start's --page-port", () => {
    it("takes a port, says its default in the usage, and names the option when the port is bad", () => {
        expect(parsePipelineArgs(["--page-port", "8081"])).toMatchObject({ pagePort: 8081 });
        expect(parsePipelineArgs(["--page-port", "0"])).toMatchObject({ pagePort: 0 });
        expect(DEFAULT_PAGE_PORT).toBe(2580);
        expect(USAGE).toContain("--page-port       where the live page (towers and the last alerts) is served on 127.0.0.1 (default 2580; 0 picks a free port)");
        expect(() => parsePipelineArgs(["--page-port", "70000"])).toThrow(/--page-port must be a port number 0–65535, got "70000"/);
    });

    it("prints the page's address in the banner, and serves the page there", async () => {
        lines = [];
        const p = await startLocalPipeline({ smtpPort: 0, pagePort: 0, canarySeconds: 0, log: (line) => void lines.push(line) });
        pipeline = p;
        expect(p.pageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        expect(banner(p)).toContain(`  page      ${p.pageUrl} in a browser: the towers' lamps and the last 20 mails with their path, live`);
        const response = await fetch(p.pageUrl);
        expect(response.status).toBe(200);
        expect(await response.text()).toContain("<title>alertline: npm start</title>");
        expect(p.pageState().towers.map((t) => t.name)).toEqual(["dev-desk"]);
    });

    it("names --page-port when the port is taken", async () => {
        const taken = createServer();
        await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
        const port = (taken.address() as AddressInfo).port;
        try {
            await expect(startLocalPipeline({ smtpPort: 0, pagePort: port, canarySeconds: 0, log: () => undefined })).rejects.toThrow(
                new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use: pass --page-port <another port> \\(0 picks a free one\\)`),
            );
        } finally {
            await new Promise((resolve) => taken.close(resolve));
        }
    });
});
