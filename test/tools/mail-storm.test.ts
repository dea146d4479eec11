import { describe, expect, it } from "vitest";
import { classify } from "../../functions/shared/mail-rules";
import { loadLocalStack } from "../../tools/local-pipeline";
import { parseMailArgs, STORM_DEFAULT_FROM, USAGE } from "../../tools/mail-cli";
import { stormFinalSeverity, stormHost, stormMails } from "../../tools/mail-storm";

/** `npm run mail -- storm` (tools/mail-storm.ts): what it sends and how its command line is read. */

describe("stormMails", () => {
    const mails = stormMails(500, 20);

    it("sends 25 mails per alert, each alert's last one at the end, recovered for even alerts", () => {
        expect(mails).toHaveLength(500);
        for (let alert = 0; alert < 20; alert++) expect(mails.filter((m) => m.alert === alert)).toHaveLength(25);
        const lasts = mails.slice(-20);
        expect(lasts.every((m) => m.last)).toBe(true);
        expect(mails.slice(0, -20).every((m) => !m.last && m.severity === "critical")).toBe(true);
        expect(lasts.map((m) => [m.alert, m.severity])).toEqual(Array.from({ length: 20 }, (_, i) => [i, i % 2 === 0 ? "recovery" : "critical"]));
        expect(stormFinalSeverity(7)).toBe("critical");
        expect(new Set(mails.map((m) => m.host)).size).toBe(20);
        expect(stormHost(7, 20)).toBe("storm-host-07");
    });

    it("writes mails the dev rules classify as one alert per host, critical or recovery, from a trusted sender", () => {
        const stack = loadLocalStack("dev");
        const keys = new Map<number, Set<string>>();
        for (const mail of mails) {
            const result = classify({ from: STORM_DEFAULT_FROM, subject: mail.subject, text: mail.text }, stack.rules);
            expect(result.severity, mail.subject).toBe(mail.severity);
            keys.set(mail.alert, (keys.get(mail.alert) ?? new Set()).add(result.alertKey));
        }
        expect([...keys.values()].map((k) => k.size)).toEqual(Array(20).fill(1));
        expect(new Set([...keys.values()].map((k) => [...k][0])).size).toBe(20);
        expect(stack.settings.mail?.allowedSenders).toContain("*@zabbix.example.jp");
        expect(STORM_DEFAULT_FROM).toMatch(/@zabbix\.example\.jp$/);
    });

    it("refuses fewer mails than alerts and out-of-range numbers", () => {
        expect(() => stormMails(10, 20)).toThrow(/mails must be a whole number from the number of alerts \(20/);
        expect(() => stormMails(10, 0)).toThrow(/alerts must be a whole number 1–1000/);
        expect(stormMails(3, 3).map((m) => m.last)).toEqual([true, true, true]);
    });
});

describe("parseMailArgs storm", () => {
    it("reads the storm's options with their defaults", () => {
        expect(parseMailArgs(["storm", "--smtp", "127.0.0.1:2525", "--to", "alerts@dev.example.com"])).toEqual({
            command: "storm",
            smtp: { host: "127.0.0.1", port: 2525 },
            to: "alerts@dev.example.com",
            from: STORM_DEFAULT_FROM,
            mails: 500,
            alerts: 20,
            concurrency: 10,
            settleSeconds: 5,
        });
        expect(parseMailArgs(["storm", "--smtp", "localhost:25", "--to", "a@b", "--mails", "40", "--alerts", "4", "--from", "x@zabbix.example.jp", "--concurrency", "2", "--settle-seconds", "0"])).toMatchObject({
            mails: 40,
            alerts: 4,
            from: "x@zabbix.example.jp",
            concurrency: 2,
            settleSeconds: 0,
        });
    });

    it("names what is wrong and shows the usage", () => {
        expect(() => parseMailArgs(["storm", "--to", "a@b"])).toThrow(/^--smtp <host:port> is required.*\nusage:/s);
        expect(() => parseMailArgs(["storm", "--smtp", "127.0.0.1", "--to", "a@b"])).toThrow(/--smtp <host:port> is required, .* got "127.0.0.1"/);
        expect(() => parseMailArgs(["storm", "--smtp", "127.0.0.1:2525"])).toThrow(/--to <address> is required/);
        expect(() => parseMailArgs(["storm", "--smtp", "127.0.0.1:2525", "--to", "a@b", "--mails", "5"])).toThrow(/--mails must be a whole number 20–100000, got "5"/);
        expect(() => parseMailArgs(["storm", "--smtp", "127.0.0.1:2525", "--to", "a@b", "--concurrency", "0"])).toThrow(/--concurrency must be a whole number 1–50/);
        expect(() => parseMailArgs(["storm", "x.eml", "--smtp", "127.0.0.1:2525", "--to", "a@b"])).toThrow(/storm takes no file/);
        expect(() => parseMailArgs(["storm", "--smtp", "127.0.0.1:2525", "--to", "a@b", "--stack", "dev"])).toThrow(/storm does not take --stack/);
        expect(() => parseMailArgs(["classify", "x.eml", "--rules", "r.yaml", "--mails", "5"])).toThrow(/--mails belongs to storm, not classify/);
        expect(USAGE).toContain("usage: npm run --silent mail -- storm --smtp <host:port> --to <alert address>");
    });
});
