import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { describeSignal, toSignal, type TowerSignal } from "../../../functions/shared/patlite/signal";
import { DEFAULT_SEVERITY_SIGNALS, type ActiveSeverity } from "../../../functions/shared/severity";
import type { SignalIntent } from "../../../functions/shared/signal-intent";
import { readThreadNote, type ThreadNote } from "../../../functions/shared/thread-note";
import { parseIntent } from "../../../functions/tower-dispatch/dispatch";
import { changeCause, towerChangeNote, towerNoteText } from "../../../functions/tower-dispatch/tower-note";
import { applyIntents, EMPTY_TOWER_STATE } from "../../../functions/tower-dispatch/tower-state";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { expectedSignal, HARNESS_NOW, lambdaContext, makeIntent, sqsEvent, startHarness, type Harness } from "./harness";

/**
 * Slack's app mode: tower-dispatch notes each change of what a tower shows, in the thread of the
 * alert that changed it. The wording is checked against describeSignal's own words for the default
 * signals (red:flash1 buzzer:1 for critical, green:on for quiet), written out here by hand.
 */

const TOWER = { name: "tokyo-ops", signals: DEFAULT_SEVERITY_SIGNALS };
const RED = toSignal({ red: "flash1", buzzer: 1 });
const GREEN = toSignal({ green: "on" });
const AMBER = toSignal({ amber: "on" });
const ACK = { user: "ayumi@example.com", action: "Acknowledge" as const };

describe("the tower's note (pure)", () => {
    it("words the change with the lamps and levels, and who acknowledged it", () => {
        expect(towerNoteText({ tower: TOWER, before: { signal: RED, level: "critical" }, after: { signal: GREEN, level: "quiet" }, by: ACK })).toBe(
            "tokyo-ops: red:flash1 buzzer:1 (critical) → green:on (quiet), acknowledged by ayumi@example.com",
        );
        expect(towerNoteText({ tower: TOWER, before: { signal: null }, after: { signal: RED, level: "critical" } })).toBe("tokyo-ops: now red:flash1 buzzer:1 (critical)");
        expect(towerNoteText({ tower: TOWER, before: { signal: AMBER }, after: { signal: GREEN, level: "quiet" }, by: { user: "ken", action: "Close" } })).toBe("tokyo-ops: amber:on → green:on (quiet), closed by ken");
        expect(describeSignal(RED)).toBe("red:flash1 buzzer:1");
    });

    it("finds the intent that decided the new signal: not a repeat, not an alert below the top one", () => {
        const first = makeIntent("tokyo-ops", "db-down", "critical");
        const repeats = [makeIntent("tokyo-ops", "db-down", "critical"), makeIntent("tokyo-ops", "disk-warn", "warning"), makeIntent("tokyo-ops", "db-down", "critical")];
        expect(changeCause(EMPTY_TOWER_STATE, [first, ...repeats], TOWER)).toBe(first);
        const lit = applyIntents(EMPTY_TOWER_STATE, [first, ...repeats]);
        expect(changeCause(lit, repeats, TOWER)).toBeUndefined();
        const recovery = makeIntent("tokyo-ops", "db-down", "recovery", { by: ACK });
        expect(changeCause(lit, [makeIntent("tokyo-ops", "disk-warn", "recovery"), recovery, makeIntent("tokyo-ops", "db-down", "recovery")], TOWER)).toBe(recovery);
    });

    it("makes a note only when the acknowledged signal changed and an intent changed it, in that alert's thread", () => {
        const lit = { ...applyIntents(EMPTY_TOWER_STATE, [makeIntent("tokyo-ops", "db-down", "critical")]), shown: RED };
        const recovery = makeIntent("tokyo-ops", "db-down", "recovery", { by: ACK });
        const quiet = applyIntents(lit, [recovery]);
        expect(towerChangeNote(TOWER, lit, [recovery], quiet, GREEN, "dev")).toEqual({
            alertline: "thread-note",
            alertKey: "db-down",
            text: "tokyo-ops: red:flash1 buzzer:1 (critical) → green:on (quiet), acknowledged by ayumi@example.com",
            environment: "dev",
        });
        // Resending what it showed (a retry after a failed send, a forced send) changes nothing on the tower.
        expect(towerChangeNote(TOWER, lit, [], lit, RED, "dev")).toBeUndefined();
        // The first command ever for an info alert: the tower was unknown, but no alert changed what it should show.
        const info = makeIntent("tokyo-ops", "backup-ok", "info");
        expect(towerChangeNote(TOWER, EMPTY_TOWER_STATE, [info], applyIntents(EMPTY_TOWER_STATE, [info]), GREEN, "dev")).toBeUndefined();
    });

    it("carries who cleared an alert through the queue, and still reads intents without it", () => {
        const withBy = parseIntent(JSON.stringify(makeIntent("tokyo-ops", "db-down", "recovery", { by: ACK })), HARNESS_NOW);
        expect(withBy.ok && withBy.intent.by).toEqual(ACK);
        const old = parseIntent(JSON.stringify(makeIntent("tokyo-ops", "db-down", "recovery")), HARNESS_NOW);
        expect(old.ok && "by" in old.intent).toBe(false);
        for (const by of [{ user: "", action: "Acknowledge" }, { user: "x", action: "Delete" }, "ayumi", null]) {
            const odd = parseIntent(JSON.stringify({ ...makeIntent("tokyo-ops", "db-down", "recovery"), by }), HARNESS_NOW);
            expect([by, odd.ok, odd.ok && "by" in odd.intent]).toEqual([by, true, false]);
        }
    });
});

