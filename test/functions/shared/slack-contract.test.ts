import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as message from "../../../functions/shared/slack-message";
import { buildSlackMessage, minimalSlackMessage, type AlertSummary } from "../../../functions/shared/slack-message";
import { postToSlack, type PostToSlackOptions } from "../../../functions/shared/slack-webhook";
import { BLOCK_KIT_LIMITS } from "../../../tools/local/slack";
import { startSlackSink, type SlackSink } from "./slack-sink";

/**
 * The Slack incoming-webhook contract (fixtures and sources: test/fixtures/contracts/README.md):
 * the stand-in refuses what Slack refuses, the requests alertline really makes pass it, and
 * alertline's client reads Slack's documented answers as Slack means them.
 */

const CONTRACTS = join(__dirname, "../../fixtures/contracts/slack");
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(CONTRACTS, name), "utf8")) as T;
const answers = fixture<{
    ok: { status: number; body: string };
    errors: { status: number; body: string; retry: boolean }[];
    rateLimited: { status: number; headers: Record<string, string> };
}>("webhook-answers.json");
const { source: _limitsSource, ...limits } = fixture<Record<keyof typeof BLOCK_KIT_LIMITS, number> & { source: string }>("block-kit-limits.json");

let sink: SlackSink;
beforeEach(async () => {
    sink = await startSlackSink(undefined, { refusalsExpected: true });
});
afterEach(async () => {
    await sink.close();
});

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const options = (extra: Partial<PostToSlackOptions> = {}): PostToSlackOptions => ({ deadline: Date.now() + 30_000, logger: quiet, sleep: async () => undefined, ...extra });

/** Sends a raw request to the sink and returns Slack's status and body. */
async function send(init: { method?: string; path?: string; contentType?: string | null; body?: string }): Promise<{ status: number; body: string }> {
    const url = new URL(sink.webhookUrl);
    if (init.path !== undefined) url.pathname = init.path;
    const headers: Record<string, string> = {};
    if (init.contentType !== null) headers["content-type"] = init.contentType ?? "application/json";
    const response = await fetch(url, { method: init.method ?? "POST", headers, body: init.body });
    return { status: response.status, body: await response.text() };
}

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
const field = (text: string) => ({ type: "mrkdwn", text });
const json = (payload: unknown) => JSON.stringify(payload);

describe("the Slack stand-in refuses what Slack refuses", () => {
    const webhookPath = () => new URL(sink.webhookUrl).pathname;
    const cases: [string, () => Parameters<typeof send>[0], number, string][] = [
        ["another webhook's secret", () => ({ path: webhookPath().replace(/[^/]+$/, "someoneElsesSecret"), body: json({ text: "x" }) }), 404, "no_service"],
        ["a path that is not /services/T…/B…/<secret>", () => ({ path: "/services/hook", body: json({ text: "x" }) }), 404, "no_service"],
        ["GET", () => ({ method: "GET", body: undefined }), 405, "invalid_method"],
        ["PUT", () => ({ method: "PUT", body: json({ text: "x" }) }), 405, "invalid_method"],
        ["a text/plain body", () => ({ contentType: "text/plain", body: json({ text: "x" }) }), 400, "invalid_payload"],
        ["no content type", () => ({ contentType: null, body: json({ text: "x" }) }), 400, "invalid_payload"],
        ["a form-encoded body", () => ({ contentType: "application/x-www-form-urlencoded", body: `payload=${encodeURIComponent(json({ text: "x" }))}` }), 400, "invalid_payload"],
        ["a body that is not JSON", () => ({ body: "{text: x" }), 400, "invalid_payload"],
        ["a JSON array", () => ({ body: json([{ text: "x" }]) }), 400, "invalid_payload"],
        ["neither text nor blocks", () => ({ body: json({ username: "alertline" }) }), 400, "no_text"],
        ["51 blocks", () => ({ body: json({ text: "x", blocks: Array.from({ length: 51 }, () => section("x")) }) }), 400, "invalid_blocks"],
        ["a section of 3001 characters", () => ({ body: json({ text: "x", blocks: [section("a".repeat(3001))] }) }), 400, "invalid_blocks"],
        ["an empty section text", () => ({ body: json({ text: "x", blocks: [section("")] }) }), 400, "invalid_blocks"],
        ["a section with neither text nor fields", () => ({ body: json({ text: "x", blocks: [{ type: "section" }] }) }), 400, "invalid_blocks"],
        ["11 fields", () => ({ body: json({ text: "x", blocks: [{ type: "section", fields: Array.from({ length: 11 }, () => field("f")) }] }) }), 400, "invalid_blocks"],
        ["a field of 2001 characters", () => ({ body: json({ text: "x", blocks: [{ type: "section", fields: [field("f".repeat(2001))] }] }) }), 400, "invalid_blocks"],
        ["a header of 151 characters", () => ({ body: json({ text: "x", blocks: [{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }] }) }), 400, "invalid_blocks"],
        ["a header in mrkdwn", () => ({ body: json({ text: "x", blocks: [{ type: "header", text: { type: "mrkdwn", text: "*h*" } }] }) }), 400, "invalid_blocks"],
        ["a context of 11 elements", () => ({ body: json({ text: "x", blocks: [{ type: "context", elements: Array.from({ length: 11 }, () => field("c")) }] }) }), 400, "invalid_blocks"],
        ["a block type Slack does not have", () => ({ body: json({ text: "x", blocks: [{ type: "paragraph", text: "x" }] }) }), 400, "invalid_blocks"],
        ["an attachment's broken blocks", () => ({ body: json({ text: "x", attachments: [{ color: "#f00", blocks: [section("")] }] }) }), 400, "invalid_blocks"],
    ];
    for (const [what, request, status, body] of cases) {
        it(`${what}: ${status} ${body}`, async () => {
            expect(await send(request())).toEqual({ status, body });
            expect(sink.refused).toHaveLength(1);
            expect(sink.refused[0].refusal).toMatchObject({ status, body });
        });
    }

    it("takes a message at every limit (50 blocks, 3000-character section, 150-character header, 10 fields of 2000)", async () => {
        const blocks = [
            { type: "header", text: { type: "plain_text", text: "h".repeat(150) } },
            section("s".repeat(3000)),
            { type: "section", fields: Array.from({ length: 10 }, () => field("f".repeat(2000))) },
            { type: "context", elements: Array.from({ length: 10 }, () => field("c")) },
            ...Array.from({ length: 46 }, () => ({ type: "divider" })),
        ];
        expect(blocks).toHaveLength(50);
        expect(await send({ body: json({ text: "x", blocks }) })).toEqual(answers.ok);
        expect(await send({ contentType: "application/json; charset=utf-8", body: readFileSync(join(CONTRACTS, "hello-world.json"), "utf8") })).toEqual(answers.ok);
        expect(sink.refused).toEqual([]);
    });

    it("keeps the limits of the documented table", () => {
        expect(BLOCK_KIT_LIMITS).toEqual(limits);
    });
});

