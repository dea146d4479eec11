import { describe, expect, it } from "vitest";
import picomatch from "picomatch";
import { matchingSender, MAX_SENDER_GLOB_CHARS, mayLightTower, organizationalDomain, senderGlobProblem, type SesVerdicts } from "../../../functions/shared/sender-policy";

const ALLOWED = ["*@zabbix.example.jp", "alert@dtdg.co"];
const v = (status: string | undefined | null) => (status === undefined || status === null ? undefined : { status });

/** Verdicts of a mail from zabbix@zabbix.example.jp; envelope and DKIM signature in its own domain unless told. */
// null: the verdict (or the signature list) is missing.
function verdicts(spf?: string, dkim?: string, dmarc?: string, virus?: string, spam: string | null = "PASS", envelopeFrom = "zabbix@zabbix.example.jp", dkimSignatureDomains: string[] | null = ["zabbix.example.jp"]): SesVerdicts {
    return { spfVerdict: v(spf), dkimVerdict: v(dkim), dmarcVerdict: v(dmarc), virusVerdict: v(virus), spamVerdict: v(spam), envelopeFrom, dkimSignatureDomains: dkimSignatureDomains ?? undefined };
}

describe("mayLightTower: the verdict truth table for an allowed sender", () => {
    // [spf, dkim, dmarc, virus, spam, trusted], written from issue 11's rule: DMARC PASS (with the SPF or DKIM pass it rests on),
    // or DMARC GRAY with an aligned SPF or DKIM pass (here aligned); virus and spam both PASS; missing = not passing.
    const table: [string | undefined, string | undefined, string | undefined, string | undefined, string | null, boolean][] = [
        ["PASS", "PASS", "PASS", "PASS", "PASS", true],
        ["PASS", "FAIL", "PASS", "PASS", "PASS", true],
        ["FAIL", "PASS", "PASS", "PASS", "PASS", true],
        ["FAIL", "FAIL", "PASS", "PASS", "PASS", false],
        ["GRAY", "GRAY", "GRAY", "PASS", "PASS", false],
        ["PASS", "PASS", "FAIL", "PASS", "PASS", false],
        ["PASS", "GRAY", "GRAY", "PASS", "PASS", true],
        ["GRAY", "PASS", "GRAY", "PASS", "PASS", true],
        ["PASS", "PASS", "PROCESSING_FAILED", "PASS", "PASS", false],
        ["PASS", "PASS", "DISABLED", "PASS", "PASS", false],
        ["PASS", "PASS", "PASS", "FAIL", "PASS", false],
        ["PASS", "PASS", "PASS", "GRAY", "PASS", false],
        ["PASS", "PASS", "PASS", "PROCESSING_FAILED", "PASS", false],
        ["PASS", "PASS", "PASS", "DISABLED", "PASS", false],
        ["PASS", "PASS", "PASS", "PASS", "FAIL", false],
        ["PASS", "PASS", "PASS", "PASS", "GRAY", false],
        ["PASS", "PASS", "PASS", "PASS", null, false],
        [undefined, "PASS", "PASS", "PASS", "PASS", true],
        [undefined, undefined, "PASS", "PASS", "PASS", false],
        ["PASS", "PASS", undefined, "PASS", "PASS", false],
        ["PASS", "PASS", "PASS", undefined, "PASS", false],
        ["PROCESSING_FAILED", "DISABLED", "PASS", "PASS", "PASS", false],
    ];
    it.each(table)("SPF %s, DKIM %s, DMARC %s, virus %s, spam %s → trusted %s", (spf, dkim, dmarc, virus, spam, trusted) => {
        expect(mayLightTower({ from: "zabbix@zabbix.example.jp", verdicts: verdicts(spf, dkim, dmarc, virus, spam), allowedSenders: ALLOWED }).trusted).toBe(trusted);
    });
});

