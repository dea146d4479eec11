import { describe, expect, it } from "vitest";
import { environmentsFromTags, parseWebhookEvent, towersFromTags } from "../../../functions/ack-webhook/webhook-event";
import { ACKNOWLEDGE_CLEAR, webhookFixture } from "./ack-harness";

const edited = (name: string, edit: (json: { action: string; alert: Record<string, unknown>; source?: Record<string, unknown> }) => void) => {
    const json = JSON.parse(webhookFixture(name));
    edit(json);
    return JSON.stringify(json);
};

describe("parseWebhookEvent on Opsgenie's alert action data", () => {
    it("an Acknowledge clears the alias on the tagged tower", () => {
        expect(parseWebhookEvent(webhookFixture("acknowledge.json"), { environment: "dev" })).toEqual(ACKNOWLEDGE_CLEAR);
    });

    it("a Close clears it on every tower it was tagged with", () => {
        const event = parseWebhookEvent(webhookFixture("close.json"));
        expect(event).toMatchObject({ kind: "clear", action: "Close", alias: "zabbix:db-02.osaka:disk-var", user: "taro.yamada@example.co.jp", towers: ["tokyo-ops", "osaka-phn"] });
    });

    it("an AddNote is ignored, saying which actions clear", () => {
        expect(parseWebhookEvent(webhookFixture("addnote.json"))).toEqual({ kind: "ignore", reason: 'action "AddNote" does not clear towers (only Acknowledge and Close do)' });
    });

    it.each(["Create", "UnAcknowledge", "TakeOwnership", "Delete", "Snooze"])("ignores %s", (action) => {
        expect(parseWebhookEvent(edited("acknowledge.json", (j) => void (j.action = action))).kind).toBe("ignore");
    });

    it("reads the action without regard to case (JSM's spelling is unconfirmed)", () => {
        expect(parseWebhookEvent(edited("acknowledge.json", (j) => void (j.action = "acknowledge")))).toMatchObject({ kind: "clear", action: "Acknowledge" });
        expect(parseWebhookEvent(edited("close.json", (j) => void (j.action = "CLOSE")))).toMatchObject({ kind: "clear", action: "Close" });
    });

    it("an alert without tower tags clears on every tower (towers null)", () => {
        const body = edited("acknowledge.json", (j) => void (j.alert.tags = ["alertline", "critical"]));
        expect(parseWebhookEvent(body)).toMatchObject({ kind: "clear", towers: null });
        expect(parseWebhookEvent(edited("acknowledge.json", (j) => void delete j.alert.tags))).toMatchObject({ kind: "clear", towers: null });
    });

    it("keeps the alias exactly, surrounding spaces included: it must equal the stored key", () => {
        expect(parseWebhookEvent(edited("acknowledge.json", (j) => void (j.alert.alias = " key with spaces ")))).toMatchObject({ alias: " key with spaces " });
    });

    it("falls back to the source's name, then to 'unknown user', when no username is sent", () => {
        const noUser = (source: Record<string, unknown>) =>
            edited("acknowledge.json", (j) => {
                delete j.alert.username;
                j.source = source;
            });
        expect(parseWebhookEvent(noUser({ name: "Datadog", type: "integration" }))).toMatchObject({ user: "Datadog" });
        expect(parseWebhookEvent(noUser({ name: "", type: "web" }))).toMatchObject({ user: "unknown user" });
    });
});

describe("parseWebhookEvent refusals", () => {
    it("an Acknowledge without alias is invalid and says why the alias matters", () => {
        const event = parseWebhookEvent(edited("acknowledge.json", (j) => void delete j.alert.alias));
        expect(event.kind).toBe("invalid");
        expect(event).toMatchObject({ problem: expect.stringMatching(/^alert\.alias is missing from the Acknowledge call: .*alias/) });
        expect(parseWebhookEvent(edited("close.json", (j) => void (j.alert.alias = "   ")))).toMatchObject({ kind: "invalid", problem: expect.stringContaining("alert.alias is missing") });
    });

    it("names both fields when alias and alertId are missing", () => {
        const body = edited("close.json", (j) => {
            delete j.alert.alias;
            delete j.alert.alertId;
        });
        expect(parseWebhookEvent(body)).toMatchObject({ kind: "invalid", problem: expect.stringMatching(/^alert\.alias and alert\.alertId are missing from the Close call/) });
    });

    it("an ignored action needs no alias", () => {
        expect(parseWebhookEvent(edited("addnote.json", (j) => void delete j.alert.alias)).kind).toBe("ignore");
    });

    it.each([
        ["not JSON", "{oops", /^the body is not JSON \(.*\); Opsgenie's webhook integration sends alert action data as JSON/],
        ["an array", "[]", /^the body is not a JSON object/],
        ["no action", '{"alert":{"alias":"a"}}', /^action is missing/],
        ["no alert", '{"action":"Close"}', /^alert is missing or not an object \(action "Close"\)/],
    ])("refuses a body that is %s", (_, body, problem) => {
        expect(parseWebhookEvent(body)).toMatchObject({ kind: "invalid", problem: expect.stringMatching(problem) });
    });
});

describe("environments", () => {
    it("ignores an alert tagged for another alertline environment", () => {
        const prod = edited("acknowledge.json", (j) => void (j.alert.tags = ["alertline", "alertline-prod", "tower:tokyo-ops"]));
        expect(parseWebhookEvent(prod, { environment: "dev" })).toEqual({ kind: "ignore", reason: "the alert belongs to alertline environment prod; this endpoint serves dev" });
        expect(parseWebhookEvent(prod, { environment: "prod" }).kind).toBe("clear");
    });

    it("clears an alert that names no environment (not created by alertline, or tags edited)", () => {
        const untagged = edited("acknowledge.json", (j) => void (j.alert.tags = ["tower:tokyo-ops"]));
        expect(parseWebhookEvent(untagged, { environment: "dev" }).kind).toBe("clear");
    });

    it("reads tower and environment tags", () => {
        expect(towersFromTags(["alertline", "tower:a", "TOWER:b", "tower:", "tower:a", "towers:c", " tower:d"])).toEqual(["a", "b"]);
        expect(towersFromTags(["alertline"])).toBeNull();
        expect(environmentsFromTags(["alertline", "alertline-dev", "alertline-", "critical"])).toEqual(["dev"]);
    });
});
