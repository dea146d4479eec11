import * as aws from "@pulumi/aws";
import * as datadog from "@pulumi/datadog";
import * as pulumi from "@pulumi/pulumi";
import { lambdaFunctionName } from "../shared/function-code";
import { accountIamDecidesStatement, decryptOwnSecretsStatement, logsEncryptStatement, useKeyVia } from "../shared/iam-documents";
import { OnCallLink, OnCallRouting, OnCallSettings } from "../shared/oncall/oncall-routing";
import { functionSecret, serviceFunction } from "../shared/service-function";
import { standardTags } from "../shared/tags";
import {
    DEFAULT_THREAD_MAX_AGE_HOURS,
    MAX_THREAD_MAX_AGE_HOURS,
    SLACK_BOT_TOKEN_CIPHERTEXT_ENV,
    SLACK_CHANNEL_ID_ENV,
    SLACK_MODE_ENV,
    SLACK_MODES,
    SLACK_THREAD_MAX_AGE_ENV,
    SLACK_THREAD_TABLE_ENV,
    type SlackMode,
} from "../../functions/slack-notifier/slack-mode";

/** Arguments for {@link AlertChannel}. */
export interface AlertChannelArgs {
    /** Environment name, used in resource names and tags. */
    readonly environment: string;
    /** How the notifier reaches Slack: "webhook" (each alert a new message) or "app" (a bot keeps one message per alert, with its thread). Default "webhook". */
    readonly slackMode?: SlackMode;
    /** Webhook mode (required there): Slack incoming-webhook URL; kept only as KMS ciphertext in the function. */
    readonly slackWebhookUrl?: pulumi.Input<string>;
    /** App mode (required there): the Slack app's bot token (xoxb-…); kept only as KMS ciphertext in the function. */
    readonly slackBotToken?: pulumi.Input<string>;
    /** App mode (required there): ID (C…/G…) of the channel the bot posts to; the bot must be a member. */
    readonly slackChannelId?: pulumi.Input<string>;
    /** App mode: hours after which an alert's next event starts a new message instead of updating the old one. Default 24. */
    readonly slackThreadMaxAgeHours?: number;
    /** Slack channel, with its '#', that Datadog posts to, e.g. "#alerts-dev". */
    readonly slackChannel: string;
    /** Account name of Datadog's Slack integration tile. */
    readonly datadogSlackAccount: string;
    /** Where pages go: Opsgenie now, Jira Service Management after Opsgenie's end of support. */
    readonly onCall: OnCallSettings;
    /** With `opsgenie`: the Opsgenie configuration API key (required there). Unused with `jsm`. */
    readonly onCallApiKey?: pulumi.Input<string>;
    /** With `jsm`: the Atlassian API token for JSM's ops REST API (alertline:jsmApiToken). */
    readonly onCallJsmApiToken?: pulumi.Input<string>;
    /** Days to keep the notifier's logs. Default 30. */
    readonly logRetentionDays?: number;
    /** AWS services allowed to publish to the topic (and use its key). Default ["cloudwatch.amazonaws.com"]. */
    readonly publisherServices?: readonly string[];
    /** Flood control: repeats of one alert within a window post once plus one "repeated ×N" notice. Default {@link DEFAULT_FLOOD_CONTROL}. */
    readonly floodControl?: FloodControlSettings;
}

/** How repeats are held back (slack-notifier's flood control); see functions/slack-notifier/flood-control.ts. */
export interface FloodControlSettings {
    /** Window length in seconds, 0 to 86400; 0 turns flood control off (no table is created, except in Slack's app mode). Default 300. */
    readonly windowSeconds?: number;
    /** The repeat count that posts the window's second and last message, at least 2. Default 10. */
    readonly repeatNoticeAfter?: number;
}

export const DEFAULT_FLOOD_CONTROL = { windowSeconds: 300, repeatNoticeAfter: 10 } as const;

/** Default of {@link AlertChannelArgs.slackThreadMaxAgeHours}: one day, as SLACK_THREAD_MAX_AGE_SECONDS defaults. */
export const DEFAULT_SLACK_THREAD_MAX_AGE_HOURS = DEFAULT_THREAD_MAX_AGE_HOURS;

/**
 * What is missing or wrong for the Slack mode, naming the setting and the fix; undefined when the
 * arguments fit the mode. Pure.
 */
