import type { MailRoute, MailRules } from "./mail-rules";
import type { Severity } from "./severity";

/**
 * Which towers a classified mail is routed to, and what the plan warns about routing. Isolation by
 * construction: a tower is a target only when the matched rule names it, names its site, or says
 * `towers: all`. Nothing is a default, so a site added under `alertline:sites` is dark for every
 * existing rule until a rule names it. Whether the mail may then light a target is the sender
 * check's decision, per tower with its site's allow list (mail-ingest's analyseMail).
 */

/** What routing needs of a tower (towers.json has more). */
export interface RoutableTower {
    readonly name: string;
    readonly site: string;
}

/** Severities whose intent lights a tower; recovery only clears, ignore sends nothing. */
export const LIGHTING_SEVERITIES: readonly Severity[] = ["critical", "warning", "info"];

/**
 * The towers a route names, in the order of `towers` (the stack's order). A tower name no tower
 * carries becomes a problem, reported in the alert channel; a site name none carries just lights
 * nothing. The plan refuses both (components/shared/stack-config.ts checkMailRules), so they only occur
 * with a package not built from the stack's config (a test's, `mail` run on other rules).
 */
export function routeTowers<T extends RoutableTower>(route: MailRoute, towers: readonly T[], rule: string | null): { towers: T[]; problems: string[] } {
    if (route.all) return { towers: [...towers], problems: [] };
    const towerNames = new Set(route.towers);
    const siteNames = new Set(route.sites);
    const problems = route.towers
        .filter((name) => !towers.some((t) => t.name === name))
        .map((name) => `rule "${rule}" names tower "${name}", which is not configured; fix the rule's towers or add the tower under alertline:sites`);
    return { towers: towers.filter((t) => towerNames.has(t.name) || siteNames.has(t.site)), problems };
}

/** A site as the routing check sees it. */
export interface RoutableSite {
    readonly name: string;
    readonly towers: readonly { readonly name: string }[];
}

/** One routing warning: about a rule that names no destination, or a site no rule can light. */
export type RoutingWarning =
    | { readonly kind: "rule-without-destination"; readonly rule: string; readonly message: string }
    | { readonly kind: "site-never-lit"; readonly site: string; readonly message: string };

/**
 * What the plan warns about (none of it is wrong, all of it is easy to get wrong):
 * - a rule whose severity shows on a tower (critical, warning, info, recovery) but that names no
 *   tower or site and does not say `towers: none`: it lights nothing, where before this release a
 *   rule without `towers` lit every tower;
 * - a site whose towers no critical, warning or info rule can light (named by no such rule,
 *   directly or by a tower, and no such rule says `towers: all`): a site added without its routing.
 * Pure.
 */
export function routingWarnings(rules: MailRules, sites: readonly RoutableSite[]): RoutingWarning[] {
    const warnings: RoutingWarning[] = [];
    for (const rule of rules.rules) {
        if (rule.severity === "ignore" || rule.towers === "none") continue;
        if (rule.route.all || rule.route.towers.length > 0 || rule.route.sites.length > 0) continue;
        const what = rule.severity === "recovery" ? "the alerts it recovers clear on no tower" : "the mail it matches lights no tower";
        warnings.push({
            kind: "rule-without-destination",
            rule: rule.name,
            message:
                `rule "${rule.name}" (${rule.severity}) names no site or tower, so ${what} (it still reaches the alert channel). ` +
                "A rule without towers used to light every tower; say where its mail goes: sites: [<site>, ...] and/or towers: [<tower>, ...], " +
                "towers: all for every tower (also of sites added later), or towers: none to keep it off the towers and silence this warning",
        });
    }
    const lighting = rules.rules.filter((r) => LIGHTING_SEVERITIES.includes(r.severity));
    if (lighting.some((r) => r.route.all)) return warnings;
    for (const site of sites) {
        const towerNames = site.towers.map((t) => t.name);
        const names = (r: (typeof rules.rules)[number]) => r.route.sites.includes(site.name) || r.route.towers.some((t) => towerNames.includes(t));
        if (lighting.some(names)) continue;
        const onlyClearing = rules.rules.filter((r) => !LIGHTING_SEVERITIES.includes(r.severity) && names(r)).map((r) => `"${r.name}" (${r.severity})`);
        warnings.push({
            kind: "site-never-lit",
            site: site.name,
            message:
                `site "${site.name}" (towers ${towerNames.join(", ")}): no critical, warning or info rule routes mail to it${onlyClearing.length > 0 ? ` (only ${onlyClearing.join(", ")}, which never light a tower)` : ""}, ` +
                `so its towers never light. Add sites: [${site.name}] (or towers: [${towerNames[0]}]) to the rules whose mail it should show; ` +
                `to route by content (the host a mail names, say) put a rule with that condition before the general ones (README, "Mail rules")`,
        });
    }
    return warnings;
}
