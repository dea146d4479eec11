import { createRequire } from "node:module";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * dynalite (a DynamoDB-compatible server from npm, in memory) on 127.0.0.1, reached through the real
 * SDK v3 clients. The table has the shared contract's shape: partition key `pk` (string) only.
 * TTL on `expiresAt` is asked for as the infrastructure does, but dynalite 4 has no UpdateTimeToLive
 * operation (it answers UnknownOperationException; only DescribeTimeToLive exists) and never expires
 * items, so tests check the attribute the items carry instead.
 */

export interface LocalDynamo {
    readonly endpoint: string;
    readonly client: DynamoDBClient;
    readonly documentClient: DynamoDBDocumentClient;
    /** Creates the table; resolves whether TTL could be enabled (false on dynalite). */
    createTable(name: string): Promise<{ ttlEnabled: boolean }>;
    close(): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamo> {
    // dynalite ships no typings; createRequire keeps it out of the type checker's way.
    const dynalite = createRequire(__filename)("dynalite") as (options: { createTableMs: number }) => Server;
    const server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new DynamoDBClient({
        region: "ap-northeast-1",
        endpoint,
        credentials: { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local-test-secret" },
        maxAttempts: 1,
    });
    return {
        endpoint,
        client,
        documentClient: DynamoDBDocumentClient.from(client),
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
            await new Promise<void>((resolve, reject) => server.close((err?: Error) => (err ? reject(err) : resolve())));
        },
    };
}
