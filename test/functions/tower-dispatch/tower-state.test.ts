import { describe, expect, it } from "vitest";
import { toSignal, type TowerSignal } from "../../../functions/shared/patlite/signal";
import type { ActiveSeverity } from "../../../functions/shared/severity";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import {
    applyIntents,
    boundActive,
    DEFAULT_STATE_LIMITS,
    desiredSignal,
    EMPTY_TOWER_STATE,
    highestActive,
    needsSend,
    recordSend,
    storedKey,
    type AppliedIntent,
} from "../../../functions/tower-dispatch/tower-state";

/** A tower whose four signals are all different, so a test can tell which one was chosen. */
const TOWER: Pick<TowerConfig, "signals"> = {
    signals: {
        critical: { red: "flash1", buzzer: 1 },
        warning: { amber: "on" },
        info: { blue: "on" },
        quiet: { green: "on" },
    },
};
const SHOWS = {
    critical: toSignal({ red: "flash1", buzzer: 1 }),
    warning: toSignal({ amber: "on" }),
    info: toSignal({ blue: "on" }),
    quiet: toSignal({ green: "on" }),
};

const T0 = Date.parse("2024-05-21T09:00:00.000Z");
let serial = 0;
function intent(alertKey: string, severity: ActiveSeverity | "recovery", overrides: Partial<AppliedIntent> = {}): AppliedIntent {
    serial++;
    return { alertKey, severity, messageId: `msg-${serial}`, subject: `${severity} ${alertKey}`, receivedAt: new Date(T0 + serial * 1000).toISOString(), ...overrides };
}

