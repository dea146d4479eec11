import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IngestConfig } from "../../../functions/mail-ingest/ingest";
import { parseMail } from "../../../functions/mail-ingest/parse-mail";
import { readSesNotification, verdictsOf } from "../../../functions/mail-ingest/ses-event";
import { parseMailRules } from "../../../functions/shared/mail-rules";
import { mayLightTower } from "../../../functions/shared/sender-policy";
import { TRUST_FROM_MAILS, TRUST_NOTIFICATIONS } from "../../fixtures/mail/generate";
import { BUCKET, context, event, fixture, FIXTURES, snsRecord, startIngestHarness, type IngestHarness } from "./harness";

/**
 * Issue 11, item 5: a mail lights a tower only when its one, well-formed From address is on the
 * allow list and its From domain is authenticated (DMARC PASS; or DMARC GRAY with an aligned SPF
 * or DKIM pass) and virus and spam are both PASS. Every case goes through the handler with an SES
 * notification fixture (test/fixtures/mail/trust-*.json, trust-from-*.eml), against the local
 * S3/SQS/SNS/DynamoDB peers.
 */

const RULES = parseMailRules(["defaultSeverity: info", "rules:", "  - name: everything", '    subject: "."', "    severity: critical", "    towers: [tokyo-ops]", ""].join("\n"), "trust-rules.yaml");
const CONFIG: Partial<IngestConfig> = {
    rules: RULES,
    towers: [{ name: "tokyo-ops", site: "tokyo", allowedSenders: [] }],
    allowedSenders: ["*@zabbix.example.jp", "*@mon.example.co.jp", "alert@監視.example.jp", "*@co.jp", "zabbix@*"],
};

let h: IngestHarness;
let handler: ReturnType<IngestHarness["handler"]>;
let sequence = 0;

beforeAll(async () => {
    h = await startIngestHarness();
    handler = h.handler(CONFIG);
});
afterAll(async () => {
    await h.close();
});

const notificationFixture = (name: string): Record<string, any> => JSON.parse(readFileSync(join(FIXTURES, name), "utf8"));

/** Runs one SES notification (with the mail stored where it says) through the handler; what it lit and the summary. */
async function run(notification: Record<string, any>, mail: Buffer): Promise<{ lit: string[]; summary: Record<string, unknown> }> {
    const messageId = `trust-${++sequence}`;
    const n = structuredClone(notification);
    n.mail.messageId = messageId;
    n.receipt.action.objectKey = `inbound/${messageId}`;
    h.s3.put(BUCKET, `inbound/${messageId}`, mail);
    const queued = h.sqs.queue.length;
    const posted = h.sns.messages.length;
    const [outcome] = await handler(event(snsRecord(JSON.stringify(n))), context());
    expect(outcome.kind).toBe("processed");
    const lit = h.intentsOnQueue().slice(queued).map((i) => i.tower);
    const summaries = h.summaries().slice(posted);
    expect(summaries).toHaveLength(1);
    return { lit, summary: summaries[0] };
}

