import { createServer } from "node:http";
import { gunzipSync } from "node:zlib";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { close, listen, LOCAL_CREDENTIALS, LOCAL_REGION, readBody } from "../../../tools/local/http";

/**
 * A real HTTP server on 127.0.0.1 that answers CloudWatch's PutMetricData the way the SDK v3 client
 * (3.1162) speaks it, AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.PutMetricData`),
 * and records each call as the SDK serialised it. The SDK gzips PutMetricData bodies of 10 KB or
 * more (`Content-Encoding: gzip`), as CloudWatch allows; the stub inflates them. Like CloudWatch it
 * refuses a call without a namespace or with more than 1000 data.
 */

export interface PutMetricDataCall {
    readonly namespace: string;
    readonly data: {
        readonly MetricName: string;
        readonly Dimensions?: { readonly Name: string; readonly Value: string }[];
        readonly Value?: number;
        readonly Unit?: string;
        /** Epoch seconds, as the JSON protocol sends it. */
        readonly Timestamp?: number;
    }[];
}

export interface CloudWatchStub {
    readonly endpoint: string;
    readonly calls: PutMetricDataCall[];
    /** Every X-Amz-Target seen, in order. */
    readonly targets: string[];
    /** Content-Encoding of each request, in order ("identity" when none). */
    readonly encodings: string[];
    /** The next `count` calls fail with HTTP 500 InternalServiceFault. */
    failNext(count: number): void;
    client(): CloudWatchClient;
    close(): Promise<void>;
}

const PUT_METRIC_DATA = "GraniteServiceVersion20100801.PutMetricData";

export async function startCloudWatchStub(): Promise<CloudWatchStub> {
    const calls: PutMetricDataCall[] = [];
    const targets: string[] = [];
    const encodings: string[] = [];
    let failures = 0;
    const server = createServer(async (req, res) => {
        const raw = await readBody(req);
        const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
        const target = String(req.headers["x-amz-target"] ?? "");
        targets.push(target);
        encodings.push(String(req.headers["content-encoding"] ?? "identity"));
        const reply = (status: number, payload: unknown, errorCode?: string) => {
            res.writeHead(status, { "content-type": "application/x-amz-json-1.0", ...(errorCode ? { "x-amzn-query-error": `${errorCode};${status < 500 ? "Sender" : "Receiver"}` } : {}) });
            res.end(JSON.stringify(payload));
        };
        if (target !== PUT_METRIC_DATA) return reply(400, { __type: "com.amazonaws.cloudwatch#UnknownOperationException", message: `stub only implements PutMetricData, got ${target}` }, "UnknownOperation");
        if (failures > 0) {
            failures--;
            return reply(500, { __type: "com.amazonaws.cloudwatch#InternalServiceFault", message: "stub: failing as told" }, "InternalServiceError");
        }
        let json: { Namespace?: string; MetricData?: PutMetricDataCall["data"] };
        try {
            json = JSON.parse(body.toString("utf8"));
        } catch {
            return reply(400, { __type: "com.amazonaws.cloudwatch#InvalidParameterValueException", message: "body is not JSON" }, "InvalidParameterValue");
        }
        if (typeof json.Namespace !== "string" || json.Namespace === "") return reply(400, { __type: "com.amazonaws.cloudwatch#MissingRequiredParameterException", message: "Namespace is required" }, "MissingParameter");
        const data = json.MetricData ?? [];
        if (data.length > 1000) return reply(400, { __type: "com.amazonaws.cloudwatch#InvalidParameterValueException", message: "The collection MetricData must not have a size greater than 1000." }, "InvalidParameterValue");
        calls.push({ namespace: json.Namespace, data });
        return reply(200, {});
    });
    const endpoint = await listen(server);
    return {
        endpoint,
        calls,
        targets,
        encodings,
        failNext: (count) => {
            failures = count;
        },
        client: () => new CloudWatchClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 }),
        close: () => close(server),
    };
}
