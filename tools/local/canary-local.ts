import { createTransport } from "nodemailer";

/**
 * The canary's send on this machine: instead of SES sending, plain SMTP to the SES receiving
 * stand-in (./ses.ts), so `npm start` can run the real mail-canary handler:
 *
 *   createHandler({ send: (raw, from, to) => sendCanaryViaSmtp(raw, from, to, smtp), logger, env })
 *
 * The message goes as raw bytes with an explicit envelope, so nodemailer adds and changes nothing
 * (what SES sending would do to Date and Message-ID is not imitated).
 */

export interface SmtpTarget {
    readonly host: string;
    readonly port: number;
}

/** The id in the SES stand-in's answer to DATA (`250 Ok <messageId>`); undefined for other servers. */
export function queuedMessageId(response: string): string | undefined {
    return /^250\b.*\bOk (\S+)\s*$/.exec(response)?.[1];
}

/**
 * Sends one raw message over SMTP (no TLS, no AUTH: the local stand-in offers neither). Resolves to
 * the message id the server named, or else its whole answer; rejects when the server refuses.
 */
export async function sendCanaryViaSmtp(raw: Buffer, from: string, to: string, target: SmtpTarget): Promise<string> {
    const transport = createTransport({ host: target.host, port: target.port, secure: false, ignoreTLS: true, connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10000 });
    try {
        const info = await transport.sendMail({ envelope: { from, to: [to] }, raw });
        return queuedMessageId(info.response) ?? info.response;
    } finally {
        transport.close();
    }
}