export function slackModeProblem(args: Pick<AlertChannelArgs, "slackMode" | "slackWebhookUrl" | "slackBotToken" | "slackChannelId" | "slackThreadMaxAgeHours">): string | undefined {
    const mode = args.slackMode ?? "webhook";
    if (!(SLACK_MODES as readonly string[]).includes(mode)) return `alertline:slack.mode is ${JSON.stringify(mode)}: it must be ${SLACK_MODES.join(" or ")}.`;
    if (mode === "webhook") {
        if (args.slackWebhookUrl === undefined) return "Slack's webhook mode needs the incoming-webhook URL: pulumi config set --secret alertline:slackWebhookUrl <url> (or set alertline:slack.mode app with a bot token).";
        return undefined;
    }
    if (args.slackBotToken === undefined) return "Slack's app mode needs the bot token: pulumi config set --secret alertline:slackBotToken xoxb-… (OAuth & Permissions of the Slack app).";
    if (args.slackChannelId === undefined) return "Slack's app mode needs alertline:slack.channelId, the ID (C…) of the channel the bot posts to.";
    const hours = args.slackThreadMaxAgeHours ?? DEFAULT_SLACK_THREAD_MAX_AGE_HOURS;
    if (!Number.isInteger(hours) || hours < 1 || hours > MAX_THREAD_MAX_AGE_HOURS) return `alertline:slack.threadMaxAgeHours is ${hours}: it must be a whole number of hours from 1 to ${MAX_THREAD_MAX_AGE_HOURS}.`;
    return undefined;
}

/**
 * The notifier's Slack settings that are not secret (pure): nothing in webhook mode, which is the
 * function's default; in app mode the mode, the channel and the thread age in seconds, under the
 * names functions/slack-notifier/slack-mode.ts reads.
 */
export function slackAppEnvironment(mode: SlackMode, channelId: pulumi.Input<string> | undefined, threadMaxAgeHours: number = DEFAULT_SLACK_THREAD_MAX_AGE_HOURS): Record<string, pulumi.Input<string>> {
    if (mode !== "app") return {};
    if (channelId === undefined) throw new Error("Slack's app mode needs alertline:slack.channelId, the ID (C…) of the channel the bot posts to.");
    return { [SLACK_MODE_ENV]: "app", [SLACK_CHANNEL_ID_ENV]: channelId, [SLACK_THREAD_MAX_AGE_ENV]: String(threadMaxAgeHours * 3600) };
}

/** Checked flood settings with defaults filled in; throws naming the bad value and the allowed range. */
export function floodControlSettings(settings: FloodControlSettings = {}): Required<FloodControlSettings> {
    const windowSeconds = settings.windowSeconds ?? DEFAULT_FLOOD_CONTROL.windowSeconds;
    const repeatNoticeAfter = settings.repeatNoticeAfter ?? DEFAULT_FLOOD_CONTROL.repeatNoticeAfter;
    if (!Number.isInteger(windowSeconds) || windowSeconds < 0 || windowSeconds > 86_400) {
        throw new Error(`floodControl.windowSeconds is ${windowSeconds}: it must be a whole number of seconds from 0 (off) to 86400.`);
    }
    if (!Number.isInteger(repeatNoticeAfter) || repeatNoticeAfter < 2) {
        throw new Error(`floodControl.repeatNoticeAfter is ${repeatNoticeAfter}: it must be a whole number of at least 2 (the repeat that posts the second message).`);
    }
    return { windowSeconds, repeatNoticeAfter };
}

/**
 * Where every alert source publishes: a KMS-encrypted topic, a Slack notifier with its own dead
 * letter queue, and the Datadog and on-call routing that monitors mention in their messages.
 */
export class AlertChannel extends pulumi.ComponentResource {
    /** ARN of the topic that alarms and functions publish to. */
    declare readonly topicArn: pulumi.Output<string>;
    /** ARN of the channel's KMS key (topic, queue, logs, webhook ciphertext). */
    declare readonly keyArn: pulumi.Output<string>;
    /** Name of the Slack notifier function. */
    declare readonly notifierFunctionName: pulumi.Output<string>;
    /** ARN of the notifier's dead-letter queue. */
    declare readonly deadLetterQueueArn: pulumi.Output<string>;
    /** Name of the notifier's dead-letter queue (its depth is on the alert-path dashboard). */
    declare readonly deadLetterQueueName: pulumi.Output<string>;
    /** Name of the flood-control table (in app mode also each alert's message); undefined when flood control is off in webhook mode. */
    declare readonly floodTableName: pulumi.Output<string> | undefined;
    /** Datadog notification handles (`@opsgenie-… @slack-…`; both on-call service objects in the migration window) that route a monitor to this channel. */
    declare readonly datadogHandles: pulumi.Output<string>;
    /** How alertline's own functions page on-call (mail that lit a tower, the canary's heartbeat). */
    declare readonly onCall: OnCallLink;

