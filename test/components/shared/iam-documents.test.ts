import { describe, expect, it } from "vitest";
import { lambdaVpcAccessStatements } from "../../../components/shared/iam-documents";
import { canaryFunctionPolicy, dispatchFunctionPolicy } from "../../../components/mail-ingest/mail-ingest-policies";
import { accountOnlyKeyPolicy, readApiKeyPolicy, ssmAgentPolicy } from "../../../components/monitored-host/monitored-host";
import { AWS_MANAGED_POLICIES } from "../../iam/managed-policies";
import { simulate } from "../../iam/simulate";

/** The pure policy documents on their own, evaluated by @cloud-copilot/iam-simulate. */

const ACCOUNT = "111122223333";
const REGION = "eu-west-1";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/test-role`;
const ec2 = (resource: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${resource}`;
/** KMS needs its key policy to allow too; alertline's hand the decision to the account's IAM. */
const KEY_POLICY = accountOnlyKeyPolicy(ACCOUNT);
const decide = (policy: unknown, action: string, resource: string, context: Record<string, string> = {}) =>
    simulate({ principal: ROLE, action, resource, context: { "aws:SecureTransport": "true", ...context }, resourcePolicy: action.startsWith("kms:") ? KEY_POLICY : undefined, why: "unit" }, [{ name: "p", policy }]);

