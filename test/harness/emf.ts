/**
 * Captures the CloudWatch embedded metric format (EMF) lines Powertools Metrics writes on stdout,
 * the way CloudWatch Logs reads them from a function's log: a JSON object with `_aws.CloudWatchMetrics`
 * (each directive's Namespace, Dimensions as lists of key names, Metrics as {Name, Unit}) and the
 * dimension values and metric values as top-level members (EMF specification:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * Other stdout lines (Powertools Logger's) pass through untouched.
 */

export interface EmfDatum {
    readonly namespace: string;
    readonly metric: string;
    readonly unit: string | undefined;
    /** The dimension names of one dimension set, in the order written. */
    readonly dimensions: readonly string[];
    /** The dimension values, by name. */
    readonly values: Readonly<Record<string, string>>;
    readonly value: number;
}

/** Reads one stdout line as EMF; [] when it is not an EMF document. Refuses what CloudWatch Logs would not extract. */
export function parseEmfLine(line: string): EmfDatum[] {
    let doc: Record<string, unknown>;
    try {
        doc = JSON.parse(line) as Record<string, unknown>;
    } catch {
        return [];
    }
    const aws = (doc as { _aws?: { Timestamp?: unknown; CloudWatchMetrics?: unknown } })?._aws;
    if (aws === undefined) return [];
    if (typeof aws.Timestamp !== "number") throw new Error(`EMF line without a numeric _aws.Timestamp: ${line}`);
    if (!Array.isArray(aws.CloudWatchMetrics)) throw new Error(`EMF line without _aws.CloudWatchMetrics: ${line}`);
    const data: EmfDatum[] = [];
    for (const directive of aws.CloudWatchMetrics as { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit?: string }[] }[]) {
        if (typeof directive.Namespace !== "string" || directive.Namespace === "") throw new Error(`EMF directive without a Namespace: ${line}`);
        for (const set of directive.Dimensions) {
            // The specification: at most 30 dimensions per set, each a string member of the document.
            if (set.length > 30) throw new Error(`EMF dimension set over 30 keys: ${line}`);
            for (const key of set) if (typeof doc[key] !== "string") throw new Error(`EMF dimension ${key} has no string value: ${line}`);
            for (const m of directive.Metrics) {
                const value = doc[m.Name];
                if (typeof value !== "number") throw new Error(`EMF metric ${m.Name} has no numeric value: ${line}`);
                data.push({ namespace: directive.Namespace, metric: m.Name, unit: m.Unit, dimensions: [...set], values: Object.fromEntries(set.map((k) => [k, doc[k] as string])), value });
            }
        }
    }
    return data;
}

export interface EmfCapture {
    readonly data: EmfDatum[];
    /** Restores stdout. */
    stop(): void;
}

/** Starts capturing EMF written to process.stdout (Powertools Metrics' console in Lambda mode). */
export function captureEmf(): EmfCapture {
    const data: EmfDatum[] = [];
    const original = process.stdout.write;
    let pending = "";
    process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
        const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : String(chunk);
        pending += text;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        let others = "";
        for (const line of lines) {
            const parsed = parseEmfLine(line);
            if (parsed.length > 0) data.push(...parsed);
            else others += `${line}\n`;
        }
        // Lines that are not EMF go to the real stdout; EMF is kept out of the test's output.
        if (others !== "") return (original as (c: string, ...r: unknown[]) => boolean).call(this, others, ...rest);
        const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
        callback?.();
        return true;
    } as typeof process.stdout.write;
    return {
        data,
        stop: () => {
            process.stdout.write = original;
        },
    };
}
