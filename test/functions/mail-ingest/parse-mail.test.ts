import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
    addressIn,
    boundForClassification,
    decodeEncodedWords,
    isKnownCharset,
    MAX_HEADER_REPEATS,
    MAX_HEADER_VALUE_BYTES,
    MAX_PARSED_BODY_BYTES,
    MAX_TEXT_CHARS,
    parseMail,
    readHeadersDirectly,
    stripHtml,
} from "../../../functions/mail-ingest/parse-mail";

const FIXTURES = join(__dirname, "../../fixtures/mail");
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

describe("parseMail: Japanese mail", () => {
    it("decodes an ISO-2022-JP subject, sender name and body", async () => {
        const mail = await parseMail(fixture("zabbix-ja-problem.eml"));
        expect(mail.subject).toBe("障害: web-01 のCPU使用率が90%を超えています");
        expect(mail.fromDisplay).toContain("Zabbix 監視サーバ");
        expect(mail.from).toBe("zabbix@zabbix.example.jp");
        expect(mail.text).toContain("深刻度: 重度の障害");
        expect(mail.text).toContain("元の障害ID: 123456");
        expect(mail.problems).toEqual([]);
    });

    it("decodes a Shift_JIS subject and 8-bit body, half-width katakana included", async () => {
        const mail = await parseMail(fixture("zabbix-sjis-disaster.eml"));
        expect(mail.subject).toBe("障害: db-01 MySQLが停止しています");
        expect(mail.text).toContain("深刻度: 致命的な障害");
        expect(mail.text).toContain("ｻｰﾋﾞｽ: mysqld (ﾎﾟｰﾄ 3306)");
        expect(mail.problems).toEqual([]);
    });

    it("decodes UTF-8 encoded-words split across folded lines and a base64 body", async () => {
        const mail = await parseMail(fixture("newsletter.eml"));
        expect(mail.subject).toBe("【ニュースレター】5月のアップデート情報");
        expect(mail.text).toContain("5月のアップデート情報をお届けします。");
    });
});