describe("tower-dispatch publishes the notes (Slack app mode)", () => {
    let dynamo: LocalDynamo;
    let harness: Harness | undefined;
    beforeAll(async () => {
        dynamo = await startDynalite();
    });
    afterEach(async () => {
        await harness?.close();
        harness = undefined;
    });
    afterAll(async () => {
        await dynamo.close();
    });

    const notesOf = (h: Harness) => h.sns.messages.map((m) => readThreadNote(m.json)).filter((n): n is ThreadNote => n !== undefined);
    const apply = async (h: Harness, intents: SignalIntent[]) => expect(await h.handler(sqsEvent(intents), lambdaContext())).toEqual({ batchItemFailures: [] });

    it("notes the lighting and the acknowledged clear, each in the alert's thread, and nothing for repeats", async () => {
        const h = (harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }], { extra: { threadNotes: true } }));
        await apply(h, [makeIntent("tokyo-ops", "zabbix:db-01:down", "critical")]);
        await apply(h, [makeIntent("tokyo-ops", "zabbix:db-01:down", "critical"), makeIntent("tokyo-ops", "zabbix:web-01:cpu", "warning")]);
        await apply(h, [makeIntent("tokyo-ops", "zabbix:db-01:down", "recovery", { by: ACK })]);
        expect(notesOf(h)).toEqual([
            { alertline: "thread-note", alertKey: "zabbix:db-01:down", text: "tokyo-ops: now red:flash1 buzzer:1 (critical)", environment: "dev" },
            { alertline: "thread-note", alertKey: "zabbix:db-01:down", text: "tokyo-ops: red:flash1 buzzer:1 (critical) → amber:on (warning), acknowledged by ayumi@example.com", environment: "dev" },
        ]);
        expect(h.emulators.get("tokyo-ops")!.state()).toEqual(expectedSignal(DEFAULT_SEVERITY_SIGNALS.warning));
        expect(h.emulators.get("tokyo-ops")!.commands).toHaveLength(2);
    });

    it("publishes no note with the notes off (webhook mode)", async () => {
        const h = (harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }]));
        await apply(h, [makeIntent("tokyo-ops", "zabbix:db-01:down", "critical")]);
        await apply(h, [makeIntent("tokyo-ops", "zabbix:db-01:down", "recovery", { by: ACK })]);
        expect(h.emulators.get("tokyo-ops")!.commands).toHaveLength(2);
        expect(h.sns.messages).toEqual([]);
    });

    it("lights the tower and consumes the records when SNS refuses the note, and logs it", async () => {
        const h = (harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }], { extra: { threadNotes: true } }));
        h.sns.failNext(1);
        await apply(h, [makeIntent("tokyo-ops", "zabbix:db-01:down", "critical")]);
        expect(h.emulators.get("tokyo-ops")!.state()).toEqual(expectedSignal(DEFAULT_SEVERITY_SIGNALS.critical));
        expect(h.sns.messages).toEqual([]);
        expect(h.logs.find((l) => l.message.startsWith("Could not post the tower's change to the alert's thread"))).toMatchObject({ level: "warn", attributes: [{ tower: "tokyo-ops", alertKey: "zabbix:db-01:down" }] });
        // The saved state is not touched again: the next repeat sends nothing and notes nothing.
        await apply(h, [makeIntent("tokyo-ops", "zabbix:db-01:down", "critical")]);
        expect(h.emulators.get("tokyo-ops")!.commands).toHaveLength(1);
        expect(h.sns.messages).toEqual([]);
    });

    it("in a storm notes each change of the tower once, never a repeat: as many notes as changes, chained before → after", async () => {
        const h = (harness = await startHarness(dynamo, [{ name: "tokyo-ops", protocol: "pns" }], { extra: { threadNotes: true } }));
        // 600 intents for 12 alerts in batches of 10: each alert repeats ~50 times; alerts 0–3 critical, 4–7 warning, 8–11 info.
        const severity = (i: number): ActiveSeverity => (i < 4 ? "critical" : i < 8 ? "warning" : "info");
        const storm: SignalIntent[] = [];
        for (let n = 0; n < 600; n++) {
            const alert = (n * 7) % 12;
            // The second half recovers alerts in order 0, 1, 2, …: the tower falls step by step.
            const recovered = n >= 300 && alert < Math.floor((n - 300) / 25);
            storm.push(makeIntent("tokyo-ops", `alert-${alert}`, recovered ? "recovery" : severity(alert)));
        }
        // What the tower should show after each batch, computed here from the intents alone.
        const wanted: TowerSignal[] = [];
        const active = new Map<string, ActiveSeverity>();
        for (let start = 0; start < storm.length; start += 10) {
            for (const intent of storm.slice(start, start + 10)) {
                if (intent.severity === "recovery") active.delete(intent.alertKey);
                else active.set(intent.alertKey, intent.severity);
            }
            const levels = new Set(active.values());
            const level = levels.has("critical") ? "critical" : levels.has("warning") ? "warning" : levels.has("info") ? "info" : "quiet";
            wanted.push(toSignal(DEFAULT_SEVERITY_SIGNALS[level]));
            await apply(h, storm.slice(start, start + 10));
        }
        const changes = wanted.filter((signal, i) => describeSignal(signal) !== describeSignal(i === 0 ? toSignal(DEFAULT_SEVERITY_SIGNALS.quiet) : wanted[i - 1])).length;
        const notes = notesOf(h);
        expect(changes).toBeGreaterThanOrEqual(3);
        expect(notes).toHaveLength(changes);
        expect(h.emulators.get("tokyo-ops")!.commands).toHaveLength(changes);
        // Each note starts where the previous one ended.
        const texts = notes.map((n) => n.text.replace(/^tokyo-ops: /, ""));
        for (let i = 1; i < texts.length; i++) expect(texts[i].split(" → ")[0]).toBe(texts[i - 1].replace(/^now /, "").split(" → ").at(-1));
        expect(texts.at(-1)).toMatch(new RegExp(`→ ${describeSignal(wanted.at(-1)!)} \\(`));
        console.info(`thread notes: ${storm.length} intents, ${changes} changes of the tower, ${notes.length} notes`);
    }, 60_000);
});
