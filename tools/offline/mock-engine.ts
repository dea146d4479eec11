import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

/**
 * The mock Pulumi engine shared by the tests, the offline plan and the benchmarks. It records
 * every registration with its parent and its inputs as the engine would receive them (secrets
 * still marked), answers the data-source calls the program makes with fixed values, and throws
 * for any call it does not know, so a new data source cannot slip through unnoticed.
 */

export const MOCK_ACCOUNT_ID = "123456789012";
/** The Amazon-side ASN of every transit gateway the mock looks up: not the VPN gateway's default 64512. */
export const MOCK_TRANSIT_GATEWAY_ASN = 64513;

/** A value that was a Pulumi secret when registered. Serialises as "[secret]". */
export class SecretValue {
    constructor(readonly value: unknown) {}
    toJSON(): string {
        return "[secret]";
    }
}

/** A value not known until deployment (only seen in preview mode). Serialises as "[unknown]". */
export class UnknownValue {
    toJSON(): string {
        return "[unknown]";
    }
}

/** One resource as the engine saw it. */
export interface Registration {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** URN of the parent, or undefined for the stack itself. */
    readonly parent: string | undefined;
    /** True for provider-managed resources, false for components (and the stack). */
    readonly custom: boolean;
    /** Inputs with secrets as SecretValue, assets as summaries, resource references as URNs. */
    readonly inputs: Record<string, unknown>;
    /** Physical ID the mock assigned ("" for components). */
    readonly id: string;
    /** The state the mock answered with. */
    readonly state: Record<string, unknown>;
    /** URNs this resource depends on: `dependsOn` and every resource whose outputs reached its inputs. */
    readonly dependencies?: readonly string[];
    /** Per input property, the URNs of the resources its value came from. */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Turns the wire form of resource inputs into plain values with secrets and assets marked. */
export function decodeWireValue(value: unknown): unknown {
    if (value === UNKNOWN) return new UnknownValue();
    if (Array.isArray(value)) return value.map(decodeWireValue);
    if (value === null || typeof value !== "object") return value;
    const obj = value as Record<string, unknown>;
    switch (obj[SIG]) {
        case SECRET_SIG:
            return new SecretValue(decodeWireValue(obj.value));
        case ASSET_SIG:
            return { asset: summariseAsset(obj) };
        case ARCHIVE_SIG:
            return { archive: Object.fromEntries(Object.entries((obj.assets ?? {}) as Record<string, unknown>).map(([k, v]) => [k, summariseAsset(v as Record<string, unknown>)])) };
        case RESOURCE_SIG:
            return { resource: obj.urn };
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, decodeWireValue(v)]));
}

/** Text of the assets summarised so far, by summary, for tests that read a packaged file. */
const assetTexts = new Map<string, string>();

/** The text behind a text asset's summary (e.g. a function's packaged `ingest.json`). */
export function assetText(summary: string): string {
    const text = assetTexts.get(summary);
    if (text === undefined) throw new Error(`no text asset was registered with the summary "${summary}"`);
    return text;
}

function summariseAsset(asset: Record<string, unknown>): string {
    if (typeof asset.text === "string") {
        const sha = createHash("sha256").update(asset.text).digest("hex").slice(0, 12);
        const summary = `text, ${asset.text.length} bytes, sha256 ${sha}`;
        assetTexts.set(summary, asset.text);
        return summary;
    }
    return String(asset.path ?? asset.uri ?? "asset");
}

/** Strips SecretValue wrappers: what the provider would receive. */
export function reveal(value: unknown): unknown {
    if (value instanceof SecretValue) return reveal(value.value);
    if (Array.isArray(value)) return value.map(reveal);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
}

/** Options that shape the mock's answers. */
export interface MockEngineOptions {
    /** Region the data sources report. Default "ap-northeast-1". */
    readonly region?: string;
}

let vpnCounter = 0;

