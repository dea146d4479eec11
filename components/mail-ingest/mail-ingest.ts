import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { TowerConfig } from "../../functions/shared/tower-config";
import { THREAD_NOTES_ENV } from "../../functions/shared/thread-note";
import { ONCALL_ALSO_API_KEY_ENV, ONCALL_ALSO_API_URL_ENV, ONCALL_API_KEY_ENV, ONCALL_API_URL_ENV } from "../../functions/shared/oncall-alerts";
import { ackEndpoint } from "./ack-endpoint";
import { serverAccessLogs } from "./access-logs";
import { lambdaFunctionName } from "../shared/function-code";
import { mailCanary, rateExpression } from "./mail-canary";
import { onCallPageTargets, type OnCallLink } from "../shared/oncall/oncall-routing";
import { dispatchFunctionPolicy, ingestFunctionPolicy, mailBucketPolicy, mailKeyPolicy, mailTopicPolicy } from "./mail-ingest-policies";
import { DnsRecord, sesDnsRecords } from "./ses-dns";
import { functionSecret, serviceFunction } from "../shared/service-function";
import { relayDocumentContent, relayTargets } from "./ssm-relay-document";
import type { CanarySettings, MailSettings, TowerProbeSettings } from "../shared/stack-config";
import { standardTags } from "../shared/tags";

/** mail-ingest's reserved concurrency when `alertline:mail.reservedConcurrency` is not set. */
export const DEFAULT_MAIL_INGEST_RESERVED_CONCURRENCY = 5;

/** The reserved concurrency of mail-ingest: the setting, its default, or none (`false`). */
export function mailIngestReservedConcurrency(mail: Pick<MailSettings, "reservedConcurrency">): number | undefined {
    const setting = mail.reservedConcurrency ?? DEFAULT_MAIL_INGEST_RESERVED_CONCURRENCY;
    return setting === false ? undefined : setting;
}

/** Arguments for {@link MailIngest}. */
export interface MailIngestArgs {
    /** Environment name, used in names and tags. */
    readonly environment: string;
    /** The validated `alertline:mail` settings. */
    readonly mail: MailSettings;
    /** Contents of the rules file named by `alertline:mailRules`; packaged with mail-ingest. */
    readonly rulesYaml: string;
    /** Every tower of every site, as the functions read it (`towers.json`). */
    readonly towers: pulumi.Input<TowerConfig[]>;
    /** VPC and private subnets the dispatcher runs in, to reach the towers over the VPN. */
    readonly vpcId: pulumi.Input<string>;
    readonly privateSubnetIds: pulumi.Input<string[]>;
    /** The alert channel's topic and key: summaries, unreachable towers and alarms go there. */
    readonly alertTopicArn: pulumi.Input<string>;
    readonly alertKeyArn: pulumi.Input<string>;
    /** Instance IDs of hosts that relay signals through SSM (sites with relay: ssm). Default none. */
    readonly relayInstanceIds?: pulumi.Input<string[]>;
    /** Days to keep the functions' logs. Default 30. */
    readonly logRetentionDays?: number;
    /**
     * How the functions page on-call (the alert channel's link): mail that lit a tower becomes an
     * alert whose alias is its correlation key, the canary pings a heartbeat, acknowledgements come
     * back through a webhook. Default: none (no paging, no heartbeat, no acknowledgement endpoint).
     */
    readonly onCall?: OnCallLink;
    /** The canary mail and its heartbeat. Default: off. */
    readonly canary?: CanarySettings;
    /** The dispatcher's scheduled tower probe. Default: off. */
    readonly towerProbe?: TowerProbeSettings;
    /**
     * Slack's app mode: tower-dispatch notes each change of what a tower shows, and ack-webhook each
     * accepted acknowledgement, on the alert topic, for the alert's thread. Default false.
     */
    readonly threadNotes?: boolean;
}

/**
 * Alert mail in, tower signals out: SES receives for the alert address (TLS required, scanned),
 * stores each mail in an encrypted bucket (up to 40 MB, unlike the SNS action's 150 KB) and notifies
 * a topic; mail-ingest classifies it and queues one intent per tower on a FIFO queue (a message
 * group per tower); tower-dispatch, inside the VPC, keeps each tower's alerts in DynamoDB and
 * lights it. Failures land in dead-letter queues whose alarms reach the alert channel.
 */
