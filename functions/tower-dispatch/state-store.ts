import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ACTIVE_SEVERITIES, type ActiveSeverity } from "../shared/severity";
import { LAMP_MODES, LAMPS, type LampMode, type TowerSignal } from "../shared/patlite/signal";
import { EMPTY_TOWER_STATE, type ActiveAlert, type TowerState, type UnreachableOutage } from "./tower-state";

/**
 * One DynamoDB item per tower (`pk = "tower#<name>"` in the table named by STATE_TABLE, shared with
 * mail-ingest's idempotency items). Writes are conditional on a `version` attribute, so two writers
 * that loaded the same version cannot both win: the second gets a {@link StateConflictError} and
 * starts again from what the first wrote.
 */

/** Partition key of a tower's state item. */
export function towerKey(tower: string): string {
    return `tower#${tower}`;
}

/** Days an untouched state item lives. Longer than the alerts' own expiry (7 days), so TTL only removes state that no longer matters. */
export const STATE_RETENTION_DAYS = 30;

export interface StoredTowerState {
    readonly state: TowerState;
    /** 0 when no item exists yet. */
    readonly version: number;
}

export interface TowerStateStore {
    load(tower: string): Promise<StoredTowerState>;
    /** Writes `state` as version expectedVersion + 1; throws {@link StateConflictError} when someone else wrote first. */
    save(tower: string, state: TowerState, expectedVersion: number): Promise<number>;
}

/** Another writer changed the item since it was loaded. */
export class StateConflictError extends Error {
    constructor(readonly tower: string, readonly expectedVersion: number, options?: { cause?: unknown }) {
        super(`The state of tower "${tower}" changed since version ${expectedVersion} was loaded (another dispatcher wrote it); start again from the stored state`, options);
        this.name = "StateConflictError";
    }
}

/** The stored item is not something this code wrote; names the item and the field. */
export class CorruptStateError extends Error {
    constructor(readonly tower: string, problem: string) {
        super(`The stored state of tower "${tower}" (pk "${towerKey(tower)}") is unreadable: ${problem}. Delete the item to reset it; the next signal intent rebuilds it and resends the tower's signal`);
        this.name = "CorruptStateError";
    }
}

/** One active alert as stored: the key is a value in the entry, never an attribute name. */
export interface StoredActiveAlert extends ActiveAlert {
    readonly key: string;
}

/**
 * The item as stored. Attributes are native DynamoDB types so the console shows them readably.
 * `active` is a list of {@link StoredActiveAlert}: alert keys come from mail, and as map attribute
 * names a key such as `constructor` broke the write (the SDK's marshaller takes a map with its own
 * `constructor` for a class instance) and `__proto__` was lost. Items written before this change
 * hold `active` as a map of key → alert; {@link fromItem} reads both.
 */
export interface TowerStateItem {
    readonly pk: string;
    readonly tower: string;
    readonly version: number;
    readonly active: StoredActiveAlert[];
    readonly shown: TowerSignal | null;
    readonly lastSendFailed: boolean;
    readonly unreachable: UnreachableOutage | null;
    readonly recentMessageIds: string[];
    readonly updatedAt: string;
    /** TTL, epoch seconds. */
    readonly expiresAt: number;
}

