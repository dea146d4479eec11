import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { ackStateKey as mailIngestKey } from "../../../functions/shared/alias-clear";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { startStateTable, type LocalStateTable } from "../../../tools/local/dynamo";
import { startAckPeers, urlEvent, webhookBody, ACK_SECRET, type AckPeers } from "../ack-webhook/ack-harness";

/**
 * An alias is cleared once per page (functions/shared/alias-clear.ts): in the migration window
 * Opsgenie's and JSM's webhooks both call for the same alias, and only the first queues recoveries.
 * Against dynalite, a DynamoDB-compatible server, through the real SDK.
 */

const NOW = Date.parse("2026-12-05T09:00:00.000Z");
const ALIAS = "zabbix:web-01.tokyo:cpu-load";
const TOWERS: TowerConfig[] = [{ name: "tokyo-ops", site: "tokyo", host: "192.0.2.10", port: 10000, protocol: "pns", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] }];

let peers: AckPeers | undefined;
let state: LocalStateTable | undefined;
afterEach(async () => {
    await Promise.all([peers?.close(), state?.close()]);
    peers = undefined;
    state = undefined;
});

async function start() {
    state = await startStateTable();
    peers = await startAckPeers(() => TOWERS, { now: () => NOW, extra: { clearState: { ddb: state.documentClient, table: state.table } } });
    return { p: peers, s: state };
}
const withToken = (body: string) => urlEvent({ body, headers: { "x-alertline-token": ACK_SECRET } });
/** What mail-ingest writes when a mail opens (or re-opens) the alert. */
const paged = (s: LocalStateTable) =>
    s.documentClient.send(new UpdateCommand({ TableName: s.table, Key: { pk: mailIngestKey(ALIAS) }, UpdateExpression: "SET pagedAt = :at REMOVE clearedAt, clearedBy", ExpressionAttributeValues: { ":at": new Date(NOW).toISOString() } }));

describe("ack-webhook clears an alias once per page", () => {
    it("keys the item as deployed state has it, one definition for ack-webhook and mail-ingest", () => {
        expect(mailIngestKey(ALIAS)).toBe(`ack#${ALIAS}`);
    });

    it("queues recoveries for the first acknowledgement and nothing for the other backend's, answering 200 with who cleared it", async () => {
        const { p, s } = await start();
        await paged(s);
        const first = await p.call(withToken(webhookBody("Acknowledge", ALIAS, { alertId: "opsgenie-alert-1", tags: ["tower:tokyo-ops"], username: "hanako@example.co.jp" })));
        const second = await p.call(withToken(webhookBody("Acknowledge", ALIAS, { alertId: "jsm-alert-9", tags: ["tower:tokyo-ops"], username: "taro@example.co.jp" })));
        const close = await p.call(withToken(webhookBody("Close", ALIAS, { alertId: "jsm-alert-9", tags: ["tower:tokyo-ops"] })));

        expect([first.statusCode, second.statusCode, close.statusCode]).toEqual([202, 200, 200]);
        expect(p.sqs.accepted).toHaveLength(1);
        expect(JSON.parse(second.body)).toEqual({ alreadyCleared: ALIAS, clearedBy: "Acknowledge of alert opsgenie-alert-1 by hanako@example.co.jp", clearedAt: new Date(NOW).toISOString() });
        expect(p.logs.filter((l) => l.message === "The alert was already cleared since its last page; nothing queued")).toHaveLength(2);
    });

    it("clears again after a new page of the same alias", async () => {
        const { p, s } = await start();
        await paged(s);
        expect((await p.call(withToken(webhookBody("Acknowledge", ALIAS, { alertId: "a1", tags: ["tower:tokyo-ops"] })))).statusCode).toBe(202);
        await paged(s);
        expect((await p.call(withToken(webhookBody("Acknowledge", ALIAS, { alertId: "a2", tags: ["tower:tokyo-ops"] })))).statusCode).toBe(202);
        expect(p.sqs.accepted).toHaveLength(2);
    });

    it("gives the clear back when the recoveries could not be queued, so the sender's retry clears the tower", async () => {
        const { p, s } = await start();
        await paged(s);
        p.sqs.failNext(1, "InternalError");
        const failed = await p.call(withToken(webhookBody("Acknowledge", ALIAS, { alertId: "a1", tags: ["tower:tokyo-ops"] })));
        const retried = await p.call(withToken(webhookBody("Acknowledge", ALIAS, { alertId: "a1", tags: ["tower:tokyo-ops"] })));
        expect([failed.statusCode, retried.statusCode]).toEqual([500, 202]);
        expect(p.sqs.accepted).toHaveLength(1);
    });

    it("clears for an alias with no page on record (an alert opened before the upgrade), once", async () => {
        const { p } = await start();
        const statuses = [];
        for (const id of ["x1", "x2"]) statuses.push((await p.call(withToken(webhookBody("Acknowledge", ALIAS, { alertId: id, tags: ["tower:tokyo-ops"] })))).statusCode);
        expect(statuses).toEqual([202, 200]);
    });
});
