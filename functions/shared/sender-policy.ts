import { domainToASCII, domainToUnicode } from "node:url";
import picomatch from "picomatch";
import { getDomain } from "tldts";

/**
 * Who may light a tower. Mail is easy to forge, and a tower that flashes red for a forged mail
 * teaches a room to ignore it, so a mail lights towers only when all of these hold:
 * - it has exactly one From address, well-formed (one mailbox, one @, a valid domain), on which
 *   mailparser and the direct header reader agree (parse-mail's `fromProblem` says when not);
 * - that address matches an allowed sender glob (case-insensitive): the environment's list plus
 *   the tower's own (`TowerConfig.allowedSenders`);
 * - its From domain is authenticated: DMARC PASS; or, only where the domain publishes no DMARC
 *   policy (dmarcVerdict GRAY), SPF PASS for an envelope sender (MAIL FROM, SES `mail.source`) in
 *   the From domain's organizational domain, or DKIM PASS where every DKIM-Signature of the mail
 *   has a `d=` in the From domain's organizational domain (SES's dkimVerdict is one verdict for the
 *   whole mail, so a signature of another domain could be the one that passed);
 * - SES's virus and spam verdicts are both PASS.
 * A verdict that is missing counts as not passing. Mail that fails still reaches the alert channel,
 * marked untrusted, with the reasons.
 *
 * Organizational domain (relaxed alignment, RFC 7489 §3.2): the registrable domain by the Public
 * Suffix List (tldts, ICANN and private sections), so `a.example.co.jp` and `b.example.co.jp`
 * align and `foo.github.io` and `bar.github.io` do not.
 */

/** SES verdict statuses (facts.md); anything else that arrives is treated as not passing. */
export type VerdictStatus = "PASS" | "FAIL" | "GRAY" | "PROCESSING_FAILED" | "DISABLED";

/** The verdicts of an SES receipt, as they appear in it, and what they were about. */
export interface SesVerdicts {
    readonly spfVerdict?: { readonly status?: string };
    readonly dkimVerdict?: { readonly status?: string };
    readonly dmarcVerdict?: { readonly status?: string };
    readonly virusVerdict?: { readonly status?: string };
    readonly spamVerdict?: { readonly status?: string };
    /** The envelope sender SPF was checked for (SES `mail.source`); "" or missing for a null sender. */
    readonly envelopeFrom?: string;
    /**
     * The `d=` domain of every DKIM-Signature header of the mail (one entry per signature, "" for
     * one without a readable `d=`); undefined when the headers are not known in full (SES's
     * `headersTruncated`), which rules out the DKIM route.
     */
    readonly dkimSignatureDomains?: readonly string[];
}

export interface SenderCheckInput {
    /** The From header's address; empty when the mail had none. */
    readonly from: string;
    readonly verdicts: SesVerdicts | undefined;
    /** Sender globs, e.g. "*@zabbix.example.jp", "alert@dtdg.co". */
    readonly allowedSenders: readonly string[];
    /** Why the mail's From cannot be taken as one address (two From headers, readers disagree, …); undefined when it can. */
    readonly fromProblem?: string;
}

export interface SenderCheck {
    readonly trusted: boolean;
    /** Every check's outcome in words, failures first; shown in the alert channel. */
    readonly reasons: string[];
}

function status(verdict: { readonly status?: string } | undefined): string | undefined {
    const s = verdict?.status;
    return typeof s === "string" && s !== "" ? s.toUpperCase() : undefined;
}

/** picomatch refuses longer patterns (its MAX_LENGTH, 65536); alertline refuses far shorter ones at config time. */
export const MAX_SENDER_GLOB_CHARS = 254;

/**
 * Why a sender glob cannot be used, or undefined when it can. The stack config calls this at plan
 * time, so a glob that picomatch would refuse (or that could never match an address) stops the
 * plan instead of every mail.
 */
export function senderGlobProblem(glob: unknown): string | undefined {
    if (typeof glob !== "string") return "must be a string such as \"*@zabbix.example.jp\"";
    const g = glob.trim();
    if (g === "") return "is empty; write a sender address or glob such as \"*@zabbix.example.jp\"";
    if (g.length > MAX_SENDER_GLOB_CHARS) return `is ${g.length} characters; a sender glob may have at most ${MAX_SENDER_GLOB_CHARS} (an address has at most 254): shorten it, or split it into several globs`;
    if (/[\s\p{Cc}]/u.test(g)) return "holds spaces or control characters; a sender glob is one address pattern such as \"*@zabbix.example.jp\"";
    const at = g.split("@").length - 1;
    if (at !== 1 || g.startsWith("@") || g.endsWith("@")) return "must hold exactly one @ between a local part and a domain, e.g. \"*@zabbix.example.jp\" or \"alert@dtdg.co\"";
    try {
        picomatch.makeRe(g, { nocase: true, dot: true });
    } catch (error) {
        return `is not a valid glob (picomatch: ${error instanceof Error ? error.message : String(error)}); write it like "*@zabbix.example.jp"`;
    }
    return undefined;
}

