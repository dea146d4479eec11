import { simpleParser } from "mailparser";
import { afterEach, describe, expect, it } from "vitest";
import { createHandler, type CanaryLogger } from "../../../functions/mail-canary/handler";
import { queuedMessageId, sendCanaryViaSmtp } from "../../../tools/local/canary-local";
import { startS3Stub } from "../../../tools/local/s3";
import { startSesInbound, type SesInbound } from "../../../tools/local/ses";
import { startSnsStub } from "../../../tools/local/sns";

/**
 * The real mail-canary handler with the local send: its canary goes over SMTP into the SES
 * receiving stand-in, which stores it in the local S3 and announces it on the local SNS mail
 * topic, as `npm start` would run it.
 */

const MAIL_TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:alertline-dev-mail";
const BUCKET = "alertline-dev-mail-local";
const ENV = { CANARY_FROM: "alertline-canary@alerts-dev.example.jp", CANARY_TO: "patlite@alerts-dev.example.jp", ALERTLINE_ENVIRONMENT: "dev" };

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
});

async function startInbound() {
    const s3 = await startS3Stub();
    closers.push(() => s3.close());
    const sns = await startSnsStub({ topics: [MAIL_TOPIC] });
    const snsClient = sns.client();
    closers.push(() => sns.close(), async () => snsClient.destroy());
    const inbound: SesInbound = await startSesInbound({ recipients: [ENV.CANARY_TO], bucketName: BUCKET, s3, sns: snsClient, topicArn: MAIL_TOPIC, verdicts: "pass" });
    closers.push(() => inbound.close());
    return { s3, sns, inbound };
}

function recordingLogger(): { logger: CanaryLogger; lines: string[] } {
    const lines: string[] = [];
    return { lines, logger: { info: (message, ...a) => void lines.push(`info ${message} ${JSON.stringify(a)}`), error: (message, ...a) => void lines.push(`error ${message} ${JSON.stringify(a)}`) } };
}

describe("the canary sent over SMTP to the SES stand-in", () => {
    it("arrives stored with its X-Alertline-Canary header and From unchanged, under SES's message id", async () => {
        const { s3, sns, inbound } = await startInbound();
        const written: Buffer[] = [];
        const send = (raw: Buffer, from: string, to: string) => (written.push(raw), sendCanaryViaSmtp(raw, from, to, inbound));
        const handler = createHandler({ send, logger: recordingLogger().logger, env: ENV });

        const sent = await handler({});

        expect(inbound.received).toHaveLength(1);
        const mail = inbound.received[0];
        expect(sent.messageId).toBe(mail.messageId);
        // Only SES's Return-Path and Received come before the canary's own bytes.
        expect(mail.stored.subarray(mail.stored.length - written[0].length).equals(written[0])).toBe(true);
        const stored = s3.get(BUCKET, mail.objectKey);
        expect(stored?.equals(mail.stored)).toBe(true);
        const parsed = await simpleParser(stored!);
        expect(parsed.headers.get("x-alertline-canary")).toBe(sent.canaryId);
        expect(parsed.from?.value.map((a) => a.address)).toEqual([ENV.CANARY_FROM]);
        expect(parsed.subject).toBe(sent.subject);
        expect(mail.notification.mail.source).toBe(ENV.CANARY_FROM);
        expect(mail.notification.mail.headers).toContainEqual({ name: "X-Alertline-Canary", value: sent.canaryId });
        expect(sns.messages.map((m) => m.topicArn)).toEqual([MAIL_TOPIC]);
    });

    it("fails the invocation, logged, when the stand-in refuses the recipient", async () => {
        const { inbound } = await startInbound();
        const { logger, lines } = recordingLogger();
        const handler = createHandler({ send: (raw, from, to) => sendCanaryViaSmtp(raw, from, to, inbound), logger, env: { ...ENV, CANARY_TO: "nobody@alerts-dev.example.jp" } });

        await expect(handler({})).rejects.toThrow(/550/);
        expect(inbound.received).toHaveLength(0);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^error Canary not sent: sending failed/);
    });
});

describe("queuedMessageId", () => {
    it("reads the id from the SES stand-in's answer and nothing from another server's", () => {
        expect(queuedMessageId("250 Ok d6iitobk75ur44p8kdnnp7g2n800")).toBe("d6iitobk75ur44p8kdnnp7g2n800");
        expect(queuedMessageId("250 2.0.0 Ok: queued as 4Vk3Zl2Xyz")).toBeUndefined();
    });
});
