import { afterEach, describe, expect, it } from "vitest";
import { signRequest } from "../../../functions/ack-webhook/auth";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { ACK_SECRET, startAckPeers, urlEvent, webhookBody, webhookFixture, type AckPeers } from "./ack-harness";

const NOW = Date.parse("2024-05-21T09:00:00.000Z");
const ALIAS = "zabbix:web-01.tokyo:cpu-load";

function tower(name: string, site: string): TowerConfig {
    return { name, site, host: "192.0.2.10", port: 10000, protocol: "pns", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] };
}
const TOWERS = [tower("tokyo-ops", "tokyo"), tower("osaka-phn", "osaka")];

let peers: AckPeers | undefined;
afterEach(async () => {
    await peers?.close();
    peers = undefined;
});

async function start(extra: Parameters<typeof startAckPeers>[1]["extra"] = {}, environment = "dev") {
    peers = await startAckPeers(() => TOWERS, { now: () => NOW, environment, extra });
    return peers;
}

const signed = (body: string, at = NOW) => urlEvent({ body, headers: { "x-alertline-signature": signRequest(ACK_SECRET, body, at) } });
const withToken = (body: string, token = ACK_SECRET) => urlEvent({ body, headers: { "x-alertline-token": token } });
const json = (response: { body: string }) => JSON.parse(response.body);

/** Everything the handler logged, as one string, to look for leaked values. */
const logText = (p: AckPeers) => JSON.stringify(p.logs);

describe("ack-webhook handler: clearing", () => {
    it("queues a recovery for the tagged tower on a signed Acknowledge and answers 202", async () => {
        const p = await start();
        const response = await p.call(signed(webhookFixture("acknowledge.json")));
        expect(response.statusCode).toBe(202);
        expect(response.headers).toMatchObject({ "content-type": "application/json" });
        expect(json(response)).toEqual({ cleared: ALIAS, towers: ["tokyo-ops"], unknownTowers: [] });
        expect(p.sqs.accepted).toHaveLength(1);
        expect(p.sqs.accepted[0].MessageGroupId).toBe("tokyo-ops");
        expect(JSON.parse(p.sqs.accepted[0].MessageBody)).toMatchObject({ version: 1, tower: "tokyo-ops", alertKey: ALIAS, severity: "recovery", from: "hanako.sato@example.co.jp" });
        expect(p.logs.find((l) => l.level === "info")).toMatchObject({ message: "Queued recoveries for the acknowledged alert", attributes: [{ alias: ALIAS, action: "Acknowledge", scheme: "signature", towers: ["tokyo-ops"] }] });
    });

    it("takes Opsgenie's custom token header, and a Close for two towers", async () => {
        const p = await start();
        const response = await p.call(withToken(webhookFixture("close.json")));
        expect(response.statusCode).toBe(202);
        expect(json(response)).toEqual({ cleared: "zabbix:db-02.osaka:disk-var", towers: ["tokyo-ops", "osaka-phn"], unknownTowers: [] });
        expect(p.sqs.accepted.map((m) => m.MessageGroupId)).toEqual(["tokyo-ops", "osaka-phn"]);
    });

    it("reads a base64-encoded body and checks the signature over the decoded bytes", async () => {
        const p = await start();
        const body = webhookBody("Acknowledge", "nagios:db-01/ディスク使用率");
        const event = urlEvent({ body, base64: true, headers: { "x-alertline-signature": signRequest(ACK_SECRET, body, NOW) } });
        const response = await p.call(event);
        expect(response.statusCode).toBe(202);
        expect(json(response).cleared).toBe("nagios:db-01/ディスク使用率");
    });

    it("sends to every tower when the alert has no tower tags", async () => {
        const p = await start();
        const response = await p.call(signed(webhookBody("Close", ALIAS, { tags: ["alertline", "alertline-dev"] })));
        expect(json(response)).toEqual({ cleared: ALIAS, towers: ["tokyo-ops", "osaka-phn"], unknownTowers: [] });
        expect(p.sqs.accepted).toHaveLength(2);
    });

    it("reports tower tags it does not know, in the answer and the log", async () => {
        const p = await start();
        const response = await p.call(signed(webhookBody("Acknowledge", ALIAS, { tags: ["alertline-dev", "tower:tokyo-ops", "tower:kyoto-gone"] })));
        expect(response.statusCode).toBe(202);
        expect(json(response)).toEqual({ cleared: ALIAS, towers: ["tokyo-ops"], unknownTowers: ["kyoto-gone"] });
        expect(p.logs.find((l) => l.level === "warn")).toMatchObject({ attributes: [{ unknownTowers: ["kyoto-gone"], alias: ALIAS }] });
    });
});

