import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import { parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";
import { fifoBatchItemFailures, parseIntent, processTower, type DispatchContext } from "../../../functions/tower-dispatch/dispatch";
import { createRelay } from "../../../functions/tower-dispatch/relay";
import { applyIntents } from "../../../functions/tower-dispatch/tower-state";
import { createHandler } from "../../../functions/tower-dispatch/handler";
import { createStateStore } from "../../../functions/tower-dispatch/state-store";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { expectedSignal, HARNESS_NOW, lambdaContext, makeIntent, sqsEvent, sqsRecord, startHarness, type Harness } from "./harness";

const CRITICAL = expectedSignal(DEFAULT_SEVERITY_SIGNALS.critical);
const WARNING = expectedSignal(DEFAULT_SEVERITY_SIGNALS.warning);
const QUIET = expectedSignal(DEFAULT_SEVERITY_SIGNALS.quiet);

let dynamo: LocalDynamo;
let harness: Harness | undefined;

beforeAll(async () => {
    dynamo = await startDynalite();
});
afterEach(async () => {
    await harness?.close();
    harness = undefined;
});
afterAll(async () => {
    await dynamo.close();
});

async function oneTower(protocol: "pns" | "phn" | "la6" = "pns") {
    harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol, site: "tokyo" }]);
    return { h: harness, tower: harness.emulators.get("tokyo-ops")! };
}

const run = (h: Harness, ...items: Parameters<typeof sqsEvent>[0]) => h.handler(sqsEvent(items), lambdaContext());
const stored = (h: Harness, tower = "tokyo-ops") => createStateStore(dynamo.documentClient, h.table).load(tower);

