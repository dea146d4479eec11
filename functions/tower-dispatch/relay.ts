import { CancelCommandCommand, GetCommandInvocationCommand, SendCommandCommand, type GetCommandInvocationCommandOutput, type SSMClient } from "@aws-sdk/client-ssm";
import { truncateChars } from "../shared/truncate";
import { MAX_ANSWER_BYTES, notProtocolAnswer, sendCommand, sendSignal, type SendOptions, type SendResult } from "../shared/patlite/client";
import { decodeReply, encodeSignal, encodeStatusRead, fromHex, isStatusRead, replyLength, toHex } from "../shared/patlite/codec";
import type { TowerSignal } from "../shared/patlite/signal";
import type { TowerConfig } from "../shared/tower-config";

/**
 * How a signal reaches a tower. `vpn`: a TCP connection from the function (in the VPC's private
 * subnets) over the Site-to-Site VPN. `ssm`: SSM Run Command on a host at or near the site, whose
 * document opens the TCP connection and prints the tower's reply as `reply=<hex>` on stdout.
 * Either way the outcome is a {@link SendResult}: tower faults (timeouts, NAKs, an unreachable
 * relay host) come back as `ack: false` with the reason, never as a thrown error.
 *
 * Besides signals, a relay reads a tower's status ({@link createStatusReader}) the same two ways,
 * through the same SSM document: it is only another payload and another reply length.
 */

/** Environment variable naming the SSM document the infrastructure creates for the relay. */
export const SSM_RELAY_DOCUMENT_ENV = "SSM_RELAY_DOCUMENT";

export interface RelayOptions extends SendOptions {
    /** Between GetCommandInvocation polls. Default 1000 ms. */
    readonly pollIntervalMs?: number;
    /**
     * Polling time (counted in slept milliseconds) after which one SSM attempt counts as timed out and
     * its command is cancelled. Default 15 s: three attempts and their backoff stay under 50 s, inside
     * the function's 60 s timeout.
     */
    readonly pollTimeoutMs?: number;
    /** How long the relay host's script waits for the tower's reply (the document's timeoutSeconds). Default 5. */
    readonly towerTimeoutSeconds?: number;
}

export interface RelayResult extends SendResult {
    readonly relay: "vpn" | "ssm";
}

export type Relay = (tower: TowerConfig, signal: TowerSignal) => Promise<RelayResult>;

/** Asks a tower for its state; `ack` means it answered with status data, `reply` holds the answer. */
export type StatusReader = (tower: TowerConfig) => Promise<RelayResult>;

export interface RelayDeps {
    /** Needed for towers with `relay: ssm`. */
    readonly ssm?: SSMClient;
    /** Name of the relay document (env SSM_RELAY_DOCUMENT). */
    readonly ssmDocument?: string;
    readonly options?: RelayOptions;
    /** Where a failed cancel is reported (the dispatcher's logger). Default: console.warn. */
    readonly logger?: { warn(message: string, ...attributes: unknown[]): void };
}

/** Retries for the SSM path: the client module applies its own defaults on the TCP path. */
export const SSM_DEFAULT_ATTEMPTS = 3;
export const SSM_DEFAULT_BACKOFF_MS = 500;
const DEFAULT_POLL_INTERVAL_MS = 1000;
const DEFAULT_POLL_TIMEOUT_MS = 15_000;
/** SendCommand's delivery timeout: the API's minimum, so an offline relay host fails an attempt in 30 s, not an hour. */
const SSM_DELIVERY_TIMEOUT_SECONDS = 30;
/** How long the relay script waits for the tower's reply; a document parameter. */
const SSM_TOWER_TIMEOUT_SECONDS = 5;

/** Statuses after which GetCommandInvocation will not change any more. */
const TERMINAL_STATUSES = new Set(["Success", "Failed", "Cancelled", "TimedOut"]);

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorText(error: unknown): string {
    const err = error as { name?: string; message?: string };
    if (err instanceof Error || (typeof err === "object" && err !== null && "message" in err)) return `${err.name ?? "Error"}: ${err.message ?? ""}`;
    return String(error);
}

function clip(text: string, max: number): string {
    const flat = text.replace(/\s+/g, " ").trim();
    return truncateChars(flat, max, "…");
}

/**
 * The SendCommand Parameters for one command (a signal or a status read: the reply length follows
 * the payload); the names are the contract with the relay document.
 */
