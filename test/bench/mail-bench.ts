import { buildSync, type Metafile } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { simpleParser } from "mailparser";
import { parseMail, PARSER_OPTIONS } from "../../functions/mail-ingest/parse-mail";
import { classify, parseMailRules } from "../../functions/shared/mail-rules";
import { mayLightTower } from "../../functions/shared/sender-policy";
import { BENCH_ALLOWED_SENDERS, median, PASSING_VERDICTS } from "./mail-bench-inputs";

/**
 * `npm run --silent bench:mail [-- --json]`: what mail-ingest costs beyond mailparser itself.
 *
 * - Throughput: parse + sender check + classify (prod rules) against bare `simpleParser` with its
 *   default options, on the same fixture mails in the same process, in alternating rounds; the
 *   median round counts. Goal: ratio ≥ 0.8. parseMail asks mailparser to skip work nobody reads
 *   (HTML renderings of text, link detection), which makes it faster than the default; so the
 *   figure for `simpleParser` with those same options is shown too: that ratio is the cost of our
 *   own layer (fallbacks, charset check, rules, sender check).
 * - Size and start-up: the minified esbuild bundle of functions/mail-ingest/handler.ts (node22, cjs)
 *   and the time to require it in a fresh process (median of several), beside the same figures
 *   for a bundle of mailparser alone. Goal: within 1.3× of mailparser's.
 */

const ROOT = join(__dirname, "../..");
const FIXTURES = join(ROOT, "test/fixtures/mail");
const ROUNDS = 7;
const ROUND_MS = 400;
const IMPORT_SAMPLES = 9;



/** Mails per second for `work` over the fixtures, running passes until `ms` have gone by. */
async function throughput(mails: readonly Buffer[], work: (raw: Buffer) => Promise<unknown>, ms: number): Promise<number> {
    let done = 0;
    const started = performance.now();
    while (performance.now() - started < ms) {
        for (const raw of mails) await work(raw);
        done += mails.length;
    }
    return done / ((performance.now() - started) / 1000);
}

interface BundleFigures {
    readonly bytes: number;
    readonly initMs: number;
    readonly topInputs: { readonly name: string; readonly bytes: number }[];
}

/** Groups a bundle's output bytes by npm package (or our own folders). */
function topInputs(metafile: Metafile): { name: string; bytes: number }[] {
    const byPackage = new Map<string, number>();
    for (const output of Object.values(metafile.outputs)) {
        for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
            const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
            const name = m ? m[1] : input.split("/").slice(0, 2).join("/");
            byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
        }
    }
    return [...byPackage.entries()].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

