/** A DNS record SES receiving needs; written to Route 53 or handed to whoever runs the zone. */
export interface DnsRecord {
    readonly name: string;
    readonly type: "TXT" | "CNAME" | "MX";
    readonly value: string;
}

/**
 * Where each region's Easy DKIM CNAMEs point: `<token>._domainkey.<domain>` is a CNAME to
 * `<token>.<this domain>`. Most regions share `dkim.amazonses.com`; the regions listed with
 * `dkim.<region>.amazonses.com` need their own, and a CNAME to the shared domain there never
 * verifies (the domain stays "pending" and mail is not DKIM-signed for it).
 *
 * Source: AWS General Reference, "Amazon Simple Email Service endpoints and quotas", table
 * "Easy DKIM domains" (https://docs.aws.amazon.com/general/latest/gr/ses.html#ses_dkim_domains),
 * as transcribed by public Terraform modules that link it; the set of regions is the one SES's
 * SDK knows for Deterministic Easy DKIM (`AWS_SES_<REGION>` in @aws-sdk/client-sesv2's
 * `DkimSigningAttributesOrigin`). A region missing here is refused rather than guessed.
 * Unconfirmed against the page itself (not readable here): after a deploy, SES's own answer is
 * `aws sesv2 get-email-identity --email-identity <domain>` → `DkimAttributes.SigningHostedZone`.
 */
export const SES_EASY_DKIM_DOMAINS: Readonly<Record<string, string>> = {
    "us-east-1": "dkim.amazonses.com",
    "us-east-2": "dkim.amazonses.com",
    "us-west-1": "dkim.amazonses.com",
    "us-west-2": "dkim.amazonses.com",
    "af-south-1": "dkim.af-south-1.amazonses.com",
    "ap-northeast-1": "dkim.amazonses.com",
    "ap-northeast-2": "dkim.amazonses.com",
    "ap-northeast-3": "dkim.ap-northeast-3.amazonses.com",
    "ap-south-1": "dkim.amazonses.com",
    "ap-south-2": "dkim.ap-south-2.amazonses.com",
    "ap-southeast-1": "dkim.amazonses.com",
    "ap-southeast-2": "dkim.amazonses.com",
    "ap-southeast-3": "dkim.ap-southeast-3.amazonses.com",
    "ap-southeast-5": "dkim.ap-southeast-5.amazonses.com",
    "ca-central-1": "dkim.amazonses.com",
    "ca-west-1": "dkim.ca-west-1.amazonses.com",
    "eu-central-1": "dkim.amazonses.com",
    "eu-central-2": "dkim.eu-central-2.amazonses.com",
    "eu-north-1": "dkim.amazonses.com",
    "eu-south-1": "dkim.eu-south-1.amazonses.com",
    "eu-west-1": "dkim.amazonses.com",
    "eu-west-2": "dkim.amazonses.com",
    "eu-west-3": "dkim.amazonses.com",
    "il-central-1": "dkim.il-central-1.amazonses.com",
    "me-central-1": "dkim.me-central-1.amazonses.com",
    "me-south-1": "dkim.amazonses.com",
    "sa-east-1": "dkim.amazonses.com",
    "us-gov-east-1": "dkim.us-gov-east-1.amazonses.com",
    "us-gov-west-1": "dkim.amazonses.com",
};

/** Where the table above comes from, for error messages. */
export const SES_EASY_DKIM_SOURCE = "https://docs.aws.amazon.com/general/latest/gr/ses.html#ses_dkim_domains";

/**
 * The Easy DKIM domain of `region`; throws, naming the region and where to look it up, for a
 * region the table does not know (SES not offered there, or newer than this table).
 */
export function sesDkimDomain(region: string): string {
    const domain = Object.prototype.hasOwnProperty.call(SES_EASY_DKIM_DOMAINS, region) ? SES_EASY_DKIM_DOMAINS[region] : undefined;
    if (domain === undefined) {
        throw new Error(
            `SES Easy DKIM: alertline does not know the DKIM domain of region ${JSON.stringify(region)} (aws:region). ` +
                `Check that SES is offered there and look the region up in the "Easy DKIM domains" table (${SES_EASY_DKIM_SOURCE}), ` +
                `then add it to SES_EASY_DKIM_DOMAINS in components/mail-ingest/ses-dns.ts`,
        );
    }
    return domain;
}

/**
 * DMARC record of the mail domain. mail-ingest trusts the canary (sent by SES from this domain,
 * DKIM-signed for it and for amazonses.com, with an amazonses.com envelope) only on DMARC PASS:
 * without a policy SES's verdict is GRAY and neither the envelope nor every signature is aligned.
 * `p=none` asks receivers for nothing but gives a verdict (RFC 7489 §6.3).
 */
export const MAIL_DOMAIN_DMARC = "v=DMARC1; p=none";

/** Domain verification, the three DKIM CNAMEs (to the region's Easy DKIM domain), the domain's DMARC policy, and the MX that points the domain's mail at SES. */
export function sesDnsRecords(input: { domain: string; region: string; verificationToken: string; dkimTokens: readonly string[] }): DnsRecord[] {
    const dkimDomain = sesDkimDomain(input.region);
    return [
        { name: `_amazonses.${input.domain}`, type: "TXT", value: input.verificationToken },
        ...input.dkimTokens.map((token): DnsRecord => ({ name: `${token}._domainkey.${input.domain}`, type: "CNAME", value: `${token}.${dkimDomain}` })),
        { name: `_dmarc.${input.domain}`, type: "TXT", value: MAIL_DOMAIN_DMARC },
        { name: input.domain, type: "MX", value: `10 inbound-smtp.${input.region}.amazonaws.com` },
    ];
}
