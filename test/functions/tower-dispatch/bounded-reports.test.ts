import * as net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ALERT_MESSAGE_MAX_BYTES } from "../../../functions/shared/bounded-json";
import { parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";
import { buildSlackMessage, SECTION_TEXT_MAX } from "../../../functions/shared/slack-message";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { lambdaContext, makeIntent, sqsEvent, startHarness, type Harness } from "./harness";

/**
 * Issue 11, "bounded reports": a peer on the tower's port that streams bytes makes a short
 * "unreachable" report (it made 394 KB of hex, which SNS refused), through the real handler, the
 * SNS stand-in (which refuses what SNS refuses over 256 KB) and the Slack formatting it feeds.
 */

let dynamo: LocalDynamo;
let harness: Harness | undefined;
const servers: net.Server[] = [];

beforeAll(async () => {
    dynamo = await startDynalite();
});
afterEach(async () => {
    await harness?.close();
    harness = undefined;
    await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});
afterAll(async () => {
    await dynamo.close();
});

/** Listens on `port` and streams pseudo-random garbage at every connection until it hangs up. */
async function streamGarbage(port: number): Promise<{ sent: () => number }> {
    let sent = 0;
    const chunk = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 37 + 11) % 256));
    const server = net.createServer((socket) => {
        socket.on("error", () => undefined);
        const pump = () => {
            while (!socket.destroyed && socket.write(chunk)) sent += chunk.length;
        };
        socket.on("drain", pump);
        pump();
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    servers.push(server);
    return { sent: () => sent };
}

describe("a peer streaming garbage on the tower's port", () => {
    for (const protocol of ["pns", "phn", "la6"] as const) {
        it(`gives one short ${protocol} "unreachable" report that says what answered`, async () => {
            harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol }], { relayOptions: { timeoutMs: 3000 } });
            const port = harness.towers[0].port;
            await harness.stopTower("tokyo-ops");
            const peer = await streamGarbage(port);

            const started = Date.now();
            expect(await harness.handler(sqsEvent([makeIntent("tokyo-ops", "web-1/cpu", "critical")]), lambdaContext())).toEqual({ batchItemFailures: [] });
            // Each attempt is dropped at the first chunk, not read until the 3 s timeout.
            expect(Date.now() - started).toBeLessThan(3000);
            expect(peer.sent()).toBeGreaterThan(64 * 1024);

            expect(harness.sns.messages).toHaveLength(1);
            const report = harness.sns.messages[0];
            expect(Buffer.byteLength(report.message)).toBeLessThan(4096);
            expect(Buffer.byteLength(report.message)).toBeLessThan(ALERT_MESSAGE_MAX_BYTES);
            const json = report.json as { title: string; error: string };
            expect(json.title).toBe("PATLITE tower unreachable: tokyo-ops");
            expect(json.error).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} answered \\d+ bytes of something that is not (PNS|PHN)`));

            // And what Slack gets from it stays within Block Kit's limits.
            const slack = buildSlackMessage(parseSnsMessage(report.message));
            for (const block of slack.blocks) if (block.type === "section" && block.text) expect(block.text.text.length).toBeLessThanOrEqual(SECTION_TEXT_MAX);
        });
    }
});