describe("tower-dispatch handler", () => {
    it("lights the tower for a critical alert and keeps the alert in DynamoDB", async () => {
        const { h, tower } = await oneTower();
        const intent = makeIntent("tokyo-ops", "web-1/cpu", "critical");
        expect(await run(h, intent)).toEqual({ batchItemFailures: [] });
        expect(tower.state()).toEqual(CRITICAL);
        expect(tower.commands).toHaveLength(1);
        const { state, version } = await stored(h);
        expect(version).toBe(1);
        expect([...state.active.keys()]).toEqual(["web-1/cpu"]);
        expect(state.active.get("web-1/cpu")!.messageId).toBe(intent.messageId);
        expect(state.shown).toEqual(CRITICAL);
        expect(h.sns.messages).toHaveLength(0);
    });

    it("sends one command for the same intent delivered twice, in one batch or in two", async () => {
        const { h, tower } = await oneTower();
        const intent = makeIntent("tokyo-ops", "web-1/cpu", "critical");
        await run(h, intent, intent);
        await run(h, intent);
        expect(tower.commands).toHaveLength(1);
        expect(tower.state()).toEqual(CRITICAL);
        expect((await stored(h)).state.recentMessageIds).toEqual([intent.messageId]);
    });

    it("a duplicate delivered after the recovery does not light the tower again", async () => {
        const { h, tower } = await oneTower();
        const problem = makeIntent("tokyo-ops", "web-1/cpu", "critical");
        await run(h, problem);
        await run(h, makeIntent("tokyo-ops", "web-1/cpu", "recovery"));
        await run(h, problem);
        expect(tower.state()).toEqual(QUIET);
        expect(tower.commands).toHaveLength(2);
    });

    it("sends only real changes: more problems of a shown severity cost no command", async () => {
        const { h, tower } = await oneTower();
        await run(h, makeIntent("tokyo-ops", "web-1/cpu", "critical"));
        await run(h, makeIntent("tokyo-ops", "web-2/cpu", "critical"), makeIntent("tokyo-ops", "db-1/disk", "warning"));
        expect(tower.commands).toHaveLength(1);
        await run(h, makeIntent("tokyo-ops", "web-1/cpu", "recovery"));
        expect(tower.commands).toHaveLength(1); // web-2 is still critical
        await run(h, makeIntent("tokyo-ops", "web-2/cpu", "recovery"));
        expect(tower.state()).toEqual(WARNING);
        await run(h, makeIntent("tokyo-ops", "db-1/disk", "recovery"));
        expect(tower.state()).toEqual(QUIET);
        expect(tower.commands).toHaveLength(3);
    });

    it("a problem and its recovery in one batch cost nothing once the tower is known to be quiet", async () => {
        const { h, tower } = await oneTower();
        await run(h, makeIntent("tokyo-ops", "a", "info"));
        expect(tower.commands).toHaveLength(1);
        await run(h, makeIntent("tokyo-ops", "b", "critical"), makeIntent("tokyo-ops", "b", "recovery"));
        expect(tower.commands).toHaveLength(1);
        expect(tower.state()).toEqual(QUIET);
    });

    it("drives PHN and LA6 towers too", async () => {
        harness = await startHarness(dynamo, [
            { name: "osaka-phn", protocol: "phn" },
            { name: "nagoya-la6", protocol: "la6" },
        ]);
        await run(harness, makeIntent("osaka-phn", "x", "warning"), makeIntent("nagoya-la6", "y", "warning"));
        expect(harness.emulators.get("osaka-phn")!.state()).toEqual(WARNING);
        expect(harness.emulators.get("nagoya-la6")!.state()).toEqual(WARNING);
    });

    it("retries a NAK and succeeds on the second attempt, without reporting anything", async () => {
        const { h, tower } = await oneTower();
        tower.failNext(1, "nak");
        expect(await run(h, makeIntent("tokyo-ops", "a", "critical"))).toEqual({ batchItemFailures: [] });
        expect(tower.commands).toHaveLength(2);
        expect(tower.state()).toEqual(CRITICAL);
        expect(h.sleeps).toEqual([10]);
        const sent = h.logs.find((l) => l.message.includes("acknowledged"));
        expect(sent?.attributes[0]).toMatchObject({ tower: "tokyo-ops", attempts: 2 });
        expect(h.sns.messages).toHaveLength(0);
        expect((await stored(h)).state.lastSendFailed).toBe(false);
    });

    it("reports a tower that stays silent beyond the retries once, without failing the batch", async () => {
        const { h, tower } = await oneTower();
        tower.failNext(3, "silent");
        expect(await run(h, makeIntent("tokyo-ops", "a", "critical"))).toEqual({ batchItemFailures: [] });
        expect(tower.commands).toHaveLength(3);
        expect(h.sns.messages).toHaveLength(1);
        const report = h.sns.messages[0].json!;
        expect(report).toMatchObject({
            title: "PATLITE tower unreachable: tokyo-ops",
            state: "ALARM",
            site: "tokyo",
            tower: "tokyo-ops",
            address: `127.0.0.1:${tower.port}`,
            relay: "vpn",
            attempts: 3,
            wanted: "red:flash1 buzzer:1",
            environment: "dev",
        });
        expect(String(report.error)).toMatch(/no answer within 100 ms/);
        const { state } = await stored(h);
        expect(state.lastSendFailed).toBe(true);
        expect(state.shown).toBeNull();
        expect(state.unreachable?.since).toBe(new Date(HARNESS_NOW).toISOString());
    });

    it("reports in a shape slack-notifier reads as an alarm with the site and address as fields", async () => {
        const { h, tower } = await oneTower();
        tower.failNext(3, "close");
        await run(h, makeIntent("tokyo-ops", "a", "critical"));
        const summary = parseSnsMessage(h.sns.messages[0].message);
        expect(summary.state).toBe("ALARM");
        expect(summary.title).toBe("PATLITE tower unreachable: tokyo-ops");
        expect(summary.reason).toMatch(/3 attempts to show "red:flash1 buzzer:1" failed: .*closed the connection/);
        const fields = Object.fromEntries(summary.fields.map((f) => [f.label, f.value]));
        expect(fields).toMatchObject({ site: "tokyo", address: `127.0.0.1:${tower.port}`, relay: "vpn", attempts: "3" });
    });

    it("reports an outage once, resends the wanted state when the tower is back, and says it is reachable again", async () => {
        const { h } = await oneTower();
        await run(h, makeIntent("tokyo-ops", "a", "warning"));
        await h.stopTower("tokyo-ops");
        await run(h, makeIntent("tokyo-ops", "b", "critical"));
        await run(h, makeIntent("tokyo-ops", "c", "critical"));
        await run(h, makeIntent("tokyo-ops", "d", "info"));
        expect(h.sns.messages.map((m) => m.json?.title)).toEqual(["PATLITE tower unreachable: tokyo-ops"]);
        expect(String(h.sns.messages[0].json?.error)).toMatch(/refused/);

        const back = await h.restartTower("tokyo-ops");
        // This intent changes nothing the tower should show; the tower is still resent what it should show.
        await run(h, makeIntent("tokyo-ops", "e", "info"));
        expect(back.commands).toHaveLength(1);
        expect(back.state()).toEqual(CRITICAL);
        expect(h.sns.messages.map((m) => [m.json?.title, m.json?.state])).toEqual([
            ["PATLITE tower unreachable: tokyo-ops", "ALARM"],
            ["PATLITE tower reachable again: tokyo-ops", "OK"],
        ]);
        const { state } = await stored(h);
        expect(state).toMatchObject({ lastSendFailed: false, unreachable: null, shown: CRITICAL });
        await run(h, makeIntent("tokyo-ops", "f", "info"));
        expect(back.commands).toHaveLength(1);
    });

    it("skips and reports malformed bodies and unknown towers, and still applies the good records", async () => {
        const { h, tower } = await oneTower();
        const bad = [
            sqsRecord("not json {", "tokyo-ops"),
            sqsRecord(JSON.stringify({ ...makeIntent("tokyo-ops", "a", "critical"), version: 2 })),
            sqsRecord(JSON.stringify({ ...makeIntent("tokyo-ops", "a", "critical"), alertKey: "" })),
            sqsRecord(JSON.stringify({ ...makeIntent("tokyo-ops", "a", "critical"), severity: "ignore" })),
            sqsRecord(makeIntent("kyoto-lab", "a", "critical")),
        ];
        const good = sqsRecord(makeIntent("tokyo-ops", "web-1/cpu", "critical"));
        const result = await h.handler({ Records: [...bad, good] }, lambdaContext());
        expect(result).toEqual({ batchItemFailures: [] });
        expect(tower.state()).toEqual(CRITICAL);
        expect([...(await stored(h)).state.active.keys()]).toEqual(["web-1/cpu"]);
        expect(h.sns.messages).toHaveLength(1);
        const report = h.sns.messages[0].json as { title: string; state: string; skipped: { messageId: string; problem: string }[] };
        expect(report.state).toBe("WARN");
        expect(report.title).toBe("tower-dispatch skipped 5 signal intents");
        expect(report.skipped.map((s) => s.messageId)).toEqual(bad.map((r) => r.messageId));
        const problems = report.skipped.map((s) => s.problem);
        expect(problems[0]).toMatch(/not JSON/);
        expect(problems[1]).toMatch(/version is 2/);
        expect(problems[2]).toMatch(/alertKey must be a non-empty string/);
        expect(problems[3]).toMatch(/severity is "ignore"/);
        expect(problems[4]).toMatch(/tower "kyoto-lab" is not in towers.json/);
        expect(h.logs.some((l) => l.level === "error" && l.message.includes("dead-letter queue"))).toBe(true);
        // Each has its own record in the dead-letter queue: the body unchanged, the reason beside it.
        expect(h.dlq.accepted.map((m) => m.MessageDeduplicationId)).toEqual(bad.map((r) => r.messageId));
        expect(h.dlq.accepted.map((m) => m.MessageBody)).toEqual(bad.map((r) => r.body));
        expect(h.dlq.accepted.map((m) => m.MessageGroupId)).toEqual(bad.map((r) => r.attributes.MessageGroupId));
        expect(h.dlq.accepted[4].MessageAttributes?.reason.StringValue).toMatch(/tower "kyoto-lab" is not in towers.json/);
    });

    it("fails a tower's records and every later record of its group when its state cannot be read, and only those", async () => {
        harness = await startHarness(dynamo, [
            { name: "tokyo-ops", protocol: "pns" },
            { name: "osaka-ops", protocol: "pns" },
        ]);
        await dynamo.documentClient.send(new PutCommand({ TableName: harness.table, Item: { pk: "tower#osaka-ops", version: "one" } }));
        const records = [
            sqsRecord(makeIntent("tokyo-ops", "a", "critical")),
            sqsRecord(makeIntent("osaka-ops", "b", "critical")),
            sqsRecord("garbage", "osaka-ops"),
            sqsRecord(makeIntent("tokyo-ops", "c", "warning")),
            sqsRecord(makeIntent("osaka-ops", "d", "warning")),
        ];
        const result = await harness.handler({ Records: records }, lambdaContext());
        expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([records[1], records[2], records[4]].map((r) => r.messageId));
        expect(harness.emulators.get("tokyo-ops")!.state()).toEqual(CRITICAL);
        expect(harness.emulators.get("osaka-ops")!.commands).toHaveLength(0);
        expect(harness.logs.some((l) => l.level === "error" && JSON.stringify(l.attributes).includes("tower#osaka-ops"))).toBe(true);
    });

    it("fails the records when the unreachable report cannot be published, and reports on the redelivery", async () => {
        const { h } = await oneTower();
        await h.stopTower("tokyo-ops");
        h.sns.failNext(1);
        const record = sqsRecord(makeIntent("tokyo-ops", "a", "critical"));
        expect(await h.handler({ Records: [record] }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
        expect((await stored(h)).version).toBe(0);
        expect(await h.handler({ Records: [record] }, lambdaContext())).toEqual({ batchItemFailures: [] });
        expect(h.sns.messages.map((m) => m.json?.title)).toEqual(["PATLITE tower unreachable: tokyo-ops"]);
    });

    it("handles towers of one batch in parallel with one connection per tower", async () => {
        harness = await startHarness(dynamo, [
            { name: "t1", protocol: "pns" },
            { name: "t2", protocol: "phn" },
            { name: "t3", protocol: "la6" },
        ]);
        const intents = ["t1", "t2", "t3"].flatMap((t) => [makeIntent(t, "a", "critical"), makeIntent(t, "b", "warning")]);
        await run(harness, ...intents);
        for (const emulator of harness.emulators.values()) {
            expect(emulator.state()).toEqual(CRITICAL);
            expect(emulator.commands).toHaveLength(1);
            expect(emulator.maxConcurrentConnections()).toBe(1);
        }
    });

    it("drops an alert whose last mail is older than 7 days, and says so in the log", async () => {
        const { h, tower } = await oneTower();
        const eightDaysAgo = new Date(HARNESS_NOW - 8 * 86_400_000).toISOString();
        await run(h, makeIntent("tokyo-ops", "stale", "critical", { receivedAt: eightDaysAgo }), makeIntent("tokyo-ops", "fresh", "warning"));
        expect(tower.state()).toEqual(WARNING);
        expect([...(await stored(h)).state.active.keys()]).toEqual(["fresh"]);
        expect(h.logs.find((l) => l.message.includes("Dropped alerts"))?.attributes[0]).toMatchObject({ expired: ["stale"] });
    });

    it("starts again from the stored state when another writer saved in between, and resends", async () => {
        const { h, tower } = await oneTower();
        const store = createStateStore(dynamo.documentClient, h.table, () => HARNESS_NOW);
        const relay = createRelay({ options: { timeoutMs: 100, sleep: async () => undefined } });
        let interfered = false;
        const ctx: DispatchContext = {
            towers: new Map(h.towers.map((t) => [t.name, t])),
            store,
            // While our command is on its way, another dispatcher records a new critical alert.
            relay: async (t, signal) => {
                if (!interfered) {
                    interfered = true;
                    const other = await store.load(t.name);
                    await store.save(t.name, applyIntents(other.state, [makeIntent("tokyo-ops", "other", "critical")]), other.version);
                }
                return relay(t, signal);
            },
            publish: async () => undefined,
            deadLetter: async () => undefined,
            logger: { info: () => undefined, warn: (message) => void h.logs.push({ level: "warn", message, attributes: [] }), error: () => undefined },
            now: () => HARNESS_NOW,
        };
        const outcome = await processTower(h.towers[0], [makeIntent("tokyo-ops", "mine", "warning")], ctx);
        const { state, version } = await stored(h);
        expect([...state.active.keys()].sort()).toEqual(["mine", "other"]);
        expect(version).toBe(outcome.version);
        expect(tower.commands).toHaveLength(2);
        expect(tower.state()).toEqual(CRITICAL);
        expect(state.shown).toEqual(CRITICAL);
        expect(h.logs.some((l) => l.message.includes("Another writer"))).toBe(true);
    });

    it("answers an empty event with no failures", async () => {
        const { h } = await oneTower();
        expect(await h.handler({ Records: [] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    });

    it("fails the whole batch with a clear message when STATE_TABLE is not set", async () => {
        const { h } = await oneTower();
        const handler = createHandler({
            dynamo: dynamo.documentClient,
            sns: h.sns.client(),
            sqs: h.dlq.client(),
            ssm: undefined as never,
            logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
            towers: () => h.towers,
            stateTable: undefined,
            alertTopicArn: h.sns.topicArn,
            deadLetterQueueUrl: h.dlq.queueUrl,
        });
        await expect(handler(sqsEvent([makeIntent("tokyo-ops", "a", "critical")]), lambdaContext())).rejects.toThrow(/STATE_TABLE is not set: set it to the name/);
    });
});

describe("parseIntent", () => {
    it("keeps an intent whose receivedAt is unreadable, using the processing time", () => {
        const parsed = parseIntent(JSON.stringify({ ...makeIntent("t", "k", "warning"), receivedAt: "yesterday" }), HARNESS_NOW);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.intent.receivedAt).toBe(new Date(HARNESS_NOW).toISOString());
        expect(parsed.notes.join()).toMatch(/receivedAt "yesterday"/);
    });
});

describe("fifoBatchItemFailures", () => {
    const records = ["a", "b", "a", "b", "a", "c"].map((group, i) => ({ messageId: `m${i}`, group }));
    const ids = (failed: number[]) => fifoBatchItemFailures(records, new Set(failed)).map((f) => f.itemIdentifier);

    it("reports a failed record and every later record of its group, and nothing of other groups", () => {
        expect(ids([])).toEqual([]);
        expect(ids([1])).toEqual(["m1", "m3"]);
        expect(ids([2])).toEqual(["m2", "m4"]);
        expect(ids([4, 5])).toEqual(["m4", "m5"]);
        expect(ids([0, 3])).toEqual(["m0", "m2", "m3", "m4"]);
    });
});
