import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, type S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SNSEventRecord } from "aws-lambda";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as z from "zod/mini";
import { classify, defaultAlertKey, NO_ROUTE, parseMailRules, type Classification, type MailRules } from "../shared/mail-rules";
import { routeTowers } from "../shared/mail-routing";
import type { OnCallClient, OnCallTarget } from "../shared/oncall-alerts";
import { mayLightTower, type SenderCheck, type SesVerdicts } from "../shared/sender-policy";
import { sendIntents } from "../shared/intent-queue";
import type { SignalIntent } from "../shared/signal-intent";
import { storedKey } from "../shared/alert-key";
import { boundedJson } from "../shared/bounded-json";
import { truncateChars } from "../shared/truncate";
import type { Severity } from "../shared/severity";
import type { TowerConfig } from "../shared/tower-config";
import { canaryAgeMs, canaryVerdict, impostorWarning } from "./canary";
import { countCanary, countIntents, countMail, countPage } from "./ingest-metrics";
import { NO_METRICS, type MetricSink } from "../shared/path-metrics";
import { onCallActionFor, page, pageAll, pingAll, type PageReport } from "./on-call-page";
import { parseMail, type ParsedAlertMail } from "./parse-mail";
import { decodeSnsContent, readSesNotification, verdictsOf, type MailSource, type SesReceivedNotification } from "./ses-event";
import { ackStateKey, takeClear } from "../shared/alias-clear";

/**
 * The mail-ingest flow for one SNS record: read the SES notification, claim the mail in DynamoDB
 * (so a duplicate delivery does nothing), fetch the raw MIME, parse, classify, check the sender,
 * put one signal intent per target tower on the FIFO queue, page on-call for a mail that lit a tower
 * (when on-call is configured) and put one summary on the alert topic. The canary mail instead pings
 * the on-call heartbeat and nothing else.
 *
 * Lambda semantics: a mail-content problem never throws (it is classified by the default rule and
 * reported, the original stays in S3); an AWS failure (S3, SQS, SNS, DynamoDB) or an on-call failure
 * that a later try may fix (unreachable, 429, 5xx) throws, so Lambda retries the event.
 */

