import { createHash } from "node:crypto";

/**
 * How an alert's correlation key is stored wherever a length limit applies: tower-dispatch's state
 * item and the on-call alert's alias. Both must agree, so an acknowledgement that comes back with
 * the alias clears the very alert the tower shows.
 */

/** Longest stored key by default; well under Opsgenie's 512-character alias. */
export const DEFAULT_MAX_KEY_LENGTH = 200;

/** "…#" and 32 hex digits of SHA-256: what a shortened key ends with. */
const HASH_SUFFIX_LENGTH = 34;

/**
 * The key under which an alert is stored: the alertKey itself, or for a very long one a prefix and a
 * SHA-256 of the whole key. Problem and recovery map to the same stored key, so correlation holds.
 * A shortened key is at most `maxLength` long, so storing a stored key again changes nothing
 * (`storedKey(storedKey(k)) === storedKey(k)`): an alias sent back as an alertKey finds its alert.
 */
export function storedKey(alertKey: string, maxLength: number = DEFAULT_MAX_KEY_LENGTH): string {
    if (!Number.isInteger(maxLength) || maxLength < HASH_SUFFIX_LENGTH) {
        // A shorter limit could not hold the hash, and the result would no longer be stable when stored again.
        throw new RangeError(`storedKey's maxLength must be a whole number of at least ${HASH_SUFFIX_LENGTH} (prefix, "…#" and a 32-digit hash), got ${maxLength}`);
    }
    if (alertKey.length <= maxLength) return alertKey;
    const hash = createHash("sha256").update(alertKey, "utf8").digest("hex").slice(0, 32);
    let prefixEnd = maxLength - HASH_SUFFIX_LENGTH;
    // Never end the prefix on half a surrogate pair: a lone surrogate cannot be URL-encoded (an alias
    // goes into Opsgenie's close path) and would not survive the round trip through on-call.
    if (prefixEnd > 0 && /[\uD800-\uDBFF]/.test(alertKey[prefixEnd - 1])) prefixEnd -= 1;
    return `${alertKey.slice(0, prefixEnd)}…#${hash}`;
}
