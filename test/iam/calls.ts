import type { TowerConfig } from "../../functions/shared/tower-config";
import type { IamRequest } from "./simulate";
import { sdkCommandsOf, type SdkCommandUse } from "./sdk-calls";
import type { FunctionModel, HostModel, RoleModel, StackModel } from "./stack-model";

/**
 * The requests each role makes (all must be allowed) and the misuses it must not be able to make
 * (all must be denied), built from the stack's registrations and the functions' code.
 *
 * Sources for what a call needs beyond its own action (the KMS calls a service makes with the
 * caller's credentials, and their context): S3 user guide "Using server-side encryption with AWS
 * KMS keys" (Decrypt on GetObject; with an S3 Bucket Key the context is the bucket ARN); SQS
 * developer guide "Key management" (producers GenerateDataKey and Decrypt, consumers Decrypt;
 * context aws:sqs:arn); SNS developer guide "Encryption at rest" (publishers GenerateDataKey* and
 * Decrypt); DynamoDB developer guide "How Amazon DynamoDB uses AWS KMS" (context
 * aws:dynamodb:tableName and aws:dynamodb:subscriberId); Systems Manager user guide "How Parameter
 * Store uses AWS KMS" (context PARAMETER_ARN); Lambda developer guide on execution roles (the
 * dead-letter queue, the SQS event source mapping and VPC network interfaces all use the role).
 */

/** The IAM actions an SDK command is authorised as (AWS's Service Authorization Reference unless noted). */
export const IAM_ACTIONS_OF_COMMAND: Record<string, readonly string[]> = {
    "@aws-sdk/client-kms:DecryptCommand": ["kms:Decrypt"],
    "@aws-sdk/client-sqs:SendMessageBatchCommand": ["sqs:SendMessage"],
    "@aws-sdk/client-sqs:SendMessageCommand": ["sqs:SendMessage"],
    "@aws-sdk/client-sns:PublishCommand": ["sns:Publish"],
    "@aws-sdk/client-s3:GetObjectCommand": ["s3:GetObject"],
    "@aws-sdk/client-s3:ListObjectsV2Command": ["s3:ListBucket"],
    "@aws-sdk/lib-dynamodb:GetCommand": ["dynamodb:GetItem"],
    "@aws-sdk/lib-dynamodb:PutCommand": ["dynamodb:PutItem"],
    "@aws-sdk/lib-dynamodb:UpdateCommand": ["dynamodb:UpdateItem"],
    "@aws-sdk/client-ssm:SendCommandCommand": ["ssm:SendCommand"],
    "@aws-sdk/client-ssm:GetCommandInvocationCommand": ["ssm:GetCommandInvocation"],
    "@aws-sdk/client-ssm:CancelCommandCommand": ["ssm:CancelCommand"],
    // SESv2 SendEmail with Content.Raw: AccessDenied names ses:SendRawEmail (Anymail's SES docs, "Confusing
    // IAM error messages", tested against live SES); the reference maps the operation to ses:SendEmail.
    "@aws-sdk/client-sesv2:SendEmailCommand": ["ses:SendEmail", "ses:SendRawEmail"],
};

const FOREIGN_ACCOUNT = "999999999999";
const SECURE = { "aws:SecureTransport": "true" } as const;

export interface RoleCalls {
    /** "function tower-dispatch (mail-dispatch)" or "host host-web-instance". */
    readonly who: string;
    readonly roleArn: string;
    readonly intended: IamRequest[];
    readonly misuses: IamRequest[];
    /** SDK calls in the code that cannot happen in this stack, with the reason (e.g. no tower relays through SSM). */
    readonly unreachable: string[];
}

const only = <T>(items: T[], what: string): T => {
    if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
    return items[0];
};

/** Context of a KMS call a service makes with the caller's credentials. */
function via(model: StackModel, service: string, context: Record<string, string> = {}) {
    return { ...SECURE, "kms:ViaService": `${service}.${model.region}.amazonaws.com`, "kms:CallerAccount": model.account, ...Object.fromEntries(Object.entries(context).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])) };
}

function keyPolicy(model: StackModel, keyArn: string): unknown {
    const key = model.keys.find((k) => k.arn === keyArn);
    if (key === undefined) throw new Error(`no key ${keyArn} in the stack`);
    return key.policy;
}

