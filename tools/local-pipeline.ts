// First: switches the AWS SDK's Node-version warning off before the handlers below build clients.
import { writeNodeSupportNote } from "./quiet-sdk-warning";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { Context, SNSEvent } from "aws-lambda";
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { canarySender, heartbeatName } from "../components/mail-ingest/mail-canary";
import { jsmOnCall, onCallBackends as onCallBackendsOf, opsgenieOnCall, parseSettings, rawSettings, type AlertlineSettings } from "../components/shared/stack-config";
import { towerConfig } from "../components/patlite-site/site-config";
import { PROJECT_ROOT, readStackConfig } from "./offline/stack-files";
import { createHandler as createAckHandler } from "../functions/ack-webhook/handler";
import { TOKEN_HEADER } from "../functions/ack-webhook/auth";
import { BACKEND_HEADER } from "../functions/ack-webhook/ack-note";
import { createHandler as createCanaryHandler, type CanarySent } from "../functions/mail-canary/handler";
import { createHandler as createIngestHandler } from "../functions/mail-ingest/handler";
import type { IngestOutcome } from "../functions/mail-ingest/ingest";
import { classify, type MailRules } from "../functions/shared/mail-rules";
import { routeTowers } from "../functions/shared/mail-routing";
import { createOnCallClient, jsmOpsApiUrl, onCallAlias, type OnCallBackend } from "../functions/shared/oncall-alerts";
import { ACTIVE_SEVERITIES, type Severity } from "../functions/shared/severity";
import type { TowerConfig, TowerProtocol } from "../functions/shared/tower-config";
import { createHandler as createNotifierHandler } from "../functions/slack-notifier/handler";
import {
    SLACK_API_URL_ENV,
    SLACK_BOT_TOKEN_CIPHERTEXT_ENV,
    SLACK_CHANNEL_ID_ENV,
    SLACK_MODE_ENV,
    SLACK_MODES,
    SLACK_THREAD_MAX_AGE_ENV,
    SLACK_THREAD_TABLE_ENV,
    type SlackMode,
} from "../functions/slack-notifier/slack-mode";
import { slackAppFromEnv } from "../functions/slack-notifier/slack-app";
import { parseSnsMessage } from "../functions/slack-notifier/alert-parse";
import { functionEncryptionContext } from "../functions/shared/kms-env-secret";
import { startLocalKms } from "./local/kms";
import { startSlackWebApi, type SlackStoredMessage, type SlackWebApi } from "./local/slack-web-api";
import { createHandler as createDispatchHandler } from "../functions/tower-dispatch/handler";
import { sendCanaryViaSmtp } from "./local/canary-local";
import { loadRules, MailCliError } from "./mail-cli";
import { startTowerEmulator, type TowerEmulator } from "./local/patlite-emulator";
import { MAIL_INGEST_TRANSLATION, startStateTable } from "./local/dynamo";
import { startFunctionUrl } from "./local/function-url";
import { close as closeServer, listen, LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, readBody } from "./local/http";
import { startOnCallSink, type OnCallAlert, type OnCallRequest, type OnCallWebhookCall } from "./local/oncall";
import { startS3Stub } from "./local/s3";
import { startSesInbound, type VerdictMode } from "./local/ses";
import { slackWebhookRefusal } from "./local/slack";
import { startSnsStub } from "./local/sns";
import { startSqsStub } from "./local/sqs";
import { DEFAULT_PAGE_PORT, startLocalPage, type LocalPage } from "./local/page";
import { DEFAULT_PAGE_ALERTS, pageState, type PageInput, type PageState } from "./local/page-state";

/**
 * `npm start`: the whole mail-to-tower path on this machine, with the real code and real protocols.
 *
 *   SMTP client ─► SMTP server on 127.0.0.1 (standing in for SES: stores the mail in a local S3,
 *   publishes the S3 action's notification to the local mail topic) ─► mail-ingest (the real
 *   handler) ─► local SQS FIFO queue ─► tower-dispatch (the real handler) ─► PATLITE emulators
 *   over TCP, one per tower of the stack, printing their lamps; everything on the local alert topic
 *   ─► slack-notifier (the real handler) ─► a local Slack sink printing each message (with
 *   `--slack app`: in app mode, against the Slack Web API stand-in, printing the channel's changes).
 *
 * On-call closes the loop (issue 5): mail-ingest pages a local Opsgenie stand-in (tools/local/oncall.ts)
 * for mail that lit a tower and closes the alert on recovery; the real mail-canary handler sends its
 * canary over SMTP right after start and then every `--canary-seconds`, and mail-ingest pings the
 * heartbeat for it; the real ack-webhook handler answers behind a local function URL, so an
 * acknowledgement (the banner's curl, as Opsgenie's webhook would send it) returns the tower to quiet.
 *
 * Configuration is the stack's own (`Pulumi.<stack>.yaml`: sites, towers, allowed senders, the rules
 * file), with each tower's address replaced by its emulator's. DynamoDB is dynalite; S3, SQS and SNS
 * are the local peers in ./local, reached through the real SDK clients.
 */

export const USAGE = `usage: npm start -- [--stack dev|prod] [--oncall opsgenie|jsm|dual] [--smtp-port 2525] [--verdicts pass|fail] [--canary-seconds 60] [--ack-port 0] [--page-port ${DEFAULT_PAGE_PORT}] [--slack webhook|app]
  --stack           the Pulumi stack whose sites, towers, senders and rules to run (default dev)
  --oncall          the on-call backend to run against its stand-in: opsgenie, jsm, or dual (both, the migration window); default the stack's alertline:oncall
  --smtp-port       where the SMTP server listens on 127.0.0.1 (default 2525; 0 picks a free port)
  --verdicts        the SPF/DKIM/DMARC verdicts every mail gets (default pass; fail shows the untrusted path)
  --canary-seconds  send the mail-path canary right after start and then every N seconds (default 60; 0 sends none)
  --ack-port        where the acknowledgement endpoint listens on 127.0.0.1 (default 0: a free port)
  --page-port       where the live page (towers and the last alerts) is served on 127.0.0.1 (default ${DEFAULT_PAGE_PORT}; 0 picks a free port)
  --slack           how slack-notifier reaches Slack: webhook (default; an incoming-webhook stand-in) or app (alertline:slack.mode app: one message per alert, updated in place, replies in its thread, against a Slack Web API stand-in)`;

/** Lambda timeouts the stack gives the functions (components/mail-ingest/mail-ingest.ts, alert-channel.ts, mail-canary.ts, ack-endpoint.ts). */
const TIMEOUT_SECONDS = { "mail-ingest": 120, "tower-dispatch": 60, "slack-notifier": 60, "mail-canary": 30, "ack-webhook": 15 } as const;
/** Default seconds between canaries here (the stack's default is 10 minutes: alertline:canary.intervalMinutes). */
const DEFAULT_CANARY_SECONDS = 60;
/** The on-call API key mail-ingest sends the stand-in; any non-empty key passes there. */
const LOCAL_ONCALL_KEY = "local-npm-start";
/** How long a failed signal intent stays invisible locally (the stack's queue: 6 minutes). */
const LOCAL_VISIBILITY_TIMEOUT_MS = 2000;

export class PipelineUsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PipelineUsageError";
    }
}

