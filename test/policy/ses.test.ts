import { describe, expect, it } from "vitest";
import { keys, resource, unknown, verdicts, verdictsOf } from "./registrations";

const RULE = "aws:ses/receiptRule:ReceiptRule";
const rule = (name: string, extra: Record<string, unknown>) =>
    resource(RULE, name, { name, ruleSetName: "alertline-test", recipients: ["patlite@example.jp"], enabled: true, tlsPolicy: "Require", scanEnabled: true, ...extra });

describe("ses-receipt-rule-tls-and-scan", () => {
    it("passes a rule that requires TLS and scans", () => {
        expect(verdicts(rule("good", {}))).toEqual([]);
    });

    it("flags Optional TLS, unset TLS (Optional by default), and disabled or unset scanning, each naming the setting", () => {
        const found = verdictsOf(
            "ses-receipt-rule-tls-and-scan",
            rule("optional", { tlsPolicy: "Optional" }),
            rule("tls-unset", { tlsPolicy: undefined }),
            rule("no-scan", { scanEnabled: false }),
            rule("scan-unset", { scanEnabled: undefined }),
        );
        expect(keys(found)).toEqual(["no-scan", "optional", "scan-unset", "tls-unset"].map((n) => `ses-receipt-rule-tls-and-scan ${RULE} ${n} mandatory`));
        const byName = Object.fromEntries(found.map((v) => [v.name, v.message]));
        expect(byName.optional).toContain('tlsPolicy is "Optional"');
        expect(byName.optional).not.toContain("scanEnabled");
        expect(byName["no-scan"]).toContain("set scanEnabled: true");
    });

    it("reports the TLS problem even while scanEnabled is not known, then says it could not finish", () => {
        const found = verdictsOf("ses-receipt-rule-tls-and-scan", rule("mixed", { tlsPolicy: "Optional", scanEnabled: unknown() }));
        expect(found.map((v) => v.level)).toEqual(["mandatory", "advisory"]);
        expect(found[0].message).toContain("tlsPolicy");
    });
});