function kmsRequests(model: StackModel, principal: string, keyArn: string | undefined, actions: readonly string[], context: Record<string, string | string[]>, why: string): IamRequest[] {
    if (keyArn === undefined) return [];
    return actions.map((action) => ({ principal, action, resource: keyArn, context, resourcePolicy: keyPolicy(model, keyArn), why }));
}

/** The resources of a kind that a function's environment names. */
function named<T>(fn: FunctionModel, items: T[], key: (item: T) => string, what: string): T[] {
    const values = new Set(Object.values(fn.env));
    const found = items.filter((item) => values.has(key(item)));
    if (found.length === 0) throw new Error(`${fn.folder} calls ${what} but its environment names none`);
    return found;
}

/** The requests behind one SDK command of a function, on the resources the stack gives it. */
function requestsForCommand(model: StackModel, fn: FunctionModel, use: SdkCommandUse, unreachable: string[]): IamRequest[] {
    const actions = IAM_ACTIONS_OF_COMMAND[`${use.pkg}:${use.command}`];
    if (actions === undefined) throw new Error(`${use.file} makes ${use.pkg} ${use.command}, which test/iam/calls.ts does not know: add its IAM action(s) and the resource it acts on`);
    const principal = fn.role.arn;
    const why = `${fn.folder}: ${use.command} (${use.file})`;
    const on = (resource: string, context: Record<string, string | string[]>, resourcePolicy?: unknown, resourceAccount?: string) =>
        actions.map((action): IamRequest => ({ principal, action, resource, context: { ...SECURE, ...context }, resourcePolicy, resourceAccount, why }));
    switch (use.pkg) {
        case "@aws-sdk/client-kms": {
            const secrets = model.ciphertexts.filter((c) => Object.values(fn.env).includes(c.blob));
            if (secrets.length === 0) throw new Error(`${fn.folder} decrypts with KMS but its environment holds no ciphertext the stack made`);
            return secrets.flatMap((c) => kmsRequests(model, principal, c.keyArn, actions, { ...SECURE, "kms:CallerAccount": model.account, ...Object.fromEntries(Object.entries(c.context).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])) }, why));
        }
        case "@aws-sdk/client-sqs":
            return named(fn, model.queues, (q) => q.url, "SQS").flatMap((q) => [
                ...on(q.arn, {}),
                ...kmsRequests(model, principal, q.keyArn, ["kms:GenerateDataKey", "kms:Decrypt"], via(model, "sqs", { "aws:sqs:arn": q.arn }), `${why}, SQS encrypting`),
            ]);
        case "@aws-sdk/client-sns":
            return named(fn, model.topics, (t) => t.arn, "SNS").flatMap((t) => [
                ...on(t.arn, {}, t.policy),
                ...kmsRequests(model, principal, t.keyArn, ["kms:GenerateDataKey", "kms:Decrypt"], via(model, "sns"), `${why}, SNS encrypting`),
            ]);
        case "@aws-sdk/lib-dynamodb":
            // slack-notifier's thread store (Slack app mode) runs only with SLACK_MODE=app.
            if (use.file === "functions/slack-notifier/alert-threads.ts" && fn.env.SLACK_MODE !== "app") {
                unreachable.push(`${use.command} (${use.file}): Slack app mode is off in this stack`);
                return [];
            }
            return named(fn, model.tables, (t) => t.name, "DynamoDB").flatMap((t) => [
                ...on(t.arn, {}),
                // Which of the two DynamoDB calls with the caller's credentials is unconfirmed; both are granted.
                ...kmsRequests(model, principal, t.keyArn, ["kms:Decrypt", "kms:GenerateDataKey"], via(model, "dynamodb", { "aws:dynamodb:tableName": t.name, "aws:dynamodb:subscriberId": model.account }), `${why}, DynamoDB table key`),
            ]);
        case "@aws-sdk/client-s3": {
            // The bucket comes with the SES notification: the receipt rule's S3 action whose topic this function subscribes to.
            const rule = only(
                model.receiptRules.filter((r) => model.subscriptions.some((s) => s.topicArn === r.topicArn && s.endpoint === fn.arn)),
                `receipt rule notifying ${fn.folder}`,
            );
            const bucket = only(model.buckets.filter((b) => b.name === rule.bucketName), `bucket ${rule.bucketName}`);
            const object = `${bucket.arn}/${rule.prefix}0123456789abcdefghijklmnopqrstuv`;
            if (use.command === "ListObjectsV2Command") {
                // mail-ingest lists exactly the mail's key (Prefix = objectKey) to tell a missing mail from a denial.
                return on(bucket.arn, { "s3:prefix": `${rule.prefix}0123456789abcdefghijklmnopqrstuv`, "s3:max-keys": "1" }, bucket.policy, model.account);
            }
            return [
                ...on(object, {}, bucket.policy, model.account),
                ...kmsRequests(model, principal, bucket.keyArn, ["kms:Decrypt"], via(model, "s3", { "aws:s3:arn": bucket.bucketKey ? bucket.arn : object }), `${why}, S3 decrypting`),
            ];
        }
        case "@aws-sdk/client-ssm": {
            const towers = JSON.parse(fn.files["towers.json"] ?? "[]") as TowerConfig[];
            const instanceIds = [...new Set(towers.flatMap((t) => (t.relay.kind === "ssm" ? [t.relay.instanceId] : [])))];
            if (instanceIds.length === 0) {
                unreachable.push(`${use.command} (${use.file}): no tower relays through SSM in this stack`);
                return [];
            }
            if (use.command !== "SendCommandCommand") return on("*", {});
            const document = only(named(fn, model.documents, (d) => d.name, "SSM documents"), "relay document");
            return [document.arn, ...instanceIds.map((id) => `arn:aws:ec2:${model.region}:${model.account}:instance/${id}`)].flatMap((resource) => on(resource, {}));
        }
        case "@aws-sdk/client-sesv2": {
            const from = only(named(fn, Object.values(fn.env).filter((v) => /^[^@\s]+@[^@\s]+$/.test(v)), (v) => v, "SES").slice(0, 1), "sender address");
            const identity = only(model.identities.filter((i) => from.endsWith(`@${i.domain}`)), `SES identity of ${from}`);
            return on(identity.arn, { "ses:FromAddress": from });
        }
    }
    throw new Error(`no resource mapping for ${use.pkg}`);
}