export interface PipelineArgs {
    readonly stack: string;
    readonly smtpPort: number;
    readonly verdicts: VerdictMode;
    /** Seconds between canaries; 0: none. */
    readonly canarySeconds: number;
    readonly ackPort: number;
    /** --oncall: run this backend (or both) instead of the stack's; undefined keeps the stack's. */
    readonly oncall?: LocalOnCallMode;
    /** --page-port; undefined: {@link DEFAULT_PAGE_PORT}. */
    readonly pagePort?: number;
    /** --slack; undefined: webhook. */
    readonly slack?: LocalSlackMode;
}

/** How the local slack-notifier reaches Slack: `alertline:slack.mode`, run against its stand-in. */
export type LocalSlackMode = SlackMode;

export type LocalOnCallMode = "opsgenie" | "jsm" | "dual";

/** The JSM site `--oncall jsm|dual` uses when the stack has none: a made-up cloud ID and account (only the stand-in sees them). */
export const LOCAL_JSM_SITE = { cloudId: "00000000-0000-4000-8000-00000000c10d", email: "alertline-local@example.com" } as const;

/**
 * `alertline:oncall` for a --oncall mode, from the stack's own: the stack's settings of a backend
 * where it has them (its team name serves both, as Opsgenie's migration keeps team names), else
 * local ones ({@link LOCAL_JSM_SITE}, Opsgenie's us region). Pure.
 */
export function localOnCall(oncall: AlertlineSettings["oncall"], mode: LocalOnCallMode): Record<string, unknown> {
    const opsgenie = opsgenieOnCall(oncall);
    const jsm = jsmOnCall(oncall);
    const team = opsgenie?.team ?? jsm!.team;
    const opsgenieFields = { region: opsgenie?.region ?? "us", team };
    const jsmFields = { cloudId: jsm?.cloudId ?? LOCAL_JSM_SITE.cloudId, email: jsm?.email ?? LOCAL_JSM_SITE.email };
    if (mode === "opsgenie") return { backend: "opsgenie", ...opsgenieFields };
    if (mode === "jsm") return { backend: "jsm", team: jsm?.team ?? team, ...jsmFields };
    return { backend: ["opsgenie", "jsm"], ...opsgenieFields, ...(jsm !== undefined && jsm.team !== team ? { jsmTeam: jsm.team } : {}), ...jsmFields };
}

/** A port number 0–65535 from the option's text; throws naming the option. */
function portOption(name: string, text: string): number {
    const port = Number(text);
    if (!/^\d+$/.test(text) || port > 65535) throw new PipelineUsageError(`--${name} must be a port number 0–65535, got ${JSON.stringify(text)}\n${USAGE}`);
    return port;
}

/** Reads the command line; throws {@link PipelineUsageError} saying what is wrong. Pure. */
export function parsePipelineArgs(argv: readonly string[]): PipelineArgs | "help" {
    let values: { stack?: string; oncall?: string; "smtp-port"?: string; verdicts?: string; "canary-seconds"?: string; "ack-port"?: string; "page-port"?: string; slack?: string; help?: boolean };
    try {
        ({ values } = parseArgs({
            args: [...argv],
            options: {
                stack: { type: "string" },
                oncall: { type: "string" },
                "smtp-port": { type: "string" },
                verdicts: { type: "string" },
                "canary-seconds": { type: "string" },
                "ack-port": { type: "string" },
                "page-port": { type: "string" },
                slack: { type: "string" },
                help: { type: "boolean" },
            },
            strict: true,
        }));
    } catch (error) {
        throw new PipelineUsageError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    }
    if (values.help) return "help";
    const smtpPort = portOption("smtp-port", values["smtp-port"] ?? "2525");
    const ackPort = portOption("ack-port", values["ack-port"] ?? "0");
    const canaryText = values["canary-seconds"] ?? String(DEFAULT_CANARY_SECONDS);
    const canarySeconds = Number(canaryText);
    // setInterval's limit is 2^31-1 ms; a day is plenty for a local run.
    if (!/^\d+$/.test(canaryText) || canarySeconds > 86_400) {
        throw new PipelineUsageError(`--canary-seconds must be a whole number of seconds 0–86400 (0 sends no canary), got ${JSON.stringify(canaryText)}\n${USAGE}`);
    }
    const verdicts = values.verdicts ?? "pass";
    if (verdicts !== "pass" && verdicts !== "fail") throw new PipelineUsageError(`--verdicts must be pass or fail, got ${JSON.stringify(verdicts)}\n${USAGE}`);
    const stack = values.stack ?? "dev";
    if (stack === "") throw new PipelineUsageError(`--stack needs a stack name, e.g. dev\n${USAGE}`);
    const oncall = values.oncall;
    if (oncall !== undefined && oncall !== "opsgenie" && oncall !== "jsm" && oncall !== "dual") {
        throw new PipelineUsageError(`--oncall must be opsgenie, jsm or dual (both backends, the migration window), got ${JSON.stringify(oncall)}\n${USAGE}`);
    }
    const pagePort = values["page-port"] === undefined ? undefined : portOption("page-port", values["page-port"]);
    const slack = values.slack;
    if (slack !== undefined && !(SLACK_MODES as readonly string[]).includes(slack)) {
        throw new PipelineUsageError(`--slack must be webhook (an incoming webhook, the default) or app (a bot token: one message per alert with its thread), got ${JSON.stringify(slack)}\n${USAGE}`);
    }
    return {
        stack,
        smtpPort,
        verdicts,
        canarySeconds,
        ackPort,
        ...(oncall === undefined ? {} : { oncall }),
        ...(pagePort === undefined ? {} : { pagePort }),
        ...(slack === undefined ? {} : { slack: slack as LocalSlackMode }),
    };
}

// ---- The stack's configuration ----------------------------------------------------------------------

export interface LocalTower {
    /** The tower as towers.json has it in the stack (its real address). */
    readonly config: TowerConfig;
    /** What runs differently here, if anything. */
    readonly note?: string;
}

export interface LocalStack {
    readonly stack: string;
    readonly settings: AlertlineSettings;
    /** `<recipient>@<domain>`: the receipt rule's only recipient. */
    readonly alertAddress: string;
    readonly rulesFile: string;
    readonly rules: MailRules;
    readonly towers: readonly LocalTower[];
}

/**
 * The stack's settings as the program reads them (Pulumi.<stack>.yaml, validated by parseSettings),
 * its rules file, and its towers as towers.json describes them. Sites that relay through SSM are run
 * as `relay: vpn`: there is no monitored host here, the dispatcher talks to the emulator itself.
 */
export function loadLocalStack(stack: string): LocalStack {
    const { config } = readStackConfig(stack);
    const settings = parseSettings(rawSettings(config, stack));
    if (settings.mail === undefined || settings.mailRules === undefined) {
        throw new PipelineUsageError(`stack ${stack} has no alertline:mail and alertline:mailRules in Pulumi.${stack}.yaml: it receives no mail, so npm start has nothing to run`);
    }
    let rules: MailRules;
    try {
        rules = loadRules(path.resolve(PROJECT_ROOT, settings.mailRules));
    } catch (error) {
        if (error instanceof MailCliError) throw new PipelineUsageError(`alertline:mailRules of stack ${stack}: ${error.message}`);
        throw error;
    }
    const towers = settings.sites.flatMap((site) =>
        site.towers.map((tower): LocalTower => {
            if (site.relay !== "ssm") return { config: towerConfig(site, tower) };
            return {
                config: towerConfig({ ...site, relay: "vpn" }, tower),
                note: `site ${site.name} relays through SSM on host ${site.relayHost} in AWS; here tower-dispatch reaches the emulator directly (as relay vpn)`,
            };
        }),
    );
    return { stack, settings, alertAddress: `${settings.mail.recipient}@${settings.mail.domain}`, rulesFile: settings.mailRules, rules, towers };
}

