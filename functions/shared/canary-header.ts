/**
 * The header that marks alertline's canary mail; its value is the canary's id. mail-canary writes
 * it, mail-ingest looks for it (together with the canary sender passing SES's checks: anyone can
 * write a header).
 */

/** The header as the canary mail carries it. */
export const CANARY_HEADER = "X-Alertline-Canary";

/** The same header as mailparser's header map (and mail-ingest's direct reader) keys it: lower case. */
export const CANARY_HEADER_KEY = CANARY_HEADER.toLowerCase();