describe("mayLightTower: alignment where the domain publishes no DMARC policy (GRAY)", () => {
    const gray = (spf: string, dkim: string, envelope: string, signatures: string[] | null, from = "zabbix@zabbix.example.jp") =>
        mayLightTower({ from, verdicts: verdicts(spf, dkim, "GRAY", "PASS", "PASS", envelope, signatures), allowedSenders: [...ALLOWED, "*@mon.example.co.jp", "*@foo.github.io"] });

    it("refuses SPF PASS for an envelope domain of someone else (the forged From of issue 11)", () => {
        const check = gray("PASS", "GRAY", "bounce@attacker.example", []);
        expect(check.trusted).toBe(false);
        expect(check.reasons[0]).toContain("SPF PASS for envelope domain attacker.example, not aligned with zabbix.example.jp");
    });
    it("accepts SPF PASS for an envelope in a subdomain of the same organizational domain", () => {
        expect(gray("PASS", "GRAY", "bounces@mail.example.jp", []).trusted).toBe(true);
        expect(gray("PASS", "GRAY", "<bounces@MAIL.Zabbix.Example.JP>", []).trusted).toBe(true);
    });
    it("takes the organizational domain from the Public Suffix List: example.co.jp, not co.jp; github.io tenants apart", () => {
        expect(gray("PASS", "GRAY", "bounce@mail.example.co.jp", [], "zabbix@mon.example.co.jp").trusted).toBe(true);
        expect(gray("PASS", "GRAY", "bounce@attacker.co.jp", [], "zabbix@mon.example.co.jp").trusted).toBe(false);
        expect(gray("PASS", "GRAY", "bounce@evil.github.io", [], "zabbix@foo.github.io").trusted).toBe(false);
        expect(organizationalDomain("a.b.example.co.jp")).toBe("example.co.jp");
        expect(organizationalDomain("co.jp")).toBeUndefined();
    });
    it("refuses a null envelope sender", () => {
        expect(gray("PASS", "GRAY", "", []).reasons[0]).toContain("no envelope sender");
    });
    it("accepts DKIM PASS only when every signature is by the From domain's organization", () => {
        expect(gray("FAIL", "PASS", "b@attacker.example", ["zabbix.example.jp"]).trusted).toBe(true);
        expect(gray("FAIL", "PASS", "b@attacker.example", ["zabbix.example.jp", "mon.example.jp"]).trusted).toBe(true);
        expect(gray("FAIL", "PASS", "b@attacker.example", ["zabbix.example.jp", "amazonses.com"]).trusted).toBe(false);
        expect(gray("FAIL", "PASS", "b@attacker.example", ["attacker.example"]).trusted).toBe(false);
        expect(gray("FAIL", "PASS", "b@attacker.example", [""]).trusted).toBe(false);
        expect(gray("FAIL", "PASS", "b@attacker.example", []).trusted).toBe(false);
        expect(gray("FAIL", "PASS", "b@attacker.example", null).reasons[0]).toContain("headers were truncated");
    });
});

describe("mayLightTower: one well-formed From address", () => {
    const pass = verdicts("PASS", "PASS", "PASS", "PASS");
    it.each([
        ["evil@attacker.example@zabbix.example.jp", "2 @ signs"],
        ["zabbix@", "no domain"],
        ["@zabbix.example.jp", "local part"],
        ["zabbix@zabbix..example.jp", "not a valid domain"],
        ["zabbix@-zabbix.example.jp", "not a valid domain"],
        ["zabbix@192.168.0.1", "not a valid domain"],
        ["zabbix@jp", "not a valid domain"],
        ["zabbix@co.jp", "public suffix"],
        ['"a b"@zabbix.example.jp', "local part"],
    ])("refuses %s (%s) even where a glob would match it", (from, why) => {
        const check = mayLightTower({ from, verdicts: pass, allowedSenders: ["*@*", "*"] });
        expect(check.trusted).toBe(false);
        expect(check.reasons.join("; ")).toContain(why);
    });
    it("refuses a mail whose From the parser flagged, with the parser's reason first", () => {
        const check = mayLightTower({ from: "zabbix@zabbix.example.jp", fromProblem: "the mail has 2 From headers", verdicts: pass, allowedSenders: ALLOWED });
        expect(check.trusted).toBe(false);
        expect(check.reasons[0]).toBe("the mail has 2 From headers");
    });
    it("matches an internationalised domain written either way", () => {
        expect(mayLightTower({ from: "alert@監視.example.jp", verdicts: verdicts("PASS", "PASS", "PASS", "PASS", "PASS", "b@example.jp", ["example.jp"]), allowedSenders: ["alert@xn--6zyw21b.example.jp"] }).trusted).toBe(true);
        expect(matchingSender("alert@xn--6zyw21b.example.jp", ["alert@監視.example.jp"])).toBe("alert@監視.example.jp");
    });
});