// ---- Local Slack ------------------------------------------------------------------------------------

export interface SlackPost {
    /** The message's `text` (its notification and fallback line). */
    readonly text: string;
    readonly payload: Record<string, unknown>;
}

/**
 * An incoming-webhook stand-in: answers 200 `ok` to what Slack would post, and Slack's error to
 * what it would refuse (local/slack.ts), printing why.
 */
async function startSlackSink(log: (line: string) => void): Promise<{ url: string; posts: SlackPost[]; close(): Promise<void> }> {
    const posts: SlackPost[] = [];
    const webhookPath = "/services/TLOCAL/BLOCAL/localpipelinesecret";
    const server = createServer(async (req, res) => {
        const body = (await readBody(req)).toString("utf8");
        const refusal = slackWebhookRefusal({ method: req.method ?? "", path: req.url ?? "", contentType: req.headers["content-type"], body }, webhookPath);
        if (refusal) {
            log(`[slack] refused (${refusal.status} ${refusal.body}): ${refusal.reason}`);
            res.writeHead(refusal.status, { "content-type": "text/html" });
            res.end(refusal.body);
            return;
        }
        const payload = JSON.parse(body) as Record<string, unknown>;
        const text = typeof payload.text === "string" ? payload.text : "";
        posts.push({ text, payload });
        log(`[slack] ${text}`);
        res.writeHead(200, { "content-type": "text/html" });
        res.end("ok");
    });
    const endpoint = await listen(server);
    return { url: `${endpoint}${webhookPath}`, posts, close: () => closeServer(server) };
}

/** A failed slack-notifier invocation of one SNS message. */
export interface SlackFailure {
    readonly snsMessageId: string;
    readonly attempt: number;
    /** False: the last attempt; in AWS the event goes to the notifier's dead-letter queue. */
    readonly willRetry: boolean;
    readonly error: string;
}

/** The channel `--slack app` posts to when the stack names none (alertline:slack.channelId). */
export const LOCAL_SLACK_CHANNEL_ID = "C0ALERTLINE";

/** `alertline:slack` for this run's mode, from the stack's: app mode with the stack's channel ID, or {@link LOCAL_SLACK_CHANNEL_ID}. Pure. */
export function localSlackSettings(slack: AlertlineSettings["slack"], mode: LocalSlackMode): Record<string, unknown> {
    const common = { channel: slack.channel, datadogAccount: slack.datadogAccount };
    if (mode === "webhook") return { ...common, mode: "webhook" };
    return { ...common, mode: "app", channelId: slack.mode === "app" ? slack.channelId : LOCAL_SLACK_CHANNEL_ID, ...(slack.mode === "app" ? { threadMaxAgeHours: slack.threadMaxAgeHours } : {}) };
}

export interface LocalSlackApp {
    readonly api: SlackWebApi;
    readonly channel: { readonly id: string; readonly name: string };
    /** The environment slack-notifier runs with (the token only as ciphertext). */
    readonly env: Readonly<Record<string, string>>;
    /** The real handler in app mode. */
    readonly notify: ReturnType<typeof createNotifierHandler>;
    /** Prints what changed in the channel since the last call: "[slack] posted …", "updated …", "replied …". */
    report(): void;
    close(): Promise<void>;
}

/**
 * Slack's app mode here: the Web API stand-in (tools/local/slack-web-api.ts) with one channel the
 * bot is in and a token made for the run; the token reaches slack-notifier only as ciphertext of a
 * local KMS, as the AlertChannel component sets it up (SLACK_BOT_TOKEN_CIPHERTEXT, encryption
 * context {LambdaFunctionName}); its thread table is a flood table of its own on dynalite. With
 * `timeScale` > 1 the stand-in's clock and the notifier's clock and waits run that much faster.
 */
