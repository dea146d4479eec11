import { SNSClient } from "@aws-sdk/client-sns";
import type { SNSEventRecord } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { close, listen, LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, readBody, xmlEscape } from "./http";

/**
 * A local SNS: a node:http server on 127.0.0.1 speaking the part of SNS's Query protocol the
 * functions use, a form-encoded POST with `Action=Publish`, answered with SNS's XML. Like SNS it
 * refuses a publish to a topic that does not exist or without a message.
 *
 * {@link SnsStub.onPublish} subscribes a handler to a topic the way a Lambda subscription works:
 * each message is delivered after the publish was answered, as one SNS event record, and a handler
 * that rejects is invoked again (Lambda's asynchronous invocation tries 3 times; the waits between
 * are shortened here).
 */

export interface SnsPublish {
    readonly topicArn: string;
    readonly messageId: string;
    readonly message: string;
    readonly subject: string | undefined;
    /** The message parsed as JSON, or undefined when it is not JSON. */
    readonly json: Record<string, unknown> | undefined;
}

export type SnsSubscriber = (record: SNSEventRecord) => Promise<unknown>;

export interface SnsSubscriptionOptions {
    /** Default the stub's first topic. */
    readonly topicArn?: string;
    /** Invocations per message, the first included. Default 3 (Lambda's asynchronous invocation). */
    readonly attempts?: number;
    /** Wait between attempts. Default 1000 ms (Lambda waits about a minute, then two). */
    readonly retryDelayMs?: number;
    /** Told about each failed attempt. */
    readonly onError?: (error: unknown, record: SNSEventRecord, attempt: number, willRetry: boolean) => void;
}

export interface SnsStub {
    readonly endpoint: string;
    /** The first topic; the alert channel unless told otherwise. */
    readonly topicArn: string;
    readonly topicArns: readonly string[];
    /** Every accepted publish, in order. */
    readonly messages: SnsPublish[];
    /** The next `count` publishes fail with this error code: InternalError (HTTP 500, the default) or a sender error (400). */
    failNext(count: number, code?: string): void;
    onPublish(subscriber: SnsSubscriber, options?: SnsSubscriptionOptions): void;
    /** Resolves when no delivery to a subscriber is running or waiting for a retry. */
    drain(): Promise<void>;
    /** Whether a delivery is running or waiting for a retry. */
    busy(): boolean;
    client(): SNSClient;
    close(): Promise<void>;
}

export const LOCAL_ALERT_TOPIC_ARN = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alertline-dev-alerts`;

/** The record SNS hands a subscribed Lambda function. */
export function snsEventRecord(publish: Pick<SnsPublish, "topicArn" | "messageId" | "message" | "subject">, timestamp: Date): SNSEventRecord {
    return {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: `${publish.topicArn}:${randomUUID()}`,
        Sns: {
            Type: "Notification",
            MessageId: publish.messageId,
            TopicArn: publish.topicArn,
            Subject: publish.subject ?? null,
            Message: publish.message,
            Timestamp: timestamp.toISOString(),
            SignatureVersion: "1",
            Signature: "LOCAL",
            SigningCertUrl: "http://127.0.0.1/local-sns-has-no-certificate.pem",
            UnsubscribeUrl: "http://127.0.0.1/local-sns-has-no-unsubscribe",
            MessageAttributes: {},
        },
    } as SNSEventRecord;
}

export async function startSnsStub(options: { topics?: readonly string[] } = {}): Promise<SnsStub> {
    const topicArns = options.topics && options.topics.length > 0 ? [...options.topics] : [LOCAL_ALERT_TOPIC_ARN];
    const messages: SnsPublish[] = [];
    const subscribers = new Map<string, { subscriber: SnsSubscriber; options: SnsSubscriptionOptions }[]>();
    const deliveries = new Set<Promise<void>>();
    let failures = { count: 0, code: "InternalError" };
    let closed = false;

    const deliver = async (publish: SnsPublish, target: { subscriber: SnsSubscriber; options: SnsSubscriptionOptions }): Promise<void> => {
        const record = snsEventRecord(publish, new Date());
        const attempts = target.options.attempts ?? 3;
        for (let attempt = 1; attempt <= attempts && !closed; attempt++) {
            try {
                await target.subscriber(record);
                return;
            } catch (error) {
                const willRetry = attempt < attempts && !closed;
                target.options.onError?.(error, record, attempt, willRetry);
                if (willRetry) await new Promise((resolve) => setTimeout(resolve, target.options.retryDelayMs ?? 1000));
            }
        }
    };

    const server = createServer(async (req, res) => {
        const form = new URLSearchParams((await readBody(req)).toString("utf8"));
        const requestId = randomUUID();
        const xml = (status: number, text: string) => {
            res.writeHead(status, { "content-type": "text/xml" });
            res.end(text);
        };
        const error = (status: number, type: string, code: string, message: string) =>
            xml(status, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
        if (req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded") !== true) return error(400, "Sender", "InvalidParameter", "expected a form-encoded Query request");
        if (form.get("Action") !== "Publish") return error(400, "Sender", "InvalidAction", `this local SNS only implements Publish, got ${form.get("Action")}`);
        const topicArn = form.get("TopicArn") ?? "";
        if (!topicArns.includes(topicArn)) return error(404, "Sender", "NotFound", "Topic does not exist");
        const message = form.get("Message");
        if (message === null || message === "") return error(400, "Sender", "InvalidParameter", "Invalid parameter: Empty message");
        if (failures.count > 0) {
            failures = { ...failures, count: failures.count - 1 };
            return failures.code === "InternalError" ? error(500, "Receiver", "InternalError", "injected failure") : error(400, "Sender", failures.code, "injected failure");
        }
        let json: Record<string, unknown> | undefined;
        try {
            json = JSON.parse(message);
        } catch {
            json = undefined;
        }
        const publish: SnsPublish = { topicArn, messageId: randomUUID(), message, subject: form.get("Subject") ?? undefined, json };
        messages.push(publish);
        xml(200, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${publish.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`);
        for (const target of subscribers.get(topicArn) ?? []) {
            const delivery = deliver(publish, target).finally(() => deliveries.delete(delivery));
            deliveries.add(delivery);
        }
    });
    const endpoint = await listen(server);
    return {
        endpoint,
        topicArn: topicArns[0],
        topicArns,
        messages,
        failNext: (count, code = "InternalError") => {
            failures = { count, code };
        },
        onPublish(subscriber, subscription = {}) {
            const topicArn = subscription.topicArn ?? topicArns[0];
            if (!topicArns.includes(topicArn)) throw new Error(`cannot subscribe to ${topicArn}: this local SNS has only ${topicArns.join(", ")}`);
            subscribers.set(topicArn, [...(subscribers.get(topicArn) ?? []), { subscriber, options: subscription }]);
        },
        async drain() {
            while (deliveries.size > 0) await Promise.all([...deliveries]);
        },
        busy: () => deliveries.size > 0,
        client: () => new SNSClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 }),
        async close() {
            closed = true;
            await Promise.all([...deliveries]);
            await close(server);
        },
    };
}
