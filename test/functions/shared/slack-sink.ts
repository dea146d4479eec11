import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP server on 127.0.0.1 that answers like a Slack incoming webhook: plain-text bodies,
 * `ok` on success, `Retry-After` on 429. Tests script the answers in order; the last one repeats.
 */

export interface SlackAnswer {
    readonly status: number;
    readonly body: string;
    readonly headers?: Record<string, string>;
}

export interface ReceivedRequest {
    readonly method: string;
    readonly path: string;
    readonly headers: IncomingHttpHeaders;
    readonly body: string;
}

export interface SlackSink {
    /** The webhook URL, with a secret-looking token path like Slack's. */
    readonly webhookUrl: string;
    readonly requests: ReceivedRequest[];
    /** Replaces the scripted answers. */
    answer(...answers: SlackAnswer[]): void;
    close(): Promise<void>;
}

export const SLACK_OK: SlackAnswer = { status: 200, body: "ok" };

/** Starts a sink on an ephemeral port of 127.0.0.1. */
export async function startSlackSink(token = "T0ALERTLN/B0NOTIFIER/s3cr3tW3bh00kT0k3nXYZ"): Promise<SlackSink> {
    const requests: ReceivedRequest[] = [];
    let script: SlackAnswer[] = [SLACK_OK];
    const server: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
            const answer = script.length > 1 ? script.shift()! : script[0];
            res.writeHead(answer.status, { "content-type": "text/html", ...answer.headers });
            res.end(answer.body);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        webhookUrl: `http://127.0.0.1:${port}/services/${token}`,
        requests,
        answer: (...answers) => {
            script = answers;
        },
        close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
    };
}

/** A URL on 127.0.0.1 where nothing listens: a port that was just released. */
export async function closedPortUrl(): Promise<string> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}/services/T0/B0/closedPortSecretToken`;
}
