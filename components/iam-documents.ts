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
