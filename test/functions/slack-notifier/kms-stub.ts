import { KMSClient } from "@aws-sdk/client-kms";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP server on 127.0.0.1 that speaks the part of KMS's JSON protocol (awsJson1_1) the
 * notifier uses: `X-Amz-Target: TrentService.Decrypt`. Like KMS it refuses a decrypt whose
 * encryption context differs from the one the ciphertext was made with. The "ciphertext" is an
 * opaque token the stub hands out; only the protocol is real.
 */

export interface KmsRequest {
    readonly target: string | undefined;
    readonly headers: IncomingHttpHeaders;
    readonly body: { CiphertextBlob?: string; EncryptionContext?: Record<string, string>; [key: string]: unknown };
}

export interface KmsStub {
    readonly endpoint: string;
    readonly requests: KmsRequest[];
    readonly keyId: string;
    /** Registers a secret and returns its base64 ciphertext, bound to `context` as KMS would bind it. */
    encrypt(plaintext: string, context: Record<string, string>): string;
    /** A real SDK client aimed at this stub, with fake credentials and no SDK-level retries. */
    client(): KMSClient;
    /** The next `count` decrypts fail with this KMS error type (e.g. "AccessDeniedException"). */
    failNext(count: number, errorType: string): void;
    close(): Promise<void>;
}

function sameContext(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
    const left = Object.entries(a ?? {}).sort();
    const right = Object.entries(b).sort();
    return JSON.stringify(left) === JSON.stringify(right);
}

export async function startKmsStub(): Promise<KmsStub> {
    const keyId = "arn:aws:kms:ap-northeast-1:123456789012:key/0d9d4a3c-1111-2222-3333-444455556666";
    const secrets = new Map<string, { plaintext: string; context: Record<string, string> }>();
    const requests: KmsRequest[] = [];
    let failures: { count: number; errorType: string } = { count: 0, errorType: "" };

    const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const target = req.headers["x-amz-target"] as string | undefined;
            let body: KmsRequest["body"] = {};
            try {
                body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
                // recorded as empty; the reply below says what was wrong
            }
            requests.push({ target, headers: req.headers, body });
            const reply = (status: number, payload: unknown) => {
                res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
                res.end(JSON.stringify(payload));
            };
            const error = (errorType: string, message: string) => reply(400, { __type: errorType, message });

            if (target !== "TrentService.Decrypt") return error("UnknownOperationException", `stub only implements TrentService.Decrypt, got ${target}`);
            if (failures.count > 0) {
                failures = { ...failures, count: failures.count - 1 };
                return error(failures.errorType, "injected failure");
            }
            const secret = secrets.get(body.CiphertextBlob ?? "");
            if (secret === undefined || !sameContext(body.EncryptionContext, secret.context)) {
                return error("InvalidCiphertextException", "");
            }
            reply(200, { KeyId: keyId, Plaintext: Buffer.from(secret.plaintext, "utf8").toString("base64"), EncryptionAlgorithm: "SYMMETRIC_DEFAULT" });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        requests,
        client: () =>
            new KMSClient({
                region: "ap-northeast-1",
                endpoint: `http://127.0.0.1:${port}`,
                credentials: { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local-test-secret" },
                maxAttempts: 1,
            }),
        keyId,
        encrypt: (plaintext, context) => {
            const ciphertext = Buffer.from(`stub-ciphertext:${secrets.size}:${Math.random()}`).toString("base64");
            secrets.set(ciphertext, { plaintext, context });
            return ciphertext;
        },
        failNext: (count, errorType) => {
            failures = { count, errorType };
        },
        close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
    };
}