    constructor(name: string, args: AlertChannelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("alertline:index:AlertChannel", name, {}, opts);
        const tags = standardTags(args.environment, name);
        const functionName = lambdaFunctionName(args.environment, name, "notifier");
        const publishers = args.publisherServices ?? ["cloudwatch.amazonaws.com"];
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const region = aws.getRegionOutput({}, { parent: this });
        const flood = floodControlSettings(args.floodControl);
        const slackProblem = slackModeProblem(args);
        if (slackProblem !== undefined) throw new Error(slackProblem);
        const appMode = args.slackMode === "app";

        const key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `alertline ${args.environment} alert channel: topic, queue, logs, Slack webhook`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: pulumi
                    .all([identity.accountId, region.region])
                    .apply(([accountId, regionName]) => JSON.stringify(channelKeyPolicy(accountId, regionName, publishers))),
                tags,
            },
            { parent: this },
        );

        const topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: key.arn, tags }, { parent: this });
        new aws.sns.TopicPolicy(
            `${name}-topic-policy`,
            {
                arn: topic.arn,
                policy: pulumi
                    .all([topic.arn, identity.accountId])
                    .apply(([topicArn, accountId]) => JSON.stringify(topicPolicy(topicArn, accountId, publishers))),
            },
            { parent: this },
        );

        const deadLetterQueue = new aws.sqs.Queue(
            `${name}-dlq`,
            { kmsMasterKeyId: key.arn, messageRetentionSeconds: 14 * 24 * 3600, tags },
            { parent: this },
        );

        // The secret of the mode only, each encrypted for this function alone (as the console's helper does).
        const slackSecret: Record<string, pulumi.Input<string>> = appMode
            ? { [SLACK_BOT_TOKEN_CIPHERTEXT_ENV]: functionSecret(this, `${name}-bot-token-ciphertext`, { keyArn: key.arn, plaintext: args.slackBotToken!, functionName }) }
            : { SLACK_WEBHOOK_CIPHERTEXT: functionSecret(this, `${name}-webhook-ciphertext`, { keyArn: key.arn, plaintext: args.slackWebhookUrl!, functionName }) };

        // Counts repeats across invocations and containers; items expire (TTL) once their window is over.
        // App mode keeps each alert's message ts here too, so the table exists then even with flood control off.
        const floodTable =
            flood.windowSeconds === 0 && !appMode
                ? undefined
                : new aws.dynamodb.Table(
                      `${name}-flood`,
                      {
                          billingMode: "PAY_PER_REQUEST",
                          hashKey: "pk",
                          attributes: [{ name: "pk", type: "S" }],
                          ttl: { attributeName: "expiresAt", enabled: true },
                          serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
                          tags,
                      },
                      { parent: this },
                  );
        const floodEnvironment: Record<string, pulumi.Input<string>> =
            floodTable === undefined
                ? { FLOOD_WINDOW_SECONDS: "0" }
                : flood.windowSeconds === 0
                  ? { [SLACK_THREAD_TABLE_ENV]: floodTable.name, FLOOD_WINDOW_SECONDS: "0" }
                  : { FLOOD_TABLE: floodTable.name, FLOOD_WINDOW_SECONDS: String(flood.windowSeconds), FLOOD_REPEAT_NOTICE_AFTER: String(flood.repeatNoticeAfter) };

        const notifier = serviceFunction(this, `${name}-notifier`, {
            functionName,
            description: "Posts alert channel messages (CloudWatch, Datadog, alertline) to Slack",
            source: "slack-notifier",
            keyArn: key.arn,
            logRetentionDays: args.logRetentionDays ?? 30,
            environment: {
                ...slackSecret,
                ...slackAppEnvironment(appMode ? "app" : "webhook", args.slackChannelId, args.slackThreadMaxAgeHours),
                ALERTLINE_ENVIRONMENT: args.environment,
                POWERTOOLS_SERVICE_NAME: "slack-notifier",
                ...floodEnvironment,
            },
            timeoutSeconds: 60,
            memoryMb: 256,
            deadLetterQueueArn: deadLetterQueue.arn,
            policy: (logGroupArn) =>
                pulumi
                    .all([logGroupArn, key.arn, deadLetterQueue.arn, region.region, floodTable?.arn])
                    .apply(([logGroupArn, keyArn, queueArn, regionName, floodTableArn]) =>
                        JSON.stringify(notifierPolicy({ logGroupArn, keyArn, deadLetterQueueArn: queueArn, functionName, region: regionName, floodTableArn, slackApp: appMode })),
                    ),
            tags,
        });

        new aws.lambda.Permission(
            `${name}-notifier-invoke`,
            { action: "lambda:InvokeFunction", function: notifier.name, principal: "sns.amazonaws.com", sourceArn: topic.arn },
            { parent: this },
        );
        new aws.sns.TopicSubscription(
            `${name}-notifier-subscription`,
            { topic: topic.arn, protocol: "lambda", endpoint: notifier.arn },
            { parent: this },
        );

        const slackChannel = new datadog.slack.Channel(
            `${name}-datadog-slack`,
            {
                accountName: args.datadogSlackAccount,
                channelName: args.slackChannel,
                display: { message: true, notified: true, snapshot: true, tags: true },
            },
            { parent: this },
        );
        const onCall = new OnCallRouting(
            `${name}-oncall`,
            { environment: args.environment, settings: args.onCall, apiKey: args.onCallApiKey, jsmApiToken: args.onCallJsmApiToken },
            { parent: this },
        );

        this.topicArn = topic.arn;
        this.keyArn = key.arn;
        this.notifierFunctionName = notifier.name;
        this.deadLetterQueueArn = deadLetterQueue.arn;
        this.deadLetterQueueName = deadLetterQueue.name;
        this.floodTableName = floodTable?.name;
        this.onCall = onCall.link;
        this.datadogHandles = pulumi
            .all([onCall.datadogHandle, slackChannel.accountName, slackChannel.channelName])
            .apply(([onCallHandle, account, channel]) => `${onCallHandle} ${slackHandle(account, channel)}`);
        this.registerOutputs({
            topicArn: this.topicArn,
            keyArn: this.keyArn,
            notifierFunctionName: this.notifierFunctionName,
            deadLetterQueueArn: this.deadLetterQueueArn,
            deadLetterQueueName: this.deadLetterQueueName,
            floodTableName: this.floodTableName,
            datadogHandles: this.datadogHandles,
        });
    }
}

