/**
 * How slack-notifier reaches Slack, set by the AlertChannel component from `alertline:slack.mode`:
 * `webhook` (the default) posts every alert as a new message through the incoming webhook; `app`
 * posts one message per alert identity with a bot token (`chat.postMessage`), updates it in place
 * (`chat.update`) and replies in its thread. These names are the contract between the component,
 * which sets them, and the function, which reads them.
 */

export const SLACK_MODES = ["webhook", "app"] as const;
export type SlackMode = (typeof SLACK_MODES)[number];

/** `webhook` or `app`; unset means `webhook`. */
export const SLACK_MODE_ENV = "SLACK_MODE";
/** App mode: base64 KMS ciphertext of the bot token (xoxb-…), encrypted like the webhook URL (encryption context {LambdaFunctionName}). */
export const SLACK_BOT_TOKEN_CIPHERTEXT_ENV = "SLACK_BOT_TOKEN_CIPHERTEXT";
/** App mode: the channel ID (C…/G…) the bot posts to; the bot must be a member. */
export const SLACK_CHANNEL_ID_ENV = "SLACK_CHANNEL_ID";
/** App mode: an alert whose message is older than this many seconds starts a new message. */
export const SLACK_THREAD_MAX_AGE_ENV = "SLACK_THREAD_MAX_AGE_SECONDS";
/** App mode, tests and `npm start` only: the Web API base URL (default https://slack.com/api/). */
export const SLACK_API_URL_ENV = "SLACK_API_URL";
/** App mode: the DynamoDB table that keeps each alert's message `ts` (the flood-control table). */
export const SLACK_THREAD_TABLE_ENV = "FLOOD_TABLE";

/** Default age after which an alert's next event starts a new message (`alertline:slack.threadMaxAgeHours`): one day. */
export const DEFAULT_THREAD_MAX_AGE_HOURS = 24;
/** Longest age `alertline:slack.threadMaxAgeHours` accepts: one week. */
export const MAX_THREAD_MAX_AGE_HOURS = 168;
/** Default for SLACK_THREAD_MAX_AGE_SECONDS. */
export const DEFAULT_THREAD_MAX_AGE_SECONDS = DEFAULT_THREAD_MAX_AGE_HOURS * 3600;
