import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, type TranslateConfig } from "@aws-sdk/lib-dynamodb";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { close, listen, LOCAL_CREDENTIALS, LOCAL_REGION } from "./http";

/**
 * dynalite (a DynamoDB-compatible server from npm, in memory) on 127.0.0.1, reached through the real
 * SDK v3 clients. Tables have the shared contract's shape: partition key `pk` (string) only. TTL on
 * `expiresAt` is asked for as the infrastructure does, but dynalite 4 has no UpdateTimeToLive
 * operation (it answers UnknownOperationException; only DescribeTimeToLive exists) and never expires
 * items, so tests check the attribute the items carry instead.
 */

export interface LocalDynamo {
    readonly endpoint: string;
    readonly client: DynamoDBClient;
    /** A document client with the SDK's default translation (what tower-dispatch uses). */
    readonly documentClient: DynamoDBDocumentClient;
    /** A document client with other translation options, e.g. mail-ingest's `removeUndefinedValues`. */
    documentClientWith(translate: TranslateConfig): DynamoDBDocumentClient;
    /** Creates a state table; resolves whether TTL could be enabled (false on dynalite). */
    createTable(name: string): Promise<{ ttlEnabled: boolean }>;
    close(): Promise<void>;
}

/** The state table the functions share, created in a fresh dynalite. */
export interface LocalStateTable extends LocalDynamo {
    readonly table: string;
}

/** The document client options mail-ingest's handler builds its client with. */
export const MAIL_INGEST_TRANSLATION: TranslateConfig = { marshallOptions: { removeUndefinedValues: true } };

export async function startDynalite(): Promise<LocalDynamo> {
    // dynalite ships no typings; createRequire keeps it out of the type checker's way.
    const dynalite = createRequire(__filename)("dynalite") as (options: { createTableMs: number }) => Server;
    const server = dynalite({ createTableMs: 0 });
    const endpoint = await listen(server);
    const client = new DynamoDBClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    return {
        endpoint,
        client,
        documentClient: DynamoDBDocumentClient.from(client),
        documentClientWith: (translate) => DynamoDBDocumentClient.from(client, translate),
        createTable: async (name) => {
            await client.send(
                new CreateTableCommand({
                    TableName: name,
                    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
                    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
                    BillingMode: "PAY_PER_REQUEST",
                }),
            );
            try {
                await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true } }));
                return { ttlEnabled: true };
            } catch (error) {
                if ((error as Error).name !== "UnknownOperationException") throw error;
                return { ttlEnabled: false };
            }
        },
        close: async () => {
            client.destroy();
            await close(server);
        },
    };
}

/** dynalite with the state table already created. */
export async function startStateTable(table = "alertline-dev-state"): Promise<LocalStateTable> {
    const dynamo = await startDynalite();
    try {
        await dynamo.createTable(table);
    } catch (error) {
        await dynamo.close();
        throw error;
    }
    return { ...dynamo, table };
}