export function ssmRelayParameters(tower: Pick<TowerConfig, "host" | "port" | "protocol">, payload: Buffer, towerTimeoutSeconds: number = SSM_TOWER_TIMEOUT_SECONDS): Record<string, string[]> {
    return {
        towerHost: [tower.host],
        towerPort: [String(tower.port)],
        payloadHex: [payload.toString("hex")],
        replyBytes: [String(replyLength(tower.protocol, payload))],
        // The document allows 1–2 digits; a whole second at least, so a short TCP timeout still reaches the script as 1.
        timeoutSeconds: [String(Math.min(99, Math.max(1, Math.ceil(towerTimeoutSeconds))))],
    };
}

/** The hex after `reply=` on the document's stdout, or undefined when no such line was printed. */
export function replyFromOutput(stdout: string | undefined): string | undefined {
    const match = /^\s*reply=([0-9a-fA-F ]*)\s*$/m.exec(stdout ?? "");
    return match === null ? undefined : match[1].replace(/\s+/g, "");
}

interface AttemptOutcome {
    readonly ack: boolean;
    readonly reply?: string;
    readonly error?: string;
}

/** One SendCommand and its polling. Never throws. */
async function ssmAttempt(tower: TowerConfig & { relay: { kind: "ssm"; instanceId: string } }, payload: Buffer, deps: RelayDeps, sleep: (ms: number) => Promise<void>): Promise<AttemptOutcome> {
    const ssm = deps.ssm!;
    let commandId: string | undefined;
    try {
        const sent = await ssm.send(
            new SendCommandCommand({
                DocumentName: deps.ssmDocument,
                InstanceIds: [tower.relay.instanceId],
                Parameters: ssmRelayParameters(tower, payload, deps.options?.towerTimeoutSeconds),
                TimeoutSeconds: SSM_DELIVERY_TIMEOUT_SECONDS,
                Comment: clip(`alertline tower-dispatch: ${tower.name}`, 100),
            }),
        );
        commandId = sent.Command?.CommandId;
    } catch (error) {
        return { ack: false, error: `SSM SendCommand to ${tower.relay.instanceId} failed: ${clip(errorText(error), 300)}` };
    }
    if (commandId === undefined) return { ack: false, error: "SSM SendCommand returned no CommandId" };

    const interval = deps.options?.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    const budget = deps.options?.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
    let waited = 0;
    let invocation: GetCommandInvocationCommandOutput | undefined;
    let lastStatus = "not yet visible";
    for (;;) {
        await sleep(interval);
        waited += interval;
        try {
            invocation = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: tower.relay.instanceId }));
            lastStatus = invocation.Status ?? "unknown";
            if (TERMINAL_STATUSES.has(lastStatus)) break;
        } catch (error) {
            // Right after SendCommand the invocation may not exist yet (eventual consistency); keep polling.
            if ((error as { name?: string })?.name !== "InvocationDoesNotExist") {
                return { ack: false, error: `SSM GetCommandInvocation for command ${commandId} failed: ${clip(errorText(error), 300)}` };
            }
        }
        if (waited >= budget) {
            // Cancel, so that a command delivered late cannot overwrite a newer signal. The attempt fails
            // either way; a failed cancel (AccessDenied, say) is logged, since a late delivery may follow.
            const cancelled = await cancelCommand(ssm, commandId, tower.relay.instanceId, deps.logger);
            return { ack: false, error: `SSM command ${commandId} on ${tower.relay.instanceId} was still ${lastStatus} after ${waited} ms (${cancelled ? "cancelled" : "cancel failed"})` };
        }
    }

    const reply = replyFromOutput(invocation.StandardOutputContent);
    if (reply === undefined || reply === "") {
        const stderr = clip(invocation.StandardErrorContent ?? "", 200);
        return { ack: false, error: `SSM command ${commandId} ended ${lastStatus} without a reply from the tower${stderr ? `: ${stderr}` : ""}` };
    }
    // SSM keeps up to 24,000 characters of output: a peer that streams would fill them with hex.
    if (reply.length > 2 * MAX_ANSWER_BYTES) {
        const start = /^[0-9a-fA-F]*$/.test(reply.slice(0, 64)) && reply.length % 2 === 0 ? Buffer.from(reply.slice(0, 64), "hex") : Buffer.alloc(0);
        return { ack: false, reply: truncateChars(reply, 2 * MAX_ANSWER_BYTES, "…"), error: notProtocolAnswer(`${tower.host}:${tower.port} (through the SSM relay)`, tower.protocol, Math.floor(reply.length / 2), start) };
    }
    let verdict: string;
    try {
        verdict = decodeReply(tower.protocol, fromHex(reply), payload);
    } catch (error) {
        return { ack: false, reply, error: `The relay printed an unreadable reply "${clip(reply, 40)}": ${errorText(error)}` };
    }
    // The tower's own answer decides, whatever exit status the script chose for it.
    if (verdict === "ack") return { ack: true, reply };
    return { ack: false, reply, error: verdict === "nak" ? "The tower answered NAK (through the SSM relay)" : `The tower's reply ${reply} is ${isStatusRead(tower.protocol, payload) ? "not a status answer" : "neither ACK nor NAK"} (through the SSM relay)` };
}

