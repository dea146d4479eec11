import * as pulumi from "@pulumi/pulumi";
import { AlertChannel } from "./components/alert-channel/alert-channel";
import { AlibabaDatadogIntegration } from "./components/alibaba-integration/alibaba-integration";
import { AwsAlertSources } from "./components/aws-alert-sources/aws-alert-sources";
import { AlertPathDashboard } from "./components/dashboard/alert-path-dashboard";
import { MailIngest } from "./components/mail-ingest/mail-ingest";
import { MonitoredHost } from "./components/monitored-host/monitored-host";
import { SharedNetwork } from "./components/network/network";
import { PatliteSite } from "./components/patlite-site/patlite-site";
import { towerConfig } from "./components/patlite-site/site-config";
import { loadStackConfig } from "./components/shared/stack-config";

// Validate everything first: a bad config fails here, naming the key, before anything is declared.
const { settings, secrets, mailRulesYaml } = loadStackConfig();
const environment = settings.environment;

const network = new SharedNetwork("network", {
    environment,
    cidr: settings.network.cidr,
    availabilityZones: settings.network.availabilityZones,
    natGateways: settings.network.natGateways,
    vpnGatewayAsn: settings.network.vpnGatewayAsn,
    transitGatewayIds: settings.sites.flatMap((site) => (site.transitGatewayId === undefined ? [] : [site.transitGatewayId])),
});

const alerts = new AlertChannel("alerts", {
    environment,
    slackMode: settings.slack.mode,
    slackWebhookUrl: secrets.slackWebhookUrl,
    slackBotToken: secrets.slackBotToken,
    slackChannelId: settings.slack.mode === "app" ? settings.slack.channelId : undefined,
    slackThreadMaxAgeHours: settings.slack.mode === "app" ? settings.slack.threadMaxAgeHours : undefined,
    slackChannel: settings.slack.channel,
    datadogSlackAccount: settings.slack.datadogAccount,
    onCall: settings.oncall,
    onCallApiKey: secrets.onCallApiKey,
    onCallJsmApiToken: secrets.jsmApiToken,
    logRetentionDays: settings.logRetentionDays,
    floodControl: settings.floodControl,
    // EventBridge and Budgets publish only if the topic and its key let them.
    publisherServices:
        settings.awsSources === undefined ? ["cloudwatch.amazonaws.com"] : ["cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"],
});

if (settings.awsSources !== undefined) {
    new AwsAlertSources("aws-sources", { environment, topicArn: alerts.topicArn, ...settings.awsSources });
}

// Hosts take the private subnets in turn, so a second host lands in another availability zone.
// External hosts (not created here) get their Datadog monitors only.
const hosts = settings.hosts.map(
    (host, i) =>
        new MonitoredHost(`host-${host.name}`, {
            environment,
            hostName: host.name,
            external: host.external === undefined ? undefined : { scope: host.external.datadogHost !== undefined ? [`host:${host.external.datadogHost}`] : host.external.tags! },
            vpcId: network.vpcId,
            subnetId: network.privateSubnetIds.apply((ids) => ids[i % ids.length]),
            instanceType: host.instanceType,
            processes: host.processes,
            cpuThresholdPercent: host.cpuThresholdPercent,
            rootVolumeGiB: host.rootVolumeGiB,
            datadogApiKey: secrets.datadogApiKey,
            datadogSite: settings.datadog.site,
            alertTopicArn: alerts.topicArn,
            notify: alerts.datadogHandles,
        }),
);

const hostNamed = (name: string) => hosts[settings.hosts.findIndex((h) => h.name === name)];
// Validation lets only EC2 hosts relay, so these are always set for them.
const relayInstanceId = (name: string) => hostNamed(name).instanceId as pulumi.Output<string>;
const relaySecurityGroupId = (name: string) => hostNamed(name).securityGroupId as pulumi.Output<string>;

// Towers as the functions read them; a site that relays through SSM names its relay host's instance.
const towers = pulumi
    .all(
        settings.sites.map((site) =>
            pulumi
                .output(site.relay === "ssm" ? relayInstanceId(site.relayHost!) : undefined)
                .apply((relayInstanceId) => site.towers.map((tower) => towerConfig(site, tower, relayInstanceId))),
        ),
    )
    .apply((perSite) => perSite.flat());