/** Logger methods used; Powertools' Logger fits, tests pass a recording one. */
export interface IngestLogger {
    info(message: string, ...attributes: Record<string, unknown>[]): void;
    warn(message: string, ...attributes: Record<string, unknown>[]): void;
    error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** The towers a mail can light, as towers.json describes them. */
export type IngestTower = Pick<TowerConfig, "name" | "site" | "allowedSenders">;

export interface IngestConfig {
    /** Environment name, shown in the summary. */
    readonly environment: string;
    readonly rules: MailRules;
    readonly towers: readonly IngestTower[];
    /** The environment's sender globs; a tower's own list adds to it. */
    readonly allowedSenders: readonly string[];
    /** FIFO queue of signal intents (env SIGNAL_QUEUE_URL). */
    readonly signalQueueUrl: string;
    /** Alert channel topic (env ALERT_TOPIC_ARN). */
    readonly alertTopicArn: string;
    /** State table: `pk` string key, TTL attribute `expiresAt` (env STATE_TABLE). */
    readonly stateTable: string;
    /** The canary's From address (ingest.json `canarySender`); unset: no mail is the canary. */
    readonly canarySender?: string;
    /** The on-call heartbeat the canary pings (ingest.json `heartbeatName`); unset: the canary pings nothing. */
    readonly heartbeatName?: string;
}

export interface IngestDeps {
    readonly s3: Pick<S3Client, "send">;
    readonly ddb: Pick<DynamoDBDocumentClient, "send">;
    readonly sqs: Pick<SQSClient, "send">;
    readonly sns: Pick<SNSClient, "send">;
    readonly logger: IngestLogger;
    readonly config: IngestConfig;
    /**
     * On-call alerts and heartbeat; undefined: on-call is off (no paging, no heartbeat). A list in the
     * migration window: every backend is paged, closed and pinged (see pageAll).
     */
    readonly onCall?: OnCallClient | readonly OnCallTarget[];
    /** Clock in epoch milliseconds. Default Date.now. */
    readonly now?: () => number;
    /** Mails, severities, untrusted senders, pages, intents per tower, the canary's round trip (EMF). Default none. */
    readonly metrics?: MetricSink;
}

export interface IngestOptions {
    /**
     * Epoch ms at which this invocation ends (now + remaining time). The claim on the mail is a
     * lease until then: a retry after a crash finds it expired and takes the mail over.
     */
    readonly deadline?: number;
}

export type IngestOutcome =
    | {
          readonly kind: "processed";
          readonly messageId: string;
          readonly severity: Severity;
          readonly rule: string | null;
          readonly intents: readonly SignalIntent[];
          readonly summary: MailSummary | undefined;
      }
    /**
     * alertline's canary passed the checks: no intents, no summary, no page. `heartbeat` is
     * "pinged", "not configured" (no on-call or no heartbeatName) or the ping's problem.
     */
    | { readonly kind: "canary"; readonly messageId: string; readonly canaryId: string; readonly heartbeat: "pinged" | "not configured" | (string & {}) }
    /** Already done by an earlier delivery. */
    | { readonly kind: "duplicate"; readonly messageId: string }
    /** A notification that is not a mail (e.g. SES's subscription confirmation). */
    | { readonly kind: "not-a-mail"; readonly notificationType: string }
    /** The SNS message could not be read as an SES notification; reported to the channel. */
    | { readonly kind: "unreadable"; readonly reason: string };

/** Kept this long in the state table after the mail: SNS and Lambda retries end well before. */
export const IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;
/** Lease when the caller gives no deadline: Lambda's longest timeout. */
export const DEFAULT_LEASE_MS = 15 * 60 * 1000;
/** Body text quoted in the summary. */
export const SUMMARY_EXCERPT_CHARS = 1500;
/**
 * Longest subject, sender or problem line carried in an intent or the summary. SQS takes 256 KB per
 * batch and SNS 256 KB per message; a mail with a megabyte-long subject must not make them refuse.
 */
export const FIELD_MAX_CHARS = 500;
/** Problems listed in the summary; the rest are counted. */
export const SUMMARY_MAX_PROBLEMS = 10;

export function clip(text: string, max = FIELD_MAX_CHARS): string {
    return truncateChars(text, max, "…");
}

/** Thrown when another invocation holds a live claim on the mail; Lambda retries later and finds it done. */
export class MailBusyError extends Error {
    constructor(
        readonly messageId: string,
        readonly leaseUntil: number,
    ) {
        super(`mail ${messageId} is being processed by another invocation (lease until ${new Date(leaseUntil).toISOString()}); this delivery will be retried`);
        this.name = "MailBusyError";
    }
}

// ---- Configuration ---------------------------------------------------------------------------------

const towersSchema = z.array(
    // Only what mail-ingest uses; the rest of a tower (host, protocol, signals) is tower-dispatch's.
    z.object({
        name: z.string().check(z.minLength(1, "must name the tower")),
        site: z.string().check(z.minLength(1, "must name the site")),
        allowedSenders: z._default(z.array(z.string()), []),
    }),
    { error: "must be a JSON array of towers ({name, site, allowedSenders, ...})" },
);
/**
 * A bare address whose local part holds no glob character: the canary sender is compared exactly
 * and also fed to the sender check, which reads its list as globs.
 */
const CANARY_SENDER = /^[A-Za-z0-9._%+=-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const ingestFileSchema = z.looseObject({
    environment: z.string().check(z.minLength(1, "must name the environment")),
    allowedSenders: z._default(z.array(z.string(), { error: "must be a list of sender globs" }), []),
    canarySender: z.optional(z.string({ error: "must be the canary's From address" }).check(z.regex(CANARY_SENDER, "must be the canary's bare From address, e.g. alertline-canary@alerts.example.jp (letters, digits and . _ % + = - before the @)"))),
    heartbeatName: z.optional(
        z
            .string({ error: "must be the on-call heartbeat's name" })
            .check(z.regex(/^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u, "must be the on-call heartbeat's name: not empty, no control characters, no leading or trailing spaces"), z.maxLength(200, "must be at most 200 characters")),
    ),
});

function readJson(file: string): unknown {
    const text = readFileSync(file, "utf8");
    try {
        return JSON.parse(text);
    } catch (error) {
        throw new Error(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}); it is written by the infrastructure, redeploy to rewrite it`);
    }
}

function zodProblems(file: string, error: { issues: readonly z.core.$ZodIssue[] }): Error {
    const lines = error.issues.map((i) => `  - ${i.path.length > 0 ? i.path.join(".") : "(top level)"} ${i.message}`);
    return new Error(`${file} is invalid:\n${lines.join("\n")}`);
}

/**
 * Reads the configuration packaged beside the function (`rules.yaml`, `towers.json`,
 * `ingest.json` in `dir`) and the environment variables. Throws one error naming the file or
 * variable and the fix.
 */
export function loadIngestConfig(dir: string, env: NodeJS.ProcessEnv = process.env): IngestConfig {
    const missing = ["SIGNAL_QUEUE_URL", "ALERT_TOPIC_ARN", "STATE_TABLE"].filter((name) => !env[name]);
    if (missing.length > 0) throw new Error(`mail-ingest needs the environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; the mail-ingest component sets them`);
    const rulesFile = path.join(dir, "rules.yaml");
    const rules = parseMailRules(readFileSync(rulesFile, "utf8"), rulesFile);
    const towersFile = path.join(dir, "towers.json");
    const towers = towersSchema.safeParse(readJson(towersFile));
    if (!towers.success) throw zodProblems(towersFile, towers.error);
    const ingestFile = path.join(dir, "ingest.json");
    const ingest = ingestFileSchema.safeParse(readJson(ingestFile));
    if (!ingest.success) throw zodProblems(ingestFile, ingest.error);
    if (ingest.data.heartbeatName !== undefined && ingest.data.canarySender === undefined) {
        throw new Error(`${ingestFile} is invalid:\n  - heartbeatName needs canarySender: without it no mail is the canary, the heartbeat is never pinged and on-call is paged when it expires; set both or neither`);
    }
    return {
        environment: ingest.data.environment,
        allowedSenders: ingest.data.allowedSenders,
        ...(ingest.data.canarySender !== undefined ? { canarySender: ingest.data.canarySender } : {}),
        ...(ingest.data.heartbeatName !== undefined ? { heartbeatName: ingest.data.heartbeatName } : {}),
        rules,
        towers: towers.data,
        signalQueueUrl: env.SIGNAL_QUEUE_URL as string,
        alertTopicArn: env.ALERT_TOPIC_ARN as string,
        stateTable: env.STATE_TABLE as string,
    };
}

// ---- Pure steps -------------------------------------------------------------------------------------

/** One tower's verdict: whether this mail lights it, and why not. */
export interface TowerDecision {
    readonly tower: IngestTower;
    readonly check: SenderCheck;
}

export interface MailAnalysis {
    readonly mail: ParsedAlertMail;
    readonly classification: Classification;
    /** Towers the classification targets, with each one's sender check. */
    readonly decisions: readonly TowerDecision[];
    /** The sender check against the environment's list alone (what the summary reports). */
    readonly environmentCheck: SenderCheck;
    readonly problems: readonly string[];
}

/**
 * The towers a classification targets: those its rule's route names (the towers, every tower of the
 * sites, or every tower for `towers: all`; names not configured become problems). None for `ignore`,
 * for unmatched mail and for a rule that names no destination.
 */
export function targetTowers(classification: Pick<Classification, "severity" | "route" | "rule">, towers: readonly IngestTower[]): { towers: IngestTower[]; problems: string[] } {
    if (classification.severity === "ignore") return { towers: [], problems: [] };
    return routeTowers(classification.route, towers, classification.rule);
}

/** Parse, classify and check the sender. Pure apart from parsing; never throws. */
export async function analyseMail(raw: Buffer, verdicts: SesVerdicts | undefined, config: Pick<IngestConfig, "rules" | "towers" | "allowedSenders">): Promise<MailAnalysis> {
    const mail = await parseMail(raw);
    let classification: Classification;
    const problems = [...mail.problems];
    try {
        classification = classify(mail, config.rules);
    } catch (error) {
        // classify is pure and total; should it fail anyway, the mail still counts as unmatched.
        problems.push(`classification failed (${error instanceof Error ? error.message : String(error)}); the default severity was used`);
        classification = { severity: config.rules.defaultSeverity, rule: null, alertKey: defaultAlertKey(mail.subject), keySource: "subject", route: NO_ROUTE };
    }
    const targets = targetTowers(classification, config.towers);
    problems.push(...targets.problems);
    // Each tower is decided with its own site's allow list (towers.json carries it per tower) added
    // to the environment's: a sender trusted for one customer's site lights no other site's tower.
    const decisions = targets.towers.map((tower) => ({
        tower,
        check: mayLightTower({ from: mail.from, fromProblem: mail.fromProblem, verdicts, allowedSenders: [...config.allowedSenders, ...tower.allowedSenders] }),
    }));
    const environmentCheck = mayLightTower({ from: mail.from, fromProblem: mail.fromProblem, verdicts, allowedSenders: config.allowedSenders });
    return { mail, classification, decisions, environmentCheck, problems };
}

/** One intent per tower the mail may light. `ignore` and untrusted towers get none. */
export function buildIntents(analysis: MailAnalysis, messageId: string, receivedAt: string): SignalIntent[] {
    const severity = analysis.classification.severity;
    if (severity === "ignore") return [];
    return analysis.decisions
        .filter((d) => d.check.trusted)
        .map((d) => ({
            version: 1 as const,
            tower: d.tower.name,
            site: d.tower.site,
            // A long key travels as the dispatcher and on-call store it (a prefix and a hash), so a
            // mail-derived key of any length keeps the intent small and still correlates.
            alertKey: storedKey(analysis.classification.alertKey),
            severity,
            messageId,
            rule: analysis.classification.rule,
            subject: clip(analysis.mail.subject),
            from: clip(analysis.mail.from),
            receivedAt,
        }));
}

const STATE_OF: Record<Severity, string> = { critical: "ALARM", warning: "WARN", info: "UNKNOWN", recovery: "OK", ignore: "OK" };

/**
 * What the alert channel gets for a mail: generic JSON that slack-notifier renders (title, state,
 * reason, then fields in this order).
 */
export interface MailSummary {
    readonly title: string;
    readonly state: string;
    readonly reason: string;
    readonly severity: Severity;
    readonly from: string;
    readonly rule: string;
    readonly towersLit: string;
    readonly trusted: boolean;
    readonly senderCheck: string;
    readonly original: string;
    readonly problems?: string;
    readonly alertKey: string;
    readonly messageId: string;
    readonly environment: string;
    readonly receivedAt: string;
    readonly towersNotLit?: string;
    /** What on-call was told ("paged (alias …)", "closed (alias …)", "not paged: …"); only with on-call configured. */
    readonly onCall?: string;
    /** The canary id a mail claimed (only for a mail that claimed to be the canary and failed the checks). */
    readonly canaryId?: string;
}

export function describeSource(source: MailSource): string {
    if (source.kind === "s3") return `s3://${source.bucket}/${source.key}`;
    if (source.kind === "sns-content") return "in the SNS notification only (SNS action; not stored)";
    return `unknown (${source.reason})`;
}

/** Why a classification that is not `ignore` targets no tower. */
function noTargetReason(classification: Pick<Classification, "rule" | "route">): string {
    const { rule, route } = classification;
    if (rule === null) return "no rule matched; unmatched mail lights no tower";
    if (!route.all && route.towers.length === 0 && route.sites.length === 0) return `rule "${rule}" routes to no tower`;
    return "no tower configured";
}

export function buildSummary(args: {
    analysis: MailAnalysis;
    intents: readonly SignalIntent[];
    messageId: string;
    receivedAt: string;
    source: MailSource;
    environment: string;
    extraProblems?: readonly string[];
    /** What on-call was told; omitted when on-call is not configured. */
    onCall?: string;
}): MailSummary {
    const { analysis, intents } = args;
    const { mail, classification } = analysis;
    const lit = new Set(intents.map((i) => i.tower));
    const notLit = analysis.decisions.filter((d) => !lit.has(d.tower.name));
    const anyTarget = analysis.decisions.length > 0;
    const untrusted = anyTarget ? lit.size === 0 : !analysis.environmentCheck.trusted;
    const allProblems = [...analysis.problems, ...(args.extraProblems ?? [])];
    const problems = allProblems.slice(0, SUMMARY_MAX_PROBLEMS).map((p) => clip(p));
    if (allProblems.length > SUMMARY_MAX_PROBLEMS) problems.push(`(${allProblems.length - SUMMARY_MAX_PROBLEMS} more)`);
    const subject = mail.subject === "" ? "(no subject)" : clip(mail.subject);
    const label = `${classification.severity.toUpperCase()}${untrusted ? ", untrusted" : ""}`;
    const check = anyTarget && lit.size > 0 ? analysis.decisions.find((d) => lit.has(d.tower.name))?.check ?? analysis.environmentCheck : notLit[0]?.check ?? analysis.environmentCheck;
    const excerpt = mail.text.trim().slice(0, SUMMARY_EXCERPT_CHARS);
    return {
        title: `[${label}] ${subject}`,
        state: STATE_OF[classification.severity],
        reason: excerpt === "" ? "(the mail has no text)" : excerpt + (mail.text.trim().length > SUMMARY_EXCERPT_CHARS ? " …" : ""),
        severity: classification.severity,
        from: clip(mail.fromDisplay || mail.from || "(none)"),
        rule: classification.rule ?? "(none matched: default severity)",
        towersLit: lit.size > 0 ? [...lit].join(", ") : classification.severity === "ignore" ? "none (ignored)" : anyTarget ? "none (sender not trusted)" : `none (${noTargetReason(classification)})`,
        ...(args.onCall !== undefined ? { onCall: clip(args.onCall) } : {}),
        trusted: !untrusted,
        senderCheck: check.reasons.join("; "),
        original: describeSource(args.source),
        ...(problems.length > 0 ? { problems: problems.join("\n") } : {}),
        // The stored form, as the intents, the on-call alias and the thread notes carry it: Slack's app
        // mode keys an alert's message by it, so the summary and the notes land in one thread.
        alertKey: storedKey(classification.alertKey),
        messageId: args.messageId,
        environment: args.environment,
        receivedAt: args.receivedAt,
        // Failures come first in a check's reasons, so the first one says why a tower stayed dark.
        ...(notLit.length > 0 && lit.size > 0 ? { towersNotLit: notLit.map((d) => `${d.tower.name} (${d.check.reasons[0]})`).join(", ") } : {}),
    };
}

/** The summary of a mail that claimed to be the canary and failed the checks: a warning; nothing lit, nothing pinged. */
export function impostorSummary(base: MailSummary, canaryId: string, reasons: readonly string[]): MailSummary {
    return {
        ...base,
        title: "A mail claiming to be alertline's canary failed the sender check",
        state: "WARN",
        reason: impostorWarning(reasons),
        towersLit: "none (claims to be the canary)",
        trusted: false,
        senderCheck: reasons.join("; "),
        canaryId: clip(canaryId),
    };
}

// ---- Idempotency (DynamoDB) ---------------------------------------------------------------------------

/** The mail's state item; `pk = "mail#<SES messageId>"`. */
export interface MailStateItem {
    readonly pk: string;
    /** claimed → intents-sent → done. */
    readonly state: "claimed" | "intents-sent" | "done";
    /** Epoch ms until which the claiming invocation owns the mail. */
    readonly leaseUntil: number;
    readonly attempts: number;
    readonly expiresAt: number;
    readonly [field: string]: unknown;
}

export type Claim =
    | { readonly kind: "claimed"; readonly intentsSent: boolean; readonly attempts: number; readonly pagedIn?: readonly string[] }
    | { readonly kind: "done" };

/** The mail item's attribute that records one backend reached by the mail's page or close (migration window). */
export const PAGED_IN_PREFIX = "pagedIn_";

export const mailStateKey = (messageId: string): string => `mail#${messageId}`;

/**
 * Claims a mail for this invocation. New mail: conditional put. A claim whose lease ran out (the
 * invocation that held it crashed or timed out) is taken over, keeping how far it got. A finished
 * mail gives `done`. A live claim of another invocation throws {@link MailBusyError}, so this
 * delivery is retried rather than dropped.
 */
export async function claimMail(ddb: IngestDeps["ddb"], table: string, messageId: string, now: number, leaseUntil: number, retried = false): Promise<Claim> {
    const pk = mailStateKey(messageId);
    const expiresAt = Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS;
    try {
        await ddb.send(
            new PutCommand({
                TableName: table,
                Item: { pk, state: "claimed", leaseUntil, attempts: 1, claimedAt: new Date(now).toISOString(), expiresAt },
                ConditionExpression: "attribute_not_exists(pk)",
            }),
        );
        return { kind: "claimed", intentsSent: false, attempts: 1 };
    } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const existing = (await ddb.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }))).Item as MailStateItem | undefined;
    if (existing === undefined) {
        // Deleted between our put and get (TTL); try once more from the start.
        if (!retried) return claimMail(ddb, table, messageId, now, leaseUntil, true);
        throw new MailBusyError(messageId, leaseUntil);
    }
    if (existing.state === "done") return { kind: "done" };
    if (typeof existing.leaseUntil === "number" && existing.leaseUntil > now) throw new MailBusyError(messageId, existing.leaseUntil);
    const attempts = (typeof existing.attempts === "number" ? existing.attempts : 1) + 1;
    try {
        await ddb.send(
            new UpdateCommand({
                TableName: table,
                Key: { pk },
                UpdateExpression: "SET leaseUntil = :lease, attempts = :attempts, expiresAt = :expiresAt",
                ConditionExpression: "leaseUntil = :seen AND #state <> :done",
                ExpressionAttributeNames: { "#state": "state" },
                ExpressionAttributeValues: { ":lease": leaseUntil, ":attempts": attempts, ":expiresAt": expiresAt, ":seen": existing.leaseUntil, ":done": "done" },
            }),
        );
    } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
            // Someone else took it over (or finished it) a moment ago; retry this delivery later.
            throw new MailBusyError(messageId, leaseUntil);
        }
        throw error;
    }
    const pagedIn = Object.keys(existing).filter((k) => k.startsWith(PAGED_IN_PREFIX)).map((k) => k.slice(PAGED_IN_PREFIX.length));
    return { kind: "claimed", intentsSent: existing.state === "intents-sent", attempts, ...(pagedIn.length === 0 ? {} : { pagedIn }) };
}

