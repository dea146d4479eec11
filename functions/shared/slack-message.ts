import type { ContextBlock, HeaderBlock, KnownBlock, MessageAttachment, MrkdwnElement, SectionBlock } from "@slack/types";
import { truncateChars } from "./truncate";

/**
 * Turns a normalised alert into a Slack incoming-webhook payload (Block Kit plus a `text`
 * fallback). Every function that tells people about an alert (the SNS notifier, mail ingest,
 * tower dispatch reports, security findings) builds an {@link AlertSummary} and calls
 * {@link buildSlackMessage}, so one place knows Slack's limits.
 *
 * Slack rejects a whole message with 400 invalid_blocks when any one limit is broken, and an alert
 * that never arrives is worse than a clipped one, so every text here is truncated, never refused.
 */

/** Block Kit: at most 50 blocks in a message. */
export const MAX_BLOCKS = 50;
/** Block Kit: a section's text must be 1–3000 characters. */
export const SECTION_TEXT_MAX = 3000;
/** Block Kit: a section holds at most 10 fields. */
export const MAX_SECTION_FIELDS = 10;
/** Block Kit: each section field's text is at most 2000 characters. */
export const FIELD_TEXT_MAX = 2000;
/** Block Kit: a header's plain_text is at most 150 characters. */
export const HEADER_TEXT_MAX = 150;
/** The top-level `text` fallback (notifications, screen readers); kept to a section's size. */
export const FALLBACK_TEXT_MAX = 3000;
/**
 * Context block element text: a context element is a text object, whose text is 1–3000
 * characters (@slack/types 3.2.0 MrkdwnElement/PlainTextElement, Slack's "Text object" reference).
 */
export const CONTEXT_TEXT_MAX = 3000;
/** What a truncated text ends with, so a reader knows there was more. */
export const TRUNCATION_MARKER = "…";

/**
 * The state of an alert, in CloudWatch's vocabulary because most alerts arrive from there.
 * Other sources map onto it (Datadog "Triggered" is ALARM, "Recovered" is OK, "No Data" is
 * INSUFFICIENT_DATA, "Warn" is WARN).
 */
export type AlertState = "ALARM" | "OK" | "INSUFFICIENT_DATA" | "WARN" | "UNKNOWN";

/** One labelled value shown in the message's two-column field grid. */
export interface AlertField {
    readonly label: string;
    readonly value: string;
}

/**
 * A source-independent view of one alert: what every alertline function hands to Slack.
 * Only `source`, `state`, `title` and `fields` are required so that a parser that understood
 * little can still say something readable.
 */
export interface AlertSummary {
    /** Where the alert came from, shown in the context line: "cloudwatch", "datadog", "sns", "mail", "tower", "security-hub". */
    readonly source: string;
    readonly state: AlertState;
    /** The alarm or monitor name; becomes the header. */
    readonly title: string;
    /** Why the state changed, in the source's words. */
    readonly reason?: string;
    /** Metric, threshold, host… in display order; more than {@link MAX_SECTION_FIELDS} are folded into a text section. */
    readonly fields: readonly AlertField[];
    /** Pre-formatted leftovers (e.g. unrecognised JSON), shown as a code block. */
    readonly details?: string;
    /** A link to the alert in its own console (http or https only; anything else is not shown). */
    readonly consoleUrl?: string;
    /** The link's text, e.g. "Open in CloudWatch". */
    readonly consoleLabel?: string;
    readonly region?: string;
    readonly account?: string;
    /** When the state changed, as the source wrote it. */
    readonly occurredAt?: string;
    /** The parsed input, for callers that need more than the summary; never rendered. */
    readonly raw?: unknown;
}

/** The JSON body posted to an incoming webhook. */
export interface SlackWebhookPayload {
    readonly text: string;
    readonly blocks: KnownBlock[];
    readonly attachments?: MessageAttachment[];
}

export interface SlackMessageOptions {
    /** Deployment environment ("dev", "prod"), shown in the context line so dev noise is recognisable. */
    readonly environment?: string;
    /**
     * Put the context line in an attachment coloured by state, which gives the message a coloured
     * bar. Off by default: attachments are legacy and render below the blocks.
     */
    readonly colourBar?: boolean;
}

