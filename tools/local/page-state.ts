import { LA6_COLORS } from "../../functions/shared/patlite/la6";
import { LAMPS, type Lamp, type LampMode, type TowerSignal } from "../../functions/shared/patlite/signal";
import type { TowerProtocol } from "../../functions/shared/tower-config";
import type { IngestOutcome } from "../../functions/mail-ingest/ingest";
import type { SesMail } from "../../functions/mail-ingest/ses-event";

/**
 * What the local page (`npm start`, tools/local/page.ts) shows, computed from what the pipeline
 * already records: each emulator's current signal, the mails the SES stand-in took, what
 * mail-ingest's handler returned for each, the signal intents the FIFO queue took, the on-call
 * stand-in's alerts and the Slack posts. Pure: the same records give the same page.
 *
 * A mail's path is followed by its SES message ID, which every later record carries: mail-ingest's
 * outcome, each intent (`messageId`), the on-call alert mail-ingest opened (`details.messageId`)
 * and the Slack message (the summary's fields, rendered into its blocks).
 */

/** How many alerts the page lists by default. */
export const DEFAULT_PAGE_ALERTS = 20;

/** Lamps a tower of each protocol has, top to bottom: PHN drives three, the NH series and LA6 five. */
export const PROTOCOL_LAMPS: Record<TowerProtocol, readonly Lamp[]> = { phn: ["red", "amber", "green"], pns: LAMPS, la6: LAMPS };

export interface PageTowerInput {
    readonly name: string;
    readonly site: string;
    readonly protocol: TowerProtocol;
    /** What the emulator shows now. */
    readonly signal: TowerSignal;
    /** LA6 only: the colour code of each tier (0 off … 9 white), as the emulator holds them. */
    readonly la6Colors?: readonly number[];
}

/** A mail as the SES stand-in took it (tools/local/ses.ts `SesReceivedMail`, the fields used). */
export interface PageMailInput {
    readonly messageId: string;
    readonly notification: { readonly mail: Pick<SesMail, "timestamp" | "source" | "commonHeaders"> };
}

/** A message the queue took (tools/local/sqs.ts `SqsMessage`, the fields used). */
export interface PageQueueMessage {
    readonly messageId: string;
    readonly MessageBody: string;
    readonly receiveCount: number;
}

export interface PageInput {
    readonly stack: string;
    readonly environment: string;
    readonly towers: readonly PageTowerInput[];
    /** Every mail received, in order. */
    readonly mails: readonly PageMailInput[];
    /** What mail-ingest's handler returned, every invocation's outcomes in order. */
    readonly ingested: readonly IngestOutcome[];
    /** The signal queue: every message it took, those still waiting, those moved to the dead letters. */
    readonly intents: { readonly accepted: readonly PageQueueMessage[]; readonly waiting: readonly PageQueueMessage[]; readonly deadLetters: readonly PageQueueMessage[] };
    /** The on-call stand-in's alerts (tools/local/oncall.ts `OnCallAlert`, the fields used). */
    readonly onCallAlerts: readonly { readonly alias: string | undefined; readonly status: string; readonly acknowledged: boolean; readonly api: string; readonly body: Readonly<Record<string, unknown>> }[];
    /** Every Slack message posted, in order. */
    readonly slackPosts: readonly { readonly text: string; readonly payload: unknown }[];
    /** The canary's From address: its mails are counted, not listed (unless mail-ingest found one an impostor). */
    readonly canarySender?: string;
}

export interface PageLamp {
    readonly lamp: Lamp;
    readonly mode: LampMode;
    /** The colour it shows when lit: the lamp's own, or an LA6 tier's colour name. */
    readonly color: string;
}

export interface PageTower {
    readonly name: string;
    readonly site: string;
    readonly protocol: TowerProtocol;
    readonly lamps: readonly PageLamp[];
    /** 0 silent, else the pattern. */
    readonly buzzer: number;
}

export type StepStatus = "done" | "pending" | "none" | "failed";

export interface PageStep {
    readonly step: "mail" | "classified" | "towers" | "on-call" | "slack";
    readonly status: StepStatus;
    readonly detail: string;
}

export interface PageAlert {
    readonly messageId: string;
    readonly receivedAt: string;
    readonly from: string;
    readonly subject: string;
    /** Once mail-ingest classified it. */
    readonly severity?: string;
    readonly steps: readonly PageStep[];
}

