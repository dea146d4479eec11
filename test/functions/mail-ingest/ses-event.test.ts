import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSnsContent, readSesNotification, verdictsOf } from "../../../functions/mail-ingest/ses-event";
import { fixtureFiles } from "../../fixtures/mail/generate";

const FIXTURES = join(__dirname, "../../fixtures/mail");
const sample = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");

describe("readSesNotification", () => {
    it("reads an S3-action notification: message ID, bucket and key, verdicts", () => {
        const reading = readSesNotification(sample("ses-s3-notification.json"));
        if (reading.kind !== "received") throw new Error(`expected a received mail, got ${reading.kind}`);
        expect(reading.notification.mail.messageId).toBe("o3vrnil0e2ic28trm7dfhrc2v0bnkc3oofjsf9g1");
        expect(reading.source).toEqual({ kind: "s3", bucket: "alertline-prod-mail-0a1b2c3d", key: "inbound/o3vrnil0e2ic28trm7dfhrc2v0bnkc3oofjsf9g1" });
        expect(verdictsOf(reading.notification.receipt)).toEqual({
            spfVerdict: { status: "PASS" },
            dkimVerdict: { status: "PASS" },
            dmarcVerdict: { status: "PASS" },
            virusVerdict: { status: "PASS" },
            spamVerdict: { status: "PASS" },
        });
    });

    it("reads an SNS-action notification's BASE64 content back to the exact mail bytes", () => {
        const reading = readSesNotification(sample("ses-sns-base64-notification.json"));
        if (reading.kind !== "received" || reading.source.kind !== "sns-content") throw new Error("expected SNS content");
        expect(reading.source.encoding).toBe("BASE64");
        const { raw, problem } = decodeSnsContent(reading.source.content, reading.source.encoding);
        expect(raw.equals(readFileSync(join(FIXTURES, "zabbix-ja-problem.eml")))).toBe(true);
        expect(problem).toBeUndefined();
    });

    it("treats SNS content without an encoding as UTF8, and flags bytes lost on the way", () => {
        const notification = { notificationType: "Received", mail: { messageId: "m1" }, receipt: { action: { type: "SNS" } }, content: "Subject: x\r\n\r\nbroken \uFFFD byte" };
        const reading = readSesNotification(JSON.stringify(notification));
        if (reading.kind !== "received" || reading.source.kind !== "sns-content") throw new Error("expected SNS content");
        expect(reading.source.encoding).toBe("UTF8");
        expect(decodeSnsContent(reading.source.content, "UTF8").problem).toMatch(/BASE64/);
        expect(decodeSnsContent("Subject: plain ascii\r\n\r\nok", "UTF8").problem).toBeUndefined();
    });

    it("keeps missing verdicts missing", () => {
        const reading = readSesNotification(JSON.stringify({ notificationType: "Received", mail: { messageId: "m2" }, receipt: { spfVerdict: { status: "PASS" }, action: { type: "S3", bucketName: "b", objectKey: "k" } } }));
        if (reading.kind !== "received") throw new Error("expected a received mail");
        expect(verdictsOf(reading.notification.receipt)).toEqual({ spfVerdict: { status: "PASS" }, dkimVerdict: undefined, dmarcVerdict: undefined, virusVerdict: undefined, spamVerdict: undefined });
    });

    it("says why a message is not an SES notification", () => {
        expect(readSesNotification("nope")).toMatchObject({ kind: "invalid", reason: expect.stringMatching(/not JSON/) });
        expect(readSesNotification("[1]")).toEqual({ kind: "invalid", reason: "the SNS message is JSON but not an object" });
        expect(readSesNotification(JSON.stringify({ hello: 1 }))).toMatchObject({ kind: "invalid", reason: expect.stringMatching(/no notificationType/) });
        expect(readSesNotification(JSON.stringify({ notificationType: "Received", mail: {} }))).toEqual({ kind: "invalid", reason: "the SES notification has no mail.messageId" });
        expect(readSesNotification(JSON.stringify({ notificationType: "Received", mail: { messageId: "../../etc" } }))).toMatchObject({ kind: "invalid" });
        expect(readSesNotification(undefined)).toEqual({ kind: "invalid", reason: "the SNS message is not a string" });
    });

    it("recognises notifications that are not mail", () => {
        expect(readSesNotification(JSON.stringify({ notificationType: "AmazonSnsSubscriptionSucceeded" }))).toEqual({ kind: "other", notificationType: "AmazonSnsSubscriptionSucceeded" });
    });

    it("says when an action does not tell where the mail is", () => {
        const reading = readSesNotification(JSON.stringify({ notificationType: "Received", mail: { messageId: "m3" }, receipt: { action: { type: "Lambda" } } }));
        if (reading.kind !== "received") throw new Error("expected a received mail");
        expect(reading.source).toMatchObject({ kind: "none", reason: expect.stringMatching(/"Lambda"/) });
    });
});

describe("mail fixtures", () => {
    it("are exactly what the committed generator writes", () => {
        for (const [name, bytes] of Object.entries(fixtureFiles())) {
            expect(readFileSync(join(FIXTURES, name)).equals(bytes), `${name} differs from generate.ts's output; run npx tsx test/fixtures/mail/generate.ts`).toBe(true);
        }
    });

    it("end their lines in CRLF and keep ISO-2022-JP mail 7-bit", () => {
        const ja = readFileSync(join(FIXTURES, "zabbix-ja-problem.eml"));
        expect(ja.every((byte) => byte < 0x80)).toBe(true);
        expect(ja.toString("latin1").split("\r\n").length).toBe(ja.toString("latin1").split("\n").length);
        expect(readFileSync(join(FIXTURES, "zabbix-sjis-disaster.eml")).some((byte) => byte >= 0x80)).toBe(true);
    });
});
