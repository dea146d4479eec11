import { describe, expect, it } from "vitest";
import { keys, resource, TAGS, unknown, verdictsOf } from "./registrations";

const INSTANCE = "aws:ec2/instance:Instance";
const POLICY = "ec2-instance-detailed-monitoring-enabled";
const instance = (name: string, monitoring: unknown) => resource(INSTANCE, name, { ...(monitoring === undefined ? {} : { monitoring }), tags: TAGS });

describe("ec2-instance-detailed-monitoring-enabled", () => {
    it("passes an instance with monitoring: true", () => {
        expect(verdictsOf(POLICY, instance("host", true))).toEqual([]);
    });

    it("flags an instance with monitoring off or unset, naming the setting", () => {
        const found = verdictsOf(POLICY, instance("off", false), instance("unset", undefined));
        expect(keys(found)).toEqual([`${POLICY} ${INSTANCE} off mandatory`, `${POLICY} ${INSTANCE} unset mandatory`]);
        expect(found[0].message).toContain("monitoring is false");
        expect(found[1].message).toContain("unset (off)");
        expect(found[0].message).toContain("set monitoring: true");
    });

    it("leaves a value not known at preview to the update: not run, not a violation", () => {
        const found = verdictsOf(POLICY, instance("later", unknown()));
        expect(found.map((v) => v.level)).toEqual(["advisory"]);
        expect(found[0].message).toContain(`can't run policy '${POLICY}'`);
    });
});
