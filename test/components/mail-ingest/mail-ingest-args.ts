import type { MailIngestArgs } from "../../../components/mail-ingest/mail-ingest";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import type { TowerConfig } from "../../../functions/shared/tower-config";

/** One PNS tower at the Tokyo site, as towers.json would hold it. */
export const mailIngestTowers: TowerConfig[] = [
    { name: "tokyo-ops", site: "tokyo", host: "192.168.10.50", port: 10000, protocol: "pns", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] },
];

/** MailIngest's arguments for the component tests: dev, one tower, no on-call, canary or probe unless overridden. */
export const mailIngestArgs = (overrides: Partial<MailIngestArgs> = {}): MailIngestArgs => ({
    environment: "dev",
    mail: { domain: "alerts.example.jp", recipient: "patlite", activateRuleSet: false, retentionDays: 30, allowedSenders: ["*@zabbix.example.jp"] },
    rulesYaml: "defaultSeverity: info\nrules: []\n",
    towers: mailIngestTowers,
    vpcId: "vpc-1",
    privateSubnetIds: ["subnet-private-1", "subnet-private-2"],
    alertTopicArn: "arn:aws:sns:ap-northeast-1:123456789012:alerts",
    alertKeyArn: "arn:aws:kms:ap-northeast-1:123456789012:key/alerts",
    ...overrides,
});