/** CancelCommand for a command that outlived its attempt; false (and a warning) when SSM refused or failed. */
async function cancelCommand(ssm: SSMClient, commandId: string, instanceId: string, logger: RelayDeps["logger"]): Promise<boolean> {
    try {
        await ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }));
        return true;
    } catch (error) {
        (logger ?? console).warn("Could not cancel an SSM relay command that timed out: if it is delivered late, it may overwrite a newer signal on the tower", {
            commandId,
            instanceId,
            error: clip(errorText(error), 300),
        });
        return false;
    }
}

/** Sends through SSM Run Command with retries and backoff, as the TCP client does. Never throws. */
export async function sendViaSsm(tower: TowerConfig, signal: TowerSignal, deps: RelayDeps): Promise<RelayResult> {
    if (tower.relay.kind !== "ssm") throw new Error(`sendViaSsm called for tower "${tower.name}" whose relay is ${tower.relay.kind}`);
    let payload: Buffer;
    try {
        payload = encodeSignal(tower.protocol, signal);
    } catch (error) {
        return { relay: "ssm", ack: false, attempts: 0, sent: "", error: `Cannot encode the signal for ${tower.protocol}: ${errorText(error)}` };
    }
    return commandViaSsm(tower, payload, deps);
}

/** Reads the tower's status through SSM Run Command, with the attempts `deps.options` allow. Never throws. */
export async function readViaSsm(tower: TowerConfig, deps: RelayDeps): Promise<RelayResult> {
    if (tower.relay.kind !== "ssm") throw new Error(`readViaSsm called for tower "${tower.name}" whose relay is ${tower.relay.kind}`);
    return commandViaSsm(tower, encodeStatusRead(tower.protocol), deps);
}

/** One command through SSM Run Command with retries and backoff; its reply is read as an answer to that command. */
async function commandViaSsm(tower: TowerConfig, payload: Buffer, deps: RelayDeps): Promise<RelayResult> {
    const sleep = deps.options?.sleep ?? realSleep;
    const sent = toHex(payload);
    if (deps.ssm === undefined || !deps.ssmDocument) {
        return { relay: "ssm", ack: false, attempts: 0, sent, error: `Tower "${tower.name}" uses relay ssm but ${SSM_RELAY_DOCUMENT_ENV} is not set: set it to the name of the relay document the infrastructure created` };
    }
    const ssmTower = tower as TowerConfig & { relay: { kind: "ssm"; instanceId: string } };
    const attempts = Math.max(1, deps.options?.attempts ?? SSM_DEFAULT_ATTEMPTS);
    const backoff = deps.options?.backoffMs ?? SSM_DEFAULT_BACKOFF_MS;
    let last: AttemptOutcome = { ack: false, error: "not attempted" };
    for (let attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1) await sleep(backoff * 2 ** (attempt - 2));
        last = await ssmAttempt(ssmTower, payload, deps, sleep);
        if (last.ack) return { relay: "ssm", ack: true, attempts: attempt, sent, reply: last.reply };
    }
    return { relay: "ssm", ack: false, attempts, sent, reply: last.reply, error: last.error };
}

/**
 * Reads every tower's status, TCP over the VPN or SSM Run Command as its config says, with
 * `deps.options` (a probe passes one attempt and a short timeout).
 */
export function createStatusReader(deps: RelayDeps = {}): StatusReader {
    return async (tower) => {
        if (tower.relay.kind === "ssm") return readViaSsm(tower, deps);
        const result = await sendCommand({ host: tower.host, port: tower.port, protocol: tower.protocol }, encodeStatusRead(tower.protocol), deps.options);
        return { ...result, relay: "vpn" };
    };
}

/** The relay for every tower: TCP over the VPN, or SSM Run Command, as each tower's config says. */
export function createRelay(deps: RelayDeps = {}): Relay {
    return async (tower, signal) => {
        if (tower.relay.kind === "ssm") return sendViaSsm(tower, signal, deps);
        try {
            const result = await sendSignal({ host: tower.host, port: tower.port, protocol: tower.protocol }, signal, deps.options);
            return { ...result, relay: "vpn" };
        } catch (error) {
            // sendSignal reports tower faults in its result; a throw means the signal could not even be encoded.
            return { relay: "vpn", ack: false, attempts: 0, sent: "", error: `Could not send to ${tower.host}:${tower.port}: ${errorText(error)}` };
        }
    };
}