const mail =
    settings.mail === undefined
        ? undefined
        : new MailIngest("mail", {
              environment,
              mail: settings.mail,
              rulesYaml: mailRulesYaml!,
              towers,
              vpcId: network.vpcId,
              privateSubnetIds: network.privateSubnetIds,
              alertTopicArn: alerts.topicArn,
              alertKeyArn: alerts.keyArn,
              relayInstanceIds: pulumi.all(settings.sites.filter((s) => s.relay === "ssm").map((s) => relayInstanceId(s.relayHost!))),
              logRetentionDays: settings.logRetentionDays,
              onCall: alerts.onCall,
              canary: settings.canary,
              towerProbe: settings.towerProbe,
              // The bot replies in each alert's thread; a webhook would post every note as one more message.
              threadNotes: settings.slack.mode === "app",
          });

const sites = settings.sites.map(
    (site) =>
        new PatliteSite(`site-${site.name}`, {
            environment,
            site,
            vpcCidr: settings.network.cidr,
            vpnGatewayId: network.vpnGatewayId,
            vpnGatewayAsn: settings.network.vpnGatewayAsn,
            privateRouteTableIds: network.privateRouteTableIds,
            attachedTransitGatewayId: site.transitGatewayId === undefined ? undefined : network.attachedTransitGatewayIds[site.transitGatewayId],
            // Validation guarantees mail exists whenever sites do.
            senderSecurityGroupId: site.relay === "ssm" ? relaySecurityGroupId(site.relayHost!) : mail!.dispatcherSecurityGroupId,
            alertTopicArn: alerts.topicArn,
            towerProbe: settings.towerProbe,
        }),
);

// One pane for the alert path; each site's towers add their lines to its site's graphs.
const dashboard = new AlertPathDashboard("alert-path", {
    environment,
    towers: settings.sites.flatMap((site) => site.towers.map((tower) => ({ name: tower.name, site: site.name }))),
    functions: pulumi.all([alerts.notifierFunctionName, mail?.functionNames ?? {}]).apply(([notifier, mailFunctions]) => ({ "slack-notifier": notifier, ...mailFunctions })),
    queues: pulumi.all([alerts.deadLetterQueueName, mail?.deadLetterQueueNames ?? {}]).apply(([notifier, mailQueues]) => ({ "slack-notifier DLQ": notifier, ...mailQueues })),
});

const alibaba = settings.alibaba === undefined ? undefined : new AlibabaDatadogIntegration("alibaba", { environment, accountId: settings.alibaba.accountId });

const byHost = <T>(pick: (host: MonitoredHost) => pulumi.Output<T>, which = settings.hosts) =>
    pulumi.output(Object.fromEntries(which.map((host) => [host.name, pick(hostNamed(host.name))])));

export const alertTopicArn = alerts.topicArn;
export const notifierFunctionName = alerts.notifierFunctionName;
export const datadogHandles = alerts.datadogHandles;
export const vpcId = network.vpcId;
export const vpnGatewayId = network.vpnGatewayId;
export const hostInstanceIds = byHost((h) => h.instanceId, settings.hosts.filter((h) => h.external === undefined));
export const hostMonitorIds = byHost((h) => h.monitorIds);
export const alertAddress = mail?.alertAddress;
/**
 * What to enter in Datadog's Alibaba Cloud integration tile (secret); null in a stack without
 * `alertline:alibaba`. Not undefined: Pulumi warns "Undefined value (alibabaDatadogTile) will not
 * show as a stack output" for a top-level undefined (or an Output of undefined) on every run.
 */
export const alibabaDatadogTile = alibaba?.datadogTile ?? null;
export const mailBucketName = mail?.bucketName;
/** Where the on-call backend's outgoing webhook posts acknowledgements, and its header token (secret). */
export const ackWebhookUrl = mail?.ackWebhookUrl;
export const ackWebhookToken = mail?.ackWebhookToken;
/** The on-call heartbeat the mail-path canary keeps alive. */
export const mailPathHeartbeat = mail?.heartbeatName;
export const dnsRecordsToAdd = mail?.dnsRecordsToAdd;
/** Per site: the YAMAHA RTX configuration to paste on the office router (secret: it holds the pre-shared keys). */
/** The alert-path dashboard (CloudWatch): its name and where it opens in the console. */
export const dashboardName = dashboard.dashboardName;
export const dashboardUrl = dashboard.consoleUrl;
export const siteRouterConfigs = pulumi.output(Object.fromEntries(settings.sites.map((site, i) => [site.name, sites[i].routerConfig])));
export const siteTunnelAddresses = pulumi.output(Object.fromEntries(settings.sites.map((site, i) => [site.name, sites[i].tunnelAddresses])));
