import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { storedKey } from "../../../functions/shared/alert-key";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import { cannotApply, deadLetterInput } from "../../../functions/tower-dispatch/dispatch";
import { createStateStore } from "../../../functions/tower-dispatch/state-store";
import { DEFAULT_STATE_LIMITS } from "../../../functions/tower-dispatch/tower-state";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { expectedSignal, lambdaContext, makeIntent, sqsEvent, sqsRecord, startHarness, type Harness } from "./harness";

/**
 * Issue 11, "no poison pill": alert keys from mail are data, and an intent the dispatcher cannot
 * apply leaves its tower's FIFO group (its own dead letter, one report) without holding back the
 * intents behind it. The real handler against dynalite, the SNS stub, the SQS stub as the signal
 * queue's dead-letter queue, and an emulated tower.
 */

const CRITICAL = expectedSignal(DEFAULT_SEVERITY_SIGNALS.critical);
const WARNING = expectedSignal(DEFAULT_SEVERITY_SIGNALS.warning);
const QUIET = expectedSignal(DEFAULT_SEVERITY_SIGNALS.quiet);
const HOSTILE_KEYS = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "k".repeat(250 * 1024)];

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

const stored = (h: Harness) => createStateStore(dynamo.documentClient, h.table).load("tokyo-ops");

describe("alert keys that are property names", () => {
    for (const key of HOSTILE_KEYS) {
        const label = key.length > 100 ? "a 250 KB key" : key;
        it(`lights the tower for ${label}, keeps the alert, and clears it on its recovery`, async () => {
            harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }]);
            const tower = harness.emulators.get("tokyo-ops")!;
            expect(await harness.handler(sqsEvent([makeIntent("tokyo-ops", key, "critical")]), lambdaContext())).toEqual({ batchItemFailures: [] });
            expect(tower.state()).toEqual(CRITICAL);
            const { state } = await stored(harness);
            expect([...state.active.keys()]).toEqual([storedKey(key, DEFAULT_STATE_LIMITS.maxKeyLength)]);
            // Stored as a value in a list entry, not as an attribute name.
            const raw = await dynamo.client.send(new GetItemCommand({ TableName: harness.table, Key: { pk: { S: "tower#tokyo-ops" } } }));
            expect(raw.Item?.active?.L?.map((entry) => entry.M?.key?.S)).toEqual([storedKey(key, DEFAULT_STATE_LIMITS.maxKeyLength)]);

            expect(await harness.handler(sqsEvent([makeIntent("tokyo-ops", key, "recovery")]), lambdaContext())).toEqual({ batchItemFailures: [] });
            expect(tower.state()).toEqual(QUIET);
            expect((await stored(harness)).state.active.size).toBe(0);
            expect(harness.dlq.accepted).toEqual([]);
            expect(harness.sns.messages).toEqual([]);
        });
    }

    it("keeps every hostile key apart in one batch: one recovery clears only its own key", async () => {
        harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }]);
        const tower = harness.emulators.get("tokyo-ops")!;
        const problems = HOSTILE_KEYS.map((key) => makeIntent("tokyo-ops", key, key === "constructor" ? "critical" : "warning"));
        expect(await harness.handler(sqsEvent(problems), lambdaContext())).toEqual({ batchItemFailures: [] });
        expect(tower.state()).toEqual(CRITICAL);
        expect((await stored(harness)).state.active.size).toBe(HOSTILE_KEYS.length);
        await harness.handler(sqsEvent([makeIntent("tokyo-ops", "constructor", "recovery")]), lambdaContext());
        expect(tower.state()).toEqual(WARNING);
        expect([...(await stored(harness)).state.active.keys()]).not.toContain("constructor");
        expect((await stored(harness)).state.active.size).toBe(HOSTILE_KEYS.length - 1);
    });

    it("reads a state item written in the old shape (active as a map of key → alert) and rewrites it as a list", async () => {
        harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }]);
        const tower = harness.emulators.get("tokyo-ops")!;
        const alert = (severity: string, messageId: string) => ({ severity, since: "2024-05-21T08:50:00.000Z", lastSeen: "2024-05-21T08:50:00.000Z", subject: "PROBLEM", messageId });
        await dynamo.documentClient.send(
            new PutCommand({
                TableName: harness.table,
                Item: {
                    pk: "tower#tokyo-ops",
                    tower: "tokyo-ops",
                    version: 3,
                    active: { "web-1/cpu": alert("critical", "old-1"), toString: alert("warning", "old-2") },
                    shown: CRITICAL,
                    lastSendFailed: false,
                    unreachable: null,
                    recentMessageIds: ["old-1", "old-2"],
                    updatedAt: "2024-05-21T08:50:00.000Z",
                    expiresAt: 1_720_000_000,
                },
            }),
        );
        const before = await stored(harness);
        expect(before.version).toBe(3);
        expect([...before.state.active.keys()]).toEqual(["web-1/cpu", "toString"]);
        // The critical alert recovers: the old item's warning (key "toString") is what remains.
        await harness.handler(sqsEvent([makeIntent("tokyo-ops", "web-1/cpu", "recovery")]), lambdaContext());
        expect(tower.state()).toEqual(WARNING);
        const raw = await dynamo.client.send(new GetItemCommand({ TableName: harness.table, Key: { pk: { S: "tower#tokyo-ops" } } }));
        expect(raw.Item?.version?.N).toBe("4");
        expect(raw.Item?.active?.L?.map((entry) => [entry.M?.key?.S, entry.M?.messageId?.S])).toEqual([["toString", "old-2"]]);
    });
});