/** The fake cloud: outputs a provider would compute, per resource type. */
function computedState(type: string, name: string, inputs: Record<string, unknown>, region: string): { id: string; state: Record<string, unknown> } {
    const id = `${name}-id`;
    const arnOf = (service: string, resource: string) => `arn:aws:${service}:${region}:${MOCK_ACCOUNT_ID}:${resource}`;
    const base = { ...inputs };
    switch (type) {
        case "awsx:ec2:Vpc": {
            const zones = Number(inputs.numberOfAvailabilityZones ?? 3);
            const subnets = (kind: string) => Array.from({ length: zones }, (_, i) => `subnet-${kind}-${i + 1}`);
            return {
                id,
                state: {
                    ...inputs,
                    vpcId: `vpc-${name}`,
                    privateSubnetIds: subnets("private"),
                    publicSubnetIds: subnets("public"),
                    isolatedSubnetIds: [],
                },
            };
        }
        case "aws:kms/key:Key":
            return { id: `key-${name}`, state: { ...base, arn: arnOf("kms", `key/key-${name}`), keyId: `key-${name}` } };
        case "aws:kms/ciphertext:Ciphertext":
            // What KMS returns is opaque bytes; the mock never echoes the plaintext.
            return { id, state: { ...base, plaintext: undefined, ciphertextBlob: Buffer.from(`mock-ciphertext:${name}`).toString("base64") } };
        case "aws:sns/topic:Topic":
            return { id: arnOf("sns", name), state: { ...base, arn: arnOf("sns", name), name } };
        case "aws:sqs/queue:Queue": {
            const queueName = inputs.fifoQueue ? `${name}.fifo` : name;
            const url = `https://sqs.${region}.amazonaws.com/${MOCK_ACCOUNT_ID}/${queueName}`;
            return { id: url, state: { ...base, arn: arnOf("sqs", queueName), name: queueName, url } };
        }
        case "aws:s3/bucket:Bucket":
            return { id: `${name}-bucket`, state: { ...base, bucket: `${name}-bucket`, arn: `arn:aws:s3:::${name}-bucket` } };
        case "aws:dynamodb/table:Table":
            return { id: `${name}-table`, state: { ...base, name: `${name}-table`, arn: arnOf("dynamodb", `table/${name}-table`) } };
        case "aws:ssm/document:Document":
            return { id: `${name}-doc`, state: { ...base, name: `${name}-doc`, arn: arnOf("ssm", `document/${name}-doc`) } };
        case "aws:ses/domainIdentity:DomainIdentity":
            return { id: String(inputs.domain), state: { ...base, arn: arnOf("ses", `identity/${inputs.domain}`), verificationToken: "mockVerificationToken123=" } };
        case "aws:ses/domainDkim:DomainDkim":
            return { id: String(inputs.domain), state: { ...base, dkimTokens: ["dkimtokenone", "dkimtokentwo", "dkimtokenthree"] } };
        case "alicloud:ram/accessKey:AccessKey":
            return { id: `LTAI-${name}`, state: { ...base, secret: `mock-alibaba-secret-${name}`, status: "Active" } };
        case "alicloud:ram/user:User":
            return { id: `ram-${name}`, state: { ...base } };
        case "aws:ec2/vpnConnection:VpnConnection": {
            // Documentation addresses and an inside /30 per tunnel, as AWS would assign them.
            const n = vpnCounter++;
            return {
                id: `vpn-${name}`,
                state: {
                    ...base,
                    arn: arnOf("ec2", `vpn-connection/vpn-${name}`),
                    tunnel1Address: `198.51.100.${2 * n + 1}`,
                    tunnel2Address: `198.51.100.${2 * n + 2}`,
                    tunnel1CgwInsideAddress: `169.254.${100 + n}.2`,
                    tunnel1VgwInsideAddress: `169.254.${100 + n}.1`,
                    tunnel2CgwInsideAddress: `169.254.${200 + n}.6`,
                    tunnel2VgwInsideAddress: `169.254.${200 + n}.5`,
                    tunnel1PresharedKey: `mockPsk.tunnel1_${n}abcdef`,
                    tunnel2PresharedKey: `mockPsk.tunnel2_${n}abcdef`,
                    transitGatewayAttachmentId: inputs.transitGatewayId === undefined ? "" : `tgw-attach-vpn-${name}`,
                },
            };
        }
        case "aws:lambda/function:Function":
            return { id: String(inputs.name ?? name), state: { ...base, arn: arnOf("lambda", `function:${inputs.name ?? name}`), name: inputs.name ?? name } };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { id: String(inputs.name ?? name), state: { ...base, arn: arnOf("logs", `log-group:${inputs.name ?? name}`), name: inputs.name ?? name } };
        case "aws:iam/role:Role":
            return { id: name, state: { ...base, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/${name}`, name } };
        case "aws:iam/instanceProfile:InstanceProfile":
            return { id: name, state: { ...base, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:instance-profile/${name}`, name } };
        case "aws:ssm/parameter:Parameter":
            return { id: String(inputs.name), state: { ...base, value: undefined, arn: arnOf("ssm", `parameter${inputs.name}`) } };
        case "aws:ec2/instance:Instance":
            return { id: `i-${name}`, state: { ...base, arn: arnOf("ec2", `instance/i-${name}`), privateIp: "10.20.128.10" } };
        case "aws:ec2/securityGroup:SecurityGroup":
            return { id: `sg-${name}`, state: { ...base, arn: arnOf("ec2", `security-group/sg-${name}`) } };
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return { id, state: { ...base, arn: arnOf("cloudwatch", `alarm:${inputs.name ?? name}`) } };
        case "datadog:index/monitor:Monitor":
            return { id: String(1_000_000 + (parseInt(createHash("sha256").update(name).digest("hex").slice(0, 6), 16) % 1_000_000)), state: base };
        case "random:index/randomPassword:RandomPassword":
            // Letters and digits of the requested length, like the provider; distinct per resource.
            return { id: "none", state: { ...base, result: createHash("sha256").update(name).digest("hex").slice(0, Number(inputs.length ?? 16)) } };
        case "aws:lambda/functionUrl:FunctionUrl":
            return { id: String(inputs.functionName), state: { ...base, functionUrl: `https://mock${createHash("sha256").update(name).digest("hex").slice(0, 24)}.lambda-url.${region}.on.aws/` } };
        case "pulumi-nodejs:dynamic/opsgenie:Team":
            return { id: `team-${name}`, state: { ...base, __provider: undefined } };
        case "pulumi-nodejs:dynamic/opsgenie:ApiIntegration":
            return { id: `integration-${name}`, state: { ...base, __provider: undefined, apiKey: `mock-integration-key-${name}` } };
        case "pulumi-nodejs:dynamic/jsm:ApiIntegration":
            // JSM returns a key for API-based integrations only; a Webhook only sends.
            return { id: `jsm-integration-${name}`, state: { ...base, __provider: undefined, apiKey: inputs.type === "Webhook" ? undefined : `mock-jsm-integration-key-${name}` } };
        case "pulumi-nodejs:dynamic/jsm:IntegrationAction":
            return { id: `jsm-action-${name}`, state: { ...base, __provider: undefined } };
        default:
            return { id, state: { ...base, arn: arnOf(type.split(":")[0] === "aws" ? type.split(":")[1].split("/")[0] : "mock", name) } };
    }
}