export interface PageState {
    readonly stack: string;
    readonly environment: string;
    readonly towers: readonly PageTower[];
    /** The newest first, at most the limit. */
    readonly alerts: readonly PageAlert[];
    /** Mails received in all (canaries included). */
    readonly mailsReceived: number;
    readonly canaries: { readonly received: number; readonly lastReceivedAt?: string };
}

function lampsOf(tower: PageTowerInput): PageLamp[] {
    return PROTOCOL_LAMPS[tower.protocol].map((lamp) => {
        const tier = LAMPS.indexOf(lamp);
        const la6 = tower.protocol === "la6" ? LA6_COLORS[tower.la6Colors?.[tier] ?? 0] : undefined;
        return { lamp, mode: tower.signal[lamp], color: la6 === undefined || la6 === "off" ? lamp : la6 };
    });
}

type Processed = Extract<IngestOutcome, { kind: "processed" }>;

interface QueuedIntent {
    readonly tower: string;
    readonly severity: string;
    readonly rule: string | null;
    /** "dispatching (attempt N)": delivered to tower-dispatch N times and not done (running now, or waiting to come back after a failure). */
    readonly state: "queued" | `dispatching (attempt ${number})` | "dispatched" | "dead letter";
}

type IntentBody = { messageId?: unknown; tower?: unknown; severity?: unknown; rule?: unknown } | null;
/** Each queued message's body, parsed once per message (the page asks every 50 ms). */
const intentBodies = new WeakMap<object, IntentBody>();

function intentBody(message: PageQueueMessage): IntentBody {
    if (intentBodies.has(message)) return intentBodies.get(message)!;
    let body: IntentBody;
    try {
        body = JSON.parse(message.MessageBody) as IntentBody;
    } catch {
        body = null; // not an intent of mail-ingest's: nothing of a mail's path
    }
    intentBodies.set(message, body);
    return body;
}

/** The signal intents mail-ingest queued, by the mail's SES message ID, and how far each got. */
function intentsByMail(input: PageInput): Map<string, QueuedIntent[]> {
    const waiting = new Set(input.intents.waiting.map((m) => m.messageId));
    const dead = new Set(input.intents.deadLetters.map((m) => m.messageId));
    const byMail = new Map<string, QueuedIntent[]>();
    for (const message of input.intents.accepted) {
        const body = intentBody(message);
        if (typeof body?.messageId !== "string" || typeof body.tower !== "string") continue;
        const state: QueuedIntent["state"] = dead.has(message.messageId)
            ? "dead letter"
            : !waiting.has(message.messageId)
              ? "dispatched"
              : message.receiveCount > 0
                ? `dispatching (attempt ${message.receiveCount})`
                : "queued";
        const intent: QueuedIntent = { tower: body.tower, severity: String(body.severity), rule: typeof body.rule === "string" ? body.rule : null, state };
        byMail.set(body.messageId, [...(byMail.get(body.messageId) ?? []), intent]);
    }
    return byMail;
}

function classifiedStep(processed: Processed | undefined, intents: readonly QueuedIntent[]): PageStep {
    // The intents carry the classification before mail-ingest has finished (paged, posted).
    const severity = processed?.severity ?? intents[0]?.severity;
    if (severity === undefined) return { step: "classified", status: "pending", detail: "" };
    const rule = processed === undefined ? intents[0].rule : processed.rule;
    const untrusted = processed?.summary?.trusted === false;
    return { step: "classified", status: untrusted ? "failed" : "done", detail: `${severity}, rule ${rule ?? "(none matched)"}${untrusted ? ", sender not trusted" : ""}` };
}

function towersStep(processed: Processed | undefined, intents: readonly QueuedIntent[]): PageStep {
    if (intents.length > 0) {
        const status: StepStatus = intents.some((i) => i.state === "dead letter") ? "failed" : intents.every((i) => i.state === "dispatched") ? "done" : "pending";
        return { step: "towers", status, detail: intents.map((i) => `${i.tower} ${i.state}`).join(", ") };
    }
    if (processed === undefined) return { step: "towers", status: "pending", detail: "" };
    return { step: "towers", status: "none", detail: processed.summary?.towersLit ?? (processed.severity === "ignore" ? "none (ignored)" : "none") };
}

