import { SESv2Client } from "@aws-sdk/client-sesv2";
import { simpleParser } from "mailparser";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createHandler, sesSender, type CanaryLogger, type SendRawMail } from "../../../functions/mail-canary/handler";
import { close, listen, LOCAL_CREDENTIALS, LOCAL_REGION, readBody } from "../../../tools/local/http";
import { lambdaContext } from "../lambda-runtime";

const NOW = Date.UTC(2024, 4, 21, 9, 45, 27, 512);
const ENV = { CANARY_FROM: "alertline-canary@alerts-dev.example.jp", CANARY_TO: "patlite@alerts-dev.example.jp", ALERTLINE_ENVIRONMENT: "dev" };
/** What an EventBridge rule with a schedule expression hands its target; the handler ignores it. */
const SCHEDULED_EVENT = { version: "0", id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event", source: "aws.events", time: "2024-05-21T09:45:00Z", resources: [], detail: {} };

interface LogLine {
    level: "info" | "error";
    message: string;
    attributes: Record<string, unknown>;
}

function recordingLogger(): { logger: CanaryLogger; lines: LogLine[] } {
    const lines: LogLine[] = [];
    return {
        lines,
        logger: {
            info: (message, ...attributes) => void lines.push({ level: "info", message, attributes: Object.assign({}, ...attributes) }),
            error: (message, ...attributes) => void lines.push({ level: "error", message, attributes: Object.assign({}, ...attributes) }),
        },
    };
}

function recordingSend(messageId = "0106018f9a3c5d1e-sesmessageid-000000"): { send: SendRawMail; sent: { raw: Buffer; from: string; to: string }[] } {
    const sent: { raw: Buffer; from: string; to: string }[] = [];
    return { sent, send: async (raw, from, to) => (sent.push({ raw, from, to }), messageId) };
}

describe("mail-canary handler", () => {
    it("sends one canary from CANARY_FROM to CANARY_TO and logs its id with SES's message id", async () => {
        const { send, sent } = recordingSend();
        const { logger, lines } = recordingLogger();
        const handler = createHandler({ send, logger, env: ENV, now: () => NOW });

        const result = await handler(SCHEDULED_EVENT, lambdaContext("alertline-dev-mail-canary"));

        expect(sent).toHaveLength(1);
        expect(sent[0]).toMatchObject({ from: ENV.CANARY_FROM, to: ENV.CANARY_TO });
        expect(result.canaryId).toMatch(/^canary-dev-20240521T094527Z-[0-9a-f]{6}$/);
        expect(result.messageId).toBe("0106018f9a3c5d1e-sesmessageid-000000");
        const parsed = await simpleParser(sent[0].raw);
        expect(parsed.headers.get("x-alertline-canary")).toBe(result.canaryId);
        expect(parsed.subject).toBe("alertline canary dev 2024-05-21T09:45:27.512Z");
        expect(lines).toEqual([{ level: "info", message: "Canary sent", attributes: expect.objectContaining({ canaryId: result.canaryId, messageId: result.messageId }) }]);
    });

    it("gives each canary a new id", async () => {
        const { send, sent } = recordingSend();
        const handler = createHandler({ send, logger: recordingLogger().logger, env: ENV, now: () => NOW });
        const first = await handler(SCHEDULED_EVENT);
        const second = await handler(SCHEDULED_EVENT);
        expect(first.canaryId).not.toBe(second.canaryId);
        expect(sent).toHaveLength(2);
    });

    it("uses the id it is given", async () => {
        const { send, sent } = recordingSend();
        const handler = createHandler({ send, logger: recordingLogger().logger, env: ENV, now: () => NOW, newId: (environment, nowMs) => `canary-${environment}-${nowMs}` });
        expect((await handler(SCHEDULED_EVENT)).canaryId).toBe(`canary-dev-${NOW}`);
        expect(sent[0].raw.toString("latin1")).toContain(`\r\nX-Alertline-Canary: canary-dev-${NOW}\r\n`);
    });

    it("logs a failed send with the canary id and throws the same error", async () => {
        const { logger, lines } = recordingLogger();
        const failure = Object.assign(new Error("Email address is not verified."), { name: "MessageRejected" });
        const handler = createHandler({ send: async () => Promise.reject(failure), logger, env: ENV, now: () => NOW, newId: () => "canary-dev-fixed" });

        await expect(handler(SCHEDULED_EVENT)).rejects.toBe(failure);
        expect(lines).toHaveLength(1);
        expect(lines[0].level).toBe("error");
        expect(lines[0].attributes).toMatchObject({ canaryId: "canary-dev-fixed", error: "MessageRejected: Email address is not verified." });
    });

    it.each(["CANARY_FROM", "CANARY_TO", "ALERTLINE_ENVIRONMENT"])("refuses to run without %s, naming it, and sends nothing", async (variable) => {
        const { send, sent } = recordingSend();
        const { logger, lines } = recordingLogger();
        const handler = createHandler({ send, logger, env: { ...ENV, [variable]: " " }, now: () => NOW });

        await expect(handler(SCHEDULED_EVENT)).rejects.toThrow(new RegExp(`^${variable} is not set: set it to`));
        expect(sent).toHaveLength(0);
        expect(lines[0]).toMatchObject({ level: "error", attributes: { error: expect.stringContaining(variable) } });
    });

    it("refuses an unusable address or environment before sending", async () => {
        const { send, sent } = recordingSend();
        const run = (env: Record<string, string>) => createHandler({ send, logger: recordingLogger().logger, env, now: () => NOW })(SCHEDULED_EVENT);
        await expect(run({ ...ENV, CANARY_FROM: "alertline-canary" })).rejects.toThrow(/^CANARY_FROM is not a mail address/);
        await expect(run({ ...ENV, ALERTLINE_ENVIRONMENT: "dev stack" })).rejects.toThrow(/^ALERTLINE_ENVIRONMENT must be letters, digits/);
        expect(sent).toHaveLength(0);
    });
});

/** A local SES v2 endpoint: records SendEmail requests and answers as scripted (REST-JSON, as the SDK expects). */
async function startSesOutboundStub(answer: { status: number; headers?: Record<string, string>; body: unknown }) {
    const requests: { method: string; path: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
    const server = createServer(async (req, res) => {
        requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: JSON.parse((await readBody(req)).toString("utf8")) });
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        res.end(JSON.stringify(answer.body));
    });
    const endpoint = await listen(server);
    const client = new SESv2Client({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    return { requests, client, close: async () => (client.destroy(), close(server)) };
}

describe("mail-canary's SES send", () => {
    const stubs: { close(): Promise<unknown> }[] = [];
    afterEach(async () => void (await Promise.all(stubs.splice(0).map((stub) => stub.close()))));

    it("calls SendEmail with the raw canary, its sender and its one recipient, and returns SES's MessageId", async () => {
        const ses = await startSesOutboundStub({ status: 200, body: { MessageId: "0106018f9a3c5d1e-5a5c1e2b-canary-000000" } });
        stubs.push(ses);
        const handler = createHandler({ send: sesSender(ses.client), logger: recordingLogger().logger, env: ENV, now: () => NOW });

        const result = await handler(SCHEDULED_EVENT);

        expect(result.messageId).toBe("0106018f9a3c5d1e-5a5c1e2b-canary-000000");
        expect(ses.requests).toHaveLength(1);
        const { method, path, body } = ses.requests[0];
        expect([method, path]).toEqual(["POST", "/v2/email/outbound-emails"]);
        expect(body).toMatchObject({ FromEmailAddress: ENV.CANARY_FROM, Destination: { ToAddresses: [ENV.CANARY_TO] } });
        const raw = Buffer.from((body.Content as { Raw: { Data: string } }).Raw.Data, "base64");
        expect(raw.toString("latin1")).toContain(`\r\nX-Alertline-Canary: ${result.canaryId}\r\n`);
        expect(raw.toString("latin1")).toMatch(/^From: alertline-canary@alerts-dev\.example\.jp\r\n/);
    });

    it("throws SES's refusal after logging it", async () => {
        const ses = await startSesOutboundStub({ status: 400, headers: { "x-amzn-errortype": "MessageRejected" }, body: { message: "Email address is not verified. The following identities failed the check in region AP-NORTHEAST-1: alertline-canary@alerts-dev.example.jp" } });
        stubs.push(ses);
        const { logger, lines } = recordingLogger();
        const handler = createHandler({ send: sesSender(ses.client), logger, env: ENV, now: () => NOW });

        await expect(handler(SCHEDULED_EVENT)).rejects.toMatchObject({ name: "MessageRejected" });
        expect(lines.map((l) => l.level)).toEqual(["error"]);
        expect(String(lines[0].attributes.error)).toContain("MessageRejected: Email address is not verified");
    });
});