describe("an intent the dispatcher cannot apply", () => {
    /**
     * A poisoned intent: one whose state item DynamoDB refuses (dynalite, like DynamoDB, answers
     * ValidationException "Item size has exceeded the maximum allowed size" over 400 KB). The
     * default limits keep every real item far below that, so these towers run with the key and
     * subject limits lifted, as a misconfiguration would.
     */
    const lifted = { extra: { limits: { ...DEFAULT_STATE_LIMITS, maxKeyLength: 1_000_000, maxSubjectLength: 1_000_000 } } };
    const poisoned = () => makeIntent("tokyo-ops", `huge-${"k".repeat(250 * 1024)}`, "critical", { subject: "s".repeat(250 * 1024) });

    it("does not hold back the legitimate intent behind it: the tower lights in the same invocation, the poisoned one has one dead letter and one report", async () => {
        harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }], lifted);
        const tower = harness.emulators.get("tokyo-ops")!;
        const bad = sqsRecord(poisoned());
        const good = sqsRecord(makeIntent("tokyo-ops", "web-1/cpu", "warning"));
        expect(await harness.handler({ Records: [bad, good] }, lambdaContext())).toEqual({ batchItemFailures: [] });

        // The legitimate intent lit the tower, and only its alert is stored. The poisoned critical may
        // have reached the tower before its save failed; the tower ends showing the stored state.
        expect(tower.state()).toEqual(WARNING);
        const { state } = await stored(harness);
        expect([...state.active.keys()]).toEqual(["web-1/cpu"]);
        expect(state.shown).toEqual(WARNING);

        expect(harness.dlq.accepted).toHaveLength(1);
        const letter = harness.dlq.accepted[0];
        expect(letter.MessageBody).toBe(bad.body);
        expect(letter.MessageGroupId).toBe("tokyo-ops");
        expect(letter.MessageDeduplicationId).toBe(bad.messageId);
        expect(letter.MessageAttributes?.reason.StringValue).toMatch(/could not be saved with this intent applied \(ValidationException: Item size has exceeded/);
        expect(letter.MessageAttributes?.tower.StringValue).toBe("tokyo-ops");

        expect(harness.sns.messages).toHaveLength(1);
        const report = harness.sns.messages[0];
        expect(Buffer.byteLength(report.message)).toBeLessThan(64 * 1024);
        expect(report.json).toMatchObject({ title: "tower-dispatch skipped 1 signal intent", state: "WARN" });
        expect((report.json as { skipped: { messageId: string; problem: string }[] }).skipped).toEqual([expect.objectContaining({ messageId: bad.messageId, tower: "tokyo-ops" })]);
    });

    it("sets aside only the poisoned intent among several, keeping the others' order", async () => {
        harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }], lifted);
        const tower = harness.emulators.get("tokyo-ops")!;
        const records = [makeIntent("tokyo-ops", "a", "critical"), poisoned(), makeIntent("tokyo-ops", "a", "recovery"), makeIntent("tokyo-ops", "b", "warning")].map((i) => sqsRecord(i));
        expect(await harness.handler({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [] });
        expect(tower.state()).toEqual(WARNING);
        expect([...(await stored(harness)).state.active.keys()]).toEqual(["b"]);
        expect(harness.dlq.accepted.map((m) => m.MessageDeduplicationId)).toEqual([records[1].messageId]);
        expect(harness.sns.messages).toHaveLength(1);
    });

    it("restores the stored signal when the poisoned intent is the last of its tower", async () => {
        harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }], lifted);
        const tower = harness.emulators.get("tokyo-ops")!;
        await harness.handler(sqsEvent([makeIntent("tokyo-ops", "w", "warning")]), lambdaContext());
        expect(await harness.handler(sqsEvent([poisoned()]), lambdaContext())).toEqual({ batchItemFailures: [] });
        // Its critical reached the tower before the save failed; the tower is put back to the stored warning.
        expect(tower.state()).toEqual(WARNING);
        expect(harness.dlq.accepted).toHaveLength(1);
    });

    it("a malformed intent (a 250 KB messageId) goes to the dead letters and the intent behind it lights the tower", async () => {
        harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }]);
        const tower = harness.emulators.get("tokyo-ops")!;
        const bad = sqsRecord(makeIntent("tokyo-ops", "x", "critical", { messageId: "m".repeat(250 * 1024) }));
        expect(await harness.handler({ Records: [bad, sqsRecord(makeIntent("tokyo-ops", "web-1/cpu", "warning"))] }, lambdaContext())).toEqual({ batchItemFailures: [] });
        expect(tower.state()).toEqual(WARNING);
        expect(harness.dlq.accepted.map((m) => m.MessageDeduplicationId)).toEqual([bad.messageId]);
        expect(harness.dlq.accepted[0].MessageAttributes?.reason.StringValue).toMatch(/messageId is 256000 characters long, over 256/);
    });

    it("keeps the record (and those behind it) for SQS to redeliver when the dead-letter queue refuses it, and reports nothing yet", async () => {
        harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }]);
        const bad = sqsRecord("not json", "tokyo-ops");
        const good = sqsRecord(makeIntent("tokyo-ops", "web-1/cpu", "warning"));
        harness.dlq.failNext(1, "InternalFailure");
        const result = await harness.handler({ Records: [bad, good] }, lambdaContext());
        expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([bad.messageId, good.messageId]);
        expect(harness.sns.messages).toEqual([]);
        // Delivered again: now it moves, once.
        expect(await harness.handler({ Records: [bad, good] }, lambdaContext())).toEqual({ batchItemFailures: [] });
        expect(harness.dlq.accepted).toHaveLength(1);
        expect(harness.sns.messages).toHaveLength(1);
    });

    it("reports an unknown tower whose name is 250 KB in a message well under SNS's limit, and dead-letters it under a valid group ID", async () => {
        harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }]);
        const name = `t${"x".repeat(250 * 1024)}`;
        const bad = { ...sqsRecord(makeIntent(name, "k", "critical")), attributes: { ...sqsRecord("{}").attributes, MessageGroupId: undefined as unknown as string } };
        expect(await harness.handler({ Records: [bad] }, lambdaContext())).toEqual({ batchItemFailures: [] });
        expect(harness.dlq.accepted).toHaveLength(1);
        expect(harness.dlq.accepted[0].MessageGroupId).toMatch(/^[0-9a-f]{64}$/);
        expect(Buffer.byteLength(harness.sns.messages[0].message)).toBeLessThan(64 * 1024);
    });
});