const STATE_EMOJI: Record<AlertState, string> = {
    ALARM: ":red_circle:",
    OK: ":large_green_circle:",
    INSUFFICIENT_DATA: ":warning:",
    WARN: ":large_yellow_circle:",
    UNKNOWN: ":grey_question:",
};

const STATE_COLOUR: Record<AlertState, string> = {
    ALARM: "#d40e0d",
    OK: "#2eb886",
    INSUFFICIENT_DATA: "#daa038",
    WARN: "#daa038",
    UNKNOWN: "#9e9e9e",
};

/** The emoji shortcode shown before an alert's title; unknown states get a question mark. */
export function stateEmoji(state: AlertState): string {
    // Own properties only: the state comes from the published message, and "constructor" is no state.
    return Object.hasOwn(STATE_EMOJI, state) ? STATE_EMOJI[state] : STATE_EMOJI.UNKNOWN;
}

/** The attachment colour for a state (used when {@link SlackMessageOptions.colourBar} is set). */
export function stateColour(state: AlertState): string {
    return Object.hasOwn(STATE_COLOUR, state) ? STATE_COLOUR[state] : STATE_COLOUR.UNKNOWN;
}

/**
 * Cuts `text` to at most `max` UTF-16 code units (how JavaScript and, conservatively, Slack count),
 * ending with `marker` when anything was cut. Never splits a surrogate pair.
 */
export function truncate(text: string, max: number, marker: string = TRUNCATION_MARKER): string {
    if (text.length <= max) return text;
    if (max <= marker.length) return marker.slice(0, Math.max(0, max));
    return truncateChars(text, max, marker);
}