/** A recovery mail clears its alias (unless an acknowledgement did first), so later acknowledgements and closes queue nothing. */
async function markClearedByMail(ddb: IngestDeps["ddb"], table: string, alias: string, messageId: string, now: number): Promise<void> {
    // Taken already by an acknowledgement: nothing to record.
    await takeClear({ ddb, table }, alias, `recovery mail ${messageId}`, now);
}

/** Records that a backend took the mail's page (or close), so a retry of the mail skips it. */
async function markPagedIn(ddb: IngestDeps["ddb"], table: string, messageId: string, backend: string, now: number): Promise<void> {
    await ddb.send(
        new UpdateCommand({
            TableName: table,
            Key: { pk: mailStateKey(messageId) },
            UpdateExpression: "SET #b = :at",
            ExpressionAttributeNames: { "#b": `${PAGED_IN_PREFIX}${backend}` },
            ExpressionAttributeValues: { ":at": new Date(now).toISOString() },
        }),
    );
}

/**
 * A mail that opens (or re-opens) an on-call alert makes its alias clearable again: ack-webhook
 * clears a tower for the first acknowledgement or close after this, from either backend, and
 * answers every later one without queueing anything (see functions/shared/alias-clear.ts).
 */
async function markPaged(ddb: IngestDeps["ddb"], table: string, alias: string, messageId: string, now: number): Promise<void> {
    await ddb.send(
        new UpdateCommand({
            TableName: table,
            Key: { pk: ackStateKey(alias) },
            UpdateExpression: "SET pagedAt = :at, pagedBy = :mail, expiresAt = :exp REMOVE clearedAt, clearedBy",
            ExpressionAttributeValues: { ":at": new Date(now).toISOString(), ":mail": messageId, ":exp": Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS },
        }),
    );
}

