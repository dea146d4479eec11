import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { MailRules, MailRulesError, parseMailRules, unknownRuleSites, unknownRuleTowers } from "../../functions/shared/mail-rules";
import { routingWarnings } from "../../functions/shared/mail-routing";
import { siteProblems, sitesSchema } from "../patlite-site/site-config";
import { senderGlobsSchema } from "./sender-globs";
import { SLACK_MODES } from "../../functions/slack-notifier/slack-mode";
import { DEFAULT_THREAD_MAX_AGE_HOURS, MAX_THREAD_MAX_AGE_HOURS } from "../../functions/slack-notifier/slack-mode";

/**
 * The stack configuration under the `alertline:` namespace, validated once at program start.
 * Every message names the key (`alertline:hosts[1].name`) and says how to fix it, because the
 * person reading it is looking at `pulumi preview` output in a pull request, not at this file.
 */

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Datadog sites the Agent and the API can be pointed at. */
export const DATADOG_SITES = ["datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu", "ap1.datadoghq.com", "ap2.datadoghq.com", "ddog-gov.com"] as const;

const hostName = z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,23}$/, "must be 1–24 characters of lowercase letters, digits and '-', starting with a letter (it becomes part of resource names and a Datadog tag)");

const processName = z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be a process name such as \"chronyd\" (letters, digits, '_', '.', ':', '-'; no spaces or shell characters)");

const hostSchema = z
    .object({
        name: hostName,
        instanceType: z.string().regex(/^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as \"t3.small\"").default("t3.small"),
        processes: z.array(processName).min(1, "must name at least one process to watch, e.g. [chronyd, sshd]").default(["chronyd", "sshd"]),
        cpuThresholdPercent: z.number().gt(0, "must be above 0").max(100, "must be at most 100").default(80),
        rootVolumeGiB: z.number().int("must be a whole number of GiB").min(8, "must be at least 8 GiB (the Amazon Linux 2023 image needs it)").max(16384).default(20),
        /** A host alertline does not create (existing EC2, on premises, Alibaba Cloud ECS): only its Datadog monitors. */
        external: z
            .object({
                datadogHost: z.string().regex(/^[\w.:-]{1,255}$/, "must be the host name Datadog shows for it").optional(),
                tags: z.array(z.string().regex(/^[\w.:/-]{1,200}$/, "must be a Datadog tag such as role:db")).min(1, "must list at least one tag").optional(),
            })
            .strict()
            .refine((e) => (e.datadogHost === undefined) !== (e.tags === undefined), "must give either datadogHost or tags (the Datadog scope of the host), not both or neither")
            .optional(),
    })
    .strict();

const networkSchema = z
    .object({
        cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, "must be an IPv4 CIDR between /16 and /24, e.g. \"10.20.0.0/16\"").default("10.20.0.0/16"),
        availabilityZones: z.number().int().min(1, "must be at least 1").max(3, "must be at most 3").default(2),
        natGateways: z.enum(["None", "Single", "OnePerAz"], { message: "must be one of None, Single, OnePerAz" }).default("Single"),
        vpnGatewayAsn: z.number().int().min(64512, "must be a private ASN (64512–65534)").max(65534, "must be a private ASN (64512–65534)").default(64512),
    })
    .strict();

/** How to find a channel's ID in Slack (Slack's help: the channel's details, About tab, shows "Channel ID" at the bottom). */
const SLACK_CHANNEL_ID_HINT =
    "open the channel in Slack, click its name at the top, and copy the Channel ID at the bottom of the About tab (e.g. C0123456789)";

/**
 * A Slack conversation ID: C… for a channel, G… for a private channel created before 2017 (newer
 * private channels have C IDs too), then uppercase letters and digits (chat.postMessage's `channel`
 * example "C1234567890"). Unconfirmed: the length; Slack documents none, IDs seen are 9–11
 * characters, so 9–32 are taken.
 */
export const SLACK_CHANNEL_ID_PATTERN = /^[CG][A-Z0-9]{8,31}$/;

export { DEFAULT_THREAD_MAX_AGE_HOURS, MAX_THREAD_MAX_AGE_HOURS };

const slackChannelId = z.string().superRefine((id, ctx) => {
    if (SLACK_CHANNEL_ID_PATTERN.test(id)) return;
    const message = SLACK_CHANNEL_ID_PATTERN.test(id.toUpperCase()) && /\d/.test(id)
        ? `must be written in uppercase as Slack shows it: ${SLACK_CHANNEL_ID_HINT}`
        : id.startsWith("#") || /^[a-z0-9][a-z0-9._-]*$/.test(id)
          ? `is a channel name, not its ID; the bot posts by ID: ${SLACK_CHANNEL_ID_HINT}`
          : `must be a Slack channel ID, C or G followed by uppercase letters and digits: ${SLACK_CHANNEL_ID_HINT}`;
    ctx.addIssue({ code: "custom", message });
});

/**
 * `webhook` (default): every alert is a new message through the incoming webhook. `app`: a Slack
 * app's bot posts one message per alert to `channelId`, updates it and replies in its thread; the
 * bot token is the secret alertline:slackBotToken. `channel` and `datadogAccount` are Datadog's
 * Slack integration in both modes.
 */
