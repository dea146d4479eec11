import { createTransport } from "nodemailer";

/**
 * `npm run mail -- storm`: an alert storm over SMTP, for `npm start` (above all `--slack app`) and
 * its test. `mails` mails for `alerts` alert identities, one host each, so one correlation key
 * each: the dev rules' test subjects "[alertline-test] critical: disk full on <host>" and
 * "[alertline-test] recovery: …", whose key is the text after the colon (functions/mail-ingest/rules/dev.yaml,
 * rules test-critical and test-recovery). Mail k is about alert k mod `alerts`; every mail is
 * critical except the last of each alert, which decides its final state: recovery for an even
 * alert, critical for an odd one.
 *
 * The last mails go out after the others, with a pause between (`settle`): SES, SNS and Lambda keep
 * no order between mails, so a last word sent while earlier mails of its alert are still being
 * processed might not be the last one processed.
 */

export interface StormMail {
    /** 0-based alert identity. */
    readonly alert: number;
    /** 0-based position in the storm. */
    readonly index: number;
    readonly host: string;
    readonly severity: "critical" | "recovery";
    readonly subject: string;
    readonly text: string;
    /** Whether it is its alert's last mail (the one that decides the final state). */
    readonly last: boolean;
}

/** Most mails and alerts one storm sends: enough for any local storm, little enough to stay local. */
export const STORM_LIMITS = { mails: 100_000, alerts: 1_000, concurrency: 50 } as const;

/** The host of alert `i`: `storm-host-07`. */
export function stormHost(alert: number, alerts: number): string {
    return `storm-host-${String(alert).padStart(String(alerts - 1).length, "0")}`;
}

/** The final state each alert ends in: recovered when even. Pure. */
export function stormFinalSeverity(alert: number): "critical" | "recovery" {
    return alert % 2 === 0 ? "recovery" : "critical";
}

/** The storm's mails in sending order (each alert's last mail at the end). Pure. */
export function stormMails(mails: number, alerts: number): StormMail[] {
    if (!Number.isInteger(alerts) || alerts < 1 || alerts > STORM_LIMITS.alerts) throw new Error(`alerts must be a whole number 1–${STORM_LIMITS.alerts}, got ${alerts}`);
    if (!Number.isInteger(mails) || mails < alerts || mails > STORM_LIMITS.mails) {
        throw new Error(`mails must be a whole number from the number of alerts (${alerts}: one mail each at least) to ${STORM_LIMITS.mails}, got ${mails}`);
    }
    const all = Array.from({ length: mails }, (_, index): StormMail => {
        const alert = index % alerts;
        const last = index >= mails - alerts;
        const severity = last ? stormFinalSeverity(alert) : "critical";
        const host = stormHost(alert, alerts);
        return {
            alert,
            index,
            host,
            severity,
            last,
            subject: `[alertline-test] ${severity}: disk full on ${host}`,
            text: severity === "recovery" ? `disk / on ${host} is back to 41% (storm mail ${index + 1} of ${mails})` : `disk / on ${host} is ${90 + (index % 10)}% full (storm mail ${index + 1} of ${mails})`,
        };
    });
    return [...all.filter((m) => !m.last), ...all.filter((m) => m.last)];
}

export interface StormOptions {
    readonly smtp: { readonly host: string; readonly port: number };
    readonly from: string;
    readonly to: string;
    readonly mails: number;
    readonly alerts: number;
    /** SMTP connections at once. Default 10. */
    readonly concurrency?: number;
    /** Awaited between the storm and each alert's last mail; the CLI pauses a few seconds. */
    readonly settle?: () => Promise<void>;
    /** Told about each mail the server accepted. */
    readonly onSent?: (mail: StormMail, response: string) => void;
}

export interface StormResult {
    readonly sent: number;
    readonly ms: number;
    /** The final state per alert: its host and its last mail's severity. */
    readonly finals: readonly { readonly host: string; readonly severity: "critical" | "recovery" }[];
}

/** Sends the storm over SMTP, `concurrency` mails in flight; rejects at the first mail the server refuses. */
export async function sendStorm(options: StormOptions): Promise<StormResult> {
    const concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > STORM_LIMITS.concurrency) throw new Error(`concurrency must be 1–${STORM_LIMITS.concurrency}, got ${concurrency}`);
    const mails = stormMails(options.mails, options.alerts);
    const started = Date.now();
    // Plain SMTP to a local server (npm start's has no STARTTLS); pooled so the storm reuses connections.
    const transport = createTransport({ host: options.smtp.host, port: options.smtp.port, secure: false, ignoreTLS: true, pool: true, maxConnections: concurrency, maxMessages: Infinity });
    try {
        const send = async (batch: readonly StormMail[]) => {
            let next = 0;
            const worker = async () => {
                while (next < batch.length) {
                    const mail = batch[next++];
                    const info = await transport.sendMail({ from: options.from, to: options.to, subject: mail.subject, text: mail.text });
                    options.onSent?.(mail, String(info.response));
                }
            };
            await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
        };
        await send(mails.filter((m) => !m.last));
        await options.settle?.();
        await send(mails.filter((m) => m.last));
    } finally {
        transport.close();
    }
    const finals = mails.filter((m) => m.last).sort((a, b) => a.alert - b.alert).map((m) => ({ host: m.host, severity: m.severity }));
    return { sent: mails.length, ms: Date.now() - started, finals };
}
