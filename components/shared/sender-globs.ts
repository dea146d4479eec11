import { z } from "zod";
import { MAX_SENDER_GLOB_CHARS, senderGlobProblem } from "../../functions/shared/sender-policy";

/** Most sender globs one list may hold; each is matched against every mail. */
export const MAX_SENDER_GLOBS = 100;

/**
 * A list of sender globs (`alertline:mail.allowedSenders`, `alertline:sites[i].allowedSenders`),
 * checked as mail-ingest will use them: picomatch compiles each at run time and throws for one it
 * refuses, which would fail every mail; here the plan stops instead, naming the key and the fix.
 */
export const senderGlobsSchema = z
    .array(
        z.unknown().superRefine((glob, ctx) => {
            const problem = senderGlobProblem(glob);
            if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
        }),
        { message: 'must be a list of sender globs, e.g. ["*@zabbix.example.jp", "alert@dtdg.co"]' },
    )
    .max(MAX_SENDER_GLOBS, `must list at most ${MAX_SENDER_GLOBS} sender globs (each is at most ${MAX_SENDER_GLOB_CHARS} characters); use a wildcard such as "*@zabbix.example.jp" for a whole domain`)
    .transform((globs) => globs.map((g) => (g as string).trim()))
    .default([]);
