/**
 * A checker for YAMAHA RTX command lines, driven by test/fixtures/contracts/yamaha-rtx/commands.json
 * (written from YAMAHA's command reference, Rev.23.02.02 edition; see that folder's README).
 * Written independently of components/patlite-site/yamaha-rtx-config.ts: given a model and firmware it says
 * whether one line is one of that model's command forms with valid arguments, and if not, why.
 * Proportionate on purpose: only the commands alertline's router configuration uses, and only the
 * forms of each that the fixture lists (its `notes` say what is left out; the checker refuses it).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type RtxModel = "rtx810" | "rtx830" | "rtx1210" | "rtx1220" | "rtx1300";
export const RTX_MODELS: readonly RtxModel[] = ["rtx810", "rtx830", "rtx1210", "rtx1220", "rtx1300"];

/** A parameter type as the fixture writes it. */
export interface ParamSpec {
    readonly range?: "gateway" | "tunnel";
    readonly int?: readonly [number, number];
    readonly enum?: readonly string[];
    readonly ipv4?: boolean;
    readonly ipv4Prefix?: boolean;
    readonly network?: boolean;
    readonly text?: { readonly max: number };
    readonly pattern?: string;
    readonly oneOf?: readonly ParamSpec[];
    readonly kv?: Readonly<Record<string, ParamSpec>>;
    readonly filterAddress?: boolean;
    readonly filterProtocol?: boolean;
    readonly portList?: boolean;
    readonly byModel?: Readonly<Partial<Record<RtxModel, ParamSpec>>>;
    readonly doc?: string;
}

export interface ModelAvailability {
    readonly available?: boolean;
    readonly since?: string;
    readonly confirmed?: boolean;
    readonly note?: string;
}

export interface CommandSpec {
    readonly id: string;
    readonly cite: { readonly section: string; readonly page: number };
    readonly reference: readonly string[];
    readonly forms: readonly string[];
    readonly params?: Readonly<Record<string, ParamSpec>>;
    readonly notes?: string;
    readonly models: Readonly<Record<RtxModel, ModelAvailability>>;
}

export interface ModelSpec {
    readonly firmwareLine: string;
    readonly referenceRevision?: string;
    readonly tunnelRange: readonly [number, number];
    readonly confirmed: boolean;
    readonly note?: string;
}

export interface CommandList {
    readonly models: Readonly<Record<RtxModel, ModelSpec>>;
    readonly params: Readonly<Record<string, ParamSpec>>;
    readonly commands: readonly CommandSpec[];
}

export const RTX_FIXTURES = join(__dirname, "..", "..", "fixtures", "contracts", "yamaha-rtx");

/** The command list fixture. */
export function loadCommandList(): CommandList {
    return JSON.parse(readFileSync(join(RTX_FIXTURES, "commands.json"), "utf8")) as CommandList;
}

/** The command lines of a configuration text: `#` comment lines and blank lines dropped, whitespace trimmed, order kept. */
export function commandLines(text: string): string[] {
    return text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"));
}

// ---- firmware ------------------------------------------------------------------------------

function revision(firmware: string): number[] {
    if (!/^\d+\.\d+\.\d+$/.test(firmware)) throw new Error(`firmware ${JSON.stringify(firmware)} is not a revision like 14.01.20`);
    return firmware.split(".").map(Number);
}

/** Negative when a is an older revision than b. */
export function compareFirmware(a: string, b: string): number {
    const x = revision(a);
    const y = revision(b);
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
}

// ---- form grammar --------------------------------------------------------------------------

type Node =
    | { readonly k: "lit"; readonly word: string }
    | { readonly k: "param"; readonly name: string; readonly prefix: string }
    | { readonly k: "seq"; readonly items: readonly Node[] }
    | { readonly k: "opt"; readonly node: Node }
    | { readonly k: "alt"; readonly options: readonly Node[] }
    | { readonly k: "rep"; readonly node: Node };

