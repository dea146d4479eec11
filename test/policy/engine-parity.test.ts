import * as grpc from "@grpc/grpc-js";
import { ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secureTunnelOptions } from "../../components/patlite-site/vpn-tunnels";
import { policyNames, runPolicies, Violation } from "../../tools/offline/policy-runner";
import { Registration, SecretValue, UnknownValue } from "../../tools/offline/mock-engine";
import { KEY_ARN, resource, stackResource, TAGS, unknown, urnOf } from "./registrations";

/**
 * The runner against the real thing: policy/index.ts started as `pulumi` starts it (a child process
 * serving @pulumi/policy's analyzer over gRPC on 127.0.0.1), fed the same resources as protobuf
 * requests the way the engine sends them. Every verdict must agree: policy, resource, level, message.
 */

const ROOT = path.resolve(__dirname, "..", "..");
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [require.resolve("@pulumi/pulumi")] }));
const { Empty } = require(require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [require.resolve("@pulumi/pulumi")] }));

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"] as const;
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN_WIRE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A recorded value in the engine's wire form: secrets as signed objects, unknowns as the sentinel. */
function wire(value: unknown): unknown {
    if (value instanceof SecretValue) return { [SIG]: SECRET_SIG, value: wire(value.value) };
    if (value instanceof UnknownValue) return UNKNOWN_WIRE;
    if (Array.isArray(value)) return value.map(wire);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, wire(v)]));
}

function options(registration: Registration) {
    const opts = new analyzerPb.AnalyzerResourceOptions();
    if (registration.parent) opts.setParent(registration.parent);
    return opts;
}

/** Turns the analyzer's diagnostics into runner verdicts; the engine prefixes a violation with the policy's description. */
function verdictsFrom(response: { getDiagnosticsList(): any[] }, subject: (urn: string) => Registration | undefined, descriptions: Map<string, string>): Violation[] {
    return response.getDiagnosticsList().map((d) => {
        const about = subject(d.getUrn());
        const prefix = `${descriptions.get(d.getPolicyname())}\n`;
        const message: string = d.getMessage();
        return {
            policy: d.getPolicyname(),
            type: about?.type ?? "",
            name: about?.name ?? "",
            urn: about?.urn ?? "",
            level: LEVELS[d.getEnforcementlevel()] as Violation["level"],
            message: message.startsWith(prefix) ? message.slice(prefix.length) : message,
        };
    });
}

