import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkMailRules, ConfigError, parseSettings, rawSettings } from "../../../components/shared/stack-config";
import { analyseMail, buildIntents, type IngestConfig } from "../../../functions/mail-ingest/ingest";
import { verdictsOf } from "../../../functions/mail-ingest/ses-event";
import { NO_ROUTE, parseMailRules } from "../../../functions/shared/mail-rules";
import { routeTowers, routingWarnings } from "../../../functions/shared/mail-routing";
import { readStackConfig } from "../../../tools/offline/stack-files";
import { README_SITE, stackMailConfig } from "./routing-stacks";

/**
 * Routing: a rule lights only the towers it names (directly, by site, or `towers: all`), and the
 * stacks' own rules files keep one customer's alerts off the other sites' towers. Expected tower
 * lists are written from Pulumi.<stack>.yaml and the rules files' comments, not by running the code.
 */

const FIXTURES = join(__dirname, "../../fixtures/mail");
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));
/** SES's documented S3-action sample: every verdict PASS. */
const PASSING = verdictsOf(JSON.parse(readFileSync(join(FIXTURES, "ses-s3-notification.json"), "utf8")).receipt);

/** The towers a raw mail lights, through mail-ingest's own analysis and intents. */
async function lit(raw: Buffer, config: Pick<IngestConfig, "rules" | "towers" | "allowedSenders">, verdicts = PASSING): Promise<string[]> {
    return buildIntents(await analyseMail(raw, verdicts, config), "msg", "2024-05-21T09:45:28.512Z").map((i) => i.tower);
}

/** A plain-text mail as Zabbix's English frontend writes it (test/fixtures/mail/generate.ts), about `host`. */
function zabbixMail(host: string, kind: "problem" | "recovery", severity = "High", from = "zabbix@zabbix.example.jp"): Buffer {
    const subject = kind === "problem" ? `Problem: High CPU utilization on ${host}` : `Resolved in 5m 0s: High CPU utilization on ${host}`;
    const body = `${kind === "problem" ? "Problem started" : "Problem has been resolved"} at 09:12:44 on 2024.05.21\r\nProblem name: High CPU utilization on ${host}\r\nHost: ${host}\r\nSeverity: ${severity}\r\nOriginal problem ID: 9001\r\n`;
    return Buffer.from(`From: Zabbix <${from}>\r\nTo: patlite@alerts.example.jp\r\nSubject: ${subject}\r\nDate: Tue, 21 May 2024 09:12:45 +0000\r\nMessage-ID: <${kind}.9001@zabbix.example.jp>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n${body}`);
}

describe("routeTowers", () => {
    const towers = [
        { name: "tokyo-ops", site: "tokyo-office" },
        { name: "tokyo-noc", site: "tokyo-office" },
        { name: "osaka-ops", site: "osaka-office" },
        { name: "customer-a-floor", site: "customer-a" },
    ];
    const names = (route: Parameters<typeof routeTowers>[0]) => routeTowers(route, towers, "r").towers.map((t) => t.name);

    it("targets every tower of a named site, named towers, both at once, in the stack's order", () => {
        expect(names({ all: false, towers: [], sites: ["tokyo-office"] })).toEqual(["tokyo-ops", "tokyo-noc"]);
        expect(names({ all: false, towers: ["osaka-ops", "tokyo-noc"], sites: [] })).toEqual(["tokyo-noc", "osaka-ops"]);
        expect(names({ all: false, towers: ["tokyo-noc"], sites: ["customer-a", "tokyo-office"] })).toEqual(["tokyo-ops", "tokyo-noc", "customer-a-floor"]);
    });

    it("targets every tower only for towers: all, and none for a rule that names nothing", () => {
        expect(names({ all: true, towers: [], sites: [] })).toEqual(["tokyo-ops", "tokyo-noc", "osaka-ops", "customer-a-floor"]);
        expect(names(NO_ROUTE)).toEqual([]);
    });

    it("reports a tower name no tower carries; an unknown site lights nothing", () => {
        expect(routeTowers({ all: false, towers: ["nagoya-ops"], sites: ["nagoya-office"] }, towers, "r")).toEqual({
            towers: [],
            problems: ['rule "r" names tower "nagoya-ops", which is not configured; fix the rule\'s towers or add the tower under alertline:sites'],
        });
    });
});