function onCallStep(input: PageInput, processed: Processed | undefined): PageStep {
    if (processed === undefined) return { step: "on-call", status: "pending", detail: "" };
    const told = processed.summary?.onCall;
    if (told === undefined) return { step: "on-call", status: "none", detail: processed.summary === undefined ? "not paged (ignored)" : "on-call not configured" };
    const opened = input.onCallAlerts.filter((a) => (a.body.details as Record<string, unknown> | undefined)?.messageId === processed.messageId);
    const now = opened.map((a) => `${a.api} ${a.status === "closed" ? "closed" : a.acknowledged ? "acknowledged" : "open"}`);
    // A refusal is among the summary's problems (mail-ingest's on-call-page.ts); "not paged: <why>" alone is a page not asked for.
    const refused = /(^|\n)on-call refused/.test(processed.summary?.problems ?? "");
    const status: StepStatus = refused ? "failed" : /^(paged|closed)/.test(told) ? "done" : "none";
    return { step: "on-call", status, detail: now.length > 0 ? `${told}; now ${now.join(", ")}` : told };
}

function slackStep(posts: number, processed: Processed | undefined): PageStep {
    if (posts > 0) return { step: "slack", status: "done", detail: posts === 1 ? "posted" : `posted ${posts} times` };
    if (processed !== undefined && processed.summary === undefined) return { step: "slack", status: "none", detail: "not posted (ignored)" };
    return { step: "slack", status: "pending", detail: "" };
}

/** Each post as JSON text, made once per post: a long run keeps thousands, and the page asks every 50 ms. */
const postTexts = new WeakMap<object, string>();

/** How many Slack posts name each of these SES message IDs (the summary's messageId field is rendered into the blocks). */
function postsNaming(posts: PageInput["slackPosts"], messageIds: readonly string[]): Map<string, number> {
    const counts = new Map<string, number>();
    if (messageIds.length === 0) return counts;
    const ids = new RegExp(messageIds.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
    for (const post of posts) {
        let text = postTexts.get(post);
        if (text === undefined) postTexts.set(post, (text = JSON.stringify(post.payload ?? null)));
        for (const id of new Set(Array.from(text.matchAll(ids), (match) => match[0]))) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
}

/** The page for these records; `limit` alerts at most, the newest first. Pure. */
export function pageState(input: PageInput, limit = DEFAULT_PAGE_ALERTS): PageState {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`the page lists at least 1 alert, got a limit of ${limit}`);
    const processed = new Map<string, Processed>();
    const canaryIds = new Set<string>();
    for (const outcome of input.ingested) {
        if (outcome.kind === "processed") processed.set(outcome.messageId, outcome);
        if (outcome.kind === "canary") canaryIds.add(outcome.messageId);
    }
    // A mail from the canary's sender is the canary until mail-ingest says otherwise (an impostor is processed and listed).
    const isCanary = (m: PageMailInput) => canaryIds.has(m.messageId) || (input.canarySender !== undefined && m.notification.mail.source === input.canarySender && !processed.has(m.messageId));
    const canaries = input.mails.filter(isCanary);
    const intents = intentsByMail(input);
    const listed = input.mails.filter((m) => !isCanary(m)).slice(-limit);
    const posts = postsNaming(
        input.slackPosts,
        listed.map((m) => m.messageId),
    );
    const alerts = listed
        .reverse()
        .map((mail): PageAlert => {
            const { messageId } = mail;
            const { timestamp, source, commonHeaders } = mail.notification.mail;
            const outcome = processed.get(messageId);
            const queued = intents.get(messageId) ?? [];
            const from = commonHeaders?.from?.[0] ?? source ?? "(no sender)";
            const severity = outcome?.severity ?? queued[0]?.severity;
            return {
                messageId,
                receivedAt: timestamp ?? "",
                from,
                subject: commonHeaders?.subject ?? "(no subject)",
                ...(severity === undefined ? {} : { severity }),
                steps: [
                    { step: "mail", status: "done", detail: `from ${from}` },
                    classifiedStep(outcome, queued),
                    towersStep(outcome, queued),
                    onCallStep(input, outcome),
                    slackStep(posts.get(messageId) ?? 0, outcome),
                ],
            };
        });
    const lastCanary = canaries.at(-1)?.notification.mail.timestamp;
    return {
        stack: input.stack,
        environment: input.environment,
        towers: input.towers.map((tower) => ({ name: tower.name, site: tower.site, protocol: tower.protocol, lamps: lampsOf(tower), buzzer: tower.signal.buzzer })),
        alerts,
        mailsReceived: input.mails.length,
        canaries: { received: canaries.length, ...(lastCanary === undefined ? {} : { lastReceivedAt: lastCanary }) },
    };
}
