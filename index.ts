import * as pulumi from "@pulumi/pulumi";
import { AlertChannel } from "./components/alert-channel";
import { MonitoredHost } from "./components/monitored-host";
import { SharedNetwork } from "./components/network";
import { loadStackConfig } from "./components/stack-config";

// Validate everything first: a bad config fails here, naming the key, before anything is declared.
const { settings, secrets } = loadStackConfig();
const environment = settings.environment;

const network = new SharedNetwork("network", {
    environment,
    cidr: settings.network.cidr,
    availabilityZones: settings.network.availabilityZones,
    natGateways: settings.network.natGateways,
    vpnGatewayAsn: settings.network.vpnGatewayAsn,
});

const alerts = new AlertChannel("alerts", {
    environment,
    slackWebhookUrl: secrets.slackWebhookUrl,
    slackChannel: settings.slack.channel,
    datadogSlackAccount: settings.slack.datadogAccount,
    onCall: settings.oncall,
    onCallApiKey: secrets.onCallApiKey,
    logRetentionDays: settings.logRetentionDays,
});

// Hosts take the private subnets in turn, so a second host lands in another availability zone.
const hosts = settings.hosts.map(
    (host, i) =>
        new MonitoredHost(`host-${host.name}`, {
            environment,
            hostName: host.name,
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

const byHost = <T>(pick: (host: MonitoredHost) => pulumi.Output<T>) =>
    pulumi.output(Object.fromEntries(settings.hosts.map((host, i) => [host.name, pick(hosts[i])])));

export const alertTopicArn = alerts.topicArn;
export const notifierFunctionName = alerts.notifierFunctionName;
export const datadogHandles = alerts.datadogHandles;
export const vpcId = network.vpcId;
export const vpnGatewayId = network.vpnGatewayId;
export const hostInstanceIds = byHost((h) => h.instanceId);
export const hostMonitorIds = byHost((h) => h.monitorIds);