describe("applyIntents and desiredSignal", () => {
    it("shows the quiet signal when nothing is active", () => {
        expect(highestActive(EMPTY_TOWER_STATE)).toBeUndefined();
        expect(desiredSignal(EMPTY_TOWER_STATE, TOWER)).toEqual(SHOWS.quiet);
    });

    it("a recovery clears only its own key", () => {
        const state = applyIntents(EMPTY_TOWER_STATE, [intent("web-1/cpu", "critical"), intent("db-1/disk", "warning"), intent("web-1/cpu", "recovery")]);
        expect([...state.active.keys()]).toEqual(["db-1/disk"]);
        expect(desiredSignal(state, TOWER)).toEqual(SHOWS.warning);
    });

    it("goes quiet only when the last active key recovers", () => {
        let state = applyIntents(EMPTY_TOWER_STATE, [intent("a", "critical"), intent("b", "critical")]);
        state = applyIntents(state, [intent("a", "recovery")]);
        expect(desiredSignal(state, TOWER)).toEqual(SHOWS.critical);
        state = applyIntents(state, [intent("b", "recovery")]);
        expect(state.active.size).toBe(0);
        expect(desiredSignal(state, TOWER)).toEqual(SHOWS.quiet);
    });

    it("a recovery for a key that is not active changes nothing but remembers the message", () => {
        const before = applyIntents(EMPTY_TOWER_STATE, [intent("a", "warning")]);
        const after = applyIntents(before, [intent("never-seen", "recovery")]);
        expect([...after.active]).toEqual([...before.active]);
        expect(after.recentMessageIds).toHaveLength(2);
    });

    it("shows the highest active severity, whatever the order of arrival", () => {
        const orders: [string, ActiveSeverity][][] = [
            [["i", "info"], ["w", "warning"], ["c", "critical"]],
            [["c", "critical"], ["i", "info"], ["w", "warning"]],
            [["w", "warning"], ["c", "critical"], ["i", "info"]],
        ];
        for (const order of orders) {
            const state = applyIntents(EMPTY_TOWER_STATE, order.map(([key, severity]) => intent(key, severity)));
            expect(desiredSignal(state, TOWER)).toEqual(SHOWS.critical);
        }
        const noCritical = applyIntents(EMPTY_TOWER_STATE, [intent("i", "info"), intent("w", "warning")]);
        expect(desiredSignal(noCritical, TOWER)).toEqual(SHOWS.warning);
        expect(desiredSignal(applyIntents(EMPTY_TOWER_STATE, [intent("i", "info")]), TOWER)).toEqual(SHOWS.info);
    });

    it("the latest mail for a key sets its severity, and the key keeps its first 'since'", () => {
        const first = intent("web-1/cpu", "critical");
        const second = intent("web-1/cpu", "warning");
        const state = applyIntents(EMPTY_TOWER_STATE, [first, second]);
        expect(state.active.get("web-1/cpu")!).toEqual({ severity: "warning", since: first.receivedAt, lastSeen: second.receivedAt, subject: second.subject, messageId: second.messageId });
        expect(desiredSignal(state, TOWER)).toEqual(SHOWS.warning);
    });

    it("applying the same intent twice gives the same state as once", () => {
        const problem = intent("web-1/cpu", "critical");
        const once = applyIntents(EMPTY_TOWER_STATE, [problem]);
        expect(applyIntents(once, [problem])).toEqual(once);
        expect(applyIntents(EMPTY_TOWER_STATE, [problem, problem])).toEqual(once);
    });

    it("a duplicate arriving after its recovery does not light the tower again", () => {
        const problem = intent("web-1/cpu", "critical");
        const state = applyIntents(EMPTY_TOWER_STATE, [problem, intent("web-1/cpu", "recovery"), problem]);
        expect(state.active.size).toBe(0);
        expect(desiredSignal(state, TOWER)).toEqual(SHOWS.quiet);
    });

    it("does not change the state it is given", () => {
        const state = applyIntents(EMPTY_TOWER_STATE, [intent("a", "critical")]);
        const copy = structuredClone(state);
        applyIntents(state, [intent("a", "recovery"), intent("b", "warning")]);
        expect(state).toEqual(copy);
    });

    it("agrees with a plain map model on random sequences", () => {
        let seed = 12345;
        const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        const severities: (ActiveSeverity | "recovery")[] = ["critical", "warning", "info", "recovery", "recovery"];
        for (let run = 0; run < 50; run++) {
            const intents = Array.from({ length: 40 }, () => intent(`k${Math.floor(random() * 8)}`, severities[Math.floor(random() * severities.length)]));
            const model = new Map<string, ActiveSeverity>();
            for (const i of intents) {
                if (i.severity === "recovery") model.delete(i.alertKey);
                else model.set(i.alertKey, i.severity);
            }
            // Split into "batches" at random points: the result must not depend on where batches end.
            let state = EMPTY_TOWER_STATE;
            for (let start = 0; start < intents.length; ) {
                const end = Math.min(intents.length, start + 1 + Math.floor(random() * 10));
                state = applyIntents(state, intents.slice(start, end));
                start = end;
            }
            expect(Object.fromEntries([...state.active].map(([key, alert]) => [key, alert.severity]))).toEqual(Object.fromEntries(model));
            const values = [...model.values()];
            const expected = values.includes("critical") ? SHOWS.critical : values.includes("warning") ? SHOWS.warning : values.includes("info") ? SHOWS.info : SHOWS.quiet;
            expect(desiredSignal(state, TOWER)).toEqual(expected);
        }
    });

    it("remembers only the configured number of recent message IDs", () => {
        const limits = { ...DEFAULT_STATE_LIMITS, recentMessageIds: 5 };
        const intents = Array.from({ length: 12 }, (_, i) => intent(`k${i}`, "info"));
        const state = applyIntents(EMPTY_TOWER_STATE, intents, limits);
        expect(state.recentMessageIds).toEqual(intents.slice(-5).map((i) => i.messageId));
    });

    it("clips long subjects and stores very long keys as a stable prefix plus hash, so problem and recovery still meet", () => {
        const longKey = `host-${"x".repeat(500)}/trigger`;
        const otherLongKey = `host-${"x".repeat(500)}/other`;
        expect(storedKey(longKey).length).toBeLessThanOrEqual(DEFAULT_STATE_LIMITS.maxKeyLength);
        expect(storedKey(longKey)).toBe(storedKey(longKey));
        expect(storedKey(longKey)).not.toBe(storedKey(otherLongKey));
        expect(storedKey("short")).toBe("short");
        const state = applyIntents(EMPTY_TOWER_STATE, [intent(longKey, "critical", { subject: "s".repeat(1000) }), intent(otherLongKey, "warning")]);
        expect([...state.active.values()][0].subject.length).toBeLessThanOrEqual(DEFAULT_STATE_LIMITS.maxSubjectLength);
        const recovered = applyIntents(state, [intent(longKey, "recovery")]);
        expect([...recovered.active.values()].map((a) => a.severity)).toEqual(["warning"]);
    });
});