describe("senderGlobProblem: globs refused at config time", () => {
    it("accepts the globs the README shows", () => {
        for (const glob of ALLOWED) expect(senderGlobProblem(glob)).toBeUndefined();
    });
    it.each([
        ["", "empty"],
        ["x".repeat(300) + "@example.jp", `at most ${MAX_SENDER_GLOB_CHARS}`],
        ["*@" + "a".repeat(70_000), `at most ${MAX_SENDER_GLOB_CHARS}`],
        ["zabbix.example.jp", "exactly one @"],
        ["a@b@c", "exactly one @"],
        ["a @b.jp", "spaces"],
    ])("refuses %j (%s)", (glob, why) => {
        expect(senderGlobProblem(glob)).toContain(why);
    });
    it("refuses what picomatch itself would throw for at run time", () => {
        expect(() => picomatch("*@" + "a".repeat(70_000))).toThrow();
        expect(senderGlobProblem("*@" + "a".repeat(70_000))).toBeDefined();
    });
});

describe("mayLightTower: the sender", () => {
    const pass = verdicts("PASS", "PASS", "PASS", "PASS");

    it("matches allow-list globs without regard to case", () => {
        expect(mayLightTower({ from: "Zabbix@ZABBIX.example.JP", verdicts: pass, allowedSenders: ALLOWED }).trusted).toBe(true);
        expect(mayLightTower({ from: "ALERT@dtdg.co", verdicts: pass, allowedSenders: ALLOWED }).trusted).toBe(true);
    });

    it("does not let a look-alike domain through", () => {
        expect(mayLightTower({ from: "zabbix@zabbix.example.jp.attacker.test", verdicts: pass, allowedSenders: ALLOWED }).trusted).toBe(false);
        expect(mayLightTower({ from: "alert@dtdg.co.evil", verdicts: pass, allowedSenders: ALLOWED }).trusted).toBe(false);
        expect(matchingSender("x@sub.zabbix.example.jp", ALLOWED)).toBeUndefined();
    });

    it("says why a sender off the list is refused, even with perfect verdicts", () => {
        const check = mayLightTower({ from: "someone@example.com", verdicts: pass, allowedSenders: ALLOWED });
        expect(check.trusted).toBe(false);
        expect(check.reasons[0]).toBe("sender someone@example.com is not on the allow list");
    });

    it("refuses mail without a From address and says so", () => {
        const check = mayLightTower({ from: "", verdicts: pass, allowedSenders: ALLOWED });
        expect(check.trusted).toBe(false);
        expect(check.reasons[0]).toBe("the mail has no From address");
    });

    it("refuses everyone when no senders are configured, naming the setting", () => {
        const check = mayLightTower({ from: "zabbix@zabbix.example.jp", verdicts: pass, allowedSenders: [] });
        expect(check.trusted).toBe(false);
        expect(check.reasons[0]).toContain("alertline:mail.allowedSenders");
    });

    it("names each missing verdict", () => {
        const check = mayLightTower({ from: "zabbix@zabbix.example.jp", verdicts: undefined, allowedSenders: ALLOWED });
        expect(check.trusted).toBe(false);
        expect(check.reasons).toEqual(expect.arrayContaining([expect.stringContaining("DMARC verdict missing"), "virus verdict missing (only PASS is trusted)", "spam verdict missing (only PASS is trusted)"]));
    });

    it("lists failures first and also what passed", () => {
        const check = mayLightTower({ from: "zabbix@zabbix.example.jp", verdicts: verdicts("PASS", "FAIL", "FAIL", "PASS"), allowedSenders: ALLOWED });
        expect(check.reasons[0]).toContain("DMARC FAIL for zabbix.example.jp");
        expect(check.reasons).toContain('sender zabbix@zabbix.example.jp matches allowed "*@zabbix.example.jp"');
        expect(check.reasons).toContain("virus PASS");
    });
});