function parseForm(form: string): Node {
    const toks = form.match(/\.\.\.|\[|\]|\(|\)|\||[^\s[\]()|]+/g) ?? [];
    let i = 0;
    const alt = (closer: string | undefined): Node => {
        const options: Node[] = [seq(closer)];
        while (toks[i] === "|") {
            i++;
            options.push(seq(closer));
        }
        return options.length === 1 ? options[0] : { k: "alt", options };
    };
    const seq = (closer: string | undefined): Node => {
        const items: Node[] = [];
        while (i < toks.length && toks[i] !== closer && toks[i] !== "|") {
            const t = toks[i++];
            let node: Node;
            if (t === "[") {
                node = { k: "opt", node: alt("]") };
                if (toks[i++] !== "]") throw new Error(`form ${form}: missing ]`);
            } else if (t === "(") {
                node = alt(")");
                if (toks[i++] !== ")") throw new Error(`form ${form}: missing )`);
            } else if (t === "]" || t === ")" || t === "...") {
                throw new Error(`form ${form}: unexpected ${t}`);
            } else {
                const m = /^(.*?)\{([a-z_0-9]+)\}$/.exec(t);
                node = m ? { k: "param", name: m[2], prefix: m[1] } : { k: "lit", word: t };
            }
            while (toks[i] === "...") {
                i++;
                node = { k: "rep", node };
            }
            items.push(node);
        }
        return { k: "seq", items };
    };
    const node = alt(undefined);
    if (i !== toks.length) throw new Error(`form ${form}: unexpected ${toks[i]}`);
    return node;
}

