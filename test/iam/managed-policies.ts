import type { PolicyDoc } from "./stack-model";

/**
 * The documents of the AWS-managed policies alertline attached before issue 9, as AWS publishes them
 * (AWS Managed Policy Reference: AWSLambdaVPCAccessExecutionRole v3, edited 2024-01-05;
 * AmazonSSMManagedInstanceCore v2, edited 2019-05-23), so that if one is attached again the
 * simulation evaluates what it really grants instead of failing to see it.
 */
export const AWS_MANAGED_POLICIES: Record<string, PolicyDoc["policy"]> = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole": {
        Statement: [
            {
                Sid: "AWSLambdaVPCAccessExecutionPermissions",
                Effect: "Allow",
                Action: [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                Resource: "*",
            },
        ],
    },
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": {
        Statement: [
            {
                Effect: "Allow",
                Action: [
                    "ssm:DescribeAssociation",
                    "ssm:GetDeployablePatchSnapshotForInstance",
                    "ssm:GetDocument",
                    "ssm:DescribeDocument",
                    "ssm:GetManifest",
                    "ssm:GetParameter",
                    "ssm:GetParameters",
                    "ssm:ListAssociations",
                    "ssm:ListInstanceAssociations",
                    "ssm:PutInventory",
                    "ssm:PutComplianceItems",
                    "ssm:PutConfigurePackageResult",
                    "ssm:UpdateAssociationStatus",
                    "ssm:UpdateInstanceAssociationStatus",
                    "ssm:UpdateInstanceInformation",
                ],
                Resource: "*",
            },
            { Effect: "Allow", Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"], Resource: "*" },
            {
                Effect: "Allow",
                Action: ["ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply"],
                Resource: "*",
            },
        ],
    },
};