describe("cannotApply", () => {
    it("takes DynamoDB's refusal of the content and the marshaller's errors, not races, throttling or network trouble", () => {
        const service = (name: string, fault: "client" | "server") => Object.assign(new Error("x"), { name, $fault: fault, $metadata: { httpStatusCode: 400 } });
        expect(cannotApply(service("ValidationException", "client"))).toBe(true);
        expect(cannotApply(new Error("Unsupported type passed: function Object() { [native code] }. Pass options.convertClassInstanceToMap=true to marshall typeof object as map attribute."))).toBe(true);
        expect(cannotApply(service("ProvisionedThroughputExceededException", "client"))).toBe(false);
        expect(cannotApply(service("InternalServerError", "server"))).toBe(false);
        expect(cannotApply(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }))).toBe(false);
        expect(cannotApply(undefined)).toBe(false);
    });

    it("keeps a dead letter's attributes within what SQS accepts", () => {
        const input = deadLetterInput({ messageId: "m-1", group: "tokyo-ops", body: "{}", reason: `bad \u0000 ${"r".repeat(5000)}`, tower: "t\u0001" }, "http://q");
        expect(Buffer.byteLength(input.MessageAttributes!.reason.StringValue!)).toBeLessThanOrEqual(1024);
        expect(input.MessageAttributes!.reason.StringValue).toMatch(/^bad \uFFFD r+…\[truncated\]$/);
        expect(input.MessageAttributes!.tower.StringValue).toBe("t\uFFFD");
    });
});
