/** IAM building blocks that more than one component uses. */

/** Key-policy statement that hands the key's administration to the account's IAM policies. */
export function accountIamDecidesStatement(accountId: string) {
    return {
        Sid: "AccountIamDecides",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
    };
}

/** Trust policy that lets one AWS service (e.g. "lambda.amazonaws.com") assume the role. */
export function serviceAssumeRolePolicy(service: string) {
    return {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
    };
}

/** Key-policy statement that lets CloudWatch Logs encrypt this account's log groups in a region. */
export function logsEncryptStatement(accountId: string, region: string) {
    return {
        Sid: "LogsEncryptTheLogGroups",
        Effect: "Allow",
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${accountId}:log-group:*` } },
    };
}

/** Lets a role use a key only through one AWS service in one region (`kms:ViaService`). */
export function useKeyVia(sid: string, keyArn: string, actions: string[], service: string, region: string) {
    return { Sid: sid, Effect: "Allow", Action: actions, Resource: keyArn, Condition: { StringEquals: { "kms:ViaService": `${service}.${region}.amazonaws.com` } } };
}

/**
 * Lets a function decrypt the secrets encrypted for it alone: KMS checks the encryption context
 * `{LambdaFunctionName: <its name>}` that the components encrypt with.
 */
export function decryptOwnSecretsStatement(sid: string, keyArn: string, functionName: string) {
    return {
        Sid: sid,
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: keyArn,
        Condition: { StringEquals: { "kms:EncryptionContext:LambdaFunctionName": functionName } },
    };
}

/** Where a VPC function's network interfaces may live: its subnets and security groups. */
export interface LambdaVpcPlacement {
    readonly region: string;
    readonly accountId: string;
    readonly subnetIds: readonly string[];
    readonly securityGroupIds: readonly string[];
}

/**
 * What Lambda does with a VPC function's own role to give it network interfaces (the EC2 actions of
 * AWS's AWSLambdaVPCAccessExecutionRole, v3), confined to the function's subnets and security
 * groups. Not confinable: the two Describe actions (EC2 offers neither resource-level permissions
 * nor conditions for them; they only read), and the new interface itself in CreateNetworkInterface
 * (EC2 has no subnet condition key for an interface that does not exist yet; the subnet and the
 * security group the same call names are what confine it). The logs actions of that managed policy
 * are left out on purpose: every function already writes its own log group only.
 */
export function lambdaVpcAccessStatements(placement: LambdaVpcPlacement) {
    const ec2Arn = (resource: string) => `arn:aws:ec2:${placement.region}:${placement.accountId}:${resource}`;
    const subnetArns = placement.subnetIds.map((id) => ec2Arn(`subnet/${id}`));
    return [
        { Sid: "VpcReadInterfaces", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: "*" },
        {
            Sid: "VpcCreateInterfacesInOwnSubnets",
            Effect: "Allow",
            Action: "ec2:CreateNetworkInterface",
            Resource: [...subnetArns, ...placement.securityGroupIds.map((id) => ec2Arn(`security-group/${id}`))],
        },
        { Sid: "VpcCreateInterfaces", Effect: "Allow", Action: "ec2:CreateNetworkInterface", Resource: ec2Arn("network-interface/*") },
        {
            Sid: "VpcManageInterfacesInOwnSubnets",
            Effect: "Allow",
            Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
            Resource: ec2Arn("network-interface/*"),
            Condition: { ArnEquals: { "ec2:Subnet": subnetArns } },
        },
    ];
}

/**
 * What the SSM Agent on a host calls for what alertline uses it for, Session Manager and Run
 * Command (the relay document), taken from AWS's AmazonSSMManagedInstanceCore (v2) without its
 * parameter reads (`ssm:GetParameter(s)` on every parameter of the account), its State Manager,
 * inventory and compliance actions (alertline defines no associations), patching
 * (`GetDeployablePatchSnapshotForInstance`) and Distributor (`GetManifest`,
 * `PutConfigurePackageResult`). These actions offer no resource-level permissions worth naming:
 * each acts on the calling instance only.
 */
export function ssmAgentStatements() {
    return [
        { Sid: "SsmAgentRegisters", Effect: "Allow", Action: ["ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations"], Resource: "*" },
        {
            Sid: "SsmAgentSessions",
            Effect: "Allow",
            Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            Resource: "*",
        },
        {
            Sid: "SsmAgentRunCommand",
            Effect: "Allow",
            Action: ["ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply"],
            Resource: "*",
        },
    ];
}

/** Bucket-policy statement refusing every request to the bucket and its objects that is not made over TLS. */
export function tlsOnlyBucketStatement(bucketArn: string) {
    return {
        Sid: "TlsOnly",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}
