import picomatch from "picomatch";
// re2js: a pure-JavaScript port of RE2 (linear-time matching: no input can make a rule's regex
// backtrack). Source and docs: github.com/le0pard/re2js (README "Supported flags", "Named Groups").
import { RE2JS, RE2JSException } from "re2js";
import { parseDocument } from "yaml";
// zod/mini: the same validation as zod, tree-shaken to a few KB in the Lambda bundle (full zod adds ~440 KB).
import * as z from "zod/mini";
import { SEVERITIES, type Severity } from "./severity";

/**
 * Mail classification rules: one YAML file per environment, packaged with mail-ingest and read by
 * the `mail` CLI. The first rule whose conditions all hold decides the severity; no match means
 * `defaultSeverity`. {@link parseMailRules} validates everything up front (every regex compiled,
 * every glob built) and reports every fault at once with the rule and field it is in;
 * {@link classify} is then pure and cannot fail.
 *
 * ```yaml
 * defaultSeverity: info
 * rules:
 *   - name: zabbix-disaster              # required, unique
 *     from: "*@zabbix.example.jp"        # glob on the From address, case-insensitive
 *     subject: "(障害|PROBLEM).*Disaster" # regex, case-insensitive
 *     body: "Severity: (Disaster|High)"  # regex on the text body, case-insensitive, ^ and $ per line
 *     severity: critical                 # critical | warning | info | recovery | ignore
 *     sites: [tokyo-office]              # every tower of these sites (alertline:sites names)
 *     towers: [osaka-ops]                # and these towers; or `towers: all` (every tower, also
 *                                        # of sites added later) or `towers: none` (channel only)
 *     key:                               # correlation key; default: the subject without state words
 *       body: "Original problem ID: (?<eventId>\\d+)"
 * ```
 *
 * A rule lights only what it names: `sites`, `towers`, or `towers: all`. A rule that names none
 * lights no tower (its mail still reaches the alert channel), and so does unmatched mail.
 *
 * Regexes are RE2 syntax and run on RE2 (re2js), whose matching time is linear in the text: no mail
 * can make a rule backtrack. What needs backtracking (lookahead, lookbehind, backreferences, atomic
 * groups, possessive quantifiers) is refused when the file is read, with what to write instead;
 * see {@link rulePatternProblem}. Named groups are written `(?<name>…)` or `(?P<name>…)`; `\s`
 * keeps its JavaScript meaning (Unicode spaces too, e.g. the full-width space U+3000); `\uXXXX` is
 * accepted as `\x{XXXX}`.
 *
 * The rules look at bounded text: the subject's first {@link MAX_CLASSIFY_SUBJECT_CHARS}
 * characters and the text body's first {@link MAX_CLASSIFY_BODY_CHARS} (mail-ingest parses only
 * the start of a mail, see parse-mail.ts); the full mail stays in S3.
 */

/** Where a key regex looks. */
export const KEY_SOURCES = ["subject", "body"] as const;
export type KeySource = (typeof KEY_SOURCES)[number];

/**
 * How a rule builds the correlation key: a regex per source. Named groups give `name=value`,
 * numbered groups their value, a regex without groups its whole match; parts are joined with
 * " | " in the order subject, body. When a given regex does not match, the default key is used.
 */
export type KeySpec = Partial<Record<KeySource, string>>;

/** One rule as written in the file. */
export interface MailRuleSpec {
    readonly name: string;
    readonly from?: string;
    readonly subject?: string;
    readonly body?: string;
    readonly severity: Severity;
    /** Tower names, or `all` (every tower of the stack) or `none` (no tower, said explicitly). */
    readonly towers?: readonly string[] | "all" | "none";
    /** Site names: every tower of each. */
    readonly sites?: readonly string[];
    readonly key?: KeySpec;
}

/**
 * Where a matched rule sends its mail: every tower (`towers: all`), or the towers it names plus
 * every tower of the sites it names. Nothing named (or `towers: none`, or no rule matched) lights
 * no tower.
 */
export interface MailRoute {
    /** The rule says `towers: all`: every tower of the stack, including sites added later. */
    readonly all: boolean;
    /** Towers named in `towers: [..]`. */
    readonly towers: readonly string[];
    /** Sites named in `sites: [..]`: each one's every tower. */
    readonly sites: readonly string[];
}