describe("sender trust: the SES verdict fixtures through the handler", () => {
    // Written from the rule, case by case (see each fixture's comment in generate.ts).
    const expected: Record<string, boolean> = {
        "trust-dmarc-pass.json": true,
        "trust-gray-spf-aligned.json": true,
        "trust-gray-spf-unaligned.json": false,
        "trust-gray-spf-sibling.json": false,
        "trust-gray-dkim-aligned.json": true,
        "trust-gray-dkim-mixed.json": false,
        "trust-gray-dkim-other.json": false,
        "trust-gray-dkim-truncated.json": false,
        "trust-dmarc-fail.json": false,
        "trust-dmarc-processing-failed.json": false,
        "trust-virus-processing-failed.json": false,
        "trust-virus-gray.json": false,
        "trust-spam-fail.json": false,
        "trust-spam-gray.json": false,
        "trust-cojp-aligned.json": true,
        "trust-cojp-unaligned.json": false,
    };

    it("has an expectation for every fixture", () => {
        expect(Object.keys(expected).sort()).toEqual(Object.keys(TRUST_NOTIFICATIONS).sort());
    });

    it.each(Object.entries(expected))("%s → lights the tower: %s", async (name, trusted) => {
        const mail = name.startsWith("trust-cojp") ? fixture("trust-from-cojp.eml") : fixture("trust-from-plain.eml");
        const { lit, summary } = await run(notificationFixture(name), mail);
        expect(lit).toEqual(trusted ? ["tokyo-ops"] : []);
        expect(summary.trusted).toBe(trusted);
        if (!trusted) expect(summary.towersLit).toBe("none (sender not trusted)");
    });

    it("lights nothing for the forged From of issue 11 and says the envelope domain is not aligned", async () => {
        const { lit, summary } = await run(notificationFixture("trust-gray-spf-unaligned.json"), fixture("trust-from-plain.eml"));
        expect(lit).toEqual([]);
        expect(String(summary.senderCheck)).toContain("SPF PASS for envelope domain attacker.example, not aligned with zabbix.example.jp");
    });

    it("says which signing domain kept a DKIM pass from counting", async () => {
        const { summary } = await run(notificationFixture("trust-gray-dkim-mixed.json"), fixture("trust-from-plain.eml"));
        expect(String(summary.senderCheck)).toContain("signed by zabbix.example.jp, attacker.example");
    });
});

describe("sender trust: malformed From headers through the handler (verdicts all PASS, DMARC PASS)", () => {
    // Only a single plain mailbox both readers agree on may light; the IDN one is on the allow list.
    const expected: Record<string, boolean> = {
        "trust-from-plain.eml": true,
        "trust-from-idn.eml": true,
        "trust-from-two-headers.eml": false,
        "trust-from-two-headers-reversed.eml": false,
        "trust-from-double-at.eml": false,
        "trust-from-quoted-at.eml": false,
        "trust-from-display-angle.eml": false,
        "trust-from-display-address.eml": false,
        "trust-from-encoded-display.eml": false,
        "trust-from-two-addresses.eml": false,
        "trust-from-group.eml": false,
        "trust-from-empty-domain.eml": false,
        "trust-from-no-at.eml": false,
        "trust-from-source-route.eml": false,
        "trust-from-public-suffix.eml": false,
        "trust-from-none.eml": false,
    };

    it("has an expectation for every fixture", () => {
        expect(Object.keys(expected).sort()).toEqual(Object.keys(TRUST_FROM_MAILS).sort());
    });

    it.each(Object.entries(expected))("%s → lights the tower: %s", async (name, trusted) => {
        const dmarcPass = notificationFixture("trust-dmarc-pass.json");
        const { lit, summary } = await run(dmarcPass, fixture(name));
        expect(lit).toEqual(trusted ? ["tokyo-ops"] : []);
        expect(summary.trusted).toBe(trusted);
    });

    it("names the two From headers and the two readers' disagreement", async () => {
        const two = await parseMail(fixture("trust-from-two-headers.eml"));
        expect(two.fromProblem).toContain("2 From headers");
        const angle = await parseMail(fixture("trust-from-display-angle.eml"));
        expect(angle.from).toBe("evil@attacker.example");
        expect(angle.fromProblem).toContain('the direct header reader as "zabbix@zabbix.example.jp"');
        const { summary } = await run(notificationFixture("trust-dmarc-pass.json"), fixture("trust-from-double-at.eml"));
        expect(String(summary.senderCheck)).toContain("holds 2 @ signs");
    });
});