describe("ack-webhook handler: refusals", () => {
    it("answers 401 to a wrong token, logs who asked and why, and queues nothing", async () => {
        const p = await start();
        const forged = "not-the-secret-but-close-7Qm2VxR9";
        const response = await p.call(urlEvent({ body: webhookFixture("acknowledge.json"), headers: { "x-alertline-token": forged }, sourceIp: "198.51.100.7", userAgent: "curl/8.5.0" }));
        expect(response.statusCode).toBe(401);
        expect(json(response)).toEqual({ error: "unauthorized" });
        expect(p.sqs.batches).toHaveLength(0);
        expect(p.logs).toEqual([{ level: "warn", message: "Refused a request that failed authentication", attributes: [{ sourceIp: "198.51.100.7", userAgent: "curl/8.5.0", reason: "token does not match" }] }]);
        expect(logText(p)).not.toContain(forged);
        expect(logText(p)).not.toContain(ACK_SECRET);
        expect(response.body).not.toContain(ACK_SECRET);
    });

    it("answers 401 to a stale signature, naming its age in the log only", async () => {
        const p = await start();
        const response = await p.call(signed(webhookFixture("acknowledge.json"), NOW - 612_000));
        expect(response.statusCode).toBe(401);
        expect(response.body).toBe('{"error":"unauthorized"}');
        expect(p.logs[0].attributes[0]).toMatchObject({ reason: "signature timestamp 612 s old (limit 300)" });
    });

    it("answers 401 to a request with no credentials", async () => {
        const p = await start();
        const response = await p.call(urlEvent({ body: webhookFixture("acknowledge.json") }));
        expect(response.statusCode).toBe(401);
        expect(p.logs[0].attributes[0]).toMatchObject({ reason: "no x-alertline-token or x-alertline-signature header" });
    });

    it("answers 405 to anything but POST, before asking KMS", async () => {
        const p = await start();
        const response = await p.call(urlEvent({ method: "GET", headers: { "x-alertline-token": ACK_SECRET } }));
        expect(response.statusCode).toBe(405);
        expect(response.headers).toMatchObject({ allow: "POST" });
        expect(json(response).error).toMatch(/method GET is not allowed: POST/);
        expect(p.kms.requests).toHaveLength(0);
    });

    it("answers 413 to a body over 256 KB, before asking KMS or checking the signature", async () => {
        const p = await start();
        const body = webhookBody("Acknowledge", "x".repeat(256 * 1024));
        const response = await p.call(withToken(body));
        expect(response.statusCode).toBe(413);
        expect(json(response).error).toMatch(/^the body is \d+ bytes; the limit is 262144$/);
        expect(p.kms.requests).toHaveLength(0);
        expect(p.sqs.batches).toHaveLength(0);
    });

    it("answers 400 naming the problem when an authenticated body has no alias", async () => {
        const p = await start();
        const body = JSON.stringify({ ...JSON.parse(webhookFixture("acknowledge.json")), alert: { alertId: "a-1", username: "x@example.com" } });
        const response = await p.call(signed(body));
        expect(response.statusCode).toBe(400);
        expect(json(response).error).toMatch(/^alert\.alias is missing from the Acknowledge call/);
        expect(p.sqs.batches).toHaveLength(0);
    });

    it("answers 200 with the reason for an action that clears nothing", async () => {
        const p = await start();
        const response = await p.call(withToken(webhookFixture("addnote.json")));
        expect(response.statusCode).toBe(200);
        expect(json(response)).toEqual({ ignored: 'action "AddNote" does not clear towers (only Acknowledge and Close do)' });
        expect(p.sqs.batches).toHaveLength(0);
    });

    it("ignores an alert of another environment", async () => {
        const p = await start({}, "prod");
        const response = await p.call(withToken(webhookFixture("acknowledge.json")));
        expect(response.statusCode).toBe(200);
        expect(json(response).ignored).toBe("the alert belongs to alertline environment dev; this endpoint serves prod");
    });
});