/** The route of unmatched mail and of rules that name no destination: no tower. */
export const NO_ROUTE: MailRoute = Object.freeze({ all: false, towers: Object.freeze([]), sites: Object.freeze([]) });

/** A rule's route as written; `towers: none` and a rule naming nothing both give {@link NO_ROUTE}. */
export function routeOf(rule: Pick<MailRuleSpec, "towers" | "sites">): MailRoute {
    if (rule.towers === "all") return { all: true, towers: [], sites: [] };
    const towers = rule.towers === undefined || rule.towers === "none" ? [] : rule.towers;
    const sites = rule.sites ?? [];
    return towers.length === 0 && sites.length === 0 ? NO_ROUTE : { all: false, towers, sites };
}

/** A validated rule with its matchers built. */
export interface MailRule extends MailRuleSpec {
    readonly route: MailRoute;
    readonly matchFrom?: (address: string) => boolean;
    readonly subjectRegex?: RuleRegex;
    readonly bodyRegex?: RuleRegex;
    readonly keyRegexes: readonly { readonly source: KeySource; readonly regex: RuleRegex }[];
}

export interface MailRules {
    readonly defaultSeverity: Severity;
    readonly rules: readonly MailRule[];
}

/** What classification needs of a mail: the From address, the subject and the text body. */
export interface ClassifiableMail {
    readonly from: string;
    readonly subject: string;
    readonly text: string;
}

export interface Classification {
    readonly severity: Severity;
    /** Name of the matching rule, or null when `defaultSeverity` applied. */
    readonly rule: string | null;
    /** Correlation key: a problem and its recovery share it. */
    readonly alertKey: string;
    /** Where the key came from: the rule's `key` regexes, or the subject without state words. */
    readonly keySource: "rule" | "subject";
    /** Where the matched rule routes the mail; {@link NO_ROUTE} when no rule matched. */
    readonly route: MailRoute;
}

/** Longest alert key kept; longer ones are cut (keys are compared, never shown in full). */
export const MAX_ALERT_KEY_LENGTH = 512;
/**
 * Body text the rules look at: the first 64 K characters. Alert bodies are a few KB; a hostile
 * mail must not make every rule walk megabytes, so the rest is ignored for matching (it stays in S3).
 */
export const MAX_CLASSIFY_BODY_CHARS = 64 * 1024;
/** Subject the rules and the default key look at: the first 1,000 characters (RFC 5322 lines stop at 998). */
export const MAX_CLASSIFY_SUBJECT_CHARS = 1000;
/**
 * Largest compiled program (RE2 instructions) a regex on the body (`body`, `key.body`) may have.
 * RE2's time is linear in the text times this size (the NFA that finds groups keeps up to one thread
 * per instruction), so it bounds what one regex can cost on {@link MAX_CLASSIFY_BODY_CHARS}:
 * `npm run bench:classify` measures the costliest regex this accepts. Counted repetitions multiply
 * the size (`(\w+\s?){1,100}` is 702). The largest body regex in prod.yaml is 41.
 */
export const MAX_BODY_REGEX_PROGRAM_SIZE = 100;
/** The same for regexes on the subject (`subject`, `key.subject`), whose text is 64 times shorter. The largest in prod.yaml is 78. */
export const MAX_SUBJECT_REGEX_PROGRAM_SIZE = 1000;

/** A compiled rule regex (re2js): `test` says whether it matches, `exec` gives its groups. */
export type RuleRegex = RE2JS;