const matchers = new Map<string, (address: string) => boolean>();

/** Globs are compiled once per container; allow lists are small and fixed per deployment. */
function matcher(glob: string): (address: string) => boolean {
    let m = matchers.get(glob);
    if (m === undefined) {
        m = picomatch(glob, { nocase: true, dot: true });
        matchers.set(glob, m);
    }
    return m;
}

/** The first allowed glob the address matches, or undefined. Only a well-formed single address can match. */
export function matchingSender(from: string, allowedSenders: readonly string[]): string | undefined {
    const parsed = parseAddress(from);
    if (!parsed.ok) return undefined;
    // An internationalised domain matches a glob written in either form (監視.example.jp or xn--6zyw21b.example.jp).
    const forms = [...new Set([parsed.domain, parsed.asciiDomain, domainToUnicode(parsed.asciiDomain)].map((d) => `${parsed.local}@${d}`.toLowerCase()))];
    return allowedSenders.find((glob) => senderGlobProblem(glob) === undefined && forms.some((form) => matcher(glob.trim())(form)));
}

export type AddressReading =
    | {
          readonly ok: true;
          readonly local: string;
          /** The domain as written (lower case), e.g. `例え.jp`. */
          readonly domain: string;
          /** The domain in ASCII (IDNA A-labels), e.g. `xn--r8jz45g.jp`. */
          readonly asciiDomain: string;
          /** The organizational (registrable) domain in ASCII, e.g. `example.co.jp`. */
          readonly orgDomain: string;
      }
    | { readonly ok: false; readonly problem: string };

