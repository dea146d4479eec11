import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { boundedJson } from "../shared/bounded-json";
import type { AlertField, AlertState, AlertSummary } from "../shared/slack-message";

/**
 * App mode's memory of each alert's Slack message, in the flood table (partition key `pk`, TTL on
 * `expiresAt`), one item per alert identity (`pk = thread#<hash>`, ./alert-identity):
 *
 * - the alert's desired state: `version` (ADD 1 per event), `summary` (the latest, bounded JSON),
 *   `count` (events seen), `lastSnsMessageId` (so Lambda's retry of one event is not counted twice);
 * - its message: `channel`, `ts`, `postedAt` (epoch s), `baseCount` (events that belong to an
 *   earlier message of the same alert);
 * - what the message shows: `rendered` (the version last shown), `renderedState`, `renderedCount`;
 * - who is rendering: `lease` (a token) until `leaseUntil` (epoch ms, the holder's deadline).
 *
 * Only one invocation renders an alert at a time (the lease). Every other invocation records its
 * event and leaves: the holder, before it lets go, re-reads the item and renders again while a newer
 * version is there, and lets go only with a condition that no newer version arrived. So in a storm
 * the events of one alert coalesce into a few renders, no two invocations post two roots, an older
 * state never overwrites a newer one in Slack, and the last state is always shown.
 *
 * Only UpdateItem and GetItem are used (the role grants exactly those on the table).
 */

/** The state of one alert's thread item, as read back. */
export interface ThreadItem {
    readonly key: string;
    readonly version: number;
    readonly count: number;
    /** The latest summary, without `raw`; undefined only if the stored JSON is unreadable. */
    readonly summary: StoredSummary | undefined;
    /** Epoch ms of the latest event. */
    readonly lastEventAt: number;
    readonly channel?: string;
    readonly ts?: string;
    /** Epoch seconds when `ts` was posted. */
    readonly postedAt?: number;
    readonly baseCount: number;
    readonly rendered: number;
    readonly renderedState?: string;
    readonly renderedCount?: number;
    /** The state of the latest event that was not OK, if any: a message first posted green still says it recovered. */
    readonly lastProblemState?: string;
    readonly lease?: string;
    readonly leaseUntil?: number;
}

/** The part of an {@link AlertSummary} that is stored and rendered (never `raw`). */
export type StoredSummary = Omit<AlertSummary, "raw">;

/** Where a rendered message lives, stored when a root is posted. */
export interface PostedMessage {
    readonly channel: string;
    readonly ts: string;
    /** Epoch seconds. */
    readonly postedAt: number;
    readonly baseCount: number;
}

export interface AlertThreads {
    /**
     * Records one event: version and count +1, the summary becomes the latest. When
     * `snsMessageId` equals the previous event's (Lambda retrying the same event), nothing is
     * counted again and the item is returned as it is.
     */
    record(key: string, summary: AlertSummary, nowMs: number, snsMessageId?: string): Promise<ThreadItem>;
    /** The item, read consistently; undefined when there is none. */
    get(key: string): Promise<ThreadItem | undefined>;
    /**
     * Takes the lease until `untilMs` if nobody holds a live one and a version is unrendered;
     * undefined otherwise (someone else renders, or everything is shown already).
     */
    acquire(key: string, token: string, nowMs: number, untilMs: number): Promise<ThreadItem | undefined>;
    /**
     * Marks `version` as shown (only if it is newer than what is marked) while holding the lease,
     * with the message's place when a root was posted; the item after, or undefined when the lease
     * was lost (another invocation took over after it ran out).
     */
    markRendered(key: string, token: string, shown: { version: number; state: string; count: number }, posted?: PostedMessage): Promise<ThreadItem | undefined>;
    /**
     * Lets go of the lease if every version is shown: "released". "newer" when a version arrived
     * meanwhile (render again, the lease is still held; `item` is the item as read to tell), "lost"
     * when the lease is no longer ours.
     */
    release(key: string, token: string): Promise<{ readonly status: "released" | "lost" } | { readonly status: "newer"; readonly item: ThreadItem }>;
    /** Lets go of the lease whatever is unrendered (the holder is giving up: Lambda retries its event). */
    abandon(key: string, token: string): Promise<void>;
}

/** The longest stored summary; a DynamoDB item holds 400 KB, a Slack message shows far less. */
export const STORED_SUMMARY_MAX_BYTES = 32 * 1024;

/** Keeps what is rendered of a summary; the parsed input (`raw`) can be large and is never shown. */
export function storableSummary(summary: AlertSummary): string {
    const { raw: _raw, ...rest } = summary;
    return boundedJson(rest, STORED_SUMMARY_MAX_BYTES);
}

