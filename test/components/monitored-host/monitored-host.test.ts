import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { amiArchitecture, MonitoredHost } from "../../../components/monitored-host/monitored-host";
import { RecordingEngine, reveal, SecretValue } from "../../../tools/offline/mock-engine";
import { policyDocument, recordResources } from "../../harness/record";

const API_KEY = "0123456789abcdef0123456789abcdef";
let engine: RecordingEngine;

beforeAll(async () => {
    engine = await recordResources(() => {
        new MonitoredHost("host-web", {
            environment: "dev",
            hostName: "web",
            vpcId: "vpc-1",
            subnetId: "subnet-private-1",
            processes: ["chronyd", "sshd", "nginx"],
            cpuThresholdPercent: 75,
            datadogApiKey: pulumi.secret(API_KEY),
            datadogSite: "ap1.datadoghq.com",
            alertTopicArn: "arn:aws:sns:ap-northeast-1:123456789012:alerts",
            notify: pulumi.output("@opsgenie-alertline-dev @slack-acme-alerts-dev"),
        });
    });
});

const instance = () => engine.get("aws:ec2/instance:Instance", "host-web-instance");

describe("MonitoredHost instance", () => {
    it("requires IMDSv2 tokens", () => {
        expect(instance().inputs.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
    });

    it("encrypts the root volume with the host's own customer-managed key", () => {
        const key = engine.get("aws:kms/key:Key", "host-web-key");
        expect(instance().inputs.rootBlockDevice).toMatchObject({ encrypted: true, kmsKeyId: key.state.arn });
        expect(key.inputs.enableKeyRotation).toBe(true);
    });

    it("sits in the given private subnet without a public address", () => {
        expect(instance().inputs.subnetId).toBe("subnet-private-1");
        expect(instance().inputs.associatePublicIpAddress).toBe(false);
    });

    it("uses the Amazon Linux 2023 image found by lookup", () => {
        const lookup = engine.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
        expect(lookup.inputs.owners).toEqual(["amazon"]);
        expect(JSON.stringify(lookup.inputs.filters)).toContain("al2023-ami-2023.*-x86_64");
        expect(instance().inputs.ami).toBe("ami-al2023-x86_64");
    });

    it("allows no inbound traffic at all: Session Manager replaces SSH", () => {
        const sg = engine.get("aws:ec2/securityGroup:SecurityGroup", "host-web-sg");
        expect(sg.inputs.ingress ?? []).toEqual([]);
        expect(engine.ofType("aws:ec2/securityGroupRule:SecurityGroupRule")).toEqual([]);
        expect(engine.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toEqual([]);
        expect(instance().inputs.vpcSecurityGroupIds).toEqual([sg.id]);
    });

    it("allows HTTPS out as a separate rule, never inline, so a relay site's tower rules on the group survive updates", () => {
        const sg = engine.get("aws:ec2/securityGroup:SecurityGroup", "host-web-sg");
        expect(sg.inputs.egress).toBeUndefined();
        expect(engine.get("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "host-web-https-egress").inputs).toMatchObject({
            securityGroupId: sg.id,
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrIpv4: "0.0.0.0/0",
        });
    });

    it("gets an instance profile whose role has the SSM Agent's inline statements and no AWS-managed policy", () => {
        expect(engine.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
        const agent = JSON.parse(String(engine.get("aws:iam/rolePolicy:RolePolicy", "host-web-ssm-agent").inputs.policy)) as { Statement: { Action: string[] }[] };
        const actions = agent.Statement.flatMap((s) => s.Action);
        expect(actions).toContain("ssm:UpdateInstanceInformation");
        expect(actions).toContain("ssmmessages:OpenDataChannel");
        expect(actions).toContain("ec2messages:GetMessages");
        expect(actions.filter((a) => a.startsWith("ssm:GetParameter"))).toEqual([]);
        expect(instance().inputs.iamInstanceProfile).toBe(engine.get("aws:iam/instanceProfile:InstanceProfile", "host-web-profile").state.name);
    });

    it("may read its own Datadog key parameter only, decrypted through Parameter Store with that parameter's context", () => {
        const policy = JSON.parse(String(engine.get("aws:iam/rolePolicy:RolePolicy", "host-web-read-api-key").inputs.policy));
        const parameterArn = engine.get("aws:ssm/parameter:Parameter", "host-web-datadog-api-key").state.arn;
        expect(policy.Statement).toEqual([
            { Sid: "ReadDatadogKey", Effect: "Allow", Action: "ssm:GetParameter", Resource: parameterArn },
            {
                Sid: "DecryptDatadogKey",
                Effect: "Allow",
                Action: "kms:Decrypt",
                Resource: engine.get("aws:kms/key:Key", "host-web-key").state.arn,
                Condition: { StringEquals: { "kms:EncryptionContext:PARAMETER_ARN": parameterArn, "kms:ViaService": "ssm.ap-northeast-1.amazonaws.com" } },
            },
        ]);
    });
});

describe("MonitoredHost Datadog key", () => {
    it("is stored as a SecureString under the host's key, and only as a secret", () => {
        const parameter = engine.get("aws:ssm/parameter:Parameter", "host-web-datadog-api-key");
        expect(parameter.inputs.type).toBe("SecureString");
        expect(parameter.inputs.keyId).toBe(engine.get("aws:kms/key:Key", "host-web-key").state.arn);
        expect(parameter.inputs.value).toBeInstanceOf(SecretValue);
    });

    it("appears nowhere in clear: not in user data, not in any input", () => {
        const userData = String(instance().inputs.userData);
        expect(userData).toContain("/alertline/dev/web/datadog-api-key");
        expect(userData).not.toContain(API_KEY);
        const everythingNotSecret = JSON.stringify(engine.registrations.map((r) => r.inputs));
        expect(everythingNotSecret).not.toContain(API_KEY);
        // and it did reach the parameter, which is what the Agent reads
        expect(reveal(engine.get("aws:ssm/parameter:Parameter", "host-web-datadog-api-key").inputs.value)).toBe(API_KEY);
    });

    it("may be read only by this host's role, and decrypted only for this parameter", () => {
        const parameter = engine.get("aws:ssm/parameter:Parameter", "host-web-datadog-api-key");
        const policy = policyDocument(engine.get("aws:iam/rolePolicy:RolePolicy", "host-web-read-api-key").inputs.policy);
        expect(policy.Statement).toHaveLength(2);
        expect(policy.Statement[0]).toMatchObject({ Action: "ssm:GetParameter", Resource: parameter.state.arn });
        expect(policy.Statement[1].Condition.StringEquals["kms:EncryptionContext:PARAMETER_ARN"]).toBe(parameter.state.arn);
    });
});

describe("MonitoredHost monitors", () => {
    const monitors = () => engine.ofType("datadog:index/monitor:Monitor");

    it("watches each configured process with a process.up service check", () => {
        const queries = monitors().map((m) => String(m.inputs.query));
        for (const process of ["chronyd", "sshd", "nginx"]) {
            expect(queries.some((q) => q.startsWith('"process.up"') && q.includes(`"process:${process}"`))).toBe(true);
        }
    });

    it("routes every monitor to the alert channel's handles", () => {
        expect(monitors()).toHaveLength(5);
        for (const monitor of monitors()) {
            expect(String(monitor.inputs.message).endsWith("\n@opsgenie-alertline-dev @slack-acme-alerts-dev")).toBe(true);
        }
    });

    it("passes thresholds as the provider's decimal strings", () => {
        const cpu = engine.get("datadog:index/monitor:Monitor", "host-web-cpu");
        expect(cpu.inputs.monitorThresholds).toEqual({ critical: "75" });
        expect(cpu.inputs.query).toContain("> 75");
    });
});

describe("MonitoredHost CloudWatch alarms", () => {
    it("publish CPU and status-check alarms and their recovery to the alert topic", () => {
        const alarms = engine.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
        expect(alarms.map((a) => a.inputs.metricName).sort()).toEqual(["CPUUtilization", "StatusCheckFailed"]);
        for (const alarm of alarms) {
            expect(alarm.inputs.alarmActions).toEqual(["arn:aws:sns:ap-northeast-1:123456789012:alerts"]);
            expect(alarm.inputs.okActions).toEqual(["arn:aws:sns:ap-northeast-1:123456789012:alerts"]);
            expect(alarm.inputs.dimensions).toEqual({ InstanceId: instance().id });
        }
    });
});

describe("amiArchitecture", () => {
    it("chooses arm64 for Graviton families and x86_64 otherwise", () => {
        expect(amiArchitecture("t4g.small")).toBe("arm64");
        expect(amiArchitecture("m7g.large")).toBe("arm64");
        expect(amiArchitecture("c8gd.xlarge")).toBe("arm64");
        expect(amiArchitecture("t3.small")).toBe("x86_64");
        expect(amiArchitecture("m7i.large")).toBe("x86_64");
        expect(amiArchitecture("g5.xlarge")).toBe("x86_64");
    });
});
