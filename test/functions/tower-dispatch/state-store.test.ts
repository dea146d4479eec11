import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toSignal } from "../../../functions/shared/patlite/signal";
import { CorruptStateError, createStateStore, STATE_RETENTION_DAYS, StateConflictError, towerKey } from "../../../functions/tower-dispatch/state-store";
import { applyIntents, EMPTY_TOWER_STATE, recordSend } from "../../../functions/tower-dispatch/tower-state";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";

const TABLE = "alertline-test-state";
const NOW = Date.parse("2024-05-21T09:00:00.000Z");
let dynamo: LocalDynamo;

beforeAll(async () => {
    dynamo = await startDynalite();
    await dynamo.createTable(TABLE);
});
afterAll(async () => {
    await dynamo.close();
});

const sampleState = () =>
    recordSend(
        applyIntents(EMPTY_TOWER_STATE, [
            { alertKey: "web-1 / CPU 使用率", severity: "critical", messageId: "ses-1", subject: "【障害】web-1 CPU", receivedAt: "2024-05-21T08:59:00.000Z" },
            { alertKey: "db#1.disk", severity: "info", messageId: "ses-2", subject: "", receivedAt: "2024-05-21T08:59:30.000Z" },
        ]),
        toSignal({ red: "flash1", buzzer: 1 }),
        true,
    );

describe("tower state store (dynalite)", () => {
    it("reads a tower it never saw as empty, version 0", async () => {
        const store = createStateStore(dynamo.documentClient, TABLE, () => NOW);
        expect(await store.load("never-seen")).toEqual({ state: EMPTY_TOWER_STATE, version: 0 });
    });

    it("saves and loads the state unchanged, with the version counting up", async () => {
        const store = createStateStore(dynamo.documentClient, TABLE, () => NOW);
        const state = sampleState();
        expect(await store.save("round-trip", state, 0)).toBe(1);
        expect(await store.load("round-trip")).toEqual({ state, version: 1 });
        const unreachable = { ...state, lastSendFailed: true, unreachable: { since: "2024-05-21T09:00:00.000Z", error: "timeout" } };
        expect(await store.save("round-trip", unreachable, 1)).toBe(2);
        expect(await store.load("round-trip")).toEqual({ state: unreachable, version: 2 });
    });

    it("writes the contract's key and a TTL in epoch seconds", async () => {
        const store = createStateStore(dynamo.documentClient, TABLE, () => NOW);
        await store.save("tokyo-ops", sampleState(), 0);
        const raw = await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "tower#tokyo-ops" } } }));
        expect(towerKey("tokyo-ops")).toBe("tower#tokyo-ops");
        expect(raw.Item?.expiresAt?.N).toBe(String(NOW / 1000 + STATE_RETENTION_DAYS * 86_400));
        expect(raw.Item?.version?.N).toBe("1");
    });

    it("refuses a write based on a stale version, so two writers cannot both win", async () => {
        const store = createStateStore(dynamo.documentClient, TABLE, () => NOW);
        await store.save("contended", sampleState(), 0);
        const a = await store.load("contended");
        const b = await store.load("contended");
        await store.save("contended", { ...a.state, lastSendFailed: true }, a.version);
        await expect(store.save("contended", b.state, b.version)).rejects.toBeInstanceOf(StateConflictError);
        await expect(store.save("contended", b.state, 0)).rejects.toBeInstanceOf(StateConflictError);
        expect((await store.load("contended")).state.lastSendFailed).toBe(true);
    });

    it("names the item and the way out when the stored state is not something it wrote", async () => {
        await dynamo.documentClient.send(new PutCommand({ TableName: TABLE, Item: { pk: "tower#edited", version: 3, active: { x: { severity: "disaster", since: "t", messageId: "m" } } } }));
        const store = createStateStore(dynamo.documentClient, TABLE, () => NOW);
        const failure = store.load("edited");
        await expect(failure).rejects.toBeInstanceOf(CorruptStateError);
        await expect(failure).rejects.toThrow(/tower#edited.*severity "disaster".*Delete the item/s);
    });

    it("lets DynamoDB errors through (a missing table is not a conflict)", async () => {
        const store = createStateStore(dynamo.documentClient, "no-such-table", () => NOW);
        await expect(store.load("x")).rejects.toThrow(/ResourceNotFound|non-existent|not found/i);
        await expect(store.save("x", EMPTY_TOWER_STATE, 0)).rejects.not.toBeInstanceOf(StateConflictError);
    });
});