describe("routingWarnings", () => {
    const sites = [
        { name: "tokyo-office", towers: [{ name: "tokyo-ops" }] },
        { name: "customer-a", towers: [{ name: "customer-a-floor" }] },
    ];

    it("warns, naming the rule, about a rule that would have lit every tower and now lights none", () => {
        const rules = parseMailRules(`
rules:
  - { name: old-style, subject: a, severity: critical }
  - { name: old-recovery, subject: b, severity: recovery }
  - { name: channel-only, subject: c, severity: info, towers: none }
  - { name: noise, subject: d, severity: ignore }
  - { name: routed, subject: e, severity: warning, sites: [tokyo-office, customer-a] }
`);
        expect(routingWarnings(rules, sites).map((w) => w.message)).toEqual([
            'rule "old-style" (critical) names no site or tower, so the mail it matches lights no tower (it still reaches the alert channel). A rule without towers used to light every tower; say where its mail goes: sites: [<site>, ...] and/or towers: [<tower>, ...], towers: all for every tower (also of sites added later), or towers: none to keep it off the towers and silence this warning',
            'rule "old-recovery" (recovery) names no site or tower, so the alerts it recovers clear on no tower (it still reaches the alert channel). A rule without towers used to light every tower; say where its mail goes: sites: [<site>, ...] and/or towers: [<tower>, ...], towers: all for every tower (also of sites added later), or towers: none to keep it off the towers and silence this warning',
        ]);
    });

    it("warns, naming the site and its towers, when no lighting rule routes to a site", () => {
        const rules = parseMailRules(`
rules:
  - { name: ours, subject: a, severity: critical, sites: [tokyo-office] }
  - { name: theirs-recovery, subject: b, severity: recovery, towers: [customer-a-floor] }
`);
        const warnings = routingWarnings(rules, sites);
        expect(warnings.map((w) => [w.kind, "site" in w ? w.site : w.rule])).toEqual([["site-never-lit", "customer-a"]]);
        expect(warnings[0].message).toMatch(/^site "customer-a" \(towers customer-a-floor\): no critical, warning or info rule routes mail to it \(only "theirs-recovery" \(recovery\), which never light a tower\), so its towers never light\. Add sites: \[customer-a\]/);
    });

    it("counts a tower named on its own, and towers: all, as routing to the site", () => {
        expect(routingWarnings(parseMailRules("rules:\n  - { name: a, subject: a, severity: info, sites: [tokyo-office], towers: [customer-a-floor] }\n"), sites)).toEqual([]);
        expect(routingWarnings(parseMailRules("rules:\n  - { name: a, subject: a, severity: warning, towers: all }\n"), sites)).toEqual([]);
    });
});

describe("the stacks' rules files and sites", () => {
    it.each(["dev", "prod"])("%s: every rule says where its mail goes and every site is routed (no plan warning)", (stack) => {
        expect(stackMailConfig(stack).warnings).toEqual([]);
    });

    it.each(["dev", "prod"])("%s: adding the README's site changes no tower any fixture mail lights, and the plan warns about the new site by name", async (stack) => {
        const { config: before } = stackMailConfig(stack);
        const { config: after, warnings } = stackMailConfig(stack, { "alertline:sites": [...JSON.parse(readStackConfig(stack).config["alertline:sites"]), README_SITE] });
        expect(after.towers.map((t) => t.name)).toContain("nagoya-ops");
        expect(warnings).toEqual([
            expect.stringMatching(new RegExp(`^alertline:mailRules functions/mail-ingest/rules/${stack}\\.yaml: site "nagoya-office" \\(towers nagoya-ops\\): no critical, warning or info rule routes mail to it, so its towers never light`)),
        ]);
        const mails = ["zabbix-ja-problem.eml", "zabbix-sjis-disaster.eml", "zabbix-en-problem.eml", "datadog-triggered.eml", "cloudwatch-alarm.eml", "nagios-problem.eml", "html-only.eml", "unknown-charset.eml", "malformed-boundary.eml"];
        for (const file of mails) {
            const [old, now] = await Promise.all([lit(fixture(file), before), lit(fixture(file), after)]);
            expect(now, file).toEqual(old);
        }
        const zabbix = await lit(fixture("zabbix-ja-problem.eml"), after);
        expect(zabbix.length).toBeGreaterThan(0);
        expect(zabbix).not.toContain("nagoya-ops");
    });

    it("refuses a rule naming a site the stack does not have, naming the rule, the site and the stack's sites", () => {
        const { config } = readStackConfig("dev");
        const settings = parseSettings(rawSettings(config, "dev"));
        const text = "rules:\n  - { name: nagoya-alerts, subject: x, severity: critical, sites: [nagoya-office] }\n";
        expect(() => checkMailRules(text, settings)).toThrow(ConfigError);
        expect(() => checkMailRules(text, settings)).toThrow('alertline:mailRules functions/mail-ingest/rules/dev.yaml: rule "nagoya-alerts" names site "nagoya-office", which alertline:sites does not have (sites: tokyo-office)');
    });
});