/** Escapes the three characters Slack's mrkdwn treats as control characters (`<@U…>`, `<!channel>`, links). */
export function escapeMrkdwn(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes, then truncates without leaving half an entity such as `&am` before the marker. */
function mrkdwnWithin(text: string, max: number): string {
    const escaped = escapeMrkdwn(text);
    if (escaped.length <= max) return escaped;
    let clipped = truncate(escaped, max);
    const body = clipped.slice(0, clipped.length - TRUNCATION_MARKER.length);
    const partialEntity = /&[a-z]{0,3}$/.exec(body);
    if (partialEntity) clipped = body.slice(0, partialEntity.index) + TRUNCATION_MARKER;
    return clipped;
}

/** Slack rejects empty (and whitespace-only) text objects, so a missing value becomes a visible placeholder. */
function orPlaceholder(text: string | undefined, placeholder: string): string {
    return text !== undefined && text.trim() !== "" ? text : placeholder;
}

function mrkdwn(text: string): MrkdwnElement {
    return { type: "mrkdwn", text };
}

function section(text: string): SectionBlock {
    return { type: "section", text: mrkdwn(orPlaceholder(text, "_(empty)_")) };
}

function headerBlock(alert: AlertSummary): HeaderBlock {
    const title = orPlaceholder(alert.title, "Untitled alert").replace(/\s+/g, " ").trim();
    return {
        type: "header",
        text: { type: "plain_text", text: truncate(`${stateEmoji(alert.state)} [${alert.state}] ${title}`, HEADER_TEXT_MAX), emoji: true },
    };
}

function fieldText(field: AlertField): string {
    // The label is cut hard first so that a long label cannot push the value out entirely.
    const prefix = `*${mrkdwnWithin(orPlaceholder(field.label, "(unnamed)"), 200)}*\n`;
    return prefix + mrkdwnWithin(orPlaceholder(field.value, "(empty)"), FIELD_TEXT_MAX - prefix.length);
}

/** Up to {@link MAX_SECTION_FIELDS} fields in one section; the rest become lines of one text section. */
function fieldBlocks(fields: readonly AlertField[]): SectionBlock[] {
    if (fields.length === 0) return [];
    if (fields.length <= MAX_SECTION_FIELDS) {
        return [{ type: "section", fields: fields.map((f) => mrkdwn(fieldText(f))) }];
    }
    const shown = fields.slice(0, MAX_SECTION_FIELDS - 1);
    const rest = fields.slice(MAX_SECTION_FIELDS - 1);
    const grid: SectionBlock = {
        type: "section",
        fields: [...shown.map((f) => mrkdwn(fieldText(f))), mrkdwn(`*More*\n${rest.length} more fields below`)],
    };
    const lines = rest.map((f) => `${orPlaceholder(f.label, "(unnamed)")}: ${orPlaceholder(f.value, "(empty)")}`).join("\n");
    return [grid, section(mrkdwnWithin(lines, SECTION_TEXT_MAX))];
}

function detailsBlock(details: string): SectionBlock {
    // Three backticks inside would end the code block early; a zero-width space keeps them apart.
    const fence = "```";
    const inner = mrkdwnWithin(details.replace(/```/g, "`\u200b``"), SECTION_TEXT_MAX - 2 * fence.length - 2);
    return section(`${fence}\n${inner}\n${fence}`);
}

/** Only http(s) URLs become links; Slack's link syntax breaks on `|` and `>`, so those are percent-encoded. */
function consoleLink(alert: AlertSummary): string | undefined {
    if (alert.consoleUrl === undefined) return undefined;
    let url: URL;
    try {
        url = new URL(alert.consoleUrl);
    } catch {
        return undefined;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
    const href = url.href.replace(/\|/g, "%7C").replace(/&/g, "&amp;");
    const label = mrkdwnWithin(orPlaceholder(alert.consoleLabel, "Open console"), 75).replace(/\|/g, "/");
    const link = `:link: <${href}|${label}>`;
    // A clipped URL points somewhere else, so an over-long link is left out rather than cut.
    return link.length <= SECTION_TEXT_MAX ? link : undefined;
}

function contextText(alert: AlertSummary, options: SlackMessageOptions): string {
    const parts = [`*${alert.state}*`, escapeMrkdwn(orPlaceholder(alert.source, "unknown source"))];
    if (alert.region) parts.push(`Region: ${escapeMrkdwn(alert.region)}`);
    if (alert.account) parts.push(`Account: ${escapeMrkdwn(alert.account)}`);
    if (alert.occurredAt) parts.push(escapeMrkdwn(alert.occurredAt));
    if (options.environment) parts.push(`Environment: *${escapeMrkdwn(options.environment)}*`);
    return truncate(parts.join("  ·  "), CONTEXT_TEXT_MAX);
}

/** The top-level `text`: what notifications and screen readers show, so state, title and reason in one line. */
export function fallbackText(alert: AlertSummary): string {
    const title = orPlaceholder(alert.title, "Untitled alert").replace(/\s+/g, " ").trim();
    const reason = alert.reason?.replace(/\s+/g, " ").trim();
    const line = `${stateEmoji(alert.state)} [${alert.state}] ${title}${reason ? `: ${reason}` : ""}`;
    return mrkdwnWithin(line, FALLBACK_TEXT_MAX);
}

/** Builds the webhook payload for one alert; always within Slack's limits, never empty, never throws on odd text. */
export function buildSlackMessage(alert: AlertSummary, options: SlackMessageOptions = {}): SlackWebhookPayload {
    const blocks: KnownBlock[] = [headerBlock(alert)];
    if (alert.reason !== undefined && alert.reason.trim() !== "") {
        blocks.push(section(mrkdwnWithin(alert.reason, SECTION_TEXT_MAX)));
    }
    blocks.push(...fieldBlocks(alert.fields ?? []));
    if (alert.details !== undefined && alert.details.trim() !== "") blocks.push(detailsBlock(alert.details));
    const link = consoleLink(alert);
    if (link !== undefined) blocks.push(section(link));

    const context: ContextBlock = { type: "context", elements: [mrkdwn(contextText(alert, options))] };
    const text = fallbackText(alert);
    if (options.colourBar) {
        return {
            text,
            blocks: blocks.slice(0, MAX_BLOCKS),
            attachments: [{ color: stateColour(alert.state), fallback: text, blocks: [context] }],
        };
    }
    blocks.push(context);
    return { text, blocks: blocks.slice(0, MAX_BLOCKS) };
}

/**
 * The message posted when an input could not be formatted at all: plain readable text, so an
 * alert is never lost to a formatting bug.
 */
export function minimalSlackMessage(text: string): SlackWebhookPayload {
    const safe = mrkdwnWithin(orPlaceholder(text, "An alert arrived but its content was empty."), SECTION_TEXT_MAX);
    return { text: safe, blocks: [section(safe)] };
}
