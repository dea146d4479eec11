import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyseMail, type MailAnalysis } from "../../../functions/mail-ingest/ingest";
import { CLASSIFY_HEADERS, MAX_HEADER_REPEATS, MAX_HEADER_VALUE_BYTES, MAX_PARSED_BODY_BYTES, MAX_TEXT_CHARS } from "../../../functions/mail-ingest/parse-mail";
import { classificationText, MAX_CLASSIFY_BODY_CHARS, MAX_CLASSIFY_SUBJECT_CHARS } from "../../../functions/shared/mail-rules";
import { ALLOWED, context, event, PROD_RULES, startIngestHarness, TOWERS, type IngestHarness } from "./harness";
import { hostileCorpus, plainZabbixMail } from "./hostile-mail";

/**
 * The generated hostile corpus (hostile-mail.ts) through the function's own path: parse + classify
 * + sender check (analyseMail) with prod.yaml, then the whole handler. Asserts on what was looked
 * at (the bounds), never on time: `npm run bench:classify` measures the time.
 */

const CORPUS = hostileCorpus();
/** Most the parser may be handed: every kept header field at its bound, then the body's bound. */
const PARSE_BOUND = MAX_PARSED_BODY_BYTES + CLASSIFY_HEADERS.length * MAX_HEADER_REPEATS * (MAX_HEADER_VALUE_BYTES + 64);

const analyse = (raw: Buffer) => analyseMail(raw, undefined, { rules: PROD_RULES, towers: TOWERS, allowedSenders: ALLOWED });

/** What each mail must come to, beyond the bounds every mail keeps. */
const EXPECTED: Record<string, (a: MailAnalysis) => void> = {
    "random-bytes": (a) => {
        expect(a.classification.rule).toBeNull();
        expect(a.problems).toContain("the mail has no From header");
    },
    "random-after-headers": (a) => expect(a.mail.from).toBe("zabbix@zabbix.example.jp"),
    "10000-headers": (a) => {
        // From and Subject come after 10,000 other lines: found, and only the fields read were parsed.
        expect(a.mail.examined?.headerLines).toBeGreaterThan(10_000);
        expect(a.mail.examined?.headersKept).toBeLessThanOrEqual(CLASSIFY_HEADERS.length);
        expect(a.classification.rule).toBe("zabbix-en-critical");
    },
    "1000-nested-multiparts": (a) => {
        expect(a.problems).toContainEqual(expect.stringMatching(/child nodes/));
        expect(a.classification.rule).toBe("zabbix-en-critical");
    },
    "broken-charsets": (a) => expect(a.problems).toContainEqual(expect.stringMatching(/^unknown charset "x-no-such-charset"/)),
    "encoded-word-subject": (a) => {
        expect(a.mail.subject.startsWith("Problem: あいう")).toBe(true);
        expect(a.problems).toContainEqual(expect.stringMatching(/^the Subject header is \d+ bytes; its first 8192 bytes were read$/));
    },
    "split-encoded-words": (a) => expect(a.problems).toContainEqual(expect.stringMatching(/^the Subject header is/)),
    "encoded-word-from": (a) => {
        expect(a.mail.from).toBe("");
        expect(a.decisions.every((d) => !d.check.trusted)).toBe(true);
    },
    "5mb-attachment": (a) => {
        expect(a.mail.examined?.bodyBytes).toBeGreaterThan(5 * 1024 * 1024);
        expect(a.mail.text).toContain("Original problem ID: 3");
        expect(a.classification.rule).toBe("zabbix-en-critical");
        expect(a.classification.alertKey).toBe("host=web-01 | eventid=3");
    },
    "5mb-attachment-first": (a) => expect(a.problems).toContain("the mail has no text body, only 1 attachment"),
    "1mb-html": (a) => {
        expect(a.classification.rule).toBe("uptime-down");
        expect(a.mail.text).not.toMatch(/<td|<tr/);
    },
    "nested-html": (a) => expect(a.mail.text).not.toContain("<div>"),
    "unclosed-html": (a) => expect(a.problems).toContainEqual(expect.stringMatching(/HTML body is too large/)),
    "zabbix-key-attack": (a) => {
        // The rule matches; its key regex finds no problem ID in the bounded body, so the subject keys the alert.
        expect(a.classification.rule).toBe("zabbix-en-critical");
        expect(a.classification.keySource).toBe("subject");
    },
    "zabbix-ja-key-attack": (a) => {
        // The ID that would complete the key lies beyond the first 64 K characters: not seen.
        expect(a.classification.rule).toBe("zabbix-ja-critical");
        expect(a.classification.keySource).toBe("subject");
    },
    "long-line": (a) => expect(a.mail.text.length).toBe(MAX_TEXT_CHARS),
    "long-subject": (a) => {
        expect(a.mail.subject.startsWith("Problem: [(")).toBe(true);
        expect(a.problems).toContainEqual(expect.stringMatching(/^the header block is over 1\.0 MB/));
    },
    "folded-header": (a) => expect(a.mail.examined?.headerLines).toBeGreaterThan(100_000),
    "many-parameters": (a) => expect(a.problems).toContainEqual(expect.stringMatching(/^the Content-Type header is/)),
    "no-header-end": (a) => {
        expect(a.mail.from).toBe("zabbix@zabbix.example.jp");
        expect(a.problems).toContainEqual(expect.stringMatching(/^the header block is over 1\.0 MB and never ends/));
    },
    "nul-bytes": (a) => expect(a.mail.from).toBe("zabbix@zabbix.example.jp"),
    "nested-rfc822": (a) => expect(a.classification.severity).toBeDefined(),
};

