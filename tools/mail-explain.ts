import { readFileSync } from "node:fs";
import * as path from "node:path";
import { towerConfig } from "../components/patlite-site/site-config";
import { parseSettings, rawSettings, type AlertlineSettings } from "../components/shared/stack-config";
import { PROJECT_ROOT, readStackConfig } from "./offline/stack-files";
import { analyseMail, buildIntents, buildSummary, type MailSummary } from "../functions/mail-ingest/ingest";
import { onCallActionFor, type OnCallAction } from "../functions/mail-ingest/on-call-page";
import { parseMail } from "../functions/mail-ingest/parse-mail";
import { MailRulesError, parseMailRules, traceRules, type MailRoute, type RuleTrial } from "../functions/shared/mail-rules";
import { describeSignal, toSignal } from "../functions/shared/patlite/signal";
import { mayLightTower, parseAddress, type SesVerdicts } from "../functions/shared/sender-policy";
import type { TowerConfig } from "../functions/shared/tower-config";

/**
 * `mail explain`: what a saved mail would do in a stack, through the code path mail-ingest runs
 * (parseMail, the rules, routing, the sender check per tower, buildIntents, the on-call action,
 * the alert channel's summary), with that stack's `Pulumi.<stack>.yaml`, its rules file and its
 * towers as the plan packages them. SES's verdicts are assumed (`--verdicts`), since a saved mail
 * has none.
 */

/** The verdicts a saved mail is explained with. */
export const VERDICT_MODES = ["pass", "fail"] as const;
export type VerdictMode = (typeof VERDICT_MODES)[number];

/** A fault the user must fix (bad stack, unreadable rules); the CLI exits 2 with it. */
export class ExplainError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ExplainError";
    }
}

export interface Explanation {
    readonly stack: string;
    readonly file: string;
    /** What SES was assumed to say. */
    readonly verdicts: VerdictMode;
    readonly from: string;
    readonly subject: string;
    /** Whether the sender passed the check for the towers the mail is routed to (or the environment's, when none). */
    readonly trusted: boolean;
    /** The sender check's reasons, failures first. */
    readonly reasons: readonly string[];
    /** The sender check for each site: the environment's senders plus the site's own. */
    readonly sites: readonly { readonly site: string; readonly trusted: boolean; readonly reasons: readonly string[] }[];
    /** The rules tried, in order, up to the one that matched. */
    readonly rules: readonly RuleTrial[];
    readonly rule: string | null;
    readonly severity: string;
    readonly alertKey: string;
    readonly route: MailRoute;
    /** Towers the mail lights (or clears, for a recovery), with the signal each would show. */
    readonly towers: readonly { readonly name: string; readonly site: string; readonly signal: string }[];
    /** Towers the route names that stay as they are, and why. */
    readonly towersNotLit: readonly { readonly name: string; readonly site: string; readonly reason: string }[];
    /** What on-call would be told. */
    readonly onCall: { readonly backend: string; readonly action: OnCallAction };
    /** The alert channel's summary (slack-notifier renders it). */
    readonly slack: MailSummary;
    readonly problems: readonly string[];
}

/** The verdicts SES would give: all PASS (envelope sender = the From address, so SPF aligns), or all FAIL. */
export function assumedVerdicts(mode: VerdictMode, from: string): SesVerdicts {
    const status = mode === "pass" ? "PASS" : "FAIL";
    const address = parseAddress(from);
    return {
        spfVerdict: { status },
        dkimVerdict: { status },
        dmarcVerdict: { status },
        virusVerdict: { status },
        spamVerdict: { status },
        envelopeFrom: address.ok ? `${address.local}@${address.domain}` : "",
        dkimSignatureDomains: [],
    };
}

