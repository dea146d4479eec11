import { S3Client } from "@aws-sdk/client-s3";
import { createHash, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { close, listen, LOCAL_CREDENTIALS, LOCAL_REGION, readBody, xmlEscape } from "./http";

/**
 * A local S3 for mail-ingest: a node:http server on 127.0.0.1 speaking the REST protocol the SDK v3
 * client uses for GetObject (path-style `GET /<bucket>/<key>`, object bytes with ETag, XML errors
 * such as NoSuchKey) and ListObjectsV2 (`GET /<bucket>?list-type=2&prefix=…`). Objects are put in
 * directly with {@link S3Stub.put}, as SES's S3 action writes them; storage is in memory.
 *
 * What the caller may list ({@link S3Stub.grantList}) decides, as in S3, how a GetObject of a
 * missing key answers: with s3:ListBucket on the bucket, 404 NoSuchKey; without it, 403
 * AccessDenied (S3 API reference, GetObject, "Permissions"). With a ListBucket grant limited to a
 * prefix (an `s3:prefix` condition) the stub answers the missing key with 403, and lists only
 * under that prefix: whether S3 counts such a grant for the 404 is not documented (unconfirmed),
 * so the stub takes the answer that demands more of the code.
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
    /**
     * What the caller may list: "bucket" (s3:ListBucket unconditioned; the default), a prefix
     * (s3:ListBucket with `StringLike s3:prefix <prefix>*`), or "none" (GetObject only).
     */
    grantList(grant: "bucket" | "none" | { readonly prefix: string }): void;
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
    let listGrant: "bucket" | "none" | { readonly prefix: string } = "bucket";
    const server = createServer(async (req, res) => {
        await readBody(req);
        const url = new URL(req.url ?? "/", "http://localhost");
        const path = decodeURIComponent(url.pathname);
        requests.push({ method: req.method ?? "", path });
        const error = (status: number, code: string, message: string) => {
            res.writeHead(status, { "content-type": "application/xml", "x-amz-request-id": randomUUID() });
            res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Key>${xmlEscape(path)}</Key><RequestId>stub</RequestId></Error>`);
        };
        if (failure) return error(failure.status, failure.code, "injected failure");
        if (req.method !== "GET") return error(405, "MethodNotAllowed", "this local S3 only implements GetObject and ListObjectsV2");
        const bucketOnly = /^\/[^/]+\/?$/.test(path);
        if (bucketOnly && url.searchParams.get("list-type") === "2") {
            const bucket = path.replace(/^\/|\/$/g, "");
            const prefix = url.searchParams.get("prefix") ?? "";
            const allowed = listGrant === "bucket" || (listGrant !== "none" && prefix.startsWith(listGrant.prefix));
            if (!allowed) return error(403, "AccessDenied", "Access Denied");
            const maxKeys = Math.min(1000, Number(url.searchParams.get("max-keys") ?? "1000") || 1000);
            const keys = [...objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket.length + 1)).sort();
            const shown = keys.slice(0, maxKeys);
            res.writeHead(200, { "content-type": "application/xml", "x-amz-request-id": randomUUID() });
            res.end(
                `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${shown.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${keys.length > shown.length}</IsTruncated>` +
                    shown.map((k) => `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${new Date(0).toISOString()}</LastModified><Size>${objects.get(`${bucket}/${k}`)?.length ?? 0}</Size><StorageClass>STANDARD</StorageClass></Contents>`).join("") +
                    "</ListBucketResult>",
            );
            return;
        }
        const body = objects.get(path.replace(/^\//, ""));
        if (body === undefined) {
            if (listGrant === "bucket") return error(404, "NoSuchKey", "The specified key does not exist.");
            return error(403, "AccessDenied", "Access Denied");
        }
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
        grantList: (grant) => {
            listGrant = grant;
        },
        failWith: (f) => {
            failure = f;
        },
        client: () => new S3Client({ region: LOCAL_REGION, endpoint, forcePathStyle: true, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 }),
        close: () => close(server),
    };
}