describe("hostile mail classifies through the function's path, bounded", () => {
    it("covers every mail of the corpus the issue lists, and each has an expectation", () => {
        const names = CORPUS.map((m) => m.name);
        for (const listed of ["random-bytes", "10000-headers", "1000-nested-multiparts", "broken-charsets", "encoded-word-subject", "5mb-attachment", "1mb-html", "zabbix-key-attack"]) expect(names).toContain(listed);
        expect(Object.keys(EXPECTED).sort()).toEqual([...names].sort());
    });

    it("keeps the plain Zabbix mail classified as before", async () => {
        const a = await analyse(plainZabbixMail());
        expect(a.classification).toMatchObject({ rule: "zabbix-en-critical", alertKey: "host=app-02 | eventid=4711", keySource: "rule" });
        expect(a.problems).toEqual([]);
    });

    it.each(CORPUS.map((m) => [m.name, m] as const))("%s: no throw, the parser got a bounded copy, the rules bounded text", async (name, hostile) => {
        const a = await analyse(hostile.raw);
        const examined = a.mail.examined;
        if (examined === undefined) throw new Error("parseMail said nothing of what it read");
        expect(examined.parsedBytes).toBeLessThanOrEqual(PARSE_BOUND);
        expect(examined.bodyBytesParsed).toBeLessThanOrEqual(MAX_PARSED_BODY_BYTES);
        expect(a.mail.sizeBytes).toBe(hostile.raw.length);
        expect(a.mail.text.length).toBeLessThanOrEqual(MAX_TEXT_CHARS);
        const seen = classificationText(a.mail);
        expect(seen.subject.length).toBeLessThanOrEqual(MAX_CLASSIFY_SUBJECT_CHARS);
        expect(seen.body.length).toBeLessThanOrEqual(MAX_CLASSIFY_BODY_CHARS);
        // Body left unread is said (the full mail stays in S3); header fields the rules do not read are skipped silently.
        if (examined.bodyBytes > examined.bodyBytesParsed) expect(a.problems.join("\n")).toMatch(/were read|not read/);
        EXPECTED[name](a);
    });
});

describe("hostile mail through the whole handler", () => {
    let h: IngestHarness;
    beforeAll(async () => {
        h = await startIngestHarness();
    });
    afterAll(async () => {
        await h.close();
    });

    it("processes every hostile mail (nothing throws out of the handler) and reports each within SNS's limit", async () => {
        const handler = h.handler();
        for (const [i, hostile] of CORPUS.entries()) {
            const outcomes = await handler(event(h.deliver(hostile.raw, `msg-hostile-${i}`)), context());
            expect(outcomes.map((o) => o.kind), hostile.name).toEqual(["processed"]);
        }
        expect(h.sns.messages.length).toBe(CORPUS.length);
        for (const message of h.sns.messages) expect(Buffer.byteLength(message.message)).toBeLessThan(256 * 1024);
    }, 60_000);
});
