import { beforeAll, describe, expect, it } from "vitest";
import { sharedEvaluation, WHOLE_STACK_TIMEOUT_MS } from "../harness/fresh-program";
import type { StackEvaluation } from "../../tools/offline/evaluate";
import { SecretValue } from "../../tools/offline/mock-engine";
import { routerRouteProblems, siteRouteProblems } from "./site-routes";

/** Prod with its sites as they are, plus one BGP site on a transit gateway. */
const PROD_WITH_TGW_BGP = (sites: unknown[]) => ({
    "alertline:sites": [
        ...sites,
        {
            name: "sendai-office",
            cidr: "192.168.50.0/24",
            transitGatewayId: "tgw-0a1b2c3d4e5f60718",
            customerGateway: { ip: "203.0.113.90", bgpAsn: 65020 },
            router: { model: "rtx1300" },
            towers: [{ name: "sendai-ops", host: "192.168.50.50", protocol: "pns" }],
        },
    ],
});

describe("every site routes both ways (plan)", () => {
    let dev: StackEvaluation;
    let prod: StackEvaluation;
    beforeAll(async () => {
        dev = await sharedEvaluation("dev");
        prod = await sharedEvaluation("prod");
    }, WHOLE_STACK_TIMEOUT_MS);

    it("dev: the VPC routes its site into the VPN, the router routes the VPC into both tunnels", () => {
        expect(siteRouteProblems(dev)).toEqual([]);
    });

    it("prod: BGP, static, behind-NAT and transit-gateway sites all route both ways", () => {
        expect(siteRouteProblems(prod)).toEqual([]);
    });

    it("prod with a BGP site on the transit gateway: it peers with the transit gateway's ASN and routes both ways", async () => {
        const sites = JSON.parse(prod.config.config["alertline:sites"]) as unknown[];
        const withBgp = await sharedEvaluation("prod", PROD_WITH_TGW_BGP(sites));
        expect(siteRouteProblems(withBgp)).toEqual([]);
    }, WHOLE_STACK_TIMEOUT_MS);

    it("finds the blackhole of the old BGP configuration (import and export swapped)", () => {
        const configs = (prod.outputs.siteRouterConfigs as SecretValue).value as Record<string, string>;
        const swapped = configs["tokyo-office"]
            .replace(/^bgp import filter (\d+) equal 192\.168\.10\.0\/24$/m, "bgp import filter $1 include 10.30.0.0/16")
            .replace(/^bgp export filter (\d+) include 10\.30\.0\.0\/16$/m, "bgp export filter $1 include 192.168.10.0/24");
        const broken = { ...prod, outputs: { ...prod.outputs, siteRouterConfigs: new SecretValue({ ...configs, "tokyo-office": swapped }) } };
        expect(siteRouteProblems(broken)).toEqual([
            'site "tokyo-office": router: BGP does not advertise the site\'s LAN 192.168.10.0/24 to AWS (AS 64512)',
            'site "tokyo-office": router: BGP advertises the VPC\'s own CIDR 10.30.0.0/16 back to AWS',
            'site "tokyo-office": router: BGP does not install the VPC route 10.30.0.0/16 received from AWS (AS 64512)',
        ]);
    });

    it("finds a transit-gateway site without its VPC routes, and a VPN gateway site without its static route", () => {
        const dropped = prod.engine.registrations.filter((r) => !(r.type === "aws:ec2/route:Route" && r.name.endsWith("-vpc-route-2")) && r.name !== "site-osaka-office-route");
        const broken = { ...prod, engine: { ...prod.engine, registrations: dropped } } as StackEvaluation;
        expect(siteRouteProblems(broken)).toEqual([
            'site "osaka-office": the VPN has no static route for 192.168.20.0/24',
            'site "fukuoka-office": route table rtb-private-2 has no route for 192.168.40.0/24 to transit gateway tgw-0a1b2c3d4e5f60718',
        ]);
    });
});

describe("routerRouteProblems", () => {
    const tunnels = [
        { outside: "198.51.100.1", awsInside: "169.254.10.1" },
        { outside: "198.51.100.2", awsInside: "169.254.20.5" },
    ];
    const tunnel = (n: number, aws: string) => [`tunnel select ${n}`, ` ipsec ike remote address ${n} ${aws}`, ` tunnel enable ${n}`];

    it("requires the static route to use both tunnels", () => {
        const one = [...tunnel(5, "198.51.100.1"), ...tunnel(6, "198.51.100.2"), "tunnel select none", "ip route 10.20.0.0/16 gateway tunnel 5 hide"].join("\n");
        expect(routerRouteProblems(one, { cidr: "10.20.0.0/16" }, { cidr: "192.168.1.0/24", bgp: false }, tunnels)).toEqual(["the static route to the VPC (10.20.0.0/16) does not use tunnel 6"]);
    });

    it("requires an enabled tunnel to each AWS address", () => {
        const disabled = ["tunnel select 5", " ipsec ike remote address 5 198.51.100.1", ...tunnel(6, "198.51.100.2"), "ip route 10.20.0.0/16 gateway tunnel 5 hide gateway tunnel 6 hide"].join("\n");
        expect(routerRouteProblems(disabled, { cidr: "10.20.0.0/16" }, { cidr: "192.168.1.0/24", bgp: false }, tunnels)).toEqual([
            "no enabled tunnel reaches AWS tunnel 1 (198.51.100.1)",
        ]);
    });

    it("requires BGP neighbors with AWS's ASN over both tunnels", () => {
        const wrongAsn = [
            ...tunnel(5, "198.51.100.1"),
            ...tunnel(6, "198.51.100.2"),
            "bgp neighbor 5 64512 169.254.10.1 hold-time=30",
            "bgp neighbor 6 64512 169.254.20.5 hold-time=30",
            "bgp import filter 1 equal 192.168.1.0/24",
            "bgp import 64513 static filter 1",
            "bgp export filter 1 include 10.20.0.0/16",
            "bgp export 64513 filter 1",
        ].join("\n");
        expect(routerRouteProblems(wrongAsn, { cidr: "10.20.0.0/16" }, { cidr: "192.168.1.0/24", bgp: true, awsAsn: 64513 }, tunnels)).toEqual([
            "no BGP neighbor with AWS (AS 64513) over tunnel 1 (169.254.10.1)",
            "no BGP neighbor with AWS (AS 64513) over tunnel 2 (169.254.20.5)",
        ]);
    });
});