/** What Lambda itself does with a function's role: logs, dead letters, the SQS event source, VPC interfaces. */
function lambdaServiceRequests(model: StackModel, fn: FunctionModel): IamRequest[] {
    const principal = fn.role.arn;
    const requests: IamRequest[] = ["logs:CreateLogStream", "logs:PutLogEvents"].map((action) => ({
        principal,
        action,
        resource: `${fn.logGroupArn}:log-stream:2026/12/05/[$LATEST]0123456789abcdef`,
        context: SECURE,
        why: `${fn.folder}: Lambda writes its logs`,
    }));
    if (fn.deadLetterArn !== undefined) {
        const queue = only(model.queues.filter((q) => q.arn === fn.deadLetterArn), `dead-letter queue of ${fn.folder}`);
        requests.push({ principal, action: "sqs:SendMessage", resource: queue.arn, context: SECURE, why: `${fn.folder}: Lambda dead-letters a failed event` });
        requests.push(...kmsRequests(model, principal, queue.keyArn, ["kms:GenerateDataKey", "kms:Decrypt"], via(model, "sqs", { "aws:sqs:arn": queue.arn }), `${fn.folder}: dead letter, SQS encrypting`));
    }
    for (const mapping of model.eventSourceMappings.filter((m) => m.functionArn === fn.arn)) {
        const queue = only(model.queues.filter((q) => q.arn === mapping.queueArn), `event source of ${fn.folder}`);
        for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]) {
            requests.push({ principal, action, resource: queue.arn, context: SECURE, why: `${fn.folder}: Lambda's event source mapping polls the queue` });
        }
        requests.push(...kmsRequests(model, principal, queue.keyArn, ["kms:Decrypt"], via(model, "sqs", { "aws:sqs:arn": queue.arn }), `${fn.folder}: event source, SQS decrypting`));
    }
    if (fn.vpc !== undefined) {
        const ec2 = (resource: string) => `arn:aws:ec2:${model.region}:${model.account}:${resource}`;
        const why = `${fn.folder}: Lambda manages the function's VPC network interfaces`;
        for (const action of ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]) requests.push({ principal, action, resource: "*", context: SECURE, why });
        for (const subnet of fn.vpc.subnetIds) {
            const subnetArn = ec2(`subnet/${subnet}`);
            requests.push({ principal, action: "ec2:CreateNetworkInterface", resource: subnetArn, context: { ...SECURE, "ec2:SubnetID": subnet }, why });
            requests.push({ principal, action: "ec2:CreateNetworkInterface", resource: ec2("network-interface/*"), context: SECURE, why });
            for (const action of ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]) {
                requests.push({ principal, action, resource: ec2(`network-interface/eni-in-${subnet}`), context: { ...SECURE, "ec2:Subnet": subnetArn }, why });
            }
        }
        for (const group of fn.vpc.securityGroupIds) requests.push({ principal, action: "ec2:CreateNetworkInterface", resource: ec2(`security-group/${group}`), context: SECURE, why });
    }
    return requests;
}