const LOCAL_PART = /^[^\s\p{Cc}@"<>()[\]\\,;:]{1,64}$/u;
const LDH_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The organizational domain (registrable domain by the PSL) of an ASCII domain; undefined when it has none. */
export function organizationalDomain(domain: string): string | undefined {
    const ascii = domainToASCII(domain.trim().replace(/\.$/, "").toLowerCase());
    if (ascii === "") return undefined;
    return getDomain(ascii, { allowPrivateDomains: true }) ?? undefined;
}

/** Reads one bare mailbox address (`local@domain`): exactly one @, a local part, a valid domain with a registrable part. */
export function parseAddress(address: string): AddressReading {
    const a = (address ?? "").trim();
    if (a === "") return { ok: false, problem: "the mail has no From address" };
    const parts = a.split("@");
    if (parts.length !== 2) return { ok: false, problem: `the From address ${JSON.stringify(a.slice(0, 120))} holds ${parts.length - 1} @ signs; exactly one is allowed` };
    const [local, rawDomain] = parts;
    if (!LOCAL_PART.test(local)) return { ok: false, problem: `the From address ${JSON.stringify(a.slice(0, 120))} has an empty or malformed local part` };
    const domain = rawDomain.toLowerCase();
    if (domain === "") return { ok: false, problem: `the From address ${JSON.stringify(a.slice(0, 120))} has no domain` };
    const ascii = domain.length > 253 ? "" : domainToASCII(domain);
    const labels = ascii.split(".");
    if (ascii === "" || ascii.length > 253 || labels.length < 2 || !labels.every((l) => LDH_LABEL.test(l)) || /^[0-9]+$/.test(labels[labels.length - 1])) {
        return { ok: false, problem: `the From domain ${JSON.stringify(domain.slice(0, 120))} is not a valid domain name` };
    }
    const orgDomain = getDomain(ascii, { allowPrivateDomains: true });
    if (orgDomain === null) return { ok: false, problem: `the From domain ${domain} is a public suffix, not a domain someone registered` };
    return { ok: true, local, domain, asciiDomain: ascii, orgDomain };
}

/** The domain of an envelope address (`bounce@mail.example.jp` or `<…>`), lower-case ASCII; "" for a null sender. */
function envelopeDomain(envelope: string | undefined): string {
    const e = (envelope ?? "").trim().replace(/^<|>$/g, "");
    const at = e.lastIndexOf("@");
    return at < 0 ? "" : domainToASCII(e.slice(at + 1).toLowerCase());
}

/** The From domain's authentication by SES's verdicts: a pass line, or the failure in words. */
function fromDomainAuthentication(address: Extract<AddressReading, { ok: true }>, verdicts: SesVerdicts | undefined): { ok: boolean; reason: string } {
    const spf = status(verdicts?.spfVerdict);
    const dkim = status(verdicts?.dkimVerdict);
    const dmarc = status(verdicts?.dmarcVerdict);
    const domain = address.asciiDomain;
    if (dmarc === "PASS") {
        // DMARC passes only on an aligned SPF or DKIM pass; verdicts that say otherwise are not believed.
        if (spf === "PASS" || dkim === "PASS") return { ok: true, reason: `DMARC PASS for ${domain}` };
        return { ok: false, reason: `neither SPF nor DKIM passed (SPF ${spf ?? "missing"}, DKIM ${dkim ?? "missing"}), so the DMARC PASS for ${domain} is not believed` };
    }
    if (dmarc !== "GRAY") {
        return { ok: false, reason: `DMARC ${dmarc ?? "verdict missing"} for ${domain}: the From domain is not authenticated (only DMARC PASS, or GRAY with an aligned SPF or DKIM pass, is)` };
    }
    // GRAY: the domain publishes no DMARC policy; accept an aligned SPF or DKIM pass.
    const envelope = envelopeDomain(verdicts?.envelopeFrom);
    const envelopeOrg = envelope === "" ? undefined : organizationalDomain(envelope);
    const spfAligned = envelopeOrg !== undefined && envelopeOrg === address.orgDomain;
    if (spf === "PASS" && spfAligned) return { ok: true, reason: `DMARC GRAY (no policy); SPF PASS for envelope domain ${envelope}, aligned with ${domain}` };
    const signatures = verdicts?.dkimSignatureDomains;
    const dkimAligned = signatures !== undefined && signatures.length > 0 && signatures.every((d) => d !== "" && organizationalDomain(d) === address.orgDomain);
    if (dkim === "PASS" && dkimAligned) return { ok: true, reason: `DMARC GRAY (no policy); DKIM PASS, every signature by ${[...new Set(signatures)].join(", ")}, aligned with ${domain}` };
    const spfWhy =
        spf !== "PASS" ? `SPF ${spf ?? "missing"}` : envelope === "" ? "SPF PASS but no envelope sender" : `SPF PASS for envelope domain ${envelope}, not aligned with ${domain}`;
    const dkimWhy =
        dkim !== "PASS"
            ? `DKIM ${dkim ?? "missing"}`
            : signatures === undefined
              ? "DKIM PASS but the headers were truncated, so the signing domains are unknown"
              : signatures.length === 0
                ? "DKIM PASS but no DKIM-Signature header was seen"
                : `DKIM PASS but signed by ${[...new Set(signatures.map((d) => d || "(no d=)"))].join(", ")}, not only by ${address.orgDomain}`;
    return { ok: false, reason: `DMARC GRAY (no policy) and no aligned pass for ${domain}: ${spfWhy}; ${dkimWhy}` };
}

/** Whether this mail may light a tower whose allow list is `allowedSenders`, and why. */
export function mayLightTower({ from, verdicts, allowedSenders, fromProblem }: SenderCheckInput): SenderCheck {
    const failures: string[] = [];
    const passes: string[] = [];

    const written = (from ?? "").trim();
    const address = parseAddress(written);
    if (fromProblem !== undefined) failures.push(fromProblem);
    if (!address.ok) {
        if (fromProblem === undefined || written !== "") failures.push(address.problem);
    } else if (allowedSenders.length === 0) {
        failures.push(`no allowed senders are configured, so ${written} may not light towers (add globs to alertline:mail.allowedSenders or the site's allowedSenders)`);
    } else {
        const glob = matchingSender(written, allowedSenders);
        if (glob === undefined) failures.push(`sender ${written} is not on the allow list`);
        else passes.push(`sender ${written} matches allowed "${glob}"`);
    }

    if (address.ok) {
        const auth = fromDomainAuthentication(address, verdicts);
        (auth.ok ? passes : failures).push(auth.reason);
    } else {
        failures.push("the From domain cannot be authenticated without one well-formed From address");
    }

    for (const [name, verdict] of [["virus", verdicts?.virusVerdict], ["spam", verdicts?.spamVerdict]] as const) {
        const s = status(verdict);
        if (s === "PASS") passes.push(`${name} PASS`);
        else failures.push(`${name} verdict ${s ?? "missing"} (only PASS is trusted)`);
    }

    return { trusted: failures.length === 0, reasons: [...failures, ...passes] };
}
