import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseMail } from "../functions/mail-ingest/parse-mail";
import { classify, MailRulesError, parseMailRules, type MailRules } from "../functions/shared/mail-rules";
import { ExplainError, explainMail, formatExplanation, VERDICT_MODES, type VerdictMode } from "./mail-explain";
import { sendStorm, STORM_LIMITS } from "./mail-storm";

/**
 * Two commands on a saved mail, and `storm` (tools/mail-storm.ts), which sends an alert storm over
 * SMTP to a running `npm start`.
 *
 * `explain FILE --stack S [--verdicts pass|fail] [--json]` (tools/mail-explain.ts): what the
 * mail would do in that stack: the rules tried, the sender check per site, the towers lit with
 * their signals, the on-call page and the alert channel's summary. Use it to see what a mail does.
 *
 * `classify FILE --rules R` checks one rules file alone, exactly as mail-ingest classifies (same
 * parser, same rules code). Prints one JSON line:
 *
 *   npm run --silent mail -- classify alert.eml --rules functions/mail-ingest/rules/prod.yaml
 *   {"severity":"critical","rule":"zabbix-ja-critical","from":"zabbix@zabbix.example.jp","subject":"障害: …","alertKey":"…","keySource":"rule","route":{"all":false,"towers":[],"sites":["tokyo-office"]},"problems":[]}
 *
 * `route` is what the matched rule names (`towers: all` gives all true; no rule, or a rule naming no
 * site or tower, gives empty lists: no tower lights). Which of those towers the sender may light
 * depends on the stack's sites and senders, which this command does not read.
 *
 * Exit 0 when the mail was classified (a broken mail is still classified; see `problems`), 2 for
 * bad arguments, an unreadable file or an invalid rules file (the message says what to fix).
 */

/** The storm's default sender: one that alertline:mail.allowedSenders of dev trusts (`*@zabbix.example.jp`). */
export const STORM_DEFAULT_FROM = "ops@zabbix.example.jp";

export const USAGE = `usage: npm run --silent mail -- explain <file.eml> --stack <stack> [--verdicts pass|fail] [--json]
  what the mail would do in the stack: rules tried, sender check per site, towers lit and their signals,
  the on-call page and the Slack summary; SES's verdicts are assumed (default pass)
usage: npm run --silent mail -- classify <file.eml> --rules <rules.yaml>
  the rules file alone (use explain to see towers and the sender check); prints {"severity": "...", "rule": "<name or null>", "from": "...", "subject": "...", "alertKey": "...", "keySource": "rule|subject", "route": {"all": false, "towers": [..], "sites": [..]}, "problems": [..]}
route: the towers and sites the matched rule names (all: towers: all); empty lists light no tower
exit 0 when classified, 2 for bad arguments, an unreadable file or invalid rules
usage: npm run --silent mail -- storm --smtp <host:port> --to <alert address> [--mails 500] [--alerts 20] [--from ${STORM_DEFAULT_FROM}] [--concurrency 10] [--settle-seconds 5]
  an alert storm over plain SMTP (e.g. to npm start's server): --mails mails for --alerts alerts (one host, so one
  correlation key, each), with the dev rules' test subjects "[alertline-test] critical|recovery: disk full on <host>";
  each alert's last mail, sent after the others and a pause of --settle-seconds, decides its final state: recovered for
  an even alert, critical for an odd one. --from must be a sender the stack trusts (default: one dev trusts)
  exit 0 when every mail was accepted, 1 when the server refused one, 2 for bad arguments`;

/** A fault the user must fix; exit 2 with this message. */
export class MailCliError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MailCliError";
    }
}

export interface ClassifyRequest {
    readonly command: "classify";
    readonly file: string;
    readonly rulesFile: string;
}

export interface StormRequest {
    readonly command: "storm";
    readonly smtp: { readonly host: string; readonly port: number };
    readonly to: string;
    readonly from: string;
    readonly mails: number;
    readonly alerts: number;
    readonly concurrency: number;
    readonly settleSeconds: number;
}

/** A whole number option within bounds; throws naming the option. */
function wholeOption(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) throw new MailCliError(`--${name} must be a whole number ${min}–${max}, got ${JSON.stringify(text)}\n${USAGE}`);
    return value;
}

