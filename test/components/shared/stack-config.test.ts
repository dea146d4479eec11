import { describe, expect, it } from "vitest";
import { ConfigError, decodeConfigValue, jsmOnCall, onCallBackends, opsgenieOnCall, parseSettings, rawSettings, requiredSecrets, RETIRED_SECRETS, SECRETS } from "../../../components/shared/stack-config";

const valid = {
    environment: "dev",
    slack: { channel: "#alerts-dev", datadogAccount: "acme-monitoring" },
    oncall: { backend: "opsgenie", team: "alertline-dev" },
    hosts: [{ name: "web" }],
};

const JSM = { backend: "jsm" as const, cloudId: "3a015c30-bac7-4abc-97a1-50c1feea188a", team: "Ops Tokyo", email: "oncall-bot@example.jp" };

function problems(raw: Record<string, unknown>): string[] {
    try {
        parseSettings(raw);
    } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
    }
    throw new Error("expected a ConfigError");
}

describe("parseSettings", () => {
    it("fills documented defaults for a host and the network", () => {
        const settings = parseSettings(valid);
        expect(settings.hosts[0]).toEqual({ name: "web", instanceType: "t3.small", processes: ["chronyd", "sshd"], cpuThresholdPercent: 80, rootVolumeGiB: 20 });
        expect(settings.network).toEqual({ cidr: "10.20.0.0/16", availabilityZones: 2, natGateways: "Single", vpnGatewayAsn: 64512 });
        expect(settings.oncall).toEqual({ backend: "opsgenie", region: "us", team: "alertline-dev" });
        expect(settings.logRetentionDays).toBe(30);
    });

    it("turns the canary and the tower probe on by default, and refuses a heartbeat that one late canary would trip", () => {
        const settings = parseSettings(valid);
        expect(settings.canary).toEqual({ enabled: true, intervalMinutes: 10, heartbeatMinutes: 30 });
        expect(settings.towerProbe).toEqual({ enabled: true, intervalMinutes: 5, alarmAfterMisses: 3 });
        expect(problems({ ...valid, canary: { intervalMinutes: 20, heartbeatMinutes: 30 } })).toEqual([
            "alertline:canary.heartbeatMinutes 30 must be at least twice intervalMinutes, so one late or lost canary does not page on-call",
        ]);
    });

    it("names a duplicated host by its key and index", () => {
        const found = problems({ ...valid, hosts: [{ name: "db" }, { name: "web" }, { name: "web" }] });
        expect(found).toEqual(['alertline:hosts[2].name "web" is used twice (also hosts[1]); give every host a unique name']);
    });

    it("reports every problem at once, each with its key", () => {
        const found = problems({
            ...valid,
            slack: { channel: "alerts" },
            logRetentionDays: 31,
            network: { natGateways: "Two" },
        });
        expect(found).toHaveLength(4);
        expect(found).toContain('alertline:slack.channel "alerts" must be a Slack channel such as "#alerts-dev" (lowercase, with the leading #)');
        expect(found.find((p) => p.startsWith("alertline:slack.datadogAccount is required"))).toBeDefined();
        expect(found.find((p) => p.startsWith("alertline:logRetentionDays 31 must be one of CloudWatch's retention periods"))).toBeDefined();
        expect(found).toContain('alertline:network.natGateways "Two" must be one of None, Single, OnePerAz');
    });

    it("points out a misspelt setting and lists the known ones", () => {
        const [problem] = problems({ ...valid, hosts: [{ name: "web", procesess: ["nginx"] }] });
        expect(problem).toMatch(/^alertline:hosts\[0\]\.procesess is not a known setting; known settings here: name, instanceType, processes,/);
    });

    it("rejects a process name that could break out of the Agent's YAML", () => {
        const [problem] = problems({ ...valid, hosts: [{ name: "web", processes: ["nginx; rm -rf /"] }] });
        expect(problem).toMatch(/^alertline:hosts\[0\]\.processes\[0\] "nginx; rm -rf \/" must be a process name/);
    });

    it("rejects an on-call backend other than opsgenie or jsm, mentioning Opsgenie's end of support", () => {
        const [problem] = problems({ ...valid, oncall: { backend: "pagerduty", team: "x" } });
        expect(problem).toContain("alertline:oncall.backend");
        expect(problem).toContain("2027-04-05");
    });

    it("accepts jsm with its cloud ID, team and account e-mail, and without an Opsgenie region", () => {
        expect(parseSettings({ ...valid, oncall: JSM }).oncall).toEqual(JSM);
    });

    it("names each missing JSM setting and where in Atlassian's admin to find it", () => {
        const found = problems({ ...valid, oncall: { backend: "jsm" } });
        expect(found).toHaveLength(3);
        expect(found.find((p) => p.startsWith("alertline:oncall.cloudId is required"))).toContain("https://<your-site>.atlassian.net/_edge/tenant_info");
        expect(found.find((p) => p.startsWith("alertline:oncall.team is required"))).toContain("Operations → Teams");
        expect(found.find((p) => p.startsWith("alertline:oncall.email is required"))).toContain("alertline:jsmApiToken");
    });

    it("refuses a cloud ID that is not a UUID, a team name with control characters and an address without @", () => {
        const found = problems({ ...valid, oncall: { ...JSM, cloudId: "mysite.atlassian.net", team: "ops\nteam", email: "ops.example.jp" } });
        expect(found).toEqual([
            expect.stringMatching(/^alertline:oncall\.cloudId "mysite\.atlassian\.net" must be the site's cloud ID, a UUID: open https:\/\/<your-site>\.atlassian\.net\/_edge\/tenant_info/),
            expect.stringMatching(/^alertline:oncall\.team "ops\\nteam" must be the name of a JSM operations team/),
            expect.stringMatching(/^alertline:oncall\.email "ops\.example\.jp" must be an e-mail address: .*id\.atlassian\.com/),
        ]);
    });

    describe("oncall.createTeam: alertline creates the JSM team", () => {
        const CREATE = { organizationId: "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", domainName: "example.atlassian.net", members: ["712020:aki", "5b10ac8d82e05b22cc7d4ef5"] };

        it("is accepted with jsm and in the window, MEMBER_INVITE by default, and jsmOnCall passes it on", () => {
            const alone = parseSettings({ ...valid, oncall: { ...JSM, createTeam: CREATE } }).oncall;
            expect(jsmOnCall(alone)).toEqual({ cloudId: JSM.cloudId, team: JSM.team, email: JSM.email, createTeam: { ...CREATE, teamType: "MEMBER_INVITE" } });
            const dual = { backend: ["opsgenie", "jsm"], team: "alertline-oncall", jsmTeam: "alertline-oncall (jsm)", cloudId: JSM.cloudId, email: JSM.email, createTeam: { ...CREATE, teamType: "OPEN" } };
            expect(jsmOnCall(parseSettings({ ...valid, oncall: dual }).oncall)).toMatchObject({ team: "alertline-oncall (jsm)", createTeam: { teamType: "OPEN" } });
        });

        it("is refused under opsgenie alone", () => {
            const [problem] = problems({ ...valid, oncall: { backend: "opsgenie", team: "alertline-dev", createTeam: CREATE } });
            expect(problem).toMatch(/^alertline:oncall\.createTeam is not a known setting/);
        });

        it("names each missing or bad value and where in Atlassian's admin to find it", () => {
            const missing = problems({ ...valid, oncall: { ...JSM, createTeam: {} } });
            expect(missing.find((p) => p.startsWith("alertline:oncall.createTeam.organizationId"))).toContain("admin.atlassian.com/o/<organizationId>");
            expect(missing.find((p) => p.startsWith("alertline:oncall.createTeam.domainName"))).toContain("example.atlassian.net");
            expect(missing.find((p) => p.startsWith("alertline:oncall.createTeam.members"))).toContain("/jira/people/<accountId>");
            const bad = problems({ ...valid, oncall: { ...JSM, createTeam: { ...CREATE, domainName: "https://example.atlassian.net/", members: ["aki@example.jp"], teamType: "PRIVATE" } } });
            expect(bad).toEqual([
                expect.stringMatching(/^alertline:oncall\.createTeam\.domainName .*must be a host name/),
                expect.stringMatching(/^alertline:oncall\.createTeam\.members\[0\] .*must be an Atlassian account id: open the person's profile/),
                expect.stringMatching(/^alertline:oncall\.createTeam\.teamType .*must be OPEN/),
            ]);
            expect(problems({ ...valid, oncall: { ...JSM, createTeam: { ...CREATE, members: [] } } })[0]).toMatch(/members .*at least one member/);
            expect(problems({ ...valid, oncall: { ...JSM, createTeam: { ...CREATE, admins: [] } } })[0]).toMatch(/^alertline:oncall\.createTeam\.admins is not a known setting/);
        });
    });

    it("refuses the Opsgenie region under jsm, naming the known settings", () => {
        const [problem] = problems({ ...valid, oncall: { ...JSM, region: "eu" } });
        expect(problem).toMatch(/^alertline:oncall\.region is not a known setting; known settings here: .*cloudId.*email/);
    });
});

describe("parseSettings: alertline:slack.mode", () => {
    const APP = { channel: "#alerts-dev", datadogAccount: "acme-monitoring", mode: "app", channelId: "C0123456789" };

    it("is webhook by default, with nothing of app mode in the settings", () => {
        expect(parseSettings(valid).slack).toEqual({ channel: "#alerts-dev", datadogAccount: "acme-monitoring", mode: "webhook" });
    });

    it("takes app mode with the channel ID, and a thread age of 24 hours unless set", () => {
        expect(parseSettings({ ...valid, slack: APP }).slack).toEqual({ ...APP, threadMaxAgeHours: 24 });
        expect(parseSettings({ ...valid, slack: { ...APP, channelId: "G01AB2CD3EF", threadMaxAgeHours: 168 } }).slack).toMatchObject({ channelId: "G01AB2CD3EF", threadMaxAgeHours: 168 });
    });

    it("asks for the channel ID in app mode and says where Slack shows it", () => {
        const [problem, ...rest] = problems({ ...valid, slack: { ...APP, channelId: undefined } });
        expect(rest).toEqual([]);
        expect(problem).toMatch(/^alertline:slack\.channelId is required with alertline:slack\.mode app .*copy the Channel ID at the bottom of the About tab/);
    });

    it("refuses a channel name where the ID belongs, a lowercase ID and anything else, each saying what to copy", () => {
        const found = (channelId: string) => problems({ ...valid, slack: { ...APP, channelId } });
        expect(found("#ops")).toEqual([expect.stringMatching(/^alertline:slack\.channelId "#ops" is a channel name, not its ID; the bot posts by ID: open the channel in Slack, click its name/)]);
        expect(found("alerts-dev")[0]).toMatch(/"alerts-dev" is a channel name, not its ID/);
        expect(found("c0123456789")[0]).toMatch(/"c0123456789" must be written in uppercase as Slack shows it/);
        expect(found("U0123456789")[0]).toMatch(/"U0123456789" must be a Slack channel ID, C or G followed by uppercase letters and digits/);
        expect(found("C012")[0]).toMatch(/"C012" must be a Slack channel ID/);
    });

    it("refuses a thread age outside 1–168 whole hours, and a mode it does not know", () => {
        expect(problems({ ...valid, slack: { ...APP, threadMaxAgeHours: 0 } })).toEqual(["alertline:slack.threadMaxAgeHours 0 must be from 1 to 168 hours"]);
        expect(problems({ ...valid, slack: { ...APP, threadMaxAgeHours: 169 } })).toEqual(["alertline:slack.threadMaxAgeHours 169 must be from 1 to 168 hours (one week)"]);
        expect(problems({ ...valid, slack: { ...APP, threadMaxAgeHours: 1.5 } })).toEqual(["alertline:slack.threadMaxAgeHours 1.5 must be a whole number of hours"]);
        expect(problems({ ...valid, slack: { ...APP, mode: "bot" } })[0]).toMatch(/^alertline:slack\.mode "bot" must be webhook .* or app/);
    });

    it("refuses the app-mode settings in webhook mode instead of ignoring them", () => {
        expect(problems({ ...valid, slack: { ...valid.slack, channelId: "C0123456789", threadMaxAgeHours: 12 } })).toEqual([
            'alertline:slack.channelId "C0123456789" is read only with alertline:slack.mode app: set mode: app, or remove it',
            "alertline:slack.threadMaxAgeHours 12 is read only with alertline:slack.mode app: set mode: app, or remove it",
        ]);
    });

    it("names a misspelt Slack setting with the known ones, the new ones among them", () => {
        expect(problems({ ...valid, slack: { ...APP, channelID: "C0123456789" } })).toContainEqual(
            expect.stringMatching(/^alertline:slack\.channelID is not a known setting; known settings here: channel, datadogAccount, mode, channelId, threadMaxAgeHours$/),
        );
    });

    it("asks for the bot token instead of the webhook in app mode, and the webhook otherwise", () => {
        const app = parseSettings({ ...valid, slack: APP });
        expect(requiredSecrets(app).map((s) => s.key)).toEqual(["alertline:slackBotToken", "alertline:opsgenieApiKey", "datadog:apiKey", "datadog:appKey"]);
        expect(requiredSecrets(parseSettings(valid)).map((s) => s.key)).toEqual(["alertline:slackWebhookUrl", "alertline:opsgenieApiKey", "datadog:apiKey", "datadog:appKey"]);
    });

    it("checks the bot token's shape: a bot token, not a user, app-level or webhook credential", () => {
        expect(SECRETS.slackBotToken.check("xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")).toBeUndefined();
        for (const wrong of ["xoxp-1234567890-1234567890123-abc", "xapp-1-A0123-1234567890-abcdef", "https://hooks.slack.com/services/T0/B0/x", "xoxb-short", " xoxb-1234567890-1234567890123-abc"]) {
            expect(SECRETS.slackBotToken.check(wrong)).toMatch(/must be a Slack bot token starting with xoxb- \(the Bot User OAuth Token under OAuth & Permissions/);
        }
    });

    it("keeps the bot token out of the settings like every secret", () => {
        expect(rawSettings({ "alertline:slackBotToken": "xoxb-1234567890-1234567890123-abc", "alertline:logRetentionDays": "14" }, "dev")).toEqual({ environment: "dev", logRetentionDays: 14 });
    });
});

describe("parseSettings: the migration window, oncall.backend [opsgenie, jsm]", () => {
    const DUAL = { backend: ["opsgenie", "jsm"], region: "eu", team: "alertline-oncall", cloudId: JSM.cloudId, email: JSM.email };

    it("accepts both backends' settings, in either order, Opsgenie first", () => {
        expect(parseSettings({ ...valid, oncall: { ...DUAL, backend: ["jsm", "opsgenie"] } }).oncall).toEqual(DUAL);
        expect(onCallBackends(parseSettings({ ...valid, oncall: DUAL }).oncall)).toEqual(["opsgenie", "jsm"]);
    });

    it("gives JSM the Opsgenie team's name unless jsmTeam names another (the migration keeps names, or makes a second team when one is taken)", () => {
        const same = parseSettings({ ...valid, oncall: DUAL }).oncall;
        const other = parseSettings({ ...valid, oncall: { ...DUAL, jsmTeam: "alertline-oncall (migrated)" } }).oncall;
        expect([opsgenieOnCall(same), jsmOnCall(same)]).toEqual([
            { region: "eu", team: "alertline-oncall" },
            { cloudId: JSM.cloudId, team: "alertline-oncall", email: JSM.email },
        ]);
        expect(jsmOnCall(other)?.team).toBe("alertline-oncall (migrated)");
        expect(opsgenieOnCall(other)?.team).toBe("alertline-oncall");
    });

    it("keeps the single forms' parts apart", () => {
        expect([opsgenieOnCall(parseSettings(valid).oncall), jsmOnCall(parseSettings(valid).oncall)]).toEqual([{ region: "us", team: "alertline-dev" }, undefined]);
        expect([opsgenieOnCall(JSM), jsmOnCall(JSM)]).toEqual([undefined, { cloudId: JSM.cloudId, team: JSM.team, email: JSM.email }]);
    });

    it("refuses a list that is not both backends once each", () => {
        for (const backend of [["opsgenie"], ["jsm", "jsm"], ["opsgenie", "jsm", "jsm"], []]) {
            expect(problems({ ...valid, oncall: { ...DUAL, backend } })).toContainEqual(expect.stringMatching(/^alertline:oncall\.backend must be \[opsgenie, jsm\] for the migration window/));
        }
        expect(problems({ ...valid, oncall: { ...DUAL, backend: ["opsgenie", "pagerduty"] } })[0]).toMatch(/^alertline:oncall\.backend\[1\] "pagerduty" must list opsgenie and jsm/);
    });

    it("names each missing JSM setting of the window and where in Atlassian's admin to find it", () => {
        const found = problems({ ...valid, oncall: { backend: ["opsgenie", "jsm"], team: "alertline-oncall" } });
        expect(found).toHaveLength(2);
        expect(found.find((p) => p.startsWith("alertline:oncall.cloudId is required"))).toContain("https://<your-site>.atlassian.net/_edge/tenant_info");
        expect(found.find((p) => p.startsWith("alertline:oncall.email is required"))).toContain("alertline:jsmApiToken");
    });

    it("checks jsmTeam as a JSM team name and names a misspelt setting with the window's known ones", () => {
        expect(problems({ ...valid, oncall: { ...DUAL, jsmTeam: " ops" } })[0]).toMatch(/^alertline:oncall\.jsmTeam " ops" must not start or end with spaces: .*Operations → Teams/);
        expect(problems({ ...valid, oncall: { ...DUAL, jsmteam: "ops" } })[0]).toMatch(/^alertline:oncall\.jsmteam is not a known setting; known settings here: .*jsmTeam/);
    });

    it("asks for both backends' secrets in the window", () => {
        const mail = parseSettings({ ...valid, mail: { domain: "alerts.example.jp", recipient: "patlite" }, mailRules: "functions/mail-ingest/rules/dev.yaml" }).mail;
        const oncall = parseSettings({ ...valid, oncall: DUAL }).oncall;
        expect(requiredSecrets({ oncall, mail }).map((s) => s.key)).toEqual([
            "alertline:slackWebhookUrl",
            "alertline:opsgenieApiKey",
            "alertline:jsmApiToken",
            "datadog:apiKey",
            "datadog:appKey",
        ]);
    });
});

describe("decodeConfigValue", () => {
    it("parses structured values Pulumi passes as JSON and keeps plain strings", () => {
        expect(decodeConfigValue('[{"name":"web"}]')).toEqual([{ name: "web" }]);
        expect(decodeConfigValue("14")).toBe(14);
        expect(decodeConfigValue("dev")).toBe("dev");
    });
});

describe("requiredSecrets", () => {
    it("asks for the Opsgenie key with opsgenie, and with jsm only the Atlassian API token (the stack creates JSM's integrations)", () => {
        const opsgenie = requiredSecrets({ oncall: { backend: "opsgenie", region: "eu", team: "t" }, mail: undefined }).map((s) => s.key);
        const jsm = requiredSecrets({ oncall: JSM, mail: undefined }).map((s) => s.key);
        expect(opsgenie).toContain("alertline:opsgenieApiKey");
        expect(opsgenie).not.toContain("alertline:jsmApiToken");
        expect(jsm).toEqual(["alertline:slackWebhookUrl", "alertline:jsmApiToken", "datadog:apiKey", "datadog:appKey"]);
    });

    it("asks for the Atlassian API token whenever the backend is jsm, with or without mail", () => {
        const mail = parseSettings({ ...valid, mail: { domain: "alerts.example.jp", recipient: "patlite" }, mailRules: "functions/mail-ingest/rules/dev.yaml" }).mail;
        expect(requiredSecrets({ oncall: JSM, mail: undefined }).map((s) => s.key)).toContain("alertline:jsmApiToken");
        expect(requiredSecrets({ oncall: JSM, mail }).map((s) => s.key)).toContain("alertline:jsmApiToken");
    });

    it("checks the API token's shape and says where to create one", () => {
        expect(SECRETS.jsmApiToken.check("ATATT3xFfGF0abcdefghijklmnop")).toBeUndefined();
        expect(SECRETS.jsmApiToken.check("short")).toContain("https://id.atlassian.com/manage-profile/security/api-tokens");
        expect(SECRETS.jsmApiToken.check("has a space in it 0123456789")).toBeDefined();
    });

    it("asks for no JSM integration key with mail either, and takes a key left over from before as no setting", () => {
        const mail = parseSettings({ ...valid, mail: { domain: "alerts.example.jp", recipient: "patlite" }, mailRules: "functions/mail-ingest/rules/dev.yaml" }).mail;
        const withMail = requiredSecrets({ oncall: JSM, mail }).map((s) => s.key);
        expect(withMail.filter((k) => k.startsWith("alertline:jsm"))).toEqual(["alertline:jsmApiToken"]);
        const raw = rawSettings({ "alertline:jsmDatadogApiKey": "left-over", "alertline:jsmAlertsApiKey": "left-over", "alertline:logRetentionDays": "14" }, "dev");
        expect(raw).toEqual({ environment: "dev", logRetentionDays: 14 });
        expect(Object.keys(RETIRED_SECRETS)).toEqual(["alertline:jsmDatadogApiKey", "alertline:jsmAlertsApiKey"]);
    });

    it("refuses a key under a misspelt alertline namespace, naming it and the fix, and leaves providers' keys alone", () => {
        expect(() => rawSettings({ "aws:region": "ap-northeast-1", "alertine:mail": "{}", "alertlin:sites": "[]" }, "dev")).toThrow(
            new ConfigError([
                'alertine:mail: namespace "alertine" is probably a typo of "alertline", so the setting would be ignored; rename the key to alertline:mail in the stack file',
                'alertlin:sites: namespace "alertlin" is probably a typo of "alertline", so the setting would be ignored; rename the key to alertline:sites in the stack file',
            ]),
        );
        expect(rawSettings({ "aws:region": "ap-northeast-1", "datadog:apiUrl": "https://api.ap1.datadoghq.com/", "alicloud:region": "x" }, "dev")).toEqual({ environment: "dev" });
    });

    it("accepts every placeholder it hands out, so the offline plan cannot fail on its own stand-ins", () => {
        for (const spec of Object.values(SECRETS)) {
            expect("check" in spec ? spec.check(spec.placeholder) : undefined).toBeUndefined();
        }
    });

    it("rejects a webhook that is not Slack's", () => {
        expect(SECRETS.slackWebhookUrl.check("http://example.com/hook")).toMatch(/hooks\.slack\.com/);
    });
});

describe("external hosts", () => {
    it("take a Datadog host name or tags, not both", () => {
        expect(parseSettings({ ...valid, hosts: [{ name: "nas", external: { datadogHost: "nas01" } }] }).hosts[0].external).toEqual({ datadogHost: "nas01" });
        const [problem] = problems({ ...valid, hosts: [{ name: "nas", external: { datadogHost: "nas01", tags: ["role:nas"] } }] });
        expect(problem).toMatch(/^alertline:hosts\[0\]\.external must give either datadogHost or tags/);
    });

    it("cannot relay a site's signals: SSM needs a host alertline runs", () => {
        const found = problems({
            ...valid,
            hosts: [{ name: "nas", external: { tags: ["role:nas"] } }],
            mail: { domain: "alerts.example.jp", recipient: "patlite" },
            mailRules: "functions/mail-ingest/rules/dev.yaml",
            sites: [{ name: "s", cidr: "192.168.10.0/24", relay: "ssm", relayHost: "nas", towers: [{ name: "t", host: "192.168.10.5", protocol: "pns" }] }],
        });
        expect(found).toEqual([expect.stringMatching(/^alertline:sites\[0\]\.relayHost "nas" must name one of alertline:hosts \(none defined\)/)]);
    });
});

describe("site, tower and sender-glob errors name their key and what to write (issue 11)", () => {
    const MAIL = { mail: { domain: "alerts.example.jp", recipient: "patlite" }, mailRules: "functions/mail-ingest/rules/dev.yaml" };
    const site = (overrides: Record<string, unknown> = {}, tower: Record<string, unknown> = {}) => ({
        name: "tokyo",
        cidr: "192.168.10.0/24",
        relay: "ssm",
        relayHost: "web",
        towers: [{ name: "t1", host: "192.168.10.5", protocol: "pns", ...tower }],
        ...overrides,
    });

    it.each([
        [{}, { host: "127.0.0.1; rm -rf /" }, 'alertline:sites[0].towers[0].host "127.0.0.1; rm -rf /" must be an IPv4 address such as 192.168.10.50'],
        [{}, { host: 5 }, "alertline:sites[0].towers[0].host 5 must be an IPv4 address such as 192.168.10.50"],
        [{}, { port: 0 }, "alertline:sites[0].towers[0].port 0 must be the tower's TCP port, 1–65535"],
        [{}, { protocol: "xyz" }, 'alertline:sites[0].towers[0].protocol "xyz" must be one of phn, pns, la6'],
        [{ cidr: "192.168.10.0/33" }, {}, 'alertline:sites[0].cidr "192.168.10.0/33" must be an IPv4 network in CIDR form'],
        [{ towers: "nope" }, {}, 'alertline:sites[0].towers "nope" must be a list of towers, e.g.'],
        [{ relay: "vpn", relayHost: undefined, customerGateway: { ip: "1.2.3; reboot" }, router: { model: "rtx830" } }, {}, 'alertline:sites[0].customerGateway.ip "1.2.3; reboot" must be an IPv4 address'],
    ])("site %j, tower %j → %s", (siteOverrides, tower, expected) => {
        const found = problems({ ...valid, ...MAIL, sites: [site(siteOverrides, tower)] });
        expect(found).toEqual([expect.stringContaining(expected)]);
    });

    it("still checks the other sites' towers when one tower's host is garbage", () => {
        const found = problems({ ...valid, ...MAIL, sites: [site({}, { host: "not an ip" }), site({ name: "osaka", cidr: "192.168.20.0/24" }, { name: "t2", host: "192.168.30.5" })] });
        expect(found).toEqual([
            expect.stringContaining('alertline:sites[0].towers[0].host "not an ip" must be an IPv4 address'),
            expect.stringContaining('alertline:sites[1].towers[0].host "192.168.30.5" is outside the site\'s network 192.168.20.0/24'),
        ]);
    });

    it("refuses a sender glob longer than the limit, naming the key, the limit and the fix", () => {
        const long = `*@${"a".repeat(70_000)}.example.jp`;
        const found = problems({ ...valid, ...MAIL, mail: { ...MAIL.mail, allowedSenders: ["*@zabbix.example.jp", long] } });
        expect(found).toEqual([expect.stringMatching(/^alertline:mail\.allowedSenders\[1\] "\*@a+\.\.\. is 70013 characters; a sender glob may have at most 254 .*shorten it/)]);
    });

    it("refuses a site's sender glob without one @, and an empty one", () => {
        const found = problems({ ...valid, ...MAIL, sites: [site({ allowedSenders: ["zabbix.example.jp", " "] })] });
        expect(found).toEqual([
            expect.stringContaining('alertline:sites[0].allowedSenders[0] "zabbix.example.jp" must hold exactly one @'),
            expect.stringContaining('alertline:sites[0].allowedSenders[1] " " is empty'),
        ]);
    });

    it("refuses more than 100 globs in one list", () => {
        const many = Array.from({ length: 101 }, (_, i) => `alert${i}@example.jp`);
        expect(problems({ ...valid, ...MAIL, mail: { ...MAIL.mail, allowedSenders: many } })).toEqual([expect.stringContaining("alertline:mail.allowedSenders must list at most 100 sender globs")]);
    });

    it("keeps good globs, trimmed", () => {
        expect(parseSettings({ ...valid, ...MAIL, mail: { ...MAIL.mail, allowedSenders: [" *@zabbix.example.jp "] } }).mail?.allowedSenders).toEqual(["*@zabbix.example.jp"]);
    });
});

describe("alertline:mail.reservedConcurrency", () => {
    const MAIL = { domain: "alerts.example.jp", recipient: "patlite" };
    const withConcurrency = (value: unknown) => ({ ...valid, mail: { ...MAIL, reservedConcurrency: value }, mailRules: "functions/mail-ingest/rules/dev.yaml" });
    it.each([0, -1, 2.5, 51, "5", true])("refuses %j, naming the key, the range and the way out", (value) => {
        expect(problems(withConcurrency(value))).toEqual([expect.stringMatching(/^alertline:mail\.reservedConcurrency.* must be a whole number from 1 to 50 .*or false for no reservation.*100/)]);
    });
    it.each([1, 5, 50, false])("accepts %j", (value) => {
        expect(parseSettings(withConcurrency(value)).mail?.reservedConcurrency).toBe(value);
    });
    it("leaves it unset by default (the component reserves 5)", () => {
        expect(parseSettings({ ...valid, mail: MAIL, mailRules: "functions/mail-ingest/rules/dev.yaml" }).mail?.reservedConcurrency).toBeUndefined();
    });
});
