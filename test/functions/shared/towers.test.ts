import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";
import { loadTowers, parseTowers } from "../../../functions/shared/towers";

const good = {
    name: "tokyo-ops",
    site: "tokyo",
    host: "10.30.1.20",
    port: 10000,
    protocol: "pns",
    signals: DEFAULT_SEVERITY_SIGNALS,
    relay: { kind: "vpn" },
    allowedSenders: [],
};

describe("towers.json", () => {
    it("accepts what the infrastructure writes", () => {
        const towers = [good, { ...good, name: "sapporo-desk", protocol: "phn", relay: { kind: "ssm", instanceId: "i-0123456789abcdef0" } }];
        expect(parseTowers(JSON.parse(JSON.stringify(towers)))).toEqual(towers);
    });

    it("lists every problem with the entry, the field and the fix", () => {
        const bad = [
            good,
            { ...good, port: "10000", protocol: "modbus" },
            { ...good, name: "tokyo-ops", relay: { kind: "ssm" } },
            { ...good, name: "x", signals: { ...DEFAULT_SEVERITY_SIGNALS, critical: { red: "blink" }, quiet: undefined } },
        ];
        let message = "";
        try {
            parseTowers(bad);
        } catch (error) {
            message = (error as Error).message;
        }
        expect(message).toMatch(/towers\.json\[1\]\.port must be a TCP port/);
        expect(message).toMatch(/towers\.json\[1\]\.protocol must be one of phn, pns, la6/);
        expect(message).toMatch(/towers\.json\[1\]\.name "tokyo-ops" is used twice \(also \[0\]\)/);
        expect(message).toMatch(/towers\.json\[2\]\.relay\.instanceId must name the relay host/);
        expect(message).toMatch(/towers\.json\[3\]\.signals\.critical\.red must be one of off, on, flash1, flash2/);
        expect(message).toMatch(/towers\.json\[3\]\.signals\.quiet is missing/);
    });

    it("says how to get a missing or broken file back", () => {
        const dir = mkdtempSync(join(tmpdir(), "towers-"));
        try {
            expect(() => loadTowers(join(dir, "towers.json"))).toThrow(/Cannot read .*towers\.json.*redeploy with `pulumi up`/);
            writeFileSync(join(dir, "towers.json"), "[{");
            expect(() => loadTowers(join(dir, "towers.json"))).toThrow(/not valid JSON/);
            writeFileSync(join(dir, "towers.json"), "{}");
            expect(() => loadTowers(join(dir, "towers.json"))).toThrow(/must be a JSON array/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
