import { createHash } from "node:crypto";

/**
 * Version number for a write-only argument (`valueWo`, `plaintextWo`). The provider re-sends a
 * write-only value only when its version changes, so deriving the version from the value makes a
 * rotated secret reach AWS on the next `pulumi up` without a manual bump. Callers keep the result
 * a Pulumi secret: a fingerprint of a secret is not something to show in a diff.
 */
export function writeOnlyVersion(secret: string): number {
    return parseInt(createHash("sha256").update(secret).digest("hex").slice(0, 8), 16);
}