/** The storm's options, checked; `values` as parseArgs read them. */
function stormRequest(values: Record<string, string | boolean | undefined>): StormRequest {
    const text = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
    const smtpText = text("smtp");
    const smtpMatch = smtpText === undefined ? null : /^([^:\s]+):(\d{1,5})$/.exec(smtpText);
    if (smtpMatch === null || Number(smtpMatch[2]) < 1 || Number(smtpMatch[2]) > 65535) {
        throw new MailCliError(`--smtp <host:port> is required, the SMTP server to storm, e.g. --smtp 127.0.0.1:2525 (npm start's), got ${JSON.stringify(smtpText ?? "")}\n${USAGE}`);
    }
    const to = text("to");
    if (to === undefined || !/^[^@\s]+@[^@\s]+$/.test(to)) throw new MailCliError(`--to <address> is required, the stack's alert address (npm start's banner: "send to"), got ${JSON.stringify(to ?? "")}\n${USAGE}`);
    const from = text("from") ?? STORM_DEFAULT_FROM;
    if (!/^[^@\s]+@[^@\s]+$/.test(from)) throw new MailCliError(`--from must be an e-mail address the stack trusts (alertline:mail.allowedSenders), got ${JSON.stringify(from)}\n${USAGE}`);
    const alerts = wholeOption("alerts", text("alerts"), 20, 1, STORM_LIMITS.alerts);
    const mails = wholeOption("mails", text("mails"), 500, alerts, STORM_LIMITS.mails);
    const concurrency = wholeOption("concurrency", text("concurrency"), 10, 1, STORM_LIMITS.concurrency);
    const settleSeconds = wholeOption("settle-seconds", text("settle-seconds"), 5, 0, 600);
    return { command: "storm", smtp: { host: smtpMatch[1], port: Number(smtpMatch[2]) }, to, from, mails, alerts, concurrency, settleSeconds };
}

export interface ExplainRequest {
    readonly command: "explain";
    readonly file: string;
    readonly stack: string;
    readonly verdicts: VerdictMode;
    readonly json: boolean;
}

/** Reads `classify <file> --rules <rules>` or `explain <file> --stack <stack> …`; throws {@link MailCliError} naming what is missing. Pure. */
export function parseMailArgs(argv: readonly string[]): ClassifyRequest | ExplainRequest | StormRequest | "help" {
    let parsed;
    try {
        parsed = parseArgs({
            args: [...argv],
            options: {
                rules: { type: "string" },
                stack: { type: "string" },
                verdicts: { type: "string" },
                json: { type: "boolean" },
                help: { type: "boolean" },
                smtp: { type: "string" },
                to: { type: "string" },
                from: { type: "string" },
                mails: { type: "string" },
                alerts: { type: "string" },
                concurrency: { type: "string" },
                "settle-seconds": { type: "string" },
            },
            allowPositionals: true,
            strict: true,
        });
    } catch (error) {
        throw new MailCliError(`${error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, "") : String(error)}\n${USAGE}`);
    }
    if (parsed.values.help) return "help";
    const [command, file, ...extra] = parsed.positionals;
    const stormOnly = ["smtp", "to", "from", "mails", "alerts", "concurrency", "settle-seconds"].filter((name) => (parsed.values as Record<string, unknown>)[name] !== undefined);
    if (command === "storm") {
        if (parsed.positionals.length > 1) throw new MailCliError(`storm takes no file, got ${parsed.positionals.slice(1).map((e) => `"${e}"`).join(", ")}\n${USAGE}`);
        const other = ["rules", "stack", "verdicts", "json"].filter((name) => (parsed.values as Record<string, unknown>)[name] !== undefined);
        if (other.length > 0) throw new MailCliError(`storm does not take --${other.join(", --")}\n${USAGE}`);
        return stormRequest(parsed.values as Record<string, string | boolean | undefined>);
    }
    if (command !== "classify" && command !== "explain") throw new MailCliError(`${command === undefined ? "no command given" : `unknown command "${command}"`}: use explain, classify or storm\n${USAGE}`);
    if (stormOnly.length > 0) throw new MailCliError(`--${stormOnly.join(", --")} belong${stormOnly.length === 1 ? "s" : ""} to storm, not ${command}\n${USAGE}`);
    if (file === undefined) throw new MailCliError(`${command} needs the mail file (.eml)\n${USAGE}`);
    if (extra.length > 0) throw new MailCliError(`${command} takes one mail file, got also ${extra.map((e) => `"${e}"`).join(", ")}\n${USAGE}`);
    if (command === "explain") {
        if (parsed.values.rules !== undefined) throw new MailCliError(`explain reads the stack's own rules file; drop --rules (classify checks a rules file alone)\n${USAGE}`);
        if (parsed.values.stack === undefined || parsed.values.stack === "") throw new MailCliError(`--stack <stack> is required, e.g. --stack prod\n${USAGE}`);
        const verdicts = parsed.values.verdicts ?? "pass";
        if (!(VERDICT_MODES as readonly string[]).includes(verdicts)) throw new MailCliError(`--verdicts must be pass or fail, got "${verdicts}"\n${USAGE}`);
        return { command, file, stack: parsed.values.stack, verdicts: verdicts as VerdictMode, json: parsed.values.json === true };
    }
    if (parsed.values.stack !== undefined) throw new MailCliError(`classify checks a rules file alone; to use a stack's config run: npm run --silent mail -- explain ${file} --stack ${parsed.values.stack}\n${USAGE}`);
    if (parsed.values.rules === undefined || parsed.values.rules === "") throw new MailCliError(`--rules <rules.yaml> is required, e.g. --rules functions/mail-ingest/rules/dev.yaml (or explain ${file} --stack <stack>)\n${USAGE}`);
    return { command, file, rulesFile: parsed.values.rules };
}