export async function startLocalSlackApp(options: {
    readonly environment: string;
    readonly slack: Extract<AlertlineSettings["slack"], { mode: "app" }>;
    readonly log: (line: string) => void;
    readonly timeScale?: number;
}): Promise<LocalSlackApp> {
    const scale = options.timeScale ?? 1;
    if (!Number.isFinite(scale) || scale < 1 || scale > 100) throw new PipelineUsageError(`slackTimeScale must be 1 (real time) to 100, got ${scale}`);
    const started = Date.now();
    const now = scale === 1 ? Date.now : () => started + (Date.now() - started) * scale;
    const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms / scale));
    const closers: (() => Promise<void>)[] = [];
    const closeAll = async () => {
        for (const closeOne of closers.splice(0).reverse()) await closeOne();
    };
    try {
        const functionName = `alertline-${options.environment}-alerts-notifier`;
        const token = `xoxb-${randomBytes(6).readUIntBE(0, 6)}-${randomBytes(6).readUIntBE(0, 6)}-${randomBytes(12).toString("hex")}`;
        const channel = { id: options.slack.channelId, name: options.slack.channel.replace(/^#/, "") };
        const api = await startSlackWebApi({ token, channels: [{ id: channel.id, name: channel.name, member: true }], clock: now });
        closers.push(() => api.close());
        const kms = await startLocalKms();
        closers.push(() => kms.close());
        const threads = await startStateTable(`alertline-${options.environment}-flood`);
        closers.push(() => threads.close());
        const kmsClient = kms.client();
        closers.push(async () => kmsClient.destroy());
        const env = {
            [SLACK_MODE_ENV]: "app",
            [SLACK_BOT_TOKEN_CIPHERTEXT_ENV]: kms.encrypt(token, functionEncryptionContext(functionName)),
            [SLACK_CHANNEL_ID_ENV]: channel.id,
            [SLACK_THREAD_MAX_AGE_ENV]: String(options.slack.threadMaxAgeHours * 3600),
            [SLACK_API_URL_ENV]: api.url,
            [SLACK_THREAD_TABLE_ENV]: threads.table,
            AWS_LAMBDA_FUNCTION_NAME: functionName,
        };
        const logger = functionLogger("slack-notifier", options.log);
        const app = slackAppFromEnv(env, {
            logger,
            environment: options.environment,
            kms: () => kmsClient,
            documentClient: () => threads.documentClient,
            parse: (record) => parseSnsMessage(typeof record.Sns.Message === "string" ? record.Sns.Message : JSON.stringify(record.Sns.Message), record.Sns.Subject ?? undefined),
            now,
            sleep,
        });
        const notify = createNotifierHandler({
            webhookUrl: () => Promise.reject(new Error("slack-notifier runs in app mode here: it must not use the webhook")),
            logger,
            environment: options.environment,
            now,
            sleep,
            app,
        });
        const report = channelReporter(api, channel.id, options.log);
        return { api, channel, env, notify, report, close: closeAll };
    } catch (error) {
        await closeAll();
        throw error;
    }
}

/** A function that logs the channel's changes since its last call, from the stand-in's messages. */
function channelReporter(api: SlackWebApi, channelId: string, log: (line: string) => void): () => void {
    const seen = new Map<string, { updates: number; replies: number }>();
    const line = (text: string) => (text.length > 200 ? `${text.slice(0, 199)}…` : text).replace(/\s+/g, " ");
    return () => {
        for (const root of api.messages(channelId)) {
            const before = seen.get(root.ts);
            if (before === undefined) log(`[slack] posted ${root.ts}: ${line(root.text)}`);
            else if (root.updates > before.updates) log(`[slack] updated ${root.ts} (edit ${root.updates}): ${line(root.text)}`);
            const replies = api.replies(channelId, root.ts);
            for (const reply of replies.slice(before?.replies ?? 0)) log(`[slack] replied in ${root.ts}: ${line(reply.text)}`);
            seen.set(root.ts, { updates: root.updates, replies: replies.length });
        }
    };
}

/** The stand-in's messages as the page reads posts: each root (as it reads now) and reply with its text and content. */
function appModePosts(api: SlackWebApi, channelId: string): SlackPost[] {
    const asPost = (m: SlackStoredMessage): SlackPost => ({ text: m.text, payload: { text: m.text, blocks: m.blocks, attachments: m.attachments } });
    return api.messages(channelId).flatMap((root) => [asPost(root), ...api.replies(channelId, root.ts).map(asPost)]);
}

// ---- Lambda runtime stand-ins -------------------------------------------------------------------------

type FunctionName = keyof typeof TIMEOUT_SECONDS;

/** The context Lambda passes, with the remaining time counting down from the function's timeout. */
function lambdaContext(environment: string, name: FunctionName): Context {
    const functionName = `alertline-${environment}-${name}`;
    const started = Date.now();
    return {
        functionName,
        functionVersion: "$LATEST",
        invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
        memoryLimitInMB: "256",
        awsRequestId: randomUUID(),
        logGroupName: `/aws/lambda/${functionName}`,
        logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, "")}`,
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, TIMEOUT_SECONDS[name] * 1000 - (Date.now() - started)),
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
    };
}

/** One line per log call: `[mail-ingest] Mail classified {"messageId":…}`. */
function functionLogger(name: FunctionName, log: (line: string) => void) {
    const write =
        (level: "info" | "warn" | "error") =>
        (message: string, ...attributes: unknown[]): void => {
            const merged = Object.assign({}, ...attributes.filter((a) => typeof a === "object" && a !== null));
            const detail = Object.keys(merged).length > 0 ? ` ${JSON.stringify(merged)}` : "";
            log(`[${name}] ${level === "info" ? "" : `${level.toUpperCase()} `}${message}${detail.length > 600 ? `${detail.slice(0, 599)}…` : detail}`);
        };
    return { info: write("info"), warn: write("warn"), error: write("error") };
}

const errorText = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

// ---- The pipeline -----------------------------------------------------------------------------------

export interface LocalPipelineOptions {
    /** Default dev. */
    readonly stack?: string;
    /** Default 2525; 0 picks a free port. */
    readonly smtpPort?: number;
    /** Default pass. */
    readonly verdicts?: VerdictMode;
    /**
     * Seconds between canaries, the first right after start. Default 60; 0: none on a timer
     * ({@link LocalPipeline.runCanary} still sends one). Ignored when the stack's canary is off.
     */
    readonly canarySeconds?: number;
    /** Port of the acknowledgement endpoint on 127.0.0.1. Default 0: a free one. */
    readonly ackPort?: number;
    /** Where every line goes. Default stdout. */
    readonly log?: (line: string) => void;
    /** Replaces the stack's alertline:oncall (validated the same way), e.g. to run JSM's backend against its stand-in. Default the stack's. */
    readonly onCall?: Record<string, unknown>;
    /** Runs this backend (or both) against the stand-ins instead of the stack's ({@link localOnCall}); ignored when onCall is given. */
    readonly oncall?: LocalOnCallMode;
    /** Port of the live page on 127.0.0.1. Default 0: a free one (`npm start`: {@link DEFAULT_PAGE_PORT}). */
    readonly pagePort?: number;
    /** How slack-notifier reaches Slack (alertline:slack.mode for this run). Default webhook. */
    readonly slack?: LocalSlackMode;
    /**
     * Tests only, app mode: the Slack Web API stand-in's clock (its rate limits) and the notifier's
     * clock, deadlines and waits run this many times faster than the wall clock. Default 1.
     */
    readonly slackTimeScale?: number;
}

export interface LocalPipelineTower {
    readonly name: string;
    readonly site: string;
    readonly protocol: TowerProtocol;
    /** The tower's address in the stack. */
    readonly stackAddress: string;
    readonly emulator: TowerEmulator;
    readonly note?: string;
}

export interface LocalPipeline {
    readonly stack: LocalStack;
    readonly smtpHost: string;
    readonly smtpPort: number;
    readonly alertAddress: string;
    readonly verdicts: VerdictMode;
    readonly towers: readonly LocalPipelineTower[];
    /** Every message the Slack sink received, in order (webhook mode; app mode: see slackApi). */
    readonly slackMessages: SlackPost[];
    /** webhook or app (--slack). */
    readonly slackMode: LocalSlackMode;
    /** App mode: the Slack Web API stand-in and the channel the bot posts to; undefined in webhook mode. */
    readonly slackApi: SlackWebApi | undefined;
    readonly slackChannel: { readonly id: string; readonly name: string } | undefined;
    /** Every failed slack-notifier invocation: retried (Lambda's asynchronous retries) or given up (in AWS: its dead-letter queue). */
    readonly slackFailures: readonly SlackFailure[];
    /** The stack's on-call backend ("dual" in the migration window); the stand-in answers for either. */
    readonly onCallBackend: OnCallBackend | "dual";
    /** The backends paged, Opsgenie first. */
    readonly onCallBackends: readonly OnCallBackend[];
    /** Base URL mail-ingest pages: the stand-in's Opsgenie API, or its JSM integration API (Opsgenie's in the window). */
    readonly onCallUrl: string;
    /** Each backend's base URL on the stand-in. */
    readonly onCallUrls: Readonly<Partial<Record<OnCallBackend, string>>>;
    /**
     * Acknowledges the alert with this alias in one backend's stand-in, as someone on call would
     * (POST /v2/alerts/{alias}/acknowledge?identifierType=alias); its outgoing webhook then calls
     * ack-webhook. Resolves with the stand-in's status; settled() waits for the webhook and what follows.
     */
    acknowledge(backend: OnCallBackend, alias: string): Promise<number>;
    /** Every call the stand-in's outgoing webhooks made to ack-webhook. */
    readonly webhookCalls: readonly OnCallWebhookCall[];
    /** Every request the on-call stand-in received, in order. */
    readonly onCallRequests: readonly OnCallRequest[];
    /** The on-call alerts as they stand now, in the order they were opened. */
    onCallAlerts(): OnCallAlert[];
    /** The canary's From address and the heartbeat it pings; undefined when the stack's canary is off. */
    readonly canary: { readonly sender: string; readonly heartbeatName: string } | undefined;
    /** Seconds between canaries on the timer; 0: none. */
    readonly canarySeconds: number;
    /** The acknowledgement endpoint: the real ack-webhook behind a local function URL. */
    readonly ackUrl: string;
    /** This run's shared secret, sent in the x-alertline-token header. */
    readonly ackToken: string;
    /** Sends one canary now through the real mail-canary handler; resolves once the SMTP server took it. */
    runCanary(): Promise<CanarySent>;
    /** The live page: towers as lamps and the last alerts with their path (tools/local/page.html). */
    readonly pageUrl: string;
    /** What the page shows now. */
    pageState(): PageState;
    /** Resolves when no canary, mail, acknowledgement, signal intent or alert is being processed. */
    settled(): Promise<void>;
    close(): Promise<void>;
}

/** Starts everything; on failure, closes what had started and rethrows. */
export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
    const log = options.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
    const verdicts = options.verdicts ?? "pass";
    const canarySeconds = options.canarySeconds ?? DEFAULT_CANARY_SECONDS;
    if (!Number.isFinite(canarySeconds) || canarySeconds < 0 || canarySeconds > 86_400) {
        throw new PipelineUsageError(`canarySeconds must be 0 (no canary on a timer) to 86400 seconds, got ${canarySeconds}`);
    }
    const loaded = loadLocalStack(options.stack ?? "dev");
    const onCallOverride = options.onCall ?? (options.oncall === undefined ? undefined : localOnCall(loaded.settings.oncall, options.oncall));
    const slackMode = options.slack ?? "webhook";
    if (!(SLACK_MODES as readonly string[]).includes(slackMode)) throw new PipelineUsageError(`slack must be webhook or app, got ${JSON.stringify(slackMode)}`);
    // The run's alertline:slack.mode decides, as the stack's would, whether ack-webhook and tower-dispatch publish thread notes.
    const slackSettings = localSlackSettings(loaded.settings.slack, slackMode);
    const stack = { ...loaded, settings: parseSettings({ ...loaded.settings, slack: slackSettings, ...(onCallOverride === undefined ? {} : { oncall: onCallOverride }) }) };
    const environment = stack.settings.environment;
    // As the stack's components decide (index.ts): tower changes and acknowledgements go to the alert's thread in Slack's app mode only.
    const threadNotes = stack.settings.slack.mode === "app";
    // The names the stack deploys (components/mail-ingest/mail-canary.ts), so the log shows what on-call would see.
    const canary = stack.settings.canary.enabled && stack.settings.mail !== undefined ? { sender: canarySender(stack.settings.mail.domain), heartbeatName: heartbeatName(environment) } : undefined;
    const closers: (() => Promise<void> | void)[] = [];
    const closeAll = async () => {
        for (const closeOne of closers.splice(0).reverse()) {
            try {
                await closeOne();
            } catch (error) {
                log(`[npm start] while closing: ${errorText(error)}`);
            }
        }
    };
    try {
        const names = {
            bucket: `alertline-${environment}-mail-local`,
            mailTopic: `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alertline-${environment}-mail`,
            alertTopic: `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alertline-${environment}-alerts`,
            queue: `alertline-${environment}-signals.fifo`,
            deadLetters: `alertline-${environment}-signals-dlq.fifo`,
            table: `alertline-${environment}-state`,
        };

        const dynamo = await startStateTable(names.table);
        closers.push(() => dynamo.close());
        const s3 = await startS3Stub();
        closers.push(() => s3.close());
        const sqs = await startSqsStub({ queueName: names.queue });
        closers.push(() => sqs.close());
        const dlq = await startSqsStub({ queueName: names.deadLetters });
        closers.push(() => dlq.close());
        const sns = await startSnsStub({ topics: [names.alertTopic, names.mailTopic] });
        closers.push(() => sns.close());
        const slack = slackMode === "webhook" ? await startSlackSink(log) : undefined;
        if (slack !== undefined) closers.push(() => slack.close());
        const slackApp = stack.settings.slack.mode === "app" ? await startLocalSlackApp({ environment, slack: stack.settings.slack, log, timeScale: options.slackTimeScale }) : undefined;
        if (slackApp !== undefined) closers.push(() => slackApp.close());
        const oncallSettings = stack.settings.oncall;
        const jsmSettings = jsmOnCall(oncallSettings);
        const onCallBackends = onCallBackendsOf(oncallSettings);
        // With JSM the heartbeat ping goes to the ops REST API stand-in: the stack's site and team, a token made for the run.
        const jsmSite = jsmSettings === undefined ? undefined : { cloudId: jsmSettings.cloudId, email: jsmSettings.email, apiToken: `local-${randomUUID()}`, teams: [{ id: randomUUID(), name: jsmSettings.team }] };
        const onCallSink = await startOnCallSink({ log, ...(jsmSite === undefined ? {} : { jsmOps: jsmSite }) });
        closers.push(() => onCallSink.close());
        const onCallBackend: OnCallBackend | "dual" = onCallBackends.length > 1 ? "dual" : onCallBackends[0];
        const onCallUrls: Partial<Record<OnCallBackend, string>> = Object.fromEntries(onCallBackends.map((b) => [b, b === "jsm" ? onCallSink.jsmUrl : onCallSink.url]));
        const onCallUrl = onCallUrls[onCallBackends[0]]!;
        const clientOf = (backend: OnCallBackend) =>
            createOnCallClient({
                apiUrl: onCallUrls[backend]!,
                apiKey: async () => LOCAL_ONCALL_KEY,
                ...(backend !== "jsm" || jsmSite === undefined
                    ? {}
                    : { jsmHeartbeat: { opsApiUrl: jsmOpsApiUrl(jsmSite.cloudId, onCallSink.gatewayUrl), teamId: jsmSite.teams[0].id, email: jsmSite.email, apiToken: async () => jsmSite.apiToken } }),
            });
        // One backend: its client, as mail-ingest's handler builds it; the window: both, named (functions/mail-ingest/oncall-env.ts).
        const onCall = onCallBackends.length === 1 ? clientOf(onCallBackends[0]) : onCallBackends.map((backend) => ({ backend, client: clientOf(backend) }));

        const towers: LocalPipelineTower[] = [];
        for (const { config, note } of stack.towers) {
            const emulator = await startTowerEmulator({ protocol: config.protocol, name: config.name, log });
            closers.push(() => emulator.close());
            towers.push({ name: config.name, site: config.site, protocol: config.protocol, stackAddress: `${config.host}:${config.port}`, emulator, note });
        }
        const towerConfigs: TowerConfig[] = stack.towers.map(({ config }, i) => ({ ...config, host: towers[i].emulator.host, port: towers[i].emulator.port }));

        const s3Client = s3.client();
        const sqsClient = sqs.client();
        const dlqClient = dlq.client();
        const snsClient = sns.client();
        // Never called: every tower runs as relay vpn here. Points at a port nothing listens on.
        const ssmClient = new SSMClient({ region: LOCAL_REGION, endpoint: "http://127.0.0.1:9", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
        closers.push(() => [s3Client, sqsClient, dlqClient, snsClient, ssmClient].forEach((client) => client.destroy()));

        const ingest = createIngestHandler({
            s3: s3Client,
            ddb: dynamo.documentClientWith(MAIL_INGEST_TRANSLATION),
            sqs: sqsClient,
            sns: snsClient,
            logger: functionLogger("mail-ingest", log),
            config: () => ({
                environment,
                rules: stack.rules,
                towers: towerConfigs.map((t) => ({ name: t.name, site: t.site, allowedSenders: t.allowedSenders })),
                allowedSenders: stack.settings.mail?.allowedSenders ?? [],
                signalQueueUrl: sqs.queueUrl,
                alertTopicArn: names.alertTopic,
                stateTable: names.table,
                ...(canary === undefined ? {} : { canarySender: canary.sender, heartbeatName: canary.heartbeatName }),
            }),
            onCall: () => onCall,
        });
        const dispatch = createDispatchHandler({
            dynamo: dynamo.documentClient,
            sns: snsClient,
            sqs: dlqClient,
            ssm: ssmClient,
            logger: functionLogger("tower-dispatch", log),
            towers: () => towerConfigs,
            stateTable: names.table,
            alertTopicArn: names.alertTopic,
            deadLetterQueueUrl: dlq.queueUrl,
            environment,
            threadNotes,
        });
        const notify =
            slackApp === undefined
                ? createNotifierHandler({ webhookUrl: async () => slack!.url, logger: functionLogger("slack-notifier", log), environment })
                : async (event: SNSEvent, context: Context) => {
                      try {
                          await slackApp.notify(event, context);
                      } finally {
                          slackApp.report();
                      }
                  };
        const slackFailures: SlackFailure[] = [];

        const failed = (name: FunctionName) => (error: unknown, _record: unknown, attempt: number, willRetry: boolean) =>
            log(`[${name}] invocation ${attempt} failed${willRetry ? ", retrying" : ", giving up (in AWS: the dead-letter queue)"}: ${errorText(error)}`);
        // What mail-ingest made of each mail, for the page.
        const ingested: IngestOutcome[] = [];
        sns.onPublish(async (record) => void ingested.push(...(await ingest({ Records: [record] }, lambdaContext(environment, "mail-ingest")))), { topicArn: names.mailTopic, onError: failed("mail-ingest") });
        sns.onPublish((record) => notify({ Records: [record] }, lambdaContext(environment, "slack-notifier")), {
            topicArn: names.alertTopic,
            onError: (error, record, attempt, willRetry) => {
                slackFailures.push({ snsMessageId: record.Sns.MessageId, attempt, willRetry, error: errorText(error) });
                failed("slack-notifier")(error, record, attempt, willRetry);
            },
        });
        sqs.onMessages((event) => dispatch(event, lambdaContext(environment, "tower-dispatch")), {
            visibilityTimeoutMs: LOCAL_VISIBILITY_TIMEOUT_MS,
            onError: (error) => log(`[tower-dispatch] the batch failed and will be delivered again: ${errorText(error)}`),
            onDeadLetter: (message) => log(`[sqs] signal intent ${message.messageId} for ${message.MessageGroupId} failed ${message.receiveCount} times: moved to the dead letters`),
        });

        let smtp;
        try {
            smtp = await startSesInbound({
                recipients: [stack.alertAddress],
                bucketName: names.bucket,
                s3,
                sns: snsClient,
                topicArn: names.mailTopic,
                verdicts,
                port: options.smtpPort ?? 2525,
                log,
            });
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
                throw new PipelineUsageError(`port ${options.smtpPort ?? 2525} on 127.0.0.1 is in use: pass --smtp-port <another port> (0 picks a free one)`);
            }
            throw error;
        }
        const smtpTarget = { host: smtp.host, port: smtp.port };
        // Each stage can start the next (canary or acknowledgement → mail → intents → alerts), in this order.
        const stages: { busy(): boolean; drain(): Promise<void> }[] = [sns, sqs];
        const settled = async () => {
            while (stages.some((stage) => stage.busy())) {
                for (const stage of stages) await stage.drain();
            }
        };
        // Closed in reverse: first no new canary, acknowledgement or mail, then what is under way finishes (a few seconds at most), then the rest.
        closers.push(() => Promise.race([settled(), new Promise<void>((resolve) => setTimeout(resolve, 5000).unref())]));
        closers.push(() => smtp.close());

        const ackToken = randomBytes(24).toString("hex");
        const acknowledge = createAckHandler({
            sqs: sqsClient,
            secret: async () => ackToken,
            towers: () => towerConfigs,
            queueUrl: sqs.queueUrl,
            environment,
            logger: functionLogger("ack-webhook", log),
            // An alias is cleared once per page, whichever backend's webhook comes first.
            clearState: { ddb: dynamo.documentClient, table: names.table },
            // Slack's app mode: the acknowledgement is noted in the alert's thread, as the stack sets it up.
            notes: threadNotes ? { sns: snsClient, topicArn: names.alertTopic, backends: onCallBackends } : undefined,
        });
        let ack;
        try {
            ack = await startFunctionUrl({ handler: (event) => acknowledge(event, lambdaContext(environment, "ack-webhook")), port: options.ackPort ?? 0, log });
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
                throw new PipelineUsageError(`port ${options.ackPort} on 127.0.0.1 is in use: pass --ack-port <another port> (0, the default, picks a free one)`);
            }
            throw error;
        }
        stages.unshift(ack);
        closers.push(() => ack.close());
        // Each backend's outgoing webhook posts Acknowledge and Close to ack-webhook with this run's token (as components/mail-ingest/ack-endpoint.ts sets it up).
        for (const backend of onCallBackends) onCallSink.setWebhook(backend, { url: ack.url, headers: { [TOKEN_HEADER]: ackToken, [BACKEND_HEADER]: backend } });
        stages.unshift(onCallSink);

        const sendCanary = createCanaryHandler({
            send: (raw, from, to) => sendCanaryViaSmtp(raw, from, to, smtpTarget),
            logger: functionLogger("mail-canary", log),
            env: { CANARY_FROM: canary?.sender, CANARY_TO: stack.alertAddress, ALERTLINE_ENVIRONMENT: environment },
        });
        const canaries = startCanaries(canary === undefined ? 0 : canarySeconds, () => sendCanary(undefined, lambdaContext(environment, "mail-canary")));
        stages.unshift(canaries);
        closers.push(() => canaries.stop());

        const pageInput = (): PageInput => ({
            stack: stack.stack,
            environment,
            towers: towers.map((t) => ({ name: t.name, site: t.site, protocol: t.protocol, signal: t.emulator.state(), la6Colors: t.emulator.la6Detail().colors })),
            mails: smtp.received,
            ingested,
            intents: { accepted: sqs.accepted, waiting: sqs.queue, deadLetters: sqs.deadLetters },
            onCallAlerts: onCallSink.alerts(),
            slackPosts: slackApp === undefined ? slack!.posts : appModePosts(slackApp.api, slackApp.channel.id),
            ...(canary === undefined ? {} : { canarySender: canary.sender }),
        });
        const page = await startPipelinePage(options.pagePort ?? 0, () => pageState(pageInput()), log);
        closers.push(() => page.close());

        return {
            stack,
            smtpHost: smtp.host,
            smtpPort: smtp.port,
            alertAddress: stack.alertAddress,
            verdicts,
            towers,
            slackMessages: slack?.posts ?? [],
            slackMode,
            slackApi: slackApp?.api,
            slackChannel: slackApp?.channel,
            slackFailures,
            onCallBackend,
            onCallBackends,
            onCallUrl,
            onCallUrls,
            acknowledge: async (backend, alias) => {
                const base = onCallUrls[backend];
                if (base === undefined) throw new PipelineUsageError(`the run pages ${onCallBackends.join(" and ")}, not ${backend}: start it with --oncall ${backend} or dual`);
                const response = await fetch(`${base}/v2/alerts/${encodeURIComponent(alias)}/acknowledge?identifierType=alias`, {
                    method: "POST",
                    headers: { "content-type": "application/json", authorization: `GenieKey ${LOCAL_ONCALL_KEY}` },
                    body: JSON.stringify({ user: "you@example.com", source: "npm start" }),
                });
                await response.text();
                return response.status;
            },
            webhookCalls: onCallSink.webhookCalls,
            onCallRequests: onCallSink.requests,
            onCallAlerts: () => onCallSink.alerts(),
            canary,
            canarySeconds: canary === undefined ? 0 : canarySeconds,
            ackUrl: ack.url,
            ackToken,
            pageUrl: page.url,
            pageState: () => pageState(pageInput()),
            runCanary: () => {
                if (canary === undefined) return Promise.reject(new PipelineUsageError(`stack ${stack.stack} has the canary off (alertline:canary enabled: false): there is no canary sender or heartbeat to run`));
                return canaries.run();
            },
            settled,
            close: closeAll,
        };
    } catch (error) {
        await closeAll();
        throw error;
    }
}

/** The live page (tools/local/page.ts); a port in use is a usage error naming the option. */
async function startPipelinePage(port: number, state: () => PageState, log: (line: string) => void): Promise<LocalPage> {
    try {
        return await startLocalPage({ port, state, log });
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
            throw new PipelineUsageError(`port ${port} on 127.0.0.1 is in use: pass --page-port <another port> (0 picks a free one)`);
        }
        throw error;
    }
}

interface Canaries {
    /** Sends one canary now; rejects when it was not sent (the handler has logged why). */
    run(): Promise<CanarySent>;
    busy(): boolean;
    drain(): Promise<void>;
    /** No more canaries; resolves when the ones under way are done. */
    stop(): Promise<void>;
}

/**
 * The canary's schedule here: the first right away (so the first heartbeat ping shows within
 * seconds), then one every `seconds`; 0: none on a timer. The first waits for the next turn of the
 * event loop, so the banner is printed before the canary's lines.
 */
function startCanaries(seconds: number, send: () => Promise<CanarySent>): Canaries {
    const running = new Set<Promise<CanarySent>>();
    const run = () => {
        const sending = send();
        running.add(sending);
        const forget = () => void running.delete(sending);
        sending.then(forget, forget);
        return sending;
    };
    // A failed send is in the log already (the handler's error line); the next one tries again.
    const tick = () => void run().catch(() => undefined);
    const timers: NodeJS.Timeout[] = [];
    if (seconds > 0) {
        timers.push(setTimeout(tick, 0), setInterval(tick, seconds * 1000));
    }
    const drain = async () => {
        while (running.size > 0) await Promise.allSettled([...running]);
    };
    return {
        run,
        busy: () => running.size > 0,
        drain,
        async stop() {
            for (const timer of timers) clearTimeout(timer);
            await drain();
        },
    };
}


// ---- Banner -----------------------------------------------------------------------------------------

/** A sender address the allow list takes: the first glob with its wildcards filled in. */
export function exampleSender(allowedSenders: readonly string[]): string {
    const glob = allowedSenders.find((g) => g.includes("@")) ?? "alerts@example.com";
    return glob.replace(/\*/g, "ops").replace(/\?/g, "x").replace(/[[\]{}]/g, "");
}

/** The test mail the banner offers, and what mail-ingest will make of it. */
export interface TestMail {
    /** From the allow list ({@link exampleSender}). */
    readonly sender: string;
    readonly subject: string;
    readonly recoverySubject: string;
    readonly text: string;
    /** What the stack's rules make of it; only critical, warning and info open an on-call alert. */
    readonly severity: Severity;
    /** The on-call alert's alias for the mail: its correlation key as the stack's rules make it. */
    readonly alias: string;
    /** The towers its rule routes it to (a trusted sender lights them); none when no rule matches. */
    readonly towers: readonly string[];
}

/** The banner's test mail for the stack; classified with the stack's rules, as mail-ingest will. Pure. */
export function testMail(stack: Pick<LocalStack, "settings" | "rules" | "towers">): TestMail {
    const sender = exampleSender(stack.settings.mail?.allowedSenders ?? []);
    const subject = "[alertline-test] critical: disk full";
    const text = "disk / is 98% full";
    const result = classify({ from: sender, subject, text }, stack.rules);
    return {
        sender,
        subject,
        recoverySubject: "[alertline-test] recovery: disk full",
        text,
        severity: result.severity,
        alias: onCallAlias(result.alertKey),
        towers: result.severity === "ignore" ? [] : routeTowers(result.route, stack.towers.map((t) => t.config), result.rule).towers.map((t) => t.name),
    };
}

/** `'…'` for a POSIX shell: a single quote inside becomes `'\''`. */
function shellQuoted(text: string): string {
    return `'${text.replace(/'/g, "'\\''")}'`;
}

