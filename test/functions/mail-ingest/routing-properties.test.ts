import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sitesSchema, towerConfig } from "../../../components/patlite-site/site-config";
import { analyseMail, buildIntents, type IngestConfig, type IngestTower } from "../../../functions/mail-ingest/ingest";
import { parseMailRules } from "../../../functions/shared/mail-rules";
import { SEVERITIES, type Severity } from "../../../functions/shared/severity";
import type { SesVerdicts } from "../../../functions/shared/sender-policy";

/**
 * The isolation invariants of mail routing (issue 11, item 1), as properties over generated sites,
 * towers, sender lists, rules and mails. Everything runs through the real code: the sites through
 * `alertline:sites`' schema and `towerConfig` (what towers.json holds), the rules as YAML text
 * through `parseMailRules`, each mail as raw MIME through mail-ingest's `analyseMail` and
 * `buildIntents`. "Lights a tower" means mail-ingest sends that tower an intent (a recovery's
 * intent included: it too may only reach towers it is routed and trusted for).
 *
 * The oracles are deliberately small: sender globs are `*@<domain>` or one exact address, so
 * "trusted for a site" is a suffix or equality test; verdicts either all PASS (SES's documented
 * sample) or fail in a way every reading of SES's verdicts refuses (virus FAIL; SPF, DKIM and DMARC
 * FAIL; no verdicts at all).
 */

const DOMAINS = ["d0.example", "d1.example", "d2.example", "d3.example"];
const ADDRESSES = DOMAINS.flatMap((d) => [`ops@${d}`, `zabbix@${d}`]);
const GLOBS = ["*@d0.example", "*@d1.example", "zabbix@d2.example", "*@d3.example", "ops@d3.example"];
const WORDS = ["alpha", "beta", "gamma"];
const SITE_POOL = ["kanda", "ueno", "shiba", "koto"];
/** The site the README's procedure adds: a new entry under alertline:sites, no rule changed. */
const NEW_SITE = "zushi";

type Verdicts = "pass" | "virus-fail" | "auth-fail" | "none";
const VERDICTS: Record<Verdicts, SesVerdicts | undefined> = {
    pass: { spfVerdict: { status: "PASS" }, dkimVerdict: { status: "PASS" }, dmarcVerdict: { status: "PASS" }, virusVerdict: { status: "PASS" }, spamVerdict: { status: "PASS" } },
    "virus-fail": { spfVerdict: { status: "PASS" }, dkimVerdict: { status: "PASS" }, dmarcVerdict: { status: "PASS" }, virusVerdict: { status: "FAIL" }, spamVerdict: { status: "PASS" } },
    "auth-fail": { spfVerdict: { status: "FAIL" }, dkimVerdict: { status: "FAIL" }, dmarcVerdict: { status: "FAIL" }, virusVerdict: { status: "PASS" }, spamVerdict: { status: "PASS" } },
    none: undefined,
};

interface SiteSpec {
    readonly name: string;
    readonly towers: readonly string[];
    readonly allowedSenders: readonly string[];
}

type Destination = { readonly kind: "unnamed" } | { readonly kind: "none" } | { readonly kind: "all" } | { readonly kind: "named"; readonly sites: readonly string[]; readonly towers: readonly string[] };

interface RuleSpec {
    readonly name: string;
    readonly from?: string;
    readonly subject?: string;
    readonly body?: string;
    readonly severity: Severity;
    readonly destination: Destination;
}

interface MailSpec {
    readonly from: string;
    readonly subject: string;
    readonly body: string;
    readonly verdicts: Verdicts;
}

interface World {
    readonly sites: readonly SiteSpec[];
    readonly globalSenders: readonly string[];
    readonly rules: readonly RuleSpec[];
    readonly mail: MailSpec;
    /** Towers and senders of the site the README's procedure would add. */
    readonly newSite: SiteSpec;
    /** Whether the new site's allowedSenders also name this mail's sender exactly (a customer's sender). */
    readonly newSiteTrustsSender: boolean;
}

