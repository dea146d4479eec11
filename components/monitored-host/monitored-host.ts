import * as aws from "@pulumi/aws";
import * as datadog from "@pulumi/datadog";
import * as pulumi from "@pulumi/pulumi";
import { hostMonitorSpecs, MonitorSpec, withNotify } from "./datadog-monitors";
import { hostUserData } from "./host-user-data";
import { accountIamDecidesStatement, serviceAssumeRolePolicy, ssmAgentStatements } from "../shared/iam-documents";
import { standardTags } from "../shared/tags";

/** Arguments for {@link MonitoredHost}. */
export interface MonitoredHostArgs {
    /** Environment name, used in names, tags and Datadog scopes. */
    readonly environment: string;
    /** The host's alertline name (config `hosts[].name`). */
    readonly hostName: string;
    /** A host alertline does not create: only its monitors, over this Datadog scope. Default: alertline creates an EC2 host. */
    readonly external?: { readonly scope: readonly string[] };
    /** VPC the host lives in (EC2 hosts). */
    readonly vpcId?: pulumi.Input<string>;
    /** Private subnet for the host; it gets no public IP (EC2 hosts). */
    readonly subnetId?: pulumi.Input<string>;
    /** EC2 instance type. Default "t3.small". */
    readonly instanceType?: string;
    /** Processes Datadog must see running. Default ["chronyd", "sshd"]. */
    readonly processes?: readonly string[];
    /** CPU user percentage that alerts, in Datadog and CloudWatch. Default 80. */
    readonly cpuThresholdPercent?: number;
    /** Root volume size in GiB. Default 20. */
    readonly rootVolumeGiB?: number;
    /** Datadog API key; stored only in an SSM SecureString that the host reads at boot (EC2 hosts). */
    readonly datadogApiKey?: pulumi.Input<string>;
    /** Datadog site the Agent reports to. Default "datadoghq.com". */
    readonly datadogSite?: string;
    /** Alert channel topic that the CloudWatch alarms publish to (EC2 hosts). */
    readonly alertTopicArn?: pulumi.Input<string>;
    /** Datadog notification handles of the alert channel, appended to every monitor message. */
    readonly notify: pulumi.Input<string>;
}

/**
 * A host watched by Datadog, with monitors routed to the alert channel. By default alertline
 * creates it: an EC2 instance, private, IMDSv2-only, encrypted with its own key, reachable only
 * through Session Manager, with CloudWatch alarms too. An `external` host (existing EC2, on
 * premises, Alibaba Cloud ECS) gets the monitors only.
 */
export class MonitoredHost extends pulumi.ComponentResource {
    /** EC2 instance ID (undefined for an external host). */
    declare readonly instanceId: pulumi.Output<string | undefined>;
    /** Private IP address (undefined for an external host). */
    declare readonly privateIp: pulumi.Output<string | undefined>;
    /** The host's security group; a site that relays through this host adds its tower rules here. */
    declare readonly securityGroupId: pulumi.Output<string | undefined>;
    /** Datadog monitor IDs by purpose (`process-chronyd`, `agent-up`, `cpu`). */
    declare readonly monitorIds: pulumi.Output<Record<string, string>>;
    /** ARNs of the CloudWatch alarms. */
    declare readonly alarmArns: pulumi.Output<string[]>;