function loadStack(stack: string): { settings: AlertlineSettings; rulesFile: string; rulesYaml: string } {
    let settings: AlertlineSettings;
    try {
        settings = parseSettings(rawSettings(readStackConfig(stack).config, stack));
    } catch (error) {
        throw new ExplainError(`stack "${stack}" does not load: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (settings.mail === undefined || settings.mailRules === undefined) {
        throw new ExplainError(`stack "${stack}" receives no mail (no alertline:mail): there is nothing to explain`);
    }
    const rulesFile = settings.mailRules;
    try {
        return { settings, rulesFile, rulesYaml: readFileSync(path.resolve(PROJECT_ROOT, rulesFile), "utf8") };
    } catch (error) {
        throw new ExplainError(`cannot read the stack's rules file ${rulesFile}: ${error instanceof Error ? error.message : String(error)}`);
    }
}

/** The towers as the stack packages them for the functions (towers.json); a relay host's instance is not known offline. */
function stackTowers(settings: AlertlineSettings): TowerConfig[] {
    return settings.sites.flatMap((site) => site.towers.map((tower) => towerConfig(site, tower, site.relay === "ssm" ? `(instance of host ${site.relayHost})` : undefined)));
}

/** Explains one mail in one stack. */
export async function explainMail(raw: Buffer, request: { readonly file: string; readonly stack: string; readonly verdicts: VerdictMode }): Promise<Explanation> {
    const { settings, rulesFile, rulesYaml } = loadStack(request.stack);
    let rules;
    try {
        rules = parseMailRules(rulesYaml, rulesFile);
    } catch (error) {
        if (error instanceof MailRulesError) throw new ExplainError(error.message);
        throw error;
    }
    const towers = stackTowers(settings);
    const allowedSenders = settings.mail!.allowedSenders;
    // The From as mail-ingest reads it is the assumed envelope sender.
    const verdicts = assumedVerdicts(request.verdicts, (await parseMail(raw)).from);
    const analysis = await analyseMail(raw, verdicts, { rules, towers, allowedSenders });
    const messageId = "mail-explain";
    const receivedAt = new Date().toISOString();
    const intents = buildIntents(analysis, messageId, receivedAt);
    const original = `the local file ${request.file}`;
    const action = onCallActionFor({
        severity: analysis.classification.severity,
        alertKey: analysis.classification.alertKey,
        rule: analysis.classification.rule,
        subject: analysis.mail.subject,
        from: analysis.mail.fromDisplay || analysis.mail.from,
        text: analysis.mail.text,
        intents,
        messageId,
        environment: settings.environment,
        original,
    });
    const onCallText =
        action.kind === "create" ? `would page (alias ${action.alert.alias}, ${action.alert.priority})` : action.kind === "close" ? `would close (alias ${action.alias})` : `not paged: ${action.reason}`;
    const slack = buildSummary({ analysis, intents, messageId, receivedAt, source: { kind: "none", reason: original }, environment: settings.environment, onCall: onCallText });
    const byName = new Map(towers.map((t) => [t.name, t] as const));
    const severity = analysis.classification.severity;
    const lit = intents.map((intent) => {
        const tower = byName.get(intent.tower)!;
        const signal =
            severity === "recovery"
                ? `clears this alert; shows what is still active, or ${describeSignal(toSignal(tower.signals.quiet))} when nothing is`
                : describeSignal(toSignal(tower.signals[severity as "critical" | "warning" | "info"]));
        return { name: tower.name, site: tower.site, signal };
    });
    const litNames = new Set(lit.map((t) => t.name));
    const towersNotLit = analysis.decisions
        .filter((d) => !litNames.has(d.tower.name))
        .map((d) => ({ name: d.tower.name, site: d.tower.site, reason: severity === "ignore" ? "the rule ignores the mail" : (d.check.reasons[0] ?? "the sender check failed") }));
    const sites = settings.sites.map((site) => {
        const check = mayLightTower({ from: analysis.mail.from, fromProblem: analysis.mail.fromProblem, verdicts, allowedSenders: [...allowedSenders, ...site.allowedSenders] });
        return { site: site.name, trusted: check.trusted, reasons: check.reasons };
    });
    return {
        stack: request.stack,
        file: request.file,
        verdicts: request.verdicts,
        from: analysis.mail.from,
        subject: analysis.mail.subject,
        trusted: slack.trusted,
        reasons: slack.senderCheck === "" ? [] : slack.senderCheck.split("; "),
        sites,
        rules: traceRules(analysis.mail, rules),
        rule: analysis.classification.rule,
        severity,
        alertKey: analysis.classification.alertKey,
        route: analysis.classification.route,
        towers: lit,
        towersNotLit,
        onCall: { backend: [settings.oncall.backend].flat().join(" and "), action },
        slack,
        problems: analysis.problems,
    };
}

const describeRoute = (route: MailRoute): string =>
    route.all ? "every tower (towers: all)" : route.sites.length + route.towers.length === 0 ? "no tower" : [...route.sites.map((s) => `site ${s}`), ...route.towers.map((t) => `tower ${t}`)].join(", ");

/** The explanation for a person. */
export function formatExplanation(e: Explanation): string {
    const lines = [
        `Mail ${e.file} in stack "${e.stack}"`,
        `  From: ${e.from || "(none)"}`,
        `  Subject: ${e.subject || "(none)"}`,
        `  SES verdicts assumed: all ${e.verdicts.toUpperCase()}${e.verdicts === "pass" ? " (envelope sender = From); --verdicts fail shows forged or failing mail" : ""}`,
        "",
        "Rules, in order:",
        ...e.rules.map((t) => (t.matched ? `  ${t.rule}: matched` : `  ${t.rule}: ${t.failed!.field} ${JSON.stringify(t.failed!.pattern)} does not match`)),
        ...(e.rule === null ? [`  (no rule matched: default severity ${e.severity}, which lights no tower)`] : []),
        `  => severity ${e.severity}, rule ${e.rule ?? "(none)"}, alert key ${JSON.stringify(e.alertKey)}, routed to ${describeRoute(e.route)}`,
        "",
        "Sender check, per site (the environment's senders plus the site's own):",
        ...e.sites.map((s) => `  ${s.site}: ${s.trusted ? "trusted" : "NOT trusted"}: ${s.reasons.join("; ")}`),
        "",
        e.towers.length === 0 ? "Towers: none light." : `Towers ${e.severity === "recovery" ? "cleared" : "lit"}:`,
        ...e.towers.map((t) => `  ${t.name} (${t.site}): ${t.signal}`),
        ...e.towersNotLit.map((t) => `  ${t.name} (${t.site}): stays as it is: ${t.reason}`),
        "",
        `On-call (${e.onCall.backend}): ${
            e.onCall.action.kind === "create"
                ? `pages ${e.onCall.action.alert.priority} "${e.onCall.action.alert.message}" (alias ${e.onCall.action.alert.alias})`
                : e.onCall.action.kind === "close"
                  ? `closes alias ${e.onCall.action.alias}`
                  : `no page: ${e.onCall.action.reason}`
        }`,
        "",
        "Alert channel (Slack):",
        `  ${e.slack.title}`,
        `  towers lit: ${e.slack.towersLit}; trusted: ${e.slack.trusted}`,
        ...(e.problems.length > 0 ? ["", "Problems:", ...e.problems.map((p) => `  - ${p}`)] : []),
    ];
    return `${lines.join("\n")}\n`;
}
