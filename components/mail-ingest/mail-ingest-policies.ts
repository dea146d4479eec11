import { accountIamDecidesStatement, decryptOwnSecretsStatement, lambdaVpcAccessStatements, type LambdaVpcPlacement, logsEncryptStatement, tlsOnlyBucketStatement, useKeyVia } from "../shared/iam-documents";

/**
 * Policy documents of the mail path, as pure functions. Each grant names the resource and, for KMS,
 * the service it is used through, so a leaked role cannot decrypt the key's data directly.
 */

/** The mail key: SES writes mail to the bucket and publishes to the topic with it; Logs encrypts log groups. */
export function mailKeyPolicy(accountId: string, region: string) {
    return {
        Version: "2012-10-17",
        Statement: [
            accountIamDecidesStatement(accountId),
            {
                Sid: "SesEncryptsMailAndNotifications",
                Effect: "Allow",
                Principal: { Service: "ses.amazonaws.com" },
                Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
            logsEncryptStatement(accountId, region),
        ],
    };
}

/** Only SES, for this account's rule, may write mail; nothing may reach the bucket without TLS. */
export function mailBucketPolicy(input: { bucketArn: string; accountId: string; region: string; ruleSetName: string; ruleName: string }) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "SesWritesMail",
                Effect: "Allow",
                Principal: { Service: "ses.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: `${input.bucketArn}/mail/*`,
                Condition: {
                    StringEquals: { "aws:SourceAccount": input.accountId },
                    ArnLike: { "aws:SourceArn": `arn:aws:ses:${input.region}:${input.accountId}:receipt-rule-set/${input.ruleSetName}:receipt-rule/${input.ruleName}` },
                },
            },
            tlsOnlyBucketStatement(input.bucketArn),
        ],
    };
}

/** SES of this account may publish the "mail stored" notifications. */
export function mailTopicPolicy(topicArn: string, accountId: string) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountSubscribes",
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${accountId}:root` },
                Action: ["sns:Subscribe", "sns:GetTopicAttributes"],
                Resource: topicArn,
            },
            {
                Sid: "SesPublishes",
                Effect: "Allow",
                Principal: { Service: "ses.amazonaws.com" },
                Action: "sns:Publish",
                Resource: topicArn,
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
        ],
    };
}

/** Shared by both functions: logs, the state table, the alert channel. */
interface CommonGrants {
    readonly region: string;
    readonly logGroupArn: string;
    readonly tableArn: string;
    readonly mailKeyArn: string;
    readonly alertTopicArn: string;
    readonly alertKeyArn: string;
    readonly deadLetterQueueArn?: string;
}

function commonStatements(input: CommonGrants, tableActions: string[]) {
    return [
        { Sid: "WriteLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${input.logGroupArn}:*` },
        { Sid: "State", Effect: "Allow", Action: tableActions, Resource: input.tableArn },
        useKeyVia("StateKey", input.mailKeyArn, ["kms:Decrypt", "kms:GenerateDataKey"], "dynamodb", input.region),
        { Sid: "ReportToChannel", Effect: "Allow", Action: "sns:Publish", Resource: input.alertTopicArn },
        useKeyVia("ChannelKey", input.alertKeyArn, ["kms:Decrypt", "kms:GenerateDataKey"], "sns", input.region),
    ];
}

/**
 * mail-ingest: read stored mail, claim it once, queue signal intents, report to the channel, and
 * (when it pages on-call or pings a JSM heartbeat) decrypt the secrets encrypted for it alone: the
 * on-call key and, with JSM, the API token of the ops REST API. `onCallKeyFor` is its function name.
 */
export function ingestFunctionPolicy(input: CommonGrants & { bucketArn: string; signalQueueArn: string; deadLetterQueueArn: string; onCallKeyFor?: string }) {
    return {
        Version: "2012-10-17",
        Statement: [
            ...commonStatements(input, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]),
            { Sid: "ReadMail", Effect: "Allow", Action: "s3:GetObject", Resource: `${input.bucketArn}/mail/*` },
            // Listing the mail prefix only: a GetObject of a missing mail then answers 404 (or, where S3
            // does not count a prefix-conditioned grant for that, the function lists the key to tell a
            // missing mail from a real denial), so a missing mail is reported once instead of retried.
            { Sid: "FindMissingMail", Effect: "Allow", Action: "s3:ListBucket", Resource: input.bucketArn, Condition: { StringLike: { "s3:prefix": "mail/*" } } },
            useKeyVia("MailKeyForS3", input.mailKeyArn, ["kms:Decrypt"], "s3", input.region),
            { Sid: "QueueSignals", Effect: "Allow", Action: "sqs:SendMessage", Resource: [input.signalQueueArn, input.deadLetterQueueArn] },
            useKeyVia("MailKeyForSqs", input.mailKeyArn, ["kms:Decrypt", "kms:GenerateDataKey"], "sqs", input.region),
            ...(input.onCallKeyFor === undefined ? [] : [decryptOwnSecretsStatement("DecryptOnCallKey", input.mailKeyArn, input.onCallKeyFor)]),
        ],
    };
}