const senders = fc.subarray(GLOBS);

function siteArb(name: string): fc.Arbitrary<SiteSpec> {
    return fc.record({ count: fc.integer({ min: 1, max: 3 }), allowedSenders: senders }).map(({ count, allowedSenders }) => ({
        name,
        towers: Array.from({ length: count }, (_, j) => `${name}-t${j}`),
        allowedSenders,
    }));
}

function destinationArb(sites: readonly SiteSpec[], allowAll: boolean): fc.Arbitrary<Destination> {
    const siteNames = sites.map((s) => s.name);
    const towerNames = sites.flatMap((s) => s.towers);
    const named = fc
        .record({ sites: fc.subarray(siteNames), towers: fc.subarray(towerNames) })
        .filter((d) => d.sites.length + d.towers.length > 0)
        .map((d): Destination => ({ kind: "named", ...d }));
    return fc.oneof(
        { weight: 5, arbitrary: named },
        { weight: 1, arbitrary: fc.constant<Destination>({ kind: "unnamed" }) },
        { weight: 1, arbitrary: fc.constant<Destination>({ kind: "none" }) },
        { weight: allowAll ? 1 : 0, arbitrary: fc.constant<Destination>({ kind: "all" }) },
    );
}

function rulesArb(sites: readonly SiteSpec[], allowAll: boolean): fc.Arbitrary<RuleSpec[]> {
    // Conditions present half the time (a From glob a third), so that rules match generated mail often.
    const rule = fc.record({
        from: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...GLOBS) }),
        subject: fc.option(fc.constantFrom(...WORDS), { nil: undefined, freq: 2 }),
        body: fc.option(fc.constantFrom(...WORDS), { nil: undefined, freq: 2 }),
        severity: fc.constantFrom(...SEVERITIES),
        destination: destinationArb(sites, allowAll),
    });
    return fc.array(rule, { minLength: 0, maxLength: 8 }).map((rules) =>
        rules.map((r, i) => ({
            ...r,
            name: `r${i}`,
            // A rule needs a condition; an unconditioned one would be refused.
            subject: r.from === undefined && r.subject === undefined && r.body === undefined ? WORDS[i % WORDS.length] : r.subject,
        })),
    );
}

/** The oracle of a sender glob: `*@<domain>` matches that domain's addresses, anything else one address. */
const globMatches = (address: string, glob: string) => (glob.startsWith("*@") ? address.endsWith(glob.slice(1)) : address === glob);

/** A mail; its sender is mostly one some list of the world trusts (for some site, maybe not all). */
const mailArb = (sites: readonly SiteSpec[], globalSenders: readonly string[]): fc.Arbitrary<MailSpec> => {
    const listed = [...globalSenders, ...sites.flatMap((s) => s.allowedSenders)];
    const trusted = ADDRESSES.filter((a) => listed.some((g) => globMatches(a, g)));
    return fc.record({
        from: fc.oneof(
            { weight: trusted.length > 0 ? 6 : 0, arbitrary: fc.constantFrom(...(trusted.length > 0 ? trusted : ADDRESSES)) },
            { weight: 3, arbitrary: fc.constantFrom(...ADDRESSES) },
            { weight: 1, arbitrary: fc.constant("") },
        ),
        subject: fc.shuffledSubarray(WORDS, { minLength: 1 }).map((w) => ["Alert", ...w].join(" ")),
        body: fc.shuffledSubarray(WORDS, { minLength: 1 }).map((w) => w.join("\n")),
        verdicts: fc.oneof({ weight: 6, arbitrary: fc.constant<Verdicts>("pass") }, { weight: 1, arbitrary: fc.constantFrom<Verdicts>("virus-fail", "auth-fail", "none") }),
    });
};

