/** A DNS record SES receiving needs; written to Route 53 or handed to whoever runs the zone. */
export interface DnsRecord {
    readonly name: string;
    readonly type: "TXT" | "CNAME" | "MX";
    readonly value: string;
}

/** Domain verification, the three DKIM CNAMEs, and the MX that points the domain's mail at SES. */
export function sesDnsRecords(input: { domain: string; region: string; verificationToken: string; dkimTokens: readonly string[] }): DnsRecord[] {
    return [
        { name: `_amazonses.${input.domain}`, type: "TXT", value: input.verificationToken },
        ...input.dkimTokens.map((token): DnsRecord => ({ name: `${token}._domainkey.${input.domain}`, type: "CNAME", value: `${token}.dkim.amazonses.com` })),
        { name: input.domain, type: "MX", value: `10 inbound-smtp.${input.region}.amazonaws.com` },
    ];
}