/** The item for `state` (pure). */
export function toItem(tower: string, state: TowerState, version: number, nowMs: number): TowerStateItem {
    return {
        pk: towerKey(tower),
        tower,
        version,
        active: [...state.active].map(([key, alert]) => ({ key, ...alert })),
        shown: state.shown === null ? null : { ...state.shown },
        lastSendFailed: state.lastSendFailed,
        unreachable: state.unreachable === null ? null : { ...state.unreachable },
        recentMessageIds: [...state.recentMessageIds],
        updatedAt: new Date(nowMs).toISOString(),
        expiresAt: Math.floor(nowMs / 1000) + STATE_RETENTION_DAYS * 24 * 60 * 60,
    };
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readSignal(tower: string, value: unknown): TowerSignal | null {
    if (value === null || value === undefined) return null;
    if (!isObject(value)) throw new CorruptStateError(tower, "`shown` is not a map");
    const signal: Record<string, LampMode | number> = {};
    for (const lamp of LAMPS) {
        const mode = value[lamp];
        if (typeof mode !== "string" || !(LAMP_MODES as readonly string[]).includes(mode)) throw new CorruptStateError(tower, `\`shown.${lamp}\` is ${JSON.stringify(mode)}, not one of ${LAMP_MODES.join(", ")}`);
        signal[lamp] = mode as LampMode;
    }
    if (typeof value.buzzer !== "number") throw new CorruptStateError(tower, "`shown.buzzer` is not a number");
    signal.buzzer = value.buzzer;
    return signal as unknown as TowerSignal;
}

/** The (key, raw alert) pairs of `active`: the list written now, or the map of items written before. */
function activeEntries(tower: string, value: unknown): [string, unknown][] {
    if (Array.isArray(value)) {
        return value.map((entry, index) => {
            if (!isObject(entry) || typeof entry.key !== "string") throw new CorruptStateError(tower, `\`active[${index}]\` is not a map with a string \`key\``);
            return [entry.key, entry];
        });
    }
    // The shape of items written before alert keys became data (key → alert). Own properties only.
    if (isObject(value)) return Object.entries(value);
    throw new CorruptStateError(tower, "`active` is neither a list nor a map");
}

function readActive(tower: string, value: unknown): Map<string, ActiveAlert> {
    const active = new Map<string, ActiveAlert>();
    if (value === undefined) return active;
    for (const [key, raw] of activeEntries(tower, value)) {
        if (!isObject(raw)) throw new CorruptStateError(tower, `\`active\` entry ${JSON.stringify(key)} is not a map`);
        const { severity, since, lastSeen, subject, messageId } = raw;
        if (typeof severity !== "string" || !(ACTIVE_SEVERITIES as readonly string[]).includes(severity)) {
            throw new CorruptStateError(tower, `\`active\` entry ${JSON.stringify(key)} has severity ${JSON.stringify(severity)}, not one of ${ACTIVE_SEVERITIES.join(", ")}`);
        }
        if (typeof since !== "string" || typeof messageId !== "string") throw new CorruptStateError(tower, `\`active\` entry ${JSON.stringify(key)} lacks since or messageId`);
        active.set(key, {
            severity: severity as ActiveSeverity,
            since,
            lastSeen: typeof lastSeen === "string" ? lastSeen : since,
            subject: typeof subject === "string" ? subject : "",
            messageId,
        });
    }
    return active;
}

/** The state held by a stored item (pure). Throws {@link CorruptStateError} for an item this code did not write. */
export function fromItem(tower: string, item: Record<string, unknown>): StoredTowerState {
    const version = item.version;
    if (typeof version !== "number" || !Number.isInteger(version) || version < 1) throw new CorruptStateError(tower, `\`version\` is ${JSON.stringify(version)}, not a positive integer`);
    const unreachable = item.unreachable;
    if (unreachable !== undefined && unreachable !== null && !(isObject(unreachable) && typeof unreachable.since === "string")) {
        throw new CorruptStateError(tower, "`unreachable` is neither null nor a map with `since`");
    }
    const recent = item.recentMessageIds ?? [];
    if (!Array.isArray(recent) || recent.some((id) => typeof id !== "string")) throw new CorruptStateError(tower, "`recentMessageIds` is not a list of strings");
    return {
        version,
        state: {
            ...EMPTY_TOWER_STATE,
            active: readActive(tower, item.active),
            shown: readSignal(tower, item.shown),
            lastSendFailed: item.lastSendFailed === true,
            unreachable: isObject(unreachable) ? { since: unreachable.since as string, error: typeof unreachable.error === "string" ? unreachable.error : "" } : null,
            recentMessageIds: recent as string[],
        },
    };
}

/** A store over `tableName`, through a DocumentClient created once per container. */
export function createStateStore(client: DynamoDBDocumentClient, tableName: string, now: () => number = Date.now): TowerStateStore {
    return {
        async load(tower) {
            // Strongly consistent: the version read here is the one the conditional write checks against.
            const result = await client.send(new GetCommand({ TableName: tableName, Key: { pk: towerKey(tower) }, ConsistentRead: true }));
            return result.Item === undefined ? { state: EMPTY_TOWER_STATE, version: 0 } : fromItem(tower, result.Item);
        },
        async save(tower, state, expectedVersion) {
            const version = expectedVersion + 1;
            try {
                await client.send(
                    new PutCommand({
                        TableName: tableName,
                        Item: toItem(tower, state, version, now()),
                        ...(expectedVersion === 0
                            ? { ConditionExpression: "attribute_not_exists(pk)" }
                            : { ConditionExpression: "#version = :expected", ExpressionAttributeNames: { "#version": "version" }, ExpressionAttributeValues: { ":expected": expectedVersion } }),
                    }),
                );
            } catch (error) {
                if ((error as { name?: string })?.name === "ConditionalCheckFailedException") throw new StateConflictError(tower, expectedVersion, { cause: error });
                throw error;
            }
            return version;
        },
    };
}
