import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FUNCTION_RUNTIME, functionCode } from "./function-code";
import { serviceAssumeRolePolicy } from "./iam-documents";

/** What differs between alertline's functions; everything else is the same for all of them. */
export interface ServiceFunctionArgs {
    /** Physical function name (see lambdaFunctionName); also names the log group. */
    readonly functionName: string;
    readonly description: string;
    /** Folder under functions/ to bundle, and files to package beside it. */
    readonly source: string;
    readonly files?: Record<string, pulumi.Input<string>>;
    /** Key that encrypts the environment and the log group. */
    readonly keyArn: pulumi.Input<string>;
    readonly logRetentionDays: number;
    readonly environment: Record<string, pulumi.Input<string>>;
    readonly timeoutSeconds: number;
    readonly memoryMb: number;
    /** The role's inline policy, given the log group's ARN. */
    readonly policy: (logGroupArn: pulumi.Output<string>) => pulumi.Input<string>;
    readonly deadLetterQueueArn?: pulumi.Input<string>;
    /** Concurrent executions reserved for (and capping) this function; unset: it shares the account's unreserved pool. */
    readonly reservedConcurrency?: number;
    readonly vpcConfig?: aws.types.input.lambda.FunctionVpcConfig;
    readonly tags: Record<string, string>;
}

/**
 * One alertline function with what every one of them needs: an encrypted log group with retention
 * created before the function (else Lambda makes an unencrypted one that never expires), a role
 * only Lambda assumes with exactly the given policy and no AWS-managed one (a VPC function adds
 * lambdaVpcAccessStatements to its own), JSON logs, an environment encrypted with a
 * customer-managed key. Children are named `${name}`, `${name}-logs`, `${name}-role`, `${name}-policy`
 * under `parent`.
 */
export function serviceFunction(parent: pulumi.Resource, name: string, args: ServiceFunctionArgs): aws.lambda.Function {
    const logGroup = new aws.cloudwatch.LogGroup(
        `${name}-logs`,
        { name: `/aws/lambda/${args.functionName}`, retentionInDays: args.logRetentionDays, kmsKeyId: args.keyArn, tags: args.tags },
        { parent },
    );
    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: JSON.stringify(serviceAssumeRolePolicy("lambda.amazonaws.com")), tags: args.tags }, { parent });
    // The function waits for its policy too: Lambda checks a VPC function's network-interface grants when it
    // is created, and on destroy the grants must outlive the function so Lambda can release its interfaces.
    const policy = new aws.iam.RolePolicy(`${name}-policy`, { role: role.name, policy: args.policy(logGroup.arn) }, { parent });
    return new aws.lambda.Function(
        name,
        {
            name: args.functionName,
            description: args.description,
            runtime: FUNCTION_RUNTIME,
            handler: "index.handler",
            code: functionCode(args.source, args.files),
            role: role.arn,
            kmsKeyArn: args.keyArn,
            timeout: args.timeoutSeconds,
            memorySize: args.memoryMb,
            environment: { variables: args.environment },
            ...(args.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: args.reservedConcurrency }),
            deadLetterConfig: args.deadLetterQueueArn === undefined ? undefined : { targetArn: args.deadLetterQueueArn },
            vpcConfig: args.vpcConfig,
            loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
            tags: args.tags,
        },
        { parent, dependsOn: [logGroup, policy] },
    );
}

/**
 * A secret for one function's environment: KMS ciphertext of `plaintext` under the encryption
 * context `{LambdaFunctionName: functionName}`, which the function decrypts with
 * functions/shared/kms-env-secret.ts. The console's "encryption helpers" use the same context, so an
 * operator can re-encrypt a rotated value by hand in an emergency and the function still decrypts it.
 * The child is named `name` under `parent`; returns the base64 ciphertext.
 */
export function functionSecret(parent: pulumi.Resource, name: string, args: { keyArn: pulumi.Input<string>; plaintext: pulumi.Input<string>; functionName: string }): pulumi.Output<string> {
    return new aws.kms.Ciphertext(
        name,
        { keyId: args.keyArn, plaintext: pulumi.secret(args.plaintext), context: { LambdaFunctionName: args.functionName } },
        { parent },
    ).ciphertextBlob;
}
