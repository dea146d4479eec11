import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMail } from "../../../functions/mail-ingest/parse-mail";
import { decodeSnsContent, readSesNotification, verdictsOf } from "../../../functions/mail-ingest/ses-event";
import { mayLightTower } from "../../../functions/shared/sender-policy";
import { receiveMail } from "../../../tools/local/ses";

/**
 * SES receiving notifications as the SES developer guide documents them (fixtures and sources:
 * test/fixtures/contracts/README.md), read by the real parser; and the local SES stand-in
 * (`npm start`) checked against the same documents.
 */

const CONTRACTS = join(__dirname, "../../fixtures/contracts/ses");
const text = (name: string): string => readFileSync(join(CONTRACTS, name), "utf8");
const json = <T>(name: string): T => JSON.parse(text(name)) as T;

type Notification = { receipt: { action: Record<string, unknown> } & Record<string, unknown>; mail: Record<string, unknown> & { headers: { name: string }[]; commonHeaders: Record<string, unknown> }; content?: string };
const fields = json<Record<"topLevel" | "receipt" | "action" | "actionTypes" | "verdictStatus" | "mail" | "commonHeaders", string[]>>("notification-fields.json");
const snsExample = json<Notification>("received-sns-action.json");
const s3Example = json<Notification>("received-s3-action.json");

/** Every key of a notification that the developer guide's field tables do not list, as "path.key". */
function undocumentedKeys(notification: Record<string, any>): string[] {
    const extra = (path: string, object: Record<string, unknown> | undefined, allowed: string[]) =>
        Object.keys(object ?? {})
            .filter((key) => !allowed.includes(key))
            .map((key) => `${path}.${key}`);
    return [
        ...extra("", notification, fields.topLevel),
        ...extra("receipt", notification.receipt, fields.receipt),
        ...extra("receipt.action", notification.receipt?.action, fields.action),
        ...extra("mail", notification.mail, fields.mail),
        ...extra("mail.commonHeaders", notification.mail?.commonHeaders, fields.commonHeaders),
    ];
}

describe("the documented examples, read by mail-ingest's parser", () => {
    it("are themselves made of documented fields only (the fixtures are faithful)", () => {
        expect(undocumentedKeys(snsExample)).toEqual([]);
        expect(undocumentedKeys(s3Example)).toEqual([]);
    });

    it("SNS action: the mail is in `content`, UTF8 by default, and parses to the example's From and Subject", async () => {
        // SNS delivers the notification as the string in Sns.Message.
        const reading = readSesNotification(text("received-sns-action.json"));
        if (reading.kind !== "received" || reading.source.kind !== "sns-content") throw new Error(`expected SNS content, got ${JSON.stringify(reading).slice(0, 200)}`);
        expect(reading.notification.mail.messageId).toBe("d6iitobk75ur44p8kdnnp7g2n800");
        expect(reading.source.encoding).toBe("UTF8");
        const { raw, problem } = decodeSnsContent(reading.source.content, reading.source.encoding);
        expect(problem).toBeUndefined();
        const mail = await parseMail(raw);
        expect(mail).toMatchObject({ from: "sender@example.com", subject: "Example subject", messageIdHeader: "<61967230-7A45-4A9D-BEC9-87CBCF2211C9@example.com>" });
        expect(mail.text.trim()).toBe("Example content");
        expect(mail.problems).toEqual([]);
    });

    it("S3 action: the mail is in the bucket and key the action names, and every verdict of the example is PASS", () => {
        const reading = readSesNotification(text("received-s3-action.json"));
        if (reading.kind !== "received") throw new Error(`expected a received mail, got ${reading.kind}`);
        expect(reading.source).toEqual({ kind: "s3", bucket: "my-S3-bucket", key: "email" });
        expect(verdictsOf(reading.notification.receipt)).toEqual({
            spfVerdict: { status: "PASS" },
            dkimVerdict: { status: "PASS" },
            dmarcVerdict: undefined,
            virusVerdict: { status: "PASS" },
            spamVerdict: { status: "PASS" },
        });
    });

    it("reads what the verdicts were about from the guide's example: the envelope sender and each DKIM signature's d=", () => {
        const reading = readSesNotification(text("received-s3-action.json"));
        if (reading.kind !== "received") throw new Error(`expected a received mail, got ${reading.kind}`);
        const verdicts = verdictsOf(reading.notification.receipt, reading.notification.mail);
        expect(verdicts.envelopeFrom).toBe("0000014fbe1c09cf-7cb9f704-7531-4e53-89a1-5fa9744f5eb6-000000@amazonses.com");
        expect(verdicts.dkimSignatureDomains).toEqual(["amazonses.com"]);
        // The example's From (sender@example.com) has no DMARC verdict: it is not trusted, whatever the allow list says.
        expect(mayLightTower({ from: "sender@example.com", verdicts, allowedSenders: ["*@example.com"] }).trusted).toBe(false);
        const truncated = structuredClone(s3Example);
        truncated.mail.headersTruncated = true;
        const cut = readSesNotification(JSON.stringify(truncated));
        expect(cut.kind === "received" && verdictsOf(cut.notification.receipt, cut.notification.mail).dkimSignatureDomains).toBeUndefined();
    });

    it("an S3 action without its bucket or key is reported, not guessed", () => {
        const broken = structuredClone(s3Example);
        delete broken.receipt.action.objectKey;
        const reading = readSesNotification(JSON.stringify(broken));
        expect(reading.kind === "received" && reading.source).toEqual({ kind: "none", reason: expect.stringMatching(/bucketName and objectKey/) });
    });
});

