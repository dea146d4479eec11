import { describe, expect, it } from "vitest";
import {
    buildSlackMessage,
    FALLBACK_TEXT_MAX,
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    MAX_BLOCKS,
    MAX_SECTION_FIELDS,
    minimalSlackMessage,
    SECTION_TEXT_MAX,
    truncate,
    TRUNCATION_MARKER,
    type AlertState,
    type AlertSummary,
} from "../../../functions/shared/slack-message";
import { slackLimitViolations } from "./slack-limits";

const base: AlertSummary = {
    source: "cloudwatch",
    state: "ALARM",
    title: "web-1 CPU high",
    reason: "Threshold Crossed: 1 datapoint was above 80.",
    fields: [
        { label: "Metric", value: "AWS/EC2 CPUUtilization" },
        { label: "Threshold", value: "≥ 80" },
    ],
    consoleUrl: "https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#alarmsV2:alarm/web-1",
    consoleLabel: "Open in CloudWatch",
    region: "Asia Pacific (Tokyo), ap-northeast-1",
    account: "123456789012",
};

type Block = { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { text: string }[] };
const blocksOf = (alert: AlertSummary, options = {}) => buildSlackMessage(alert, options).blocks as unknown as Block[];
const allTexts = (alert: AlertSummary): string[] =>
    blocksOf(alert).flatMap((b) => [b.text?.text, ...(b.fields ?? []).map((f) => f.text), ...(b.elements ?? []).map((e) => e.text)]).filter((t): t is string => t !== undefined);

describe("Slack limit constants", () => {
    it("match the limits documented in facts.md", () => {
        expect({ MAX_BLOCKS, SECTION_TEXT_MAX, MAX_SECTION_FIELDS, FIELD_TEXT_MAX, HEADER_TEXT_MAX, FALLBACK_TEXT_MAX }).toEqual({
            MAX_BLOCKS: 50,
            SECTION_TEXT_MAX: 3000,
            MAX_SECTION_FIELDS: 10,
            FIELD_TEXT_MAX: 2000,
            HEADER_TEXT_MAX: 150,
            FALLBACK_TEXT_MAX: 3000,
        });
    });
});

