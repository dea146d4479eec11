import type { StackEvaluation } from "../../tools/offline/evaluate";
import { assetText, MOCK_ACCOUNT_ID, reveal, type Registration } from "../../tools/offline/mock-engine";
import { bundleFunction } from "../../components/shared/function-code";
import { AWS_MANAGED_POLICIES } from "./managed-policies";
import { functionFolders } from "./sdk-calls";

/**
 * What the IAM simulation needs from an evaluated stack, read from the registrations the mock
 * engine recorded: every role with its inline and attached policies and who uses it (a function
 * and the folder its code was bundled from, or an EC2 host and its boot script), and the resources
 * they call with their ARNs, keys and resource policies.
 */

export interface PolicyDoc {
    readonly name: string;
    readonly policy: { Statement: Statement[] };
}
export interface Statement {
    readonly Sid?: string;
    readonly Effect: string;
    readonly Action: string | string[];
    readonly Resource: string | string[];
    readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface RoleModel {
    readonly resourceName: string;
    readonly arn: string;
    readonly name: string;
    readonly inlinePolicies: PolicyDoc[];
    readonly managedPolicyArns: string[];
    /** What the simulation evaluates: the inline policies and the documents of the attached AWS-managed ones. */
    readonly policies: PolicyDoc[];
}

export interface FunctionModel {
    readonly resourceName: string;
    readonly functionName: string;
    readonly arn: string;
    /** The folder under functions/ whose bundle the function runs. */
    readonly folder: string;
    readonly role: RoleModel;
    readonly env: Record<string, string>;
    readonly logGroupArn: string;
    readonly deadLetterArn?: string;
    readonly vpc?: { subnetIds: string[]; securityGroupIds: string[] };
    /** Files packaged beside the bundle (towers.json, …). */
    readonly files: Record<string, string>;
}

export interface HostModel {
    readonly resourceName: string;
    readonly instanceId: string;
    readonly instanceArn: string;
    readonly securityGroupIds: string[];
    readonly role: RoleModel;
    readonly userData: string;
}

export interface StackModel {
    readonly stack: string;
    readonly account: string;
    readonly region: string;
    readonly roles: RoleModel[];
    readonly functions: FunctionModel[];
    readonly hosts: HostModel[];
    readonly keys: { arn: string; policy: unknown }[];
    readonly topics: { arn: string; keyArn?: string; policy?: unknown }[];
    readonly queues: { arn: string; url: string; keyArn?: string }[];
    readonly tables: { arn: string; name: string; keyArn?: string }[];
    readonly buckets: { arn: string; name: string; policy?: unknown; keyArn?: string; bucketKey: boolean }[];
    readonly documents: { arn: string; name: string }[];
    readonly parameters: { arn: string; name: string; keyArn: string }[];
    readonly ciphertexts: { blob: string; keyArn: string; context: Record<string, string> }[];
    readonly logGroups: { arn: string; name: string; keyArn?: string }[];
    readonly identities: { arn: string; domain: string }[];
    readonly subnets: { privateIds: string[]; publicIds: string[] };
    readonly securityGroupIds: string[];
    /** SES receipt rules' S3 actions. */
    readonly receiptRules: { ruleSetName: string; ruleName: string; bucketName: string; prefix: string; topicArn?: string }[];
    /** Topic → the function ARNs subscribed to it. */
    readonly subscriptions: { topicArn: string; endpoint: string }[];
    readonly eventSourceMappings: { queueArn: string; functionArn: string }[];
    /** S3 server access logging: source bucket name → target bucket name and prefix. */
    readonly accessLogging: { sourceBucket: string; targetBucket: string; prefix: string }[];
    /** AWS services that publish to a topic, from the alarms, EventBridge targets and budgets that name it. */
    readonly servicePublishers: { service: string; topicArn: string; why: string }[];
}

const plain = (r: Registration) => reveal(r.inputs) as Record<string, any>;
const text = (value: unknown) => String(reveal(value));

export function stackModel(evaluation: StackEvaluation): StackModel {
    const engine = evaluation.engine;
    const of = (type: string) => engine.ofType(type);
    const region = String(evaluation.config.config["aws:region"] ?? "ap-northeast-1");
    const account = MOCK_ACCOUNT_ID;
    const parse = (value: unknown) => (value === undefined ? undefined : JSON.parse(text(value)));

    const roles: RoleModel[] = of("aws:iam/role:Role").map((role) => {
        const name = String(role.state.name);
        const inlinePolicies: PolicyDoc[] = of("aws:iam/rolePolicy:RolePolicy")
            .filter((p) => plain(p).role === name)
            .map((p) => ({ name: p.name, policy: parse(p.inputs.policy) }));
        const managedPolicyArns = of("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            .filter((a) => plain(a).role === name)
            .map((a) => String(plain(a).policyArn));
        const managed = managedPolicyArns.map((arn) => {
            const policy = AWS_MANAGED_POLICIES[arn];
            if (policy === undefined) throw new Error(`role ${role.name} has ${arn} attached, whose document test/iam/managed-policies.ts does not hold: add it from AWS's managed policy reference`);
            return { name: arn, policy };
        });
        return { resourceName: role.name, arn: String(role.state.arn), name, inlinePolicies, managedPolicyArns, policies: [...inlinePolicies, ...managed] };
    });
    const roleByArn = (arn: string) => {
        const role = roles.find((r) => r.arn === arn);
        if (role === undefined) throw new Error(`no role with ARN ${arn} was registered`);
        return role;
    };

    const bundles = new Map(functionFolders().map((folder) => [bundleFunction(folder), folder] as const));
    const logGroups = of("aws:cloudwatch/logGroup:LogGroup").map((g) => ({ arn: String(g.state.arn), name: String(g.state.name), keyArn: plain(g).kmsKeyId as string | undefined }));
    const functions: FunctionModel[] = of("aws:lambda/function:Function").map((fn) => {
        const inputs = plain(fn);
        const archive = (inputs.code as { archive: Record<string, string> }).archive;
        const files = Object.fromEntries(Object.entries(archive).map(([file, summary]) => [file, assetText(summary)]));
        const folder = bundles.get(files["index.js"]);
        if (folder === undefined) throw new Error(`function ${fn.name} runs a bundle of no folder under functions/`);
        const logGroup = logGroups.find((g) => g.name === inputs.loggingConfig?.logGroup);
        if (logGroup === undefined) throw new Error(`function ${fn.name} logs to no registered log group`);
        const vpc = inputs.vpcConfig as { subnetIds: string[]; securityGroupIds: string[] } | undefined;
        return {
            resourceName: fn.name,
            functionName: String(fn.state.name),
            arn: String(fn.state.arn),
            folder,
            role: roleByArn(String(inputs.role)),
            env: Object.fromEntries(Object.entries((inputs.environment?.variables ?? {}) as Record<string, unknown>).map(([k, v]) => [k, text(v)])),
            logGroupArn: logGroup.arn,
            deadLetterArn: inputs.deadLetterConfig?.targetArn,
            vpc: vpc === undefined ? undefined : { subnetIds: [...vpc.subnetIds], securityGroupIds: [...vpc.securityGroupIds] },
            files,
        };
    });

    const hosts: HostModel[] = of("aws:ec2/instance:Instance").map((instance) => {
        const inputs = plain(instance);
        const profile = of("aws:iam/instanceProfile:InstanceProfile").find((p) => p.state.name === inputs.iamInstanceProfile);
        if (profile === undefined) throw new Error(`instance ${instance.name} has no registered instance profile`);
        const role = roles.find((r) => r.name === plain(profile).role);
        if (role === undefined) throw new Error(`instance profile ${profile.name} names no registered role`);
        return {
            resourceName: instance.name,
            instanceId: instance.id,
            instanceArn: String(instance.state.arn),
            securityGroupIds: [...(inputs.vpcSecurityGroupIds as string[])],
            role,
            userData: String(inputs.userData),
        };
    });

    const topicPolicies = of("aws:sns/topicPolicy:TopicPolicy").map((p) => ({ arn: String(plain(p).arn), policy: parse(p.inputs.policy) }));
    const bucketPolicies = of("aws:s3/bucketPolicy:BucketPolicy").map((p) => ({ bucket: String(plain(p).bucket), policy: parse(p.inputs.policy) }));
    const bucketEncryption = of("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").map((c) => ({
        bucket: String(plain(c).bucket),
        rule: (plain(c).rules as { applyServerSideEncryptionByDefault: { kmsMasterKeyId?: string }; bucketKeyEnabled?: boolean }[])[0],
    }));
    const vpc = of("awsx:ec2:Vpc")[0];

    const servicePublishers: StackModel["servicePublishers"] = [];
    for (const alarm of of("aws:cloudwatch/metricAlarm:MetricAlarm")) {
        for (const arn of new Set([...(plain(alarm).alarmActions ?? []), ...(plain(alarm).okActions ?? [])] as string[])) servicePublishers.push({ service: "cloudwatch.amazonaws.com", topicArn: arn, why: `alarm ${alarm.name}` });
    }
    for (const target of of("aws:cloudwatch/eventTarget:EventTarget")) servicePublishers.push({ service: "events.amazonaws.com", topicArn: String(plain(target).arn), why: `EventBridge target ${target.name}` });
    for (const budget of of("aws:budgets/budget:Budget")) {
        for (const notification of (plain(budget).notifications ?? []) as { subscriberSnsTopicArns?: string[] }[]) {
            for (const arn of notification.subscriberSnsTopicArns ?? []) servicePublishers.push({ service: "budgets.amazonaws.com", topicArn: arn, why: `budget ${budget.name}` });
        }
    }
    const topicArns = new Set(of("aws:sns/topic:Topic").map((t) => String(t.state.arn)));

    return {
        stack: evaluation.stack,
        account,
        region,
        roles,
        functions,
        hosts,
        keys: of("aws:kms/key:Key").map((k) => ({ arn: String(k.state.arn), policy: parse(k.inputs.policy) })),
        topics: of("aws:sns/topic:Topic").map((t) => ({
            arn: String(t.state.arn),
            keyArn: plain(t).kmsMasterKeyId,
            policy: topicPolicies.find((p) => p.arn === t.state.arn)?.policy,
        })),
        queues: of("aws:sqs/queue:Queue").map((q) => ({ arn: String(q.state.arn), url: String(q.state.url), keyArn: plain(q).kmsMasterKeyId })),
        tables: of("aws:dynamodb/table:Table").map((t) => ({ arn: String(t.state.arn), name: String(t.state.name), keyArn: plain(t).serverSideEncryption?.kmsKeyArn })),
        buckets: of("aws:s3/bucket:Bucket").map((b) => {
            const encryption = bucketEncryption.find((e) => e.bucket === b.id);
            return {
                arn: String(b.state.arn),
                name: String(b.state.bucket),
                policy: bucketPolicies.find((p) => p.bucket === b.id)?.policy,
                keyArn: encryption?.rule.applyServerSideEncryptionByDefault.kmsMasterKeyId,
                bucketKey: encryption?.rule.bucketKeyEnabled === true,
            };
        }),
        documents: of("aws:ssm/document:Document").map((d) => ({ arn: String(d.state.arn), name: String(d.state.name) })),
        parameters: of("aws:ssm/parameter:Parameter").map((p) => ({ arn: String(p.state.arn), name: String(plain(p).name), keyArn: String(plain(p).keyId) })),
        ciphertexts: of("aws:kms/ciphertext:Ciphertext").map((c) => ({ blob: String(c.state.ciphertextBlob), keyArn: String(plain(c).keyId), context: (plain(c).context ?? {}) as Record<string, string> })),
        logGroups,
        identities: of("aws:ses/domainIdentity:DomainIdentity").map((i) => ({ arn: String(i.state.arn), domain: String(plain(i).domain) })),
        subnets: { privateIds: [...((vpc?.state.privateSubnetIds ?? []) as string[])], publicIds: [...((vpc?.state.publicSubnetIds ?? []) as string[])] },
        securityGroupIds: of("aws:ec2/securityGroup:SecurityGroup").map((g) => g.id),
        receiptRules: of("aws:ses/receiptRule:ReceiptRule").flatMap((rule) =>
            ((plain(rule).s3Actions ?? []) as { bucketName: string; objectKeyPrefix?: string; topicArn?: string }[]).map((action) => ({
                ruleSetName: String(plain(rule).ruleSetName),
                ruleName: String(plain(rule).name),
                bucketName: action.bucketName,
                prefix: action.objectKeyPrefix ?? "",
                topicArn: action.topicArn,
            })),
        ),
        subscriptions: of("aws:sns/topicSubscription:TopicSubscription").map((s) => ({ topicArn: String(plain(s).topic), endpoint: String(plain(s).endpoint) })),
        eventSourceMappings: of("aws:lambda/eventSourceMapping:EventSourceMapping").map((m) => ({ queueArn: String(plain(m).eventSourceArn), functionArn: String(plain(m).functionName) })),
        servicePublishers: servicePublishers.filter((p) => topicArns.has(p.topicArn)),
        accessLogging: [...of("aws:s3/bucketLogging:BucketLogging"), ...of("aws:s3/bucketLoggingV2:BucketLoggingV2")].map((l) => ({
            sourceBucket: String(plain(l).bucket),
            targetBucket: String(plain(l).targetBucket),
            prefix: String(plain(l).targetPrefix ?? ""),
        })),
    };
}