/**
 * A curl that acknowledges the test mail's alert the way the on-call backend's webhook does
 * (Opsgenie's alert action data, the token in its header). Its updatedAt is the shell's clock, so
 * acknowledging again after the tower lit again is a new recovery, not a duplicate of the first.
 */
export function ackCurl(ackUrl: string, token: string, environment: string, mail: Pick<TestMail, "alias" | "subject" | "severity" | "towers">): string {
    // The alert as mail-ingest opens it (on-call-page.ts): these fields come back in the webhook's call.
    const alert = {
        alertId: "npm-start-test-alert",
        alias: mail.alias,
        message: `[${mail.severity.toUpperCase()}] ${mail.subject}`,
        username: "you@example.com",
        tags: ["alertline", `alertline-${environment}`, mail.severity, ...mail.towers.map((t) => `tower:${t}`)],
    };
    const head = `{"action":"Acknowledge","alert":${JSON.stringify(alert).slice(0, -1)},"updatedAt":`;
    const tail = '},"source":{"name":"npm start","type":"web"}}';
    return [
        `curl -sS -X POST ${shellQuoted(ackUrl)}`,
        `-H 'content-type: application/json' -H ${shellQuoted(`${TOKEN_HEADER}: ${token}`)}`,
        `--data-binary ${shellQuoted(head)}"$(date +%s)"${shellQuoted(tail)}`,
    ].join(" ");
}

