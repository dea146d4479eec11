import { describe, expect, it } from "vitest";
import type { IngestOutcome, MailSummary } from "../../../functions/mail-ingest/ingest";
import { DARK, toSignal } from "../../../functions/shared/patlite/signal";
import { pageState, type PageInput, type PageMailInput, type PageQueueMessage } from "../../../tools/local/page-state";

/**
 * The page's state from hand-made records of the local peers: what each step of a mail's path
 * says at each point, which mails are listed, and how towers become lamps. The browser side is in
 * test/tools/local-page.test.ts.
 */

const MAIL_A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const MAIL_B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbb";

function mail(messageId: string, subject: string, at = "2026-12-05T10:00:00.000Z", from = "ops@zabbix.example.jp"): PageMailInput {
    return { messageId, notification: { mail: { timestamp: at, source: from, commonHeaders: { from: [from], subject } } } };
}

function intent(sqsId: string, messageId: string, tower: string, severity = "critical", receiveCount = 0): PageQueueMessage {
    const body = { version: 1, tower, site: "tokyo-office", alertKey: "test=disk full", severity, messageId, rule: "test-critical", subject: "s", from: "f", receivedAt: "t" };
    return { messageId: sqsId, MessageBody: JSON.stringify(body), receiveCount };
}

function summary(messageId: string, overrides: Partial<MailSummary> = {}): MailSummary {
    return {
        title: "[CRITICAL] disk full",
        state: "ALARM",
        reason: "disk / is 98% full",
        severity: "critical",
        from: "ops@zabbix.example.jp",
        rule: "test-critical",
        towersLit: "dev-desk",
        trusted: true,
        senderCheck: "",
        original: `s3://bucket/mail/${messageId}`,
        alertKey: "test=disk full",
        messageId,
        environment: "dev",
        receivedAt: "2026-12-05T10:00:00.000Z",
        onCall: "paged (alias test=disk full)",
        ...overrides,
    };
}

function processed(messageId: string, overrides: Partial<MailSummary> = {}, severity: MailSummary["severity"] = "critical"): IngestOutcome {
    return { kind: "processed", messageId, severity, rule: "test-critical", intents: [], summary: summary(messageId, { severity, ...overrides }) };
}

function input(overrides: Partial<PageInput> = {}): PageInput {
    return {
        stack: "dev",
        environment: "dev",
        towers: [{ name: "dev-desk", site: "tokyo-office", protocol: "pns", signal: DARK }],
        mails: [],
        ingested: [],
        intents: { accepted: [], waiting: [], deadLetters: [] },
        onCallAlerts: [],
        slackPosts: [],
        ...overrides,
    };
}

const stepsOf = (state: ReturnType<typeof pageState>, index = 0) => state.alerts[index].steps.map((s) => [s.step, s.status, s.detail]);

describe("pageState: towers", () => {
    it("shows each tower's lamps top to bottom with the mode the emulator holds, and its buzzer", () => {
        const state = pageState(input({ towers: [{ name: "dev-desk", site: "tokyo-office", protocol: "pns", signal: toSignal({ red: "flash1", green: "on", buzzer: 1 }) }] }));
        expect(state.towers).toEqual([
            {
                name: "dev-desk",
                site: "tokyo-office",
                protocol: "pns",
                buzzer: 1,
                lamps: [
                    { lamp: "red", mode: "flash1", color: "red" },
                    { lamp: "amber", mode: "off", color: "amber" },
                    { lamp: "green", mode: "on", color: "green" },
                    { lamp: "blue", mode: "off", color: "blue" },
                    { lamp: "white", mode: "off", color: "white" },
                ],
            },
        ]);
    });

    it("gives a PHN tower its three lamps and an LA6 tier the colour it is lit in", () => {
        const state = pageState(
            input({
                towers: [
                    { name: "desk", site: "a", protocol: "phn", signal: toSignal({ amber: "on" }) },
                    { name: "hall", site: "b", protocol: "la6", signal: toSignal({ green: "on" }), la6Colors: [0, 0, 3, 0, 0] },
                ],
            }),
        );
        expect(state.towers[0].lamps.map((l) => `${l.lamp}:${l.mode}`)).toEqual(["red:off", "amber:on", "green:off"]);
        expect(state.towers[1].lamps[2]).toEqual({ lamp: "green", mode: "on", color: "lemon" });
        expect(state.towers[1].lamps[0]).toEqual({ lamp: "red", mode: "off", color: "red" });
    });
});