const STATES: readonly AlertState[] = ["ALARM", "OK", "INSUFFICIENT_DATA", "WARN", "UNKNOWN"];

/** The stored summary read back, type-checked field by field (boundedJson may have cut it). */
export function readStoredSummary(json: unknown): StoredSummary | undefined {
    if (typeof json !== "string") return undefined;
    let value: unknown;
    try {
        value = JSON.parse(json);
    } catch {
        return undefined;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const v = value as Record<string, unknown>;
    const str = (x: unknown): string | undefined => (typeof x === "string" ? x : undefined);
    const fields: AlertField[] = Array.isArray(v.fields)
        ? v.fields.flatMap((f) => (typeof f === "object" && f !== null && typeof (f as AlertField).label === "string" && typeof (f as AlertField).value === "string" ? [{ label: (f as AlertField).label, value: (f as AlertField).value }] : []))
        : [];
    const state = STATES.includes(v.state as AlertState) ? (v.state as AlertState) : "UNKNOWN";
    const truncated = str(v.truncated);
    const out: StoredSummary = {
        source: str(v.source) ?? "unknown",
        state,
        title: str(v.title) ?? "(title not kept)",
        reason: [str(v.reason), truncated === undefined ? undefined : `(${truncated})`].filter((x) => x !== undefined && x !== "").join("\n") || undefined,
        fields,
        details: str(v.details),
        consoleUrl: str(v.consoleUrl),
        consoleLabel: str(v.consoleLabel),
        region: str(v.region),
        account: str(v.account),
        occurredAt: str(v.occurredAt),
    };
    return Object.fromEntries(Object.entries(out).filter(([, x]) => x !== undefined)) as unknown as StoredSummary;
}

function num(value: unknown, fallback: number): number {
    return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function optStr(value: unknown): string | undefined {
    return typeof value === "string" && value !== "" ? value : undefined;
}

function optNum(value: unknown): number | undefined {
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** An item as DynamoDB returned it, into {@link ThreadItem}. */
export function toThreadItem(key: string, attributes: Record<string, unknown>): ThreadItem {
    return {
        key,
        version: num(attributes.version, 0),
        count: num(attributes.count, 0),
        summary: readStoredSummary(attributes.summary),
        lastEventAt: num(attributes.lastEventAt, 0),
        channel: optStr(attributes.channel),
        ts: optStr(attributes.ts),
        postedAt: optNum(attributes.postedAt),
        baseCount: num(attributes.baseCount, 0),
        rendered: num(attributes.rendered, 0),
        renderedState: optStr(attributes.renderedState),
        lastProblemState: optStr(attributes.lastProblemState),
        renderedCount: optNum(attributes.renderedCount),
        lease: optStr(attributes.lease),
        leaseUntil: optNum(attributes.leaseUntil),
    };
}

/**
 * The thread store on the flood table. `ttlSeconds` is how long an item outlives its last event
 * (`expiresAt`); it should be at least the message's maximum age, after which a new root is posted
 * anyway. DynamoDB deletes expired items lazily, so the code never relies on TTL for correctness.
 */
export function createAlertThreads(client: DynamoDBDocumentClient, table: string, ttlSeconds: number): AlertThreads {
    const isConditionFailure = (error: unknown): boolean => error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === "ConditionalCheckFailedException";

    /**
     * Every attribute goes through a `#name` placeholder (DynamoDB reserves hundreds of words, COUNT
     * among them), and DynamoDB refuses placeholders an expression does not use, so the map is made
     * from the expressions themselves.
     */
    const namesIn = (...expressions: (string | undefined)[]): Record<string, string> =>
        Object.fromEntries([...new Set(expressions.join(" ").match(/#\w+/g) ?? [])].map((n) => [n, n.slice(1)]));

    /**
     * Gives up the lease if `token` still holds it and, with `onlyIfShown`, only once every recorded
     * version is shown; false when the condition failed (another holder, or a newer version).
     */
    async function removeLease(key: string, token: string, onlyIfShown: boolean): Promise<boolean> {
        try {
            await client.send(
                new UpdateCommand({
                    TableName: table,
                    Key: { pk: key },
                    UpdateExpression: "REMOVE #lease, #leaseUntil",
                    ConditionExpression: onlyIfShown ? "#lease = :token AND #rendered >= #version" : "#lease = :token",
                    ExpressionAttributeNames: namesIn(onlyIfShown ? "#lease #leaseUntil #rendered #version" : "#lease #leaseUntil"),
                    ExpressionAttributeValues: { ":token": token },
                }),
            );
            return true;
        } catch (error) {
            if (!isConditionFailure(error)) throw error;
            return false;
        }
    }

    async function get(key: string): Promise<ThreadItem | undefined> {
        const out = await client.send(new GetCommand({ TableName: table, Key: { pk: key }, ConsistentRead: true }));
        return out.Item === undefined ? undefined : toThreadItem(key, out.Item);
    }

    return {
        get,
        async record(key, summary, nowMs, snsMessageId) {
            const values: Record<string, unknown> = {
                ":one": 1,
                ":summary": storableSummary(summary),
                ":now": nowMs,
                ":expires": Math.floor(nowMs / 1000) + ttlSeconds,
            };
            let set = "SET #summary = :summary, #lastEventAt = :now, #expiresAt = :expires";
            if (summary.state !== "OK") {
                set += ", #lastProblemState = :problemState";
                values[":problemState"] = summary.state;
            }
            let condition: string | undefined;
            if (snsMessageId !== undefined) {
                set += ", #lastSnsMessageId = :mid";
                condition = "attribute_not_exists(#lastSnsMessageId) OR #lastSnsMessageId <> :mid";
                values[":mid"] = snsMessageId;
            }
            try {
                const out = await client.send(
                    new UpdateCommand({
                        TableName: table,
                        Key: { pk: key },
                        UpdateExpression: `${set} ADD #version :one, #count :one`,
                        ConditionExpression: condition,
                        ExpressionAttributeNames: namesIn(set, "#version #count", condition),
                        ExpressionAttributeValues: values,
                        ReturnValues: "ALL_NEW",
                    }),
                );
                return toThreadItem(key, out.Attributes ?? {});
            } catch (error) {
                if (!isConditionFailure(error)) throw error;
                // The same SNS message again (Lambda's retry): already counted; render what is there.
                const item = await get(key);
                if (item === undefined) throw new Error(`thread item ${key} vanished between a conditional update and its read`);
                return item;
            }
        },
        async acquire(key, token, nowMs, untilMs) {
            try {
                const out = await client.send(
                    new UpdateCommand({
                        TableName: table,
                        Key: { pk: key },
                        UpdateExpression: "SET #lease = :token, #leaseUntil = :until",
                        ConditionExpression: "attribute_exists(#version) AND (attribute_not_exists(#leaseUntil) OR #leaseUntil < :now) AND (attribute_not_exists(#rendered) OR #rendered < #version)",
                        ExpressionAttributeNames: namesIn("#lease #leaseUntil #version #rendered"),
                        ExpressionAttributeValues: { ":token": token, ":until": untilMs, ":now": nowMs },
                        ReturnValues: "ALL_NEW",
                    }),
                );
                return toThreadItem(key, out.Attributes ?? {});
            } catch (error) {
                if (isConditionFailure(error)) return undefined;
                throw error;
            }
        },
        async markRendered(key, token, shown, posted) {
            const values: Record<string, unknown> = { ":token": token, ":v": shown.version, ":state": shown.state, ":count": shown.count };
            let set = "SET #rendered = :v, #renderedState = :state, #renderedCount = :count";
            if (posted !== undefined) {
                set += ", #channel = :channel, #ts = :ts, #postedAt = :postedAt, #baseCount = :base";
                Object.assign(values, { ":channel": posted.channel, ":ts": posted.ts, ":postedAt": posted.postedAt, ":base": posted.baseCount });
            }
            try {
                const out = await client.send(
                    new UpdateCommand({
                        TableName: table,
                        Key: { pk: key },
                        UpdateExpression: set,
                        ConditionExpression: "#lease = :token AND (attribute_not_exists(#rendered) OR #rendered < :v)",
                        ExpressionAttributeNames: namesIn(set, "#lease #rendered"),
                        ExpressionAttributeValues: values,
                        ReturnValues: "ALL_NEW",
                    }),
                );
                return toThreadItem(key, out.Attributes ?? {});
            } catch (error) {
                if (!isConditionFailure(error)) throw error;
                // Either the lease is gone, or this version was marked already (a re-render of the same
                // version after a rate-limit wait): only the first means stop.
                const item = await get(key);
                return item?.lease === token ? item : undefined;
            }
        },
        async release(key, token) {
            if (await removeLease(key, token, true)) return { status: "released" };
            const item = await get(key);
            return item?.lease === token ? { status: "newer", item } : { status: "lost" };
        },
        async abandon(key, token) {
            await removeLease(key, token, false);
        },
    };
}
