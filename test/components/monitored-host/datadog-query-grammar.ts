/**
 * A small grammar of the two monitor queries alertline writes, from Datadog's API reference
 * ("Create a monitor", Query Types; test/fixtures/contracts/datadog/monitor-queries.json) and
 * Datadog's tag syntax. Written independently of components/monitored-host/datadog-monitors.ts: it parses a
 * query into its parts or says what is wrong, so a test can hold generated queries to the
 * documented form. Proportionate on purpose: only metric alerts and service checks, no
 * functions, arithmetic, change alerts or negated tags.
 */

export type ParsedQuery =
    | {
          readonly kind: "metric alert";
          readonly timeAggr: string;
          readonly timeWindow: string;
          readonly spaceAggr: string;
          readonly metric: string;
          readonly scope: readonly string[];
          readonly groupBy: readonly string[];
          readonly operator: string;
          readonly threshold: number;
      }
    | { readonly kind: "service check"; readonly check: string; readonly over: readonly string[]; readonly groupBy: readonly string[]; readonly last: number };

/** A Datadog tag: starts with a letter; alphanumerics, `_`, `-`, `:`, `.`, `/`; at most 200 characters. */
const TAG = /^[A-Za-z][A-Za-z0-9_\-:./]{0,199}$/;
/** A metric or check name: starts with a letter; alphanumerics, `_` and `.`. */
const NAME = /^[A-Za-z][A-Za-z0-9_.]{0,199}$/;
/** A group-by key: the key part of a key:value tag. */
const KEY = /^[A-Za-z][A-Za-z0-9_\-./]*$/;

function tags(list: string, where: string): string[] {
    const items = list.split(",").map((t) => t.trim());
    if (items.length === 1 && items[0] === "*") return ["*"];
    for (const tag of items) if (!TAG.test(tag)) throw new Error(`${where}: ${JSON.stringify(tag)} is not a Datadog tag (starts with a letter; letters, digits, _ - : . /)`);
    return items;
}

function timeWindowOk(window: string): boolean {
    const m = /^last_(\d+)([mhdw])$/.exec(window);
    if (!m) return false;
    const n = Number(m[1]);
    if (m[2] === "m") return n >= 1 && n <= 10080;
    if (m[2] === "h") return n >= 1 && n <= 168;
    return n === 1;
}

const METRIC = /^(avg|sum|max|min)\((\w+)\):(avg|sum|min|max):([^{\s]+)\{([^}]*)\}(?: by \{([^}]*)\})? (<=|>=|==|!=|<|>) (-?\d+(?:\.\d+)?)$/;

/** Parses `time_aggr(time_window):space_aggr:metric{tags} [by {key}] operator #`; throws saying what is wrong. */
export function parseMetricAlert(query: string): ParsedQuery {
    const m = METRIC.exec(query);
    if (!m) throw new Error(`not a metric alert query (time_aggr(time_window):space_aggr:metric{tags} [by {key}] operator #): ${query}`);
    const [, timeAggr, timeWindow, spaceAggr, metric, scope, by, operator, threshold] = m;
    if (!timeWindowOk(timeWindow)) throw new Error(`time window ${timeWindow} is not last_#m (1–10080), last_#h (1–168), last_1d or last_1w`);
    if (!NAME.test(metric)) throw new Error(`metric ${JSON.stringify(metric)} is not a metric name`);
    if (scope.trim() === "") throw new Error("the scope {…} needs one or more tags or *");
    const groupBy = by === undefined ? [] : by.split(",").map((k) => k.trim());
    for (const key of groupBy) if (!KEY.test(key)) throw new Error(`group-by key ${JSON.stringify(key)} is not a tag key`);
    return { kind: "metric alert", timeAggr, timeWindow, spaceAggr, metric, scope: tags(scope, "scope"), groupBy, operator, threshold: Number(threshold) };
}

/** Splits `"a", "b"` into its quoted strings; throws for anything unquoted. */
function quotedList(text: string, where: string): string[] {
    const items: string[] = [];
    const rest = text.replace(/\s*"([^"]*)"\s*(,|$)/g, (_, item: string) => {
        items.push(item);
        return "";
    });
    if (rest !== "" || items.length === 0) throw new Error(`${where}(${text}): needs one or more quoted values, comma-separated`);
    return items;
}

const CHECK = /^"([^"]+)"\.over\(([^)]*)\)((?:\.(?:by|last)\([^)]*\))*)\.count_by_status\(\)$/;

/** Parses `"check".over(tags).last(count).by(group).count_by_status()` (by and last in either order); throws saying what is wrong. */
export function parseServiceCheck(query: string): ParsedQuery {
    const m = CHECK.exec(query);
    if (!m) throw new Error(`not a service check query ("check".over(tags).last(count).by(group).count_by_status()): ${query}`);
    const [, check, over, calls] = m;
    if (!NAME.test(check)) throw new Error(`check ${JSON.stringify(check)} is not a check name`);
    if (over.trim() === "") throw new Error("over cannot be blank");
    const overTags = quotedList(over, "over");
    const scope = overTags.length === 1 && overTags[0] === "*" ? ["*"] : tags(overTags.join(","), "over");
    const parts = [...calls.matchAll(/\.(by|last)\(([^)]*)\)/g)].map(([, name, args]) => ({ name, args }));
    const by = parts.filter((p) => p.name === "by");
    const last = parts.filter((p) => p.name === "last");
    if (by.length !== 1) throw new Error("a check monitor needs exactly one .by(group)");
    if (last.length !== 1) throw new Error("a check monitor needs exactly one .last(count)");
    const groupBy = quotedList(by[0].args, "by");
    for (const key of groupBy) if (!KEY.test(key)) throw new Error(`group ${JSON.stringify(key)} is not a tag key`);
    if (!/^\d+$/.test(last[0].args.trim())) throw new Error(`last(${last[0].args}) needs a whole count`);
    const count = Number(last[0].args);
    if (count < 1 || count > 100) throw new Error(`last(${count}): the count is 1–100`);
    return { kind: "service check", check, over: scope, groupBy, last: count };
}

/** Parses a query of the given monitor type. */
export function parseMonitorQuery(type: string, query: string): ParsedQuery {
    if (type === "service check") return parseServiceCheck(query);
    if (type === "metric alert" || type === "query alert") return parseMetricAlert(query);
    throw new Error(`monitor type ${JSON.stringify(type)} is outside this grammar`);
}
