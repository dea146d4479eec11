import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { intentEntries, sendIntents } from "../../../functions/shared/intent-queue";
import type { SignalIntent } from "../../../functions/shared/signal-intent";

const intent = (tower: string): SignalIntent => ({
    version: 1,
    tower,
    site: "tokyo",
    alertKey: "host=web-01 | eventid=123456",
    severity: "critical",
    messageId: "msg-1",
    rule: "zabbix-ja-critical",
    subject: "障害: web-01",
    from: "zabbix@zabbix.example.jp",
    receivedAt: "2024-05-21T09:45:28.512Z",
});

describe("intentEntries", () => {
    it("puts each intent in its tower's message group, deduplicated per message and tower", () => {
        expect(intentEntries([intent("tokyo-ops"), intent("osaka-noc")])).toEqual([
            { Id: "0", MessageBody: JSON.stringify(intent("tokyo-ops")), MessageGroupId: "tokyo-ops", MessageDeduplicationId: "msg-1:tokyo-ops" },
            { Id: "1", MessageBody: JSON.stringify(intent("osaka-noc")), MessageGroupId: "osaka-noc", MessageDeduplicationId: "msg-1:osaka-noc" },
        ]);
    });
});

describe("sendIntents", () => {
    it("names the refused tower even in a later batch, and calls the intents signal intents by default", async () => {
        const towers = Array.from({ length: 12 }, (_, i) => `tower-${i}`);
        const calls: number[] = [];
        const refusingTheLast = {
            send: async (command: SendMessageBatchCommand) => {
                const entries = command.input.Entries ?? [];
                calls.push(entries.length);
                return { Successful: [], Failed: entries.filter((e) => e.MessageGroupId === "tower-11").map((e) => ({ Id: e.Id, SenderFault: false, Code: "InternalError", Message: "try again" })) };
            },
        } as unknown as Pick<SQSClient, "send">;
        await expect(sendIntents(refusingTheLast, "https://sqs.example/q.fifo", towers.map(intent))).rejects.toThrow("SQS refused 1 of 2 signal intents (tower-11: InternalError try again)");
        expect(calls).toEqual([10, 2]);
    });
});