describe("pageState: a mail's path", () => {
    it("has only the mail received before mail-ingest got to it", () => {
        const state = pageState(input({ mails: [mail(MAIL_A, "[alertline-test] critical: disk full")] }));
        expect(state.alerts[0]).toMatchObject({ messageId: MAIL_A, subject: "[alertline-test] critical: disk full", from: "ops@zabbix.example.jp", receivedAt: "2026-12-05T10:00:00.000Z" });
        expect(state.alerts[0].severity).toBeUndefined();
        expect(stepsOf(state)).toEqual([
            ["mail", "done", "from ops@zabbix.example.jp"],
            ["classified", "pending", ""],
            ["towers", "pending", ""],
            ["on-call", "pending", ""],
            ["slack", "pending", ""],
        ]);
    });

    it("shows the classification and the queued tower as soon as the intents are on the queue", () => {
        const queued = intent("sqs-1", MAIL_A, "dev-desk");
        const state = pageState(input({ mails: [mail(MAIL_A, "x")], intents: { accepted: [queued], waiting: [queued], deadLetters: [] } }));
        expect(state.alerts[0].severity).toBe("critical");
        expect(stepsOf(state).slice(1, 3)).toEqual([
            ["classified", "done", "critical, rule test-critical"],
            ["towers", "pending", "dev-desk queued"],
        ]);
    });

    it("ends with every step done: tower dispatched, on-call paged and acknowledged, Slack posted", () => {
        const sent = intent("sqs-1", MAIL_A, "dev-desk");
        const other = intent("sqs-2", MAIL_B, "dev-desk");
        const state = pageState(
            input({
                mails: [mail(MAIL_A, "x")],
                ingested: [processed(MAIL_A)],
                intents: { accepted: [sent, other], waiting: [], deadLetters: [] },
                onCallAlerts: [
                    { alias: "test=disk full", status: "open", acknowledged: true, api: "opsgenie", body: { details: { messageId: MAIL_A } } },
                    { alias: "other", status: "open", acknowledged: false, api: "opsgenie", body: { details: { messageId: MAIL_B } } },
                ],
                slackPosts: [
                    { text: "other", payload: { blocks: [{ text: `"messageId": "${MAIL_B}"` }] } },
                    { text: "this", payload: { blocks: [{ type: "section", text: { text: `{"messageId": "${MAIL_A}"}` } }] } },
                ],
            }),
        );
        expect(stepsOf(state)).toEqual([
            ["mail", "done", "from ops@zabbix.example.jp"],
            ["classified", "done", "critical, rule test-critical"],
            ["towers", "done", "dev-desk dispatched"],
            ["on-call", "done", "paged (alias test=disk full); now opsgenie acknowledged"],
            ["slack", "done", "posted"],
        ]);
    });

    it("marks a tower whose intent is being dispatched again and one moved to the dead letters", () => {
        const retried = intent("sqs-1", MAIL_A, "dev-desk", "critical", 2);
        const dead = intent("sqs-2", MAIL_A, "hall", "critical", 5);
        const retrying = pageState(input({ mails: [mail(MAIL_A, "x")], intents: { accepted: [retried], waiting: [retried], deadLetters: [] } }));
        expect(stepsOf(retrying)[2]).toEqual(["towers", "pending", "dev-desk dispatching (attempt 2)"]);
        const failed = pageState(input({ mails: [mail(MAIL_A, "x")], intents: { accepted: [retried, dead], waiting: [], deadLetters: [dead] } }));
        expect(stepsOf(failed)[2]).toEqual(["towers", "failed", "dev-desk dispatched, hall dead letter"]);
    });

    it("says why an untrusted mail lit nothing and was not paged", () => {
        const outcome = processed(MAIL_A, { trusted: false, towersLit: "none (sender not trusted)", onCall: "not paged: it lit no tower" });
        const state = pageState(input({ mails: [mail(MAIL_A, "x", undefined, "mallory@attacker.example")], ingested: [outcome] }));
        expect(stepsOf(state).slice(1, 4)).toEqual([
            ["classified", "failed", "critical, rule test-critical, sender not trusted"],
            ["towers", "none", "none (sender not trusted)"],
            ["on-call", "none", "not paged: it lit no tower"],
        ]);
    });

    it("ends an ignored mail at its classification: no tower, no page, no post", () => {
        const ignored: IngestOutcome = { kind: "processed", messageId: MAIL_A, severity: "ignore", rule: "newsletters", intents: [], summary: undefined };
        const state = pageState(input({ mails: [mail(MAIL_A, "Our newsletter")], ingested: [ignored] }));
        expect(stepsOf(state).slice(1)).toEqual([
            ["classified", "done", "ignore, rule newsletters"],
            ["towers", "none", "none (ignored)"],
            ["on-call", "none", "not paged (ignored)"],
            ["slack", "none", "not posted (ignored)"],
        ]);
    });

    it("shows a refusal from on-call as a failed step, also when one backend of two took the page", () => {
        const refusedAll = processed(MAIL_A, { onCall: "not paged: 422 Request body is not valid", problems: "on-call refused the page: 422 Request body is not valid" });
        expect(stepsOf(pageState(input({ mails: [mail(MAIL_A, "x")], ingested: [refusedAll] })))[3]).toEqual(["on-call", "failed", "not paged: 422 Request body is not valid"]);
        const refusedOne = processed(MAIL_A, {
            onCall: "paged in opsgenie (alias test=disk full); not paged in jsm: 422 invalid",
            problems: "the mail has no Date header\non-call refused the page: jsm: 422 invalid",
        });
        expect(stepsOf(pageState(input({ mails: [mail(MAIL_A, "x")], ingested: [refusedOne] })))[3]).toEqual(["on-call", "failed", "paged in opsgenie (alias test=disk full); not paged in jsm: 422 invalid"]);
    });

    it("keeps a subject as it came, markup and all (the page sets it as text)", () => {
        const hostile = `<script>alert(1)</script><img src=x onerror="alert(2)">`;
        expect(pageState(input({ mails: [mail(MAIL_A, hostile)] })).alerts[0].subject).toBe(hostile);
    });
});

