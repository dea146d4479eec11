import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMail } from "../../../functions/mail-ingest/parse-mail";
import {
    classificationText,
    classify,
    compileRuleRegex,
    defaultAlertKey,
    MAX_CLASSIFY_BODY_CHARS,
    MAX_CLASSIFY_SUBJECT_CHARS,
    MAX_BODY_REGEX_PROGRAM_SIZE,
    MAX_SUBJECT_REGEX_PROGRAM_SIZE,
    MailRulesError,
    NO_ROUTE,
    parseMailRules,
    unknownRuleSites,
    unknownRuleTowers,
    validateMailRules,
    type MailRules,
} from "../../../functions/shared/mail-rules";

const RULES_DIR = join(__dirname, "../../../functions/mail-ingest/rules");
const FIXTURES = join(__dirname, "../../fixtures/mail");

function problemsOf(yaml: string): string[] {
    try {
        parseMailRules(yaml, "test.yaml");
    } catch (error) {
        expect(error).toBeInstanceOf(MailRulesError);
        return [...(error as MailRulesError).problems];
    }
    throw new Error("expected the rules to be rejected");
}

const mail = (from: string, subject: string, text = "") => ({ from, subject, text });

describe("rules validation", () => {
    it("accepts the documented format and defaults defaultSeverity to info", () => {
        const rules = parseMailRules(`
rules:
  - name: zabbix-disaster
    from: "*@zabbix.example.jp"
    subject: "(障害|PROBLEM).*Disaster"
    body: "Severity: (Disaster|High)"
    severity: critical
    towers: [tokyo-ops]
`);
        expect(rules.defaultSeverity).toBe("info");
        expect(rules.rules.map((r) => r.name)).toEqual(["zabbix-disaster"]);
        expect(rules.rules[0].route).toEqual({ all: false, towers: ["tokyo-ops"], sites: [] });
    });

    it("reads the destinations: sites, towers, both, all, none, and nothing named", () => {
        const rules = parseMailRules(`
rules:
  - { name: to-sites, subject: a, severity: critical, sites: [tokyo-office, customer-a] }
  - { name: to-both, subject: b, severity: warning, sites: [customer-a], towers: [tokyo-noc] }
  - { name: to-all, subject: c, severity: critical, towers: all }
  - { name: to-none, subject: d, severity: info, towers: none }
  - { name: unnamed, subject: e, severity: info }
`);
        expect(rules.rules.map((r) => [r.name, r.route])).toEqual([
            ["to-sites", { all: false, towers: [], sites: ["tokyo-office", "customer-a"] }],
            ["to-both", { all: false, towers: ["tokyo-noc"], sites: ["customer-a"] }],
            ["to-all", { all: true, towers: [], sites: [] }],
            ["to-none", NO_ROUTE],
            ["unnamed", NO_ROUTE],
        ]);
    });

    it("says what is wrong with a destination, naming the rule and field", () => {
        const rule = (fields: string) => problemsOf(`rules:\n  - { name: r, subject: x, severity: info, ${fields} }\n`);
        expect(rule("towers: []")).toEqual(['rules[0] ("r").towers lists no tower: name at least one, or write towers: none for a rule whose mail should light no tower']);
        expect(rule("sites: []")).toEqual(['rules[0] ("r").sites lists no site: name at least one, or write towers: none for a rule whose mail should light no tower']);
        expect(rule("towers: [all]")).toEqual(['rules[0] ("r").towers lists "all" inside brackets: write towers: all (without brackets)']);
        expect(rule("sites: [tokyo-office, none]")).toEqual(['rules[0] ("r").sites lists "none" inside brackets: write towers: none (without brackets) instead of sites']);
        expect(rule("sites: all")).toEqual(['rules[0] ("r").sites must be a list of site names from alertline:sites, such as [tokyo-office] (for every tower of the stack write towers: all)']);
        expect(rule("towers: every")[0]).toBe('rules[0] ("r").towers must be a list of tower names such as [tokyo-ops], or all (every tower, also of sites added later), or none (no tower; the mail only reaches the alert channel)');
        expect(rule("towers: all, sites: [a]")).toEqual(['rules[0] ("r").towers is all, which already lights every tower: remove sites, or list the towers instead of all']);
        expect(rule("towers: none, sites: [a]")).toEqual(['rules[0] ("r").towers is none, which lights no tower, but the rule also names sites: remove one of them']);
        expect(rule('towers: [""]')).toEqual(['rules[0] ("r").towers[0] must not be empty (a tower name from alertline:sites)']);
    });

    it("names the rule and field of a bad regex, shows the regex and the engine's reason", () => {
        const [problem] = problemsOf('rules:\n  - name: broken\n    subject: "(障害|PROBLEM"\n    severity: critical\n');
        expect(problem).toContain('rules[0] ("broken").subject');
        expect(problem).toContain("/(障害|PROBLEM/");
        expect(problem).toMatch(/missing closing \)/);
    });

    it("checks key regexes too", () => {
        const [problem] = problemsOf('rules:\n  - name: k\n    subject: x\n    severity: info\n    key: { body: "Host: (?<host" }\n');
        expect(problem).toContain('rules[0] ("k").key.body');
        expect(problem).toContain("/Host: (?<host/");
    });

    it("rejects a duplicate name, naming both places", () => {
        const problems = problemsOf("rules:\n  - { name: a, subject: x, severity: info }\n  - { name: b, subject: y, severity: info }\n  - { name: a, subject: z, severity: info }\n");
        expect(problems).toEqual(['rules[2].name "a" is used twice (also rules[0]); give every rule a unique name']);
    });

    it("rejects an unknown severity with the value and the allowed ones", () => {
        const [problem] = problemsOf("rules:\n  - { name: a, subject: x, severity: critcal }\n");
        expect(problem).toBe('rules[0] ("a").severity "critcal" is not one of critical | warning | info | recovery | ignore');
    });

    it("requires a name and says so", () => {
        expect(problemsOf("rules:\n  - { subject: x, severity: info }\n")).toEqual(["rules[0].name is required: give every rule a unique name"]);
    });

    it("names a misspelt field and lists the allowed ones", () => {
        const [problem] = problemsOf("rules:\n  - { name: a, subjct: x, from: '*@x', severity: info }\n");
        expect(problem).toContain('unknown field "subjct"');
        expect(problem).toContain("allowed: name, from, subject, body, severity, sites, towers, key");
    });

    it("names misspelt keys of the file and of a key, and a rule that is not a mapping", () => {
        expect(problemsOf("defaultSeverty: info\nrules: []\n")).toEqual(['the file: unknown field "defaultSeverty"; allowed: defaultSeverity, rules']);
        expect(problemsOf("rules:\n  - { name: a, subject: x, severity: info, key: { subjct: y, body: z } }\n")).toEqual(['rules[0] ("a").key: unknown field "subjct"; allowed: subject, body']);
        expect(problemsOf('rules:\n  - "just a string"\n')).toEqual(["rules[0] must be a mapping with name, severity and at least one of from, subject, body"]);
    });

    it("rejects a rule without any condition, which would swallow every mail", () => {
        const [problem] = problemsOf("rules:\n  - { name: all, severity: critical }\n");
        expect(problem).toMatch(/^rules\[0\] \("all"\) has no condition/);
        expect(problem).toContain("defaultSeverity");
    });

    it("rejects a key without a regex, and a bad defaultSeverity", () => {
        expect(problemsOf("rules:\n  - { name: a, subject: x, severity: info, key: {} }\n")[0]).toMatch(/key must give a subject or body regex/);
        expect(problemsOf("defaultSeverity: loud\nrules: []\n")[0]).toBe('defaultSeverity "loud" is not one of critical | warning | info | recovery | ignore');
    });

    it("reports every fault at once, and YAML syntax errors with their line", () => {
        expect(problemsOf("rules:\n  - { name: a, subject: '(', severity: info }\n  - { name: b, severity: nope, body: x }\n")).toHaveLength(2);
        expect(problemsOf("rules: [\n")[0]).toMatch(/^YAML syntax: .*line 2/);
    });

    it("accepts an empty document as no rules", () => {
        expect(validateMailRules(null)).toEqual({ defaultSeverity: "info", rules: [] });
    });

    it("lists rules naming towers or sites that are not configured", () => {
        const rules = parseMailRules("rules:\n  - { name: a, subject: x, severity: info, towers: [tokyo-ops, nagoya], sites: [osaka-office, nagoya-office] }\n  - { name: b, subject: y, severity: info, towers: all }\n");
        expect(unknownRuleTowers(rules, ["tokyo-ops"])).toEqual([{ rule: "a", tower: "nagoya" }]);
        expect(unknownRuleSites(rules, ["osaka-office"])).toEqual([{ rule: "a", site: "nagoya-office" }]);
    });
});