const slackSchema = z
    .object({
        channel: z.string().regex(/^#[a-z0-9][a-z0-9_-]{0,79}$/, "must be a Slack channel such as \"#alerts-dev\" (lowercase, with the leading #)"),
        datadogAccount: z.string().min(1, "must be the account name of the Slack integration tile in Datadog"),
        mode: z.enum(SLACK_MODES, { message: "must be webhook (an incoming webhook posts every alert as a new message) or app (a Slack app's bot keeps one message per alert, with a thread)" }).default("webhook"),
        channelId: slackChannelId.optional(),
        threadMaxAgeHours: z
            .number()
            .int("must be a whole number of hours")
            .min(1, `must be from 1 to ${MAX_THREAD_MAX_AGE_HOURS} hours`)
            .max(MAX_THREAD_MAX_AGE_HOURS, `must be from 1 to ${MAX_THREAD_MAX_AGE_HOURS} hours (one week)`)
            .optional(),
    })
    .strict()
    .superRefine((slack, ctx) => {
        if (slack.mode === "app" && slack.channelId === undefined) {
            ctx.addIssue({ code: "custom", path: ["channelId"], message: `is required with alertline:slack.mode app (the channel the bot posts to): ${SLACK_CHANNEL_ID_HINT}` });
        }
        if (slack.mode === "webhook") {
            // Read only by the bot: silently ignoring them would hide a half-done switch to app mode.
            for (const key of ["channelId", "threadMaxAgeHours"] as const) {
                if (slack[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "is read only with alertline:slack.mode app: set mode: app, or remove it" });
            }
        }
    })
    .transform((slack) =>
        slack.mode === "app"
            ? { channel: slack.channel, datadogAccount: slack.datadogAccount, mode: "app" as const, channelId: slack.channelId!, threadMaxAgeHours: slack.threadMaxAgeHours ?? DEFAULT_THREAD_MAX_AGE_HOURS }
            : { channel: slack.channel, datadogAccount: slack.datadogAccount, mode: "webhook" as const },
    );

/** Where to find each JSM setting, for the messages (Atlassian's docs: "Jira Service Management ops REST API", intro and authentication). */
const JSM_CLOUD_ID_HINT =
    "open https://<your-site>.atlassian.net/_edge/tenant_info in a browser signed in to the site and copy \"cloudId\" (a UUID; Atlassian admin → Products also shows it)";
const JSM_TEAM_HINT = "the team's name exactly as JSM shows it under Operations → Teams (alertline looks its ID up; the account in alertline:oncall.email must be able to see it)";
const JSM_EMAIL_HINT =
    "the e-mail address of the Atlassian account that created alertline:jsmApiToken (id.atlassian.com → Manage account → Email); the account needs access to the team's operations configuration";

const opsgenieRegion = z.enum(["us", "eu"], { message: "must be us or eu (where the Opsgenie account lives)" }).default("us");
const opsgenieTeam = z.string().regex(/^[A-Za-z0-9 _.-]{1,100}$/, "must be an Opsgenie team name of at most 100 letters, digits, spaces, '_', '.', '-'");
/** The Atlassian site's cloud ID: JSM's ops REST API is https://api.atlassian.com/jsm/ops/api/{cloudId}/v1/…. */
const jsmCloudId = z
    .string({ error: JSM_CLOUD_ID_HINT })
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, `must be the site's cloud ID, a UUID: ${JSM_CLOUD_ID_HINT}`);
/** The JSM operations team that owns the mail-path heartbeat; looked up by name. */
const jsmTeam = z
    .string({ error: JSM_TEAM_HINT })
    .regex(/^[^\p{Cc}]{1,100}$/u, `must be the name of a JSM operations team, 1–100 characters: ${JSM_TEAM_HINT}`)
    .refine((t) => t.trim() === t && t !== "", `must not start or end with spaces: ${JSM_TEAM_HINT}`);
/** The Atlassian account whose API token is alertline:jsmApiToken (Basic auth to the ops REST API). */
const jsmEmail = z.string({ error: JSM_EMAIL_HINT }).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, `must be an e-mail address: ${JSM_EMAIL_HINT}`);

/** Where to find each value of alertline:oncall.createTeam, for the messages. */
const JSM_ORG_ID_HINT = "open https://admin.atlassian.com, choose the organization, and copy the id after /o/ in the address (admin.atlassian.com/o/<organizationId>/overview)";
const JSM_DOMAIN_HINT = "the site's host name as in its address, e.g. example.atlassian.net (no https://, no path)";
const JSM_ACCOUNT_ID_HINT =
    "an Atlassian account id: open the person's profile (the avatar → Profile, https://<your-site>.atlassian.net/jira/people/<accountId>) and copy the last part of the address";
/**
 * Opt-in: alertline creates the JSM operations team (named by `team`, or `jsmTeam` in the window)
 * through Atlassian's Teams API and enables operations on it, instead of looking it up. Names follow
 * the Atlassian provider's `atlassian-operations_team` (organization_id, team_type, member.account_id)
 * and its provider config `domain_name`.
 */