/** Every fault of a rules file, each naming the rule and field and what to do. */
export class MailRulesError extends Error {
    constructor(
        readonly source: string,
        readonly problems: readonly string[],
    ) {
        super(`Invalid mail rules in ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "MailRulesError";
    }
}

const RULE_FIELDS = ["name", "from", "subject", "body", "severity", "sites", "towers", "key"] as const;

const severitySchema = z.enum(SEVERITIES, {
    error: (issue) => (issue.input === undefined ? `is required: one of ${SEVERITIES.join(" | ")}` : `${JSON.stringify(issue.input)} is not one of ${SEVERITIES.join(" | ")}`),
});
const nonEmpty = (what: string) => z.string({ error: `must be a string (${what})` }).check(z.minLength(1, `must not be empty (${what})`));

const TOWERS_SHAPE = "must be a list of tower names such as [tokyo-ops], or all (every tower, also of sites added later), or none (no tower; the mail only reaches the alert channel)";

/** `sites: [..]` / `towers: [..]`: names, at least one; `all`/`none` belong outside the brackets. */
function destinationList(what: "site" | "tower", field: "sites" | "towers", example: string) {
    return z
        .array(nonEmpty(`a ${what} name from alertline:sites`), {
            error: field === "towers" ? TOWERS_SHAPE : `must be a list of site names from alertline:sites, such as ${example} (for every tower of the stack write towers: all)`,
        })
        .check(
            z.minLength(1, `lists no ${what}: name at least one, or write towers: none for a rule whose mail should light no tower`),
            z.refine((names) => !names.some((n) => n === "all" || n === "none"), {
                error: (issue) => {
                    const word = (issue.input as string[]).find((n) => n === "all" || n === "none");
                    return `lists "${word}" inside brackets: write towers: ${word} (without brackets)${field === "sites" ? " instead of sites" : ""}`;
                },
            }),
        );
}

const keySchema = z
    .strictObject(
        { subject: z.optional(nonEmpty("a regex on the subject")), body: z.optional(nonEmpty("a regex on the body")) },
        { error: 'must be a mapping such as { subject: "Host: (?<host>\\S+)" } or { body: "..." }' },
    )
    .check(z.refine((k) => k.subject !== undefined || k.body !== undefined, "must give a subject or body regex"));

const ruleSchema = z
    .strictObject(
        {
            name: z
                .string({ error: (issue) => (issue.input === undefined ? "is required: give every rule a unique name" : "must be a string") })
                .check(z.regex(/^\S(.*\S)?$/, "must be non-empty without leading or trailing spaces")),
            from: z.optional(nonEmpty('a glob such as "*@zabbix.example.jp"')),
            subject: z.optional(nonEmpty("a regex")),
            body: z.optional(nonEmpty("a regex")),
            severity: severitySchema,
            sites: z.optional(destinationList("site", "sites", "[tokyo-office]")),
            towers: z.optional(z.union([z.literal("all"), z.literal("none"), destinationList("tower", "towers", "[tokyo-ops]")], { error: TOWERS_SHAPE })),
            key: z.optional(keySchema),
        },
        { error: "must be a mapping with name, severity and at least one of from, subject, body" },
    )
    .check(
        z.refine((r) => r.from !== undefined || r.subject !== undefined || r.body !== undefined, {
            error: "has no condition (from, subject or body), so it would match every mail and hide the rules after it: add a condition, or set defaultSeverity for unmatched mail",
        }),
        z.refine((r) => !(typeof r.towers === "string" && r.sites !== undefined), {
            path: ["towers"],
            error: (issue) =>
                (issue.input as { towers?: unknown }).towers === "all"
                    ? "is all, which already lights every tower: remove sites, or list the towers instead of all"
                    : "is none, which lights no tower, but the rule also names sites: remove one of them",
        }),
    );

const fileSchema = z.strictObject(
    {
        defaultSeverity: z._default(severitySchema, "info"),
        rules: z._default(z.array(z.unknown(), { error: "must be a list of rules" }), []),
    },
    { error: "must be a mapping with defaultSeverity and rules" },
);

function describePath(path: readonly PropertyKey[], rules: readonly unknown[]): string {
    let out = "";
    for (const [i, part] of path.entries()) {
        if (typeof part === "number") {
            out += `[${part}]`;
            const rule = i === 1 && path[0] === "rules" ? rules[part] : undefined;
            const name = rule && typeof rule === "object" ? (rule as { name?: unknown }).name : undefined;
            if (typeof name === "string") out += ` ("${name}")`;
        } else {
            out += out === "" ? String(part) : `.${String(part)}`;
        }
    }
    return out === "" ? "the file" : out;
}

function issueMessages(error: { issues: readonly z.core.$ZodIssue[] }, prefix: readonly PropertyKey[], rules: readonly unknown[]): string[] {
    return error.issues.map((issue) => {
        const path = [...prefix, ...issue.path];
        if (issue.code === "unrecognized_keys") {
            const allowed = prefix.length > 0 && issue.path.length === 0 ? RULE_FIELDS.join(", ") : issue.path.at(-1) === "key" ? KEY_SOURCES.join(", ") : "defaultSeverity, rules";
            return `${describePath(path, rules)}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; allowed: ${allowed}`;
        }
        return `${describePath(path, rules)} ${issue.message}`;
    });
}

// ---- Rule regexes: RE2 ------------------------------------------------------------------------

/**
 * JavaScript's `\s` (ECMA-262 WhiteSpace and LineTerminator), which users of the rules file have
 * relied on: RE2's own `\s` is ASCII only ([\t\n\f\r ]), so a full-width space (U+3000) in Japanese
 * mail would not count as a space.
 */
const JS_SPACE_CLASS_ITEMS = String.raw`\t\n\x{0b}\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`;

/** What a rule regex uses that RE2 cannot run, and what to write instead. */
const BACKTRACKING_ONLY: readonly { readonly test: (pattern: string, at: number) => number; readonly what: string; readonly instead: string }[] = [
    { test: (p, i) => (p.startsWith("(?=", i) ? 3 : 0), what: 'a lookahead "(?="', instead: "match the following text as part of the pattern (and capture only what you need with a named group)" },
    { test: (p, i) => (p.startsWith("(?!", i) ? 3 : 0), what: 'a negative lookahead "(?!"', instead: "write a rule for the excluded case above this one (the first matching rule wins), or use a negated class such as [^x]" },
    { test: (p, i) => (p.startsWith("(?<=", i) ? 4 : 0), what: 'a lookbehind "(?<="', instead: 'match the preceding text as part of the pattern, e.g. "Host: (?<host>\\S+)" instead of "(?<=Host: )\\S+"' },
    { test: (p, i) => (p.startsWith("(?<!", i) ? 4 : 0), what: 'a negative lookbehind "(?<!"', instead: "write a rule for the excluded case above this one (the first matching rule wins), or use a negated class such as [^x]" },
    { test: (p, i) => (p.startsWith("(?>", i) ? 3 : 0), what: 'an atomic group "(?>"', instead: 'write "(?:" instead: RE2 never backtracks, so an atomic group buys nothing' },
];

/**
 * Why a rule regex cannot run on RE2, or undefined. Scans the pattern once (escapes, character
 * classes and \Q…\E quoting respected) for the constructs only a backtracking engine has.
 */
export function rulePatternProblem(pattern: string): string | undefined {
    let inClass = false;
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === "\\") {
            const next = pattern[i + 1] ?? "";
            if (next === "Q") {
                const end = pattern.indexOf("\\E", i + 2);
                i = end < 0 ? pattern.length : end + 1;
                continue;
            }
            if (!inClass && /[1-9]/.test(next)) return `uses a backreference "\\${next}", which needs a backtracking engine; rules run on RE2 (linear time). Match the repeated text explicitly, or with a character class`;
            if (next === "k" && (pattern[i + 2] === "<" || pattern[i + 2] === "{" || pattern[i + 2] === "'")) return 'uses a named backreference "\\k<…>", which needs a backtracking engine; rules run on RE2 (linear time). Match the repeated text explicitly, or with a character class';
            i++;
            continue;
        }
        if (inClass) {
            if (c === "]") inClass = false;
            continue;
        }
        if (c === "[") {
            inClass = true;
            // "[]…]" and "[^]…]": a leading ] is a literal; JavaScript's "[^]" (any character) is not RE2.
            if (pattern.startsWith("[^]", i)) return 'uses "[^]" (any character), which RE2 reads differently; write [\\s\\S] instead';
            if (pattern[i + 1] === "^") i++;
            if (pattern[i + 1] === "]") i++;
            continue;
        }
        if (pattern.startsWith("(?P=", i)) return 'uses a named backreference "(?P=…)", which needs a backtracking engine; rules run on RE2 (linear time). Match the repeated text explicitly, or with a character class';
        for (const construct of BACKTRACKING_ONLY) {
            if (construct.test(pattern, i) > 0) return `uses ${construct.what}, which needs a backtracking engine; rules run on RE2 (linear time, so no mail can stall them). Instead, ${construct.instead}`;
        }
        if ((c === "+" || c === "*" || c === "?" || c === "}") && pattern[i + 1] === "+") return `uses a possessive quantifier "${c}+", which RE2 does not have; drop the second "+": RE2 never backtracks, so the plain quantifier already costs linear time`;
    }
    return undefined;
}

/**
 * The pattern as RE2 should read it to mean what it meant in JavaScript: `\s` and `\S` widened to
 * JavaScript's spaces (outside brackets; inside them `\s` is widened and `\S` is RE2's, which only
 * differs for Unicode spaces), `\uXXXX` written `\x{XXXX}`. Everything else is passed through.
 */
export function toRe2Syntax(pattern: string): string {
    let out = "";
    let inClass = false;
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === "\\") {
            const next = pattern[i + 1] ?? "";
            if (next === "Q") {
                const end = pattern.indexOf("\\E", i + 2);
                const stop = end < 0 ? pattern.length : end + 2;
                out += pattern.slice(i, stop);
                i = stop - 1;
                continue;
            }
            const hex = /^u([0-9A-Fa-f]{4})/.exec(pattern.slice(i + 1, i + 6));
            if (hex) {
                out += `\\x{${hex[1]}}`;
                i += 5;
            } else if (next === "s") {
                out += inClass ? JS_SPACE_CLASS_ITEMS : `[${JS_SPACE_CLASS_ITEMS}]`;
                i++;
            } else if (next === "S" && !inClass) {
                out += `[^${JS_SPACE_CLASS_ITEMS}]`;
                i++;
            } else {
                out += c + next;
                i++;
            }
            continue;
        }
        if (inClass) {
            if (c === "]") inClass = false;
            out += c;
            continue;
        }
        if (c === "[") {
            inClass = true;
            out += c;
            if (pattern[i + 1] === "^") out += pattern[++i];
            if (pattern[i + 1] === "]") out += pattern[++i];
            continue;
        }
        out += c;
    }
    return out;
}

/** RE2 flags of a rule field: every regex is case-insensitive; body regexes read ^ and $ per line. */
function re2Flags(multiline: boolean): number {
    return RE2JS.CASE_INSENSITIVE | (multiline ? RE2JS.MULTILINE : 0);
}

/**
 * Compiles a rule regex on RE2; a problem names the field, the pattern, the reason and the fix.
 * `multiline`: a regex on the body (body, key.body): ^ and $ match at each line, and the smaller size limit.
 */
export function compileRuleRegex(pattern: string, multiline: boolean): { regex: RuleRegex } | { problem: string } {
    const fix = 'Fix the pattern (in YAML double quotes a backslash must be doubled: "\\\\d+"; single quotes keep it as is: \'\\d+\')';
    const unsupported = rulePatternProblem(pattern);
    if (unsupported !== undefined) return { problem: `the regular expression /${pattern}/ ${unsupported}` };
    let regex: RE2JS;
    try {
        regex = RE2JS.compile(toRe2Syntax(pattern), re2Flags(multiline));
    } catch (error) {
        // re2js: "error parsing regexp: <reason>: `<where>`"; the reason is kept, the pattern is shown once.
        const reason = error instanceof RE2JSException ? error.message.replace(/^error parsing regexp: /, "").replace(/`\(\?i?m?\)/, "`") : error instanceof Error ? error.message : String(error);
        const hint = /invalid escape sequence: `\\[uUcZzAeh]/.test(reason) ? ' (RE2 syntax: write \\x{3000} for a code point, \\z or $ for the end of the text)' : "";
        return { problem: `invalid regular expression /${pattern}/: ${reason}${hint}. ${fix}` };
    }
    const size = regex.programSize();
    const limit = multiline ? MAX_BODY_REGEX_PROGRAM_SIZE : MAX_SUBJECT_REGEX_PROGRAM_SIZE;
    if (size > limit) {
        return {
            problem: `the regular expression /${pattern}/ compiles to ${size} RE2 instructions, over the limit of ${limit} for a regex on the ${multiline ? "body" : "subject"} that keeps a rule's cost on a hostile mail bounded. Counted repetitions copy their group ({1,100} makes 100 copies): use + or * or a smaller count, or split the rule`,
        };
    }
    return { regex };
}

