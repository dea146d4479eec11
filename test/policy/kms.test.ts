import { describe, expect, it } from "vitest";
import { channelKeyPolicy } from "../../components/alert-channel/alert-channel";
import { mailKeyPolicy } from "../../components/mail-ingest/mail-ingest-policies";
import { accountOnlyKeyPolicy } from "../../components/monitored-host/monitored-host";
import { wildcardGrants } from "../../policy/kms";
import { keys, resource, TAGS, unknown, verdicts, verdictsOf } from "./registrations";

const KEY = "aws:kms/key:Key";
const KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy";
const ACCOUNT = "123456789012";

const key = (name: string, extra: Record<string, unknown>) => resource(KEY, name, { enableKeyRotation: true, tags: TAGS, ...extra });
const everyone = { Sid: "Everyone", Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" };

describe("kms-key-rotation", () => {
    it("passes a rotating key and an asymmetric key, which cannot rotate", () => {
        expect(verdicts(key("rotating", {}), key("signing", { enableKeyRotation: false, keySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" }))).toEqual([]);
    });

    it("flags a symmetric key without rotation, whether unset or false", () => {
        const found = verdictsOf("kms-key-rotation", key("unset", { enableKeyRotation: undefined }), key("off", { enableKeyRotation: false, keySpec: "SYMMETRIC_DEFAULT" }));
        expect(keys(found)).toEqual([`kms-key-rotation ${KEY} off mandatory`, `kms-key-rotation ${KEY} unset mandatory`]);
        expect(found[0].message).toContain("set enableKeyRotation: true");
    });
});

describe("kms-key-policy-no-wildcard", () => {
    it("passes the key policies the components write", () => {
        const policies = [channelKeyPolicy(ACCOUNT, "ap-northeast-1", ["cloudwatch.amazonaws.com"]), mailKeyPolicy(ACCOUNT, "ap-northeast-1"), accountOnlyKeyPolicy(ACCOUNT)];
        expect(verdicts(...policies.map((p, i) => key(`component-${i}`, { policy: JSON.stringify(p) })))).toEqual([]);
        // they do grant kms:* — to the account root, which is not everyone
        expect(JSON.stringify(policies[2])).toContain('"Action":"kms:*"');
    });

    it('flags Principal "*" with Action "kms:*", naming the statement', () => {
        const policy = { Version: "2012-10-17", Statement: [accountOnlyKeyPolicy(ACCOUNT).Statement[0], everyone] };
        const found = verdictsOf("kms-key-policy-no-wildcard", key("open", { policy: JSON.stringify(policy) }));
        expect(keys(found)).toEqual([`kms-key-policy-no-wildcard ${KEY} open mandatory`]);
        expect(found[0].message).toContain('statement "Everyone"');
    });

    it('flags { AWS: "*" } with "*" or kms:* inside an action list, a lone statement object, and a separate KeyPolicy resource', () => {
        const awsStar = { Statement: [{ Effect: "Allow", Principal: { AWS: ["*"] }, Action: ["kms:Decrypt", "KMS:*"], Resource: "*" }] };
        const star = { Statement: { Effect: "Allow", Principal: { AWS: "*" }, Action: "*", Resource: "*" } };
        const found = verdictsOf(
            "kms-key-policy-no-wildcard",
            key("aws-star", { policy: JSON.stringify(awsStar) }),
            key("lone", { policy: JSON.stringify(star) }),
            resource(KEY_POLICY, "separate", { keyId: "k", policy: JSON.stringify({ Statement: [everyone] }) }),
        );
        expect(found.map((v) => v.name)).toEqual(["aws-star", "lone", "separate"]);
        expect(found[0].message).toContain("statement #1");
    });

    it("passes narrower grants to everyone, and denials", () => {
        const narrow = { Statement: [{ Effect: "Allow", Principal: "*", Action: ["kms:Decrypt"], Resource: "*", Condition: { StringEquals: { "kms:CallerAccount": ACCOUNT } } }] };
        const deny = { Statement: [{ ...everyone, Effect: "Deny" }] };
        expect(verdicts(key("narrow", { policy: JSON.stringify(narrow) }), key("deny", { policy: JSON.stringify(deny) }), key("default", {}))).toEqual([]);
    });

    it("flags a policy that is not JSON, and cannot decide one not known until the update", () => {
        expect(wildcardGrants("{not json")).toEqual(["the policy is not valid JSON"]);
        const found = verdictsOf("kms-key-policy-no-wildcard", key("preview", { policy: unknown() }));
        expect(found.map((v) => v.level)).toEqual(["advisory"]);
        expect(found[0].message).toMatch(/^can't run policy 'kms-key-policy-no-wildcard' from policy pack '.+' during preview: .*\.policy/);
    });
});