describe("classify", () => {
    const rules: MailRules = parseMailRules(`
defaultSeverity: info
rules:
  - name: zabbix-recovery
    from: "*@zabbix.example.jp"
    subject: "^(復旧|RESOLVED)"
    severity: recovery
  - name: zabbix-disaster
    from: "*@zabbix.example.jp"
    subject: "(障害|PROBLEM)"
    body: "Severity: (Disaster|High)"
    severity: critical
    towers: [tokyo-ops]
  - name: zabbix-other
    from: "*@zabbix.example.jp"
    subject: "(障害|PROBLEM)"
    severity: warning
  - name: keyed
    subject: "^Host down"
    severity: critical
    key: { subject: "Host: (?<host>\\\\S+)", body: "Trigger: (?<trigger>.+)$" }
  - name: numbered
    subject: "^Job failed"
    severity: warning
    key: { subject: "job (\\\\S+) on (\\\\S+)" }
`);

    it("takes the first rule whose conditions all hold", () => {
        expect(classify(mail("zabbix@zabbix.example.jp", "PROBLEM: disk full", "Severity: High"), rules)).toMatchObject({ severity: "critical", rule: "zabbix-disaster", route: { all: false, towers: ["tokyo-ops"], sites: [] } });
        expect(classify(mail("zabbix@zabbix.example.jp", "PROBLEM: disk full", "Severity: Average"), rules)).toMatchObject({ severity: "warning", rule: "zabbix-other", route: NO_ROUTE });
        expect(classify(mail("zabbix@zabbix.example.jp", "RESOLVED: disk full", "Severity: High"), rules)).toMatchObject({ severity: "recovery", rule: "zabbix-recovery" });
    });

    it("matches the From glob without regard to case, and only whole addresses", () => {
        expect(classify(mail("Zabbix@ZABBIX.Example.JP", "障害: x", ""), rules).rule).toBe("zabbix-other");
        expect(classify(mail("zabbix@zabbix.example.jp.evil.test", "障害: x", ""), rules).rule).toBeNull();
    });

    it("matches subject and body case-insensitively, ^ and $ per body line", () => {
        expect(classify(mail("zabbix@zabbix.example.jp", "problem: x", "Info\nseverity: disaster\n"), rules).rule).toBe("zabbix-disaster");
    });

    it("gives the default severity, no rule and no tower when nothing matches", () => {
        expect(classify(mail("someone@example.com", "hello", "world"), rules)).toEqual({ severity: "info", rule: null, alertKey: "hello", keySource: "subject", route: NO_ROUTE });
    });

    it("builds the key from named groups in subject then body", () => {
        const c = classify(mail("x@y", "Host down Host: web-01", "Trigger: Ping lost\nmore"), rules);
        expect(c.alertKey).toBe("host=web-01 | trigger=ping lost");
        expect(c.keySource).toBe("rule");
    });

    it("builds the key from numbered groups", () => {
        expect(classify(mail("x@y", "Job failed: job nightly on batch-1", ""), rules).alertKey).toBe("nightly | batch-1");
    });

    it("falls back to the subject key when a key regex does not match", () => {
        const c = classify(mail("x@y", "Host down somewhere", "no trigger line"), rules);
        expect(c.keySource).toBe("subject");
        expect(c.alertKey).toBe("host somewhere");
    });

    it("looks at no more than the first MAX_CLASSIFY_BODY_CHARS of a body", () => {
        const late = `${"x".repeat(MAX_CLASSIFY_BODY_CHARS)}\nSeverity: High`;
        expect(classify(mail("zabbix@zabbix.example.jp", "PROBLEM: x", late), rules).rule).toBe("zabbix-other");
        const inTime = `${"x".repeat(MAX_CLASSIFY_BODY_CHARS - 15)}\nSeverity: High`;
        expect(inTime.length).toBe(MAX_CLASSIFY_BODY_CHARS);
        expect(classify(mail("zabbix@zabbix.example.jp", "PROBLEM: x", inTime), rules).rule).toBe("zabbix-disaster");
    });

    it("copes with a mail missing everything", () => {
        expect(classify({ from: "", subject: "", text: "" }, rules)).toEqual({ severity: "info", rule: null, alertKey: "(no subject)", keySource: "subject", route: NO_ROUTE });
    });
});