function readOrFail(file: string, what: string): Buffer {
    try {
        return readFileSync(file);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : error instanceof Error ? error.message : String(error);
        throw new MailCliError(`cannot read the ${what} ${file}: ${why}`);
    }
}

export function loadRules(rulesFile: string): MailRules {
    const text = readOrFail(rulesFile, "rules file").toString("utf8");
    try {
        return parseMailRules(text, rulesFile);
    } catch (error) {
        if (error instanceof MailRulesError) throw new MailCliError(error.message);
        throw error;
    }
}

/** Classifies one mail file; the object printed by the CLI. */
export async function classifyFile(request: ClassifyRequest): Promise<Record<string, unknown>> {
    const rules = loadRules(request.rulesFile);
    const raw = readOrFail(request.file, "mail file");
    const mail = await parseMail(raw);
    const result = classify(mail, rules);
    return {
        severity: result.severity,
        rule: result.rule,
        from: mail.from,
        subject: mail.subject,
        alertKey: result.alertKey,
        keySource: result.keySource,
        route: result.route,
        problems: mail.problems,
    };
}

/** Sends the storm, printing each alert's final word and a summary; 1 when the server refused a mail. */
async function runStorm(request: StormRequest, io: CliIo): Promise<number> {
    const target = `${request.smtp.host}:${request.smtp.port}`;
    io.stdout(`storm: ${request.mails} mails for ${request.alerts} alerts to ${request.to} via ${target}, from ${request.from}, ${request.concurrency} at a time\n`);
    let sent = 0;
    try {
        const result = await sendStorm({
            ...request,
            settle: async () => {
                io.stdout(`storm: ${sent} mails sent; each alert's last mail in ${request.settleSeconds} s\n`);
                await new Promise((resolve) => setTimeout(resolve, request.settleSeconds * 1000));
            },
            onSent: (mail) => {
                sent += 1;
                if (mail.last) io.stdout(`  ${mail.host}: last mail "${mail.subject}" → ends ${mail.severity === "recovery" ? "recovered" : "critical"}\n`);
            },
        });
        io.stdout(`storm: sent ${result.sent} mails in ${(result.ms / 1000).toFixed(1)} s (${Math.round(result.sent / (result.ms / 1000))} mails/s)\n`);
        return 0;
    } catch (error) {
        io.stderr(`mail: the storm stopped after ${sent} mails: ${error instanceof Error ? error.message : String(error)} (is npm start listening on ${target}?)\n`);
        return 1;
    }
}

export interface CliIo {
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
}

/** Runs the CLI; resolves to the exit code. */
export async function runMailCli(argv: readonly string[], io: CliIo): Promise<number> {
    try {
        const request = parseMailArgs(argv);
        if (request === "help") {
            io.stdout(`${USAGE}\n`);
            return 0;
        }
        if (request.command === "storm") return await runStorm(request, io);
        if (request.command === "explain") {
            const explanation = await explainMail(readOrFail(request.file, "mail file"), request);
            io.stdout(request.json ? `${JSON.stringify(explanation)}\n` : formatExplanation(explanation));
            return 0;
        }
        io.stdout(`${JSON.stringify(await classifyFile(request))}\n`);
        return 0;
    } catch (error) {
        if (error instanceof MailCliError || error instanceof ExplainError) {
            io.stderr(`mail: ${error.message}\n`);
            return 2;
        }
        io.stderr(`mail: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        return 1;
    }
}

if (require.main === module) {
    runMailCli(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }).then((code) => {
        process.exitCode = code;
    });
}