describe("the local SES stand-in (npm start) writes what SES documents", () => {
    /** The example mail as the sending server handed it over: the documented content without what SES prepends. */
    const original = Buffer.from(snsExample.content!.slice(snsExample.content!.indexOf("DKIM-Signature:")), "utf8");

    async function received() {
        return receiveMail(
            original,
            { mailFrom: "0000014fbe1c09cf-7cb9f704-7531-4e53-89a1-5fa9744f5eb6-000000@amazonses.com", recipients: ["recipient@example.com"], helo: "a9-183.smtp-out.amazonses.com" },
            {
                messageId: "d6iitobk75ur44p8kdnnp7g2n800",
                receivedAt: new Date("2015-09-11T20:32:33.936Z"),
                bucketName: "my-S3-bucket",
                topicArn: "arn:aws:sns:us-east-1:012345678912:example-topic",
                verdicts: "pass",
                ruleRecipients: ["recipient@example.com"],
            },
        );
    }

    it("uses only documented fields, apart from the action's objectKeyPrefix (unconfirmed, see README)", async () => {
        const { notification } = await received();
        expect(undocumentedKeys(notification)).toEqual(["receipt.action.objectKeyPrefix"]);
        expect(fields.actionTypes).toContain(notification.receipt.action.type);
        for (const verdict of ["spamVerdict", "virusVerdict", "spfVerdict", "dkimVerdict", "dmarcVerdict"] as const) {
            expect(fields.verdictStatus).toContain(notification.receipt[verdict]?.status);
        }
    });

    it("has every field the documented S3-action notification has", async () => {
        const { notification } = await received();
        const ours = notification as unknown as Notification;
        expect(Object.keys(ours).sort()).toEqual(Object.keys(s3Example).sort());
        for (const key of Object.keys(s3Example.receipt)) expect(ours.receipt, `receipt.${key}`).toHaveProperty(key);
        for (const key of Object.keys(s3Example.receipt.action)) expect(ours.receipt.action, `receipt.action.${key}`).toHaveProperty(key);
        for (const key of Object.keys(s3Example.mail)) expect(ours.mail, `mail.${key}`).toHaveProperty(key);
        expect(Object.keys(ours.mail.commonHeaders).sort()).toEqual(Object.keys(s3Example.mail.commonHeaders).sort());
    });

    it("lists the headers as SES does for the same mail: Return-Path and Received first, then the mail's own, in order", async () => {
        const { notification, stored } = await received();
        expect(notification.mail.headers!.map((h) => h.name)).toEqual(s3Example.mail.headers.map((h) => h.name));
        expect(notification.mail.commonHeaders).toMatchObject({ from: ["sender@example.com"], to: ["recipient@example.com"], subject: "Example subject", date: "Fri, 11 Sep 2015 20:32:32 +0000" });
        expect(stored.toString("utf8")).toMatch(/^Return-Path: <[^>]+>\r\nReceived: from a9-183\.smtp-out\.amazonses\.com /);
    });
});