/** Datadog's mention for a Slack channel: `@slack-<account>-<channel without #>`. */
export function slackHandle(account: string, channel: string): string {
    return `@slack-${account}-${channel.replace(/^#/, "")}`;
}

/**
 * The channel key: account IAM administers it; publishing services may encrypt messages for the
 * topic (SNS calls KMS as them), and CloudWatch Logs may encrypt the notifier's log group.
 */
export function channelKeyPolicy(accountId: string, region: string, publisherServices: readonly string[]) {
    return {
        Version: "2012-10-17",
        Statement: [
            accountIamDecidesStatement(accountId),
            {
                Sid: "PublishersEncryptForTheTopic",
                Effect: "Allow",
                Principal: { Service: [...publisherServices] },
                Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
            logsEncryptStatement(accountId, region),
        ],
    };
}

/** Only this account and the named services, from this account, may publish. */
export function topicPolicy(topicArn: string, accountId: string, publisherServices: readonly string[]) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountPublishesAndSubscribes",
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${accountId}:root` },
                Action: ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
                Resource: topicArn,
            },
            {
                Sid: "ServicesPublish",
                Effect: "Allow",
                Principal: { Service: [...publisherServices] },
                Action: "sns:Publish",
                Resource: topicArn,
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
        ],
    };
}

/**
 * What the notifier may do: write its logs, decrypt its own webhook (or bot token), dead-letter
 * events, and with its table: count repeats (UpdateItem, the only call flood control makes) and, in
 * app mode, keep and read each alert's message (UpdateItem and GetItem, the two calls the thread
 * store makes).
 */
export function notifierPolicy(input: { logGroupArn: string; keyArn: string; deadLetterQueueArn: string; functionName: string; region: string; floodTableArn?: string; slackApp?: boolean }) {
    const flood =
        input.floodTableArn === undefined
            ? []
            : [
                  input.slackApp === true
                      ? { Sid: "FloodCountsAndThreads", Effect: "Allow", Action: ["dynamodb:UpdateItem", "dynamodb:GetItem"], Resource: input.floodTableArn }
                      : { Sid: "FloodCounts", Effect: "Allow", Action: "dynamodb:UpdateItem", Resource: input.floodTableArn },
                  useKeyVia("FloodTableKey", input.keyArn, ["kms:Decrypt", "kms:GenerateDataKey"], "dynamodb", input.region),
              ];
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "WriteLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${input.logGroupArn}:*` },
            decryptOwnSecretsStatement("DecryptOwnWebhook", input.keyArn, input.functionName),
            { Sid: "DeadLetter", Effect: "Allow", Action: "sqs:SendMessage", Resource: input.deadLetterQueueArn },
            useKeyVia("EncryptDeadLetters", input.keyArn, ["kms:GenerateDataKey", "kms:Decrypt"], "sqs", input.region),
            ...flood,
        ],
    };
}
