import { S3Client } from "@aws-sdk/client-s3";
import { createHash, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { close, listen, LOCAL_CREDENTIALS, LOCAL_REGION, readBody, xmlEscape } from "./http";

/**
 * A local S3 for mail-ingest: a node:http server on 127.0.0.1 speaking the REST protocol the SDK v3
 * client uses for GetObject (path-style `GET /<bucket>/<key>`, object bytes with ETag, XML errors
 * such as NoSuchKey). Objects are put in directly with {@link S3Stub.put}, as SES's S3 action
 * writes them; storage is in memory.
 */

export interface S3Request {
    readonly method: string;
    /** Decoded path: `/<bucket>/<key>`. */
    readonly path: string;
}

export interface S3Stub {
    readonly endpoint: string;
    /** Every request, in order. */
    readonly requests: S3Request[];
    /** Stores an object (what SES's S3 action does with a received mail). */
    put(bucket: string, key: string, body: Buffer): void;
    get(bucket: string, key: string): Buffer | undefined;
    /** Every request answers with this status and S3 error code until cleared with undefined. */
    failWith(failure: { status: number; code: string } | undefined): void;
    /** A client pointed here (path-style, one attempt); the caller destroys it. */
    client(): S3Client;
    close(): Promise<void>;
}

export async function startS3Stub(): Promise<S3Stub> {
    const objects = new Map<string, Buffer>();
    const requests: S3Request[] = [];
    let failure: { status: number; code: string } | undefined;
    const server = createServer(async (req, res) => {
        await readBody(req);
        const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
        requests.push({ method: req.method ?? "", path });
        const error = (status: number, code: string, message: string) => {
            res.writeHead(status, { "content-type": "application/xml", "x-amz-request-id": randomUUID() });
            res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Key>${xmlEscape(path)}</Key><RequestId>stub</RequestId></Error>`);
        };
        if (failure) return error(failure.status, failure.code, "injected failure");
        if (req.method !== "GET") return error(405, "MethodNotAllowed", "this local S3 only implements GetObject");
        const body = objects.get(path.replace(/^\//, ""));
        if (body === undefined) return error(404, "NoSuchKey", "The specified key does not exist.");
        res.writeHead(200, {
            "content-type": "application/octet-stream",
            "content-length": body.length,
            etag: `"${createHash("md5").update(body).digest("hex")}"`,
            "last-modified": new Date(0).toUTCString(),
        });
        res.end(body);
    });
    const endpoint = await listen(server);
    return {
        endpoint,
        requests,
        put: (bucket, key, body) => void objects.set(`${bucket}/${key}`, body),
        get: (bucket, key) => objects.get(`${bucket}/${key}`),
        failWith: (f) => {
            failure = f;
        },
        client: () => new S3Client({ region: LOCAL_REGION, endpoint, forcePathStyle: true, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 }),
        close: () => close(server),
    };
}
