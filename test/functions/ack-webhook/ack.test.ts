import { SendMessageBatchCommand, type SendMessageBatchCommandOutput, type SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { ackMessageId, ackSubject, planRecoveries, sendIntents } from "../../../functions/ack-webhook/ack";
import type { ClearEvent } from "../../../functions/ack-webhook/webhook-event";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import type { SignalIntent } from "../../../functions/shared/signal-intent";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { startSqsStub, type SqsStub } from "../../../tools/local/sqs";
import { ACKNOWLEDGE_CLEAR } from "./ack-harness";

const NOW = Date.parse("2024-05-21T09:00:00.000Z");

function tower(name: string, site = "tokyo"): TowerConfig {
    return { name, site, host: "192.0.2.10", port: 10000, protocol: "pns", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] };
}

const TOWERS = [tower("tokyo-ops"), tower("osaka-phn", "osaka"), tower("nagoya-la6", "nagoya")];

/** acknowledge.json's event, with `overrides`. */
function clear(overrides: Partial<ClearEvent> = {}): ClearEvent {
    return { ...ACKNOWLEDGE_CLEAR, ...overrides };
}

describe("planRecoveries", () => {
    it("makes one recovery intent for the tagged tower, as tower-dispatch reads them", () => {
        const plan = planRecoveries(clear(), TOWERS, NOW);
        expect(plan).toEqual({
            towers: ["tokyo-ops"],
            unknownTowers: [],
            intents: [
                {
                    version: 1,
                    tower: "tokyo-ops",
                    site: "tokyo",
                    alertKey: "zabbix:web-01.tokyo:cpu-load",
                    severity: "recovery",
                    messageId: "ack:7b1c2e4a-5d6f-4a8b-9c0d-1e2f3a4b5c6d:Acknowledge:1716282300123004700",
                    rule: null,
                    subject: "Acknowledge by hanako.sato@example.co.jp: PROBLEM: web-01.tokyo CPU load too high",
                    from: "hanako.sato@example.co.jp",
                    receivedAt: "2024-05-21T09:00:00.000Z",
                    by: { user: "hanako.sato@example.co.jp", action: "Acknowledge" },
                },
            ],
        });
    });

    it("targets every tower when the alert names none", () => {
        const plan = planRecoveries(clear({ towers: null }), TOWERS, NOW);
        expect(plan.towers).toEqual(["tokyo-ops", "osaka-phn", "nagoya-la6"]);
        expect(plan.intents.map((i) => [i.tower, i.site])).toEqual([
            ["tokyo-ops", "tokyo"],
            ["osaka-phn", "osaka"],
            ["nagoya-la6", "nagoya"],
        ]);
        expect(new Set(plan.intents.map((i) => i.alertKey))).toEqual(new Set(["zabbix:web-01.tokyo:cpu-load"]));
    });

    it("reports tower tags that towers.json does not have and sends nothing for them", () => {
        const plan = planRecoveries(clear({ towers: ["osaka-phn", "kyoto-gone"] }), TOWERS, NOW);
        expect(plan.towers).toEqual(["osaka-phn"]);
        expect(plan.unknownTowers).toEqual(["kyoto-gone"]);
        expect(plan.intents).toHaveLength(1);
    });

    it("does not fall back to every tower when all tagged towers are unknown", () => {
        const plan = planRecoveries(clear({ towers: ["kyoto-gone"] }), TOWERS, NOW);
        expect(plan).toEqual({ intents: [], towers: [], unknownTowers: ["kyoto-gone"] });
    });

    it("finds a tower whose tag came back in another case, once", () => {
        expect(planRecoveries(clear({ towers: ["Tokyo-Ops", "tokyo-ops"] }), TOWERS, NOW).towers).toEqual(["tokyo-ops"]);
        const twins = [tower("lab"), tower("LAB")];
        expect(planRecoveries(clear({ towers: ["Lab"] }), twins, NOW)).toMatchObject({ towers: [], unknownTowers: ["Lab"] });
    });

    it("message IDs differ per alert, action and update, and are stable for a retried call", () => {
        const ack = ackMessageId(clear());
        expect(ackMessageId(clear())).toBe(ack);
        expect(ackMessageId(clear({ action: "Close" }))).not.toBe(ack);
        expect(ackMessageId(clear({ updatedAt: "1716282999000000000" }))).not.toBe(ack);
        expect(ackMessageId(clear({ updatedAt: null }))).toBe("ack:7b1c2e4a-5d6f-4a8b-9c0d-1e2f3a4b5c6d:Acknowledge");
    });

    it("clips the subject to 500 characters", () => {
        const subject = ackSubject(clear({ message: "x".repeat(2000) }));
        expect(subject).toHaveLength(500);
        expect(subject.startsWith("Acknowledge by hanako.sato@example.co.jp: xxx")).toBe(true);
        expect(subject.endsWith("…")).toBe(true);
    });
});

