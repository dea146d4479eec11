import picomatch from "picomatch";

/**
 * Who may light a tower. Mail is easy to forge, and a tower that flashes red for a forged mail
 * teaches a room to ignore it, so a mail lights towers only when both hold:
 * - its From address matches an allowed sender glob (case-insensitive): the environment's list
 *   plus the tower's own (`TowerConfig.allowedSenders`), and
 * - SES's verdicts show it really came from there: SPF or DKIM PASS, DMARC not FAIL, virus not FAIL.
 * A verdict that is missing counts as not passing. Mail that fails still reaches the alert channel,
 * marked untrusted, with the reasons.
 */

/** SES verdict statuses (facts.md); anything else that arrives is treated as not passing. */
export type VerdictStatus = "PASS" | "FAIL" | "GRAY" | "PROCESSING_FAILED" | "DISABLED";

/** The verdicts of an SES receipt, as they appear in it. */
export interface SesVerdicts {
    readonly spfVerdict?: { readonly status?: string };
    readonly dkimVerdict?: { readonly status?: string };
    readonly dmarcVerdict?: { readonly status?: string };
    readonly virusVerdict?: { readonly status?: string };
    readonly spamVerdict?: { readonly status?: string };
}

export interface SenderCheckInput {
    /** The From header's address; empty when the mail had none. */
    readonly from: string;
    readonly verdicts: SesVerdicts | undefined;
    /** Sender globs, e.g. "*@zabbix.example.jp", "alert@dtdg.co". */
    readonly allowedSenders: readonly string[];
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

/** The first allowed glob the address matches, or undefined. */
export function matchingSender(from: string, allowedSenders: readonly string[]): string | undefined {
    const address = from.trim().toLowerCase();
    if (address === "") return undefined;
    return allowedSenders.find((glob) => glob.trim() !== "" && matcher(glob.trim())(address));
}

/** Whether this mail may light a tower whose allow list is `allowedSenders`, and why. */
export function mayLightTower({ from, verdicts, allowedSenders }: SenderCheckInput): SenderCheck {
    const failures: string[] = [];
    const passes: string[] = [];

    const address = (from ?? "").trim();
    if (address === "") {
        failures.push("the mail has no From address");
    } else if (allowedSenders.length === 0) {
        failures.push(`no allowed senders are configured, so ${address} may not light towers (add globs to alertline:mail.allowedSenders or the site's allowedSenders)`);
    } else {
        const glob = matchingSender(address, allowedSenders);
        if (glob === undefined) failures.push(`sender ${address} is not on the allow list`);
        else passes.push(`sender ${address} matches allowed "${glob}"`);
    }

    const spf = status(verdicts?.spfVerdict);
    const dkim = status(verdicts?.dkimVerdict);
    if (spf === "PASS" || dkim === "PASS") {
        passes.push([spf === "PASS" ? "SPF PASS" : undefined, dkim === "PASS" ? "DKIM PASS" : undefined].filter(Boolean).join(", "));
    } else {
        failures.push(`neither SPF nor DKIM passed (SPF ${spf ?? "missing"}, DKIM ${dkim ?? "missing"})`);
    }

    const dmarc = status(verdicts?.dmarcVerdict);
    if (dmarc === undefined) failures.push("DMARC verdict missing");
    else if (dmarc === "FAIL") failures.push("DMARC FAIL");
    else passes.push(`DMARC ${dmarc}`);

    const virus = status(verdicts?.virusVerdict);
    if (virus === undefined) failures.push("virus verdict missing");
    else if (virus === "FAIL") failures.push("virus scan FAIL");
    else passes.push(`virus ${virus}`);

    return { trusted: failures.length === 0, reasons: [...failures, ...passes] };
}
