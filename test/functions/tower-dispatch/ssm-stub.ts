import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import * as net from "node:net";
import { SSMClient } from "@aws-sdk/client-ssm";
import { relayDocumentContent, type RelayTarget } from "../../../components/mail-ingest/ssm-relay-document";

/**
 * A real HTTP server on 127.0.0.1 that speaks the part of SSM's JSON protocol (awsJson1_1) the
 * relay uses: `AmazonSSM.SendCommand`, `AmazonSSM.GetCommandInvocation` and `AmazonSSM.CancelCommand`. A sent command is
 * carried out the way the relay host's script does it (components/mail-ingest/ssm-relay-document.ts): open TCP
 * to towerHost:towerPort, write the payloadHex bytes, read up to replyBytes bytes within
 * timeoutSeconds, print `reply=<hex>` (empty when the tower said nothing) and exit 0; a refused
 * connection fails the script. Parameters are checked against the real document's allowedPattern,
 * as SSM checks them, so the contract between relay and document is tested on both sides; the
 * document is built for the towers the test relays to, as the stack builds it for its relayed towers.
 */

export interface SsmCall {
    readonly target: string | undefined;
    readonly body: Record<string, unknown>;
}

interface Invocation {
    status: "Pending" | "InProgress" | "Success" | "Failed" | "Cancelled";
    /** Never delivered: the agent does not pick it up (stays Pending until cancelled). */
    held: boolean;
    stdout: string;
    stderr: string;
    polls: number;
    done: Promise<void>;
}

export interface SsmStub {
    readonly endpoint: string;
    readonly documentName: string;
    readonly calls: SsmCall[];
    /** The next `count` commands stay invisible to GetCommandInvocation on their first poll (InvocationDoesNotExist), as right after SendCommand. */
    invisibleFirstPoll(count: number): void;
    /** The next `count` commands are never picked up by the agent: Pending until cancelled, the tower never sees them. */
    holdNext(count: number): void;
    /** From now on CancelCommand answers AccessDeniedException, as SSM does for a role without ssm:CancelCommand. */
    denyCancel(): void;
    client(): SSMClient;
    close(): Promise<void>;
}

export interface SsmStubOptions {
    readonly documentName: string;
    /** Instances whose SSM agent is online. */
    readonly instanceIds: readonly string[];
    /** The towers the document is built for (read at each SendCommand: emulators get their ports later). */
    readonly relayTargets: () => readonly RelayTarget[];
    /**
     * Real milliseconds one of the document's `timeoutSeconds` lasts. Default 400: a 5 s wait is 2 s, so a
     * tower's ACK on a busy machine is not mistaken for silence; tests of a silent tower pass 20.
     */
    readonly msPerSecond?: number;
}

/** The script's TCP exchange with the tower. */
function relayOverTcp(host: string, port: number, payload: Buffer, replyBytes: number, timeoutMs: number): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        let received = Buffer.alloc(0);
        let settled = false;
        const socket = net.connect({ host, port });
        const finish = (result: { ok: boolean; stdout: string; stderr: string }) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            socket.destroy();
            resolve(result);
        };
        const printed = () => ({ ok: true, stdout: `reply=${received.subarray(0, replyBytes).toString("hex")}\n`, stderr: "" });
        const timer = setTimeout(() => finish(printed()), timeoutMs);
        socket.on("connect", () => socket.write(payload));
        socket.on("data", (chunk: Buffer) => {
            received = Buffer.concat([received, chunk]);
            if (received.length >= replyBytes) finish(printed());
        });
        socket.on("close", () => finish(printed()));
        socket.on("error", (error: NodeJS.ErrnoException) => {
            if (received.length > 0) return finish(printed());
            finish({ ok: false, stdout: "", stderr: `/bin/bash: connect: ${error.code === "ECONNREFUSED" ? "Connection refused" : error.message}\n/bin/bash: /dev/tcp/${host}/${port}: Connection refused\nfailed to run commands: exit status 1` });
        });
    });
}

