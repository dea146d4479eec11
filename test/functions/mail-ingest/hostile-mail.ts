/**
 * A generated corpus of hostile mail: what an attacker who knows the rules (the repository is
 * public, prod.yaml included) and mailparser's weak spots would send to the alert address. Nothing
 * here is stored: every mail is built by code, deterministically (a seeded generator), so the test
 * (`bounded-classify.test.ts`) and the benchmark (`npm run bench:classify`) see the same bytes.
 */

const CRLF = "\r\n";

/** mulberry32: a small seeded generator, so "random" mail is the same on every run. */
export function seededBytes(length: number, seed: number): Buffer {
    const out = Buffer.alloc(length);
    let a = seed >>> 0;
    for (let i = 0; i < length; i++) {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
    }
    return out;
}

function mail(headers: readonly string[], body: string | Buffer): Buffer {
    const head = Buffer.from(headers.join(CRLF) + CRLF + CRLF, "latin1");
    return Buffer.concat([head, typeof body === "string" ? Buffer.from(body, "utf8") : body]);
}

const ZABBIX_FROM = "From: Zabbix <zabbix@zabbix.example.jp>";
const TO = "To: patlite@alerts.example.jp";
const DATE = "Date: Tue, 21 May 2024 09:12:45 +0000";

/** A plain Zabbix problem mail as Zabbix 5+ sends it: the yardstick the hostile ones are measured against. */
export function plainZabbixMail(): Buffer {
    const body = [
        "Problem started at 09:12:44 on 2024.05.21",
        "Problem name: Zabbix agent on app-02 is not available for 3 minutes",
        "Host: app-02",
        "Severity: High",
        "Operational data: not available (0)",
        "Original problem ID: 4711",
        "",
    ].join(CRLF);
    return mail([DATE, ZABBIX_FROM, TO, "Subject: Problem: Zabbix agent on app-02 is not available for 3 minutes", "MIME-Version: 1.0", 'Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: 8bit"], body);
}

function base64Lines(bytes: Buffer): string {
    return (bytes.toString("base64").match(/.{1,76}/g) ?? []).join(CRLF);
}

/** One hostile mail: a name for reports, what it aims at, and its bytes. */
export interface HostileMail {
    readonly name: string;
    readonly aim: string;
    readonly raw: Buffer;
}

/** The corpus. Sizes are the issue's (10,000 headers, 1,000 nested multiparts, 5 MB, 1 MB). */
export function hostileCorpus(): HostileMail[] {
    const corpus: HostileMail[] = [];
    const add = (name: string, aim: string, raw: Buffer) => corpus.push({ name, aim, raw });

    add("random-bytes", "1 MB of random bytes: no header, no structure, every byte value", seededBytes(1024 * 1024, 11));

    add(
        "random-after-headers",
        "valid headers, then 1 MB of random bytes declared as a UTF-8 text body",
        mail([DATE, ZABBIX_FROM, TO, "Subject: Problem: noise", 'Content-Type: text/plain; charset="UTF-8"'], seededBytes(1024 * 1024, 12)),
    );

    const headers: string[] = [DATE, TO];
    for (let i = 0; i < 10_000; i++) headers.push(`X-Filler-${i}: ${"v".repeat(i % 50)} =?UTF-8?B?44GC44GE?= value ${i}`);
    headers.push(ZABBIX_FROM, "Subject: Problem: headers", 'Content-Type: text/plain; charset="UTF-8"');
    add("10000-headers", "10,000 header lines (encoded-words in each) before From and Subject", mail(headers, "Host: web-01\r\nSeverity: High\r\nOriginal problem ID: 1\r\n"));

    {
        const depth = 1000;
        let body = "Host: web-01\r\nSeverity: High\r\nOriginal problem ID: 2\r\n";
        for (let level = depth - 1; level >= 0; level--) {
            const innerType = level === depth - 1 ? 'text/plain; charset="UTF-8"' : `multipart/mixed; boundary="b${level + 1}"`;
            body = `--b${level}${CRLF}Content-Type: ${innerType}${CRLF}${CRLF}${body}${CRLF}--b${level}--${CRLF}`;
        }
        add("1000-nested-multiparts", "multipart/mixed nested 1,000 deep with the text part at the bottom", mail([DATE, ZABBIX_FROM, TO, "Subject: Problem: nested", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b0"'], body));
    }

    {
        const parts = [
            ['text/plain; charset="x-no-such-charset"', "8bit", Buffer.concat([Buffer.from("Host: web-01\r\n"), seededBytes(4096, 13)])],
            ['text/plain; charset="ISO-2022-JP"', "7bit", Buffer.from("\x1b$B\x1b$B\x1b(J\x1b$@%%%%\x1b$B\x1b(B broken escapes \x1b$B\r\n".repeat(2000), "latin1")],
            ['text/plain; charset="Shift_JIS"', "8bit", Buffer.concat([Buffer.from([0x81, 0x82, 0x83, 0xff, 0xfe, 0xa0, 0xe0]), seededBytes(8192, 14)])],
            ['text/plain; charset="UTF-8"', "base64", Buffer.from("!!!! not base64 at all ==== ~~~~\r\n".repeat(2000))],
            ['text/plain; charset="UTF-8"', "quoted-printable", Buffer.from("=ZZ=\r\n=4=G=".repeat(5000))],
            [`text/plain; charset="${"x".repeat(5000)}"`, "8bit", Buffer.from("Severity: High\r\n")],
        ] as const;
        const body = Buffer.concat([
            ...parts.flatMap(([type, encoding, bytes]) => [Buffer.from(`--cs${CRLF}Content-Type: ${type}${CRLF}Content-Transfer-Encoding: ${encoding}${CRLF}${CRLF}`), bytes, Buffer.from(CRLF)]),
            Buffer.from(`--cs--${CRLF}`),
        ]);
        add(
            "broken-charsets",
            "unknown, misused and overlong charsets, broken ISO-2022-JP escapes, invalid Shift_JIS, bad base64 and quoted-printable",
            mail([DATE, ZABBIX_FROM, TO, "Subject: =?x-unknown?B?44GC?= =?ISO-2022-JP?B?GyRC!!!?= =?UTF-8?Q?=ZZ=E3?=", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="cs"'], body),
        );
    }

    {
        const words: string[] = [];
        for (let i = 0; i < 20_000; i++) words.push(i % 3 === 0 ? "=?UTF-8?B?44GC44GE44GG?=" : i % 3 === 1 ? "=?ISO-2022-JP?B?GyRCJCIbKEI=?=" : "=?Shift_JIS?Q?=82=A0?=");
        add("encoded-word-subject", "a Subject of 20,000 chained encoded-words in three charsets (about 500 KB)", mail([DATE, ZABBIX_FROM, TO, `Subject: Problem: ${words.join(`${CRLF} `)}`, 'Content-Type: text/plain; charset="UTF-8"'], "Host: web-01\r\n"));
        const sameCharset = Array.from({ length: 20_000 }, () => "=?UTF-8?Q?=E3=81?=").join(" ");
        add("split-encoded-words", "a Subject of 20,000 encoded-words each holding half a character, one line", mail([DATE, ZABBIX_FROM, TO, `Subject: ${sameCharset}`, 'Content-Type: text/plain; charset="UTF-8"'], "Host: web-01\r\n"));
        const fromChain = Array.from({ length: 5000 }, (_, i) => `=?UTF-8?B?${Buffer.from(`n${i}`).toString("base64")}?=`).join(" ");
        add("encoded-word-from", "a From display name of 5,000 encoded-words and 2,000 addresses", mail([DATE, `From: ${fromChain} <zabbix@zabbix.example.jp>, ${Array.from({ length: 2000 }, (_, i) => `a${i}@x.example`).join(", ")}`, TO, "Subject: Problem: from", 'Content-Type: text/plain; charset="UTF-8"'], "Host: web-01\r\n"));
    }

    {
        const text = `--att${CRLF}Content-Type: text/plain; charset="UTF-8"${CRLF}${CRLF}Host: web-01${CRLF}Severity: High${CRLF}Original problem ID: 3${CRLF}`;
        const attachment = `--att${CRLF}Content-Type: application/octet-stream; name="dump.bin"${CRLF}Content-Disposition: attachment; filename="dump.bin"${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${base64Lines(seededBytes(5 * 1024 * 1024, 15))}${CRLF}`;
        const head = [DATE, ZABBIX_FROM, TO, "Subject: Problem: attachment", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="att"'];
        add("5mb-attachment", "a text part followed by a 5 MB base64 attachment", mail(head, `${text}${attachment}--att--${CRLF}`));
        add("5mb-attachment-first", "a 5 MB base64 attachment before the text part", mail(head, `${attachment}${text}--att--${CRLF}`));
    }

    {
        const row = "<tr><td class=\"k\">Host</td><td>web-01</td><td><a href=\"https://example.com/x\">link</a></td></tr>\r\n";
        const html = `<html><head><style>td { color: red }</style></head><body><h1>Your monitor is DOWN</h1><table>${row.repeat(Math.ceil((1024 * 1024) / row.length))}</table></body></html>`;
        add("1mb-html", "a 1 MB HTML-only mail (one big table)", mail([DATE, "From: Uptime <alerts@uptime.example.com>", TO, "Subject: Monitor is DOWN: web", 'Content-Type: text/html; charset="UTF-8"'], html));
        const nested = `<html><body>${"<div><span><b>".repeat(60_000)}your monitor is down${"</b></span></div>".repeat(60_000)}</body></html>`;
        add("nested-html", "HTML nested 180,000 tags deep (about 1.6 MB)", mail([DATE, "From: Uptime <alerts@uptime.example.com>", TO, "Subject: Monitor is DOWN: web", 'Content-Type: text/html; charset="UTF-8"'], nested));
        const unclosed = `<html><body>${"<script <style <a <<".repeat(50_000)}</body>`;
        add("unclosed-html", "HTML of 50,000 unclosed <script and <style tags and bare '<' (about 1 MB)", mail([DATE, "From: Uptime <alerts@uptime.example.com>", TO, "Subject: Monitor is DOWN: web", 'Content-Type: text/html; charset="UTF-8"'], unclosed));
    }

    add(
        "zabbix-key-attack",
        "From and Subject of zabbix-en-critical, then 1 MB of 'Host: ' lines and no 'Original problem ID' (the key regex's worst case)",
        mail([DATE, ZABBIX_FROM, TO, "Subject: Problem: key", 'Content-Type: text/plain; charset="UTF-8"'], `Severity: High\r\n${"Host: a\r\n".repeat((1024 * 1024) / 9)}`),
    );
    add(
        "zabbix-ja-key-attack",
        "the same against zabbix-ja-critical: 1 MB of 'ホスト: ' lines, then an original problem ID so the key regex matches",
        mail([DATE, ZABBIX_FROM, TO, "Subject: =?UTF-8?B?6Zqc5a6z?=", 'Content-Type: text/plain; charset="UTF-8"'], `深刻度: 重度の障害\r\n${"ホスト: あ\r\n".repeat((1024 * 1024) / 20)}元の障害ID: 1\r\n`),
    );
    add("long-line", "a 2 MB body without a line break", mail([DATE, ZABBIX_FROM, TO, "Subject: Problem: line", 'Content-Type: text/plain; charset="UTF-8"'], `Host: ${"a".repeat(2 * 1024 * 1024)}`));
    add("long-subject", "a 1 MB Subject on one line, no encoded-words", mail([DATE, ZABBIX_FROM, TO, `Subject: Problem: ${"[(".repeat(512 * 1024)}`, 'Content-Type: text/plain; charset="UTF-8"'], "Host: web-01\r\n"));
    add("folded-header", "a Subject folded over 100,000 continuation lines", mail([DATE, ZABBIX_FROM, TO, `Subject: Problem:${`${CRLF} x`.repeat(100_000)}`, 'Content-Type: text/plain; charset="UTF-8"'], "Host: web-01\r\n"));
    add(
        "many-parameters",
        "a Content-Type with 10,000 parameters (RFC 2231 continuations)",
        mail([DATE, ZABBIX_FROM, TO, "Subject: Problem: params", `Content-Type: text/plain; charset="UTF-8"; ${Array.from({ length: 10_000 }, (_, i) => `name*${i}*=UTF-8''%E3%81%82`).join("; ")}`], "Host: web-01\r\n"),
    );
    add("no-header-end", "2 MB of header-like lines and never a blank line", Buffer.from(`${ZABBIX_FROM}${CRLF}${"X-A: b\r\n".repeat((2 * 1024 * 1024) / 8)}`));
    add("nul-bytes", "headers and a body full of NUL bytes", mail([DATE, ZABBIX_FROM, TO, "Subject: Problem: \0\0\0", 'Content-Type: text/plain; charset="UTF-8"'], Buffer.alloc(1024 * 1024)));
    {
        let inner = mail([ZABBIX_FROM, "Subject: innermost", 'Content-Type: text/plain; charset="UTF-8"'], "Host: web-01\r\n").toString("latin1");
        for (let i = 0; i < 200; i++) inner = mail([`Subject: wrapper ${i}`, "Content-Type: message/rfc822"], inner).toString("latin1");
        add("nested-rfc822", "message/rfc822 attachments nested 200 deep", mail([DATE, ZABBIX_FROM, TO, "Subject: Problem: rfc822", "MIME-Version: 1.0", "Content-Type: message/rfc822"], Buffer.from(inner, "latin1")));
    }
    return corpus;
}