export class MailIngest extends pulumi.ComponentResource {
    /** The address monitoring tools send alerts to. */
    declare readonly alertAddress: pulumi.Output<string>;
    /** Bucket holding every received mail. */
    declare readonly bucketName: pulumi.Output<string>;
    /** Receipt rule set; active only if `mail.activateRuleSet`. */
    declare readonly ruleSetName: pulumi.Output<string>;
    /** DNS records to add by hand when no hosted zone is configured (else empty). */
    declare readonly dnsRecordsToAdd: pulumi.Output<DnsRecord[]>;
    /** FIFO queue of signal intents. */
    declare readonly signalQueueUrl: pulumi.Output<string>;
    /** DynamoDB table of tower state and mail idempotency records. */
    declare readonly stateTableName: pulumi.Output<string>;
    /** Security group of the dispatcher; sites add their towers' ports to it. */
    declare readonly dispatcherSecurityGroupId: pulumi.Output<string>;
    /** URL the on-call backend's outgoing webhook posts acknowledgements to (undefined without on-call). */
    declare readonly ackWebhookUrl: pulumi.Output<string | undefined>;
    /** Shared token of that webhook, sent as X-Alertline-Token (secret; undefined without on-call). */
    declare readonly ackWebhookToken: pulumi.Output<string | undefined>;
    /** Name of the on-call heartbeat the canary keeps alive (undefined when the canary is off). */
    declare readonly heartbeatName: pulumi.Output<string | undefined>;
    /** Function name per role (mail-ingest, tower-dispatch, ack-webhook and mail-canary when present), for the dashboard. */
    declare readonly functionNames: pulumi.Output<Record<string, string>>;
    /** Dead-letter queue name per label (mail-ingest's, the signal queue's), for the dashboard. */
    declare readonly deadLetterQueueNames: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: MailIngestArgs, opts?: pulumi.ComponentResourceOptions) {
        super("alertline:index:MailIngest", name, {}, opts);
        const env = args.environment;
        const tags = standardTags(env, name);
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const region = aws.getRegionOutput({}, { parent: this });
        const ruleSetName = `alertline-${env}`;
        const ruleName = `alertline-${env}-alerts`;
        const alertAddress = `${args.mail.recipient}@${args.mail.domain}`;
        const retentionDays = args.logRetentionDays ?? 30;

        const key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `alertline ${env} mail ingest: mail, notifications, queues, state, logs`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: pulumi.all([identity.accountId, region.region]).apply(([accountId, regionName]) => JSON.stringify(mailKeyPolicy(accountId, regionName))),
                tags,
            },
            { parent: this },
        );

        // Mail store: SSE-KMS by default encryption (not the S3 action's kmsKeyArn, which would make
        // SES encrypt client-side and leave objects only an encryption client can read).
        const bucket = new aws.s3.Bucket(`${name}-mail`, { forceDestroy: false, tags }, { parent: this });
        new aws.s3.BucketOwnershipControls(`${name}-mail-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
        const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
            `${name}-mail-public-access`,
            { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            { parent: this },
        );
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-mail-encryption`,
            { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }] },
            { parent: this },
        );
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-mail-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    { id: "expire-mail", status: "Enabled", filter: { prefix: "mail/" }, expiration: { days: args.mail.retentionDays } },
                    { id: "abort-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
                ],
            },
            { parent: this },
        );
        const bucketPolicy = new aws.s3.BucketPolicy(
            `${name}-mail-policy`,
            {
                bucket: bucket.id,
                policy: pulumi
                    .all([bucket.arn, identity.accountId, region.region])
                    .apply(([bucketArn, accountId, regionName]) => JSON.stringify(mailBucketPolicy({ bucketArn, accountId, region: regionName, ruleSetName, ruleName }))),
            },
            { parent: this, dependsOn: [publicAccessBlock] },
        );
        // Every request to the stored mail, reads included, leaves a record: S3 server access logs
        // (free, in this stack) rather than a CloudTrail data-event trail; see access-logs.ts.
        serverAccessLogs(this, `${name}-mail-access-logs`, { sourceBucket: bucket, accountId: identity.accountId, tags });

        const mailTopic = new aws.sns.Topic(`${name}-mail-topic`, { kmsMasterKeyId: key.arn, tags }, { parent: this });
        const mailTopicPolicyResource = new aws.sns.TopicPolicy(
            `${name}-mail-topic-policy`,
            { arn: mailTopic.arn, policy: pulumi.all([mailTopic.arn, identity.accountId]).apply(([arn, accountId]) => JSON.stringify(mailTopicPolicy(arn, accountId))) },
            { parent: this },
        );

        // SES: the domain, DKIM, and the DNS that proves both and routes mail to SES.
        const domain = new aws.ses.DomainIdentity(`${name}-domain`, { domain: args.mail.domain }, { parent: this });
        const dkim = new aws.ses.DomainDkim(`${name}-dkim`, { domain: domain.domain }, { parent: this });
        const records = pulumi
            .all([domain.verificationToken, dkim.dkimTokens, region.region])
            .apply(([verificationToken, dkimTokens, regionName]) => sesDnsRecords({ domain: args.mail.domain, region: regionName, verificationToken, dkimTokens }));
        const zoneId = args.mail.hostedZoneId;
        if (zoneId !== undefined) {
            // Three DKIM tokens, always: the count is known before SES answers, so preview shows every record.
            const recordKinds = ["verification", "dkim-1", "dkim-2", "dkim-3", "dmarc", "mx"];
            recordKinds.forEach((kind, i) => {
                new aws.route53.Record(
                    `${name}-dns-${kind}`,
                    {
                        zoneId,
                        name: records.apply((r) => r[i].name),
                        type: records.apply((r) => r[i].type),
                        ttl: 600,
                        records: [records.apply((r) => r[i].value)],
                    },
                    { parent: this },
                );
            });
        }

        const ruleSet = new aws.ses.ReceiptRuleSet(`${name}-rule-set`, { ruleSetName }, { parent: this });
        const rule = new aws.ses.ReceiptRule(
            `${name}-rule`,
            {
                name: ruleName,
                ruleSetName: ruleSet.ruleSetName,
                recipients: [alertAddress],
                enabled: true,
                scanEnabled: true,
                tlsPolicy: "Require",
                s3Actions: [{ position: 1, bucketName: bucket.id, objectKeyPrefix: "mail/", topicArn: mailTopic.arn }],
            },
            { parent: this, dependsOn: [bucketPolicy, mailTopicPolicyResource] },
        );
        if (args.mail.activateRuleSet) {
            new aws.ses.ActiveReceiptRuleSet(`${name}-active-rule-set`, { ruleSetName: ruleSet.ruleSetName }, { parent: this, dependsOn: [rule] });
        }

        const table = new aws.dynamodb.Table(
            `${name}-state`,
            {
                billingMode: "PAY_PER_REQUEST",
                hashKey: "pk",
                attributes: [{ name: "pk", type: "S" }],
                ttl: { attributeName: "expiresAt", enabled: true },
                serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
                pointInTimeRecovery: { enabled: true },
                tags,
            },
            { parent: this },
        );

        const queue = (suffix: string, extra: Partial<aws.sqs.QueueArgs> = {}) =>
            new aws.sqs.Queue(`${name}-${suffix}`, { kmsMasterKeyId: key.arn, messageRetentionSeconds: 14 * 24 * 3600, tags, ...extra }, { parent: this });
        const signalDeadLetters = queue("signals-dlq", { fifoQueue: true });
        const signalQueue = queue("signals", {
            fifoQueue: true,
            // Deduplication per tower (message group) and throughput per group: towers never wait on each other.
            deduplicationScope: "messageGroup",
            fifoThroughputLimit: "perMessageGroupId",
            // Six times the dispatcher's timeout, as Lambda's SQS guidance asks.
            visibilityTimeoutSeconds: 6 * 60,
            redrivePolicy: signalDeadLetters.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 })),
        });
        const ingestDeadLetters = queue("ingest-dlq");

        // mail-ingest
        const ingestName = lambdaFunctionName(env, name, "ingest");
        const towersJson = pulumi.output(args.towers).apply((towers) => JSON.stringify(towers, null, 2));
        // Each backend with a key: the first in ONCALL_API_*, in the migration window JSM's in ONCALL_ALSO_API_* too.
        const pageTargets = args.onCall === undefined ? [] : onCallPageTargets(args.onCall).filter((t) => t.alertsApiKey !== undefined);
        const onCallKey = pageTargets[0]?.alertsApiKey;
        const onCallEnvironment: Record<string, pulumi.Input<string>> = Object.assign(
            {},
            ...pageTargets.map((target, i) =>
                i === 0
                    ? {
                          [ONCALL_API_URL_ENV]: target.alertsApiUrl,
                          [ONCALL_API_KEY_ENV]: functionSecret(this, `${name}-ingest-oncall-key`, { keyArn: key.arn, plaintext: target.alertsApiKey!, functionName: ingestName }),
                      }
                    : {
                          [ONCALL_ALSO_API_URL_ENV]: target.alertsApiUrl,
                          [ONCALL_ALSO_API_KEY_ENV]: functionSecret(this, `${name}-ingest-oncall-${target.backend}-key`, { keyArn: key.arn, plaintext: target.alertsApiKey!, functionName: ingestName }),
                      },
            ),
        );
        const canary =
            args.canary?.enabled === true
                ? mailCanary(this, `${name}-canary`, {
                      environment: env,
                      component: name,
                      keyArn: key.arn,
                      domain: args.mail.domain,
                      alertAddress,
                      identityArn: domain.arn,
                      settings: args.canary,
                      logRetentionDays: retentionDays,
                      onCall: args.onCall,
                      tags,
                  })
                : undefined;
        // mail-ingest decrypts what was encrypted for it alone: the on-call key, and with JSM the heartbeat's API token.
        const ingestDecryptsOwnSecrets = onCallKey !== undefined || canary?.ingestDecryptsSecret === true;
        const ingestFile = {
            environment: env,
            allowedSenders: args.mail.allowedSenders,
            ...(canary === undefined ? {} : { canarySender: canary.sender, heartbeatName: canary.heartbeatName }),
        };
        const ingest = serviceFunction(this, `${name}-ingest`, {
            functionName: ingestName,
            description: "Classifies alert mail and queues PATLITE signal intents",
            source: "mail-ingest",
            files: {
                "rules.yaml": args.rulesYaml,
                "towers.json": towersJson,
                "ingest.json": JSON.stringify(ingestFile, null, 2),
            },
            keyArn: key.arn,
            logRetentionDays: retentionDays,
            environment: {
                SIGNAL_QUEUE_URL: signalQueue.url,
                ALERT_TOPIC_ARN: args.alertTopicArn,
                STATE_TABLE: table.name,
                ALERTLINE_ENVIRONMENT: env,
                POWERTOOLS_SERVICE_NAME: "mail-ingest",
                ...onCallEnvironment,
                ...canary?.ingestEnvironment,
            },
            // Parsing a 40 MB mail takes memory and time; both are cheap next to a missed alert.
            timeoutSeconds: 120,
            memoryMb: 1024,
            // A flood of mail runs at most this many at once, so tower-dispatch and slack-notifier keep
            // the account's concurrency; SNS's asynchronous invocations wait in Lambda's queue meanwhile.
            reservedConcurrency: mailIngestReservedConcurrency(args.mail),
            deadLetterQueueArn: ingestDeadLetters.arn,
            policy: (logGroupArn) =>
                pulumi
                    .output({
                        region: region.region,
                        logGroupArn,
                        tableArn: table.arn,
                        mailKeyArn: key.arn,
                        alertTopicArn: args.alertTopicArn,
                        alertKeyArn: args.alertKeyArn,
                        bucketArn: bucket.arn,
                        signalQueueArn: signalQueue.arn,
                        deadLetterQueueArn: ingestDeadLetters.arn,
                    })
                    .apply((grants) => JSON.stringify(ingestFunctionPolicy({ ...grants, onCallKeyFor: ingestDecryptsOwnSecrets ? ingestName : undefined }))),
            tags,
        });
        new aws.lambda.Permission(
            `${name}-ingest-invoke`,
            { action: "lambda:InvokeFunction", function: ingest.name, principal: "sns.amazonaws.com", sourceArn: mailTopic.arn },
            { parent: this },
        );
        new aws.sns.TopicSubscription(`${name}-ingest-subscription`, { topic: mailTopic.arn, protocol: "lambda", endpoint: ingest.arn }, { parent: this });

        // tower-dispatch, in the VPC so the site VPNs reach the towers
        const relayDocument = new aws.ssm.Document(
            `${name}-relay-document`,
            { documentType: "Command", documentFormat: "JSON", content: pulumi.output(args.towers).apply((towers) => relayDocumentContent(relayTargets(towers))), tags },
            { parent: this },
        );
        const dispatcherSecurityGroup = new aws.ec2.SecurityGroup(
            `${name}-dispatch-sg`,
            {
                vpcId: args.vpcId,
                description: "alertline tower-dispatch: no inbound; HTTPS to AWS APIs; sites add their towers",
                tags,
            },
            { parent: this },
        );
        // A separate rule, not inline `egress`: the sites add their towers' ports as separate rules, and
        // an inline list would remove those on every update of the group (the provider's documented conflict).
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-dispatch-https-egress`,
            { securityGroupId: dispatcherSecurityGroup.id, description: "HTTPS to DynamoDB, SNS and SSM", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", tags },
            { parent: this },
        );
        const dispatchName = lambdaFunctionName(env, name, "dispatch");
        const relayInstanceIds = pulumi.output(args.relayInstanceIds ?? []);
        const dispatch = serviceFunction(this, `${name}-dispatch`, {
            functionName: dispatchName,
            description: "Keeps each PATLITE tower's active alerts and lights it",
            source: "tower-dispatch",
            files: { "towers.json": towersJson },
            keyArn: key.arn,
            logRetentionDays: retentionDays,
            environment: {
                STATE_TABLE: table.name,
                ALERT_TOPIC_ARN: args.alertTopicArn,
                SIGNAL_DLQ_URL: signalDeadLetters.url,
                SSM_RELAY_DOCUMENT: relayDocument.name,
                ALERTLINE_ENVIRONMENT: env,
                POWERTOOLS_SERVICE_NAME: "tower-dispatch",
                ...(args.threadNotes === true ? { [THREAD_NOTES_ENV]: "on" } : {}),
            },
            timeoutSeconds: 60,
            memoryMb: 256,
            vpcConfig: { subnetIds: args.privateSubnetIds, securityGroupIds: [dispatcherSecurityGroup.id] },
            policy: (logGroupArn) =>
                pulumi
                    .output({
                        region: region.region,
                        accountId: identity.accountId,
                        logGroupArn,
                        tableArn: table.arn,
                        mailKeyArn: key.arn,
                        alertTopicArn: args.alertTopicArn,
                        alertKeyArn: args.alertKeyArn,
                        signalQueueArn: signalQueue.arn,
                        signalDeadLetterArn: signalDeadLetters.arn,
                        documentArn: relayDocument.arn,
                        instanceIds: relayInstanceIds,
                        subnetIds: args.privateSubnetIds,
                        securityGroupId: dispatcherSecurityGroup.id,
                    })
                    .apply(({ accountId, documentArn, instanceIds, subnetIds, securityGroupId, ...grants }) =>
                        JSON.stringify(
                            dispatchFunctionPolicy({
                                ...grants,
                                vpc: { region: grants.region, accountId, subnetIds, securityGroupIds: [securityGroupId] },
                                relay:
                                    instanceIds.length === 0
                                        ? undefined
                                        : { documentArn, instanceArns: instanceIds.map((id) => `arn:aws:ec2:${grants.region}:${accountId}:instance/${id}`) },
                            }),
                        ),
                    ),
            tags,
        });
        new aws.lambda.EventSourceMapping(
            `${name}-dispatch-source`,
            { eventSourceArn: signalQueue.arn, functionName: dispatch.arn, batchSize: 10, functionResponseTypes: ["ReportBatchItemFailures"], tags },
            { parent: this },
        );

        // The probe: the dispatcher reads every tower's status on a schedule (a metric per tower; PatliteSite alarms on it).
        if (args.towerProbe?.enabled === true) {
            const probeSchedule = new aws.cloudwatch.EventRule(
                `${name}-probe-schedule`,
                { description: `alertline ${env}: tower reachability probe`, scheduleExpression: rateExpression(args.towerProbe.intervalMinutes), tags },
                { parent: this },
            );
            new aws.cloudwatch.EventTarget(`${name}-probe-target`, { rule: probeSchedule.name, arn: dispatch.arn }, { parent: this });
            // The schedule is the dispatcher's only asynchronous caller: a failed probe is not re-run (the next one comes anyway).
            new aws.lambda.FunctionEventInvokeConfig(
                `${name}-probe-retries`,
                { functionName: dispatch.name, maximumRetryAttempts: 0, maximumEventAgeInSeconds: args.towerProbe.intervalMinutes * 60 },
                { parent: this },
            );
            new aws.lambda.Permission(
                `${name}-probe-invoke`,
                { action: "lambda:InvokeFunction", function: dispatch.name, principal: "events.amazonaws.com", sourceArn: probeSchedule.arn },
                { parent: this },
            );
        }

        // Acknowledged or closed in on-call: the tower alert is cleared.
        const ack =
            args.onCall === undefined
                ? undefined
                : ackEndpoint(this, `${name}-ack`, {
                      environment: env,
                      component: name,
                      keyArn: key.arn,
                      region: region.region,
                      towersJson,
                      signalQueueUrl: signalQueue.url,
                      signalQueueArn: signalQueue.arn,
                      stateTable: { name: table.name, arn: table.arn },
                      logRetentionDays: retentionDays,
                      onCall: args.onCall,
                      alertTopicArn: args.alertTopicArn,
                      alertKeyArn: args.alertKeyArn,
                      threadNotes: args.threadNotes,
                      tags,
                  });

        // Anything that stops the path reaches the alert channel.
        const alarm = (key: string, description: string, namespace: string, metricName: string, dimensions: pulumi.Input<Record<string, pulumi.Input<string>>>, statistic = "Sum") =>
            new aws.cloudwatch.MetricAlarm(
                `${name}-${key}`,
                {
                    name: `alertline-${env}-${name}-${key}`,
                    alarmDescription: description,
                    namespace,
                    metricName,
                    statistic,
                    period: 300,
                    evaluationPeriods: 1,
                    threshold: 0,
                    comparisonOperator: "GreaterThanThreshold",
                    treatMissingData: "notBreaching",
                    dimensions,
                    alarmActions: [args.alertTopicArn],
                    okActions: [args.alertTopicArn],
                    tags,
                },
                { parent: this },
            );
        alarm("ingest-dlq-alarm", "Alert mail could not be processed and sits in the dead-letter queue: the original is in the mail bucket.", "AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: ingestDeadLetters.name }, "Maximum");
        alarm("signals-dlq-alarm", "Tower signals sit in the dead-letter queue, failed five times or set aside by tower-dispatch as impossible to apply (each reported once to the channel): some tower may show a stale state. Read the messages' reason attribute, fix, and redrive.", "AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: signalDeadLetters.name }, "Maximum");
        alarm("ingest-errors-alarm", "mail-ingest is failing: alert mail is not reaching the towers.", "AWS/Lambda", "Errors", { FunctionName: ingest.name });
        alarm("dispatch-errors-alarm", "tower-dispatch is failing: towers are not being updated.", "AWS/Lambda", "Errors", { FunctionName: dispatch.name });
        if (canary !== undefined) {
            alarm("canary-errors-alarm", "The mail-path canary could not send its test mail through SES: the heartbeat will expire and page on-call until it can.", "AWS/Lambda", "Errors", { FunctionName: canary.functionName });
        }
        if (ack !== undefined) {
            alarm("ack-errors-alarm", "The acknowledgement endpoint is failing: acknowledging an alert in on-call may not silence its tower.", "AWS/Lambda", "Errors", { FunctionName: ack.functionName });
        }

        this.alertAddress = pulumi.output(alertAddress);
        this.bucketName = bucket.id;
        this.ruleSetName = ruleSet.ruleSetName;
        this.dnsRecordsToAdd = zoneId === undefined ? records : pulumi.output([]);
        this.signalQueueUrl = signalQueue.url;
        this.stateTableName = table.name;
        this.dispatcherSecurityGroupId = dispatcherSecurityGroup.id;
        this.ackWebhookUrl = pulumi.output(ack?.url);
        this.ackWebhookToken = pulumi.secret(pulumi.output(ack?.token));
        this.heartbeatName = pulumi.output(canary?.heartbeatName);
        this.functionNames = pulumi.output<Record<string, pulumi.Input<string>>>({
            "mail-ingest": ingest.name,
            "tower-dispatch": dispatch.name,
            ...(ack === undefined ? {} : { "ack-webhook": ack.functionName }),
            ...(canary === undefined ? {} : { "mail-canary": canary.functionName }),
        });
        this.deadLetterQueueNames = pulumi.output<Record<string, pulumi.Input<string>>>({ "mail-ingest DLQ": ingestDeadLetters.name, "signal queue DLQ": signalDeadLetters.name });
        this.registerOutputs({
            ackWebhookUrl: this.ackWebhookUrl,
            ackWebhookToken: this.ackWebhookToken,
            heartbeatName: this.heartbeatName,
            functionNames: this.functionNames,
            deadLetterQueueNames: this.deadLetterQueueNames,
            alertAddress: this.alertAddress,
            bucketName: this.bucketName,
            ruleSetName: this.ruleSetName,
            dnsRecordsToAdd: this.dnsRecordsToAdd,
            signalQueueUrl: this.signalQueueUrl,
            stateTableName: this.stateTableName,
            dispatcherSecurityGroupId: this.dispatcherSecurityGroupId,
        });
    }
}
