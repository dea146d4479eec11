import { SSMClient } from "@aws-sdk/client-ssm";
import type { Context } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseSettings, rawSettings, type AlertlineSettings } from "../../components/stack-config";
import { towerConfig } from "../../components/site-config";
import { PROJECT_ROOT, readStackConfig } from "../../test/harness/stack-files";
import { createHandler as createIngestHandler } from "../mail-ingest/handler";
import { classify, type MailRules } from "../shared/mail-rules";
import type { TowerConfig, TowerProtocol } from "../shared/tower-config";
import { createHandler as createNotifierHandler } from "../slack-notifier/handler";
import { createHandler as createDispatchHandler } from "../tower-dispatch/handler";
import { loadRules, MailCliError } from "./mail";
import { startTowerEmulator, type TowerEmulator } from "./patlite-emulator";
import { MAIL_INGEST_TRANSLATION, startStateTable } from "./local-aws/dynamo";
import { close as closeServer, listen, LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, readBody } from "./local-aws/http";
import { startS3Stub } from "./local-aws/s3";
import { startSesInbound, type VerdictMode } from "./local-aws/ses";
import { startSnsStub } from "./local-aws/sns";
import { startSqsStub } from "./local-aws/sqs";

/**
 * `npm start`: the whole mail-to-tower path on this machine, with the real code and real protocols.
 *
 *   SMTP client ─► SMTP server on 127.0.0.1 (standing in for SES: stores the mail in a local S3,
 *   publishes the S3 action's notification to the local mail topic) ─► mail-ingest (the real
 *   handler) ─► local SQS FIFO queue ─► tower-dispatch (the real handler) ─► PATLITE emulators
 *   over TCP, one per tower of the stack, printing their lamps; everything on the local alert topic
 *   ─► slack-notifier (the real handler) ─► a local Slack sink printing each message.
 *
 * Configuration is the stack's own (`Pulumi.<stack>.yaml`: sites, towers, allowed senders, the rules
 * file), with each tower's address replaced by its emulator's. DynamoDB is dynalite; S3, SQS and SNS
 * are the local peers in ./local-aws, reached through the real SDK clients.
 */

export const USAGE = `usage: npm start -- [--stack dev|prod] [--smtp-port 2525] [--verdicts pass|fail]
  --stack      the Pulumi stack whose sites, towers, senders and rules to run (default dev)
  --smtp-port  where the SMTP server listens on 127.0.0.1 (default 2525; 0 picks a free port)
  --verdicts   the SPF/DKIM/DMARC verdicts every mail gets (default pass; fail shows the untrusted path)`;

/** Lambda timeouts the stack gives the functions (components/mail-ingest.ts, alert-channel.ts). */
const TIMEOUT_SECONDS = { "mail-ingest": 120, "tower-dispatch": 60, "slack-notifier": 60 } as const;
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
}

