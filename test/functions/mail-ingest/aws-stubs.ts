import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Real local peers for mail-ingest's AWS calls, each a node:http server on 127.0.0.1 speaking the
 * wire protocol the SDK v3 client uses: S3 REST (path-style GetObject, XML errors), SQS's JSON
 * protocol (awsJson1_0, `X-Amz-Target: AmazonSQS.SendMessageBatch`, MD5 of each body checked by the
 * client), SNS's Query protocol (form-encoded `Action=Publish`, XML reply), plus dynalite for
 * DynamoDB. Only the protocols are real; storage is in memory.
 */

const REGION = "ap-northeast-1";
const CREDENTIALS = { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local-test-secret" };

async function listen(server: Server): Promise<string> {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
    server.closeAllConnections?.();
    return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}

function xmlEscape(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// ---- S3 ---------------------------------------------------------------------------------------------

export interface S3Stub {
    readonly endpoint: string;
    readonly requests: { method: string; path: string }[];
    put(bucket: string, key: string, body: Buffer): void;
    /** Every request answers with this status and S3 error code until cleared with undefined. */
    failWith(failure: { status: number; code: string } | undefined): void;
    client(): S3Client;
    close(): Promise<void>;
}

export async function startS3Stub(): Promise<S3Stub> {
    const objects = new Map<string, Buffer>();
    const requests: { method: string; path: string }[] = [];
    let failure: { status: number; code: string } | undefined;
    const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
        await readBody(req);
        const url = new URL(req.url ?? "/", "http://localhost");
        const path = decodeURIComponent(url.pathname);
        requests.push({ method: req.method ?? "", path });
        const error = (status: number, code: string, message: string) => {
            res.writeHead(status, { "content-type": "application/xml", "x-amz-request-id": randomUUID() });
            res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Key>${xmlEscape(path)}</Key><RequestId>stub</RequestId></Error>`);
        };
        if (failure) return error(failure.status, failure.code, "injected failure");
        if (req.method !== "GET") return error(405, "MethodNotAllowed", "stub only implements GetObject");
        const body = objects.get(path.replace(/^\//, ""));
        if (body === undefined) return error(404, "NoSuchKey", "The specified key does not exist.");
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length, etag: `"${createHash("md5").update(body).digest("hex")}"`, "last-modified": new Date(0).toUTCString() });
        res.end(body);
    });
    const endpoint = await listen(server);
    return {
        endpoint,
        requests,
        put: (bucket, key, body) => void objects.set(`${bucket}/${key}`, body),
        failWith: (f) => {
            failure = f;
        },
        client: () => new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials: CREDENTIALS, maxAttempts: 1 }),
        close: () => close(server),
    };
}

// ---- SQS (JSON protocol) -------------------------------------------------------------------------

export interface SqsEntry {
    readonly Id: string;
    readonly MessageBody: string;
    readonly MessageGroupId?: string;
    readonly MessageDeduplicationId?: string;
}

export interface SqsStub {
    readonly endpoint: string;
    readonly queueUrl: string;
    /** Every SendMessageBatch call, in order. */
    readonly batches: { target: string | undefined; queueUrl: string; entries: SqsEntry[] }[];
    /** What a FIFO queue holds: entries after deduplication on MessageDeduplicationId. */
    readonly queue: SqsEntry[];
    /** The next `count` calls fail with this error type (HTTP 400, or 500 for InternalFailure). */
    failNext(count: number, errorType: string): void;
    client(): SQSClient;
    close(): Promise<void>;
}

export async function startSqsStub(): Promise<SqsStub> {
    const batches: SqsStub["batches"] = [];
    const queue: SqsEntry[] = [];
    const seenDedup = new Set<string>();
    let failures = { count: 0, errorType: "" };
    const server = createServer(async (req, res) => {
        const body = await readBody(req);
        const target = req.headers["x-amz-target"] as string | undefined;
        const reply = (status: number, payload: unknown) => {
            res.writeHead(status, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": randomUUID() });
            res.end(JSON.stringify(payload));
        };
        if (failures.count > 0) {
            failures = { ...failures, count: failures.count - 1 };
            return reply(failures.errorType === "InternalFailure" ? 500 : 400, { __type: `com.amazonaws.sqs#${failures.errorType}`, message: "injected failure" });
        }
        if (target !== "AmazonSQS.SendMessageBatch") return reply(400, { __type: "com.amazonaws.sqs#InvalidAction", message: `stub only implements SendMessageBatch, got ${target}` });
        const input = JSON.parse(body.toString("utf8")) as { QueueUrl: string; Entries: SqsEntry[] };
        batches.push({ target, queueUrl: input.QueueUrl, entries: input.Entries });
        if (input.Entries.length > 10) return reply(400, { __type: "com.amazonaws.sqs#TooManyEntriesInBatchRequest", message: "Maximum number of entries per request are 10." });
        const Successful = input.Entries.map((entry) => {
            const dedup = entry.MessageDeduplicationId ?? "";
            if (!seenDedup.has(dedup)) {
                seenDedup.add(dedup);
                queue.push(entry);
            }
            return { Id: entry.Id, MessageId: randomUUID(), MD5OfMessageBody: createHash("md5").update(entry.MessageBody, "utf8").digest("hex"), SequenceNumber: String(10_000_000 + queue.length) };
        });
        reply(200, { Successful, Failed: [] });
    });
    const endpoint = await listen(server);
    return {
        endpoint,
        queueUrl: `${endpoint}/123456789012/alertline-dev-signals.fifo`,
        batches,
        queue,
        failNext: (count, errorType) => {
            failures = { count, errorType };
        },
        client: () => new SQSClient({ region: REGION, endpoint, credentials: CREDENTIALS, maxAttempts: 1 }),
        close: () => close(server),
    };
}

