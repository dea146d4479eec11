/**
 * What a Slack incoming webhook refuses, as a pure function, so that every stand-in for it (the
 * `npm start` sink in local-pipeline.ts, the tests' sink) refuses the same requests Slack would.
 * Sources (test/fixtures/contracts/README.md, "slack"):
 * - answers: Slack's changelog "Improving error conditions for Incoming Webhooks" (2016-05-17):
 *   plain-text bodies, 400 invalid_payload ("verify your content body matches your content type
 *   and is structurally valid"), 403 action_prohibited, 404 channel_not_found, 410
 *   channel_is_archived, 500 rollup_error; 200 `ok` on success; 429 with Retry-After (facts.md);
 * - the URL: `https://hooks.slack.com/services/T…/B…/<secret>` as Slack hands it out (Slack's
 *   incoming-webhook docs, @slack/webhook);
 * - Block Kit limits: @slack/types 3.2.0 (the field docs of SectionBlock, HeaderBlock,
 *   ContextBlock, PlainTextElement/MrkdwnElement) and facts.md (50 blocks a message).
 *
 * Unconfirmed (the public sources give no answer; chosen so that a refusal is an error our client
 * does not retry): the status and body for an unknown webhook path (404 `no_service`, as reported
 * in slackapi/slack-github-action#249), for a method other than POST (405 `invalid_method`
 * here), for a payload with neither text nor blocks (400 `no_text`), and for broken blocks
 * (400 `invalid_blocks`, the body alertline's slack-webhook.ts already knows). Slack also takes a
 * form-encoded `payload=` body; alertline sends JSON, so the stand-ins refuse anything else.
 */

/** A webhook URL's path: `/services/T<team>/B<bot>/<secret>`. */
export const SLACK_WEBHOOK_PATH = /^\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+$/;

/** Block Kit limits a message must keep, or Slack refuses the whole message. */
export const BLOCK_KIT_LIMITS = {
    /** Blocks in one message (facts.md; @slack/types "Maximum of 50 blocks"). */
    blocks: 50,
    /** A text object (plain_text or mrkdwn): 1–3000 characters. */
    textObject: 3000,
    /** A section's text: 1–3000 characters. */
    sectionText: 3000,
    /** A section's fields: at most 10. */
    sectionFields: 10,
    /** Each section field's text: at most 2000 characters. */
    fieldText: 2000,
    /** A header's plain_text: at most 150 characters. */
    headerText: 150,
    /** A context block's elements: at most 10. */
    contextElements: 10,
} as const;

/** Block types Slack knows (the `type` of every block in @slack/types 3.2.0 KnownBlock). */
export const KNOWN_BLOCK_TYPES: readonly string[] = [
    "actions",
    "alert",
    "card",
    "carousel",
    "container",
    "context",
    "context_actions",
    "data_table",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "table",
    "task_card",
    "plan",
    "video",
];

/** How a stand-in answers a request Slack would refuse, and why (for the test that made it). */
export interface SlackRefusal {
    readonly status: number;
    /** Slack's plain-text error string. */
    readonly body: string;
    readonly reason: string;
}

