/**
 * On-call actions that clear an alert from the towers: acknowledged or closed. ack-webhook acts on
 * these; the stack tells Opsgenie's outgoing Webhook integration to forward exactly these, so the
 * two lists cannot drift apart.
 */
export const CLEARING_ACTIONS = ["Acknowledge", "Close"] as const;
export type ClearingAction = (typeof CLEARING_ACTIONS)[number];

/** How a note says it: "acknowledged by …", "closed by …". */
export const CLEARED_WORDS: Readonly<Record<ClearingAction, string>> = { Acknowledge: "acknowledged", Close: "closed" };
