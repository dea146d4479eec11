import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isUnknown, Reader, resourcePolicy, show } from "./props";

/** KMS keys themselves: they rotate, and their policies never hand the whole key to everyone. */

export const kmsKeyRotation = resourcePolicy({
    name: "kms-key-rotation",
    description: "Symmetric KMS keys rotate their key material automatically (enableKeyRotation).",
    types: ["aws:kms/key:Key"],
    check: (props, reader, { name }) => {
        // Only symmetric encryption keys can rotate automatically; asymmetric and HMAC keys cannot.
        for (const specKey of ["keySpec", "customerMasterKeySpec"]) {
            const spec = reader.need(props, specKey);
            if (isUnknown(spec)) return [];
            if (typeof spec === "string" && spec !== "SYMMETRIC_DEFAULT") return [];
        }
        const rotation = reader.need(props, "enableKeyRotation");
        if (rotation === true || isUnknown(rotation)) return [];
        return [`KMS key "${name}" does not rotate (enableKeyRotation is ${show(rotation, "no rotation")}): set enableKeyRotation: true.`];
    },
});

/** A string or a list of strings from a policy document, as a list. */
function strings(value: unknown): string[] {
    if (typeof value === "string") return [value];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** True when a statement's Principal includes everyone: `"*"` or `{ AWS: "*" }` (alone or in a list). */
function principalIsEveryone(principal: unknown): boolean {
    if (principal === "*") return true;
    if (principal === null || typeof principal !== "object" || Array.isArray(principal)) return false;
    return strings((principal as Record<string, unknown>).AWS).includes("*");
}

/** True when a statement's Action grants every KMS action: `kms:*` or `*` (any case, alone or in a list). */
function actionIsEverything(action: unknown): boolean {
    return strings(action).some((a) => a === "*" || a.toLowerCase() === "kms:*");
}

/**
 * Statements of a key policy that allow every KMS action to every principal, as short descriptions;
 * a policy that is not a JSON policy document comes back as one problem. Pure: tests call it directly.
 */
export function wildcardGrants(policyText: string): string[] {
    let document: unknown;
    try {
        document = JSON.parse(policyText);
    } catch {
        return ["the policy is not valid JSON"];
    }
    const statements = (document as { Statement?: unknown } | null)?.Statement;
    const list = Array.isArray(statements) ? statements : statements === undefined ? [] : [statements];
    return list.flatMap((statement, i) => {
        const s = (statement ?? {}) as Record<string, unknown>;
        if (s.Effect !== "Allow" || !principalIsEveryone(s.Principal) || !actionIsEverything(s.Action)) return [];
        return [`statement ${typeof s.Sid === "string" && s.Sid !== "" ? `"${s.Sid}"` : `#${i + 1}`} allows ${JSON.stringify(s.Action)} to Principal ${JSON.stringify(s.Principal)}`];
    });
}

function keyPolicyViolations(reader: Reader, props: Record<string, unknown>, what: string): string[] {
    const policy = reader.need(props, "policy");
    // No policy: KMS applies its default policy, which gives the account (not everyone) the key.
    if (policy === undefined || isUnknown(policy) || typeof policy !== "string" || policy.trim() === "") return [];
    const grants = wildcardGrants(policy);
    if (grants.length === 0) return [];
    return [
        `${what} grants every KMS action to everyone: ${grants.join("; ")}. Give kms:* only to the account root (Principal { AWS: "arn:aws:iam::<account>:root" }) and ` +
            "grant services and roles the few actions they use (e.g. kms:GenerateDataKey*, kms:Decrypt) with an aws:SourceAccount condition.",
    ];
}

export const kmsKeyPolicyNoWildcard = resourcePolicy({
    name: "kms-key-policy-no-wildcard",
    description: 'No KMS key policy allows "kms:*" to Principal "*".',
    types: ["aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy"],
    check: (props, reader, { type, name }) => keyPolicyViolations(reader, props, type === "aws:kms/key:Key" ? `KMS key "${name}"'s policy` : `KMS key policy "${name}"`),
});

export const kmsPolicies: ResourceValidationPolicy[] = [kmsKeyRotation, kmsKeyPolicyNoWildcard];