export interface SlackWebhookRequest {
    readonly method: string;
    /** Path and query as received, e.g. `/services/T0/B0/secret`. */
    readonly path: string;
    readonly contentType: string | undefined;
    readonly body: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function textOf(value: unknown): string | undefined {
    return isObject(value) && typeof value.text === "string" ? value.text : undefined;
}

function checkText(where: string, object: unknown, max: number, problems: string[]): void {
    if (!isObject(object) || (object.type !== "plain_text" && object.type !== "mrkdwn")) return void problems.push(`${where}: not a text object (type plain_text or mrkdwn)`);
    const text = textOf(object);
    if (text === undefined || text.length === 0) return void problems.push(`${where}: text is empty (minimum 1 character)`);
    if (text.length > max) problems.push(`${where}: text has ${text.length} characters, more than ${max}`);
}

/** Every Block Kit limit `blocks` breaks, as "where: what"; empty when Slack would take them. */
export function blockKitViolations(blocks: unknown, where = "blocks"): string[] {
    const problems: string[] = [];
    if (!Array.isArray(blocks)) return [`${where}: not an array`];
    if (blocks.length > BLOCK_KIT_LIMITS.blocks) problems.push(`${where}: ${blocks.length} blocks, more than ${BLOCK_KIT_LIMITS.blocks}`);
    blocks.forEach((block: unknown, i) => {
        const at = `${where}[${i}]`;
        if (!isObject(block) || typeof block.type !== "string") return void problems.push(`${at}: not a block (no type)`);
        if (!KNOWN_BLOCK_TYPES.includes(block.type)) return void problems.push(`${at}: unknown block type ${JSON.stringify(block.type)}`);
        switch (block.type) {
            case "header":
                if (!isObject(block.text) || block.text.type !== "plain_text") problems.push(`${at} header: text must be plain_text`);
                else checkText(`${at} header`, block.text, BLOCK_KIT_LIMITS.headerText, problems);
                break;
            case "section": {
                if (block.text === undefined && block.fields === undefined) problems.push(`${at} section: needs text or fields`);
                if (block.text !== undefined) checkText(`${at} section`, block.text, BLOCK_KIT_LIMITS.sectionText, problems);
                if (block.fields !== undefined) {
                    if (!Array.isArray(block.fields) || block.fields.length === 0) problems.push(`${at} section: fields must be a non-empty array`);
                    else {
                        if (block.fields.length > BLOCK_KIT_LIMITS.sectionFields) problems.push(`${at} section: ${block.fields.length} fields, more than ${BLOCK_KIT_LIMITS.sectionFields}`);
                        block.fields.forEach((field, j) => checkText(`${at} section field ${j}`, field, BLOCK_KIT_LIMITS.fieldText, problems));
                    }
                }
                break;
            }
            case "context": {
                const elements = block.elements;
                if (!Array.isArray(elements) || elements.length === 0) problems.push(`${at} context: needs 1–${BLOCK_KIT_LIMITS.contextElements} elements`);
                else {
                    if (elements.length > BLOCK_KIT_LIMITS.contextElements) problems.push(`${at} context: ${elements.length} elements, more than ${BLOCK_KIT_LIMITS.contextElements}`);
                    elements.forEach((element, j) => {
                        if (isObject(element) && element.type === "image") return;
                        checkText(`${at} context element ${j}`, element, BLOCK_KIT_LIMITS.textObject, problems);
                    });
                }
                break;
            }
        }
    });
    return problems;
}

/**
 * The answer Slack would give instead of `ok` to this request, or undefined when it would post
 * the message. `webhookPath` is the stand-in's own path: any other is an unknown webhook.
 */
export function slackWebhookRefusal(request: SlackWebhookRequest, webhookPath: string): SlackRefusal | undefined {
    if (!SLACK_WEBHOOK_PATH.test(request.path) || request.path !== webhookPath) {
        return { status: 404, body: "no_service", reason: `no webhook at ${request.path.replace(/\/[^/]+$/, "/[redacted]")} (expected /services/T…/B…/<secret> of this webhook)` };
    }
    if (request.method !== "POST") return { status: 405, body: "invalid_method", reason: `method ${request.method}: a webhook takes POST only` };
    const mediaType = (request.contentType ?? "").split(";")[0].trim().toLowerCase();
    if (mediaType !== "application/json") {
        return { status: 400, body: "invalid_payload", reason: `content type ${JSON.stringify(request.contentType ?? "")}: alertline's stand-in takes application/json only` };
    }
    let payload: unknown;
    try {
        payload = JSON.parse(request.body);
    } catch (error) {
        return { status: 400, body: "invalid_payload", reason: `body is not JSON (${error instanceof Error ? error.message : String(error)})` };
    }
    if (!isObject(payload)) return { status: 400, body: "invalid_payload", reason: "body is JSON but not an object" };
    const hasText = typeof payload.text === "string" && payload.text.trim() !== "";
    const hasBlocks = Array.isArray(payload.blocks) && payload.blocks.length > 0;
    const hasAttachments = Array.isArray(payload.attachments) && payload.attachments.length > 0;
    if (!hasText && !hasBlocks && !hasAttachments) return { status: 400, body: "no_text", reason: "the message has neither text nor blocks" };
    const problems = [
        ...(payload.blocks === undefined ? [] : blockKitViolations(payload.blocks)),
        ...(Array.isArray(payload.attachments) ? payload.attachments.flatMap((a: unknown, i) => (isObject(a) && a.blocks !== undefined ? blockKitViolations(a.blocks, `attachments[${i}].blocks`) : [])) : []),
    ];
    if (problems.length > 0) return { status: 400, body: "invalid_blocks", reason: problems.join("; ") };
    return undefined;
}