describe("boundActive", () => {
    const DAY = 24 * 60 * 60 * 1000;

    it("drops alerts not heard of for longer than maxAgeMs and keeps re-notified ones", () => {
        const old = intent("old", "critical", { receivedAt: new Date(T0).toISOString() });
        const renotified = [intent("renotified", "critical", { receivedAt: new Date(T0).toISOString() }), intent("renotified", "critical", { receivedAt: new Date(T0 + 6 * DAY).toISOString() })];
        const state = applyIntents(EMPTY_TOWER_STATE, [old, ...renotified]);
        const { state: bounded, expired, evicted } = boundActive(state, T0 + 8 * DAY);
        expect(expired).toEqual(["old"]);
        expect(evicted).toEqual([]);
        expect([...bounded.active.keys()]).toEqual(["renotified"]);
        expect(bounded.active.get("renotified")!.since).toBe(new Date(T0).toISOString());
    });

    it("returns the same state object when nothing is dropped", () => {
        const state = applyIntents(EMPTY_TOWER_STATE, [intent("a", "critical", { receivedAt: new Date(T0).toISOString() })]);
        expect(boundActive(state, T0 + 1000).state).toBe(state);
    });

    it("over maxActive evicts the lowest severity, least recently seen first, and never what the tower shows", () => {
        const limits = { ...DEFAULT_STATE_LIMITS, maxActive: 3 };
        const at = (s: number) => new Date(T0 + s * 1000).toISOString();
        const state = applyIntents(
            EMPTY_TOWER_STATE,
            [
                intent("crit-old", "critical", { receivedAt: at(1) }),
                intent("info-old", "info", { receivedAt: at(2) }),
                intent("warn", "warning", { receivedAt: at(3) }),
                intent("info-new", "info", { receivedAt: at(4) }),
                intent("info-newest", "info", { receivedAt: at(5) }),
            ],
            limits,
        );
        const { state: bounded, evicted } = boundActive(state, T0 + 10_000, limits);
        expect(evicted.sort()).toEqual(["info-new", "info-old"]);
        expect([...bounded.active.keys()].sort()).toEqual(["crit-old", "info-newest", "warn"]);
        expect(desiredSignal(bounded, TOWER)).toEqual(desiredSignal(state, TOWER));
    });
});

describe("needsSend and recordSend", () => {
    const critical = applyIntents(EMPTY_TOWER_STATE, [intent("a", "critical")]);
    const showing = (signal: TowerSignal) => recordSend(critical, signal, true);

    it("sends when nobody knows what the tower shows", () => {
        expect(needsSend(critical, SHOWS.critical)).toBe(true);
    });

    it("does not send what the tower already acknowledged", () => {
        expect(needsSend(showing(SHOWS.critical), SHOWS.critical)).toBe(false);
    });

    it("sends a real change", () => {
        expect(needsSend(showing(SHOWS.warning), SHOWS.critical)).toBe(true);
    });

    it("sends again after a failed send even when the wanted signal did not change", () => {
        const failed = recordSend(showing(SHOWS.warning), SHOWS.critical, false);
        expect(failed.shown).toEqual(SHOWS.warning);
        expect(failed.lastSendFailed).toBe(true);
        expect(needsSend(failed, SHOWS.warning)).toBe(true);
        const recovered = recordSend(failed, SHOWS.critical, true);
        expect(recovered.lastSendFailed).toBe(false);
        expect(needsSend(recovered, SHOWS.critical)).toBe(false);
    });
});
