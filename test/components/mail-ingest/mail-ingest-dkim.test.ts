import { describe, expect, it } from "vitest";
import { MailIngest } from "../../../components/mail-ingest/mail-ingest";
import { recordResources } from "../../harness/record";
import { mailIngestArgs } from "./mail-ingest-args";

/** MailIngest's DNS records in a stack whose aws:region is `region` (the mock engine answers getRegion with it). */
async function dnsRecordsIn(region: string, hostedZoneId?: string) {
    let records: unknown;
    const args = mailIngestArgs();
    const engine = await recordResources(
        () => {
            const mail = new MailIngest("mail", { ...args, mail: { ...args.mail, hostedZoneId } });
            mail.dnsRecordsToAdd.apply((r) => (records = r));
        },
        { region },
    );
    return { engine, records: records as { name: string; type: string; value: string }[] };
}

describe("MailIngest DKIM records follow the stack's region", () => {
    it("outputs CNAMEs to dkim.il-central-1.amazonses.com in il-central-1", async () => {
        const { records } = await dnsRecordsIn("il-central-1");
        const cnames = records.filter((r) => r.type === "CNAME");
        expect(cnames).toHaveLength(3);
        for (const cname of cnames) expect(cname.value).toMatch(/^[a-z]+\.dkim\.il-central-1\.amazonses\.com$/);
        expect(records).toContainEqual({ name: "alerts.example.jp", type: "MX", value: "10 inbound-smtp.il-central-1.amazonaws.com" });
    }, 120_000); // the first MailIngest in a run bundles its functions with esbuild: about 10 s on a busy machine

    it("writes the same targets to Route 53 when the stack has a hosted zone", async () => {
        const { engine } = await dnsRecordsIn("ap-northeast-3", "Z0123456789ABC");
        const dkim = engine.ofType("aws:route53/record:Record").filter((r) => r.inputs.type === "CNAME");
        expect(dkim.map((r) => (r.inputs.records as string[])[0]).sort()).toEqual([
            "dkimtokenone.dkim.ap-northeast-3.amazonses.com",
            "dkimtokenthree.dkim.ap-northeast-3.amazonses.com",
            "dkimtokentwo.dkim.ap-northeast-3.amazonses.com",
        ]);
    }, 120_000);
});