function worldArb(allowAll: boolean): fc.Arbitrary<World> {
    return fc
        .integer({ min: 1, max: SITE_POOL.length })
        .chain((n) => fc.tuple(...SITE_POOL.slice(0, n).map(siteArb)))
        .chain((sites) => fc.tuple(fc.constant(sites as readonly SiteSpec[]), senders))
        .chain(([sites, globalSenders]) =>
            fc.record({
                sites: fc.constant(sites),
                globalSenders: fc.constant(globalSenders),
                rules: rulesArb(sites, allowAll),
                mail: mailArb(sites, globalSenders),
                newSite: siteArb(NEW_SITE),
                newSiteTrustsSender: fc.boolean(),
            }),
        );
}

// ---- The world as alertline sees it -----------------------------------------------------------------

function rulesYaml(rules: readonly RuleSpec[]): string {
    const lines = ["defaultSeverity: info", rules.length === 0 ? "rules: []" : "rules:"];
    for (const r of rules) {
        lines.push(`  - name: ${r.name}`);
        if (r.from !== undefined) lines.push(`    from: "${r.from}"`);
        if (r.subject !== undefined) lines.push(`    subject: "${r.subject}"`);
        if (r.body !== undefined) lines.push(`    body: "${r.body}"`);
        lines.push(`    severity: ${r.severity}`);
        const d = r.destination;
        if (d.kind === "none" || d.kind === "all") lines.push(`    towers: ${d.kind}`);
        if (d.kind === "named" && d.sites.length > 0) lines.push(`    sites: [${d.sites.join(", ")}]`);
        if (d.kind === "named" && d.towers.length > 0) lines.push(`    towers: [${d.towers.join(", ")}]`);
    }
    return `${lines.join("\n")}\n`;
}

/** The towers as towers.json has them: `alertline:sites` entries through the stack's schema and towerConfig. */
function ingestTowers(sites: readonly SiteSpec[]): IngestTower[] {
    const entries = sites.map((site, i) => ({
        name: site.name,
        cidr: `10.${i + 1}.0.0/24`,
        customerGateway: { ip: `203.0.113.${i + 1}` },
        router: { model: "rtx830" },
        allowedSenders: [...site.allowedSenders],
        towers: site.towers.map((tower, j) => ({ name: tower, host: `10.${i + 1}.0.${j + 10}`, protocol: "pns" })),
    }));
    return sitesSchema.parse(entries).flatMap((site) => site.towers.map((tower) => towerConfig(site, tower)));
}

function config(world: World, sites = world.sites): Pick<IngestConfig, "rules" | "towers" | "allowedSenders"> {
    return { rules: parseMailRules(rulesYaml(world.rules), "generated.yaml"), towers: ingestTowers(sites), allowedSenders: [...world.globalSenders] };
}