/** Compiles a rule regex; the problem goes to `problems` with the rule and field. */
function compile(pattern: string, multiline: boolean, where: string, problems: string[]): RuleRegex | undefined {
    const result = compileRuleRegex(pattern, multiline);
    if ("problem" in result) {
        problems.push(`${where}: ${result.problem}`);
        return undefined;
    }
    return result.regex;
}

/**
 * Validates a parsed rules document. Throws {@link MailRulesError} listing every fault.
 * `source` names the file in messages.
 */
export function validateMailRules(document: unknown, source = "the rules file"): MailRules {
    const problems: string[] = [];
    const file = fileSchema.safeParse(document ?? {});
    if (!file.success) throw new MailRulesError(source, issueMessages(file.error, [], []));
    const rawRules = file.data.rules;
    const rules: MailRule[] = [];
    const seen = new Map<string, number>();
    rawRules.forEach((raw, index) => {
        const name = raw && typeof raw === "object" ? (raw as { name?: unknown }).name : undefined;
        if (typeof name === "string") {
            const earlier = seen.get(name);
            if (earlier !== undefined) problems.push(`rules[${index}].name "${name}" is used twice (also rules[${earlier}]); give every rule a unique name`);
            else seen.set(name, index);
        }
        const parsed = ruleSchema.safeParse(raw);
        if (!parsed.success) {
            problems.push(...issueMessages(parsed.error, ["rules", index], rawRules));
            return;
        }
        const spec = parsed.data;
        const where = (field: string) => `rules[${index}] ("${spec.name}").${field}`;
        const subjectRegex = spec.subject === undefined ? undefined : compile(spec.subject, false, where("subject"), problems);
        const bodyRegex = spec.body === undefined ? undefined : compile(spec.body, true, where("body"), problems);
        const keyRegexes: { source: KeySource; regex: RuleRegex }[] = [];
        for (const source of KEY_SOURCES) {
            const pattern = spec.key?.[source];
            if (pattern === undefined) continue;
            const regex = compile(pattern, source === "body", where(`key.${source}`), problems);
            if (regex) keyRegexes.push({ source, regex });
        }
        let matchFrom: ((address: string) => boolean) | undefined;
        if (spec.from !== undefined) {
            try {
                matchFrom = picomatch(spec.from, { nocase: true, dot: true });
            } catch (error) {
                problems.push(`${where("from")}: invalid glob "${spec.from}": ${error instanceof Error ? error.message : String(error)}`);
            }
        }
        rules.push({ ...spec, route: routeOf(spec), matchFrom, subjectRegex, bodyRegex, keyRegexes });
    });
    if (problems.length > 0) throw new MailRulesError(source, problems);
    return { defaultSeverity: file.data.defaultSeverity, rules };
}