describe("truncate", () => {
    it("leaves text within the limit alone", () => {
        expect(truncate("abc", 3)).toBe("abc");
    });

    it("cuts to exactly the limit and ends with the marker", () => {
        const cut = truncate("x".repeat(100), 10);
        expect(cut).toHaveLength(10);
        expect(cut.endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(cut.startsWith("x".repeat(9))).toBe(true);
    });

    it("never splits a surrogate pair (an emoji) in half", () => {
        const cut = truncate("a🔥🔥🔥", 3);
        expect(cut.length).toBeLessThanOrEqual(3);
        expect(() => encodeURIComponent(cut)).not.toThrow(); // a lone surrogate makes encodeURIComponent throw
    });

    it("copes with a limit smaller than the marker", () => {
        expect(truncate("abcdef", 0)).toBe("");
        expect(truncate("abcdef", 1).length).toBeLessThanOrEqual(1);
    });
});

describe("buildSlackMessage", () => {
    it("has a header with the state's emoji and the title, and a text fallback", () => {
        const message = buildSlackMessage(base);
        const header = (message.blocks as unknown as Block[])[0];
        expect(header.type).toBe("header");
        expect(header.text!.text).toContain(":red_circle:");
        expect(header.text!.text).toContain("web-1 CPU high");
        expect(message.text).toContain("web-1 CPU high");
        expect(message.text).toContain("Threshold Crossed");
        expect(slackLimitViolations(message)).toEqual([]);
    });

    it.each<[AlertState, string]>([
        ["ALARM", ":red_circle:"],
        ["OK", ":large_green_circle:"],
        ["INSUFFICIENT_DATA", ":warning:"],
        ["UNKNOWN", ":grey_question:"],
    ])("marks %s with %s in header and fallback", (state, emoji) => {
        const message = buildSlackMessage({ ...base, state });
        expect((message.blocks as unknown as Block[])[0].text!.text.startsWith(emoji)).toBe(true);
        expect(message.text.startsWith(emoji)).toBe(true);
    });

    it("gives every state its own emoji", () => {
        const states: AlertState[] = ["ALARM", "OK", "INSUFFICIENT_DATA", "WARN", "UNKNOWN"];
        const emojis = states.map((state) => buildSlackMessage({ ...base, state }).text.split(" ")[0]);
        expect(new Set(emojis).size).toBe(states.length);
    });

    it("shows reason, fields, region, account and a console link", () => {
        const texts = allTexts(base).join("\n");
        expect(texts).toContain("Threshold Crossed");
        expect(texts).toContain("*Metric*\nAWS/EC2 CPUUtilization");
        expect(texts).toContain("Asia Pacific (Tokyo), ap-northeast-1");
        expect(texts).toContain("123456789012");
        expect(texts).toContain(`<${base.consoleUrl}|Open in CloudWatch>`);
    });

    it("shows the environment in the context line", () => {
        const context = blocksOf(base, { environment: "dev" }).find((b) => b.type === "context")!;
        expect(context.elements![0].text).toContain("dev");
    });

    it("escapes mrkdwn control characters so alert text cannot ping @channel or forge links", () => {
        // The header is plain_text, which Slack never parses for mentions, so only mrkdwn texts are checked.
        const texts = allTexts({ ...base, title: "<!channel>", reason: "x <!channel> & <https://evil.example|click>", fields: [{ label: "a<b", value: "<@U123>" }] }).slice(1);
        const message = buildSlackMessage({ ...base, reason: "<!channel>" });
        expect(texts.join("\n")).not.toContain("<!channel>");
        expect(texts.join("\n")).not.toContain("<@U123>");
        expect(texts.join("\n")).toContain("&lt;!channel&gt;");
        expect(message.text).not.toContain("<!channel>");
    });

    it("leaves out console links that are not http(s) or do not parse", () => {
        for (const consoleUrl of ["javascript:alert(1)", "not a url", "ftp://example.com/x"]) {
            expect(allTexts({ ...base, consoleUrl }).join("\n")).not.toContain(":link:");
        }
    });

    it("leaves out a console link too long to fit rather than cutting it", () => {
        const consoleUrl = `https://example.com/${"a".repeat(SECTION_TEXT_MAX)}`;
        const message = buildSlackMessage({ ...base, consoleUrl });
        expect(JSON.stringify(message)).not.toContain(":link:");
        expect(slackLimitViolations(message)).toEqual([]);
    });

    it("never emits empty text when title, reason and field values are empty", () => {
        const message = buildSlackMessage({ source: "", state: "UNKNOWN", title: "   ", reason: "  ", fields: [{ label: "", value: "" }], details: "" });
        expect(slackLimitViolations(message)).toEqual([]);
        expect(message.text.trim()).not.toBe("");
    });

    it("keeps a 10,000-char reason, a 200-char title and 200 fields within every limit", () => {
        const fields = Array.from({ length: 200 }, (_, i) => ({ label: `dimension-${i}`, value: `value-${i}-${"v".repeat(30)}` }));
        const alert: AlertSummary = { ...base, title: "T".repeat(200), reason: "R".repeat(10_000), fields, details: "D".repeat(10_000) };
        const message = buildSlackMessage(alert, { environment: "dev" });

        expect(slackLimitViolations(message)).toEqual([]);
        const blocks = message.blocks as unknown as Block[];
        expect(blocks[0].text!.text.endsWith(TRUNCATION_MARKER)).toBe(true);
        const reason = blocks.find((b) => b.text?.text.startsWith("RRR"))!;
        expect(reason.text!.text).toHaveLength(SECTION_TEXT_MAX);
        expect(reason.text!.text.endsWith(TRUNCATION_MARKER)).toBe(true);
    });

    it("shows nine fields in the grid and the rest as lines of a text section", () => {
        const fields = Array.from({ length: 25 }, (_, i) => ({ label: `k${i}`, value: `v${i}` }));
        const blocks = blocksOf({ ...base, fields });
        const grid = blocks.find((b) => b.fields !== undefined)!;
        expect(grid.fields).toHaveLength(MAX_SECTION_FIELDS);
        expect(grid.fields![MAX_SECTION_FIELDS - 1].text).toContain("16 more");
        const overflow = blocks.find((b) => b.text?.text.startsWith("k9: v9"))!;
        expect(overflow.text!.text).toContain("k24: v24");
    });

    it("clips a field's long value to the field limit while keeping its label", () => {
        const grid = blocksOf({ ...base, fields: [{ label: "Dimensions", value: "x".repeat(5000) }] }).find((b) => b.fields)!;
        expect(grid.fields![0].text.startsWith("*Dimensions*\n")).toBe(true);
        expect(grid.fields![0].text.length).toBeLessThanOrEqual(FIELD_TEXT_MAX);
    });

    it("does not leave half an HTML entity when clipping escaped text", () => {
        const blocks = blocksOf({ ...base, reason: "&".repeat(5000) });
        const reason = blocks[1].text!.text;
        expect(reason).toMatch(/^(&amp;)+…$/);
    });

    it("puts a state-coloured attachment under the blocks when asked for a colour bar", () => {
        const alarm = buildSlackMessage(base, { colourBar: true });
        const ok = buildSlackMessage({ ...base, state: "OK" }, { colourBar: true });
        expect(alarm.attachments).toHaveLength(1);
        expect(alarm.attachments![0].color).not.toBe(ok.attachments![0].color);
        expect(slackLimitViolations(alarm)).toEqual([]);
        expect(buildSlackMessage(base).attachments).toBeUndefined();
    });

    it("keeps triple backticks in details from closing the code block early", () => {
        const details = blocksOf({ ...base, details: "a```b" }).find((b) => b.text?.text.startsWith("```"))!;
        expect(details.text!.text.match(/```/g)).toHaveLength(2);
    });
});

describe("minimalSlackMessage", () => {
    it("posts readable text even for an empty input", () => {
        const message = minimalSlackMessage("");
        expect(slackLimitViolations(message)).toEqual([]);
    });

    it("clips long input to a section's limit", () => {
        const message = minimalSlackMessage("<".repeat(10_000));
        expect(slackLimitViolations(message)).toEqual([]);
        expect(message.text).not.toContain("<");
    });
});
