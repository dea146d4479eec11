import { readFileSync } from "node:fs";
import { join } from "node:path";
import { towerConfig } from "../../../components/patlite-site/site-config";
import { checkMailRules, parseSettings, rawSettings } from "../../../components/shared/stack-config";
import type { IngestConfig } from "../../../functions/mail-ingest/ingest";
import { PROJECT_ROOT, readStackConfig } from "../../../tools/offline/stack-files";

/** The site entry of the README's "Adding a customer site, as a pull request", step 1. */
export const README_SITE = {
    name: "nagoya-office",
    cidr: "192.168.30.0/24",
    customerGateway: { ip: "203.0.113.40" },
    router: { model: "rtx830" },
    towers: [{ name: "nagoya-ops", host: "192.168.30.50", protocol: "pns" }],
};

/** A stack's mail-ingest configuration as the program packages it (towers.json from its sites), and the plan's routing warnings. */
export function stackMailConfig(stack: string, overrides: Record<string, unknown> = {}): { config: Pick<IngestConfig, "rules" | "towers" | "allowedSenders">; warnings: string[] } {
    const { config } = readStackConfig(stack, overrides);
    const settings = parseSettings(rawSettings(config, stack));
    const { rules, warnings } = checkMailRules(readFileSync(join(PROJECT_ROOT, settings.mailRules!), "utf8"), settings);
    const towers = settings.sites.flatMap((site) => site.towers.map((tower) => towerConfig(site, tower, site.relay === "ssm" ? "i-0123456789abcdef0" : undefined)));
    return { config: { rules, towers, allowedSenders: settings.mail!.allowedSenders }, warnings };
}

