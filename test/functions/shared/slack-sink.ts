import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { slackWebhookRefusal, type SlackRefusal } from "../../../tools/local/slack";

/**
 * A real HTTP server on 127.0.0.1 that answers like a Slack incoming webhook: plain-text bodies,
 * `ok` on success, `Retry-After` on 429. Tests script the answers in order; the last one repeats.
 * A request Slack would refuse (another path, a method other than POST, a body that is not JSON,
 * no text or blocks, blocks over Block Kit's limits: tools/local/slack.ts) gets
 * Slack's error instead of the scripted answer and is listed in `refused`, so the test that sent
 * it fails.
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

export interface RefusedRequest {
    readonly request: ReceivedRequest;
    readonly refusal: SlackRefusal;
}

export interface SlackSink {
    /** The webhook URL, with a secret-looking token path like Slack's. */
    readonly webhookUrl: string;
    readonly requests: ReceivedRequest[];
    /** The requests Slack would have refused, with the answer given and why. */
    readonly refused: RefusedRequest[];
    /** Replaces the scripted answers. */
    answer(...answers: SlackAnswer[]): void;
    close(): Promise<void>;
}

export const SLACK_OK: SlackAnswer = { status: 200, body: "ok" };

/** Starts a sink on an ephemeral port of 127.0.0.1; `refusalsExpected` for tests that send what Slack refuses on purpose. */
export async function startSlackSink(token = "T0ALERTLN/B0NOTIFIER/s3cr3tW3bh00kT0k3nXYZ", options: { refusalsExpected?: boolean } = {}): Promise<SlackSink> {
    const requests: ReceivedRequest[] = [];
    const refused: RefusedRequest[] = [];
    const webhookPath = `/services/${token}`;
    let script: SlackAnswer[] = [SLACK_OK];
    const server: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const request: ReceivedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
            requests.push(request);
            const refusal = slackWebhookRefusal({ method: request.method, path: request.path, contentType: req.headers["content-type"], body: request.body }, webhookPath);
            if (refusal) {
                refused.push({ request, refusal });
                res.writeHead(refusal.status, { "content-type": "text/html" });
                res.end(refusal.body);
                return;
            }
            const answer = script.length > 1 ? script.shift()! : script[0];
            res.writeHead(answer.status, { "content-type": "text/html", ...answer.headers });
            res.end(answer.body);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        webhookUrl: `http://127.0.0.1:${port}${webhookPath}`,
        requests,
        refused,
        answer: (...answers) => {
            script = answers;
        },
        // A refused request fails the test that closes the sink, whatever the code did with Slack's answer.
        close: () =>
            new Promise<void>((resolve, reject) =>
                server.close((err) => {
                    if (err) return reject(err);
                    if (refused.length > 0 && !options.refusalsExpected) {
                        return reject(new Error(`Slack would have refused ${refused.length} request(s): ${refused.map((r) => `${r.request.method} ${r.refusal.status} ${r.refusal.reason}`).join("; ")}`));
                    }
                    resolve();
                }),
            ),
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
