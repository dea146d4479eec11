import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFunction } from "../../../components/shared/function-code";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import type { TowerConfig } from "../../../functions/shared/tower-config";
import { startDynalite, type LocalDynamo } from "../../../tools/local/dynamo";
import { startTowerEmulator, type TowerEmulator } from "../../../tools/local/patlite-emulator";
import { closedPort } from "../closed-port";
import { invokeBundle, localAwsEnv } from "../lambda-runtime";
import { parseEmfLine } from "../../harness/emf";
import { scheduledEvent } from "./probe-peers";

/**
 * The schedule's event through the bundle the infrastructure ships, in a fresh Node process with
 * its default dependencies: the real Powertools Metrics writes the metric as EMF on stdout (what
 * CloudWatch Logs extracts in Lambda), the real Powertools Logger writes the per-tower lines.
 */

const TABLE = "alertline-dev-state";
let workDir: string;
let dynamo: LocalDynamo;
let tower: TowerEmulator;

beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "tower-dispatch-probe-"));
    writeFileSync(join(workDir, "index.js"), bundleFunction("tower-dispatch"));
    dynamo = await startDynalite();
    await dynamo.createTable(TABLE);
    tower = await startTowerEmulator({ protocol: "la6", name: "tokyo-ops" });
    const base = { site: "tokyo", host: "127.0.0.1", signals: DEFAULT_SEVERITY_SIGNALS, relay: { kind: "vpn" }, allowedSenders: [] } as const;
    const towers: TowerConfig[] = [
        { ...base, name: "tokyo-ops", port: tower.port, protocol: "la6" },
        { ...base, name: "osaka-desk", port: await closedPort(), protocol: "phn" },
    ];
    writeFileSync(join(workDir, "towers.json"), JSON.stringify(towers));
}, 30_000);
afterAll(async () => {
    await Promise.all([dynamo?.close(), tower?.close()]);
    rmSync(workDir, { recursive: true, force: true });
});

describe("the bundled tower-dispatch on its schedule", () => {
    it("probes towers.json, writes the metric as EMF and logs one JSON line per tower", async () => {
        const { stdout, stderr } = await invokeBundle({
            bundlePath: join(workDir, "index.js"),
            functionName: "alertline-dev-mail-dispatch",
            events: [scheduledEvent()],
            env: {
                ...localAwsEnv(workDir, { DYNAMODB: dynamo.endpoint, SSM: "http://127.0.0.1:9" }),
                STATE_TABLE: TABLE,
                ALERT_TOPIC_ARN: "arn:aws:sns:ap-northeast-1:123456789012:alertline-dev-alerts",
                SSM_RELAY_DOCUMENT: "alertline-dev-patlite-relay",
                ALERTLINE_ENVIRONMENT: "dev",
            },
        });
        expect(stdout).toContain('RESULT {"probed":2,"reachable":1,"unreachable":["osaka-desk"],"resent":[]}');
        const emf = stdout.split("\n").flatMap((line) => parseEmfLine(line));
        expect(emf.map((d) => [d.namespace, d.metric, d.values, d.value])).toEqual([
            ["alertline/Towers", "TowerReachable", { Environment: "dev", Tower: "tokyo-ops" }, 1],
            ["alertline/Towers", "TowerReachable", { Environment: "dev", Tower: "osaka-desk" }, 0],
        ]);
        expect(emf.every((d) => d.dimensions.join() === "Environment,Tower")).toBe(true);
        const logs = `${stdout}\n${stderr}`
            .split("\n")
            .filter((line) => line.startsWith("{"))
            .map((line) => JSON.parse(line));
        const perTower = logs.filter((l) => typeof l.tower === "string");
        expect(perTower.map((l) => [l.tower, l.level, l.reachable])).toEqual(
            expect.arrayContaining([
                ["tokyo-ops", "INFO", true],
                ["osaka-desk", "WARN", false],
            ]),
        );
        expect(perTower).toHaveLength(2);
        expect(perTower.every((l) => typeof l.latencyMs === "number" && l.service === "tower-dispatch")).toBe(true);
        // The LA6 emulator got its status request, G under product AB.
        expect(tower.commands.map((c) => c.toString("hex"))).toEqual(["414247000000"]);
    }, 20_000);
});