    constructor(name: string, args: MonitoredHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("alertline:index:MonitoredHost", name, {}, opts);
        const tags = standardTags(args.environment, name, { Name: `alertline-${args.environment}-${args.hostName}` });
        const processes = args.processes ?? ["chronyd", "sshd"];
        const cpuThreshold = args.cpuThresholdPercent ?? 80;
        const instanceType = args.instanceType ?? "t3.small";

        const monitorIds: Record<string, pulumi.Output<string>> = {};
        const specs = hostMonitorSpecs({ environment: args.environment, hostName: args.hostName, processes, cpuThresholdPercent: cpuThreshold, scope: args.external?.scope });
        for (const spec of specs) {
            const monitor = new datadog.Monitor(
                `${name}-${spec.key}`,
                {
                    name: spec.name,
                    type: spec.type,
                    query: spec.query,
                    // The handles come from the alert channel's resources, so monitors wait for them.
                    message: pulumi.output(args.notify).apply((notify) => withNotify(spec.message, notify)),
                    monitorThresholds: thresholdsAsText(spec.thresholds),
                    notifyNoData: spec.notifyNoData,
                    noDataTimeframe: spec.noDataTimeframeMinutes,
                    priority: spec.priority,
                    includeTags: true,
                    tags: spec.tags,
                },
                { parent: this },
            );
            monitorIds[spec.key] = monitor.id;
        }

        this.monitorIds = pulumi.output(monitorIds);
        if (args.external !== undefined) {
            this.instanceId = pulumi.output(undefined);
            this.privateIp = pulumi.output(undefined);
            this.securityGroupId = pulumi.output(undefined);
            this.alarmArns = pulumi.output([]);
            this.registerOutputs({ monitorIds: this.monitorIds });
            return;
        }
        const { vpcId, subnetId, datadogApiKey, alertTopicArn } = requireEc2Args(args);
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const region = aws.getRegionOutput({}, { parent: this });

        const key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `alertline ${args.environment} ${args.hostName}: root volume and Datadog key parameter`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: identity.accountId.apply((accountId) => JSON.stringify(accountOnlyKeyPolicy(accountId))),
                tags,
            },
            { parent: this },
        );

        const apiKeyParameter = new aws.ssm.Parameter(
            `${name}-datadog-api-key`,
            {
                name: `/alertline/${args.environment}/${args.hostName}/datadog-api-key`,
                description: "Datadog API key the Agent reads at boot",
                type: "SecureString",
                keyId: key.arn,
                // A plain secret argument, not `valueWo`: Pulumi keeps a write-only input in state as a
                // secret all the same, and a secret argument also shows a rotated key as a diff.
                value: pulumi.secret(datadogApiKey),
                tags,
            },
            { parent: this },
        );

        const role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `alertline ${args.environment} ${args.hostName}: Session Manager and its Datadog key`,
                assumeRolePolicy: JSON.stringify(serviceAssumeRolePolicy("ec2.amazonaws.com")),
                tags,
            },
            { parent: this },
        );
        // Not AWS's AmazonSSMManagedInstanceCore: that one also lets a host read every parameter of the account.
        new aws.iam.RolePolicy(`${name}-ssm-agent`, { role: role.name, policy: JSON.stringify(ssmAgentPolicy()) }, { parent: this });
        new aws.iam.RolePolicy(
            `${name}-read-api-key`,
            {
                role: role.name,
                policy: pulumi
                    .all([apiKeyParameter.arn, key.arn, region.region])
                    .apply(([parameterArn, keyArn, regionName]) => JSON.stringify(readApiKeyPolicy(parameterArn, keyArn, regionName))),
            },
            { parent: this },
        );
        const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, { parent: this });

        // No ingress at all: Session Manager replaces SSH. Egress HTTPS only (Datadog, SSM, package repos).
        const securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            {
                vpcId,
                description: `alertline ${args.hostName}: no inbound; HTTPS out`,
                tags,
            },
            { parent: this },
        );
        // A separate rule, not inline `egress`: a relay host's sites add tower rules to this group, which an inline list would remove.
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-https-egress`,
            { securityGroupId: securityGroup.id, description: "HTTPS to Datadog, SSM and package repositories", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", tags },
            { parent: this },
        );

        const ami = aws.ec2.getAmiOutput(
            {
                mostRecent: true,
                owners: ["amazon"],
                filters: [
                    { name: "name", values: [`al2023-ami-2023.*-${amiArchitecture(instanceType)}`] },
                    { name: "state", values: ["available"] },
                ],
            },
            { parent: this },
        );

        const instance = new aws.ec2.Instance(
            `${name}-instance`,
            {
                ami: ami.id,
                instanceType,
                subnetId,
                associatePublicIpAddress: false,
                vpcSecurityGroupIds: [securityGroup.id],
                iamInstanceProfile: profile.name,
                metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
                rootBlockDevice: { encrypted: true, kmsKeyId: key.arn, volumeType: "gp3", volumeSize: args.rootVolumeGiB ?? 20 },
                userData: region.region.apply((regionName) =>
                    hostUserData({
                        environment: args.environment,
                        hostName: args.hostName,
                        datadogSite: args.datadogSite ?? "datadoghq.com",
                        apiKeyParameterName: `/alertline/${args.environment}/${args.hostName}/datadog-api-key`,
                        region: regionName,
                        processes,
                    }),
                ),
                monitoring: true,
                tags,
                volumeTags: tags,
            },
            // A newer AMI must not replace a running host on the next `pulumi up`; roll hosts on
            // purpose with `pulumi up --replace <urn>`.
            { parent: this, ignoreChanges: ["ami"], dependsOn: [apiKeyParameter] },
        );

        const alarms = cloudWatchAlarmSpecs(args.hostName, cpuThreshold).map(
            (spec) =>
                new aws.cloudwatch.MetricAlarm(
                    `${name}-${spec.key}`,
                    {
                        name: `alertline-${args.environment}-${args.hostName}-${spec.key}`,
                        alarmDescription: spec.description,
                        namespace: "AWS/EC2",
                        metricName: spec.metricName,
                        statistic: spec.statistic,
                        period: spec.periodSeconds,
                        evaluationPeriods: spec.evaluationPeriods,
                        threshold: spec.threshold,
                        comparisonOperator: spec.comparisonOperator,
                        treatMissingData: spec.treatMissingData,
                        dimensions: { InstanceId: instance.id },
                        alarmActions: [alertTopicArn],
                        okActions: [alertTopicArn],
                        tags,
                    },
                    { parent: this },
                ),
        );

        this.instanceId = instance.id;
        this.privateIp = instance.privateIp;
        this.securityGroupId = securityGroup.id;
        this.alarmArns = pulumi.all(alarms.map((a) => a.arn));
        this.registerOutputs({ instanceId: this.instanceId, privateIp: this.privateIp, securityGroupId: this.securityGroupId, monitorIds: this.monitorIds, alarmArns: this.alarmArns });
    }
}

/** The arguments only an EC2 host needs; their absence is a wiring mistake, named here. */
function requireEc2Args(args: MonitoredHostArgs) {
    const { vpcId, subnetId, datadogApiKey, alertTopicArn } = args;
    const missing = Object.entries({ vpcId, subnetId, datadogApiKey, alertTopicArn }).filter(([, v]) => v === undefined).map(([k]) => k);
    if (missing.length > 0) {
        throw new Error(`MonitoredHost "${args.hostName}" is an EC2 host but lacks ${missing.join(", ")}; pass them, or mark the host external`);
    }
    return { vpcId: vpcId!, subnetId: subnetId!, datadogApiKey: datadogApiKey!, alertTopicArn: alertTopicArn! };
}

/** The Datadog provider takes thresholds as decimal strings. */
export function thresholdsAsText(thresholds: MonitorSpec["thresholds"]): Record<string, string> {
    return Object.fromEntries(Object.entries(thresholds).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
}

/** Graviton instance families (t4g, m7g, c8gd…) need the arm64 image. */
export function amiArchitecture(instanceType: string): "arm64" | "x86_64" {
    const family = instanceType.split(".")[0];
    return /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family) ? "arm64" : "x86_64";
}

/** CloudWatch alarms per host, as data. */
export interface AlarmSpec {
    readonly key: string;
    readonly description: string;
    readonly metricName: string;
    readonly statistic: "Average" | "Maximum";
    readonly periodSeconds: number;
    readonly evaluationPeriods: number;
    readonly threshold: number;
    readonly comparisonOperator: "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold";
    readonly treatMissingData: "missing" | "breaching" | "notBreaching";
}

export function cloudWatchAlarmSpecs(hostName: string, cpuThresholdPercent: number): AlarmSpec[] {
    return [
        {
            key: "cpu-alarm",
            description: `${hostName}: CPUUtilization at or above ${cpuThresholdPercent}% for 15 minutes`,
            metricName: "CPUUtilization",
            statistic: "Average",
            periodSeconds: 300,
            evaluationPeriods: 3,
            threshold: cpuThresholdPercent,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            treatMissingData: "missing",
        },
        {
            key: "status-check-alarm",
            description: `${hostName}: EC2 status check failed (instance or system) for 2 minutes`,
            metricName: "StatusCheckFailed",
            statistic: "Maximum",
            periodSeconds: 60,
            evaluationPeriods: 2,
            threshold: 1,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            // A stopped or vanished instance stops reporting: that is an outage, not "no news".
            treatMissingData: "breaching",
        },
    ];
}

/** Only this account's IAM decides who uses the key; EC2 and SSM act on behalf of those principals. */
export function accountOnlyKeyPolicy(accountId: string) {
    return { Version: "2012-10-17", Statement: [accountIamDecidesStatement(accountId)] };
}

/** What the SSM Agent needs for Session Manager and Run Command; no parameter reads (see {@link ssmAgentStatements}). */
export function ssmAgentPolicy() {
    return { Version: "2012-10-17", Statement: ssmAgentStatements() };
}

/**
 * The host may read its own Datadog key parameter and decrypt it, through Parameter Store only,
 * and nothing else of the key: no other host's parameter, no other parameter of the account.
 */
export function readApiKeyPolicy(parameterArn: string, keyArn: string, region: string) {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadDatadogKey", Effect: "Allow", Action: "ssm:GetParameter", Resource: parameterArn },
            {
                Sid: "DecryptDatadogKey",
                Effect: "Allow",
                Action: "kms:Decrypt",
                Resource: keyArn,
                Condition: { StringEquals: { "kms:EncryptionContext:PARAMETER_ARN": parameterArn, "kms:ViaService": `ssm.${region}.amazonaws.com` } },
            },
        ],
    };
}
