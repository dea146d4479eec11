import { describe, expect, it } from "vitest";
import { matchingSender, mayLightTower, type SesVerdicts } from "../../../functions/shared/sender-policy";

const ALLOWED = ["*@zabbix.example.jp", "alert@dtdg.co"];
const v = (status: string | undefined) => (status === undefined ? undefined : { status });

function verdicts(spf?: string, dkim?: string, dmarc?: string, virus?: string): SesVerdicts {
    return { spfVerdict: v(spf), dkimVerdict: v(dkim), dmarcVerdict: v(dmarc), virusVerdict: v(virus) };
}

describe("mayLightTower: the verdict truth table for an allowed sender", () => {
    // [spf, dkim, dmarc, virus, trusted], written from the policy: (SPF PASS or DKIM PASS), DMARC not FAIL, virus not FAIL, missing = not passing.
    const table: [string | undefined, string | undefined, string | undefined, string | undefined, boolean][] = [
        ["PASS", "PASS", "PASS", "PASS", true],
        ["PASS", "FAIL", "PASS", "PASS", true],
        ["FAIL", "PASS", "PASS", "PASS", true],
        ["FAIL", "FAIL", "PASS", "PASS", false],
        ["GRAY", "GRAY", "GRAY", "PASS", false],
        ["PASS", "PASS", "FAIL", "PASS", false],
        ["PASS", "PASS", "GRAY", "PASS", true],
        ["PASS", "PASS", "PROCESSING_FAILED", "PASS", true],
        ["PASS", "PASS", "PASS", "FAIL", false],
        ["PASS", "PASS", "PASS", "GRAY", true],
        ["PASS", "PASS", "PASS", "DISABLED", true],
        [undefined, "PASS", "PASS", "PASS", true],
        [undefined, undefined, "PASS", "PASS", false],
        ["PASS", "PASS", undefined, "PASS", false],
        ["PASS", "PASS", "PASS", undefined, false],
        ["PROCESSING_FAILED", "DISABLED", "PASS", "PASS", false],
    ];
    it.each(table)("SPF %s, DKIM %s, DMARC %s, virus %s → trusted %s", (spf, dkim, dmarc, virus, trusted) => {
        expect(mayLightTower({ from: "zabbix@zabbix.example.jp", verdicts: verdicts(spf, dkim, dmarc, virus), allowedSenders: ALLOWED }).trusted).toBe(trusted);
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
        expect(check.reasons).toEqual(expect.arrayContaining(["neither SPF nor DKIM passed (SPF missing, DKIM missing)", "DMARC verdict missing", "virus verdict missing"]));
    });

    it("lists failures first and also what passed", () => {
        const check = mayLightTower({ from: "zabbix@zabbix.example.jp", verdicts: verdicts("PASS", "FAIL", "FAIL", "PASS"), allowedSenders: ALLOWED });
        expect(check.reasons[0]).toBe("DMARC FAIL");
        expect(check.reasons).toContain('sender zabbix@zabbix.example.jp matches allowed "*@zabbix.example.jp"');
        expect(check.reasons).toContain("SPF PASS");
    });
});
