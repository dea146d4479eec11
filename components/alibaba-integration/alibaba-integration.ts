import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";

/**
 * Read-only system policies Datadog's Alibaba Cloud integration asks for (its integration tile
 * lists them); CloudMonitor is what the metrics come from, the others let Datadog name resources.
 */
export const DATADOG_ALIBABA_POLICIES = [
    "AliyunCloudMonitorReadOnlyAccess",
    "AliyunECSReadOnlyAccess",
    "AliyunVPCReadOnlyAccess",
    "AliyunRDSReadOnlyAccess",
    "AliyunSLBReadOnlyAccess",
    "AliyunKvstoreReadOnlyAccess",
    "AliyunExpressConnectReadOnlyAccess",
] as const;

/** Arguments for {@link AlibabaDatadogIntegration}. */
export interface AlibabaDatadogIntegrationArgs {
    /** Environment name, used in the RAM user's name. */
    readonly environment: string;
    /** Alibaba Cloud account ID, entered in Datadog's tile beside the key. */
    readonly accountId: string;
}

/**
 * The Alibaba Cloud side of Datadog's Alibaba Cloud integration: a RAM user with read-only
 * policies and its access key. The integration itself has no API (facts.md), so the stack outputs,
 * as a secret, exactly what to type into Datadog's integration tile.
 */
export class AlibabaDatadogIntegration extends pulumi.ComponentResource {
    /** Account ID, access key ID and secret for Datadog's Alibaba Cloud tile (secret). */
    declare readonly datadogTile: pulumi.Output<{ accountId: string; accessKeyId: string; accessKeySecret: string }>;

    constructor(name: string, args: AlibabaDatadogIntegrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("alertline:index:AlibabaDatadogIntegration", name, {}, opts);
        const user = new alicloud.ram.User(
            `${name}-user`,
            { name: `datadog-integration-${args.environment}`, displayName: "Datadog integration (alertline)", comments: "Read-only access for Datadog; managed by alertline" },
            { parent: this },
        );
        for (const policyName of DATADOG_ALIBABA_POLICIES) {
            new alicloud.ram.UserPolicyAttachment(`${name}-${policyName}`, { userName: user.name, policyName, policyType: "System" }, { parent: this });
        }
        const key = new alicloud.ram.AccessKey(`${name}-key`, { userName: user.name }, { parent: this, additionalSecretOutputs: ["secret"] });
        this.datadogTile = pulumi.secret(pulumi.output({ accountId: args.accountId, accessKeyId: key.id, accessKeySecret: key.secret }));
        this.registerOutputs({ datadogTile: this.datadogTile });
    }
}