describe("the messages alertline builds pass the stand-in", () => {
    const long = (n: number) => "x".repeat(n);
    const alerts: AlertSummary[] = [
        { source: "cloudwatch", state: "ALARM", title: "disk full on db-2", reason: "Threshold crossed", fields: [{ label: "Metric", value: "DiskUsed" }], consoleUrl: "https://console.aws.amazon.com/cloudwatch/home", consoleLabel: "Open in CloudWatch", region: "ap-northeast-1", account: "123456789012" },
        { source: "mail", state: "OK", title: long(500), reason: long(10_000), fields: Array.from({ length: 25 }, (_, i) => ({ label: `field ${i}`, value: long(3000) })), details: long(20_000) },
        { source: "datadog", state: "WARN", title: "`*_~<&>`", fields: [] },
    ];

    it("delivers buildSlackMessage's payloads, clipped ones included, and the minimal one", async () => {
        for (const alert of alerts) {
            for (const payload of [buildSlackMessage(alert), buildSlackMessage(alert, { colourBar: true, environment: "dev" })]) {
                expect(await postToSlack(sink.webhookUrl, payload, options())).toEqual({ kind: "delivered", attempts: 1 });
            }
        }
        expect(await postToSlack(sink.webhookUrl, minimalSlackMessage(long(10_000)), options())).toEqual({ kind: "delivered", attempts: 1 });
        expect(sink.refused.map((r) => r.refusal.reason)).toEqual([]);
        expect(sink.requests.every((r) => r.method === "POST" && r.headers["content-type"]?.startsWith("application/json"))).toBe(true);
    });

    it("builds to limits no larger than Slack's", () => {
        expect(message.MAX_BLOCKS).toBeLessThanOrEqual(limits.blocks);
        expect(message.SECTION_TEXT_MAX).toBeLessThanOrEqual(limits.sectionText);
        expect(message.MAX_SECTION_FIELDS).toBeLessThanOrEqual(limits.sectionFields);
        expect(message.FIELD_TEXT_MAX).toBeLessThanOrEqual(limits.fieldText);
        expect(message.HEADER_TEXT_MAX).toBeLessThanOrEqual(limits.headerText);
        expect(message.CONTEXT_TEXT_MAX).toBeLessThanOrEqual(limits.textObject);
    });
});

describe("alertline's client reads Slack's documented answers", () => {
    const payload = minimalSlackMessage("disk full on db-2");

    for (const error of answers.errors) {
        it(`${error.status} ${error.body}: ${error.retry ? "thrown for Lambda to retry" : "dropped, naming Slack's error"}`, async () => {
            sink.answer({ status: error.status, body: error.body });
            const outcome = postToSlack(sink.webhookUrl, payload, options());
            if (error.retry) await expect(outcome).rejects.toMatchObject({ name: "SlackDeliveryError", failure: "server-error", status: error.status });
            else await expect(outcome).resolves.toMatchObject({ kind: "dropped", status: error.status, slackError: error.body });
        });
    }

    it("429 with Retry-After: waits that long, then delivers", async () => {
        const waits: number[] = [];
        sink.answer({ status: answers.rateLimited.status, body: "", headers: answers.rateLimited.headers }, answers.ok);
        const outcome = await postToSlack(sink.webhookUrl, payload, options({ sleep: async (ms) => void waits.push(ms) }));
        expect(outcome).toEqual({ kind: "delivered", attempts: 2 });
        expect(waits).toEqual([Number(answers.rateLimited.headers["retry-after"]) * 1000]);
    });

    it("a refusal of the stand-in is never mistaken for delivery", async () => {
        const wrong = sink.webhookUrl.replace(/[^/]+$/, "notThisHook");
        await expect(postToSlack(wrong, payload, options())).resolves.toMatchObject({ kind: "dropped", status: 404, slackError: "no_service" });
    });
});