// ---- SNS (Query protocol) ------------------------------------------------------------------------

export interface SnsStub {
    readonly endpoint: string;
    readonly topicArn: string;
    /** Published messages, parsed from the form body. */
    readonly published: { action: string | null; topicArn: string | null; message: string }[];
    failNext(count: number, code: string): void;
    client(): SNSClient;
    close(): Promise<void>;
}

export async function startSnsStub(): Promise<SnsStub> {
    const published: SnsStub["published"] = [];
    let failures = { count: 0, code: "" };
    const server = createServer(async (req, res) => {
        const form = new URLSearchParams((await readBody(req)).toString("utf8"));
        const xml = (status: number, text: string) => {
            res.writeHead(status, { "content-type": "text/xml" });
            res.end(text);
        };
        const error = (status: number, code: string, message: string) =>
            xml(status, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
        if (failures.count > 0) {
            failures = { ...failures, count: failures.count - 1 };
            return error(failures.code === "InternalError" ? 500 : 400, failures.code, "injected failure");
        }
        if (form.get("Action") !== "Publish") return error(400, "InvalidAction", `stub only implements Publish, got ${form.get("Action")}`);
        published.push({ action: form.get("Action"), topicArn: form.get("TopicArn"), message: form.get("Message") ?? "" });
        xml(200, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`);
    });
    const endpoint = await listen(server);
    return {
        endpoint,
        topicArn: "arn:aws:sns:ap-northeast-1:123456789012:alertline-dev-alerts",
        published,
        failNext: (count, code) => {
            failures = { count, code };
        },
        client: () => new SNSClient({ region: REGION, endpoint, credentials: CREDENTIALS, maxAttempts: 1 }),
        close: () => close(server),
    };
}

// ---- DynamoDB (dynalite) -------------------------------------------------------------------------

export interface DynamoStub {
    readonly endpoint: string;
    readonly table: string;
    readonly raw: DynamoDBClient;
    readonly doc: DynamoDBDocumentClient;
    close(): Promise<void>;
}

/** dynalite on 127.0.0.1 with the shared state table (`pk` string key; TTL on `expiresAt` in AWS). */
export async function startDynamo(table = "alertline-dev-state"): Promise<DynamoStub> {
    const dynalite = require("dynalite") as (options: { createTableMs: number }) => Server;
    const server = dynalite({ createTableMs: 0 });
    const endpoint = await listen(server);
    const raw = new DynamoDBClient({ region: REGION, endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    await raw.send(
        new CreateTableCommand({
            TableName: table,
            AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
            KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
            BillingMode: "PAY_PER_REQUEST",
        }),
    );
    // dynalite has no UpdateTimeToLive; the tests check the expiresAt attribute the TTL would use.
    const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
    return {
        endpoint,
        table,
        raw,
        doc,
        close: async () => {
            raw.destroy();
            await close(server);
        },
    };
}