describe("parseMail: transfer encodings and HTML", () => {
    it("decodes a base64 body", async () => {
        expect((await parseMail(fixture("zabbix-en-problem.eml"))).text).toContain("Severity: Average\nOperational data: not available (0)");
    });

    it("decodes quoted-printable with soft line breaks and UTF-8 escapes", async () => {
        const mail = await parseMail(fixture("datadog-triggered.eml"));
        expect(mail.text).toContain("CPU usage is above 90% on web-03 for the last 5 minutes — check the batch jobs.");
        expect(mail.text).toContain("avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90");
        expect(readFileSync(join(FIXTURES, "datadog-triggered.eml"), "latin1")).toMatch(/=\r\n/);
    });

    it("prefers the text part of multipart/alternative over the HTML", async () => {
        const mail = await parseMail(fixture("datadog-triggered.eml"));
        expect(mail.text).not.toContain("<h2");
        expect(mail.text).toContain("%%%");
    });

    it("turns an HTML-only mail into text", async () => {
        const mail = await parseMail(fixture("html-only.eml"));
        expect(mail.text).toMatch(/your monitor is down/i);
        expect(mail.text).toContain("Connection Timeout");
        expect(mail.text).toContain("ECチーム");
        expect(mail.text).not.toMatch(/<td>|<style>|td \{/);
        expect(mail.problems).toEqual([]);
    });
});

describe("parseMail: broken mail never throws", () => {
    it("uses the raw body when the MIME boundary is wrong", async () => {
        const mail = await parseMail(fixture("malformed-boundary.eml"));
        expect(mail.subject).toBe("Backup job failed on batch-1");
        expect(mail.text).toContain("ERROR: backup of /var/lib/mysql failed (exit code 2)");
        expect(mail.text).not.toContain("--==BOUNDARY-B==");
        expect(mail.problems).toEqual(["no text part could be found in the MIME structure (a broken boundary?); the raw body was used for the rules"]);
    });

    it("reports a missing From header", async () => {
        const mail = await parseMail(fixture("missing-from.eml"));
        expect(mail.from).toBe("");
        expect(mail.subject).toBe("PROBLEM: disk /var almost full on batch-1");
        expect(mail.problems).toEqual(["the mail has no From header"]);
    });

    it("reports an unknown charset and still returns the ASCII text", async () => {
        const mail = await parseMail(fixture("unknown-charset.eml"));
        expect(mail.text).toContain("Length: 15234 (limit 10000)");
        expect(mail.problems).toEqual(['unknown charset "x-legacy-8bit": text in it was read as UTF-8 and may be garbled']);
    });

    it("reports an empty body", async () => {
        const mail = await parseMail(fixture("empty-body.eml"));
        expect(mail.subject).toBe("Cron <root@batch-1> /usr/local/bin/rotate-logs");
        expect(mail.text).toBe("");
        expect(mail.problems).toEqual(["the mail has an empty body"]);
    });

    it("reports an empty mail", async () => {
        expect(await parseMail(Buffer.alloc(0))).toMatchObject({ from: "", subject: "", text: "", problems: ["the mail is empty (0 bytes)"] });
    });

    it("reports text without headers and keeps the text", async () => {
        const mail = await parseMail(Buffer.from("CRITICAL disk full on db-1\r\nsecond line\r\n"));
        expect(mail.text).toContain("CRITICAL disk full on db-1");
        expect(mail.problems).toContain("no mail headers were found (the message does not start with header lines)");
        expect(mail.problems).toContain("the mail has no From header");
    });

    it("reads the fields it needs from a header block over 1 MB and still finds the body", async () => {
        const raw = Buffer.concat([
            Buffer.from("From: Zabbix <zabbix@zabbix.example.jp>\r\nSubject: =?ISO-2022-JP?B?GyRCPmMzMhsoQjogd2ViLTAx?=\r\nX-Junk: "),
            Buffer.alloc(1_200_000, "a"),
            Buffer.from("\r\n\r\nSeverity: High\r\n"),
        ]);
        const mail = await parseMail(raw);
        expect(mail.from).toBe("zabbix@zabbix.example.jp");
        expect(mail.subject).toBe("障害: web-01");
        expect(mail.text).toContain("Severity: High");
        expect(mail.problems).toEqual(["the header block is over 1.0 MB; header fields after its first 1.0 MB were not read"]);
        // The junk field is not one classification reads: the parser never saw it.
        expect(mail.examined?.headersKept).toBe(2);
        expect(mail.examined?.parsedBytes).toBeLessThan(1000);
    });

    it("falls back when a mail has more parts than mailparser allows", async () => {
        const parts = "--X\r\nContent-Type: text/plain\r\n\r\npart\r\n".repeat(1200);
        const mail = await parseMail(Buffer.from(`From: a@example.com\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary="X"\r\n\r\n${parts}--X--\r\n`));
        expect(mail.subject).toBe("many");
        expect(mail.problems[0]).toMatch(/could not be parsed.*child nodes/);
    });

    it("strips tags from HTML too large for html-to-text instead of failing", async () => {
        const html = `<html><body><h1>Disk full</h1><p>${"filler ".repeat(400_000)}</p></body></html>`;
        const mail = await parseMail(Buffer.from(`From: a@example.com\r\nSubject: big html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`));
        expect(mail.text.startsWith("Disk full")).toBe(true);
        expect(mail.text).not.toContain("<p>");
        expect(mail.problems).toContainEqual(expect.stringMatching(/^the HTML body is too large to convert/));
    });

    it("parses a 40 MB mail and cuts its text", async () => {
        const line = "0123456789 abcdefghij ABCDEFGHIJ 0123456789 abcdefghij ABCDEFGHIJ 0123456789\r\n";
        const head = "From: a@example.com\r\nSubject: huge\r\nContent-Type: text/plain\r\n\r\nSeverity: High\r\n";
        const raw = Buffer.from(head + line.repeat(Math.ceil((40 * 1024 * 1024) / line.length)));
        const mail = await parseMail(raw);
        expect(mail.sizeBytes).toBe(raw.length);
        expect(mail.text.length).toBe(MAX_TEXT_CHARS);
        expect(mail.text.startsWith("Severity: High")).toBe(true);
        expect(mail.examined?.bodyBytesParsed).toBeLessThanOrEqual(MAX_PARSED_BODY_BYTES);
        expect(mail.problems).toEqual([
            expect.stringMatching(/^the body is 40\.0 MB; its first \d+ bytes were read for classification \(the full mail stays in S3\)$/),
            expect.stringMatching(/^the text body read is \d+ characters \(mail of 40\.0 MB\); the rules look at the first 65536$/),
        ]);
    }, 20_000);

    it("reports a mail with only an attachment", async () => {
        const raw = Buffer.from(
            'From: a@example.com\r\nSubject: report\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=r.pdf\r\n\r\nJVBERi0xLjQK\r\n--B--\r\n',
        );
        expect((await parseMail(raw)).problems).toEqual(["the mail has no text body, only 1 attachment"]);
    });
});

describe("parse-mail helpers", () => {
    it("decodes encoded-words in B and Q form, joining adjacent words", () => {
        expect(decodeEncodedWords("=?UTF-8?B?6Zqc5a6z?= =?UTF-8?Q?=E5=BE=A9=E6=97=A7?= done")).toBe("障害復旧 done");
        expect(decodeEncodedWords("=?ISO-2022-JP?B?GyRCPmMzMhsoQg==?=: x")).toBe("障害: x");
        expect(decodeEncodedWords("=?x-unknown?Q?plain_text?=")).toBe("plain text");
    });

    it("reads folded headers and finds addresses", () => {
        const { headers, bodyStart } = readHeadersDirectly(Buffer.from("Subject: a\r\n b\r\nFrom: \"Ops, Team\" <ops@example.jp>\r\n\r\nbody"));
        expect(headers.get("subject")).toBe("a b");
        expect(addressIn(headers.get("from") ?? "")).toBe("ops@example.jp");
        expect(bodyStart).toBe(Buffer.byteLength("Subject: a\r\n b\r\nFrom: \"Ops, Team\" <ops@example.jp>\r\n\r\n"));
        expect(addressIn("plain@example.jp (Plain)")).toBe("plain@example.jp");
    });

    it("knows the charsets mailparser decodes", () => {
        for (const known of ["ISO-2022-JP", "iso-2022-jp", "Shift_JIS", "cp932", "EUC-JP", "utf-8", "us-ascii", "windows-1252"]) expect(isKnownCharset(known)).toBe(true);
        expect(isKnownCharset("x-legacy-8bit")).toBe(false);
    });
});

describe("parseMail: the canary header", () => {
    const canary = (extra: string) => Buffer.from(`From: alertline-canary@alerts.example.jp\r\nSubject: canary\r\n${extra}Content-Type: text/plain\r\n\r\nhello\r\n`);

    it("exposes X-Alertline-Canary as canaryId, whatever the header's case", async () => {
        expect((await parseMail(canary("X-Alertline-Canary: canary-prod-20240521T094527Z-a1b2c3\r\n"))).canaryId).toBe("canary-prod-20240521T094527Z-a1b2c3");
        expect((await parseMail(canary("x-alertline-CANARY:  c-2 \r\n"))).canaryId).toBe("c-2");
    });

    it("has no canaryId for mail without the header", async () => {
        const mail = await parseMail(fixture("nagios-problem.eml"));
        expect(mail).not.toHaveProperty("canaryId");
    });

    it("takes the first of two canary headers and cuts a forged, very long one", async () => {
        expect((await parseMail(canary("X-Alertline-Canary: first\r\nX-Alertline-Canary: second\r\n"))).canaryId).toBe("first");
        expect((await parseMail(canary(`X-Alertline-Canary: ${"x".repeat(5000)}\r\n`))).canaryId).toHaveLength(200);
    });

    it("finds the header when mailparser gives up and headers are read directly", async () => {
        const raw = Buffer.from('From: alertline-canary@alerts.example.jp\r\nX-Alertline-Canary: c-3\r\nContent-Type: multipart/mixed; boundary="X"\r\n\r\n' + "--X\r\nContent-Type: text/plain\r\n\r\npart\r\n".repeat(200) + "--X--\r\n");
        const mail = await parseMail(raw);
        expect(mail.problems[0]).toMatch(/^the MIME structure could not be parsed/);
        expect(mail.canaryId).toBe("c-3");
    });
});

describe("the bound applied before the parser", () => {
    const head = (lines: string[]) => Buffer.from(`${lines.join("\r\n")}\r\n\r\nHost: web-01\r\n`);

    it("hands the parser only the header fields classification reads, unfolded", () => {
        const bounded = boundForClassification(head(["Received: from a", "From: Zabbix <zabbix@zabbix.example.jp>", "X-Mailer: z", "Subject: Problem:", " folded", "DKIM-Signature: v=1"]));
        expect(bounded.raw.toString("latin1")).toBe("From: Zabbix <zabbix@zabbix.example.jp>\r\nSubject: Problem: folded\r\n\r\nHost: web-01\r\n");
        expect(bounded.examined).toMatchObject({ headerLines: 6, headersKept: 2 });
        expect(bounded.problems).toEqual([]);
    });

    it("keeps a repeated From (up to the limit) so the parser still sees more than one", async () => {
        const froms = Array.from({ length: 10 }, (_, i) => `From: a${i}@x.example`);
        const bounded = boundForClassification(head([...froms, "Subject: s"]));
        expect(bounded.raw.toString("latin1").match(/^From:/gm)).toHaveLength(MAX_HEADER_REPEATS);
        expect(bounded.problems).toEqual([`the mail repeats the From header; only its first ${MAX_HEADER_REPEATS} were read`]);
    });

    it("does not read a From longer than the bound (a cut could hide a second address) but keeps it counted", async () => {
        const long = `From: "${"n".repeat(MAX_HEADER_VALUE_BYTES)}" <zabbix@zabbix.example.jp>, evil@attacker.example`;
        const mail = await parseMail(head([long, "Subject: s"]));
        expect(mail.from).toBe("");
        expect(mail.problems).toContainEqual(expect.stringMatching(/^a From header of \d+ bytes \(over 8192 bytes\) was not read$/));
        // Beside a short From, the parser still sees two From headers.
        const copy = boundForClassification(head(["From: zabbix@zabbix.example.jp", long, "Subject: s"])).raw.toString("latin1");
        expect(copy.match(/^From:/gm)).toHaveLength(2);
        expect(copy).not.toContain("evil@attacker.example");
    });

    it("cuts a long Subject at a space, so no encoded-word is split", async () => {
        const words = Array.from({ length: 2000 }, () => "=?UTF-8?B?6Zqc5a6z?=").join(" ");
        const mail = await parseMail(head([`Subject: ${words}`, "From: a@b.example"]));
        expect(mail.subject).toMatch(/^(障害)+$/);
        expect(mail.examined?.parsedBytes).toBeLessThan(MAX_HEADER_VALUE_BYTES + 200);
    });

    it("reads the body's first MAX_PARSED_BODY_BYTES, ending at a line break, and says so", () => {
        const bounded = boundForClassification(Buffer.concat([head(["From: a@b.example"]), Buffer.from("0123456789abcde\n".repeat(100_000))]));
        expect(bounded.examined.bodyBytesParsed).toBeLessThanOrEqual(MAX_PARSED_BODY_BYTES);
        expect(bounded.examined.bodyBytesParsed).toBeGreaterThan(MAX_PARSED_BODY_BYTES - 20);
        expect(bounded.raw.at(-1)).toBe(0x0a);
        expect(bounded.problems).toEqual([expect.stringMatching(/^the body is 1\.5 MB; its first \d+ bytes were read for classification \(the full mail stays in S3\)$/)]);
    });

    it("passes on a mail that does not start with headers as it is, cut to the same size", () => {
        const raw = Buffer.from("CRITICAL disk full\r\n".repeat(20_000));
        const bounded = boundForClassification(raw);
        expect(bounded.raw.equals(raw.subarray(0, MAX_PARSED_BODY_BYTES))).toBe(true);
    });
});

describe("stripHtml (linear)", () => {
    it("drops tags, script and style, breaks lines at blocks and decodes entities", () => {
        expect(stripHtml("<html><head><style>td{x}</style><script>var a = '<p>'</script></head><body><h1>Down</h1><p>Host&nbsp;web&#45;01 &amp; &lt;db&gt; &#x3042;</p><br>end</body></html>")).toBe("Down\nHost web-01 & <db> あ\nend");
    });

    it("keeps the text after an unclosed '<' and after an unclosed script", () => {
        expect(stripHtml("a < b and c")).toBe("a < b and c");
        expect(stripHtml("<p>shown</p><script>hidden")).toBe("shown");
    });

    it("reads at most 4 × MAX_TEXT_CHARS of HTML, however it is built", () => {
        const hostile = "<script <style <a <<".repeat(50_000) + "<div>".repeat(100_000);
        expect(stripHtml(hostile).length).toBeLessThanOrEqual(MAX_TEXT_CHARS * 4);
    });
});
