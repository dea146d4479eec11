import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { analyseMail } from "../../functions/mail-ingest/ingest";
import { classify, MAX_BODY_REGEX_PROGRAM_SIZE, MAX_CLASSIFY_BODY_CHARS, parseMailRules } from "../../functions/shared/mail-rules";
import { hostileCorpus, plainZabbixMail } from "../functions/mail-ingest/hostile-mail";
import { BENCH_ALLOWED_SENDERS, median, PASSING_VERDICTS } from "./mail-bench-inputs";

/**
 * `npm run --silent bench:classify [-- --json]`: the time mail-ingest takes to parse and classify
 * (analyseMail: parse, prod.yaml's rules, sender check) each mail of the generated hostile corpus
 * (test/functions/mail-ingest/hostile-mail.ts) and a plain Zabbix mail, in the same process; the
 * median of several runs after a warm-up. Prints each mail's time, its ratio to the plain mail, and
 * the worst. Goal: every hostile mail well under a second.
 *
 * Also: the costliest rule the validator accepts (a body and key regex just under
 * MAX_BODY_REGEX_PROGRAM_SIZE, counted repetitions) on a crafted body at the 64 K character bound.
 */

const ROOT = join(__dirname, "../..");
const RUNS = 5;


async function timeMs(work: () => Promise<unknown> | unknown): Promise<number> {
    await work();
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
        const started = performance.now();
        await work();
        samples.push(performance.now() - started);
    }
    return median(samples);
}

/** The largest `(\w+\s?){1,n}$` the validator accepts: NFA threads grow with n, the worst shape found. */
function costliestAcceptedRule(): { pattern: string; yaml: string } {
    let best = "";
    for (let n = 1; n < 200; n++) {
        const pattern = `(\\w+\\s?){1,${n}}$`;
        try {
            parseMailRules(`rules:\n  - name: r\n    from: "*@x.example"\n    body: '${pattern}'\n    severity: info\n    key: { body: '${pattern}' }\n`);
            best = pattern;
        } catch {
            break;
        }
    }
    return { pattern: best, yaml: `rules:\n  - name: r\n    from: "*@x.example"\n    body: '${best}'\n    severity: info\n    key: { body: '${best}' }\n` };
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { json: { type: "boolean", default: false } } });
    const rules = parseMailRules(readFileSync(join(ROOT, "functions/mail-ingest/rules/prod.yaml"), "utf8"));
    const config = { rules, towers: [{ name: "tokyo-ops", site: "tokyo", allowedSenders: [] }], allowedSenders: BENCH_ALLOWED_SENDERS };
    const run = (raw: Buffer) => () => analyseMail(raw, PASSING_VERDICTS, config);

    const plainMs = await timeMs(run(plainZabbixMail()));
    const rows: { name: string; aim: string; bytes: number; ms: number; ratio: number }[] = [];
    for (const mail of hostileCorpus()) {
        const ms = await timeMs(run(mail.raw));
        rows.push({ name: mail.name, aim: mail.aim, bytes: mail.raw.length, ms, ratio: ms / plainMs });
    }
    const worst = rows.reduce((a, b) => (b.ms > a.ms ? b : a));

    const costly = costliestAcceptedRule();
    const costlyRules = parseMailRules(costly.yaml);
    const costlyBody = "a".repeat(MAX_CLASSIFY_BODY_CHARS);
    const costlyMs = await timeMs(() => classify({ from: "a@x.example", subject: "s", text: costlyBody }, costlyRules));

    const result = {
        runs: RUNS,
        plainMs: Number(plainMs.toFixed(2)),
        mails: rows.map((r) => ({ name: r.name, bytes: r.bytes, ms: Number(r.ms.toFixed(2)), ratio: Number(r.ratio.toFixed(1)) })),
        worst: { name: worst.name, ms: Number(worst.ms.toFixed(2)), ratio: Number(worst.ratio.toFixed(1)) },
        costliestAcceptedRule: { pattern: costly.pattern, limit: MAX_BODY_REGEX_PROGRAM_SIZE, bodyChars: costlyBody.length, ms: Number(costlyMs.toFixed(1)) },
    };
    if (values.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
    }
    const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`);
    console.log(`parse + classify (prod.yaml) + sender check, median of ${RUNS} runs after a warm-up`);
    console.log("");
    console.log(`${"mail".padEnd(24)} ${"size".padStart(8)} ${"ms".padStart(9)} ${"× plain".padStart(9)}`);
    console.log(`${"plain Zabbix mail".padEnd(24)} ${size(plainZabbixMail().length).padStart(8)} ${plainMs.toFixed(2).padStart(9)} ${"1.0".padStart(9)}`);
    for (const r of rows) console.log(`${r.name.padEnd(24)} ${size(r.bytes).padStart(8)} ${r.ms.toFixed(2).padStart(9)} ${r.ratio.toFixed(1).padStart(9)}`);
    console.log("");
    console.log(`worst: ${worst.name}, ${worst.ms.toFixed(1)} ms = ${worst.ratio.toFixed(1)} × the plain mail (${worst.aim})`);
    console.log(
        `costliest rule the validator accepts: body and key /${costly.pattern}/ (limit ${MAX_BODY_REGEX_PROGRAM_SIZE} instructions) on ${costlyBody.length} characters: ${costlyMs.toFixed(1)} ms`,
    );
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