describe("default alert key", () => {
    const pairs: [string, string][] = [
        ["PROBLEM: CPU high on web-1", "RESOLVED: CPU high on web-1"],
        ["障害: web-01 のCPU使用率が高い", "復旧: web-01 のCPU使用率が高い"],
        ["【障害発生】db-1 応答なし", "【障害復旧】db-1 応答なし"],
        ["[Triggered on {host:web-03}] High CPU usage on web-03", "[Recovered on {host:web-03}] High CPU usage on web-03"],
        ['ALARM: "cpu-high" in Asia Pacific (Tokyo)', 'OK: "cpu-high" in Asia Pacific (Tokyo)'],
        ["** PROBLEM Service Alert: web-04/HTTP is CRITICAL **", "** RECOVERY Service Alert: web-04/HTTP is OK **"],
        ["Problem: Zabbix agent on app-02 is not available", "Resolved in 5m 0s: Zabbix agent on app-02 is not available"],
        ["[ALARM] Disk full", "Re: Fwd: [OK] Disk full"],
        ["[Warn] Queue depth", "[Triggered] Queue depth"],
    ];
    it.each(pairs)("gives %j and %j the same key", (problem, recovery) => {
        expect(defaultAlertKey(recovery)).toBe(defaultAlertKey(problem));
    });

    it("keeps what tells alerts apart: hosts, names, host names containing state words", () => {
        expect(defaultAlertKey("PROBLEM: CPU high on web-1")).not.toBe(defaultAlertKey("PROBLEM: CPU high on web-2"));
        expect(defaultAlertKey("PROBLEM: db-up-1 slow")).toContain("db-up-1");
        expect(defaultAlertKey("PROBLEM: CPU high on web-1")).toBe("cpu high on web-1");
    });

    it("folds full-width characters and case", () => {
        expect(defaultAlertKey("障害: ＷＥＢ－０１ ダウン")).toBe(defaultAlertKey("障害: web-01 ダウン"));
    });
});

