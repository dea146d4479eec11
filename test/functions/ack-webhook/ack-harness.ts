import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHandler, type AckDeps, type AckLogger, type AckResponse } from "../../../functions/ack-webhook/handler";
import type { ClearEvent } from "../../../functions/ack-webhook/webhook-event";
import { createEnvSecretSource, functionEncryptionContext } from "../../../functions/shared/kms-env-secret";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { startSqsStub, type SqsStub } from "../../../tools/local/sqs";
import { lambdaContext } from "../lambda-runtime";
import { startKmsStub, type KmsStub } from "../slack-notifier/kms-stub";

/**
 * The ack-webhook handler wired to real local peers: the KMS stub holding the shared secret as
 * ciphertext (decrypted through createEnvSecretSource, as in Lambda), the local SQS FIFO queue, and a
 * logger that records every line.
 */

export const FUNCTION_NAME = "alertline-dev-mail-ack";
/** What the operator generated and Pulumi encrypted; tests check it never shows up in logs or answers. */
export const ACK_SECRET = "ack-shared-secret-7Qm2VxR9pL4sT8wZ";

export interface LogLine {
    readonly level: "info" | "warn" | "error";
    readonly message: string;
    readonly attributes: unknown[];
}

export interface AckPeers {
    readonly kms: KmsStub;
    readonly sqs: SqsStub;
    readonly logs: LogLine[];
    readonly handler: (event: LambdaFunctionURLEvent, context: Context) => Promise<AckResponse>;
    /** Invokes the handler with a fresh Lambda context. */
    call(event: LambdaFunctionURLEvent): Promise<AckResponse>;
    close(): Promise<void>;
}

export function recordingLogger(logs: LogLine[]): AckLogger {
    return {
        info: (message, ...attributes) => void logs.push({ level: "info", message, attributes }),
        warn: (message, ...attributes) => void logs.push({ level: "warn", message, attributes }),
        error: (message, ...attributes) => void logs.push({ level: "error", message, attributes }),
    };
}

export async function startAckPeers(towers: () => readonly TowerConfig[], options: { now: () => number; environment?: string; extra?: Partial<AckDeps>; secretPlaintext?: string }): Promise<AckPeers> {
    const kms = await startKmsStub();
    const sqs = await startSqsStub();
    const kmsClient = kms.client();
    const sqsClient = sqs.client();
    const env = { ACK_SECRET_CIPHERTEXT: kms.encrypt(options.secretPlaintext ?? ACK_SECRET, functionEncryptionContext(FUNCTION_NAME)), AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME };
    const logs: LogLine[] = [];
    const handler = createHandler({
        sqs: sqsClient,
        secret: createEnvSecretSource(kmsClient, "ACK_SECRET_CIPHERTEXT", "the acknowledgement webhook's shared secret", env),
        towers,
        queueUrl: sqs.queueUrl,
        environment: options.environment ?? "dev",
        logger: recordingLogger(logs),
        now: options.now,
        ...options.extra,
    });
    return {
        kms,
        sqs,
        logs,
        handler,
        call: (event) => handler(event, lambdaContext(FUNCTION_NAME)),
        async close() {
            kmsClient.destroy();
            sqsClient.destroy();
            await Promise.all([kms.close(), sqs.close()]);
        },
    };
}

export function webhookFixture(name: string): string {
    return readFileSync(join(__dirname, "../../fixtures/opsgenie-webhook", name), "utf8");
}

/**
 * What acknowledge.json says, written out by hand: parseWebhookEvent's test expects it, and the
 * recovery tests start from it.
 */
export const ACKNOWLEDGE_CLEAR: ClearEvent = {
    kind: "clear",
    action: "Acknowledge",
    alias: "zabbix:web-01.tokyo:cpu-load",
    alertId: "7b1c2e4a-5d6f-4a8b-9c0d-1e2f3a4b5c6d",
    user: "hanako.sato@example.co.jp",
    message: "PROBLEM: web-01.tokyo CPU load too high",
    towers: ["tokyo-ops"],
    // 1716282300123004567 ns is beyond a double's exact range; what JSON.parse makes of it
    updatedAt: "1716282300123004700",
};

/** An Opsgenie-style webhook body for `alias`, as in the acknowledge.json fixture with the alert's fields replaced. */
export function webhookBody(action: string, alias: string, overrides: { tags?: string[]; alertId?: string; updatedAt?: number; username?: string } = {}): string {
    const json = JSON.parse(webhookFixture("acknowledge.json"));
    json.action = action;
    json.alert.alias = alias;
    if (overrides.tags !== undefined) json.alert.tags = overrides.tags;
    if (overrides.alertId !== undefined) json.alert.alertId = overrides.alertId;
    if (overrides.updatedAt !== undefined) json.alert.updatedAt = overrides.updatedAt;
    if (overrides.username !== undefined) json.alert.username = overrides.username;
    return JSON.stringify(json);
}

/**
 * A Lambda function URL event (payload format 2.0) as Lambda builds it: header names lower case,
 * the body as a string, base64 when isBase64Encoded.
 */
export function urlEvent(options: { method?: string; body?: string; headers?: Record<string, string>; base64?: boolean; sourceIp?: string; userAgent?: string } = {}): LambdaFunctionURLEvent {
    const method = options.method ?? "POST";
    const userAgent = options.userAgent ?? "Opsgenie-Webhook/1.0";
    const body = options.body === undefined ? undefined : options.base64 ? Buffer.from(options.body, "utf8").toString("base64") : options.body;
    return {
        version: "2.0",
        routeKey: "$default",
        rawPath: "/",
        rawQueryString: "",
        headers: {
            host: "abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-northeast-1.on.aws",
            "user-agent": userAgent,
            "content-type": "application/json",
            "x-forwarded-for": options.sourceIp ?? "203.0.113.45",
            "x-forwarded-proto": "https",
            ...options.headers,
        },
        requestContext: {
            accountId: "anonymous",
            apiId: "abcdefghijklmnopqrstuvwxyz012345",
            domainName: "abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-northeast-1.on.aws",
            domainPrefix: "abcdefghijklmnopqrstuvwxyz012345",
            http: { method, path: "/", protocol: "HTTP/1.1", sourceIp: options.sourceIp ?? "203.0.113.45", userAgent },
            requestId: "b8a1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
            routeKey: "$default",
            stage: "$default",
            time: "21/May/2024:09:00:00 +0000",
            timeEpoch: Date.parse("2024-05-21T09:00:00.000Z"),
        },
        body,
        isBase64Encoded: options.base64 ?? false,
    };
}
