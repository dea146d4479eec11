import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SNSClient } from "@aws-sdk/client-sns";

/**
 * A real HTTP server on 127.0.0.1 that speaks the part of SNS's Query protocol the functions use:
 * a form-encoded POST with `Action=Publish`, answered with SNS's XML. Like SNS it refuses a publish
 * to another topic or without a message. Tests read what was published from `messages`.
 */

export interface SnsPublish {
    readonly topicArn: string;
    readonly message: string;
    /** The message parsed as JSON, or undefined when it is not JSON. */
    readonly json: Record<string, unknown> | undefined;
}

export interface SnsStub {
    readonly endpoint: string;
    readonly topicArn: string;
    readonly messages: SnsPublish[];
    /** The next `count` publishes fail with SNS's InternalError (HTTP 500). */
    failNext(count: number): void;
    client(): SNSClient;
    close(): Promise<void>;
}

const xmlEscape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export async function startSnsStub(topicArn = "arn:aws:sns:ap-northeast-1:123456789012:alertline-dev-alerts"): Promise<SnsStub> {
    const messages: SnsPublish[] = [];
    let failures = 0;
    const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
            const requestId = randomUUID();
            const error = (status: number, type: string, code: string, message: string) => {
                res.writeHead(status, { "content-type": "text/xml" });
                res.end(
                    `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
                );
            };
            if (req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded") !== true) return error(400, "Sender", "InvalidParameter", "expected a form-encoded Query request");
            if (form.get("Action") !== "Publish") return error(400, "Sender", "InvalidAction", `stub only implements Publish, got ${form.get("Action")}`);
            if (form.get("TopicArn") !== topicArn) return error(404, "Sender", "NotFound", "Topic does not exist");
            const message = form.get("Message");
            if (message === null || message === "") return error(400, "Sender", "InvalidParameter", "Invalid parameter: Empty message");
            if (failures > 0) {
                failures--;
                return error(500, "Receiver", "InternalError", "injected failure");
            }
            let json: Record<string, unknown> | undefined;
            try {
                json = JSON.parse(message);
            } catch {
                json = undefined;
            }
            messages.push({ topicArn, message, json });
            res.writeHead(200, { "content-type": "text/xml" });
            res.end(
                `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
            );
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const endpoint = `http://127.0.0.1:${port}`;
    return {
        endpoint,
        topicArn,
        messages,
        failNext: (count) => {
            failures = count;
        },
        client: () =>
            new SNSClient({
                region: "ap-northeast-1",
                endpoint,
                credentials: { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local-test-secret" },
                maxAttempts: 1,
            }),
        close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
    };
}
