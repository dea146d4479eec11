import { describe, expect, it, vi } from "vitest";
import { README_SITE } from "../functions/mail-ingest/routing-stacks";
import { evaluateProgram, WHOLE_STACK_TIMEOUT_MS } from "../harness/fresh-program";
import { readStackConfig } from "../../tools/offline/stack-files";
import { placeholderCommand } from "../../tools/offline/plan-format";

describe("a bad stack config fails the program with the key's name", () => {
    it("names a host used twice", async () => {
        await expect(evaluateProgram("dev", { "alertline:hosts": [{ name: "web" }, { name: "web" }] })).rejects.toThrow(
            'alertline:hosts[1].name "web" is used twice (also hosts[0]); give every host a unique name',
        );
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names a Slack channel without its #", async () => {
        await expect(evaluateProgram("dev", { "alertline:slack": { channel: "alerts-dev", datadogAccount: "acme" } })).rejects.toThrow(
            /alertline:slack\.channel "alerts-dev" must be a Slack channel/,
        );
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names a webhook secret that is not a Slack webhook, without printing it", async () => {
        const error = await evaluateProgram("dev", { "alertline:slackWebhookUrl": "https://example.com/not-slack-secret-token" }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toContain("alertline:slackWebhookUrl must be a Slack incoming-webhook URL");
        expect(error?.message).toContain("pulumi config set --secret alertline:slackWebhookUrl");
        expect(error?.message).not.toContain("not-slack-secret-token");
    }, WHOLE_STACK_TIMEOUT_MS);

    const SLACK_APP = { channel: "#alerts-dev", datadogAccount: "acme-monitoring", mode: "app", channelId: "C0123456789" };

    it("names a channel name given as slack.channelId in app mode, and where Slack shows the ID", async () => {
        await expect(evaluateProgram("dev", { "alertline:slack": { ...SLACK_APP, channelId: "#alerts-dev" } })).rejects.toThrow(
            /alertline:slack\.channelId "#alerts-dev" is a channel name, not its ID; .*copy the Channel ID at the bottom of the About tab/,
        );
    }, WHOLE_STACK_TIMEOUT_MS);

    it("fills the bot token, not the webhook, in app mode's offline plan, and says how to set it", () => {
        const app = readStackConfig("dev", { "alertline:slack": SLACK_APP });
        expect(app.placeholders).toContain("alertline:slackBotToken");
        expect(app.placeholders).not.toContain("alertline:slackWebhookUrl");
        expect(app.secretKeys).toContain("alertline:slackBotToken");
        expect(readStackConfig("dev").placeholders).toContain("alertline:slackWebhookUrl");
        expect(readStackConfig("dev").placeholders).not.toContain("alertline:slackBotToken");
        expect(placeholderCommand("alertline:slackBotToken", "dev")).toBe("pulumi config set --secret alertline:slackBotToken <value> --stack dev");
    });

    it("names a bot token that is not one, without printing it", async () => {
        const error = await evaluateProgram("dev", { "alertline:slack": SLACK_APP, "alertline:slackBotToken": "xoxp-pasted-user-token-secret" }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toContain("alertline:slackBotToken must be a Slack bot token starting with xoxb-");
        expect(error?.message).toContain("pulumi config set --secret alertline:slackBotToken");
        expect(error?.message).not.toContain("pasted-user-token-secret");
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names the JSM settings missing when the backend switches to jsm, and where to find them", async () => {
        const error = await evaluateProgram("dev", { "alertline:oncall": { backend: "jsm", team: "Ops Tokyo" } }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toMatch(/alertline:oncall\.cloudId is required: .*https:\/\/<your-site>\.atlassian\.net\/_edge\/tenant_info/);
        expect(error?.message).toMatch(/alertline:oncall\.email is required: .*alertline:jsmApiToken/);
    });

    it("names a JSM API token that cannot be one, without printing it", async () => {
        const oncall = { backend: "jsm", cloudId: "3a015c30-bac7-4abc-97a1-50c1feea188a", team: "Ops Tokyo", email: "oncall-bot@example.jp" };
        const error = await evaluateProgram("dev", { "alertline:oncall": oncall, "alertline:jsmApiToken": "pasted wrong" }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toContain("alertline:jsmApiToken must be an Atlassian API token");
        expect(error?.message).toContain("pulumi config set --secret alertline:jsmApiToken");
        expect(error?.message).not.toContain("pasted wrong");
    });

    it("refuses an unknown top-level setting", async () => {
        await expect(evaluateProgram("dev", { "alertline:host": [{ name: "web" }] })).rejects.toThrow(/alertline:host is not a known setting/);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names a rule that points at a tower no site has", async () => {
        await expect(evaluateProgram("dev", { "alertline:mailRules": "test/fixtures/rules/unknown-tower.yaml" })).rejects.toThrow(
            'alertline:mailRules test/fixtures/rules/unknown-tower.yaml: rule "osaka-only" names tower "osaka-ops", which no site in alertline:sites has (towers: dev-desk)',
        );
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names a rule that points at a site the stack does not have", async () => {
        await expect(evaluateProgram("dev", { "alertline:mailRules": "test/fixtures/rules/unknown-site.yaml" })).rejects.toThrow(
            'alertline:mailRules test/fixtures/rules/unknown-site.yaml: rule "nagoya-alerts" names site "nagoya-office", which alertline:sites does not have (sites: tokyo-office)',
        );
    }, WHOLE_STACK_TIMEOUT_MS);

    it("goes ahead, warning by name, for a site added with no rule routing to it (the README's site entry alone)", async () => {
        const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
        try {
            const sites = [...JSON.parse(readStackConfig("dev").config["alertline:sites"]), README_SITE];
            const evaluation = await evaluateProgram("dev", { "alertline:sites": sites });
            expect(evaluation.engine.registrations.some((r) => r.name === "site-nagoya-office")).toBe(true);
            // pulumi.log.warn without an engine (the offline plan) writes to stderr; `pulumi preview` shows it as a warning.
            const warnings = warn.mock.calls.map((call) => String(call[0])).filter((line) => line.includes("alertline:mailRules"));
            expect(warnings).toEqual([expect.stringMatching(/^warning: \[runtime\] alertline:mailRules functions\/mail-ingest\/rules\/dev\.yaml: site "nagoya-office" \(towers nagoya-ops\): no critical, warning or info rule routes mail to it/)]);
        } finally {
            warn.mockRestore();
        }
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names a rule whose regex does not compile", async () => {
        await expect(evaluateProgram("dev", { "alertline:mailRules": "test/fixtures/rules/bad-regex.yaml" })).rejects.toThrow(/alertline:mailRules test\/fixtures\/rules\/bad-regex\.yaml: .*broken.*\(unclosed/);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("refuses a rule needing a backtracking engine, naming the rule, the field, the reason and what to write", async () => {
        const failure = evaluateProgram("dev", { "alertline:mailRules": "test/fixtures/rules/backtracking.yaml" });
        await expect(failure).rejects.toThrow(/alertline:mailRules test\/fixtures\/rules\/backtracking\.yaml: .*rules\[0\] \("zabbix-not-ok"\)\.subject: the regular expression \/\^\(\?!OK\)Problem\/ uses a negative lookahead/);
        await expect(failure).rejects.toThrow(/rules\[0\] \("zabbix-not-ok"\)\.key\.body: .*lookbehind .*instead of/);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names a site network that overlaps the VPC", async () => {
        await expect(
            evaluateProgram("dev", {
                "alertline:sites": [{ name: "tokyo-office", cidr: "10.20.5.0/24", customerGateway: { ip: "203.0.113.10" }, towers: [{ name: "dev-desk", host: "10.20.5.9", protocol: "pns" }] }],
            }),
        ).rejects.toThrow(/alertline:sites\[0\]\.cidr "10\.20\.5\.0\/24" overlaps the VPC \(10\.20\.0\.0\/16\)/);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names a region without a known Easy DKIM domain, and where to look it up", async () => {
        await expect(evaluateProgram("dev", { "aws:region": "xx-nowhere-1" })).rejects.toThrow(
            /DKIM domain of region "xx-nowhere-1" \(aws:region\).*docs\.aws\.amazon\.com\/general\/latest\/gr\/ses\.html#ses_dkim_domains/,
        );
    }, WHOLE_STACK_TIMEOUT_MS);
    it("names a site whose BGP AS number the router cannot take, with the router's range", async () => {
        await expect(
            evaluateProgram("dev", {
                "alertline:sites": [{ name: "nagoya-office", cidr: "192.168.30.0/24", customerGateway: { ip: "203.0.113.30", bgpAsn: 4200000000 }, towers: [{ name: "dev-desk", host: "192.168.30.9", protocol: "pns" }] }],
            }),
        ).rejects.toThrow(/alertline:sites\[0\]\.customerGateway\.bgpAsn.*1 to 65535/);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names a tower host that is a shell command, instead of ipaddr's message without a key", async () => {
        const error = await evaluateProgram("dev", {
            "alertline:sites": [{ name: "tokyo-office", cidr: "192.168.10.0/24", customerGateway: { ip: "203.0.113.10" }, router: { model: "rtx830" }, towers: [{ name: "dev-desk", host: "127.0.0.1; rm -rf /", protocol: "pns" }] }],
        }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toContain('alertline:sites[0].towers[0].host "127.0.0.1; rm -rf /" must be an IPv4 address such as 192.168.10.50');
        expect(error?.message).not.toContain("ipaddr");
    }, WHOLE_STACK_TIMEOUT_MS);

    it("refuses at plan time a sender glob picomatch would throw for at run time, with the limit and the fix", async () => {
        const long = `*@${"x".repeat(70_000)}.example.jp`;
        await expect(
            evaluateProgram("dev", { "alertline:mail": { domain: "alerts-dev.example.jp", recipient: "patlite", allowedSenders: ["*@zabbix.example.jp", long] } }),
        ).rejects.toThrow(/alertline:mail\.allowedSenders\[1\] .* is 70013 characters; a sender glob may have at most 254 .*shorten it/);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("names a mail-ingest concurrency of 0 and says what to write", async () => {
        await expect(evaluateProgram("dev", { "alertline:mail": { domain: "alerts-dev.example.jp", recipient: "patlite", reservedConcurrency: 0 } })).rejects.toThrow(
            /alertline:mail\.reservedConcurrency 0 must be a whole number from 1 to 50 .*or false for no reservation/,
        );
    }, WHOLE_STACK_TIMEOUT_MS);
});