describe("pageState: which mails are listed", () => {
    it("lists the last 20 mails, the newest first", () => {
        const mails = Array.from({ length: 25 }, (_, i) => mail(`m${String(i).padStart(27, "0")}`, `mail ${i}`));
        const state = pageState(input({ mails }));
        expect(state.alerts.map((a) => a.subject)).toEqual(Array.from({ length: 20 }, (_, i) => `mail ${24 - i}`));
        expect(state.mailsReceived).toBe(25);
        expect(pageState(input({ mails }), 3).alerts.map((a) => a.subject)).toEqual(["mail 24", "mail 23", "mail 22"]);
    });

    it("refuses a limit below one", () => {
        expect(() => pageState(input(), 0)).toThrow(/at least 1 alert, got a limit of 0/);
    });

    it("counts the canary instead of listing it, but lists a mail that only claimed to be the canary", () => {
        const canarySender = "alertline-canary@alerts-dev.example.jp";
        const state = pageState(
            input({
                canarySender,
                mails: [
                    mail(MAIL_A, "alertline canary dev 1", "2026-12-05T10:00:00.000Z", canarySender),
                    mail(MAIL_B, "alertline canary dev 2", "2026-12-05T10:01:00.000Z", canarySender),
                    mail("cccccccccccccccccccccccccccc", "alertline canary dev 3", "2026-12-05T10:02:00.000Z", canarySender),
                ],
                ingested: [
                    { kind: "canary", messageId: MAIL_A, canaryId: "1", heartbeat: "pinged" },
                    processed("cccccccccccccccccccccccccccc", { title: "A mail claiming to be alertline's canary failed the sender check", trusted: false }, "critical"),
                ],
            }),
        );
        // MAIL_B is still being ingested: from the canary's sender, it is taken for the canary until mail-ingest says otherwise.
        expect(state.alerts.map((a) => a.messageId)).toEqual(["cccccccccccccccccccccccccccc"]);
        expect(state.canaries).toEqual({ received: 2, lastReceivedAt: "2026-12-05T10:01:00.000Z" });
        expect(state.mailsReceived).toBe(3);
    });
});
