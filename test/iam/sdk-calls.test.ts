import { describe, expect, it } from "vitest";
import { IAM_ACTIONS_OF_COMMAND } from "./calls";
import { functionFolders, sdkCommandsOf } from "./sdk-calls";

describe("the SDK calls read from the functions' code", () => {
    it("finds every deployed function folder", () => {
        expect(functionFolders().sort()).toEqual(["ack-webhook", "mail-canary", "mail-ingest", "slack-notifier", "tower-dispatch"]);
    });

    it("follows imports into functions/shared and finds calls made there and in helper modules", () => {
        const found = (folder: string) => new Set(sdkCommandsOf(folder).map((u) => `${u.command} ${u.file}`));
        expect(found("tower-dispatch")).toContain("CancelCommandCommand functions/tower-dispatch/relay.ts");
        // Metrics go out as EMF on stdout (functions/shared/path-metrics.ts): no CloudWatch call, no grant.
        expect([...found("tower-dispatch")].filter((call) => call.startsWith("PutMetricData"))).toEqual([]);
        expect(found("ack-webhook")).toContain("SendMessageBatchCommand functions/shared/intent-queue.ts");
        expect(found("ack-webhook")).toContain("DecryptCommand functions/shared/kms-env-secret.ts");
        expect([...found("mail-canary")]).toEqual(["SendEmailCommand functions/mail-canary/handler.ts"]);
    });

    it("knows the IAM actions of every command the code makes (a new command fails here and in the stack simulation)", () => {
        const unknown = functionFolders().flatMap((folder) => sdkCommandsOf(folder).filter((u) => IAM_ACTIONS_OF_COMMAND[`${u.pkg}:${u.command}`] === undefined).map((u) => `${u.command} in ${u.file}`));
        expect(unknown).toEqual([]);
    });
});