/** A curl that acknowledges an alert by alias in the on-call stand-in (Opsgenie's Alert API, or JSM's integration events API, same path). */
export function standInAckCurl(apiUrl: string, alias: string): string {
    return `curl -sS -X POST ${shellQuoted(`${apiUrl}/v2/alerts/${encodeURIComponent(alias)}/acknowledge?identifierType=alias`)} -H 'content-type: application/json' -H ${shellQuoted(`Authorization: GenieKey ${LOCAL_ONCALL_KEY}`)} --data '{"user":"you@example.com"}'`;
}

/** What `npm start` prints once everything listens. */
export function banner(
    pipeline: Pick<LocalPipeline, "stack" | "smtpHost" | "smtpPort" | "alertAddress" | "verdicts" | "towers" | "onCallBackend" | "onCallUrl" | "canary" | "canarySeconds" | "ackUrl" | "ackToken"> & Partial<Pick<LocalPipeline, "onCallUrls" | "pageUrl" | "slackMode" | "slackApi" | "slackChannel">>,
): string {
    const { stack } = pipeline;
    const allowed = stack.settings.mail?.allowedSenders ?? [];
    const mail = testMail(stack);
    const sender = mail.sender;
    const smtp = `${pipeline.smtpHost}:${pipeline.smtpPort}`;
    const subjects = [mail.subject, mail.recoverySubject];
    const { intervalMinutes, heartbeatMinutes } = stack.settings.canary;
    const canaryLine =
        pipeline.canary === undefined
            ? "off in the stack (alertline:canary enabled: false): no canary, no heartbeat"
            : `${pipeline.canarySeconds === 0 ? "none sent (--canary-seconds 0)" : `from ${pipeline.canary.sender}, the first now, then every ${pipeline.canarySeconds} s`} (the stack: every ${intervalMinutes} min); ` +
              `each pings heartbeat ${pipeline.canary.heartbeatName} (it pages after ${heartbeatMinutes} min without one in the stack)`;
    const lines = [
        `alertline local pipeline: stack ${stack.stack}, rules ${stack.rulesFile}`,
        `  SMTP      ${smtp} (plain SMTP, no STARTTLS, no AUTH; mail up to 40 MB) standing in for SES`,
        `  send to   ${pipeline.alertAddress}`,
        `  senders   ${allowed.join(", ") || "(none allowed: no mail lights a tower)"}`,
        `  verdicts  SPF/DKIM/DMARC ${pipeline.verdicts === "pass" ? "PASS for every mail (a local server cannot check them; --verdicts fail shows the untrusted path)" : "FAIL for every mail: nothing lights a tower, Slack gets it marked untrusted"}`,
        `  towers    ${pipeline.towers.length === 0 ? "none configured in alertline:sites" : "one PATLITE emulator each; they start dark and print their lamps on every change"}`,
        ...pipeline.towers.map((t) => `    ${t.name} (${t.protocol}, site ${t.site}, ${t.stackAddress} in the stack) → emulator ${t.emulator.host}:${t.emulator.port}${t.note ? `\n      note: ${t.note}` : ""}`),
        "  test subjects (what the rules make of them):",
        ...subjects.map((subject) => {
            const result = classify({ from: sender, subject, text: "" }, stack.rules);
            return `    "${subject}" → ${result.severity}${result.rule ? ` (rule ${result.rule})` : " (no rule matched: default severity)"}`;
        }),
        pipeline.onCallBackend === "dual"
            ? `  on-call   Opsgenie API stand-in ${pipeline.onCallUrls?.opsgenie} and JSM integration API stand-in ${pipeline.onCallUrls?.jsm} (alertline:oncall backend [opsgenie, jsm], the migration window): mail that lights a tower opens an alert in each, alias its correlation key; its recovery closes both; an acknowledgement from either clears the towers once`
            : `  on-call   ${pipeline.onCallBackend === "jsm" ? "JSM integration API" : "Opsgenie API"} stand-in ${pipeline.onCallUrl} (alertline:oncall backend ${pipeline.onCallBackend}): mail that lights a tower opens an alert whose alias is its correlation key; its recovery closes it`,
        `  canary    ${canaryLine}`,
        pipeline.slackMode === "app" && pipeline.slackApi !== undefined && pipeline.slackChannel !== undefined
            ? `  slack     Slack Web API stand-in ${pipeline.slackApi.url} (--slack app: alertline:slack.mode app), channel #${pipeline.slackChannel.name} (${pipeline.slackChannel.id}), a bot token made for this run that slack-notifier gets only as KMS ciphertext: one message per alert, updated in place; recoveries, acknowledgements and tower changes replied in its thread ("[slack] posted|updated|replied …"); Slack's rate limits apply`
            : `  slack     an incoming-webhook stand-in (--slack webhook, the default): every alert a new message ("[slack] …"); --slack app runs Slack's app mode`,
        `  ack       ${pipeline.ackUrl} standing in for the ack-webhook function URL (the on-call webhook posts there with this run's token)`,
        ...(pipeline.pageUrl === undefined ? [] : [`  page      ${pipeline.pageUrl} in a browser: the towers' lamps and the last ${DEFAULT_PAGE_ALERTS} mails with their path, live`]),
        "  send one:",
        `    swaks --server ${smtp} --from ${sender} --to ${pipeline.alertAddress} --header "Subject: ${subjects[0]}" --body "${mail.text}"`,
        `    curl smtp://${smtp} --mail-from ${sender} --mail-rcpt ${pipeline.alertAddress} --upload-file test/fixtures/mail/datadog-triggered.eml`,
        `    node -e 'require("nodemailer").createTransport({host:"${pipeline.smtpHost}",port:${pipeline.smtpPort},ignoreTLS:true}).sendMail({from:"${sender}",to:"${pipeline.alertAddress}",subject:"${subjects[0]}",text:"${mail.text}"}).then((i)=>console.log(i.response))'`,
        ...((ACTIVE_SEVERITIES as readonly string[]).includes(mail.severity)
            ? [
                  `  acknowledge its on-call alert (alias ${JSON.stringify(mail.alias)}) as the webhook would; the towers it lit go back to quiet:`,
                  `    ${ackCurl(pipeline.ackUrl, pipeline.ackToken, stack.settings.environment, mail)}`,
                  "  or acknowledge it in the on-call stand-in, whose outgoing webhook then calls the endpoint above:",
                  ...Object.entries(pipeline.onCallUrls ?? {}).map(([backend, url]) => `    ${standInAckCurl(url!, mail.alias)}   # ${backend}`),
              ]
            : [`  the test mail is ${mail.severity} under these rules: it lights nothing and opens no on-call alert to acknowledge`]),
        "  Ctrl-C stops everything.",
    ];
    return lines.join("\n");
}

// ---- CLI --------------------------------------------------------------------------------------------

async function main(argv: readonly string[]): Promise<number> {
    let args: PipelineArgs | "help";
    try {
        args = parsePipelineArgs(argv);
    } catch (error) {
        process.stderr.write(`npm start: ${(error as Error).message}\n`);
        return 2;
    }
    if (args === "help") {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    writeNodeSupportNote();
    let pipeline: LocalPipeline;
    try {
        pipeline = await startLocalPipeline({ ...args, pagePort: args.pagePort ?? DEFAULT_PAGE_PORT });
    } catch (error) {
        const known = error instanceof PipelineUsageError || (error instanceof Error && error.name === "ConfigError") || /no stack file/.test(String(error));
        process.stderr.write(`npm start: ${known ? (error as Error).message : errorText(error)}\n`);
        return known ? 2 : 1;
    }
    process.stdout.write(`${banner(pipeline)}\n`);
    await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
    });
    process.stdout.write("stopping…\n");
    await pipeline.close();
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (error: unknown) => {
            process.stderr.write(`npm start: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