/**
 * The engine's side of a program run: records registrations and answers calls. One instance per
 * evaluation; `install()` makes it the active engine.
 */
export class RecordingEngine implements pulumi.runtime.Mocks {
    readonly registrations: Registration[] = [];
    readonly calls: { token: string; inputs: Record<string, unknown> }[] = [];
    private readonly region: string;
    private privateRouteTables = 0;

    constructor(options: MockEngineOptions = {}) {
        this.region = options.region ?? "ap-northeast-1";
        // Each evaluation numbers its VPN tunnels from 0: the same stack gets the same addresses
        // whatever ran before it in the process (plan --diff compares a child's plan with an in-process one).
        vpnCounter = 0;
    }

    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        if (args.type === "awsx:ec2:Vpc") this.privateRouteTables = Number(args.inputs.numberOfAvailabilityZones ?? 3);
        return computedState(args.type, args.name, args.inputs, this.region);
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        this.calls.push({ token: args.token, inputs: args.inputs });
        switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: MOCK_ACCOUNT_ID, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/ci`, userId: "AIDAMOCK", id: MOCK_ACCOUNT_ID };
            case "aws:index/getRegion:getRegion":
                return { region: this.region, name: this.region, id: this.region, endpoint: `ec2.${this.region}.amazonaws.com`, description: this.region };
            case "aws:ec2/getAmi:getAmi": {
                const pattern = String((args.inputs.filters as { name: string; values: string[] }[] | undefined)?.find((f) => f.name === "name")?.values[0] ?? "");
                const architecture = pattern.endsWith("arm64") ? "arm64" : "x86_64";
                return { id: `ami-al2023-${architecture}`, architecture, name: pattern.replace("*", ".20261101.0") };
            }
            case "aws:ec2transitgateway/getTransitGateway:getTransitGateway":
                // A transit gateway created with AWS's defaults; its ASN differs from the VPN gateway's
                // (64512) so a test can tell which one a router peers with.
                return {
                    id: String(args.inputs.id),
                    amazonSideAsn: MOCK_TRANSIT_GATEWAY_ASN,
                    arn: `arn:aws:ec2:${this.region}:${MOCK_ACCOUNT_ID}:transit-gateway/${args.inputs.id}`,
                    associationDefaultRouteTableId: "tgw-rtb-0default000000001",
                    propagationDefaultRouteTableId: "tgw-rtb-0default000000001",
                    defaultRouteTableAssociation: "enable",
                    defaultRouteTablePropagation: "enable",
                    vpnEcmpSupport: "enable",
                    dnsSupport: "enable",
                };
            case "aws:ec2/getRouteTables:getRouteTables":
                return { id: "rtb-lookup", ids: Array.from({ length: this.privateRouteTables }, (_, i) => `rtb-private-${i + 1}`) };
            default:
                throw new Error(`Mock not implemented: ${args.token} (add it to tools/offline/mock-engine.ts)`);
        }
    }

    /** Makes this the active engine and starts recording parents and raw inputs. */
    async install(project: string, stack: string, preview = false): Promise<void> {
        await pulumi.runtime.setMocks(this, project, stack, preview);
        // Mocks see neither the parent nor which inputs were secret; the monitor's request has both.
        const monitor = pulumi.runtime.getMonitor() as unknown as {
            registerResource(req: RegisterRequest, cb: (err: unknown, res?: RegisterResponse) => void): Promise<void>;
        };
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req, cb) =>
            register(req, (err, res) => {
                if (!err && res) {
                    const inputs = decodeWireValue(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
                    delete inputs.__provider;
                    this.registrations.push({
                        type: req.getType(),
                        name: req.getName(),
                        urn: res.getUrn(),
                        id: res.getId(),
                        parent: req.getParent() || undefined,
                        custom: req.getCustom(),
                        inputs,
                        state: decodeWireValue(res.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
                        dependencies: req.getDependenciesList(),
                        propertyDependencies: propertyDependenciesOf(req),
                    });
                }
                cb(err, res);
            });
    }

    /** All registrations of a type. */
    ofType(type: string): Registration[] {
        return this.registrations.filter((r) => r.type === type);
    }

    /** The one registration with this type and name; throws with what exists if absent. */
    get(type: string, name: string): Registration {
        const found = this.registrations.find((r) => r.type === type && r.name === name);
        if (!found) {
            const names = this.ofType(type).map((r) => r.name);
            throw new Error(`no ${type} named "${name}" was registered; registered: ${names.join(", ") || "none"}`);
        }
        return found;
    }

    /** Registrations whose parent is the given one. */
    childrenOf(parent: Registration): Registration[] {
        return this.registrations.filter((r) => r.parent === parent.urn);
    }
}

interface Struct {
    toJavaScript(): Record<string, unknown>;
}
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): Struct | undefined;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void };
}

function propertyDependenciesOf(req: RegisterRequest): Record<string, string[]> {
    const result: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((value, key) => (result[key] = value.getUrnsList()));
    return result;
}
interface RegisterResponse {
    getUrn(): string;
    getId(): string;
    getObject(): Struct | undefined;
}

/**
 * Waits until every registration and call the program started has reached the engine.
 * `waitForRPCs` is what `pulumi` itself awaits before a program exits; it is exported by the SDK's
 * runtime but left out of its typings, hence the cast.
 */
export async function waitForRegistrations(): Promise<void> {
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}
