import { createHash } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AlertSummary } from "../shared/slack-message";

/**
 * Flood control for the alert channel: the same alert repeating within a window (the same
 * CloudWatch alarm in the same state, the same GuardDuty or Security Hub finding, the same Datadog
 * monitor, the same text) posts once, then once more when it has repeated `repeatNoticeAfter`
 * times ("still repeating ×N"), and nothing else until the window ends.
 *
 * The count lives in DynamoDB so that it holds across invocations and concurrent containers: one
 * atomic UpdateItem per event (ADD count 1, windowStart set only if absent, conditional on the
 * window still being open), so exactly one event of a window sees count 1 and exactly one sees
 * count `repeatNoticeAfter`. A window that has run out is restarted by a second conditional update.
 * Any DynamoDB failure means "post": flood control may never cost an alert.
 */

/** How flood control behaves; from the component's config via the function's environment. */
export interface FloodPolicy {
    /** Length of a window in seconds; 0 turns flood control off. */
    readonly windowSeconds: number;
    /** The repeat count at which the second (and last) message of a window is posted. */
    readonly repeatNoticeAfter: number;
}

export const DEFAULT_FLOOD_POLICY: FloodPolicy = { windowSeconds: 300, repeatNoticeAfter: 10 };

export const FLOOD_TABLE_ENV = "FLOOD_TABLE";
export const FLOOD_WINDOW_ENV = "FLOOD_WINDOW_SECONDS";
export const FLOOD_REPEAT_ENV = "FLOOD_REPEAT_NOTICE_AFTER";

/** Longest window accepted: one day (the key's item would otherwise outlive any sensible storm). */
export const MAX_WINDOW_SECONDS = 86_400;

/** What to do with one event: post it, post the repeat notice instead, or say nothing. */
export type FloodAction = "post" | "notice" | "suppress";

export interface FloodDecision {
    readonly action: FloodAction;
    /** How many times this key was seen in the current window, this event included. */
    readonly count: number;
    /** When the current window began, epoch seconds. */
    readonly windowStart: number;
}

/** What the handler needs; the DynamoDB implementation is {@link createDynamoFloodControl}. */
export interface FloodControl {
    readonly policy: FloodPolicy;
    /** Counts one event of `key` at `nowMs` and says what to do with it. Rejects on storage failure. */
    record(key: string, nowMs: number): Promise<FloodDecision>;
    /**
     * Forgets the window that began at `windowStart`, so that the next event of `key` posts again;
     * called when the window's first post could not be delivered (Lambda's retry must not be suppressed).
     */
    release(key: string, windowStart: number): Promise<void>;
}

/** A problem with the flood settings, naming the variable and how to fix it. */
export class FloodConfigError extends Error {
    override readonly name = "FloodConfigError";
}

function integerSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, meaning: string): number {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") return fallback;
    const value = Number(raw.trim());
    if (!Number.isInteger(value) || value < min || value > max) {
        throw new FloodConfigError(`${name}=${JSON.stringify(raw)} is not valid: it must be a whole number from ${min} to ${max} (${meaning}). Fix alertline:floodControl in the stack config.`);
    }
    return value;
}

/** Reads and checks the policy from the environment the component sets; unset variables take the defaults. */
export function floodPolicyFromEnv(env: NodeJS.ProcessEnv): FloodPolicy {
    return {
        windowSeconds: integerSetting(env, FLOOD_WINDOW_ENV, DEFAULT_FLOOD_POLICY.windowSeconds, 0, MAX_WINDOW_SECONDS, "window length in seconds, 0 turns flood control off"),
        repeatNoticeAfter: integerSetting(env, FLOOD_REPEAT_ENV, DEFAULT_FLOOD_POLICY.repeatNoticeAfter, 2, 1_000_000, "repeat count that posts the second message"),
    };
}

/** The decision for the `count`-th event of a window: only the 1st and the `repeatNoticeAfter`-th speak. */
export function decide(count: number, policy: FloodPolicy): FloodAction {
    if (count <= 1) return "post";
    if (count === policy.repeatNoticeAfter) return "notice";
    return "suppress";
}

/** Whether a window that began at `windowStart` (epoch s) is over at `nowSeconds`. */
export function windowExpired(windowStart: number, nowSeconds: number, policy: FloodPolicy): boolean {
    return nowSeconds - windowStart >= policy.windowSeconds;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
    if (typeof value === "string" && value.trim() !== "") return value;
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    return undefined;
}

/**
 * What identifies "the same alert" beyond source, title and state, read from the parsed input:
 * the alarm ARN, the finding or event id, the Datadog monitor. Undefined when the summary gives
 * nothing stable; the whole message text is used then, so only identical text counts as a repeat.
 * App mode's thread key (./alert-identity) starts from the same identity.
 */
export function identityOf(summary: AlertSummary): string | undefined {
    const raw = summary.raw;
    if (!isObject(raw)) return undefined;
    if (summary.source === "cloudwatch") return str(raw.AlarmArn) ?? str(raw.AlarmName);
    if (summary.source === "datadog") {
        const monitor = summary.fields.find((f) => f.label === "Monitor")?.value;
        const host = summary.fields.find((f) => f.label === "Host")?.value;
        return monitor === undefined && host === undefined ? undefined : `${monitor ?? ""}|${host ?? ""}`;
    }
    // EventBridge events (GuardDuty, Security Hub, Health, Backup) keep their `detail`.
    const detail = isObject(raw.detail) ? raw.detail : undefined;
    if (detail === undefined) return undefined;
    if (Array.isArray(detail.findings)) {
        const ids = detail.findings.map((f) => (isObject(f) ? str(f.Id) : undefined));
        return ids.every((id) => id !== undefined) && ids.length > 0 ? ids.join(",") : undefined;
    }
    return str(detail.id) ?? str(detail.eventArn) ?? str(detail.backupJobId) ?? str(detail.copyJobId) ?? str(detail.restoreJobId);
}