export async function startSsmStub(options: SsmStubOptions): Promise<SsmStub> {
    const documentNow = () => JSON.parse(relayDocumentContent(options.relayTargets())) as { parameters: Record<string, { allowedPattern?: string }> };
    const msPerSecond = options.msPerSecond ?? 400;
    const calls: SsmCall[] = [];
    const invocations = new Map<string, Invocation>();
    let invisible = 0;
    let hold = 0;
    let cancelDenied = false;
    const invisibleIds = new Set<string>();

    const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", async () => {
            const target = req.headers["x-amz-target"] as string | undefined;
            let body: Record<string, unknown> = {};
            try {
                body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
                // answered below
            }
            calls.push({ target, body });
            const reply = (status: number, payload: unknown) => {
                res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
                res.end(JSON.stringify(payload));
            };
            const error = (type: string, message: string) => reply(400, { __type: type, message });

            if (target === "AmazonSSM.SendCommand") {
                if (body.DocumentName !== options.documentName) return error("InvalidDocument", `Document ${String(body.DocumentName)} does not exist`);
                const ids = body.InstanceIds as unknown;
                if (!Array.isArray(ids) || ids.length !== 1 || !options.instanceIds.includes(ids[0])) return error("InvalidInstanceId", "Instances not in a valid state for account");
                const parameters = (body.Parameters ?? {}) as Record<string, unknown>;
                const document = documentNow();
                const values: Record<string, string> = {};
                for (const [name, spec] of Object.entries(document.parameters)) {
                    const given = parameters[name];
                    if (!Array.isArray(given) || given.length !== 1 || typeof given[0] !== "string") return error("InvalidParameters", `Parameter ${name} must be a list of one string`);
                    if (spec.allowedPattern !== undefined && !new RegExp(spec.allowedPattern).test(given[0])) return error("InvalidParameters", `Parameter "${name}" "${given[0]}" does not match allowedPattern ${spec.allowedPattern}`);
                    values[name] = given[0];
                }
                const unknown = Object.keys(parameters).filter((name) => !(name in document.parameters));
                if (unknown.length > 0) return error("InvalidParameters", `Parameters ${unknown.join(", ")} are not defined in the document`);
                const commandId = randomUUID();
                const invocation: Invocation = { status: "InProgress", held: false, stdout: "", stderr: "", polls: 0, done: Promise.resolve() };
                invocations.set(commandId, invocation);
                if (hold > 0) {
                    hold--;
                    invocation.held = true;
                    invocation.status = "Pending";
                    return reply(200, { Command: { CommandId: commandId, DocumentName: body.DocumentName, InstanceIds: ids, Parameters: parameters, Status: "Pending", TimeoutSeconds: body.TimeoutSeconds } });
                }
                invocation.done = relayOverTcp(values.towerHost, Number(values.towerPort), Buffer.from(values.payloadHex, "hex"), Number(values.replyBytes), Number(values.timeoutSeconds) * msPerSecond).then((result) => {
                    invocation.status = result.ok ? "Success" : "Failed";
                    invocation.stdout = result.stdout;
                    invocation.stderr = result.stderr;
                });
                if (invisible > 0) {
                    invisible--;
                    invisibleIds.add(commandId);
                }
                return reply(200, { Command: { CommandId: commandId, DocumentName: body.DocumentName, InstanceIds: ids, Parameters: parameters, Status: "Pending", TimeoutSeconds: body.TimeoutSeconds } });
            }
            if (target === "AmazonSSM.GetCommandInvocation") {
                const id = String(body.CommandId);
                const invocation = invocations.get(id);
                if (invocation === undefined || invisibleIds.delete(id)) return error("InvocationDoesNotExist", "");
                invocation.polls++;
                if (invocation.held) return reply(200, { CommandId: id, InstanceId: body.InstanceId, DocumentName: options.documentName, Status: invocation.status, StatusDetails: invocation.status, ResponseCode: -1, StandardOutputContent: "", StandardErrorContent: "" });
                // The first poll sees the command still running; later ones wait until the script ends.
                if (invocation.polls > 1) await invocation.done;
                return reply(200, {
                    CommandId: id,
                    InstanceId: body.InstanceId,
                    DocumentName: options.documentName,
                    Status: invocation.polls > 1 ? invocation.status : "InProgress",
                    StatusDetails: invocation.polls > 1 ? invocation.status : "InProgress",
                    ResponseCode: invocation.polls > 1 ? (invocation.status === "Success" ? 0 : 1) : -1,
                    StandardOutputContent: invocation.polls > 1 ? invocation.stdout : "",
                    StandardErrorContent: invocation.polls > 1 ? invocation.stderr : "",
                });
            }
            if (target === "AmazonSSM.CancelCommand") {
                if (cancelDenied) return error("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/dispatch-role/dispatch is not authorized to perform: ssm:CancelCommand on resource: * because no identity-based policy allows the ssm:CancelCommand action");
                const invocation = invocations.get(String(body.CommandId));
                if (invocation === undefined) return error("InvalidCommandId", "");
                if (invocation.status === "Pending" || invocation.status === "InProgress") invocation.status = "Cancelled";
                return reply(200, {});
            }
            return error("UnknownOperationException", `stub only implements SendCommand, GetCommandInvocation and CancelCommand, got ${target}`);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    const endpoint = `http://127.0.0.1:${port}`;
    return {
        endpoint,
        documentName: options.documentName,
        calls,
        invisibleFirstPoll: (count) => {
            invisible = count;
        },
        holdNext: (count) => {
            hold = count;
        },
        denyCancel: () => {
            cancelDenied = true;
        },
        client: () =>
            new SSMClient({
                region: "ap-northeast-1",
                endpoint,
                credentials: { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local-test-secret" },
                maxAttempts: 1,
            }),
        close: async () => {
            await Promise.all([...invocations.values()].map((invocation) => invocation.done));
            await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
        },
    };
}