const jsmCreateTeam = z
    .object({
        organizationId: z.string({ error: JSM_ORG_ID_HINT }).regex(/^[A-Za-z0-9-]{8,64}$/, `must be the organization's id: ${JSM_ORG_ID_HINT}`),
        domainName: z
            .string({ error: JSM_DOMAIN_HINT })
            .regex(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/i, `must be a host name: ${JSM_DOMAIN_HINT}`),
        members: z
            .array(z.string().regex(/^[A-Za-z0-9:_-]{1,128}$/, `must be ${JSM_ACCOUNT_ID_HINT}`), { error: `must list the members' account ids, the first becoming the team's operations admin; each is ${JSM_ACCOUNT_ID_HINT}` })
            .min(1, `must list at least one member (the first becomes the team's operations admin); each is ${JSM_ACCOUNT_ID_HINT}`)
            .refine((m) => new Set(m).size === m.length, "must not list an account id twice"),
        teamType: z.enum(["OPEN", "MEMBER_INVITE", "EXTERNAL"], { message: "must be OPEN (anyone can join), MEMBER_INVITE (members invite others) or EXTERNAL" }).default("MEMBER_INVITE"),
        description: z.string().max(1000, "must be at most 1000 characters").optional(),
    })
    .strict();

const singleOnCallSchema = z.discriminatedUnion(
    "backend",
    [
        z.object({ backend: z.literal("opsgenie"), region: opsgenieRegion, team: opsgenieTeam }).strict(),
        z.object({ backend: z.literal("jsm"), cloudId: jsmCloudId, team: jsmTeam, email: jsmEmail, createTeam: jsmCreateTeam.optional() }).strict(),
    ],
    { message: "must be opsgenie or jsm, or [opsgenie, jsm] for the migration window (Opsgenie support ends 2027-04-05; jsm is its successor)" },
);

/**
 * The migration window: `backend: [opsgenie, jsm]` pages both, keeps both heartbeats alive and takes
 * acknowledgements from either. Opsgenie's `region` and `team`, JSM's `cloudId` and `email`; JSM's
 * team is `team` too unless `jsmTeam` names it (Atlassian's migration moves Opsgenie teams to JSM
 * under their names, but makes a second team when the name is already taken: "Merge migrated
 * Opsgenie teams with Atlassian teams").
 */
const dualOnCallSchema = z
    .object({
        backend: z
            .array(z.enum(["opsgenie", "jsm"], { message: "must list opsgenie and jsm" }))
            .refine((list) => list.length === 2 && list.includes("opsgenie") && list.includes("jsm"), "must be [opsgenie, jsm] for the migration window (both, once each), or one of opsgenie, jsm")
            // One order everywhere: Opsgenie (the backend being left) first.
            .transform(() => DUAL_BACKENDS),
        region: opsgenieRegion,
        team: opsgenieTeam,
        jsmTeam: jsmTeam.optional(),
        cloudId: jsmCloudId,
        email: jsmEmail,
        createTeam: jsmCreateTeam.optional(),
    })
    .strict();

/** `alertline:oncall.backend` during the migration window. */
export const DUAL_BACKENDS = ["opsgenie", "jsm"] as const;

/** A list as backend is the migration window; anything else is one backend (and its messages). */
const onCallSchema = z.unknown().transform((value, ctx) => {
    const dual = typeof value === "object" && value !== null && Array.isArray((value as { backend?: unknown }).backend);
    const result = dual ? dualOnCallSchema.safeParse(value) : singleOnCallSchema.safeParse(value);
    if (!result.success) {
        // The nested issues as they are (their codes say "is required", "is not a known setting"), at their paths under oncall.
        for (const issue of result.error.issues) ctx.addIssue(issue as never);
        return z.NEVER;
    }
    return result.data as z.output<typeof singleOnCallSchema> | z.output<typeof dualOnCallSchema>;
});

const datadogSchema = z
    .object({
        site: z.enum(DATADOG_SITES, { message: `must be one of ${DATADOG_SITES.join(", ")}` }).default("datadoghq.com"),
    })
    .strict();

/** Most concurrency mail-ingest may reserve: a mail burst of this many at once is far beyond alert traffic. */
export const MAX_MAIL_INGEST_RESERVED_CONCURRENCY = 50;

const RESERVED_CONCURRENCY_HINT =
    `must be a whole number from 1 to ${MAX_MAIL_INGEST_RESERVED_CONCURRENCY} (mail-ingest's reserved and maximum concurrency; default 5; 0 would stop it), ` +
    "or false for no reservation, which an account whose Lambda concurrent-executions quota is below 100 plus the number needs: AWS keeps 100 unreserved";