/**
 * The flood-control key of one alert: a short sha256 of source, title, state and the alert's
 * identity (or, lacking one, the message text). The state is part of the key, so ALARM → OK is
 * never swallowed as a repeat of the ALARM.
 */
export function floodKey(summary: AlertSummary, rawMessage: string): string {
    const identity = identityOf(summary) ?? `text:${rawMessage}`;
    const digest = createHash("sha256").update([summary.source, summary.title, summary.state, identity].join("\u0000")).digest("hex");
    return `flood#${digest.slice(0, 32)}`;
}

/** "45 seconds", "1 minute", "5 minutes", "2 hours". */
export function describeDuration(seconds: number): string {
    const s = Math.max(1, Math.round(seconds));
    const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
    if (s < 60) return plural(s, "second");
    if (s < 7200) return plural(Math.round(s / 60), "minute");
    return plural(Math.round(s / 3600), "hour");
}

/** The summary of the second and last message of a window: the alert again, saying how often it repeated. */
export function repeatNoticeSummary(summary: AlertSummary, decision: FloodDecision, nowMs: number, policy: FloodPolicy): AlertSummary {
    const elapsed = Math.max(1, Math.floor(nowMs / 1000) - decision.windowStart);
    const repeated = `${decision.count} times in the last ${describeDuration(elapsed)}`;
    const held = `Further repeats are not posted until ${describeDuration(policy.windowSeconds)} after the first.`;
    return {
        ...summary,
        title: `Repeated ×${decision.count}: ${summary.title}`,
        reason: [`This alert repeated ${repeated}. ${held}`, summary.reason].filter(Boolean).join("\n\n"),
        fields: [{ label: "Repeated", value: repeated }, ...summary.fields],
    };
}

function numberAttr(value: unknown, name: string): number {
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`the flood item's ${name} is ${JSON.stringify(value)}, not a number`);
    return value;
}

/**
 * Flood control on a DynamoDB table (partition key `pk`, TTL on `expiresAt`). Items:
 * `{ pk, count, windowStart (epoch s), expiresAt (epoch s, end of the window) }`.
 */
export function createDynamoFloodControl(client: DynamoDBDocumentClient, table: string, policy: FloodPolicy): FloodControl {
    /** Counts into the open window, or creates one; undefined when the stored window has run out. */
    async function countInWindow(key: string, now: number): Promise<FloodDecision | undefined> {
        try {
            const out = await client.send(
                new UpdateCommand({
                    TableName: table,
                    Key: { pk: key },
                    UpdateExpression: "SET windowStart = if_not_exists(windowStart, :now), expiresAt = if_not_exists(expiresAt, :expires) ADD #count :one",
                    ConditionExpression: "attribute_not_exists(pk) OR windowStart > :cutoff",
                    ExpressionAttributeNames: { "#count": "count" },
                    ExpressionAttributeValues: { ":now": now, ":expires": now + policy.windowSeconds, ":one": 1, ":cutoff": now - policy.windowSeconds },
                    ReturnValues: "ALL_NEW",
                }),
            );
            const count = numberAttr(out.Attributes?.count, "count");
            return { action: decide(count, policy), count, windowStart: numberAttr(out.Attributes?.windowStart, "windowStart") };
        } catch (error) {
            if (error instanceof ConditionalCheckFailedException) return undefined;
            throw error;
        }
    }

    /** Starts a new window over an expired one; false when another invocation already did (or TTL removed the item). */
    async function restartWindow(key: string, now: number): Promise<boolean> {
        try {
            await client.send(
                new UpdateCommand({
                    TableName: table,
                    Key: { pk: key },
                    UpdateExpression: "SET windowStart = :now, expiresAt = :expires, #count = :one",
                    ConditionExpression: "windowStart <= :cutoff",
                    ExpressionAttributeNames: { "#count": "count" },
                    ExpressionAttributeValues: { ":now": now, ":expires": now + policy.windowSeconds, ":one": 1, ":cutoff": now - policy.windowSeconds },
                }),
            );
            return true;
        } catch (error) {
            if (error instanceof ConditionalCheckFailedException) return false;
            throw error;
        }
    }

    return {
        policy,
        async record(key, nowMs) {
            const now = Math.floor(nowMs / 1000);
            // Each lost race means another invocation changed the window meanwhile; a few rounds settle it.
            for (let round = 0; round < 4; round++) {
                const counted = await countInWindow(key, now);
                if (counted !== undefined) return counted;
                if (await restartWindow(key, now)) return { action: "post", count: 1, windowStart: now };
            }
            throw new Error(`flood control for ${key} kept losing races on table ${table}`);
        },
        async release(key, windowStart) {
            try {
                // Moving the start back a whole window makes the next event open a new window and post.
                await client.send(
                    new UpdateCommand({
                        TableName: table,
                        Key: { pk: key },
                        UpdateExpression: "SET windowStart = :expired",
                        ConditionExpression: "windowStart = :start",
                        ExpressionAttributeValues: { ":expired": windowStart - policy.windowSeconds, ":start": windowStart },
                    }),
                );
            } catch (error) {
                if (!(error instanceof ConditionalCheckFailedException)) throw error;
            }
        },
    };
}