// ---- parameter values ----------------------------------------------------------------------

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const INT = /^(0|[1-9]\d*)$/;
/** Characters §1.5 says must be escaped inside a parameter. */
const NEEDS_ESCAPE = /[?#|>\\'"]/;

function ipv4ToInt(a: string): number {
    return a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function isNetwork(v: string): boolean {
    const m = /^([^/]+)\/(\d{1,2})$/.exec(v);
    if (!m || !IPV4.test(m[1]) || !INT.test(m[2])) return false;
    const bits = Number(m[2]);
    if (bits > 32) return false;
    const host = bits === 32 ? 0 : 2 ** (32 - bits);
    return ipv4ToInt(m[1]) % host === 0 || bits === 32;
}

function filterAddressItem(v: string): boolean {
    const one = (a: string): boolean => {
        const [addr, mask] = a.split("/");
        if (mask !== undefined && (!INT.test(mask) || Number(mask) > 32)) return false;
        if (addr === "*") return mask === undefined;
        const octets = addr.split(".");
        return octets.length === 4 && octets.every((o) => o === "*" || IPV4.test(`${o}.0.0.0`));
    };
    if (v === "*") return true;
    const range = /^([^-]*)-([^-]*)$/.exec(v);
    if (range) return (range[1] === "" || one(range[1])) && (range[2] === "" || one(range[2])) && (range[1] !== "" || range[2] !== "");
    return one(v);
}

const PROTOCOLS = ["icmp", "tcp", "udp", "ipv6", "gre", "esp", "ah", "icmp6", "icmp-error", "icmp-info", "tcpsyn", "tcpfin", "tcprst", "established", "*"];

function portItem(v: string): boolean {
    const port = (p: string): boolean => (INT.test(p) && Number(p) <= 65535) || /^[a-z][a-z0-9-]*$/.test(p);
    if (v === "*") return true;
    const range = /^(\d*)-(\d*)$/.exec(v);
    if (range) return (range[1] === "" || port(range[1])) && (range[2] === "" || port(range[2])) && (range[1] !== "" || range[2] !== "");
    return port(v);
}

function specFor(spec: ParamSpec, model: RtxModel): ParamSpec {
    return spec.byModel?.[model] ?? spec;
}

function describe(spec: ParamSpec, model: RtxModel, ranges: ModelSpec): string {
    const s = specFor(spec, model);
    if (s.range) return `an integer ${ranges.tunnelRange[0]}..${ranges.tunnelRange[1]} on ${model}`;
    if (s.int) return `an integer ${s.int[0]}..${s.int[1]}`;
    if (s.enum) return `one of ${s.enum.join("|")}${spec.byModel?.[model] ? ` on ${model}` : ""}`;
    if (s.ipv4) return "an IPv4 address";
    if (s.ipv4Prefix) return "an IPv4 address with an optional /0..32";
    if (s.network) return "a network address/prefix length (host bits zero)";
    if (s.text) return `one token of at most ${s.text.max} ASCII characters without unescaped ? # | > \\ ' "`;
    if (s.pattern) return `a value matching ${s.pattern}`;
    if (s.oneOf) return s.oneOf.map((o) => describe(o, model, ranges)).join(" or ");
    if (s.kv) return `TYPE=VALUE with TYPE one of ${Object.keys(s.kv).join("|")}`;
    if (s.filterAddress) return "an ip filter address (*, A.B.C.D with * octets, /mask, ranges, comma lists)";
    if (s.filterProtocol) return "an ip filter protocol list";
    if (s.portList) return "a port list";
    return "a value";
}

/** Why the value is refused, or undefined when it is valid. */
function refuse(value: string, spec: ParamSpec, model: RtxModel, ranges: ModelSpec): string | undefined {
    const s = specFor(spec, model);
    const ok = ((): boolean => {
        if (s.range) return INT.test(value) && Number(value) >= ranges.tunnelRange[0] && Number(value) <= ranges.tunnelRange[1];
        if (s.int) return INT.test(value) && Number(value) >= s.int[0] && Number(value) <= s.int[1];
        if (s.enum) return s.enum.includes(value);
        if (s.ipv4) return IPV4.test(value);
        if (s.ipv4Prefix) {
            const [a, m, extra] = value.split("/");
            return extra === undefined && IPV4.test(a) && (m === undefined || (INT.test(m) && Number(m) <= 32));
        }
        if (s.network) return isNetwork(value);
        if (s.text) return value.length >= 1 && value.length <= s.text.max && /^[\x21-\x7e]+$/.test(value) && !NEEDS_ESCAPE.test(value);
        if (s.pattern) return new RegExp(s.pattern).test(value);
        if (s.oneOf) return s.oneOf.some((o) => refuse(value, o, model, ranges) === undefined);
        if (s.kv) {
            const eq = value.indexOf("=");
            const key = value.slice(0, eq);
            return eq > 0 && Object.hasOwn(s.kv, key) && refuse(value.slice(eq + 1), s.kv[key], model, ranges) === undefined;
        }
        if (s.filterAddress) return value.split(",").every(filterAddressItem);
        if (s.filterProtocol) return value.split(",").every((p) => PROTOCOLS.includes(p) || (INT.test(p) && Number(p) <= 255));
        if (s.portList) return value.split(",").every(portItem);
        throw new Error(`parameter spec without a type: ${JSON.stringify(spec)}`);
    })();
    return ok ? undefined : `${JSON.stringify(value)} is not ${describe(spec, model, ranges)}`;
}

// ---- matching ------------------------------------------------------------------------------

interface MatchContext {
    readonly tokens: readonly string[];
    readonly params: Readonly<Record<string, ParamSpec>>;
    readonly model: RtxModel;
    readonly ranges: ModelSpec;
    /** The furthest token a refusal was found at, and why. */
    best: { at: number; why: string };
}

/** Keeps the refusal found furthest into the line; at the same token the first one found (the more specific) stays. */
function fail(ctx: MatchContext, at: number, why: string): void {
    if (at > ctx.best.at) ctx.best = { at, why };
}

/** The token positions where `node`, started at `pos`, can end. */
function match(node: Node, pos: number, ctx: MatchContext): Set<number> {
    const { tokens } = ctx;
    switch (node.k) {
        case "lit":
            if (tokens[pos] === node.word) return new Set([pos + 1]);
            fail(ctx, pos, pos < tokens.length ? `expected ${JSON.stringify(node.word)}, found ${JSON.stringify(tokens[pos])}` : `missing ${JSON.stringify(node.word)}`);
            return new Set();
        case "param": {
            const spec = ctx.params[node.name];
            if (!spec) throw new Error(`no parameter {${node.name}} in the command list`);
            if (pos >= tokens.length) {
                fail(ctx, pos, `missing {${node.name}}`);
                return new Set();
            }
            const t = tokens[pos];
            if (!t.startsWith(node.prefix)) {
                fail(ctx, pos, `expected ${node.prefix}{${node.name}}, found ${JSON.stringify(t)}`);
                return new Set();
            }
            const why = refuse(t.slice(node.prefix.length), spec, ctx.model, ctx.ranges);
            if (why) {
                fail(ctx, pos, `{${node.name}} ${why}`);
                return new Set();
            }
            return new Set([pos + 1]);
        }
        case "seq": {
            let at = new Set([pos]);
            for (const item of node.items) {
                const next = new Set<number>();
                for (const p of at) for (const e of match(item, p, ctx)) next.add(e);
                at = next;
                if (at.size === 0) break;
            }
            return at;
        }
        case "opt":
            return new Set([pos, ...match(node.node, pos, ctx)]);
        case "alt": {
            const out = new Set<number>();
            for (const o of node.options) for (const e of match(o, pos, ctx)) out.add(e);
            return out;
        }
        case "rep": {
            const out = new Set<number>();
            let frontier = match(node.node, pos, ctx);
            while (frontier.size > 0) {
                const next = new Set<number>();
                for (const p of frontier) {
                    if (out.has(p)) continue;
                    out.add(p);
                    for (const e of match(node.node, p, ctx)) if (!out.has(e)) next.add(e);
                }
                frontier = next;
            }
            return out;
        }
    }
}

export type LineVerdict =
    | { readonly ok: true; readonly command: string; readonly cite: string; readonly confirmed: boolean }
    | { readonly ok: false; readonly command?: string; readonly reason: string };

/** The grammar for one model and firmware (firmware omitted = a firmware that has every command of the model). */
export class RtxCommandChecker {
    private readonly forms = new Map<string, readonly Node[]>();

    constructor(
        readonly model: RtxModel,
        readonly firmware?: string,
        private readonly list: CommandList = loadCommandList(),
    ) {
        const spec = list.models[model];
        if (!spec) throw new Error(`unknown model ${JSON.stringify(model)}; one of ${RTX_MODELS.join(", ")}`);
        if (firmware !== undefined) {
            revision(firmware);
            if (!firmware.startsWith(`${spec.firmwareLine}.`)) throw new Error(`firmware ${firmware} is not a ${model} revision (Rev.${spec.firmwareLine}.xx)`);
        }
        for (const c of list.commands) this.forms.set(c.id, c.forms.map(parseForm));
    }

    /** Whether `line` is one of this model's command forms with valid arguments; if not, why. */
    check(line: string): LineVerdict {
        const tokens = line.trim().split(/\s+/);
        const candidates = this.list.commands
            .filter((c) => {
                const words = c.id.split(" ");
                return words.every((w, i) => tokens[i] === w);
            })
            .sort((a, b) => b.id.split(" ").length - a.id.split(" ").length);
        const command = candidates[0];
        if (!command) return { ok: false, reason: `${JSON.stringify(line)}: not a command in the list (test/fixtures/contracts/yamaha-rtx/commands.json)` };
        const cite = `§${command.cite.section} p.${command.cite.page}`;
        const where = this.list.models[this.model];
        const availability = command.models[this.model];
        if (!availability || availability.available === false) {
            return { ok: false, command: command.id, reason: `${JSON.stringify(line)}: ${command.id} is not available on ${this.model}${availability?.note ? ` (${availability.note})` : ""}` };
        }
        if (availability.since && this.firmware !== undefined && compareFirmware(this.firmware, availability.since) < 0) {
            return { ok: false, command: command.id, reason: `${JSON.stringify(line)}: ${command.id} needs ${this.model} Rev.${availability.since} or later, firmware is Rev.${this.firmware} (${cite})` };
        }
        const ctx: MatchContext = { tokens, params: { ...this.list.params, ...command.params }, model: this.model, ranges: where, best: { at: -1, why: "" } };
        for (const form of this.forms.get(command.id) ?? []) {
            if (match(form, 0, ctx).has(tokens.length)) {
                return { ok: true, command: command.id, cite, confirmed: availability.confirmed !== false };
            }
            // a form that matched only a prefix: the rest is what is wrong
            for (const end of match(form, 0, ctx)) fail(ctx, end, `unexpected ${JSON.stringify(tokens[end])}`);
        }
        return { ok: false, command: command.id, reason: `${JSON.stringify(line)}: token ${ctx.best.at + 1} (${JSON.stringify(tokens[ctx.best.at] ?? "")}): ${ctx.best.why} (${command.id}, ${cite})` };
    }

    /** Every refused line of a configuration text, with its line number (1-based, in the text) and why. */
    checkText(text: string): { readonly lineNumber: number; readonly line: string; readonly reason: string }[] {
        const failures: { lineNumber: number; line: string; reason: string }[] = [];
        text.split(/\r?\n/).forEach((raw, i) => {
            const line = raw.trim();
            if (line === "" || line.startsWith("#")) return;
            const verdict = this.check(line);
            if (!verdict.ok) failures.push({ lineNumber: i + 1, line, reason: verdict.reason });
        });
        return failures;
    }
}