describe("lambdaVpcAccessStatements", () => {
    const policy = { Version: "2012-10-17", Statement: lambdaVpcAccessStatements({ region: REGION, accountId: ACCOUNT, subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-fn"] }) };

    it("lets Lambda create, manage and delete interfaces in the function's subnets with its security group", async () => {
        expect(await decide(policy, "ec2:CreateNetworkInterface", ec2("subnet/subnet-a"))).toBe("Allowed");
        expect(await decide(policy, "ec2:CreateNetworkInterface", ec2("security-group/sg-fn"))).toBe("Allowed");
        expect(await decide(policy, "ec2:CreateNetworkInterface", ec2("network-interface/*"))).toBe("Allowed");
        for (const action of ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]) {
            expect(await decide(policy, action, ec2("network-interface/eni-1"), { "ec2:Subnet": ec2("subnet/subnet-b") })).toBe("Allowed");
        }
        expect(await decide(policy, "ec2:DescribeNetworkInterfaces", "*")).toBe("Allowed");
    });

    it("grants no action AWS's AWSLambdaVPCAccessExecutionRole does not, and none of its logs actions", () => {
        const managed = AWS_MANAGED_POLICIES["arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"].Statement.flatMap((st) => [st.Action].flat());
        const ours = policy.Statement.flatMap((st) => [st.Action].flat());
        expect(ours.filter((action) => !managed.includes(action))).toEqual([]);
        expect(ours.filter((action) => action.startsWith("logs:"))).toEqual([]);
    });

    it("refuses other subnets, other security groups and interfaces outside the function's subnets", async () => {
        expect(await decide(policy, "ec2:CreateNetworkInterface", ec2("subnet/subnet-public"))).toBe("ImplicitlyDenied");
        expect(await decide(policy, "ec2:CreateNetworkInterface", ec2("security-group/sg-host"))).toBe("ImplicitlyDenied");
        expect(await decide(policy, "ec2:DeleteNetworkInterface", ec2("network-interface/eni-2"), { "ec2:Subnet": ec2("subnet/subnet-public") })).toBe("ImplicitlyDenied");
        expect(await decide(policy, "ec2:DeleteNetworkInterface", ec2("network-interface/eni-2"))).toBe("ImplicitlyDenied");
    });

    it("grants no logs action: the function's own statements scope its log group", () => {
        expect(JSON.stringify(policy)).not.toContain("logs:");
    });
});

describe("dispatchFunctionPolicy", () => {
    const base = {
        region: REGION,
        logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/d`,
        tableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/state`,
        mailKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/mail`,
        alertTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:alerts`,
        alertKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/alerts`,
        signalQueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:signals.fifo`,
        signalDeadLetterArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:signals-dlq.fifo`,
        vpc: { region: REGION, accountId: ACCOUNT, subnetIds: ["subnet-a"], securityGroupIds: ["sg-fn"] },
    };
    const relay = { documentArn: `arn:aws:ssm:${REGION}:${ACCOUNT}:document/relay`, instanceArns: [ec2("instance/i-relay")] };

    it("with a relay, lets the dispatcher cancel the commands it timed out on, and follow them", async () => {
        const policy = dispatchFunctionPolicy({ ...base, relay });
        expect(await decide(policy, "ssm:CancelCommand", "*")).toBe("Allowed");
        expect(await decide(policy, "ssm:GetCommandInvocation", "*")).toBe("Allowed");
        expect(await decide(policy, "ssm:SendCommand", relay.documentArn)).toBe("Allowed");
        expect(await decide(policy, "ssm:SendCommand", ec2("instance/i-relay"))).toBe("Allowed");
        expect(await decide(policy, "ssm:SendCommand", ec2("instance/i-other"))).toBe("ImplicitlyDenied");
    });

    it("without a relay, grants no SSM action at all", () => {
        expect(JSON.stringify(dispatchFunctionPolicy(base))).not.toContain("ssm:");
    });

    it("keeps state with get and put only, and consumes the queue as the event source mapping does", async () => {
        const policy = dispatchFunctionPolicy(base);
        expect(await decide(policy, "dynamodb:UpdateItem", base.tableArn)).toBe("ImplicitlyDenied");
        expect(await decide(policy, "sqs:ChangeMessageVisibility", base.signalQueueArn)).toBe("ImplicitlyDenied");
        expect(await decide(policy, "sqs:ReceiveMessage", base.signalQueueArn)).toBe("Allowed");
    });

    it("sends to the signal dead-letter queue only, and encrypts for that queue only", async () => {
        const policy = dispatchFunctionPolicy(base);
        const via = (queue: string) => ({ "kms:ViaService": `sqs.${REGION}.amazonaws.com`, "kms:EncryptionContext:aws:sqs:arn": queue });
        expect(await decide(policy, "sqs:SendMessage", base.signalDeadLetterArn)).toBe("Allowed");
        expect(await decide(policy, "sqs:SendMessage", base.signalQueueArn)).toBe("ImplicitlyDenied");
        expect(await decide(policy, "kms:GenerateDataKey", base.mailKeyArn, via(base.signalDeadLetterArn))).toBe("Allowed");
        expect(await decide(policy, "kms:GenerateDataKey", base.mailKeyArn, via(base.signalQueueArn))).toBe("ImplicitlyDenied");
    });
});

describe("host role", () => {
    const parameterArn = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/alertline/dev/web/datadog-api-key`;
    const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/host-web`;
    const read = readApiKeyPolicy(parameterArn, keyArn, REGION);
    const via = { "kms:ViaService": `ssm.${REGION}.amazonaws.com`, "kms:EncryptionContext:PARAMETER_ARN": parameterArn };

    it("reads and decrypts its own Datadog key through Parameter Store", async () => {
        expect(await decide(read, "ssm:GetParameter", parameterArn)).toBe("Allowed");
        expect(await decide(read, "kms:Decrypt", keyArn, via)).toBe("Allowed");
    });

    it("reads no other parameter and decrypts nothing straight from KMS or under another parameter's context", async () => {
        expect(await decide(read, "ssm:GetParameter", parameterArn.replace("/web/", "/db/"))).toBe("ImplicitlyDenied");
        expect(await decide(read, "kms:Decrypt", keyArn, { "kms:EncryptionContext:PARAMETER_ARN": parameterArn })).toBe("ImplicitlyDenied");
        expect(await decide(read, "kms:Decrypt", keyArn, { ...via, "kms:EncryptionContext:PARAMETER_ARN": parameterArn.replace("/web/", "/db/") })).toBe("ImplicitlyDenied");
    });

    it("gives the SSM Agent Session Manager and Run Command, and no parameter of the account", async () => {
        const agent = ssmAgentPolicy();
        // Never more than AWS's own policy for the agent: every action is one AmazonSSMManagedInstanceCore grants.
        const managed = AWS_MANAGED_POLICIES["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"].Statement.flatMap((st) => [st.Action].flat());
        expect(agent.Statement.flatMap((st) => [st.Action].flat()).filter((action) => !managed.includes(action))).toEqual([]);
        expect(await decide(agent, "ssmmessages:OpenDataChannel", "*")).toBe("Allowed");
        expect(await decide(agent, "ec2messages:GetMessages", "*")).toBe("Allowed");
        expect(await decide(agent, "ssm:GetParameter", parameterArn)).toBe("ImplicitlyDenied");
        expect(await decide(agent, "ssm:GetParameters", parameterArn)).toBe("ImplicitlyDenied");
    });
});

describe("canaryFunctionPolicy", () => {
    const identityArn = `arn:aws:ses:${REGION}:${ACCOUNT}:identity/alerts.example.jp`;
    const policy = canaryFunctionPolicy({ logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/c`, identityArn, fromAddress: "alertline-canary@alerts.example.jp" });

    it("sends raw mail from the canary address only, under both action names SESv2 raw sends are checked as", async () => {
        for (const action of ["ses:SendEmail", "ses:SendRawEmail"]) {
            expect(await decide(policy, action, identityArn, { "ses:FromAddress": "alertline-canary@alerts.example.jp" })).toBe("Allowed");
            expect(await decide(policy, action, identityArn, { "ses:FromAddress": "ceo@alerts.example.jp" })).toBe("ImplicitlyDenied");
        }
    });
});
