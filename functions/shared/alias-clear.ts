import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * An alert is cleared once per page. In the migration window one mail opens an alert in Opsgenie
 * and one in JSM under the same alias; both may be acknowledged and closed, and each backend's
 * webhook calls ack-webhook. Only the first of those calls queues recoveries: it takes the item
 * `ack#<alias>` in the state table with a conditional write (`attribute_not_exists(clearedAt)`);
 * every later call for that alias finds it taken and queues nothing. mail-ingest resets the item
 * (removes clearedAt) whenever a mail opens the alert again, so a tower that lights again can be
 * cleared again. The same holds outside the window: an Acknowledge followed by a Close clears once.
 *
 * A claim whose recoveries could not be queued is released, so the sender's retry clears the tower.
 */

/** The item's key, shared by ack-webhook (which clears) and mail-ingest (which re-opens, and clears on a recovery mail). */
export const ackStateKey = (alias: string): string => `ack#${alias}`;

/** How long an item is kept without a new page (DynamoDB TTL on expiresAt): the mail state's 7 days. */
export const CLEAR_TTL_SECONDS = 7 * 24 * 3600;

export type ClearClaim = { readonly first: true } | { readonly first: false; readonly clearedBy: string; readonly clearedAt: string };

export interface ClearState {
    readonly ddb: Pick<DynamoDBDocumentClient, "send">;
    /** env STATE_TABLE: the table mail-ingest and tower-dispatch share. */
    readonly table: string;
}

/**
 * The conditional write that takes the alias's clear for `by`; false when someone took it first.
 * ack-webhook goes on to read who ({@link claimClear}); a recovery mail only needs it taken.
 */
export async function takeClear(state: ClearState, alias: string, by: string, nowMs: number): Promise<boolean> {
    try {
        await state.ddb.send(
            new UpdateCommand({
                TableName: state.table,
                Key: { pk: ackStateKey(alias) },
                UpdateExpression: "SET clearedAt = :at, clearedBy = :by, expiresAt = if_not_exists(expiresAt, :exp)",
                ConditionExpression: "attribute_not_exists(clearedAt)",
                ExpressionAttributeValues: { ":at": new Date(nowMs).toISOString(), ":by": by, ":exp": Math.floor(nowMs / 1000) + CLEAR_TTL_SECONDS },
            }),
        );
        return true;
    } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return false;
    }
}

/** Takes the alias's clear for `by` (what cleared it: backend action, alert id, user), or says who took it. */
export async function claimClear(state: ClearState, alias: string, by: string, nowMs: number): Promise<ClearClaim> {
    if (await takeClear(state, alias, by, nowMs)) return { first: true };
    const item = (await state.ddb.send(new GetCommand({ TableName: state.table, Key: { pk: ackStateKey(alias) }, ConsistentRead: true }))).Item;
    return { first: false, clearedBy: String(item?.clearedBy ?? "(unknown)"), clearedAt: String(item?.clearedAt ?? "(unknown)") };
}

/** Gives the clear back after the recoveries could not be queued; only this call's own claim is removed. */
export async function releaseClear(state: ClearState, alias: string, by: string): Promise<void> {
    try {
        await state.ddb.send(
            new UpdateCommand({
                TableName: state.table,
                Key: { pk: ackStateKey(alias) },
                UpdateExpression: "REMOVE clearedAt, clearedBy",
                ConditionExpression: "clearedBy = :by",
                ExpressionAttributeValues: { ":by": by },
            }),
        );
    } catch (error) {
        // Someone else's claim (a page reset it and another call took it): nothing of ours to release.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
}
