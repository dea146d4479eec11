import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isUnknown, resourcePolicy, show } from "./props";

/** What keeps running things observable. */

/**
 * AWSGuard's `ec2-instance-detailed-monitoring-enabled`: CloudWatch metrics every minute instead of
 * every five, so the hosts' CPU and status alarms see a problem within minutes, not a quarter hour.
 */
export const ec2InstanceDetailedMonitoringEnabled = resourcePolicy({
    name: "ec2-instance-detailed-monitoring-enabled",
    description: "EC2 instances have CloudWatch detailed (one-minute) monitoring on (monitoring: true).",
    types: ["aws:ec2/instance:Instance"],
    check: (props, reader, { name }) => {
        const monitoring = reader.need(props, "monitoring");
        if (monitoring === true || isUnknown(monitoring)) return [];
        return [`EC2 instance "${name}" has only basic five-minute monitoring (monitoring is ${show(monitoring, "off")}): set monitoring: true.`];
    },
});

export const monitoringPolicies: ResourceValidationPolicy[] = [ec2InstanceDetailedMonitoringEnabled];
