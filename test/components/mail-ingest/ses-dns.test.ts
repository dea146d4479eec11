import { DkimSigningAttributesOrigin } from "@aws-sdk/client-sesv2";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { SES_EASY_DKIM_DOMAINS, sesDkimDomain, sesDnsRecords } from "../../../components/mail-ingest/ses-dns";

/** The "Easy DKIM domains" table as transcribed in the contract fixture (test/fixtures/contracts/README.md). */
const table = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "fixtures", "contracts", "ses", "easy-dkim-domains.json"), "utf8")) as {
    regional: Record<string, string>;
    shared: { domain: string; regions: string[] };
};

const tokens = ["tok1", "tok2", "tok3"];

describe("Easy DKIM domain per region", () => {
    it("points the regions AWS lists with their own DKIM domain at dkim.<region>.amazonses.com", () => {
        for (const [region, domain] of Object.entries(table.regional)) {
            expect(domain).toBe(`dkim.${region}.amazonses.com`);
            expect(sesDkimDomain(region)).toBe(domain);
        }
    });

    it("points every other SES region at the shared dkim.amazonses.com", () => {
        for (const region of table.shared.regions) expect(sesDkimDomain(region)).toBe("dkim.amazonses.com");
    });

    it("knows exactly the regions of the documented table, no more", () => {
        expect(Object.keys(SES_EASY_DKIM_DOMAINS).sort()).toEqual([...Object.keys(table.regional), ...table.shared.regions].sort());
    });

    it("knows every region the SES SDK names for Easy DKIM (a new SES region fails here when the SDK is updated)", () => {
        const sdkRegions = Object.values(DkimSigningAttributesOrigin)
            .filter((origin) => origin.startsWith("AWS_SES_"))
            .map((origin) => origin.slice("AWS_SES_".length).toLowerCase().replace(/_/g, "-"));
        expect(sdkRegions.length).toBeGreaterThan(20);
        for (const region of sdkRegions) expect(() => sesDkimDomain(region), region).not.toThrow();
    });

    it("refuses a region it does not know, naming it, the config key and where to look it up", () => {
        expect(() => sesDkimDomain("xx-nowhere-1")).toThrow(/"xx-nowhere-1" \(aws:region\).*Easy DKIM domains.*ses\.html#ses_dkim_domains.*components\/mail-ingest\/ses-dns\.ts/);
        // Not an own property of the table, even though every object has it.
        expect(() => sesDkimDomain("constructor")).toThrow(/"constructor"/);
    });
});

describe("sesDnsRecords", () => {
    it("writes the DKIM CNAMEs to the region's own domain in ap-northeast-3 (Osaka)", () => {
        const records = sesDnsRecords({ domain: "alerts.example.jp", region: "ap-northeast-3", verificationToken: "verify", dkimTokens: tokens });
        expect(records.filter((r) => r.type === "CNAME")).toEqual(tokens.map((t) => ({ name: `${t}._domainkey.alerts.example.jp`, type: "CNAME", value: `${t}.dkim.ap-northeast-3.amazonses.com` })));
    });

    it("writes them to dkim.amazonses.com in ap-northeast-1 (Tokyo), with the verification TXT and the region's inbound MX", () => {
        expect(sesDnsRecords({ domain: "alerts.example.jp", region: "ap-northeast-1", verificationToken: "verify", dkimTokens: ["tok1"] })).toEqual([
            { name: "_amazonses.alerts.example.jp", type: "TXT", value: "verify" },
            { name: "tok1._domainkey.alerts.example.jp", type: "CNAME", value: "tok1.dkim.amazonses.com" },
            { name: "_dmarc.alerts.example.jp", type: "TXT", value: "v=DMARC1; p=none" },
            { name: "alerts.example.jp", type: "MX", value: "10 inbound-smtp.ap-northeast-1.amazonaws.com" },
        ]);
    });

    it("fails for an unknown region instead of writing records that never verify", () => {
        expect(() => sesDnsRecords({ domain: "alerts.example.jp", region: "xx-nowhere-1", verificationToken: "verify", dkimTokens: tokens })).toThrow(/xx-nowhere-1/);
    });
});
