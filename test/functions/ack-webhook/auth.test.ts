import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { authenticate, signRequest } from "../../../functions/ack-webhook/auth";

const SECRET = "s3cr3t-ack-0f9e8d7c6b5a4f3e2d1c";
const NOW = Date.parse("2024-05-21T09:00:00.000Z");
const BODY = '{"action":"Acknowledge","alert":{"alertId":"a-1","alias":"zabbix:web-01:cpu"}}';

/** The header written out independently of signRequest: t=<seconds>,v1=<hex HMAC of "<t>.<body>">. */
function signature(secret: string, seconds: number, body: string): string {
    return `t=${seconds},v1=${createHmac("sha256", secret).update(`${seconds}.${body}`).digest("hex")}`;
}

function refused(result: ReturnType<typeof authenticate>): string {
    if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
    return result.reason;
}

describe("authenticate with x-alertline-token", () => {
    it("accepts the shared secret", () => {
        expect(authenticate({ "x-alertline-token": SECRET }, BODY, SECRET, NOW)).toEqual({ ok: true, scheme: "token" });
    });

    it("refuses another token, without quoting either value", () => {
        const reason = refused(authenticate({ "x-alertline-token": "guess-0000" }, BODY, SECRET, NOW));
        expect(reason).toBe("token does not match");
    });

    it("refuses a token that is only a prefix of the secret", () => {
        expect(refused(authenticate({ "x-alertline-token": SECRET.slice(0, -1) }, BODY, SECRET, NOW))).toBe("token does not match");
    });

    it("refuses everything while the secret is empty, even an empty-looking token", () => {
        expect(refused(authenticate({ "x-alertline-token": "" }, BODY, "", NOW))).toMatch(/shared secret is empty.*ACK_SECRET_CIPHERTEXT/);
        expect(authenticate({ "x-alertline-token": " " }, BODY, "", NOW).ok).toBe(false);
    });
});

describe("authenticate with x-alertline-signature", () => {
    it("accepts a signature made with the secret over the exact body", () => {
        const header = signature(SECRET, NOW / 1000, BODY);
        expect(authenticate({ "x-alertline-signature": header }, BODY, SECRET, NOW)).toEqual({ ok: true, scheme: "signature" });
    });

    it("signRequest makes that same header", () => {
        expect(signRequest(SECRET, BODY, NOW + 999)).toBe(signature(SECRET, NOW / 1000, BODY));
    });

    it("refuses the signature when one byte of the body changed", () => {
        const header = signRequest(SECRET, BODY, NOW);
        const tampered = BODY.replace("zabbix:web-01:cpu", "zabbix:web-02:cpu");
        expect(refused(authenticate({ "x-alertline-signature": header }, tampered, SECRET, NOW))).toMatch(/^signature does not match the body/);
    });

    it("refuses a signature made with another secret", () => {
        const header = signRequest("another-secret-1234567890", BODY, NOW);
        expect(refused(authenticate({ "x-alertline-signature": header }, BODY, SECRET, NOW))).toMatch(/^signature does not match/);
    });

    it("refuses a replay older than 300 s and says how old it is", () => {
        const header = signRequest(SECRET, BODY, NOW - 612_000);
        expect(refused(authenticate({ "x-alertline-signature": header }, BODY, SECRET, NOW))).toBe("signature timestamp 612 s old (limit 300)");
    });

    it("takes a signature exactly 300 s old, and one 300 s ahead of the clock", () => {
        expect(authenticate({ "x-alertline-signature": signRequest(SECRET, BODY, NOW - 300_000) }, BODY, SECRET, NOW).ok).toBe(true);
        expect(authenticate({ "x-alertline-signature": signRequest(SECRET, BODY, NOW + 300_000) }, BODY, SECRET, NOW).ok).toBe(true);
    });

    it("refuses a timestamp from the future beyond the tolerance", () => {
        const header = signRequest(SECRET, BODY, NOW + 301_000);
        expect(refused(authenticate({ "x-alertline-signature": header }, BODY, SECRET, NOW))).toMatch(/^signature timestamp 301 s in the future \(limit 300\)/);
    });

    it("refuses a header that is not t=…,v1=… and shows the expected form, not the value", () => {
        const reason = refused(authenticate({ "x-alertline-signature": "sha256=abcdef0123" }, BODY, SECRET, NOW));
        expect(reason).toMatch(/x-alertline-signature is not of the form t=<unix seconds>,v1=/);
        expect(reason).not.toContain("abcdef0123");
    });

    it("accepts the recipe documented for curl (openssl dgst -hmac)", () => {
        const t = Math.floor(NOW / 1000);
        const out = execFileSync("openssl", ["dgst", "-sha256", "-hmac", SECRET, "-hex"], { input: `${t}.${BODY}` }).toString();
        const v1 = out.trim().replace(/^.*= /, "");
        expect(authenticate({ "x-alertline-signature": `t=${t},v1=${v1}` }, BODY, SECRET, NOW)).toEqual({ ok: true, scheme: "signature" });
    });
});

describe("authenticate without credentials, or with both", () => {
    it("names the headers it looks for", () => {
        expect(refused(authenticate({ "content-type": "application/json" }, BODY, SECRET, NOW))).toBe("no x-alertline-token or x-alertline-signature header");
        expect(refused(authenticate({ "x-alertline-token": "  " }, BODY, SECRET, NOW))).toBe("no x-alertline-token or x-alertline-signature header");
    });

    it("requires every credential that is present to hold", () => {
        const good = signRequest(SECRET, BODY, NOW);
        expect(authenticate({ "x-alertline-signature": good, "x-alertline-token": SECRET }, BODY, SECRET, NOW)).toEqual({ ok: true, scheme: "signature" });
        expect(refused(authenticate({ "x-alertline-signature": good, "x-alertline-token": "wrong" }, BODY, SECRET, NOW))).toBe("token does not match");
        expect(refused(authenticate({ "x-alertline-signature": signRequest(SECRET, "{}", NOW), "x-alertline-token": SECRET }, BODY, SECRET, NOW))).toMatch(/^signature does not match/);
    });

    it("never puts the secret or a presented value into a reason", () => {
        const reasons = [
            authenticate({ "x-alertline-token": `${SECRET}x` }, BODY, SECRET, NOW),
            authenticate({ "x-alertline-signature": signRequest(SECRET, BODY, NOW - 10_000_000) }, BODY, SECRET, NOW),
            authenticate({ "x-alertline-signature": `t=1,v1=${SECRET}` }, BODY, SECRET, NOW),
        ].map(refused);
        for (const reason of reasons) {
            expect(reason).not.toContain(SECRET);
            expect(reason).not.toMatch(/[0-9a-f]{64}/);
        }
    });
});