const mailSchema = z
    .object({
        /** Domain SES receives for; verified with DKIM. */
        domain: z.string().regex(/^(?=.{1,253}$)([a-z0-9](-*[a-z0-9])*\.)+[a-z]{2,}$/, "must be a lowercase domain name such as alerts.example.jp"),
        /** Local part of the alert address, e.g. "patlite" for patlite@<domain>. */
        recipient: z.string().regex(/^[a-z0-9][a-z0-9._+-]{0,63}$/, "must be the local part of the alert address, e.g. \"patlite\""),
        /** Route 53 hosted zone of the domain; without it the DKIM and MX records are output for you to add. */
        hostedZoneId: z.string().regex(/^Z[A-Z0-9]{4,32}$/, "must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ").optional(),
        /** Make this stack's receipt rule set the active one (only one is active per account and region). */
        activateRuleSet: z.boolean().default(false),
        /** Days to keep received mail in the bucket. */
        retentionDays: z.number().int().min(1, "must be at least 1 day").max(3650).default(90),
        /** Sender globs allowed to light any tower, e.g. "*@zabbix.example.jp". */
        allowedSenders: senderGlobsSchema,
        /**
         * Concurrent executions reserved for mail-ingest, which also cap it, so a mail flood leaves the
         * rest of the account's concurrency to tower-dispatch and slack-notifier. Default 5; `false`:
         * none (for accounts whose Lambda concurrency quota is below 100 + this number).
         */
        reservedConcurrency: z
            .union([z.literal(false), z.number().int(RESERVED_CONCURRENCY_HINT).min(1, RESERVED_CONCURRENCY_HINT).max(MAX_MAIL_INGEST_RESERVED_CONCURRENCY, RESERVED_CONCURRENCY_HINT)], {
                message: RESERVED_CONCURRENCY_HINT,
            })
            .optional(),
    })
    .strict();

const awsSourcesSchema = z
    .object({
        guardDutyMinSeverity: z
            .number()
            .min(1, "must be from 1 to 10 (GuardDuty bands: Low 1, Medium 4, High 7, Critical 9)")
            .max(10, "must be from 1 to 10 (GuardDuty bands: Low 1, Medium 4, High 7, Critical 9)")
            .default(7),
        securityHub: z.boolean().default(true),
        health: z.boolean().default(true),
        backup: z.boolean().default(true),
        budget: z
            .object({
                monthlyUsd: z.number().gt(0, "must be the monthly limit in US dollars, above 0, e.g. 500"),
                thresholdsPercent: z
                    .array(z.number().gt(0, "must be a percentage of the limit above 0, e.g. 80"))
                    .min(1, "must list at least one percentage, e.g. [80, 100]")
                    .max(5, "must list at most 5 percentages (each makes an actual and a forecasted notification; AWS allows 10)")
                    .refine((ts) => new Set(ts).size === ts.length, "must list each percentage once")
                    .default([80, 100]),
            })
            .strict()
            .optional(),
    })
    .strict();

/**
 * The alerting path watching itself: a test mail through SES every interval; mail-ingest recognises
 * it and pings an on-call heartbeat, which pages when no canary arrived for heartbeatMinutes.
 */
const canarySchema = z
    .object({
        enabled: z.boolean().default(true),
        intervalMinutes: z.number().int("must be a whole number of minutes").min(1, "must be at least 1 minute").max(1440, "must be at most 1440 minutes (one day)").default(10),
        heartbeatMinutes: z.number().int("must be a whole number of minutes").min(2, "must be at least 2 minutes").max(10080, "must be at most 10080 minutes (one week)").default(30),
    })
    .strict()
    .refine((c) => c.heartbeatMinutes >= 2 * c.intervalMinutes, {
        message: "must be at least twice intervalMinutes, so one late or lost canary does not page on-call",
        path: ["heartbeatMinutes"],
    });

/** Tower reachability: a read-status command to every tower on a schedule, a metric, an alarm per tower. */
const towerProbeSchema = z
    .object({
        enabled: z.boolean().default(true),
        intervalMinutes: z.number().int("must be a whole number of minutes").min(1, "must be at least 1 minute").max(60, "must be at most 60 minutes").default(5),
        alarmAfterMisses: z.number().int().min(1, "must be at least 1 probe").max(10, "must be at most 10 probes").default(3),
    })
    .strict();

