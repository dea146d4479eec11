import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isUnknown, resourcePolicy, show } from "./props";

/** Inbound mail: SES receipt rules accept only TLS connections and scan every message. */

export const sesReceiptRuleTlsAndScan = resourcePolicy({
    name: "ses-receipt-rule-tls-and-scan",
    description: "SES receipt rules require TLS (tlsPolicy Require) and scan mail for spam and viruses (scanEnabled).",
    types: ["aws:ses/receiptRule:ReceiptRule"],
    check: (props, reader, { name }) => {
        const problems: string[] = [];
        const tls = reader.need(props, "tlsPolicy");
        if (!isUnknown(tls) && (typeof tls !== "string" || tls.toLowerCase() !== "require")) {
            problems.push(`tlsPolicy is ${show(tls, "Optional")}: set tlsPolicy: "Require" so mail sent without TLS bounces`);
        }
        const scan = reader.need(props, "scanEnabled");
        if (scan !== true && !isUnknown(scan)) {
            problems.push(`scanEnabled is ${show(scan, "false")}: set scanEnabled: true so every message gets spam and virus verdicts`);
        }
        return problems.length === 0 ? [] : [`SES receipt rule "${name}": ${problems.join("; ")}.`];
    },
});

export const sesPolicies: ResourceValidationPolicy[] = [sesReceiptRuleTlsAndScan];
