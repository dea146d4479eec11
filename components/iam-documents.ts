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
