import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resourcePolicies, stackPolicies } from "../../policy/policies";
import { formatViolations, mandatory, policyNames, runPolicies, validatePolicyLevels } from "../../tools/offline/policy-runner";
import { KEY_ARN, resource, secret, stackResource, STACK_URN, TAGS, unknown, urnOf } from "./registrations";

const TOPIC = "aws:sns/topic:Topic";
const { name: packName, version: packVersion } = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "policy", "package.json"), "utf8")) as { name: string; version: string };
/** How the engine names the pack in its messages. */
const PACK = `${packName}@v${packVersion}`;
const bareTopic = () => resource(TOPIC, "bare", { tags: TAGS });

describe("the pack", () => {
    it("is mandatory throughout, every policy named once with a description", () => {
        const all = [...resourcePolicies, ...stackPolicies];
        expect(new Set(all.map((p) => p.name)).size).toBe(all.length);
        expect(policyNames()).toEqual(all.map((p) => p.name));
        for (const p of all) {
            expect(p.enforcementLevel).toBe("mandatory");
            expect(p.description.length).toBeGreaterThan(20);
        }
        expect(stackPolicies.map((p) => p.name)).toEqual([
            "s3-bucket-encrypted-and-private",
            "s3-bucket-logging-enabled",
            "alert-topics-customer-managed-key",
            "security-group-no-rule-management-conflicts",
            "iam-role-no-policy-management-conflicts",
        ]);
    });
});

describe("validatePolicyLevels", () => {
    it("accepts levels for the pack's policies", () => {
        const levels = { "required-tags": "advisory", "ec2-no-public-ip": "disabled", "sns-topic-encrypted": "mandatory" };
        expect(validatePolicyLevels(levels)).toEqual(levels);
    });

    it("names an unknown policy and lists the real ones", () => {
        expect(() => validatePolicyLevels({ "required-tag": "advisory" })).toThrow(/unknown policy "required-tag".*required-tags/);
    });

    it("names a policy given a level that does not exist, and rejects what is not a map", () => {
        expect(() => validatePolicyLevels({ "required-tags": "warn" })).toThrow('policy "required-tags" has level "warn"; use one of advisory, mandatory, disabled');
        expect(() => validatePolicyLevels(["required-tags"])).toThrow(/must be a map/);
    });
});