describe("the stacks' rules files on the fixture mails", () => {
    // Expected outcomes written by reading each mail and the rules' comments, not by running the code.
    const expected: [file: string, severity: string, rule: string | null][] = [
        ["zabbix-ja-problem.eml", "critical", "zabbix-ja-critical"], // 深刻度: 重度の障害 (High)
        ["zabbix-ja-recovery.eml", "recovery", "zabbix-ja-recovery"],
        ["zabbix-sjis-disaster.eml", "critical", "zabbix-ja-critical"], // 致命的な障害 (Disaster)
        ["zabbix-en-problem.eml", "warning", "zabbix-en-warning"], // Severity: Average
        ["zabbix-en-recovery.eml", "recovery", "zabbix-en-recovery"],
        ["datadog-triggered.eml", "critical", "datadog-triggered"],
        ["datadog-recovered.eml", "recovery", "datadog-recovered"],
        ["cloudwatch-alarm.eml", "critical", "cloudwatch-alarm"],
        ["cloudwatch-ok.eml", "recovery", "cloudwatch-ok"],
        ["nagios-problem.eml", "critical", "nagios-critical"], // State: CRITICAL
        ["nagios-recovery.eml", "recovery", "nagios-recovery"],
        ["html-only.eml", "critical", "uptime-down"], // "Your monitor is DOWN", only in the HTML
        ["newsletter.eml", "ignore", "ignore-vendor-newsletters"],
        ["malformed-boundary.eml", "warning", "batch-backup-failed"], // "ERROR: backup" in the unreachable part
        ["missing-from.eml", "info", null], // no From: no rule can match on sender
        ["unknown-charset.eml", "warning", "legacy-monitor-warning"],
        ["empty-body.eml", "info", null],
    ];
    const recoveries: [problem: string, recovery: string][] = [
        ["zabbix-ja-problem.eml", "zabbix-ja-recovery.eml"],
        ["zabbix-en-problem.eml", "zabbix-en-recovery.eml"],
        ["datadog-triggered.eml", "datadog-recovered.eml"],
        ["cloudwatch-alarm.eml", "cloudwatch-ok.eml"],
        ["nagios-problem.eml", "nagios-recovery.eml"],
    ];

    for (const env of ["prod", "dev"]) {
        const rules = parseMailRules(readFileSync(join(RULES_DIR, `${env}.yaml`), "utf8"), `${env}.yaml`);
        const classified = async (file: string) => classify(await parseMail(readFileSync(join(FIXTURES, file))), rules);

        it.each(expected)(`${env}.yaml classifies %s as %s (rule %s)`, async (file, severity, rule) => {
            const result = await classified(file);
            expect({ severity: result.severity, rule: result.rule }).toEqual({ severity, rule });
        });

        it.each(recoveries)(`${env}.yaml gives %s and %s the same alert key`, async (problem, recovery) => {
            const [p, r] = await Promise.all([classified(problem), classified(recovery)]);
            expect(r.alertKey).toBe(p.alertKey);
            expect(p.alertKey).not.toBe("");
        });

        it(`${env}.yaml keys different Zabbix problems apart`, async () => {
            const [a, b] = await Promise.all([classified("zabbix-ja-problem.eml"), classified("zabbix-sjis-disaster.eml")]);
            expect(a.alertKey).not.toBe(b.alertKey);
        });
    }

    it("dev.yaml lights a tower from a hand-sent test mail and clears it", () => {
        const rules = parseMailRules(readFileSync(join(RULES_DIR, "dev.yaml"), "utf8"));
        const on = classify(mail("me@example.com", "[alertline-test] critical: tower check 1"), rules);
        const off = classify(mail("me@example.com", "[alertline-test] recovery: tower check 1"), rules);
        expect(on).toMatchObject({ severity: "critical", rule: "test-critical" });
        expect(off).toMatchObject({ severity: "recovery", rule: "test-recovery", alertKey: on.alertKey });
    });
});

