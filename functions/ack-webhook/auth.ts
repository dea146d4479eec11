import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Who may call the acknowledgement endpoint. The function URL is public (authType NONE), so the
 * function itself checks one of two headers against a shared secret:
 *
 * - `x-alertline-token: <secret>`: what Opsgenie's and JSM's outgoing webhooks can send (a fixed
 *   custom header; they cannot sign). Anyone who sees one request can replay it, so the secret must
 *   only travel over HTTPS, which function URLs enforce.
 * - `x-alertline-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`: for
 *   senders that can sign (scripts, a relay). It proves the body was not changed and limits replay to
 *   {@link SIGNATURE_TOLERANCE_SECONDS} either side of the sender's clock.
 *
 * Every header that is present must verify. Reasons name what is wrong, never a header's value.
 *
 * Signing by hand (what {@link signRequest} computes), e.g. to clear a tower from a terminal:
 *
 *     body='{"action":"Acknowledge","alert":{"alertId":"manual-1","alias":"<alias>","username":"me@example.com","tags":["tower:tokyo-ops"]}}'
 *     t=$(date +%s)
 *     v1=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$ALERTLINE_ACK_SECRET" -hex | sed 's/^.*= //')
 *     curl -sS -X POST "$ACK_URL" -H 'content-type: application/json' -H "x-alertline-signature: t=$t,v1=$v1" --data-binary "$body"
 */

export const TOKEN_HEADER = "x-alertline-token";
export const SIGNATURE_HEADER = "x-alertline-signature";
/** How far a signature's timestamp may be from the receiver's clock, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type AuthResult = { readonly ok: true; readonly scheme: "token" | "signature" } | { readonly ok: false; readonly reason: string };

/** `t=<unix seconds>,v1=<hex>` for `rawBody`, signed at `nowMs`. */
export function signRequest(secret: string, rawBody: string, nowMs: number): string {
    const t = Math.floor(nowMs / 1000);
    return `t=${t},v1=${hmacHex(secret, t, rawBody)}`;
}

function hmacHex(secret: string, t: number, rawBody: string): string {
    return createHmac("sha256", secret).update(`${t}.${rawBody}`, "utf8").digest("hex");
}

/**
 * Equal in time independent of where the strings differ and of their lengths: both sides are hashed
 * to 32 bytes first, so neither the content nor the length of the secret leaks through timing.
 */
function constantTimeEqual(a: string, b: string): boolean {
    const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
    return timingSafeEqual(digest(a), digest(b));
}

function present(value: string | undefined): value is string {
    return value !== undefined && value.trim() !== "";
}

function checkToken(token: string, secret: string): AuthResult {
    return constantTimeEqual(token.trim(), secret) ? { ok: true, scheme: "token" } : { ok: false, reason: "token does not match" };
}

function checkSignature(header: string, rawBody: string, secret: string, nowMs: number): AuthResult {
    let t: string | undefined;
    const signatures: string[] = [];
    for (const part of header.split(",")) {
        const [key, ...rest] = part.trim().split("=");
        const value = rest.join("=").trim();
        if (key === "t") t = value;
        else if (key === "v1") signatures.push(value.toLowerCase());
    }
    if (t === undefined || !/^\d{1,12}$/.test(t) || signatures.length === 0) {
        return { ok: false, reason: `${SIGNATURE_HEADER} is not of the form t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` };
    }
    const seconds = Number(t);
    const age = Math.floor(nowMs / 1000) - seconds;
    if (age > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: `signature timestamp ${age} s old (limit ${SIGNATURE_TOLERANCE_SECONDS})` };
    if (-age > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: `signature timestamp ${-age} s in the future (limit ${SIGNATURE_TOLERANCE_SECONDS}); check the sender's clock` };
    const expected = hmacHex(secret, seconds, rawBody);
    // Every v1 is compared, so the time taken does not say which one (if any) was right.
    const matches = signatures.map((candidate) => constantTimeEqual(candidate, expected));
    return matches.includes(true) ? { ok: true, scheme: "signature" } : { ok: false, reason: "signature does not match the body (signed with another secret, or the body was changed)" };
}

/**
 * Checks a request against the shared secret. `headers` have lower-case names, as function URLs
 * deliver them; `rawBody` is the body exactly as received (after base64 decoding).
 */
export function authenticate(headers: Record<string, string | undefined>, rawBody: string, secret: string, nowMs: number): AuthResult {
    // An empty secret would make an empty token header valid.
    if (secret === "") return { ok: false, reason: "the endpoint's shared secret is empty; set ACK_SECRET_CIPHERTEXT to the KMS ciphertext of a long random string" };
    const token = headers[TOKEN_HEADER];
    const signature = headers[SIGNATURE_HEADER];
    if (!present(token) && !present(signature)) return { ok: false, reason: `no ${TOKEN_HEADER} or ${SIGNATURE_HEADER} header` };
    let result: AuthResult | undefined;
    if (present(signature)) {
        result = checkSignature(signature, rawBody, secret, nowMs);
        if (!result.ok) return result;
    }
    if (present(token)) {
        const tokenResult = checkToken(token, secret);
        if (!tokenResult.ok) return tokenResult;
        result ??= tokenResult;
    }
    return result!;
}
