import type { ScheduledEvent } from "aws-lambda";
import { fromHex } from "../shared/patlite/codec";
import { describeSignal } from "../shared/patlite/signal";
import { decodeStatusReply, describeReading, isNakReply, type TowerReading } from "../shared/patlite/status";
import type { TowerConfig } from "../shared/tower-config";
import type { DispatchLogger, TowerLocks } from "./dispatch";
import type { RelayOptions, RelayResult, StatusReader } from "./relay";
import { restoreShown, type RestoreContext, type RestoreOutcome } from "./restore-shown";

/**
 * The scheduled reachability probe: every tower is asked for its status once, a few at a time, with
 * a short timeout and no retries (an unreachable tower is reported by the metric, and the next probe
 * asks again). A tower that answers with a state that differs from the one it last acknowledged
 * (`shown`) has lost it, typically in a power cycle, and nothing else would ever resend it: the
 * probe sends what the tower should show and records it ({@link restoreShown}).
 */

/**
 * Whether the event is the probe's EventBridge schedule (`source` "aws.events", `detail-type`
 * "Scheduled Event") rather than an SQS batch (`Records`).
 */
export function isScheduledEvent(event: unknown): event is ScheduledEvent {
    if (typeof event !== "object" || event === null || Array.isArray(event)) return false;
    const fields = event as Record<string, unknown>;
    return fields.source === "aws.events" && fields["detail-type"] === "Scheduled Event" && !("Records" in fields);
}

/** Limit for one status read: TCP connect to answer, and the SSM relay script's wait. */
export const PROBE_TIMEOUT_MS = 3000;
/** Towers probed at the same time. */
export const PROBE_CONCURRENCY = 8;
/** SSM: polling time for one status read before its command is cancelled; Run Command itself takes a few seconds. */
export const PROBE_SSM_POLL_TIMEOUT_MS = 10_000;

export interface ProbeOptions {
    /** Default {@link PROBE_TIMEOUT_MS}. */
    readonly timeoutMs?: number;
    /** Default {@link PROBE_CONCURRENCY}. */
    readonly concurrency?: number;
    /** Default {@link PROBE_SSM_POLL_TIMEOUT_MS}. */
    readonly ssmPollTimeoutMs?: number;
}

/**
 * Relay options for a status read: one attempt and the probe's timeouts; the sleep and the SSM poll
 * interval stay the dispatcher's, so tests that inject them still do.
 */
export function probeRelayOptions(relay: RelayOptions | undefined, probe: ProbeOptions | undefined): RelayOptions {
    const timeoutMs = probe?.timeoutMs ?? PROBE_TIMEOUT_MS;
    return {
        ...(relay?.sleep ? { sleep: relay.sleep } : {}),
        ...(relay?.pollIntervalMs !== undefined ? { pollIntervalMs: relay.pollIntervalMs } : {}),
        attempts: 1,
        backoffMs: 0,
        timeoutMs,
        towerTimeoutSeconds: Math.ceil(timeoutMs / 1000),
        pollTimeoutMs: probe?.ssmPollTimeoutMs ?? PROBE_SSM_POLL_TIMEOUT_MS,
    };
}

/** One tower's answer to the probe. */
export interface TowerProbe {
    readonly tower: string;
    readonly relay: "vpn" | "ssm";
    /** The tower answered the status request: with its state, or with a NAK (it is there, but refused). */
    readonly reachable: boolean;
    /** From the request to the answer (or the failure), in milliseconds. */
    readonly latencyMs: number;
    /** What the tower reported, when its answer could be read. */
    readonly reading?: TowerReading;
    /** The answer as hex, when bytes came back. */
    readonly reply?: string;
    /** Why the tower counts as unreachable, or why its answer says nothing about its state. */
    readonly error?: string;
}