/** Non-secret settings, one property per `alertline:<key>`. */
export const settingsSchema = z
    .object({
        environment: z.string().regex(/^[a-z][a-z0-9-]{0,11}$/, "must be 1–12 lowercase letters, digits or '-' (it prefixes resource names)"),
        network: networkSchema.default(networkSchema.parse({})),
        datadog: datadogSchema.default(datadogSchema.parse({})),
        slack: slackSchema,
        oncall: onCallSchema,
        logRetentionDays: z
            .number()
            .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`)
            .default(30),
        /** The same alert repeating within a window posts once, then once more with its count. */
        floodControl: z
            .object({
                windowSeconds: z.number().int().min(0, "must be 0 (off) or more seconds").max(86_400, "must be at most 86400 seconds (one day)").default(300),
                repeatNoticeAfter: z.number().int().min(2, "must be at least 2 (the repeat that posts the second message)").default(10),
            })
            .strict()
            .default({ windowSeconds: 300, repeatNoticeAfter: 10 }),
        hosts: z.array(hostSchema).default([]),
        mail: mailSchema.optional(),
        /** Path of the mail classification rules, relative to the project root. */
        mailRules: z.string().regex(/^[\w./-]+\.ya?ml$/, "must be the path of a .yaml rules file relative to the project, e.g. functions/mail-ingest/rules/dev.yaml").optional(),
        sites: sitesSchema,
        /** GuardDuty, Security Hub, Health, Backup and Budgets into the alert channel. Default off. */
        awsSources: awsSourcesSchema.optional(),
        /** Datadog's Alibaba Cloud integration: a read-only RAM user and key for its tile. Default off. */
        alibaba: z
            .object({ accountId: z.string().regex(/^\d{10,20}$/, "must be the numeric Alibaba Cloud account ID (Account Center)") })
            .strict()
            .optional(),
        /** Canary mail and on-call heartbeat for the mail path (needs alertline:mail). Default on, every 10 minutes. */
        canary: canarySchema.default(canarySchema.parse({})),
        /** Scheduled tower reachability probe (needs alertline:sites). Default on, every 5 minutes. */
        towerProbe: towerProbeSchema.default(towerProbeSchema.parse({})),
        /** Policy name → enforcement level for this stack; CI passes it to `--policy-pack-config`. */
        policyLevels: z
            .record(z.string().regex(/^[a-z0-9-]+$/, "must be a policy name such as sns-topic-encrypted"), z.enum(["advisory", "mandatory", "disabled"], { message: "must be advisory, mandatory or disabled" }))
            .default({}),
    })
    .strict()
    .superRefine((settings, ctx) => {
        // Only hosts alertline runs can relay through SSM.
        const relayCandidates = settings.hosts.filter((h) => h.external === undefined).map((h) => h.name);
        for (const problem of siteProblems(settings.sites, settings.network.cidr, relayCandidates)) {
            ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
        }
        if (settings.sites.length > 0 && settings.network.natGateways === "None") {
            ctx.addIssue({
                code: "custom",
                path: ["network", "natGateways"],
                message: "cannot be None while alertline:sites lists towers: tower-dispatch runs in the private subnets and reaches DynamoDB and SNS through NAT; use Single",
            });
        }
        if (settings.sites.length > 0 && settings.mail === undefined) {
            ctx.addIssue({ code: "custom", path: ["mail"], message: "is required when alertline:sites lists towers: towers are lit from alert mail" });
        }
        if (settings.mail !== undefined && settings.mailRules === undefined) {
            ctx.addIssue({ code: "custom", path: ["mailRules"], message: "is required with alertline:mail: give the rules file, e.g. functions/mail-ingest/rules/dev.yaml" });
        }
        const seen = new Map<string, number>();
        settings.hosts.forEach((host, i) => {
            if (seen.has(host.name)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["hosts", i, "name"],
                    message: `is used twice (also hosts[${seen.get(host.name)}]); give every host a unique name`,
                });
            } else {
                seen.set(host.name, i);
            }
            const processes = new Set<string>();
            host.processes.forEach((p, j) => {
                if (processes.has(p)) {
                    ctx.addIssue({ code: "custom", path: ["hosts", i, "processes", j], message: "is listed twice; list each process once" });
                }
                processes.add(p);
            });
        });
    });

export type AlertlineSettings = z.infer<typeof settingsSchema>;
export type HostSettings = AlertlineSettings["hosts"][number];
export type OnCallSettings = AlertlineSettings["oncall"];
/** alertline:oncall.createTeam: the JSM team alertline creates instead of looking it up. */
export type JsmCreateTeamSettings = z.output<typeof jsmCreateTeam>;
export type OnCallBackendName = (typeof DUAL_BACKENDS)[number];

/** The backends a setting pages, Opsgenie first: one, or both in the migration window. Pure. */
export function onCallBackends(oncall: OnCallSettings): OnCallBackendName[] {
    return Array.isArray(oncall.backend) ? [...oncall.backend] : [oncall.backend as OnCallBackendName];
}

/** Opsgenie's part of the setting (alone or in the window); undefined when Opsgenie is not used. Pure. */
export function opsgenieOnCall(oncall: OnCallSettings): { readonly region: "us" | "eu"; readonly team: string } | undefined {
    if (!onCallBackends(oncall).includes("opsgenie")) return undefined;
    const o = oncall as { region: "us" | "eu"; team: string };
    return { region: o.region, team: o.team };
}

/** JSM's part of the setting (alone or in the window; its team is jsmTeam when set); undefined when JSM is not used. Pure. */
export function jsmOnCall(oncall: OnCallSettings): { readonly cloudId: string; readonly team: string; readonly email: string; readonly createTeam?: JsmCreateTeamSettings } | undefined {
    if (!onCallBackends(oncall).includes("jsm")) return undefined;
    const j = oncall as { cloudId: string; team: string; email: string; jsmTeam?: string; createTeam?: JsmCreateTeamSettings };
    return { cloudId: j.cloudId, team: j.jsmTeam ?? j.team, email: j.email, ...(j.createTeam === undefined ? {} : { createTeam: j.createTeam }) };
}

/** alertline:slack: Datadog's channel in both modes, and in app mode the bot's channel ID and thread age. */
export type SlackSettings = AlertlineSettings["slack"];
export type MailSettings = NonNullable<AlertlineSettings["mail"]>;
export type CanarySettings = AlertlineSettings["canary"];
export type TowerProbeSettings = AlertlineSettings["towerProbe"];

/** A secret the stack needs, how to set it, and what the offline plan uses in its place. */
export interface SecretSpec {
    /** Full config key, e.g. `alertline:slackWebhookUrl`. */
    readonly key: string;
    /** What the value is, for the README and the error message. */
    readonly description: string;
    /** Stand-in used by the offline plan; marked so it can never be mistaken for a real value. */
    readonly placeholder: string;
    /** Checks the value's shape; returns a problem or undefined. */
    readonly check?: (value: string) => string | undefined;
}

export const SECRETS = {
    slackWebhookUrl: {
        key: "alertline:slackWebhookUrl",
        description: "Slack incoming-webhook URL the notifier posts to",
        placeholder: "https://hooks.slack.com/services/TPLACEHOLDER/BPLACEHOLDER/offline-plan-placeholder",
        check: (v: string) =>
            /^https:\/\/hooks\.slack\.com\/(services|workflows|triggers)\/\S+$/.test(v)
                ? undefined
                : "must be a Slack incoming-webhook URL starting with https://hooks.slack.com/services/",
    },
    slackBotToken: {
        key: "alertline:slackBotToken",
        description:
            "Bot User OAuth Token (xoxb-…) of the Slack app alertline posts as with alertline:slack.mode app (api.slack.com/apps → the app → OAuth & Permissions, after installing it with the bot scope chat:write)",
        placeholder: "xoxb-0000000000000-0000000000000-offlinePlanPlaceholder",
        check: (v: string) =>
            /^xoxb-[A-Za-z0-9-]{10,}$/.test(v)
                ? undefined
                : "must be a Slack bot token starting with xoxb- (the Bot User OAuth Token under OAuth & Permissions of the app, not a user token xoxp- or an app-level token xapp-)",
    },
    opsgenieApiKey: {
        key: "alertline:opsgenieApiKey",
        description: "Opsgenie API key (an API integration with configuration access) used to create the team and the Datadog integration",
        placeholder: "00000000-0000-4000-8000-0000placehold",
        check: (v: string) => (/^[A-Za-z0-9-]{20,64}$/.test(v) ? undefined : "must be an Opsgenie API key (a UUID such as 1b2c3d4e-…)"),
    },
    jsmApiToken: {
        key: "alertline:jsmApiToken",
        description:
            "Atlassian API token of the account in alertline:oncall.email (create it at https://id.atlassian.com/manage-profile/security/api-tokens): alertline looks up the JSM team, creates its integrations, the acknowledgement webhook and the mail-path heartbeat, and mail-ingest pings it, through JSM's ops REST API with it",
        placeholder: "ATATTofflinePlanPlaceholder0000000000000000",
        check: (v: string) =>
            /^\S{16,2048}$/.test(v)
                ? undefined
                : "must be an Atlassian API token (16 or more characters, no spaces) created at https://id.atlassian.com/manage-profile/security/api-tokens for the account in alertline:oncall.email",
    },
    datadogApiKey: {
        key: "datadog:apiKey",
        description: "Datadog API key: used by the Datadog provider and, through SSM, by the Agent on each host",
        placeholder: "0000000000000000000000placeholder",
        check: (v: string) => (/^[a-f0-9]{32}$/i.test(v) || v.includes("placeholder") ? undefined : "must be a 32-character Datadog API key"),
    },
    datadogAppKey: {
        key: "datadog:appKey",
        description: "Datadog application key, used by the Datadog provider to manage monitors and integrations",
        placeholder: "00000000000000000000000000000000placeholder",
    },
} as const satisfies Record<string, SecretSpec>;

/**
 * Secrets alertline no longer reads: with JSM the stack creates the Datadog and alerts integrations
 * (components/shared/oncall/jsm.ts) and takes their keys from JSM's create answers. A stack that still sets them
 * gets a warning to remove them, not a "not a known setting" error.
 */
export const RETIRED_SECRETS: Readonly<Record<string, string>> = {
    "alertline:jsmDatadogApiKey": "alertline now creates JSM's Datadog integration and hands its key to Datadog",
    "alertline:jsmAlertsApiKey": "alertline now creates JSM's API integration its functions page through",
};

/**
 * The secrets a given configuration needs; the on-call backend decides which keys. With Opsgenie a
 * configuration key creates everything; with JSM the API token of JSM's ops REST API does (team
 * lookup, integrations and their keys, webhook, heartbeat, ping). Slack's is the incoming webhook,
 * or with `slack.mode: app` the bot token (a configuration without `slack` counts as webhook mode).
 */
export function requiredSecrets(settings: Pick<AlertlineSettings, "oncall" | "mail"> & { readonly slack?: Pick<SlackSettings, "mode"> }): SecretSpec[] {
    // In the migration window both backends' secrets are needed.
    const backends = onCallBackends(settings.oncall);
    const onCallKeys = [...(backends.includes("opsgenie") ? [SECRETS.opsgenieApiKey] : []), ...(backends.includes("jsm") ? [SECRETS.jsmApiToken] : [])];
    // The webhook, or in app mode the bot's token: never both (slack.mode decides; webhook when not given).
    const slackKey = settings.slack?.mode === "app" ? SECRETS.slackBotToken : SECRETS.slackWebhookUrl;
    return [slackKey, ...onCallKeys, SECRETS.datadogApiKey, SECRETS.datadogAppKey];
}

/** Raised when the stack configuration is invalid; `problems` holds one line per fault. */
export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`Invalid alertline configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

function describePath(path: readonly PropertyKey[]): string {
    const [first, ...rest] = path;
    return rest.reduce<string>(
        (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : `${acc}.${String(part)}`),
        `alertline:${String(first)}`,
    );
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>((acc, part) => (acc !== null && typeof acc === "object" ? (acc as Record<PropertyKey, unknown>)[part] : undefined), raw);
}

function showValue(value: unknown): string {
    // Lists and objects are named by their key; printing them would bury the message.
    if (value === undefined || (value !== null && typeof value === "object")) return "";
    const text = JSON.stringify(value);
    return ` ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
    const where = describePath(issue.path);
    const value = valueAt(raw, issue.path);
    if (issue.code === "unrecognized_keys") {
        const known = Object.keys(settingsSchemaShapeAt(issue.path));
        const keys = issue.keys.map((k) => describePath([...issue.path, k]).replace(/^alertline:\./, "alertline:"));
        const hint = known.length > 0 ? `; known settings here: ${known.join(", ")}` : "";
        return `${keys.join(", ")} ${keys.length > 1 ? "are not known settings" : "is not a known setting"}${issue.path.length === 0 ? " (a typo, or a secret that needs --secret?)" : ""}${hint}`;
    }
    if (value === undefined && issue.code === "invalid_type") {
        return `${where} is required: ${issue.message.startsWith("Invalid input") ? "set it in Pulumi.<stack>.yaml" : issue.message}`;
    }
    return `${where}${showValue(value)} ${issue.message}`;
}

/** Known property names of the object schema at a path, for "did you mean" hints. */
function settingsSchemaShapeAt(path: readonly PropertyKey[]): Record<string, unknown> {
    let schema: z.ZodType = settingsSchema;
    for (const part of path) {
        schema = unwrap(schema);
        if (schema instanceof z.ZodObject) schema = schema.shape[String(part)] ?? z.never();
        else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
        else return {};
    }
    // alertline:oncall picks its schema by the shape of backend; its hint names every setting of either form.
    if (schema === onCallSchema) return { ...Object.assign({}, ...singleOnCallSchema.options.map((o) => o.shape)), ...dualOnCallSchema.shape };
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) return schema.shape;
    if (schema instanceof z.ZodDiscriminatedUnion) {
        return Object.assign({}, ...schema.options.map((o) => (o instanceof z.ZodObject ? o.shape : {})));
    }
    return {};
}

function unwrap(schema: z.ZodType): z.ZodType {
    let current: z.ZodType = schema;
    while (current instanceof z.ZodDefault || current instanceof z.ZodOptional || current instanceof z.ZodPipe) {
        current = current instanceof z.ZodPipe ? (current.in as z.ZodType) : (current.unwrap() as z.ZodType);
    }
    return current;
}

/**
 * Validates raw `alertline:` settings (already JSON-parsed). Pure: tests call it directly.
 * Throws ConfigError with every problem found, not just the first.
 */
export function parseSettings(raw: Record<string, unknown>): AlertlineSettings {
    const result = settingsSchema.safeParse(raw);
    if (result.success) return result.data;
    throw new ConfigError(result.error.issues.map((issue) => describeIssue(issue, raw)));
}

/**
 * Reads `alertline:<key>` strings as Pulumi hands them to the program: structured values arrive as
 * JSON text, plain values as strings. A value that is not JSON is taken as a string.
 */
export function decodeConfigValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
export function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
    }
    return previous[b.length];
}

/**
 * Config keys whose namespace is a probable misspelling of `alertline` (edit distance 1 or 2, e.g.
 * `alertlin:sites`), each as a problem naming the key and the fix. Pulumi hands every namespace to
 * the program and no provider reads these, so without this the setting would be silently ignored.
 */
export function misspeltNamespaceKeys(keys: readonly string[]): string[] {
    return keys.flatMap((fullKey) => {
        const colon = fullKey.indexOf(":");
        if (colon < 0) return [];
        const namespace = fullKey.slice(0, colon);
        if (namespace === "alertline" || editDistance(namespace.toLowerCase(), "alertline") > 2) return [];
        const fixed = `alertline:${fullKey.slice(colon + 1)}`;
        return [`${fullKey}: namespace "${namespace}" is probably a typo of "alertline", so the setting would be ignored; rename the key to ${fixed} in the stack file`];
    });
}

/**
 * The `alertline:` settings of a config map (`namespace:key` → text, as Pulumi hands it to the
 * program), decoded for parseSettings. Unknown keys stay in, so parseSettings names typos; secrets
 * stay out. `environment` defaults to the stack name.
 */
export function rawSettings(config: Record<string, string>, stack: string): Record<string, unknown> {
    const raw: Record<string, unknown> = { environment: stack };
    const typos = misspeltNamespaceKeys(Object.keys(config));
    if (typos.length > 0) throw new ConfigError(typos);
    const secretKeys = new Set<string>([...Object.values(SECRETS).map((s) => s.key), ...Object.keys(RETIRED_SECRETS)]);
    for (const [fullKey, text] of Object.entries(config)) {
        if (!fullKey.startsWith("alertline:") || secretKeys.has(fullKey)) continue;
        raw[fullKey.slice("alertline:".length)] = decodeConfigValue(text);
    }
    return raw;
}

/** What the program gets from its stack configuration. */
export interface StackConfig {
    readonly settings: AlertlineSettings;
    /** Contents of the rules file `alertline:mailRules` names, validated; undefined without mail. */
    readonly mailRulesYaml: string | undefined;
    /** What the plan warns about the rules' routing ({@link checkMailRules}); already logged. */
    readonly mailRulesWarnings: readonly string[];
    /** Secret config values as Pulumi secrets, shape-checked when they resolve. */
    readonly secrets: {
        /** Webhook mode only (slack.mode webhook, the default); undefined in app mode. */
        readonly slackWebhookUrl: pulumi.Output<string> | undefined;
        /** App mode only: the bot token (xoxb-…); undefined in webhook mode. */
        readonly slackBotToken: pulumi.Output<string> | undefined;
        /** Opsgenie (alone or in the window): the configuration API key; undefined with JSM alone. */
        readonly onCallApiKey: pulumi.Output<string> | undefined;
        /** JSM only: the Atlassian API token for JSM's ops REST API (Basic auth with alertline:oncall.email). */
        readonly jsmApiToken: pulumi.Output<string> | undefined;
        readonly datadogApiKey: pulumi.Output<string>;
    };
}

function requireCheckedSecret(spec: SecretSpec): pulumi.Output<string> {
    const [namespace, key] = spec.key.split(":");
    return new pulumi.Config(namespace).requireSecret(key).apply((value) => {
        const problem = spec.check?.(value);
        if (problem) {
            throw new ConfigError([`${spec.key} ${problem}; set it with: pulumi config set --secret ${spec.key} <value>`]);
        }
        return value;
    });
}

/**
 * Loads and validates the stack's configuration. Called once, first thing in index.ts, so a bad
 * config fails `pulumi preview` (and the offline plan) before any resource is declared.
 */
export function loadStackConfig(): StackConfig {
    const settings = parseSettings(rawSettings(pulumi.runtime.allConfig(), pulumi.getStack()));
    const { text: mailRulesYaml, warnings: mailRulesWarnings } = settings.mailRules === undefined ? { text: undefined, warnings: [] } : readMailRules(settings);
    // pulumi preview (and the offline plan, on stderr) shows these; the deployment goes ahead.
    for (const warning of mailRulesWarnings) void pulumi.log.warn(warning);
    const config = pulumi.runtime.allConfig();
    for (const [key, why] of Object.entries(RETIRED_SECRETS)) {
        if (key in config) void pulumi.log.warn(`${key} is no longer used: ${why}. Remove it with: pulumi config rm ${key}`);
    }
    const needed = requiredSecrets(settings);
    return {
        settings,
        mailRulesYaml,
        mailRulesWarnings,
        secrets: {
            slackWebhookUrl: needed.includes(SECRETS.slackWebhookUrl) ? requireCheckedSecret(SECRETS.slackWebhookUrl) : undefined,
            slackBotToken: needed.includes(SECRETS.slackBotToken) ? requireCheckedSecret(SECRETS.slackBotToken) : undefined,
            onCallApiKey: needed.includes(SECRETS.opsgenieApiKey) ? requireCheckedSecret(SECRETS.opsgenieApiKey) : undefined,
            jsmApiToken: needed.includes(SECRETS.jsmApiToken) ? requireCheckedSecret(SECRETS.jsmApiToken) : undefined,
            datadogApiKey: requireCheckedSecret(SECRETS.datadogApiKey),
        },
    };
}

/** Project root: paths in the config (the rules file) are relative to it, as in a pull request. */
const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** Reads the rules file and checks it now, so a bad rule fails the preview, not the first alert. */
function readMailRules(settings: AlertlineSettings): { text: string; warnings: string[] } {
    const file = path.resolve(PROJECT_ROOT, settings.mailRules!);
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch (error) {
        throw new ConfigError([`alertline:mailRules "${settings.mailRules}" cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): give a path relative to the project root`]);
    }
    return { text, warnings: checkMailRules(text, settings).warnings };
}

/**
 * Validates the rules text against the stack: every fault of the file, and every tower or site a
 * rule names that `alertline:sites` lacks, throw one ConfigError. Returns the routing warnings
 * (a rule that names no destination, a site no rule lights), each prefixed with the key. Pure.
 */
export function checkMailRules(text: string, settings: Pick<AlertlineSettings, "mailRules" | "sites">): { rules: MailRules; warnings: string[] } {
    const where = `alertline:mailRules ${settings.mailRules}`;
    let rules: MailRules;
    try {
        rules = parseMailRules(text, settings.mailRules);
    } catch (error) {
        if (error instanceof MailRulesError) throw new ConfigError(error.problems.map((p) => `${where}: ${p}`));
        throw error;
    }
    const towers = settings.sites.flatMap((site) => site.towers.map((t) => t.name));
    const sites = settings.sites.map((site) => site.name);
    const problems = [
        ...unknownRuleTowers(rules, towers).map(({ rule, tower }) => `${where}: rule "${rule}" names tower "${tower}", which no site in alertline:sites has (towers: ${towers.join(", ") || "none"})`),
        ...unknownRuleSites(rules, sites).map(({ rule, site }) => `${where}: rule "${rule}" names site "${site}", which alertline:sites does not have (sites: ${sites.join(", ") || "none"})`),
    ];
    if (problems.length > 0) throw new ConfigError(problems);
    return { rules, warnings: routingWarnings(rules, settings.sites).map((w) => `${where}: ${w.message}`) };
}
