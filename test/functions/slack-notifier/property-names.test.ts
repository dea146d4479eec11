import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSlackMessage, stateColour, stateEmoji, type AlertState } from "../../../functions/shared/slack-message";
import { parseSnsMessage } from "../../../functions/slack-notifier/alert-parse";

/**
 * Issue 11: names that arrive in a message (a state, an alarm's operator, an event's detail-type)
 * are looked up in fixed tables by own property only, so `constructor` or `toString` never reach
 * Slack as a function's source text.
 */

const FIXTURES = join(__dirname, "../../fixtures");

describe("names from the message that are Object.prototype properties", () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
        it(`shows the unknown state's emoji and colour for a state named ${name}`, () => {
            expect(stateEmoji(name as AlertState)).toBe(stateEmoji("UNKNOWN"));
            expect(stateColour(name as AlertState)).toBe(stateColour("UNKNOWN"));
        });

        it(`shows an alarm whose ComparisonOperator is ${name} as that word, not as code`, () => {
            const alarm = JSON.parse(readFileSync(join(FIXTURES, "slack-notifier/cloudwatch-alarm.json"), "utf8"));
            alarm.Trigger.ComparisonOperator = name;
            const text = JSON.stringify(buildSlackMessage(parseSnsMessage(JSON.stringify(alarm))));
            expect(text).not.toMatch(/native code|function /);
            expect(text).toContain(name);
        });

        it(`reads a Backup event whose detail-type is ${name} as an event it does not know, without throwing`, () => {
            const event = JSON.parse(readFileSync(join(FIXTURES, "aws-events/backup-job-failed.json"), "utf8"));
            event["detail-type"] = name;
            const text = JSON.stringify(buildSlackMessage(parseSnsMessage(JSON.stringify(event))));
            expect(text).not.toMatch(/native code|function /);
        });
    }
});