/** Every request a function's role makes: its code's SDK calls and Lambda's own. */
export function functionCalls(model: StackModel, fn: FunctionModel): RoleCalls {
    const unreachable: string[] = [];
    const intended = [...sdkCommandsOf(fn.folder).flatMap((use) => requestsForCommand(model, fn, use, unreachable)), ...lambdaServiceRequests(model, fn)];
    return { who: `function ${fn.folder} (${fn.resourceName})`, roleArn: fn.role.arn, intended: dedupe(intended), misuses: dedupe(functionMisuses(model, fn, intended, unreachable)), unreachable };
}

/**
 * The AWS CLI calls a host's boot script makes (components/monitored-host/host-user-data.ts), read from its text,
 * and the SSM Agent's calls for Session Manager and Run Command (AWS Systems Manager user guide,
 * "Configure instance permissions required for Systems Manager"; the agent registers with
 * UpdateInstanceInformation and polls ListInstanceAssociations, ec2messages and ssmmessages).
 */
export function hostCalls(model: StackModel, host: HostModel): RoleCalls {
    const principal = host.role.arn;
    const instance = { "ec2:SourceInstanceARN": host.instanceArn, ...SECURE };
    const intended: IamRequest[] = [
        { principal, action: "ssm:UpdateInstanceInformation", resource: host.instanceArn, context: instance, why: "SSM Agent registers" },
        { principal, action: "ssm:ListInstanceAssociations", resource: "*", context: SECURE, why: "SSM Agent polls its associations" },
        ...["CreateControlChannel", "CreateDataChannel", "OpenControlChannel", "OpenDataChannel"].map((a) => ({ principal, action: `ssmmessages:${a}`, resource: "*", context: SECURE, why: "SSM Agent: Session Manager" })),
        ...["AcknowledgeMessage", "DeleteMessage", "FailMessage", "GetEndpoint", "GetMessages", "SendReply"].map((a) => ({ principal, action: `ec2messages:${a}`, resource: "*", context: instance, why: "SSM Agent: Run Command" })),
    ];
    // Continuation lines joined, comments dropped; `aws <service> <command>` anywhere in a line (also inside `$(…)`).
    const script = host.userData
        .replace(/\\\n/g, " ")
        .split("\n")
        .filter((line) => !/^\s*#/.test(line))
        .join("\n");
    const commands = [...script.matchAll(/(?:^|[\s$(`|;&])aws\s+([a-z0-9-]+)\s+([a-z0-9-]+)([^\n]*)/gm)];
    if (commands.length === 0) throw new Error(`the boot script of ${host.resourceName} makes no AWS CLI call; if that is right, drop the parameter read from its role`);
    for (const [line, service, command, rest] of commands) {
        if (`${service} ${command}` !== "ssm get-parameter") throw new Error(`the boot script of ${host.resourceName} runs "aws ${service} ${command}": teach test/iam/calls.ts its IAM action and resource`);
        const name = /--name[\s=]+['"]?([^'"\s)]+)['"]?/.exec(rest)?.[1];
        const parameter = only(model.parameters.filter((p) => p.name === name), `parameter ${name} read by ${host.resourceName}`);
        const why = `${host.resourceName} boot script: ${line.trim().slice(0, 60)}…`;
        intended.push({ principal, action: "ssm:GetParameter", resource: parameter.arn, context: SECURE, why });
        if (/--with-decryption/.test(rest)) intended.push(...kmsRequests(model, principal, parameter.keyArn, ["kms:Decrypt"], via(model, "ssm", { PARAMETER_ARN: parameter.arn }), `${why} (SecureString)`));
    }
    return { who: `host ${host.resourceName}`, roleArn: host.role.arn, intended: dedupe(intended), misuses: dedupe(hostMisuses(model, host, intended)), unreachable: [] };
}

/** What AWS services do with the stack's resource policies: SES storing and notifying, alarms and rules publishing, Logs encrypting. */
export function serviceCalls(model: StackModel): RoleCalls {
    const intended: IamRequest[] = [];
    const misuses: IamRequest[] = [];
    const sourceOf = (extra: Record<string, string> = {}) => ({ ...SECURE, "aws:SourceAccount": model.account, ...extra });
    const source = sourceOf;
    const foreign = (context: Record<string, string | readonly string[]>) => ({ ...context, "aws:SourceAccount": FOREIGN_ACCOUNT });
    const publish = (service: string, topicArn: string, why: string, extra: Record<string, string> = {}) => {
        const topic = only(model.topics.filter((t) => t.arn === topicArn), `topic ${topicArn}`);
        const calls: IamRequest[] = [
            { principal: service, action: "sns:Publish", resource: topic.arn, context: source(extra), resourcePolicy: topic.policy, why },
            ...kmsRequests(model, service, topic.keyArn, ["kms:GenerateDataKey", "kms:Decrypt"], source(), `${why}, encrypting for the topic`),
        ];
        intended.push(...calls);
        misuses.push(...calls.map((c) => ({ ...c, context: foreign(c.context), why: `${c.why}, from another account` })));
    };
    for (const rule of model.receiptRules) {
        const bucket = only(model.buckets.filter((b) => b.name === rule.bucketName), `bucket ${rule.bucketName}`);
        const ruleArn = `arn:aws:ses:${model.region}:${model.account}:receipt-rule-set/${rule.ruleSetName}:receipt-rule/${rule.ruleName}`;
        const why = `SES rule ${rule.ruleName} stores mail`;
        const store: IamRequest = { principal: "ses.amazonaws.com", action: "s3:PutObject", resource: `${bucket.arn}/${rule.prefix}0123456789abcdefghijklmnopqrstuv`, resourceAccount: model.account, context: source({ "aws:SourceArn": ruleArn }), resourcePolicy: bucket.policy, why };
        intended.push(store, ...kmsRequests(model, "ses.amazonaws.com", bucket.keyArn, ["kms:GenerateDataKey"], source(), `${why}, encrypting`));
        misuses.push(
            { ...store, context: foreign(store.context), why: `${why}, from another account` },
            { ...store, context: { ...store.context, "aws:SourceArn": `${ruleArn}-other` }, why: `${why}, for another rule` },
            { ...store, resource: `${bucket.arn}/elsewhere/x`, why: `${why}, outside its prefix` },
            { ...store, context: { ...store.context, "aws:SecureTransport": "false" }, why: `${why}, without TLS` },
        );
        if (rule.topicArn !== undefined) publish("ses.amazonaws.com", rule.topicArn, `SES rule ${rule.ruleName} notifies`, { "aws:SourceArn": ruleArn });
    }
    // S3 server access logging (S3 user guide, "Permissions for log delivery": logging.s3.amazonaws.com
    // with aws:SourceArn of the source bucket and aws:SourceAccount), where the stack turns it on.
    for (const logging of model.accessLogging) {
        const source = model.buckets.find((b) => b.name === logging.sourceBucket);
        const target = model.buckets.find((b) => b.name === logging.targetBucket);
        if (source === undefined || target === undefined) continue;
        const why = `S3 delivers the access logs of ${source.name}`;
        const deliver: IamRequest = { principal: "logging.s3.amazonaws.com", action: "s3:PutObject", resource: `${target.arn}/${logging.prefix}2026-12-05-00-00-00-0123456789ABCDEF`, resourceAccount: model.account, context: sourceOf({ "aws:SourceArn": source.arn }), resourcePolicy: target.policy, why };
        intended.push(deliver);
        misuses.push({ ...deliver, context: foreign(deliver.context), why: `${why}, from another account` }, { ...deliver, context: { ...deliver.context, "aws:SourceArn": "arn:aws:s3:::someone-elses-bucket" }, why: `${why}, for another bucket` });
    }
    for (const publisher of model.servicePublishers) publish(publisher.service, publisher.topicArn, `${publisher.service} publishes (${publisher.why})`);
    for (const group of model.logGroups.filter((g) => g.keyArn !== undefined)) {
        const service = `logs.${model.region}.amazonaws.com`;
        const calls = kmsRequests(model, service, group.keyArn, ["kms:GenerateDataKey", "kms:Decrypt"], { ...SECURE, "kms:EncryptionContext:aws:logs:arn": group.arn }, `CloudWatch Logs encrypts ${group.name}`);
        intended.push(...calls);
        misuses.push(...calls.map((c) => ({ ...c, context: { ...c.context, "kms:EncryptionContext:aws:logs:arn": group.arn.replace(`:${model.account}:`, `:${FOREIGN_ACCOUNT}:`) }, why: `${c.why}, for another account's log group` })));
    }
    return { who: "AWS services (resource policies)", roleArn: "", intended: dedupe(intended), misuses: dedupe(misuses), unreachable: [] };
}

function dedupe(requests: IamRequest[]): IamRequest[] {
    const seen = new Set<string>();
    return requests.filter((r) => {
        const key = JSON.stringify([r.principal, r.action, r.resource, r.context]);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

/** The same request on each of `resources` this role has no business with. */
function elsewhere(request: IamRequest, resources: string[], why: string, policyOf: (arn: string) => unknown = () => request.resourcePolicy): IamRequest[] {
    return resources.filter((r) => r !== request.resource).map((resource) => ({ ...request, resource, resourcePolicy: policyOf(resource), why: `${request.why} → ${why} ${resource}` }));
}

/** The misuses a stolen function role might try, each a variation of one of its intended calls, plus logs of other functions. */
function functionMisuses(model: StackModel, fn: FunctionModel, intended: IamRequest[], unreachable: string[]): IamRequest[] {
    const principal = fn.role.arn;
    const used = (action: string) => new Set(intended.filter((r) => r.action === action).map((r) => r.resource));
    const misuses: IamRequest[] = [];
    const notUsed = (action: string, arns: string[]) => arns.filter((arn) => !used(action).has(arn));
    for (const request of intended) {
        const [service] = request.action.split(":");
        switch (service) {
            case "kms": {
                const otherKeys = notUsed(request.action, model.keys.map((k) => k.arn));
                misuses.push(...elsewhere(request, [...otherKeys, request.resource.replace(`:${model.account}:`, `:${FOREIGN_ACCOUNT}:`)], "another key", (arn) => model.keys.find((k) => k.arn === arn)?.policy ?? request.resourcePolicy));
                const context = request.context;
                if (context["kms:EncryptionContext:LambdaFunctionName"] !== undefined) {
                    for (const other of model.functions.filter((f) => f !== fn)) misuses.push({ ...request, context: { ...context, "kms:EncryptionContext:LambdaFunctionName": other.functionName }, why: `${request.why} → the secret of ${other.folder}` });
                }
                if (context["kms:ViaService"] !== undefined) {
                    const { ["kms:ViaService"]: _via, ...direct } = context;
                    misuses.push({ ...request, context: direct, why: `${request.why} → straight to KMS, not through the service` });
                    misuses.push({ ...request, context: { ...context, "kms:ViaService": `secretsmanager.${model.region}.amazonaws.com` }, why: `${request.why} → through another service` });
                }
                break;
            }
            case "sqs":
                misuses.push(...elsewhere(request, [...notUsed(request.action, model.queues.map((q) => q.arn)), `arn:aws:sqs:${model.region}:${FOREIGN_ACCOUNT}:someone-elses-queue`], "another queue"));
                break;
            case "sns":
                misuses.push(...elsewhere(request, [...notUsed(request.action, model.topics.map((t) => t.arn)), `arn:aws:sns:${model.region}:${FOREIGN_ACCOUNT}:someone-elses-topic`], "another topic", (arn) => model.topics.find((t) => t.arn === arn)?.policy));
                break;
            case "dynamodb":
                misuses.push(...elsewhere(request, [...notUsed(request.action, model.tables.map((t) => t.arn)), `arn:aws:dynamodb:${model.region}:${model.account}:table/someone-elses-table`], "another table"));
                for (const action of ["dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:DeleteTable"]) if (!used(action).has(request.resource)) misuses.push({ ...request, action, why: `${request.why} → ${action}` });
                break;
            case "s3": {
                if (request.action === "s3:ListBucket") {
                    const prefix = String(request.context["s3:prefix"]);
                    const { ["s3:prefix"]: _prefix, ...unprefixed } = request.context;
                    misuses.push(
                        { ...request, context: unprefixed, why: `${request.why} → listing the whole bucket` },
                        { ...request, context: { ...request.context, "s3:prefix": "" }, why: `${request.why} → listing from the bucket's root` },
                        { ...request, context: { ...request.context, "s3:prefix": "elsewhere/" }, why: `${request.why} → listing outside the mail prefix` },
                        { ...request, context: { ...request.context, "s3:prefix": prefix.replace(/^[^/]*\//, "logs/") }, why: `${request.why} → listing another prefix` },
                        { ...request, resource: "arn:aws:s3:::someone-elses-bucket", resourcePolicy: undefined, why: `${request.why} → another bucket` },
                        { ...request, context: { ...request.context, "aws:SecureTransport": "false" }, why: `${request.why} → without TLS` },
                        { ...request, action: "s3:ListBucketVersions", why: `${request.why} → listing versions` },
                    );
                    break;
                }
                const bucketArn = request.resource.slice(0, request.resource.indexOf("/"));
                misuses.push(
                    { ...request, resource: `${bucketArn}/elsewhere/x`, why: `${request.why} → outside the mail prefix` },
                    { ...request, resource: `arn:aws:s3:::someone-elses-bucket/mail/x`, resourcePolicy: undefined, why: `${request.why} → another bucket` },
                    { ...request, context: { ...request.context, "aws:SecureTransport": "false" }, why: `${request.why} → without TLS` },
                    { ...request, action: "s3:PutObject", why: `${request.why} → overwriting the stored mail` },
                    { ...request, action: "s3:DeleteObject", why: `${request.why} → deleting the stored mail` },
                );
                break;
            }
            case "ssm":
                if (request.action === "ssm:SendCommand") {
                    const otherInstances = model.hosts.map((h) => h.instanceArn).filter((arn) => !used("ssm:SendCommand").has(arn));
                    misuses.push(
                        ...elsewhere(request, [...otherInstances, `arn:aws:ec2:${model.region}:${model.account}:instance/i-0someoneelse0000`], "another instance"),
                        // AWS's own documents have no account in their ARN, which iam-simulate's ARN patterns refuse; the shell document under this account stands for it.
                        ...elsewhere(request, [`arn:aws:ssm:${model.region}:${model.account}:document/AWS-RunShellScript`, `arn:aws:ssm:${model.region}:${model.account}:document/someone-elses-document`], "another document"),
                    );
                }
                break;
            case "ses": {
                const from = String(request.context["ses:FromAddress"]);
                misuses.push(
                    { ...request, context: { ...request.context, "ses:FromAddress": from.replace(/^[^@]+/, "ceo") }, why: `${request.why} → from another address of the domain` },
                    ...elsewhere(request, [`arn:aws:ses:${model.region}:${model.account}:identity/someone-else.example`], "another identity"),
                );
                break;
            }
            case "ec2": {
                const otherSubnets = [...model.subnets.publicIds, ...model.subnets.privateIds].filter((id) => !(fn.vpc?.subnetIds ?? []).includes(id));
                const ec2 = (resource: string) => `arn:aws:ec2:${model.region}:${model.account}:${resource}`;
                if (request.context["ec2:Subnet"] !== undefined) {
                    for (const subnet of [...otherSubnets, "subnet-someoneelse"]) misuses.push({ ...request, resource: ec2(`network-interface/eni-in-${subnet}`), context: { ...request.context, "ec2:Subnet": ec2(`subnet/${subnet}`) }, why: `${request.why} → an interface in subnet ${subnet}` });
                }
                if (request.action === "ec2:CreateNetworkInterface" && request.resource.includes(":subnet/")) {
                    for (const subnet of [...otherSubnets, "subnet-someoneelse"]) misuses.push({ ...request, resource: ec2(`subnet/${subnet}`), context: { ...request.context, "ec2:SubnetID": subnet }, why: `${request.why} → in subnet ${subnet}` });
                }
                if (request.action === "ec2:CreateNetworkInterface" && request.resource.includes(":security-group/")) {
                    misuses.push(...elsewhere(request, model.securityGroupIds.filter((id) => !(fn.vpc?.securityGroupIds ?? []).includes(id)).map((id) => ec2(`security-group/${id}`)), "another security group"));
                }
                break;
            }
        }
    }
    // Logs: no log group of another function, no new log group anywhere.
    for (const other of model.logGroups.filter((g) => g.arn !== fn.logGroupArn)) {
        for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"]) misuses.push({ principal, action, resource: `${other.arn}:log-stream:x`, context: SECURE, why: `${fn.folder} → writing the logs of ${other.name}` });
    }
    for (const group of [fn.logGroupArn, `arn:aws:logs:${model.region}:${model.account}:log-group:/aws/lambda/anything`]) {
        misuses.push({ principal, action: "logs:CreateLogGroup", resource: group, context: SECURE, why: `${fn.folder} → creating log group ${group}` });
    }
    // A role without SSM relay must not send commands at all.
    if (unreachable.some((u) => u.startsWith("SendCommandCommand")) || !intended.some((r) => r.action === "ssm:SendCommand")) {
        for (const host of model.hosts) misuses.push({ principal, action: "ssm:SendCommand", resource: host.instanceArn, context: SECURE, why: `${fn.folder} → Run Command on ${host.resourceName}` });
    }
    // No host's Datadog key.
    for (const parameter of model.parameters) misuses.push({ principal, action: "ssm:GetParameter", resource: parameter.arn, context: SECURE, why: `${fn.folder} → reading ${parameter.name}` });
    return misuses;
}

/** The misuses a stolen host role might try: other hosts' parameters and keys, other parameters, other contexts. */
function hostMisuses(model: StackModel, host: HostModel, intended: IamRequest[]): IamRequest[] {
    const principal = host.role.arn;
    const misuses: IamRequest[] = [];
    const own = intended.find((r) => r.action === "ssm:GetParameter")!;
    const ownDecrypt = intended.find((r) => r.action === "kms:Decrypt")!;
    const parameterArn = (name: string) => `arn:aws:ssm:${model.region}:${model.account}:parameter${name}`;
    const envPrefix = own.resource.slice(own.resource.indexOf(":parameter") + ":parameter".length).split("/").slice(0, 3).join("/");
    const others = [
        ...model.parameters.filter((p) => p.arn !== own.resource).map((p) => p.arn),
        parameterArn(`${envPrefix}/another-host/datadog-api-key`),
        parameterArn("/some/other/application/secret"),
    ];
    for (const arn of others) {
        for (const action of ["ssm:GetParameter", "ssm:GetParameters"]) misuses.push({ principal, action, resource: arn, context: SECURE, why: `${host.resourceName} → ${action} ${arn}` });
    }
    misuses.push({ principal, action: "ssm:GetParametersByPath", resource: parameterArn(envPrefix), context: SECURE, why: `${host.resourceName} → every parameter under ${envPrefix}` });
    for (const other of model.parameters.filter((p) => p.arn !== own.resource)) {
        misuses.push({ ...ownDecrypt, resource: other.keyArn, resourcePolicy: keyPolicy(model, other.keyArn), context: { ...ownDecrypt.context, "kms:EncryptionContext:PARAMETER_ARN": other.arn }, why: `${host.resourceName} → decrypting ${other.name}` });
        misuses.push({ ...ownDecrypt, context: { ...ownDecrypt.context, "kms:EncryptionContext:PARAMETER_ARN": other.arn }, why: `${host.resourceName} → its own key with ${other.name}'s context` });
    }
    const { ["kms:ViaService"]: _via, ...direct } = ownDecrypt.context;
    misuses.push({ ...ownDecrypt, context: direct, why: `${host.resourceName} → its key straight from KMS` });
    misuses.push({ ...ownDecrypt, context: { ...ownDecrypt.context, "kms:EncryptionContext:PARAMETER_ARN": parameterArn(`${envPrefix}/another-host/datadog-api-key`) }, why: `${host.resourceName} → its own key with another parameter's context` });
    for (const other of model.hosts.filter((h) => h !== host)) misuses.push({ principal, action: "ssm:SendCommand", resource: other.instanceArn, context: SECURE, why: `${host.resourceName} → Run Command on ${other.resourceName}` });
    for (const group of model.logGroups) misuses.push({ principal, action: "logs:PutLogEvents", resource: `${group.arn}:log-stream:x`, context: SECURE, why: `${host.resourceName} → writing the logs of ${group.name}` });
    misuses.push({ principal, action: "logs:CreateLogGroup", resource: `arn:aws:logs:${model.region}:${model.account}:log-group:anything`, context: SECURE, why: `${host.resourceName} → creating a log group` });
    return misuses;
}

/** Actions a role's policies allow that none of its requests uses. */
export function unusedGrants(role: RoleModel, calls: RoleCalls): string[] {
    const used = new Set(calls.intended.map((r) => r.action.toLowerCase()));
    const granted = role.policies.flatMap((p) => p.policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => [s.Action].flat()));
    return [...new Set(granted)].filter((action) => !used.has(action.toLowerCase()));
}