describe("sendIntents", () => {
    let sqs: SqsStub | undefined;
    afterEach(async () => {
        await sqs?.close();
        sqs = undefined;
    });

    const manyTowers = Array.from({ length: 23 }, (_, i) => tower(`site-${String(i).padStart(2, "0")}`));

    it("puts each intent on the FIFO queue in its tower's group, ten per call", async () => {
        sqs = await startSqsStub();
        const client = sqs.client();
        const { intents } = planRecoveries(clear({ towers: null }), manyTowers, NOW);
        await sendIntents(client, sqs.queueUrl, intents);
        client.destroy();
        expect(sqs.batches.map((b) => b.entries.length)).toEqual([10, 10, 3]);
        expect(sqs.accepted.map((m) => m.MessageGroupId)).toEqual(manyTowers.map((t) => t.name));
        expect(sqs.accepted[4].MessageDeduplicationId).toBe(`ack:7b1c2e4a-5d6f-4a8b-9c0d-1e2f3a4b5c6d:Acknowledge:1716282300123004700:site-04`);
        expect(JSON.parse(sqs.accepted[4].MessageBody)).toMatchObject({ tower: "site-04", severity: "recovery", alertKey: "zabbix:web-01.tokyo:cpu-load" });
    });

    it("a retried call adds nothing to the queue (FIFO deduplication)", async () => {
        sqs = await startSqsStub();
        const client = sqs.client();
        const { intents } = planRecoveries(clear(), TOWERS, NOW);
        await sendIntents(client, sqs.queueUrl, intents);
        await sendIntents(client, sqs.queueUrl, intents);
        client.destroy();
        expect(sqs.accepted).toHaveLength(1);
    });

    it("throws when SQS fails the call", async () => {
        sqs = await startSqsStub();
        const client = sqs.client();
        sqs.failNext(1, "InternalFailure");
        await expect(sendIntents(client, sqs.queueUrl, planRecoveries(clear(), TOWERS, NOW).intents)).rejects.toThrow();
        client.destroy();
        expect(sqs.accepted).toHaveLength(0);
    });

    it("throws naming the tower when SQS refuses one entry of a batch", async () => {
        const calls: SendMessageBatchCommand[] = [];
        const refusing = {
            send: async (command: SendMessageBatchCommand): Promise<Partial<SendMessageBatchCommandOutput>> => {
                calls.push(command);
                const entries = command.input.Entries ?? [];
                return {
                    Successful: entries.filter((e) => e.MessageGroupId !== "osaka-phn").map((e) => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: "" })),
                    Failed: entries.filter((e) => e.MessageGroupId === "osaka-phn").map((e) => ({ Id: e.Id!, SenderFault: false, Code: "InternalError", Message: "try again" })),
                };
            },
        } as unknown as Pick<SQSClient, "send">;
        const intents: SignalIntent[] = planRecoveries(clear({ towers: null }), TOWERS, NOW).intents;
        await expect(sendIntents(refusing, "https://sqs.example/q.fifo", intents)).rejects.toThrow("SQS refused 1 of 3 recovery intents (osaka-phn: InternalError try again)");
        expect(calls).toHaveLength(1);
    });
});
