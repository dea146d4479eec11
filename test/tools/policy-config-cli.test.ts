import { describe, expect, it } from "vitest";
import { policyPackConfig } from "../../tools/policy-config-cli";
import { policyNames } from "../../tools/offline/policy-runner";

describe("policyPackConfig", () => {
    it("writes CrossGuard's per-policy enforcement levels from alertline:policyLevels", () => {
        const [first, second] = policyNames();
        expect(policyPackConfig(JSON.stringify({ [first]: "advisory", [second]: "disabled" }))).toEqual({
            [first]: { enforcementLevel: "advisory" },
            [second]: { enforcementLevel: "disabled" },
        });
    });

    it("writes nothing when the stack lowers no policy", () => {
        expect(policyPackConfig(undefined)).toBeUndefined();
        expect(policyPackConfig("{}")).toBeUndefined();
    });

    it("refuses a policy the pack does not have, since Pulumi would ignore it silently", () => {
        expect(() => policyPackConfig(JSON.stringify({ "sns-topic-encryptd": "advisory" }))).toThrow(/unknown policy "sns-topic-encryptd"; the policies of alertline-guardrails are: /);
    });

    it("refuses a level that is not one", () => {
        expect(() => policyPackConfig(JSON.stringify({ [policyNames()[0]]: "off" }))).toThrow(/use one of advisory, mandatory, disabled/);
    });
});
