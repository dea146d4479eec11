import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlertThreads, readStoredSummary, storableSummary, STORED_SUMMARY_MAX_BYTES, type AlertThreads } from "../../../functions/slack-notifier/alert-threads";
import type { AlertSummary } from "../../../functions/shared/slack-message";
import { startStateTable, type LocalStateTable } from "../../../tools/local/dynamo";

const alarm = (reason: string, state: AlertSummary["state"] = "ALARM"): AlertSummary => ({
    source: "cloudwatch",
    state,
    title: "web-1 CPU",
    reason,
    fields: [{ label: "Metric", value: "CPUUtilization" }],
    raw: { AlarmArn: "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:web-1", big: "r".repeat(100_000) },
});

let dynamo: LocalStateTable;
let threads: AlertThreads;
const T0 = Date.parse("2026-12-05T10:00:00Z");
let n = 0;
const freshKey = () => `thread#test${++n}`;

beforeAll(async () => {
    dynamo = await startStateTable("alertline-dev-flood");
    threads = createAlertThreads(dynamo.documentClient, dynamo.table, 90_000);
});
afterAll(async () => {
    await dynamo?.close();
});

describe("the stored summary", () => {
    it("keeps what is rendered, never the parsed input, and stays bounded", () => {
        const json = storableSummary(alarm("x".repeat(200_000)));
        expect(Buffer.byteLength(json)).toBeLessThanOrEqual(STORED_SUMMARY_MAX_BYTES);
        expect(json).not.toContain("AlarmArn");
        const back = readStoredSummary(json)!;
        expect(back.title).toBe("web-1 CPU");
        expect(back.reason!.length).toBeLessThan(9000);
        expect(/^x+…\[truncated\]\n\(fields cut to \d+ characters/.test(back.reason!)).toBe(true);
    });

    it("reads back whatever was stored type by type, and nothing from unreadable JSON", () => {
        expect(readStoredSummary('{"title":5,"state":"constructor","fields":[{"label":"a","value":"b"},{"label":1}]}')).toEqual({ source: "unknown", state: "UNKNOWN", title: "(title not kept)", fields: [{ label: "a", value: "b" }] });
        expect(readStoredSummary("{not json")).toBeUndefined();
    });
});

describe("createAlertThreads on dynalite", () => {
    it("counts each event as a new version with the latest summary, and sets the TTL", async () => {
        const key = freshKey();
        await threads.record(key, alarm("first"), T0, "m1");
        const second = await threads.record(key, alarm("second", "OK"), T0 + 5000, "m2");
        expect(second).toMatchObject({ version: 2, count: 2, rendered: 0, lastEventAt: T0 + 5000 });
        expect(second.summary).toMatchObject({ state: "OK", reason: "second" });
        const stored = await dynamo.documentClient.send(new GetCommand({ TableName: dynamo.table, Key: { pk: key } }));
        expect(stored.Item?.expiresAt).toBe(Math.floor((T0 + 5000) / 1000) + 90_000);
    });

    it("does not count Lambda's retry of the same SNS message twice", async () => {
        const key = freshKey();
        await threads.record(key, alarm("first"), T0, "m1");
        const again = await threads.record(key, alarm("first"), T0 + 1000, "m1");
        expect(again).toMatchObject({ version: 1, count: 1 });
    });

    it("lets exactly one of many concurrent invocations take the lease", async () => {
        const key = freshKey();
        await Promise.all(Array.from({ length: 10 }, (_, i) => threads.record(key, alarm(`e${i}`), T0, `m${i}`)));
        const takes = await Promise.all(Array.from({ length: 10 }, (_, i) => threads.acquire(key, `token-${i}`, T0, T0 + 60_000)));
        const winners = takes.filter((t) => t !== undefined);
        expect(winners).toHaveLength(1);
        expect(winners[0]).toMatchObject({ version: 10, count: 10 });
    });

    it("gives no lease when every version is shown, and takes over a lease whose holder ran out of time", async () => {
        const key = freshKey();
        await threads.record(key, alarm("e"), T0, "m1");
        expect(await threads.acquire(key, "a", T0, T0 + 1000)).toBeDefined();
        expect(await threads.acquire(key, "b", T0 + 500, T0 + 2000)).toBeUndefined();
        // a's deadline passed without a render: b takes over, and a can no longer mark anything.
        expect(await threads.acquire(key, "b", T0 + 1001, T0 + 60_000)).toBeDefined();
        expect(await threads.markRendered(key, "a", { version: 1, state: "ALARM", count: 1 })).toBeUndefined();
        const marked = await threads.markRendered(key, "b", { version: 1, state: "ALARM", count: 1 }, { channel: "C1", ts: "1764928800.000100", postedAt: T0 / 1000, baseCount: 0 });
        expect(marked).toMatchObject({ rendered: 1, ts: "1764928800.000100", channel: "C1", renderedState: "ALARM" });
        expect((await threads.release(key, "b")).status).toBe("released");
        expect(await threads.acquire(key, "c", T0 + 2000, T0 + 60_000)).toBeUndefined();
    });

    it("keeps the lease (release says 'newer') when an event arrived during the render, and hands it over after", async () => {
        const key = freshKey();
        await threads.record(key, alarm("one"), T0, "m1");
        await threads.acquire(key, "holder", T0, T0 + 60_000);
        const during = await threads.record(key, alarm("two", "OK"), T0 + 100, "m2");
        expect(await threads.acquire(key, "other", T0 + 100, T0 + 60_000)).toBeUndefined();
        await threads.markRendered(key, "holder", { version: 1, state: "ALARM", count: 1 });
        expect((await threads.release(key, "holder")).status).toBe("newer");
        await threads.markRendered(key, "holder", { version: during.version, state: "OK", count: 2 });
        expect((await threads.release(key, "holder")).status).toBe("released");
        expect(await threads.get(key)).toMatchObject({ version: 2, rendered: 2, renderedState: "OK", lease: undefined });
    });

    it("never marks an older version over a newer one", async () => {
        const key = freshKey();
        await threads.record(key, alarm("one"), T0, "m1");
        await threads.record(key, alarm("two"), T0, "m2");
        await threads.acquire(key, "h", T0, T0 + 60_000);
        await threads.markRendered(key, "h", { version: 2, state: "ALARM", count: 2 });
        await threads.markRendered(key, "h", { version: 1, state: "OK", count: 1 });
        expect(await threads.get(key)).toMatchObject({ rendered: 2, renderedState: "ALARM" });
    });

    it("abandons a lease so the next invocation renders, and only its own", async () => {
        const key = freshKey();
        await threads.record(key, alarm("one"), T0, "m1");
        await threads.acquire(key, "h", T0, T0 + 60_000);
        await threads.abandon(key, "someone-else");
        expect(await threads.acquire(key, "next", T0, T0 + 60_000)).toBeUndefined();
        await threads.abandon(key, "h");
        expect(await threads.acquire(key, "next", T0, T0 + 60_000)).toBeDefined();
    });
});

describe("the expressions sent to DynamoDB", () => {
    it("name every attribute through a placeholder (DynamoDB reserves COUNT and hundreds more) and declare no unused one", async () => {
        const sent: { UpdateExpression?: string; ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string> }[] = [];
        const recording = {
            send: async (command: { input: (typeof sent)[number] }) => {
                sent.push(command.input);
                return { Attributes: { version: 1, count: 1, rendered: 0, lease: "t" }, Item: { version: 1, lease: "t" } };
            },
        } as unknown as Parameters<typeof createAlertThreads>[0];
        const store = createAlertThreads(recording, "t", 60);
        await store.record("k", alarm("x"), T0, "m1");
        await store.record("k", alarm("x"), T0);
        await store.acquire("k", "t", T0, T0 + 1);
        await store.markRendered("k", "t", { version: 1, state: "OK", count: 1 }, { channel: "C1", ts: "1.000001", postedAt: 1, baseCount: 0 });
        await store.release("k", "t");
        await store.abandon("k", "t");
        const updates = sent.filter((input) => input.UpdateExpression !== undefined);
        expect(updates).toHaveLength(6);
        const keywords = new Set(["SET", "ADD", "REMOVE", "AND", "OR", "attribute_exists", "attribute_not_exists"]);
        for (const input of updates) {
            const text = `${input.UpdateExpression} ${input.ConditionExpression ?? ""}`;
            const bare = (text.replace(/[#:]\w+/g, "").match(/[A-Za-z_]\w*/g) ?? []).filter((word) => !keywords.has(word));
            expect(bare, text).toEqual([]);
            const used = [...new Set(text.match(/#\w+/g))].sort();
            expect(Object.keys(input.ExpressionAttributeNames ?? {}).sort(), text).toEqual(used);
        }
    });
});