describe("prod: a Zabbix mail about one of our hosts lights no tower of customer-a", () => {
    const { config } = stackMailConfig("prod");
    const OURS = ["tokyo-ops", "tokyo-noc", "osaka-ops", "fukuoka-ops"];

    it("knows prod's towers as Pulumi.prod.yaml lists them", () => {
        expect(config.towers.map((t) => `${t.site}/${t.name}`)).toEqual(["tokyo-office/tokyo-ops", "tokyo-office/tokyo-noc", "osaka-office/osaka-ops", "customer-a/customer-a-floor", "fukuoka-office/fukuoka-ops"]);
    });

    it.each(["zabbix-ja-problem.eml", "zabbix-sjis-disaster.eml", "zabbix-en-problem.eml", "zabbix-ja-recovery.eml", "zabbix-en-recovery.eml"])("%s (our host) lights our offices' towers only", async (file) => {
        expect(await lit(fixture(file), config)).toEqual(OURS);
    });

    it("a Zabbix mail about web-01 of ours, from the same server and with passing verdicts, lights our towers and not customer-a-floor", async () => {
        expect(await lit(zabbixMail("web-01", "problem"), config)).toEqual(OURS);
    });

    it("a Zabbix mail about customer-a's host (cust-a-*) lights customer-a's tower and our NOC's, and its recovery clears the same towers", async () => {
        const problem = await analyseMail(zabbixMail("cust-a-web-01", "problem"), PASSING, config);
        const recovery = await analyseMail(zabbixMail("cust-a-web-01", "recovery"), PASSING, config);
        expect(problem.classification).toMatchObject({ severity: "critical", rule: "customer-a-zabbix-critical" });
        expect(recovery.classification).toMatchObject({ severity: "recovery", rule: "customer-a-zabbix-recovery", alertKey: problem.classification.alertKey });
        expect(buildIntents(problem, "p", "t").map((i) => i.tower)).toEqual(["tokyo-noc", "customer-a-floor"]);
        expect(buildIntents(recovery, "r", "t").map((i) => i.tower)).toEqual(["tokyo-noc", "customer-a-floor"]);
        const warning = await analyseMail(zabbixMail("cust-a-db-02", "problem", "Average"), PASSING, config);
        expect([warning.classification.rule, buildIntents(warning, "w", "t").map((i) => i.tower)]).toEqual(["customer-a-zabbix-warning", ["tokyo-noc", "customer-a-floor"]]);
    });

    it("customer-a's own sender lights customer-a's tower only; a rule naming our offices would not make it trusted there", async () => {
        const theirs = zabbixMail("cust-a-web-01", "problem", "High", "zabbix@customer-a.example.co.jp");
        const analysis = await analyseMail(theirs, PASSING, config);
        expect(analysis.classification.rule).toBe("customer-a-own-alerts");
        expect(buildIntents(analysis, "c", "t").map((i) => i.tower)).toEqual(["customer-a-floor"]);
        const everywhere = { ...config, rules: parseMailRules('rules:\n  - { name: everywhere, from: "*@customer-a.example.co.jp", severity: critical, towers: all }\n') };
        const routedEverywhere = await analyseMail(theirs, PASSING, everywhere);
        expect(routedEverywhere.decisions.map((d) => [d.tower.name, d.check.trusted])).toEqual([
            ["tokyo-ops", false],
            ["tokyo-noc", false],
            ["osaka-ops", false],
            ["customer-a-floor", true],
            ["fukuoka-ops", false],
        ]);
        expect(buildIntents(routedEverywhere, "e", "t").map((i) => i.tower)).toEqual(["customer-a-floor"]);
    });

    it("mail no rule matches lights nothing and says so in the summary", async () => {
        const analysis = await analyseMail(zabbixMail("web-01", "problem", "High", "someone@elsewhere.example"), PASSING, config);
        expect(analysis.classification.rule).toBeNull();
        expect(analysis.decisions).toEqual([]);
    });
});