/** Reads the command line; throws {@link PipelineUsageError} saying what is wrong. Pure. */
export function parsePipelineArgs(argv: readonly string[]): PipelineArgs | "help" {
    let values: { stack?: string; "smtp-port"?: string; verdicts?: string; help?: boolean };
    try {
        ({ values } = parseArgs({
            args: [...argv],
            options: { stack: { type: "string" }, "smtp-port": { type: "string" }, verdicts: { type: "string" }, help: { type: "boolean" } },
            strict: true,
        }));
    } catch (error) {
        throw new PipelineUsageError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    }
    if (values.help) return "help";
    const smtpPort = Number(values["smtp-port"] ?? "2525");
    if (!/^\d+$/.test(values["smtp-port"] ?? "2525") || smtpPort > 65535) throw new PipelineUsageError(`--smtp-port must be a port number 0–65535, got ${JSON.stringify(values["smtp-port"])}\n${USAGE}`);
    const verdicts = values.verdicts ?? "pass";
    if (verdicts !== "pass" && verdicts !== "fail") throw new PipelineUsageError(`--verdicts must be pass or fail, got ${JSON.stringify(verdicts)}\n${USAGE}`);
    const stack = values.stack ?? "dev";
    if (stack === "") throw new PipelineUsageError(`--stack needs a stack name, e.g. dev\n${USAGE}`);
    return { stack, smtpPort, verdicts };
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

/** An incoming-webhook stand-in: answers 200 `ok` to a JSON post, 400 `invalid_payload` otherwise, as Slack does. */
async function startSlackSink(log: (line: string) => void): Promise<{ url: string; posts: SlackPost[]; close(): Promise<void> }> {
    const posts: SlackPost[] = [];
    const server = createServer(async (req, res) => {
        const body = (await readBody(req)).toString("utf8");
        let payload: unknown;
        try {
            payload = JSON.parse(body);
        } catch {
            payload = undefined;
        }
        if (req.method !== "POST" || typeof payload !== "object" || payload === null) {
            res.writeHead(400, { "content-type": "text/html" });
            res.end("invalid_payload");
            return;
        }
        const text = typeof (payload as { text?: unknown }).text === "string" ? (payload as { text: string }).text : "";
        posts.push({ text, payload: payload as Record<string, unknown> });
        log(`[slack] ${text}`);
        res.writeHead(200, { "content-type": "text/html" });
        res.end("ok");
    });
    const endpoint = await listen(server);
    return { url: `${endpoint}/services/TLOCAL/BLOCAL/local-pipeline`, posts, close: () => closeServer(server) };
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
    /** Where every line goes. Default stdout. */
    readonly log?: (line: string) => void;
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
    /** Every message the Slack sink received, in order. */
    readonly slackMessages: SlackPost[];
    /** Resolves when no mail, signal intent or alert is being processed. */
    settled(): Promise<void>;
    close(): Promise<void>;
}

/** Starts everything; on failure, closes what had started and rethrows. */
export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
    const log = options.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
    const verdicts = options.verdicts ?? "pass";
    const stack = loadLocalStack(options.stack ?? "dev");
    const environment = stack.settings.environment;
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
            table: `alertline-${environment}-state`,
        };

        const dynamo = await startStateTable(names.table);
        closers.push(() => dynamo.close());
        const s3 = await startS3Stub();
        closers.push(() => s3.close());
        const sqs = await startSqsStub({ queueName: names.queue });
        closers.push(() => sqs.close());
        const sns = await startSnsStub({ topics: [names.alertTopic, names.mailTopic] });
        closers.push(() => sns.close());
        const slack = await startSlackSink(log);
        closers.push(() => slack.close());

        const towers: LocalPipelineTower[] = [];
        for (const { config, note } of stack.towers) {
            const emulator = await startTowerEmulator({ protocol: config.protocol, name: config.name, log });
            closers.push(() => emulator.close());
            towers.push({ name: config.name, site: config.site, protocol: config.protocol, stackAddress: `${config.host}:${config.port}`, emulator, note });
        }
        const towerConfigs: TowerConfig[] = stack.towers.map(({ config }, i) => ({ ...config, host: towers[i].emulator.host, port: towers[i].emulator.port }));

        const s3Client = s3.client();
        const sqsClient = sqs.client();
        const snsClient = sns.client();
        // Never called: every tower runs as relay vpn here. Points at a port nothing listens on.
        const ssmClient = new SSMClient({ region: LOCAL_REGION, endpoint: "http://127.0.0.1:9", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
        closers.push(() => [s3Client, sqsClient, snsClient, ssmClient].forEach((client) => client.destroy()));

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
            }),
        });
        const dispatch = createDispatchHandler({
            dynamo: dynamo.documentClient,
            sns: snsClient,
            ssm: ssmClient,
            logger: functionLogger("tower-dispatch", log),
            towers: () => towerConfigs,
            stateTable: names.table,
            alertTopicArn: names.alertTopic,
            environment,
        });
        const notify = createNotifierHandler({ webhookUrl: async () => slack.url, logger: functionLogger("slack-notifier", log), environment });

        const failed = (name: FunctionName) => (error: unknown, _record: unknown, attempt: number, willRetry: boolean) =>
            log(`[${name}] invocation ${attempt} failed${willRetry ? ", retrying" : ", giving up (in AWS: the dead-letter queue)"}: ${errorText(error)}`);
        sns.onPublish(async (record) => void (await ingest({ Records: [record] }, lambdaContext(environment, "mail-ingest"))), { topicArn: names.mailTopic, onError: failed("mail-ingest") });
        sns.onPublish((record) => notify({ Records: [record] }, lambdaContext(environment, "slack-notifier")), { topicArn: names.alertTopic, onError: failed("slack-notifier") });
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
        const settled = async () => {
            // Each stage can start the next (mail → intents → alerts); wait until none is running.
            while (sns.busy() || sqs.busy()) {
                await sns.drain();
                await sqs.drain();
            }
        };
        // Closed in reverse: first no new mail, then what is under way finishes (a few seconds at most), then the rest.
        closers.push(() => Promise.race([settled(), new Promise<void>((resolve) => setTimeout(resolve, 5000).unref())]));
        closers.push(() => smtp.close());

        return {
            stack,
            smtpHost: smtp.host,
            smtpPort: smtp.port,
            alertAddress: stack.alertAddress,
            verdicts,
            towers,
            slackMessages: slack.posts,
            settled,
            close: closeAll,
        };
    } catch (error) {
        await closeAll();
        throw error;
    }
}

// ---- Banner -----------------------------------------------------------------------------------------

/** A sender address the allow list takes: the first glob with its wildcards filled in. */
export function exampleSender(allowedSenders: readonly string[]): string {
    const glob = allowedSenders.find((g) => g.includes("@")) ?? "alerts@example.com";
    return glob.replace(/\*/g, "ops").replace(/\?/g, "x").replace(/[[\]{}]/g, "");
}

/** What `npm start` prints once everything listens. */
export function banner(pipeline: Pick<LocalPipeline, "stack" | "smtpHost" | "smtpPort" | "alertAddress" | "verdicts" | "towers">): string {
    const { stack } = pipeline;
    const allowed = stack.settings.mail?.allowedSenders ?? [];
    const sender = exampleSender(allowed);
    const smtp = `${pipeline.smtpHost}:${pipeline.smtpPort}`;
    const subjects = ["[alertline-test] critical: disk full", "[alertline-test] recovery: disk full"];
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
        "  send one:",
        `    swaks --server ${smtp} --from ${sender} --to ${pipeline.alertAddress} --header "Subject: ${subjects[0]}" --body "disk / is 98% full"`,
        `    curl smtp://${smtp} --mail-from ${sender} --mail-rcpt ${pipeline.alertAddress} --upload-file test/fixtures/mail/datadog-triggered.eml`,
        `    node -e 'require("nodemailer").createTransport({host:"${pipeline.smtpHost}",port:${pipeline.smtpPort},ignoreTLS:true}).sendMail({from:"${sender}",to:"${pipeline.alertAddress}",subject:"${subjects[0]}",text:"disk / is 98% full"}).then((i)=>console.log(i.response))'`,
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
    let pipeline: LocalPipeline;
    try {
        pipeline = await startLocalPipeline(args);
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
