import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { randomBytes } from "node:crypto";
import { canaryId, canaryMail, isDotAtom } from "./canary-mail";

/**
 * mail-canary: an EventBridge schedule invokes it (the event's content is not used); it sends one
 * canary mail from CANARY_FROM to the alert address CANARY_TO through SES, so that the whole
 * receiving path runs: SES receiving → S3 + SNS → mail-ingest → heartbeat ping. Returning means
 * sent; a send failure is logged and thrown, so both the function's Errors alarm and the
 * heartbeat that then expires report it.
 *
 * From the SES developer guide, "Moving out of the Amazon SES sandbox" and "Regions and Amazon SES"
 * (awsdocs/amazon-ses-developer-guide doc-source/request-production-access.md and regions.md at
 * 5b3d6427a09a45cc58b7c4aec9f418509e8ccb76): in the SES sandbox an account "can only send mail to
 * verified email addresses and domains". The
 * canary is sent from a verified domain identity to an address of that same domain, whose
 * verification SES receiving needs anyway, so the sandbox allows it and no production access is
 * needed. The same page limits a sandbox account to 200 messages per 24 hours and 1 per second,
 * per region, so in the sandbox the schedule must be no more frequent than one canary per 7.2
 * minutes: rate(10 minutes) is 144 a day, rate(5 minutes) 288 would run out of quota. Identities
 * and sandbox status are per region ("The sandbox status for your account can differ between AWS
 * Regions"): the domain must be verified in the region this function sends from.
 */

/** Logger methods used; Powertools' Logger fits, tests pass a recording one. */
export interface CanaryLogger {
    info(message: string, ...attributes: Record<string, unknown>[]): void;
    error(message: string, ...attributes: Record<string, unknown>[]): void;
    /** Powertools adds the request id and cold-start flag to every line from here on. */
    addContext?(context: Context): void;
}

/** Sends a raw MIME message; resolves to the sender's message id (SES's MessageId). */
export type SendRawMail = (raw: Buffer, from: string, to: string) => Promise<string>;

export interface CanaryDeps {
    readonly send: SendRawMail;
    readonly logger: CanaryLogger;
    /** Read at each invocation: CANARY_FROM, CANARY_TO, ALERTLINE_ENVIRONMENT. */
    readonly env: Readonly<Record<string, string | undefined>>;
    /** Clock in epoch milliseconds. Default Date.now. */
    readonly now?: () => number;
    /** The canary id for this send. Default {@link canaryId} with 3 random bytes. */
    readonly newId?: (environment: string, nowMs: number) => string;
}

export interface CanarySettings {
    readonly from: string;
    readonly to: string;
    readonly environment: string;
}

export interface CanarySent {
    readonly canaryId: string;
    /** The id the sender gave the message (SES's MessageId). */
    readonly messageId: string;
    readonly subject: string;
}

function required(env: CanaryDeps["env"], name: string, fix: string): string {
    const value = env[name]?.trim();
    if (value === undefined || value === "") throw new Error(`${name} is not set: ${fix}`);
    return value;
}

/**
 * The settings from the environment the infrastructure sets; throws naming the variable that is
 * missing or unusable. The addresses themselves are checked by {@link canaryMail}.
 */
export function readCanarySettings(env: CanaryDeps["env"]): CanarySettings {
    const from = required(env, "CANARY_FROM", "set it to the canary sender, an address of the verified mail domain (e.g. alertline-canary@alerts.example.jp)");
    const to = required(env, "CANARY_TO", "set it to the alert address the SES receipt rule takes (e.g. patlite@alerts.example.jp)");
    const environment = required(env, "ALERTLINE_ENVIRONMENT", "set it to the environment name (e.g. dev)");
    // The environment becomes part of the canary id, which is the Message-ID's left part.
    if (!isDotAtom(environment)) throw new Error(`ALERTLINE_ENVIRONMENT must be letters, digits, '-', '_' or '.', got ${JSON.stringify(environment)}`);
    return { from, to, environment };
}

/** The default canary id: {@link canaryId} with 3 random bytes as hex. */
export function newCanaryId(environment: string, nowMs: number): string {
    return canaryId(environment, nowMs, randomBytes(3).toString("hex"));
}

export function createHandler(deps: CanaryDeps): (event?: unknown, context?: Context) => Promise<CanarySent> {
    const now = deps.now ?? Date.now;
    const newId = deps.newId ?? newCanaryId;
    return async (_event, context) => {
        if (context !== undefined) deps.logger.addContext?.(context);
        let settings: CanarySettings;
        let mail: ReturnType<typeof canaryMail>;
        let id: string;
        try {
            settings = readCanarySettings(deps.env);
            const nowMs = now();
            id = newId(settings.environment, nowMs);
            mail = canaryMail({ ...settings, nowMs, canaryId: id });
        } catch (error) {
            deps.logger.error("Canary not sent: the function's configuration is unusable", { error: errorText(error) });
            throw error;
        }
        try {
            const messageId = await deps.send(mail.raw, settings.from, settings.to);
            deps.logger.info("Canary sent", { canaryId: id, messageId, from: settings.from, to: settings.to });
            return { canaryId: id, messageId, subject: mail.subject };
        } catch (error) {
            deps.logger.error("Canary not sent: sending failed; the heartbeat will expire unless a later canary arrives", {
                canaryId: id,
                from: settings.from,
                to: settings.to,
                error: errorText(error),
            });
            throw error;
        }
    };
}

function errorText(error: unknown): string {
    if (error instanceof Error) return error.name === "Error" ? error.message : `${error.name}: ${error.message}`;
    return String(error);
}

/**
 * Sends through SES v2 as a raw message: the canary's own headers (X-Alertline-Canary above all)
 * reach the receiving side as written, which SES's Simple content would not allow.
 */
export function sesSender(client: Pick<SESv2Client, "send">): SendRawMail {
    return async (raw, from, to) => {
        const result = await client.send(new SendEmailCommand({ FromEmailAddress: from, Destination: { ToAddresses: [to] }, Content: { Raw: { Data: raw } } }));
        // SES always names the message it accepted; should it not, the send still succeeded.
        return result.MessageId ?? "(SES returned no MessageId)";
    };
}

// One client per container, reused by every invocation; region and credentials come from Lambda's environment.
export const handler = createHandler({
    send: sesSender(new SESv2Client({})),
    logger: new Logger({ serviceName: "mail-canary" }),
    env: process.env,
});