describe("rules run on RE2 (linear time)", () => {
    const rule = (field: string, pattern: string) => `rules:\n  - name: r\n    from: "*@y"\n    ${field}: ${JSON.stringify(pattern)}\n    severity: info\n`;
    const keyRule = (pattern: string) => `rules:\n  - name: r\n    subject: x\n    severity: info\n    key: { body: ${JSON.stringify(pattern)} }\n`;

    it.each([
        ["body", "Severity: (?=High)", /lookahead "\(\?="/, /match the following text as part of the pattern/],
        ["subject", "^(?!OK)PROBLEM", /negative lookahead "\(\?!"/, /write a rule for the excluded case above this one/],
        ["body", "(?<=Host: )\\S+", /lookbehind "\(\?<="/, /"Host: \(\?<host>\\S\+\)" instead of/],
        ["subject", "(?<!re: )alarm", /negative lookbehind/, /excluded case/],
        ["body", "(\\w+) \\1", /backreference "\\1"/, /Match the repeated text explicitly/],
        ["body", "(?<w>\\w+) \\k<w>", /named backreference/, /Match the repeated text explicitly/],
        ["body", "(?P<w>\\w+) (?P=w)", /named backreference "\(\?P=…\)"/, /Match the repeated text explicitly/],
        ["subject", "(?>a|ab)c", /atomic group/, /write "\(\?:" instead/],
        ["subject", "a++b", /possessive quantifier "\+\+"/, /drop the second "\+"/],
        ["body", "a[^]b", /"\[\^\]"/, /write \[\\s\\S\] instead/],
    ])("refuses %s /%s/ at config time, naming the rule, the field, the reason and what to write", (field, pattern, reason, instead) => {
        const [problem] = problemsOf(rule(field, pattern));
        expect(problem).toContain(`rules[0] ("r").${field}: the regular expression /${pattern}/ uses`);
        expect(problem).toMatch(reason);
        expect(problem).toMatch(instead);
    });

    it("checks key regexes for backtracking-only syntax too", () => {
        const [problem] = problemsOf(keyRule("Host: (?=\\S)"));
        expect(problem).toMatch(/^rules\[0\] \("r"\)\.key\.body: .*lookahead/);
    });

    it("does not mistake escaped or bracketed text for those constructs", () => {
        for (const pattern of ["\\(\\?=x\\)", "[(?=]", "\\\\1", "\\Q(?=\\1\\E", "(?<name>x)", "(?P<name>x)", "a+?b", "[]x]"]) {
            expect(compileRuleRegex(pattern, true), pattern).toHaveProperty("regex");
        }
    });

    it("accepts (a+)+$, which a backtracking engine takes exponential time on, and runs it on a body at the bound", () => {
        const rules = parseMailRules(rule("body", "(a+)+$"));
        const body = `${"a".repeat(MAX_CLASSIFY_BODY_CHARS - 1)}!`;
        expect(classify(mail("x@y", "x", body), rules).rule).toBeNull();
        expect(classify(mail("x@y", "x", "aaaa"), rules).rule).toBe("r");
    });

    it("refuses a regex whose program is over the size limit, saying why and what to do", () => {
        const [problem] = problemsOf(rule("body", "(\\w+\\s?){1,20}$"));
        expect(problem).toMatch(new RegExp(`compiles to 142 RE2 instructions, over the limit of ${MAX_BODY_REGEX_PROGRAM_SIZE} for a regex on the body`));
        expect(problem).toMatch(/use \+ or \* or a smaller count/);
        // The subject is bounded to 1,000 characters, so its regexes may be larger.
        expect(() => parseMailRules(rule("subject", "(\\w+\\s?){1,20}$"))).not.toThrow();
        expect(problemsOf(rule("subject", "(\\w+\\s?){1,200}$"))[0]).toMatch(new RegExp(`over the limit of ${MAX_SUBJECT_REGEX_PROGRAM_SIZE} for a regex on the subject`));
    });

    it("keeps every rule of the shipped rules files under the size limit", () => {
        for (const file of ["dev.yaml", "prod.yaml"]) expect(() => parseMailRules(readFileSync(join(RULES_DIR, file), "utf8"), file)).not.toThrow();
    });

    it("reads named groups written (?<name>…) and (?P<name>…) alike", () => {
        const rules = parseMailRules(`rules:\n  - name: r\n    subject: x\n    severity: info\n    key: { subject: '(?<host>\\S+) (?P<check>\\S+)' }\n`);
        expect(classify(mail("x@y", "x web-01 ping", ""), rules).alertKey).toBe("host=x | check=web-01");
    });

    it("matches case-insensitively, with ^ and $ at each line of a CRLF or LF body", () => {
        const rules = parseMailRules(rule("body", "^severity: (disaster|high)$"));
        expect(classify(mail("x@y", "x", "Host: a\r\nSeverity: HIGH\r\nmore\r\n"), rules).rule).toBe("r");
        expect(classify(mail("x@y", "x", "Host: a\nSeverity: High\nmore"), rules).rule).toBe("r");
        expect(classify(mail("x@y", "x", "Host: a\rSeverity: High\rmore"), rules).rule).toBe("r");
        expect(classify(mail("x@y", "x", "Severity: Highest"), rules).rule).toBeNull();
    });

    // JavaScript's RegExp is the oracle: what the rules meant before RE2 they still mean.
    const codeUnits = Array.from({ length: 0x10000 }, (_, c) => c).filter((c) => c < 0xd800 || c > 0xdfff);
    // The one known difference: RE2 folds case by Unicode's rules, so ſ (U+017F) and K (U+212A, Kelvin) count as s and k.
    it.each([
        ["^\\s$", /^\s$/i, []],
        ["^\\S$", /^\S$/i, []],
        ["^[\\s]$", /^[\s]$/i, []],
        ["^[^\\s]$", /^[^\s]$/i, []],
        ["^[\\s\\S]$", /^[\s\S]$/i, []],
        ["^\\d$", /^\d$/i, []],
        ["^\\w$", /^\w$/i, ["17f", "212a"]],
        ["^[a-z]+$", /^[a-z]+$/i, ["17f", "212a"]],
        ["^\\u3000$", /^\u3000$/i, []],
        ["^.$", /^.$/i, ["d", "2028", "2029"]],
    ])("%s matches the characters JavaScript's %s matches (all of the BMP)", (pattern, oracle, known) => {
        const compiled = compileRuleRegex(pattern, false);
        if (!("regex" in compiled)) throw new Error(compiled.problem);
        const differs = codeUnits.filter((c) => compiled.regex.test(String.fromCharCode(c)) !== oracle.test(String.fromCharCode(c)));
        expect(differs.map((c) => c.toString(16))).toEqual(known);
    });

    it("bounds the subject and the From address the rules see, and makes the body's line ends \\n", () => {
        const seen = classificationText({ from: `A@${"b".repeat(5000)}`, subject: "s".repeat(5000), text: `${"l\r\n".repeat(MAX_CLASSIFY_BODY_CHARS)}` });
        expect(seen.subject).toHaveLength(MAX_CLASSIFY_SUBJECT_CHARS);
        expect(seen.from.length).toBeLessThanOrEqual(MAX_CLASSIFY_SUBJECT_CHARS);
        expect(seen.from.startsWith("a@b")).toBe(true);
        expect(seen.body.length).toBeLessThanOrEqual(MAX_CLASSIFY_BODY_CHARS);
        expect(seen.body).not.toContain("\r");
    });

    it("gives the default key of a hostile subject from its bounded start", () => {
        const subject = `Re: ${"Re: ".repeat(100_000)}${"【".repeat(50_000)}disk full${"】".repeat(50_000)}`;
        const key = defaultAlertKey(subject);
        expect(key.length).toBeLessThanOrEqual(512);
        expect(defaultAlertKey(`PROBLEM: ${"(".repeat(200_000)}`)).toBe(defaultAlertKey(`PROBLEM: ${"(".repeat(MAX_CLASSIFY_SUBJECT_CHARS)}`));
    });
});