async function setMailState(ddb: IngestDeps["ddb"], table: string, messageId: string, state: MailStateItem["state"], extra: Record<string, unknown> = {}): Promise<void> {
    const names: Record<string, string> = { "#state": "state" };
    const values: Record<string, unknown> = { ":state": state };
    const sets = ["#state = :state"];
    for (const [i, [key, value]] of Object.entries(extra).entries()) {
        names[`#f${i}`] = key;
        values[`:f${i}`] = value;
        sets.push(`#f${i} = :f${i}`);
    }
    await ddb.send(new UpdateCommand({ TableName: table, Key: { pk: mailStateKey(messageId) }, UpdateExpression: `SET ${sets.join(", ")}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values }));
}

/** Ends this invocation's lease early after a failure, so Lambda's retry can take the mail at once. */
async function releaseClaim(ddb: IngestDeps["ddb"], table: string, messageId: string): Promise<void> {
    await ddb.send(
        new UpdateCommand({
            TableName: table,
            Key: { pk: mailStateKey(messageId) },
            UpdateExpression: "SET leaseUntil = :zero",
            ConditionExpression: "#state <> :done",
            ExpressionAttributeNames: { "#state": "state" },
            ExpressionAttributeValues: { ":zero": 0, ":done": "done" },
        }),
    );
}

// ---- I/O steps ----------------------------------------------------------------------------------------

/**
 * Whether the object is missing, asked after GetObject answered 403: S3 answers a missing key with
 * 403 AccessDenied to a caller whose s3:ListBucket does not cover it (S3 API reference, GetObject,
 * "Permissions"). The role may list the mail prefix, so a listing of exactly this key settles it:
 * missing → reported once; present (a real denial, e.g. the key policy) or the listing refused →
 * undefined, and the 403 is thrown so Lambda retries and the failure shows.
 */
async function missingAfterDenial(deps: IngestDeps, bucket: string, key: string): Promise<boolean> {
    try {
        const listed = await deps.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
        return !(listed.Contents ?? []).some((o) => o.Key === key);
    } catch (listError) {
        deps.logger.warn("Could not list the mail's key after GetObject was denied; treating the denial as a failure", { bucket, key, error: listError instanceof Error ? `${listError.name}: ${listError.message}` : String(listError) });
        return false;
    }
}

/** The raw mail, or a problem when the object is gone (expired, deleted): reported once, not retried. */
async function fetchRaw(deps: IngestDeps, source: MailSource): Promise<{ raw: Buffer; problems: string[] }> {
    if (source.kind === "sns-content") {
        const { raw, problem } = decodeSnsContent(source.content, source.encoding);
        return { raw, problems: problem ? [problem] : [] };
    }
    if (source.kind === "none") return { raw: Buffer.alloc(0), problems: [`the notification does not say where the mail is: ${source.reason}`] };
    try {
        const object = await deps.s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }));
        const bytes = object.Body ? await object.Body.transformToByteArray() : new Uint8Array();
        return { raw: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), problems: [] };
    } catch (error) {
        const name = (error as { name?: string })?.name;
        if (error instanceof NoSuchKey || name === "NoSuchKey") {
            return { raw: Buffer.alloc(0), problems: [`the mail is not in s3://${source.bucket}/${source.key} (NoSuchKey: expired or deleted); classified from nothing`] };
        }
        const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
        if ((name === "AccessDenied" || status === 403) && (await missingAfterDenial(deps, source.bucket, source.key))) {
            return { raw: Buffer.alloc(0), problems: [`the mail is not in s3://${source.bucket}/${source.key} (GetObject denied and a listing of the key found nothing: expired or deleted); classified from nothing`] };
        }
        throw error;
    }
}

async function publish(deps: IngestDeps, message: unknown): Promise<void> {
    await deps.sns.send(new PublishCommand({ TopicArn: deps.config.alertTopicArn, Message: boundedJson(message) }));
}

function snsMessageOf(record: SNSEventRecord): unknown {
    return (record as { Sns?: { Message?: unknown } } | undefined)?.Sns?.Message;
}

/** Handles one SNS record. Throws only for AWS failures (and a live claim elsewhere). */
export async function ingestRecord(record: SNSEventRecord, deps: IngestDeps, options: IngestOptions = {}): Promise<IngestOutcome> {
    const reading = readSesNotification(snsMessageOf(record));
    if (reading.kind === "other") {
        deps.logger.info("Skipped an SES notification that is not a received mail", { notificationType: reading.notificationType });
        return { kind: "not-a-mail", notificationType: reading.notificationType };
    }
    if (reading.kind === "invalid") {
        const message = snsMessageOf(record);
        const snippet = typeof message === "string" ? message.slice(0, 500) : String(message).slice(0, 500);
        deps.logger.error("The SNS message is not an SES notification; reporting it to the alert channel", { reason: reading.reason });
        await publish(deps, {
            title: "mail-ingest received a notification it could not read",
            state: "WARN",
            reason: `${reading.reason}. The mail (if any) was not classified and lit no tower; check what publishes to the mail topic.`,
            environment: deps.config.environment,
            snsMessageId: (record as { Sns?: { MessageId?: unknown } } | undefined)?.Sns?.MessageId ?? "(none)",
            received: snippet,
        });
        return { kind: "unreadable", reason: reading.reason };
    }
    return ingestNotification(reading.notification, reading.source, deps, options);
}

/** Handles one received-mail notification. */
export async function ingestNotification(notification: SesReceivedNotification, source: MailSource, deps: IngestDeps, options: IngestOptions = {}): Promise<IngestOutcome> {
    const now = (deps.now ?? Date.now)();
    const { config, logger } = deps;
    const messageId = notification.mail.messageId;
    const receivedAt = typeof notification.mail.timestamp === "string" ? notification.mail.timestamp : new Date(now).toISOString();
    const leaseUntil = options.deadline ?? now + DEFAULT_LEASE_MS;

    const claim = await claimMail(deps.ddb, config.stateTable, messageId, now, leaseUntil);
    if (claim.kind === "done") {
        logger.info("Mail already processed; duplicate delivery ignored", { messageId });
        return { kind: "duplicate", messageId };
    }
    try {
        const fetched = await fetchRaw(deps, source);
        const verdicts = verdictsOf(notification.receipt, notification.mail);
        const analysis = await analyseMail(fetched.raw, verdicts, config);
        const canary = canaryVerdict(analysis.mail, verdicts, config.canarySender);
        if (canary.kind === "canary") return await ingestCanary(deps, analysis.mail, messageId, receivedAt, canary.canaryId);
        // A mail claiming to be the canary never lights a tower, whatever else it would pass.
        const intents = canary.kind === "impostor" ? [] : buildIntents(analysis, messageId, receivedAt);
        if (intents.length > 0 && !claim.intentsSent) {
            // FIFO deduplication drops the entries that did go through when Lambda retries the event.
            await sendIntents(deps.sqs, deps.config.signalQueueUrl, intents);
            countIntents(deps.metrics ?? NO_METRICS, intents);
            await setMailState(deps.ddb, config.stateTable, messageId, "intents-sent");
        }
        const { severity, rule } = analysis.classification;
        let summary: MailSummary | undefined;
        let paging: PageReport | undefined;
        if (canary.kind !== "impostor" && severity === "ignore") {
            // Ignored mail (newsletters) stays in S3 and in this log line; posting it would be the noise the rule removes.
            logger.info("Mail ignored by rule", { messageId, rule, from: clip(analysis.mail.from), subject: clip(analysis.mail.subject) });
        } else {
            // What the summary says of on-call: an impostor is never paged for.
            let onCallNote: PageReport | undefined;
            if (canary.kind === "impostor") {
                logger.warn("A mail claiming to be the canary failed the sender check; it lit no tower and pinged nothing", { messageId, canaryId: clip(canary.canaryId), from: clip(analysis.mail.from), reasons: canary.reasons.map((r) => clip(r)) });
                onCallNote = deps.onCall === undefined ? undefined : { onCall: "not paged: a mail claiming to be the canary never pages" };
            } else if (deps.onCall !== undefined) {
                // Paged before the summary, so that a refusal is in it; a retryable failure throws and the retry pages again (on-call deduplicates by alias).
                const action = onCallActionFor({
                    severity,
                    alertKey: analysis.classification.alertKey,
                    rule,
                    subject: analysis.mail.subject,
                    from: analysis.mail.fromDisplay || analysis.mail.from,
                    text: analysis.mail.text,
                    intents,
                    messageId,
                    environment: config.environment,
                    original: describeSource(source),
                });
                if (action.kind === "create") await markPaged(deps.ddb, config.stateTable, action.alert.alias, messageId, (deps.now ?? Date.now)());
                // The recovery mail cleared the towers itself: the Close webhooks it causes have nothing left to clear.
                if (action.kind === "close") await markClearedByMail(deps.ddb, config.stateTable, action.alias, messageId, (deps.now ?? Date.now)());
                paging = isTargetList(deps.onCall)
                    ? await pageAll(deps.onCall, action, logger, messageId, claim.pagedIn ?? [], (backend) => markPagedIn(deps.ddb, config.stateTable, messageId, backend, (deps.now ?? Date.now)()))
                    : await page(deps.onCall, action, logger, messageId);
                if (action.kind === "create" && paging.onCall.startsWith("paged")) countPage(deps.metrics ?? NO_METRICS);
                onCallNote = paging;
            }
            const base = buildSummary({
                analysis,
                intents,
                messageId,
                receivedAt,
                source,
                environment: config.environment,
                extraProblems: onCallNote?.problem === undefined ? fetched.problems : [...fetched.problems, onCallNote.problem],
                onCall: onCallNote?.onCall,
            });
            summary = canary.kind === "impostor" ? impostorSummary(base, canary.canaryId, canary.reasons) : base;
            await publish(deps, summary);
        }
        await setMailState(deps.ddb, config.stateTable, messageId, "done", { doneAt: new Date((deps.now ?? Date.now)()).toISOString(), severity, rule: rule ?? "(default)", intents: intents.length });
        countMail(deps.metrics ?? NO_METRICS, { severity, trusted: summary?.trusted ?? analysis.environmentCheck.trusted });
        logger.info("Mail classified", {
            messageId,
            severity,
            rule,
            alertKey: clip(analysis.classification.alertKey),
            towersLit: intents.map((i) => i.tower),
            trusted: summary?.trusted ?? analysis.environmentCheck.trusted,
            onCall: paging?.onCall,
            // A hostile mail can carry thousands of problems, each quoting it: the log line stays bounded.
            problems: [...analysis.problems, ...fetched.problems].slice(0, SUMMARY_MAX_PROBLEMS).map((p) => clip(p)),
            problemCount: analysis.problems.length + fetched.problems.length,
            resumedAttempt: claim.attempts > 1 ? claim.attempts : undefined,
        });
        return { kind: "processed", messageId, severity, rule, intents, summary };
    } catch (error) {
        logger.error("Mail ingest failed; Lambda will retry the event", { messageId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
        await releaseClaim(deps.ddb, config.stateTable, messageId).catch((releaseError: unknown) => {
            logger.warn("Could not release the claim on the mail; a retry takes it over when the lease ends", { messageId, error: String(releaseError) });
        });
        throw error;
    }
}

/**
 * The canary passed the checks: ping the heartbeat (when configured) and finish. Nothing goes to the
 * towers or the channel. A failed ping is logged, not thrown: the heartbeat expiring pages on-call,
 * which is the right signal when alertline cannot reach on-call.
 */
async function ingestCanary(deps: IngestDeps, mail: ParsedAlertMail, messageId: string, receivedAt: string, canaryId: string): Promise<IngestOutcome> {
    const { config, logger, onCall } = deps;
    let heartbeat = "not configured";
    if (isTargetList(onCall) && config.heartbeatName !== undefined) {
        // The migration window: the heartbeat in each backend is kept alive.
        const result = await pingAll(onCall, config.heartbeatName);
        heartbeat = result.text;
        for (const failure of result.failures) {
            logger.error("Could not ping the canary's heartbeat; on-call is paged if it expires", { messageId, canaryId, heartbeatName: config.heartbeatName, ...failure });
        }
    } else if (onCall !== undefined && !isTargetList(onCall) && config.heartbeatName !== undefined) {
        const result = await onCall.pingHeartbeat(config.heartbeatName);
        if (result.ok) {
            heartbeat = "pinged";
        } else {
            heartbeat = result.problem;
            logger.error("Could not ping the canary's heartbeat; on-call is paged if it expires", {
                messageId,
                canaryId,
                heartbeatName: config.heartbeatName,
                status: result.status,
                retryable: result.retryable,
                problem: result.problem,
            });
        }
    }
    await setMailState(deps.ddb, config.stateTable, messageId, "done", { doneAt: new Date((deps.now ?? Date.now)()).toISOString(), canaryId, heartbeat: clip(heartbeat) });
    const ageMs = canaryAgeMs(receivedAt, mail.date);
    countCanary(deps.metrics ?? NO_METRICS, ageMs);
    logger.info("Canary received", { messageId, canaryId, ageMs, ageSeconds: ageMs === undefined ? undefined : Math.round(ageMs / 1000), sentAt: mail.date, receivedAt, heartbeat });
    return { kind: "canary", messageId, canaryId, heartbeat };
}

function isTargetList(onCall: IngestDeps["onCall"]): onCall is readonly OnCallTarget[] {
    return Array.isArray(onCall);
}
