/** What the mail benchmarks feed the sender check, and how they summarise samples. */

/** SES verdicts of a mail that passes every check (the trusted path, the one that does the most work). */
export const PASSING_VERDICTS = { spfVerdict: { status: "PASS" }, dkimVerdict: { status: "PASS" }, dmarcVerdict: { status: "PASS" }, virusVerdict: { status: "PASS" }, spamVerdict: { status: "PASS" } };

/** A sender allow list of the size a stack has. */
export const BENCH_ALLOWED_SENDERS = ["*@zabbix.example.jp", "alert@dtdg.co", "no-reply@sns.amazonaws.com", "nagios@*.example.com", "*@uptime.example.com"];

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