/** Resources that make every policy speak: violations, passes, secrets, and values unknown at preview. */
function zoo(): Registration[] {
    const topicArn = "arn:aws:sns:ap-northeast-1:123456789012:alerts";
    const key = resource("aws:kms/key:Key", "key", { enableKeyRotation: true, tags: TAGS, policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "kms:*" }] }) });
    return [
        stackResource(),
        resource("alertline:index:Channel", "channel", {}, { custom: false }),
        key,
        resource("aws:kms/key:Key", "stale", { tags: TAGS, policy: unknown() }),
        resource("aws:sns/topic:Topic", "alerts", { kmsMasterKeyId: "alias/aws/sns", tags: TAGS }, { state: { kmsMasterKeyId: "alias/aws/sns", tags: TAGS, arn: topicArn }, parent: urnOf("alertline:index:Channel", "channel") }),
        resource("aws:sns/topic:Topic", "plain", { tags: { environment: "dev" } }),
        resource("aws:sns/topic:Topic", "keyed", { kmsMasterKeyId: new SecretValue(KEY_ARN), tags: TAGS }, { propertyDependencies: { kmsMasterKeyId: [key.urn] } }),
        resource("aws:cloudwatch/metricAlarm:MetricAlarm", "cpu", { alarmActions: [topicArn], okActions: [unknown()], tags: TAGS }),
        resource("aws:sqs/queue:Queue", "queue", { tags: TAGS }),
        resource("aws:cloudwatch/logGroup:LogGroup", "logs", { kmsKeyId: unknown(), tags: TAGS }),
        resource("aws:cloudwatch/logGroup:LogGroup", "clear-logs", { retentionInDays: 14, tags: TAGS }),
        resource("aws:dynamodb/table:Table", "table", { serverSideEncryption: { enabled: true }, tags: TAGS }),
        resource("aws:lambda/function:Function", "fn", { environment: { variables: { TOKEN: new SecretValue("t0ken") } }, tags: TAGS }),
        resource("aws:ec2/instance:Instance", "host", { metadataOptions: { httpTokens: "optional" }, associatePublicIpAddress: true, subnetId: unknown(), tags: TAGS }),
        resource("aws:ebs/volume:Volume", "volume", { encrypted: unknown(), tags: TAGS }),
        resource("aws:ec2/securityGroup:SecurityGroup", "sg", { ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }, { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: unknown() }], tags: TAGS }),
        // a separate rule on "sg", which has inline ingress rules too
        resource(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "rdp",
            { securityGroupId: unknown(), ipProtocol: "tcp", fromPort: 3389, toPort: 3389, cidrIpv6: "::/0", tags: TAGS },
            { propertyDependencies: { securityGroupId: [urnOf("aws:ec2/securityGroup:SecurityGroup", "sg")] } },
        ),
        resource("aws:iam/role:Role", "role", { assumeRolePolicy: "{}", managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"], tags: TAGS }),
        resource(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "role-core",
            { role: "role-1", policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
            { propertyDependencies: { role: [urnOf("aws:iam/role:Role", "role")] } },
        ),
        resource("aws:ec2/vpnConnection:VpnConnection", "vpn", { ...secureTunnelOptions("rtx1300"), tunnel2IkeVersions: ["ikev1", "ikev2"], tags: TAGS }),
        resource("aws:ses/receiptRule:ReceiptRule", "rule", { tlsPolicy: "Optional", scanEnabled: true, s3Actions: [{ position: 1, bucketName: "b", topicArn }] }),
        resource("aws:s3/bucket:Bucket", "bucket", { tags: TAGS }, { state: { tags: TAGS, bucket: "bucket-1" } }),
        resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "bucket-sse", { bucket: "bucket-1", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
        resource("aws:lambda/eventSourceMapping:EventSourceMapping", "source", { functionName: "fn", eventSourceArn: "arn:aws:sqs:ap-northeast-1:123456789012:q" }),
    ];
}

describe("the runner and the real analyzer server agree", () => {
    let child: ChildProcess;
    let client: any;
    let stderr = "";

    const call = <T>(method: string, request: unknown): Promise<T> =>
        new Promise((resolve, reject) => client[method](request, (error: Error | null, response: T) => (error ? reject(error) : resolve(response))));

    beforeAll(async () => {
        // As `pulumi` runs a pack: its own directory as the working directory (PolicyPack reads ./package.json).
        child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), ["index.ts"], { cwd: path.join(ROOT, "policy"), stdio: ["ignore", "pipe", "pipe"] });
        child.stderr!.on("data", (chunk) => (stderr += chunk));
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (chunk) => {
                out += chunk;
                const line = out.split("\n")[0];
                if (out.includes("\n")) resolve(line.trim());
            });
            child.once("exit", (code) => reject(new Error(`policy pack exited with ${code} before serving:\n${stderr}`)));
        });
        expect(port).toMatch(/^\d+$/);
        client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    }, 20_000);

    afterAll(async () => {
        client?.close();
        if (child && child.exitCode === null) {
            const exited = once(child, "exit");
            child.kill("SIGTERM");
            await exited;
        }
    });

    it("serves the pack under its name with every policy, all mandatory", async () => {
        const info: any = await call("getAnalyzerInfo", new Empty());
        expect(info.getName()).toBe("alertline-guardrails");
        const policies = info.getPoliciesList().map((p: any) => [p.getName(), LEVELS[p.getEnforcementlevel()]]);
        expect(policies).toEqual(policyNames().map((name) => [name, "mandatory"]));
    });

    it("gives the same verdicts for every resource, and for the stack", async () => {
        const registrations = zoo();
        const byUrn = new Map(registrations.map((r) => [r.urn, r] as const));
        const info: any = await call("getAnalyzerInfo", new Empty());
        const descriptions = new Map<string, string>(info.getPoliciesList().map((p: any) => [p.getName(), p.getDescription()]));

        const served: Violation[] = [];
        for (const registration of registrations.filter((r) => r.custom)) {
            const request = new analyzerPb.AnalyzeRequest();
            request.setType(registration.type);
            request.setName(registration.name);
            request.setUrn(registration.urn);
            request.setProperties(Struct.fromJavaScript(wire(registration.inputs)));
            request.setOptions(options(registration));
            const response: any = await call("analyze", request);
            served.push(...verdictsFrom(response, (urn) => byUrn.get(urn) ?? registration, descriptions));
        }
        const stackRequest = new analyzerPb.AnalyzeStackRequest();
        stackRequest.setResourcesList(
            registrations.map((registration) => {
                const r = new analyzerPb.AnalyzerResource();
                r.setType(registration.type);
                r.setName(registration.name);
                r.setUrn(registration.urn);
                r.setProperties(Struct.fromJavaScript(wire(registration.state)));
                r.setOptions(options(registration));
                if (registration.parent) r.setParent(registration.parent);
                r.setDependenciesList([...(registration.dependencies ?? [])]);
                for (const [property, urns] of Object.entries(registration.propertyDependencies ?? {})) {
                    const deps = new analyzerPb.AnalyzerPropertyDependencies();
                    deps.setUrnsList([...urns]);
                    r.getPropertydependenciesMap().set(property, deps);
                }
                return r;
            }),
        );
        const stackResponse: any = await call("analyzeStack", stackRequest);
        served.push(...verdictsFrom(stackResponse, (urn) => byUrn.get(urn) ?? registrations[0], descriptions));

        const ours = runPolicies(registrations);
        const sort = (vs: Violation[]) => [...vs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        expect(sort(ours)).toEqual(sort(served));
        // and the comparison is not empty: every policy had something to say, both levels occur
        expect(new Set(ours.map((v) => v.policy))).toEqual(new Set(policyNames()));
        expect(new Set(ours.map((v) => v.level))).toEqual(new Set(["mandatory", "advisory"]));
        expect(stderr).toBe("");
    });
});