function measureBundle(dir: string, label: string, build: { entryPoints?: string[]; stdin?: { contents: string; resolveDir: string } }): BundleFigures {
    const outfile = join(dir, `${label}.js`);
    const result = buildSync({ ...build, bundle: true, platform: "node", target: "node22", format: "cjs", minify: true, legalComments: "none", metafile: true, write: false, logLevel: "silent" });
    const code = result.outputFiles[0].contents;
    writeFileSync(outfile, code);
    const script = `const t = performance.now(); require(${JSON.stringify(outfile)}); process.stdout.write(String(performance.now() - t));`;
    const samples: number[] = [];
    for (let i = 0; i < IMPORT_SAMPLES; i++) {
        const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", AWS_REGION: "ap-northeast-1" } });
        if (child.status !== 0) throw new Error(`requiring the ${label} bundle failed:\n${child.stderr}`);
        samples.push(Number(child.stdout));
    }
    return { bytes: code.byteLength, initMs: median(samples), topInputs: topInputs(result.metafile as Metafile) };
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { json: { type: "boolean", default: false } } });
    const mails = readdirSync(FIXTURES)
        .filter((f) => f.endsWith(".eml"))
        .sort()
        .map((f) => readFileSync(join(FIXTURES, f)));
    const rules = parseMailRules(readFileSync(join(ROOT, "functions/mail-ingest/rules/prod.yaml"), "utf8"));

    const raw = (mail: Buffer) => simpleParser(mail);
    const rawSameOptions = (mail: Buffer) => simpleParser(mail, PARSER_OPTIONS);
    const ours = async (mail: Buffer) => {
        const parsed = await parseMail(mail);
        mayLightTower({ from: parsed.from, verdicts: PASSING_VERDICTS, allowedSenders: BENCH_ALLOWED_SENDERS });
        return classify(parsed, rules);
    };
    // Warm both paths so the JIT does not flatter whichever runs second.
    await throughput(mails, raw, 200);
    await throughput(mails, ours, 200);
    await throughput(mails, rawSameOptions, 200);
    const rawRounds: number[] = [];
    const ourRounds: number[] = [];
    const sameOptionRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
        // Alternate which goes first, so drift (GC, CPU frequency) hits both alike.
        if (round % 2 === 0) {
            rawRounds.push(await throughput(mails, raw, ROUND_MS));
            sameOptionRounds.push(await throughput(mails, rawSameOptions, ROUND_MS));
            ourRounds.push(await throughput(mails, ours, ROUND_MS));
        } else {
            ourRounds.push(await throughput(mails, ours, ROUND_MS));
            sameOptionRounds.push(await throughput(mails, rawSameOptions, ROUND_MS));
            rawRounds.push(await throughput(mails, raw, ROUND_MS));
        }
    }
    const rawParsePerSec = median(rawRounds);
    const classifyPerSec = median(ourRounds);
    const sameOptionsPerSec = median(sameOptionRounds);

    const dir = mkdtempSync(join(tmpdir(), "mail-bench-"));
    let handler: BundleFigures;
    let mailparserOnly: BundleFigures;
    try {
        handler = measureBundle(dir, "mail-ingest", { entryPoints: [join(ROOT, "functions/mail-ingest/handler.ts")] });
        mailparserOnly = measureBundle(dir, "mailparser", { stdin: { contents: 'module.exports = require("mailparser");', resolveDir: ROOT } });
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }

    const result = {
        classifyPerSec: Math.round(classifyPerSec),
        rawParsePerSec: Math.round(rawParsePerSec),
        ratio: Number((classifyPerSec / rawParsePerSec).toFixed(3)),
        rawParseSameOptionsPerSec: Math.round(sameOptionsPerSec),
        ratioSameOptions: Number((classifyPerSec / sameOptionsPerSec).toFixed(3)),
        bundleBytes: handler.bytes,
        initMs: Number(handler.initMs.toFixed(1)),
        mailparserBundleBytes: mailparserOnly.bytes,
        mailparserInitMs: Number(mailparserOnly.initMs.toFixed(1)),
        bundleRatio: Number((handler.bytes / mailparserOnly.bytes).toFixed(3)),
        initRatio: Number((handler.initMs / mailparserOnly.initMs).toFixed(3)),
        mails: mails.length,
    };
    if (values.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
    }
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
    console.log(`mail-ingest benchmark (${mails.length} fixture mails, ${ROUNDS} rounds of ${ROUND_MS} ms, medians)`);
    console.log("");
    console.log("throughput                       mails/s");
    console.log(`  bare mailparser.simpleParser   ${result.rawParsePerSec}`);
    console.log(`  parse + verify + classify      ${result.classifyPerSec}`);
    console.log(`  ratio                          ${result.ratio}   (goal ≥ 0.8)`);
    console.log(`  simpleParser, our options      ${result.rawParseSameOptionsPerSec}   (ratio ${result.ratioSameOptions}: what our layer alone costs)`);
    console.log("");
    console.log("minified bundle (node22, cjs)    size        require() in a fresh process");
    console.log(`  mailparser alone               ${kb(result.mailparserBundleBytes).padEnd(11)} ${result.mailparserInitMs} ms`);
    console.log(`  mail-ingest handler            ${kb(result.bundleBytes).padEnd(11)} ${result.initMs} ms`);
    console.log(`  ratio                          ${String(result.bundleRatio).padEnd(11)} ${result.initRatio}   (goal ≤ 1.3 for both)`);
    console.log("");
    console.log("what the mail-ingest bundle holds:");
    const inMailparser = new Set(mailparserOnly.topInputs.map((p) => p.name));
    const groups = new Map<string, number>();
    for (const part of handler.topInputs) {
        const group = inMailparser.has(part.name)
            ? "mailparser and its dependencies"
            : /^@(aws-sdk|smithy|aws-crypto)\/|^(fast-xml-parser|strnum|tslib|bowser|uuid)$/.test(part.name)
              ? "AWS SDK v3 (S3, SQS, SNS, DynamoDB clients)"
              : part.name.startsWith("functions/")
                ? "alertline's own code"
                : part.name;
        groups.set(group, (groups.get(group) ?? 0) + part.bytes);
    }
    for (const [group, bytes] of [...groups.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${group.padEnd(46)} ${kb(bytes)}`);
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