describe("runPolicies", () => {
    it("reports a violation with the policy, the resource and the policy's level", () => {
        const [violation] = runPolicies([stackResource(), bareTopic()]);
        expect(violation).toMatchObject({ policy: "sns-topic-encrypted", type: TOPIC, name: "bare", urn: urnOf(TOPIC, "bare"), level: "mandatory" });
    });

    it("lowers a policy to advisory or disables it as levels say, and leaves the others", () => {
        const registrations = [stackResource(), bareTopic(), resource("aws:sqs/queue:Queue", "bare-queue", {})];
        const lowered = runPolicies(registrations, { levels: { "sns-topic-encrypted": "advisory", "sqs-queue-encrypted": "disabled" } });
        expect(lowered.map((v) => `${v.policy} ${v.name} ${v.level}`)).toEqual(["sns-topic-encrypted bare advisory", "required-tags bare-queue mandatory"]);
        expect(mandatory(lowered).map((v) => v.policy)).toEqual(["required-tags"]);
        expect(formatViolations(lowered)).toContain('[advisory] sns-topic-encrypted — aws:sns/topic:Topic "bare"');
    });

    it("hands policies secrets as plain values and unknowns behind the engine's proxy, and skips components", () => {
        const seen: unknown[] = [];
        const probe: ResourceValidationPolicy = {
            name: "probe",
            description: "records what it sees",
            enforcementLevel: "mandatory",
            validateResource: (args) => {
                seen.push(args.props.key);
                seen.push(args.props.nested.value);
            },
        };
        const registrations = [
            stackResource(),
            resource(TOPIC, "secret", { key: secret(KEY_ARN), nested: { value: secret(["a"]) } }),
            resource("alertline:index:Thing", "component", { key: "x", nested: { value: 1 } }, { custom: false }),
            resource(TOPIC, "preview", { key: "known", nested: { value: unknown() } }),
        ];
        const verdicts = runPolicies(registrations, { policies: { resource: [probe], stack: [] } });
        expect(seen).toEqual([KEY_ARN, ["a"], "known"]);
        expect(verdicts).toEqual([
            { policy: "probe", type: TOPIC, name: "preview", urn: urnOf(TOPIC, "preview"), level: "advisory", message: `can't run policy 'probe' from policy pack '${PACK}' during preview: string value at .nested.value can't be known during preview` },
        ]);
    });

    it("builds the validation arguments as the engine does: isType/asType by __pulumiType, opts with the parent, notApplicable", () => {
        class Topic {
            static __pulumiType = TOPIC;
        }
        class Queue {
            static __pulumiType = "aws:sqs/queue:Queue";
        }
        let captured: ResourceValidationArgs | undefined;
        const probe: ResourceValidationPolicy = {
            name: "probe",
            description: "captures its arguments",
            enforcementLevel: "mandatory",
            validateResource: (args, report) => {
                captured = args;
                if (args.isType(Queue as never)) report("never");
                args.notApplicable("not for topics");
            },
        };
        expect(runPolicies([stackResource(), bareTopic()], { policies: { resource: [probe], stack: [] } })).toEqual([]);
        expect(captured!.isType(Topic as never)).toBe(true);
        expect(captured!.asType(Topic as never)).toBe(captured!.props);
        expect(captured!.asType(Queue as never)).toBeUndefined();
        expect(captured!.opts).toMatchObject({ parent: STACK_URN, protect: false, ignoreChanges: [] });
    });

    it("takes the engine's fast path for a validation tagged with another type", () => {
        let calls = 0;
        const validation = Object.assign(() => void calls++, { __pulumiType: "aws:sqs/queue:Queue" });
        runPolicies([stackResource(), bareTopic()], { policies: { resource: [{ name: "queues", description: "d", validateResource: validation }], stack: [] } });
        expect(calls).toBe(0);
    });

    it("fails the run, naming the policy and resource, when a policy throws", () => {
        const broken: ResourceValidationPolicy = {
            name: "broken",
            description: "throws",
            validateResource: () => {
                throw new TypeError("boom");
            },
        };
        expect(() => runPolicies([stackResource(), bareTopic()], { policies: { resource: [broken], stack: [] } })).toThrow('policy "broken" failed on aws:sns/topic:Topic "bare": boom');
    });

    it("gives stack policies every resource with outputs as props and parent, dependencies and property dependencies as objects", () => {
        let resources: PolicyResource[] = [];
        const probe: StackValidationPolicy = { name: "probe", description: "captures", enforcementLevel: "advisory", validateStack: (args, report) => void ((resources = args.resources), report("about the key", urnOf("aws:kms/key:Key", "key"))) };
        const component = resource("alertline:index:Channel", "channel", {}, { custom: false });
        const key = resource("aws:kms/key:Key", "key", { enableKeyRotation: true }, { state: { enableKeyRotation: true, arn: "arn:key" }, parent: component.urn });
        const topic = resource(TOPIC, "topic", { kmsMasterKeyId: "arn:key" }, { parent: component.urn, propertyDependencies: { kmsMasterKeyId: [key.urn], tags: [] } });
        const verdicts = runPolicies([stackResource(), component, key, topic], { policies: { resource: [], stack: [probe] } });
        expect(verdicts).toEqual([{ policy: "probe", type: "aws:kms/key:Key", name: "key", urn: key.urn, level: "advisory", message: "about the key" }]);
        expect(resources.map((r) => r.name)).toEqual(["alertline-test", "channel", "key", "topic"]);
        const [, channel, keyResource, topicResource] = resources;
        expect(keyResource.props.arn).toBe("arn:key");
        expect(topicResource.parent).toBe(channel);
        expect(topicResource.dependencies).toEqual([keyResource]);
        expect(topicResource.propertyDependencies).toEqual({ kmsMasterKeyId: [keyResource], tags: [] });
    });
});