describe("sender trust: every verdict combination through the handler", () => {
    const STATUSES = ["PASS", "FAIL", "GRAY", "PROCESSING_FAILED", undefined] as const;
    type S = (typeof STATUSES)[number];
    const base = notificationFixture("trust-dmarc-pass.json");

    /** A notification with these verdicts, an envelope aligned or not, DKIM signatures aligned or not. */
    function combination(c: { spf: S; dkim: S; dmarc: S; virus: S; spam: S; envelopeAligned: boolean; signatureAligned: boolean }): Record<string, any> {
        const n = structuredClone(base);
        for (const [key, status] of [["spfVerdict", c.spf], ["dkimVerdict", c.dkim], ["dmarcVerdict", c.dmarc], ["virusVerdict", c.virus], ["spamVerdict", c.spam]] as const) {
            if (status === undefined) delete n.receipt[key];
            else n.receipt[key] = { status };
        }
        n.mail.source = c.envelopeAligned ? "bounce@mail.zabbix.example.jp" : "bounce@attacker.example";
        n.mail.headers = n.mail.headers.map((header: { name: string; value: string }) =>
            header.name === "DKIM-Signature" && !c.signatureAligned ? { ...header, value: header.value.replace("d=zabbix.example.jp", "d=attacker.example") } : header,
        );
        return n;
    }

    /** The rule of issue 11 item 5, stated independently of the code. */
    function oracle(c: { spf: S; dkim: S; dmarc: S; virus: S; spam: S; envelopeAligned: boolean; signatureAligned: boolean }): boolean {
        if (c.virus !== "PASS" || c.spam !== "PASS") return false;
        if (c.dmarc === "PASS") return c.spf === "PASS" || c.dkim === "PASS";
        if (c.dmarc === "GRAY") return (c.spf === "PASS" && c.envelopeAligned) || (c.dkim === "PASS" && c.signatureAligned);
        return false;
    }

    const authentication = STATUSES.flatMap((dmarc) =>
        STATUSES.flatMap((spf) => (["PASS", "FAIL"] as const).flatMap((dkim) => [true, false].flatMap((envelopeAligned) => [true, false].map((signatureAligned) => ({ dmarc, spf, dkim, envelopeAligned, signatureAligned, virus: "PASS" as S, spam: "PASS" as S }))))),
    );
    const scanning = STATUSES.flatMap((virus) => STATUSES.map((spam) => ({ dmarc: "PASS" as S, spf: "PASS" as S, dkim: "PASS" as S, envelopeAligned: true, signatureAligned: true, virus, spam })));

    it(`authentication: ${authentication.length} combinations of DMARC, SPF, DKIM and alignment, each lighting the tower exactly when the rule says`, async () => {
        const wrong: string[] = [];
        for (const c of authentication) {
            const { lit } = await run(combination(c), fixture("trust-from-plain.eml"));
            if ((lit.length === 1) !== oracle(c)) wrong.push(JSON.stringify(c));
        }
        expect(wrong).toEqual([]);
        // The table is not degenerate: both outcomes occur.
        expect(authentication.filter(oracle).length).toBeGreaterThan(10);
        expect(authentication.filter((c) => !oracle(c)).length).toBeGreaterThan(100);
    }, 120_000);

    it(`scanning: ${scanning.length} combinations of the virus and spam verdicts; only PASS and PASS lights`, async () => {
        const lights: string[] = [];
        for (const c of scanning) {
            const { lit } = await run(combination(c), fixture("trust-from-plain.eml"));
            if (lit.length > 0) lights.push(`${c.virus}/${c.spam}`);
        }
        expect(lights).toEqual(["PASS/PASS"]);
    }, 60_000);

    it("the full cross product (with virus and spam) agrees with the rule on the handler's own reading of the notification", async () => {
        const mail = await parseMail(fixture("trust-from-plain.eml"));
        let count = 0;
        for (const a of authentication) {
            for (const s of scanning) {
                const c = { ...a, virus: s.virus, spam: s.spam };
                const reading = readSesNotification(JSON.stringify(combination(c)));
                if (reading.kind !== "received") throw new Error("fixture not read");
                const verdicts = verdictsOf(reading.notification.receipt, reading.notification.mail);
                const check = mayLightTower({ from: mail.from, fromProblem: mail.fromProblem, verdicts, allowedSenders: ["*@zabbix.example.jp"] });
                expect(check.trusted, JSON.stringify(c)).toBe(oracle(c));
                count++;
            }
        }
        expect(count).toBe(authentication.length * scanning.length);
    });
});