/**
 * tower-dispatch: consume the signal queue (Lambda's event source mapping does, with this role),
 * keep tower state (get and put only), publish to the channel and the probe's metric, get network
 * interfaces in its own subnets, and relay through SSM where a site says so.
 */
export function dispatchFunctionPolicy(input: CommonGrants & { signalQueueArn: string; signalDeadLetterArn: string; vpc: LambdaVpcPlacement; relay?: { documentArn: string; instanceArns: string[] } }) {
    const relay = input.relay
        ? [
              { Sid: "RelayThroughHosts", Effect: "Allow", Action: "ssm:SendCommand", Resource: [input.relay.documentArn, ...input.relay.instanceArns] },
              // Neither has resource-level permissions. CancelCommand keeps a command delivered late
              // from overwriting a newer signal (functions/tower-dispatch/relay.ts).
              { Sid: "FollowRelayCommands", Effect: "Allow", Action: ["ssm:GetCommandInvocation", "ssm:CancelCommand"], Resource: "*" },
          ]
        : [];
    return {
        Version: "2012-10-17",
        Statement: [
            ...commonStatements(input, ["dynamodb:GetItem", "dynamodb:PutItem"]),
            // What the event source mapping calls (AWSLambdaSQSQueueExecutionRole's three actions).
            { Sid: "ConsumeSignals", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: input.signalQueueArn },
            useKeyVia("MailKeyForSqs", input.mailKeyArn, ["kms:Decrypt"], "sqs", input.region),
            // An intent it cannot apply is moved to the signal queue's dead-letter queue by the function
            // itself (functions/tower-dispatch/dispatch.ts), so it stops holding back its tower's group.
            // SQS producers need GenerateDataKey (and Decrypt, above); SQS passes the queue's ARN as encryption context.
            { Sid: "DeadLetterUnappliable", Effect: "Allow", Action: "sqs:SendMessage", Resource: input.signalDeadLetterArn },
            {
                Sid: "MailKeyForDeadLetters",
                Effect: "Allow",
                Action: "kms:GenerateDataKey",
                Resource: input.mailKeyArn,
                Condition: { StringEquals: { "kms:ViaService": `sqs.${input.region}.amazonaws.com`, "kms:EncryptionContext:aws:sqs:arn": input.signalDeadLetterArn } },
            },
            ...lambdaVpcAccessStatements(input.vpc),
            ...relay,
        ],
    };
}

/**
 * ack-webhook: queue recovery intents on the signal queue, decrypt its own shared secret, write its
 * logs, and note an accepted acknowledgement on the alert channel (Slack app mode's thread note),
 * with the channel key through SNS as mail-ingest has it.
 */
export function ackFunctionPolicy(input: { region: string; logGroupArn: string; mailKeyArn: string; signalQueueArn: string; functionName: string; tableArn?: string; alertTopicArn: string; alertKeyArn: string }) {
    // With the state table: clear an alias once per page (functions/shared/alias-clear.ts), its only two calls.
    const clearOnce =
        input.tableArn === undefined
            ? []
            : [
                  { Sid: "ClearOnce", Effect: "Allow", Action: ["dynamodb:UpdateItem", "dynamodb:GetItem"], Resource: input.tableArn },
                  useKeyVia("StateKey", input.mailKeyArn, ["kms:Decrypt", "kms:GenerateDataKey"], "dynamodb", input.region),
              ];
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "WriteLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${input.logGroupArn}:*` },
            { Sid: "QueueClears", Effect: "Allow", Action: "sqs:SendMessage", Resource: input.signalQueueArn },
            useKeyVia("MailKeyForSqs", input.mailKeyArn, ["kms:Decrypt", "kms:GenerateDataKey"], "sqs", input.region),
            decryptOwnSecretsStatement("DecryptOwnSecret", input.mailKeyArn, input.functionName),
            ...clearOnce,
            { Sid: "NoteToChannel", Effect: "Allow", Action: "sns:Publish", Resource: input.alertTopicArn },
            useKeyVia("ChannelKey", input.alertKeyArn, ["kms:Decrypt", "kms:GenerateDataKey"], "sns", input.region),
        ],
    };
}

/** mail-canary: send one mail from the canary address of the mail domain, write its logs. */
export function canaryFunctionPolicy(input: { logGroupArn: string; identityArn: string; fromAddress: string }) {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "WriteLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${input.logGroupArn}:*` },
            {
                Sid: "SendCanaryMail",
                Effect: "Allow",
                // SESv2 SendEmail with raw content is checked as the ses:SendRawEmail action (its AccessDenied
                // names that action; Anymail's SES docs, tested against live SES), while AWS's service
                // authorization reference maps the operation to ses:SendEmail: both, as Anymail advises.
                Action: ["ses:SendEmail", "ses:SendRawEmail"],
                Resource: input.identityArn,
                Condition: { StringEquals: { "ses:FromAddress": input.fromAddress } },
            },
        ],
    };
}