function errorText(error: unknown): string {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Asks one tower for its status, once. Never throws. */
export async function probeTower(tower: TowerConfig, read: StatusReader, clock: () => number): Promise<TowerProbe> {
    const started = clock();
    let result: RelayResult;
    try {
        result = await read(tower);
    } catch (error) {
        // Readers report tower faults in their result; a throw is a bug, and still only this tower's problem.
        result = { relay: tower.relay.kind, ack: false, attempts: 0, sent: "", error: errorText(error) };
    }
    const base = { tower: tower.name, relay: result.relay, latencyMs: Math.max(0, Math.round(clock() - started)), ...(result.reply ? { reply: result.reply } : {}) };
    let answer: Buffer | undefined;
    try {
        answer = result.reply ? fromHex(result.reply) : undefined;
    } catch {
        answer = undefined;
    }
    if (result.ack && answer !== undefined) {
        try {
            return { ...base, reachable: true, reading: decodeStatusReply(tower.protocol, answer) };
        } catch (error) {
            return { ...base, reachable: true, error: `answered, but the answer says nothing readable about the lamps: ${(error as Error).message}` };
        }
    }
    if (answer !== undefined && isNakReply(tower.protocol, answer)) {
        return { ...base, reachable: true, error: `answered NAK to the status request; check that towers.json's protocol (${tower.protocol}) is the one the tower is set to` };
    }
    return { ...base, reachable: false, error: result.error ?? "no answer" };
}

/** Runs `work` over `items` with at most `limit` running at once; results in the items' order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`the probe's concurrency must be a whole number of at least 1, got ${limit}`);
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < items.length) {
            const index = next++;
            results[index] = await work(items[index], index);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

/** What the scheduled invocation returns. */
export interface ProbeSummary {
    readonly probed: number;
    readonly reachable: number;
    /** Towers that did not answer, in towers.json order. */
    readonly unreachable: string[];
    /** Towers whose lost state was re-sent and acknowledged. */
    readonly resent: string[];
}

export interface ProbeRun {
    readonly summary: ProbeSummary;
    readonly probes: TowerProbe[];
}

export interface ProbeContext {
    readonly read: StatusReader;
    readonly restore: RestoreContext;
    readonly logger: DispatchLogger;
    /** Milliseconds for latency; default `performance.now`. */
    readonly clock?: () => number;
    /** Default {@link PROBE_CONCURRENCY}. */
    readonly concurrency?: number;
    /** Keeps a tower's probe and a queue batch for it in this process from overlapping. */
    readonly locks?: TowerLocks;
}

/** The log line's fields for a restore outcome. */
function restoreFields(outcome: RestoreOutcome | { kind: "failed"; error: string } | undefined): Record<string, unknown> {
    if (outcome === undefined) return {};
    switch (outcome.kind) {
        case "resent":
        case "resend-failed":
        case "conflict":
            return { restore: outcome.kind, resentSignal: describeSignal(outcome.signal), resendAttempts: outcome.send.attempts, ...(outcome.send.error ? { resendError: outcome.send.error } : {}) };
        case "failed":
            return { restore: "failed", restoreError: outcome.error };
        default:
            return { restore: outcome.kind };
    }
}

/**
 * Probes every tower, at most `concurrency` at once, restores lost states, and logs one line per
 * tower with the result and latency. One tower's trouble never stops the others.
 */
export async function probeTowers(towers: readonly TowerConfig[], ctx: ProbeContext): Promise<ProbeRun> {
    const clock = ctx.clock ?? (() => performance.now());
    const runs = await mapBounded(towers, ctx.concurrency ?? PROBE_CONCURRENCY, async (tower) => {
        const work = async () => {
            const probe = await probeTower(tower, ctx.read, clock);
            let restore: RestoreOutcome | { kind: "failed"; error: string } | undefined;
            if (probe.reading !== undefined) {
                try {
                    restore = await restoreShown(tower, probe.reading, ctx.restore);
                } catch (error) {
                    restore = { kind: "failed", error: errorText(error) };
                }
            }
            const fields = {
                tower: tower.name,
                site: tower.site,
                relay: probe.relay,
                reachable: probe.reachable,
                latencyMs: probe.latencyMs,
                ...(probe.reading ? { reading: describeReading(probe.reading) } : {}),
                ...(probe.error ? { error: probe.error } : {}),
                ...restoreFields(restore),
            };
            if (!probe.reachable) ctx.logger.warn("Tower did not answer the probe", fields);
            else if (restore?.kind === "failed" || restore?.kind === "resend-failed") ctx.logger.error("Tower answered the probe; restoring its signal failed", fields);
            else if (restore?.kind === "resent" || restore?.kind === "conflict") ctx.logger.warn("Tower answered the probe with a lost state; re-sent its signal", fields);
            else ctx.logger.info("Tower answered the probe", fields);
            return { probe, restore };
        };
        return ctx.locks ? ctx.locks.run(tower.name, work) : work();
    });
    const probes = runs.map((run) => run.probe);
    return {
        probes,
        summary: {
            probed: probes.length,
            reachable: probes.filter((p) => p.reachable).length,
            unreachable: probes.filter((p) => !p.reachable).map((p) => p.tower),
            resent: runs.filter((run) => run.restore?.kind === "resent").map((run) => run.probe.tower),
        },
    };
}
