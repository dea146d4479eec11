import { describe, expect, it } from "vitest";
import { resolvedRouter, SiteSettings, siteProblems, sitesSchema, towerConfig } from "../../../components/patlite-site/site-config";
import { DEFAULT_SEVERITY_SIGNALS } from "../../../functions/shared/severity";

const site = (overrides: Record<string, unknown>): SiteSettings =>
    sitesSchema.parse([{ name: "tokyo", cidr: "192.168.10.0/24", customerGateway: { ip: "203.0.113.10" }, router: { model: "rtx830" }, towers: [{ name: "t1", host: "192.168.10.5", protocol: "pns" }], ...overrides }])[0];

const messages = (sites: SiteSettings[], hosts: string[] = []) => siteProblems(sites, "10.20.0.0/16", hosts).map((p) => `${p.path.join(".")}: ${p.message}`);

describe("siteProblems", () => {
    it("accepts sites with distinct networks and towers inside them", () => {
        expect(messages([site({}), site({ name: "osaka", cidr: "192.168.20.0/24", towers: [{ name: "t2", host: "192.168.20.5", protocol: "phn" }] })])).toEqual([]);
    });

    it("refuses a site network that overlaps the VPC", () => {
        expect(messages([site({ cidr: "10.20.128.0/24", towers: [{ name: "t1", host: "10.20.128.5", protocol: "pns" }] })])).toEqual([
            expect.stringMatching(/^sites\.0\.cidr: overlaps the VPC \(10\.20\.0\.0\/16\)/),
        ]);
    });

    it("refuses two sites whose networks overlap, naming the other site", () => {
        const found = messages([site({}), site({ name: "osaka", cidr: "192.168.0.0/16", towers: [{ name: "t2", host: "192.168.20.5", protocol: "phn" }] })]);
        expect(found).toEqual([expect.stringMatching(/^sites\.1\.cidr: overlaps sites\[0\] "tokyo" \(192\.168\.10\.0\/24\)/)]);
    });

    it("refuses a tower outside its site's network", () => {
        expect(messages([site({ towers: [{ name: "t1", host: "192.168.11.5", protocol: "pns" }] })])).toEqual([
            "sites.0.towers.0.host: is outside the site's network 192.168.10.0/24; towers are reached through the site's VPN",
        ]);
    });

    it("refuses the same tower name in two sites", () => {
        const found = messages([site({}), site({ name: "osaka", cidr: "192.168.20.0/24", towers: [{ name: "t1", host: "192.168.20.5", protocol: "phn" }] })]);
        expect(found).toEqual([expect.stringContaining('sites.1.towers.0.name: is used twice (also in site "tokyo")')]);
    });

    it("refuses a site or tower named all or none, which the mail rules read as every tower and no tower", () => {
        const issues = sitesSchema.safeParse([{ name: "all", cidr: "192.168.10.0/24", customerGateway: { ip: "203.0.113.10" }, router: { model: "rtx830" }, towers: [{ name: "none", host: "192.168.10.5", protocol: "pns" }] }]).error?.issues ?? [];
        expect(issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([
            "0.name: is reserved: the mail rules read towers: all and towers: none as every tower and no tower; give the site another name",
            "0.towers.0.name: is reserved: the mail rules read towers: all and towers: none as every tower and no tower; give the tower another name",
        ]);
        expect(site({ name: "all-hands", towers: [{ name: "nonet", host: "192.168.10.5", protocol: "pns" }] }).name).toBe("all-hands");
    });

    it("says to use a transit gateway beyond ten sites on the VPN gateway, and accepts them on one", () => {
        const many = Array.from({ length: 11 }, (_, i) => site({ name: `s${i}`, cidr: `192.168.${i}.0/24`, towers: [{ name: `t${i}`, host: `192.168.${i}.5`, protocol: "pns" }] }));
        expect(messages(many)).toEqual([expect.stringMatching(/^sites: puts 11 VPN connections on one VPN gateway, which takes 10: .*transit gateway \(transitGatewayId\)/)]);
        const withTransit = many.map((s, i) => (i === 10 ? { ...s, transitGatewayId: "tgw-0123456789abcdef0" } : s));
        expect(messages(withTransit)).toEqual([]);
    });

    it("requires an existing relay host for relay ssm and a customer gateway for relay vpn", () => {
        expect(messages([site({ relay: "ssm", relayHost: "nope" })], ["zabbix-proxy"])).toEqual([
            "sites.0.relayHost: must name one of alertline:hosts (zabbix-proxy) when relay is ssm",
        ]);
        expect(messages([site({ customerGateway: undefined, router: undefined })])).toEqual([expect.stringMatching(/^sites\.0\.customerGateway: is required with relay vpn/)]);
    });
});

describe("a site's router", () => {
    it("is required with a customer gateway, naming the models", () => {
        expect(messages([site({ router: undefined })])).toEqual([
            expect.stringMatching(/^sites\.0\.router: is required with customerGateway: give the office router's model \(router: \{ model: rtx810 \| rtx830 \| rtx1210 \| rtx1220 \| rtx1300 \}\)/),
        ]);
        expect(messages([site({ relay: "ssm", relayHost: "proxy", customerGateway: undefined })], ["proxy"])).toEqual([
            expect.stringMatching(/^sites\.0\.router: is only used with customerGateway/),
        ]);
    });

    it("refuses an unknown model, firmware of another model, tunnel numbers beyond the model's range, and a WAN address without NAT", () => {
        const unknown = sitesSchema.safeParse([{ name: "x", cidr: "192.168.10.0/24", router: { model: "rtx1200" }, towers: [{ name: "t1", host: "192.168.10.5", protocol: "pns" }] }]);
        expect(unknown.error?.issues[0]).toMatchObject({ path: [0, "router", "model"], message: expect.stringContaining("must be one of rtx810, rtx830, rtx1210, rtx1220, rtx1300") });
        expect(messages([site({ router: { model: "rtx830", firmware: "14.01.20" } })])).toEqual([
            'sites.0.router.firmware: "14.01.20" is not RTX830 firmware, which is Rev.15.02.xx; check the model and `show environment`',
        ]);
        expect(messages([site({ router: { model: "rtx830", tunnelNumbers: [19, 21] } })])).toEqual(["sites.0.router.tunnelNumbers.1: 21 is outside the RTX830's tunnel numbers 1–20"]);
        expect(messages([site({ router: { model: "rtx830", wanAddress: "192.168.0.2" } })])).toEqual([expect.stringMatching(/^sites\.0\.router\.wanAddress: is only used with behindNat: true/)]);
        expect(sitesSchema.safeParse([{ name: "x", cidr: "192.168.10.0/24", router: { model: "rtx830", tunnelNumbers: [3, 3] }, towers: [] }]).success).toBe(false);
    });

    it("defaults to the top two tunnel numbers of the model and policy IDs 200 above them", () => {
        expect(resolvedRouter(site({ router: { model: "rtx830" } }).router!)).toMatchObject({ tunnelNumbers: [19, 20], policyIds: [219, 220], behindNat: false });
        expect(resolvedRouter(site({ router: { model: "rtx810" } }).router!)).toMatchObject({ tunnelNumbers: [5, 6], policyIds: [205, 206] });
        expect(resolvedRouter(site({ router: { model: "rtx1300", tunnelNumbers: [41, 42] } }).router!)).toMatchObject({ tunnelNumbers: [41, 42], policyIds: [241, 242] });
    });
});

describe("sitesSchema", () => {
    it("refuses a CIDR with host bits set", () => {
        expect(sitesSchema.safeParse([{ name: "x", cidr: "192.168.10.1/24", towers: [] }]).success).toBe(false);
    });

    it("takes the router's 2-byte AS numbers only, and says why", () => {
        const withAsn = (bgpAsn: number) =>
            sitesSchema.safeParse([{ name: "x", cidr: "192.168.10.0/24", customerGateway: { ip: "203.0.113.10", bgpAsn }, towers: [{ name: "t1", host: "192.168.10.5", protocol: "pns" }] }]);
        expect(withAsn(65010).success).toBe(true);
        expect(withAsn(65535).success).toBe(true);
        const fourByte = withAsn(4200000000);
        expect(fourByte.success).toBe(false);
        expect(fourByte.error?.issues[0]).toMatchObject({ path: [0, "customerGateway", "bgpAsn"], message: expect.stringMatching(/1 to 65535: the YAMAHA RTX router takes 2-byte AS numbers only/) });
        expect(withAsn(0).success).toBe(false);
    });
});

describe("towerConfig", () => {
    it("merges the site's signals over the defaults and names the relay", () => {
        const s = site({ relay: "ssm", relayHost: "zabbix-proxy", signals: { critical: { red: "on", buzzer: 2 } } });
        const config = towerConfig(s, s.towers[0], "i-0abc");
        expect(config.signals.critical).toEqual({ red: "on", buzzer: 2 });
        expect(config.signals.warning).toEqual(DEFAULT_SEVERITY_SIGNALS.warning);
        expect(config.relay).toEqual({ kind: "ssm", instanceId: "i-0abc" });
        expect(config.port).toBe(10000);
    });
});

describe("siteProblems and what towers can show", () => {
    it("refuses a signal a PHN tower cannot show, naming the severity and the tower", () => {
        const phn = site({ signals: { warning: { blue: "on" } }, towers: [{ name: "desk", host: "192.168.10.5", protocol: "phn" }] });
        expect(messages([phn])).toEqual([expect.stringMatching(/^sites\.0\.signals\.warning: cannot be shown by tower "desk" \(phn\): .*blue/)]);
    });

    it("accepts the defaults on every protocol", () => {
        for (const protocol of ["phn", "pns", "la6"]) {
            expect(messages([site({ towers: [{ name: "desk", host: "192.168.10.5", protocol }] })])).toEqual([]);
        }
    });
});