function rawMail(mail: MailSpec): Buffer {
    const from = mail.from === "" ? [] : [`From: Monitor <${mail.from}>`];
    return Buffer.from([...from, "To: patlite@alerts.example.jp", `Subject: ${mail.subject}`, "Message-ID: <generated@example.test>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "", mail.body, ""].join("\r\n"));
}

interface Outcome {
    /** The rule that matched, as generated; undefined when none did. */
    readonly rule: RuleSpec | undefined;
    /** Towers mail-ingest sends an intent to. */
    readonly lit: string[];
}

async function run(world: World, sites = world.sites): Promise<Outcome> {
    const analysis = await analyseMail(rawMail(world.mail), VERDICTS[world.mail.verdicts], config(world, sites));
    return { rule: world.rules.find((r) => r.name === analysis.classification.rule), lit: buildIntents(analysis, "generated", "2026-01-01T00:00:00.000Z").map((i) => i.tower) };
}

// ---- Oracles ---------------------------------------------------------------------------------------

const trustedFor = (world: World, site: SiteSpec) => world.mail.verdicts === "pass" && world.mail.from !== "" && [...world.globalSenders, ...site.allowedSenders].some((g) => globMatches(world.mail.from, g));
const siteOf = (sites: readonly SiteSpec[], tower: string) => sites.find((s) => s.towers.includes(tower))!;
const namesTower = (rule: RuleSpec, tower: string, sites: readonly SiteSpec[]) =>
    rule.destination.kind === "all" || (rule.destination.kind === "named" && (rule.destination.towers.includes(tower) || rule.destination.sites.includes(siteOf(sites, tower).name)));

/** Numbers of generated cases; their sum is what `npm test` runs (at least 1,000). */
const RUNS = { newSite: 400, trust: 300, unnamed: 300, multiSite: 250, exact: 250 } as const;
export const GENERATED_CASES = Object.values(RUNS).reduce((a, b) => a + b, 0);

describe("mail routing: isolation by construction (property-based)", () => {
    it(`runs at least 1,000 generated cases (${GENERATED_CASES})`, () => {
        expect(GENERATED_CASES).toBeGreaterThanOrEqual(1000);
    });

    it("adding a site (a new alertline:sites entry, no rule changed) changes nothing any existing mail lights, unless a rule says towers: all", async () => {
        await fc.assert(
            fc.asyncProperty(worldArb(true), async (world) => {
                const newSite = world.newSiteTrustsSender && world.mail.from !== "" ? { ...world.newSite, allowedSenders: [...world.newSite.allowedSenders, world.mail.from] } : world.newSite;
                const before = await run(world);
                const after = await run(world, [...world.sites, newSite]);
                const added = after.lit.filter((t) => !before.lit.includes(t));
                expect(after.lit.filter((t) => before.lit.includes(t))).toEqual(before.lit);
                if (before.rule?.destination.kind !== "all") expect(added).toEqual([]);
                else expect(added.every((t) => world.newSite.towers.includes(t))).toBe(true);
            }),
            { numRuns: RUNS.newSite },
        );
    });

    it("a mail lights a tower only if its sender is trusted for that tower's site (global or the site's allowedSenders, verdicts passing)", async () => {
        await fc.assert(
            fc.asyncProperty(worldArb(true), async (world) => {
                const { lit } = await run(world);
                for (const tower of lit) expect(trustedFor(world, siteOf(world.sites, tower)), `${world.mail.from} lit ${tower}`).toBe(true);
            }),
            { numRuns: RUNS.trust },
        );
    });

    it("with no rule saying towers: all, no mail lights a tower no rule names (directly or by its site)", async () => {
        await fc.assert(
            fc.asyncProperty(worldArb(false), async (world) => {
                const { lit } = await run(world);
                for (const tower of lit) expect(world.rules.some((r) => namesTower(r, tower, world.sites)), tower).toBe(true);
            }),
            { numRuns: RUNS.unnamed },
        );
    });

    it("a mail lights towers of more than one site only because the matched rule names them (or says towers: all)", async () => {
        await fc.assert(
            fc.asyncProperty(worldArb(true), async (world) => {
                const { rule, lit } = await run(world);
                const litSites = new Set(lit.map((t) => siteOf(world.sites, t).name));
                if (litSites.size === 0) return;
                expect(rule, "a tower lit without a matching rule").toBeDefined();
                for (const tower of lit) expect(namesTower(rule!, tower, world.sites), `${rule!.name} lit ${tower}`).toBe(true);
            }),
            { numRuns: RUNS.multiSite },
        );
    });

    it("lights exactly the towers the matched rule routes to whose site trusts the sender (nothing for unmatched mail, ignore, or a rule naming nothing)", async () => {
        await fc.assert(
            fc.asyncProperty(worldArb(true), async (world) => {
                const { rule, lit } = await run(world);
                const all = world.sites.flatMap((s) => s.towers);
                const expected = rule === undefined || rule.severity === "ignore" ? [] : all.filter((t) => namesTower(rule, t, world.sites) && trustedFor(world, siteOf(world.sites, t)));
                expect(lit).toEqual(expected);
            }),
            { numRuns: RUNS.exact },
        );
    });
});