/** Parses and validates rules YAML. Throws {@link MailRulesError} for bad YAML or bad rules. */
export function parseMailRules(yamlText: string, source = "the rules file"): MailRules {
    const doc = parseDocument(yamlText, { uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) {
        throw new MailRulesError(
            source,
            doc.errors.map((e) => {
                const first = e.message.split("\n")[0].replace(/:\s*$/, "");
                return `YAML syntax: ${first}${e.linePos && !/line \d+/.test(first) ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : ""}`;
            }),
        );
    }
    return validateMailRules(doc.toJS(), source);
}

/** Rules naming towers that are not configured; the infrastructure reports these at deploy time. */
export function unknownRuleTowers(rules: MailRules, towerNames: Iterable<string>): { rule: string; tower: string }[] {
    const known = new Set(towerNames);
    return rules.rules.flatMap((rule) => rule.route.towers.filter((t) => !known.has(t)).map((tower) => ({ rule: rule.name, tower })));
}

/** Rules naming sites that are not configured; the infrastructure reports these at deploy time. */
export function unknownRuleSites(rules: MailRules, siteNames: Iterable<string>): { rule: string; site: string }[] {
    const known = new Set(siteNames);
    return rules.rules.flatMap((rule) => rule.route.sites.filter((s) => !known.has(s)).map((site) => ({ rule: rule.name, site })));
}

// ---- Correlation keys ---------------------------------------------------------------------------

/** Case, width and spacing folded, so "CPU  high" and "ｃｐｕ high" are one key. */
export function normaliseKeyText(text: string): string {
    return text.normalize("NFKC").replace(/\s+/g, " ").trim().toLowerCase().slice(0, MAX_ALERT_KEY_LENGTH);
}

/**
 * Words that say what state an alert is in rather than which alert it is: the monitoring tools'
 * (Zabbix, Nagios, Datadog, CloudWatch, Prometheus) in English and Japanese. Severity words are
 * here too, because tools repeat one alert with a new severity ("is WARNING", then "is CRITICAL").
 */
const ASCII_STATE_WORDS = [
    "problem",
    "resolved",
    "recovery",
    "recovered",
    "re-triggered",
    "retriggered",
    "triggered",
    "renotify",
    "ok",
    "alarm",
    "insufficient_data",
    "insufficient data",
    "no data",
    "firing",
    "warn",
    "warning",
    "critical",
    "unknown",
    "down",
    "up",
    "unreachable",
];
const JAPANESE_STATE_WORDS = ["障害発生", "障害復旧", "障害", "復旧", "回復", "解決済み", "解決", "解消", "正常化", "正常", "異常", "発生", "警告", "重大", "危険", "注意"];

// Host names keep their letters, digits, '.', '-' and '_', so "db-up-1" and "web.ok.example" survive.
const STATE_WORD_RE = new RegExp(`(?<![a-z0-9._-])(?:${ASCII_STATE_WORDS.map((w) => w.replace(/[-_ ]/g, "[-_ ]")).join("|")})(?![a-z0-9._-])|${JAPANESE_STATE_WORDS.join("|")}`, "gi");
const REPLY_PREFIX_RE = /^\s*(?:re|fwd?|fw|aw|tr|sv|vs|返信|転送)\s*(?:\[\d+\])?\s*:\s*/i;
// Zabbix 5+: "Resolved in 5m 3s: <name>", "Updated problem in 2h: <name>".
const ZABBIX_DURATION_RE = /^\s*(?:resolved|updated problem)\s+in\s+[^:]{1,40}:\s*/i;
const EMPTY_BRACKETS_RE = /[[(<{【〔［「『]\s*[:\-|,/]*\s*[\])>}】〕］」』]/g;
const EDGE_PUNCTUATION_RE = /^[\s:\-–—*|/,.!]+|[\s:\-–—*|/,!]+$/g;

/**
 * The default correlation key: the subject without reply prefixes and state words, folded by
 * {@link normaliseKeyText}. "PROBLEM: CPU high on web-1" and "RESOLVED: CPU high on web-1" give
 * the same key; so do "障害: ..." and "復旧: ...", and Datadog's "[Triggered on {host:a}] X" and
 * "[Recovered on {host:a}] X".
 */
export function defaultAlertKey(subject: string): string {
    // Bounded first: the loops below remove one prefix or bracket pair per pass over the text.
    let s = subject.slice(0, MAX_CLASSIFY_SUBJECT_CHARS).normalize("NFKC");
    for (let before = ""; before !== s; ) {
        before = s;
        s = s.replace(REPLY_PREFIX_RE, "").replace(ZABBIX_DURATION_RE, "");
    }
    s = s.replace(STATE_WORD_RE, " ");
    // Datadog's "[Triggered on {host:a}]" leaves "[ on {host:a}]".
    s = s.replace(/([[(【［])\s*on\s+/gi, "$1");
    for (let before = ""; before !== s; ) {
        before = s;
        s = s.replace(EMPTY_BRACKETS_RE, " ");
    }
    s = s.replace(/\*\*/g, " ").replace(/\s+/g, " ").replace(EDGE_PUNCTUATION_RE, "");
    const key = normaliseKeyText(s);
    return key === "" ? normaliseKeyText(subject.slice(0, MAX_CLASSIFY_SUBJECT_CHARS)) || "(no subject)" : key;
}

/** The key a rule's `key` regexes build, or undefined when one of them does not match. */
export function ruleAlertKey(rule: Pick<MailRule, "keyRegexes">, mail: Pick<ClassifiableMail, "subject" | "text">): string | undefined {
    if (rule.keyRegexes.length === 0) return undefined;
    const { subject, body } = classificationText({ from: "", subject: mail.subject, text: mail.text });
    const parts: string[] = [];
    for (const { source, regex } of rule.keyRegexes) {
        const text = source === "subject" ? subject : body;
        // test() runs RE2's DFA without captures; exec() (captures) only runs on text that matches.
        // re2js's exec() mirrors RegExp's: numbered groups, `groups` (null prototype) for named ones.
        const match = (regex.test(text) ? regex.exec(text) : null) as RegExpExecArray | null;
        if (!match) return undefined;
        const named = match.groups ? Object.entries(match.groups).filter((entry): entry is [string, string] => typeof entry[1] === "string") : [];
        if (named.length > 0) {
            parts.push(...named.map(([name, value]) => `${name}=${value.trim()}`));
        } else if (match.length > 1) {
            parts.push(...match.slice(1).filter((v): v is string => v !== undefined).map((v) => v.trim()));
        } else {
            parts.push(match[0].trim());
        }
    }
    const key = normaliseKeyText(parts.join(" | "));
    return key === "" ? undefined : key;
}

// ---- Classification ---------------------------------------------------------------------------

/**
 * What the rules look at of a mail: the From address folded to lower case, the subject's first
 * {@link MAX_CLASSIFY_SUBJECT_CHARS} characters and the text body's first
 * {@link MAX_CLASSIFY_BODY_CHARS}, its line ends made "\n" (so `$` ends a line whether the mail
 * used CRLF or LF, as it did with JavaScript's regexes).
 */
export function classificationText(mail: ClassifiableMail): { from: string; subject: string; body: string } {
    // An address is at most 256 characters (RFC 5321 paths); the cut only bounds the `from` globs.
    const from = (mail.from ?? "").slice(0, MAX_CLASSIFY_SUBJECT_CHARS).trim().toLowerCase();
    const subject = (mail.subject ?? "").slice(0, MAX_CLASSIFY_SUBJECT_CHARS);
    const text = mail.text ?? "";
    const body = (text.length > MAX_CLASSIFY_BODY_CHARS ? text.slice(0, MAX_CLASSIFY_BODY_CHARS) : text).replace(/\r\n?/g, "\n");
    return { from, subject, body };
}

/** The first condition of a rule that the mail fails, in the order from, subject, body; undefined when all hold. */
function firstFailedCondition(rule: MailRule, from: string, subject: string, body: string): "from" | "subject" | "body" | undefined {
    if (rule.matchFrom && !rule.matchFrom(from)) return "from";
    if (rule.subjectRegex && !rule.subjectRegex.test(subject)) return "subject";
    if (rule.bodyRegex && !rule.bodyRegex.test(body)) return "body";
    return undefined;
}

function ruleMatches(rule: MailRule, from: string, subject: string, body: string): boolean {
    return firstFailedCondition(rule, from, subject, body) === undefined;
}

/** One rule tried on a mail: matched, or the first of its conditions that failed (with the pattern as written). */
export interface RuleTrial {
    readonly rule: string;
    readonly matched: boolean;
    readonly failed?: { readonly field: "from" | "subject" | "body"; readonly pattern: string };
}

/**
 * The rules {@link classify} tries on a mail, in order, up to the one that matched: why each
 * earlier rule did not (its first failing condition). Same text, same matchers. Pure.
 */
export function traceRules(mail: ClassifiableMail, rules: MailRules): RuleTrial[] {
    const { from, subject, body } = classificationText(mail);
    const trials: RuleTrial[] = [];
    for (const rule of rules.rules) {
        const field = firstFailedCondition(rule, from, subject, body);
        if (field === undefined) {
            trials.push({ rule: rule.name, matched: true });
            break;
        }
        trials.push({ rule: rule.name, matched: false, failed: { field, pattern: String(rule[field]) } });
    }
    return trials;
}

/**
 * Classifies one mail: the first rule whose given conditions all hold wins, with its route; none
 * gives `defaultSeverity` with rule null and {@link NO_ROUTE}. Looks only at
 * {@link classificationText}. Pure; never throws.
 */
export function classify(mail: ClassifiableMail, rules: MailRules): Classification {
    const { from, subject, body } = classificationText(mail);
    const rule = rules.rules.find((r) => ruleMatches(r, from, subject, body));
    const ruleKey = rule ? ruleAlertKey(rule, { subject, text: body }) : undefined;
    return {
        severity: rule?.severity ?? rules.defaultSeverity,
        rule: rule?.name ?? null,
        alertKey: ruleKey ?? defaultAlertKey(subject),
        keySource: ruleKey === undefined ? "subject" : "rule",
        route: rule?.route ?? NO_ROUTE,
    };
}
