/**
 * An independent reading of Slack's Block Kit limits (facts.md, "Slack incoming webhooks"), applied
 * to a payload as Slack would receive it: JSON, not our types. Returns every broken rule, so a
 * failing test says which block and which limit.
 */

const LIMITS = { blocks: 50, sectionText: 3000, fields: 10, fieldText: 2000, headerText: 150, fallbackText: 3000, contextElements: 10 };

type Json = Record<string, unknown>;

function textOf(obj: unknown): string | undefined {
    return typeof obj === "object" && obj !== null && typeof (obj as Json).text === "string" ? ((obj as Json).text as string) : undefined;
}

function checkText(where: string, text: string | undefined, max: number, problems: string[]): void {
    if (text === undefined) return void problems.push(`${where}: text missing`);
    if (text.trim() === "") problems.push(`${where}: text is empty`);
    if (text.length > max) problems.push(`${where}: ${text.length} chars > ${max}`);
}

function checkBlocks(where: string, blocks: unknown, problems: string[]): void {
    if (!Array.isArray(blocks)) return void problems.push(`${where}: blocks is not an array`);
    if (blocks.length > LIMITS.blocks) problems.push(`${where}: ${blocks.length} blocks > ${LIMITS.blocks}`);
    blocks.forEach((block: Json, i) => {
        const at = `${where}[${i}] ${String(block.type)}`;
        switch (block.type) {
            case "header":
                checkText(at, textOf(block.text), LIMITS.headerText, problems);
                if ((block.text as Json)?.type !== "plain_text") problems.push(`${at}: header text must be plain_text`);
                break;
            case "section": {
                const fields = block.fields as unknown[] | undefined;
                if (block.text === undefined && fields === undefined) problems.push(`${at}: neither text nor fields`);
                if (block.text !== undefined) checkText(at, textOf(block.text), LIMITS.sectionText, problems);
                if (fields !== undefined) {
                    if (fields.length > LIMITS.fields) problems.push(`${at}: ${fields.length} fields > ${LIMITS.fields}`);
                    if (fields.length === 0) problems.push(`${at}: empty fields array`);
                    fields.forEach((f, j) => checkText(`${at} field ${j}`, textOf(f), LIMITS.fieldText, problems));
                }
                break;
            }
            case "context": {
                const elements = block.elements as unknown[];
                if (!Array.isArray(elements) || elements.length === 0 || elements.length > LIMITS.contextElements) problems.push(`${at}: needs 1–10 elements`);
                else elements.forEach((e, j) => checkText(`${at} element ${j}`, textOf(e), LIMITS.sectionText, problems));
                break;
            }
            case "actions":
            case "divider":
                break;
            default:
                problems.push(`${at}: unexpected block type`);
        }
    });
}

/** Every way in which `payload` breaks a documented Slack limit; empty when it is fine. */
export function slackLimitViolations(payload: unknown): string[] {
    const problems: string[] = [];
    const body = payload as Json;
    if (typeof body?.text !== "string" || body.text.trim() === "") problems.push("text fallback missing or empty");
    else if (body.text.length > LIMITS.fallbackText) problems.push(`text fallback ${body.text.length} chars > ${LIMITS.fallbackText}`);
    checkBlocks("blocks", body?.blocks, problems);
    if (body?.attachments !== undefined) {
        (body.attachments as Json[]).forEach((a, i) => {
            if (a.blocks !== undefined) checkBlocks(`attachments[${i}].blocks`, a.blocks, problems);
        });
    }
    return problems;
}