describe("ack-webhook handler: failures", () => {
    it("answers 500 and logs when SQS fails, so the sender retries; the retry then goes through", async () => {
        const p = await start();
        p.sqs.failNext(1, "InternalFailure");
        const first = await p.call(withToken(webhookFixture("acknowledge.json")));
        expect(first.statusCode).toBe(500);
        expect(json(first)).toEqual({ error: "could not queue the recovery; retry later" });
        expect(p.logs.find((l) => l.level === "error")).toMatchObject({ message: "Could not queue the recoveries; the sender should retry", attributes: [{ alias: ALIAS }] });
        const retry = await p.call(withToken(webhookFixture("acknowledge.json")));
        expect(retry.statusCode).toBe(202);
        expect(p.sqs.accepted).toHaveLength(1);
    });

    it("answers 500 when the secret cannot be decrypted, without saying more to the caller", async () => {
        const p = await start();
        p.kms.failNext(1, "AccessDeniedException");
        const response = await p.call(withToken(webhookFixture("acknowledge.json")));
        expect(response.statusCode).toBe(500);
        expect(json(response)).toEqual({ error: "the endpoint is misconfigured; see the function's log" });
        expect(String((p.logs[0].attributes[0] as { error: string }).error)).toMatch(/Could not decrypt ACK_SECRET_CIPHERTEXT with KMS \(AccessDeniedException/);
        // A failed decrypt is not kept: the next call decrypts again and succeeds.
        expect((await p.call(withToken(webhookFixture("acknowledge.json")))).statusCode).toBe(202);
    });

    it("ignores the newline a hand-encrypted secret ends with", async () => {
        peers = await startAckPeers(() => TOWERS, { now: () => NOW, secretPlaintext: `${ACK_SECRET}\n` });
        expect((await peers.call(withToken(webhookFixture("acknowledge.json")))).statusCode).toBe(202);
    });

    it("decrypts the secret once for many calls", async () => {
        const p = await start();
        for (let i = 0; i < 3; i++) await p.call(withToken(webhookFixture("addnote.json")));
        expect(p.kms.requests).toHaveLength(1);
    });

    it("answers 500 naming SIGNAL_QUEUE_URL in the log when it is not set", async () => {
        const p = await start({ queueUrl: undefined });
        const response = await p.call(withToken(webhookFixture("acknowledge.json")));
        expect(response.statusCode).toBe(500);
        expect(p.logs.find((l) => l.level === "error")?.attributes[0]).toMatchObject({ error: expect.stringContaining("SIGNAL_QUEUE_URL is not set") });
    });

    it("answers 500 when towers.json cannot be read", async () => {
        const p = await start({
            towers: () => {
                throw new Error("Cannot read /var/task/towers.json (ENOENT)");
            },
        });
        const response = await p.call(withToken(webhookFixture("acknowledge.json")));
        expect(response.statusCode).toBe(500);
        expect(p.logs.find((l) => l.level === "error")?.attributes[0]).toMatchObject({ error: expect.stringContaining("towers.json") });
    });
});
