import { describe, expect, it } from "vitest";
import { RouterConfigInput, yamahaRtxConfig } from "../../../components/patlite-site/yamaha-rtx-config";

const input: RouterConfigInput = {
    siteName: "tokyo-office",
    vpnConnectionId: "vpn-0abc",
    model: "rtx1220",
    customerGatewayIp: "203.0.113.10",
    tunnelNumbers: [99, 100],
    policyIds: [299, 300],
    vpcCidr: "10.20.0.0/16",
    siteCidr: "192.168.10.0/24",
    tunnels: [
        { outsideAddress: "198.51.100.1", customerInsideAddress: "169.254.44.2", awsInsideAddress: "169.254.44.1", presharedKey: "Key.one_abcdefgh" },
        { outsideAddress: "198.51.100.2", customerInsideAddress: "169.254.55.6", awsInsideAddress: "169.254.55.5", presharedKey: "Key.two_abcdefgh" },
    ],
};

const commands = (config: string) =>
    config
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"));

describe("yamahaRtxConfig", () => {
    const config = yamahaRtxConfig(input);
    const lines = commands(config);

    it("configures both tunnels on the site's own numbers against AWS's two outside addresses with their own keys", () => {
        expect(lines).toContain("tunnel select 99");
        expect(lines).toContain("tunnel select 100");
        expect(lines).not.toContain("tunnel select 1");
        expect(lines).toContain("ipsec tunnel 299");
        expect(lines).toContain("ipsec ike remote address 99 198.51.100.1");
        expect(lines).toContain("ipsec ike remote address 100 198.51.100.2");
        expect(lines).toContain("ipsec ike pre-shared-key 99 text Key.one_abcdefgh");
        expect(lines).toContain("ipsec ike pre-shared-key 100 text Key.two_abcdefgh");
        expect(lines).toContain("ipsec ike local address 99 203.0.113.10");
    });

    it("uses the inside addresses: the office's as its own, AWS's as the remote", () => {
        expect(lines).toContain("ip tunnel address 169.254.44.2/30");
        expect(lines).toContain("ip tunnel remote address 169.254.44.1");
        expect(lines).toContain("ip tunnel address 169.254.55.6/30");
        expect(lines).toContain("ip tunnel remote address 169.254.55.5");
    });

    it("pins IKEv2, AES-256, SHA-256, group 14 and PFS, and limits the proposal to them where the model can", () => {
        for (const n of [99, 100]) {
            expect(lines).toContain(`ipsec ike version ${n} 2`);
            expect(lines).toContain(`ipsec ike encryption ${n} aes256-cbc`);
            expect(lines).toContain(`ipsec ike hash ${n} sha256`);
            expect(lines).toContain(`ipsec ike group ${n} modp2048`);
            expect(lines).toContain(`ipsec ike pfs ${n} on`);
            expect(lines).toContain(`ipsec ike proposal-limitation ${n} on`);
            expect(lines).toContain(`ipsec sa policy ${200 + n} ${n} esp aes256-cbc sha256-hmac`);
        }
        expect(config).not.toMatch(/sha-hmac|aes-cbc |modp1024|\bmd5\b/);
    });

    it("leaves out the commands an RTX810 lacks, and those newer than the firmware given", () => {
        const rtx810 = commands(yamahaRtxConfig({ ...input, model: "rtx810", tunnelNumbers: [5, 6], policyIds: [205, 206] }));
        expect(rtx810.filter((l) => /proposal-limitation|message-id-control|child-exchange|negotiation receive/.test(l))).toEqual([]);
        const old1210 = commands(yamahaRtxConfig({ ...input, model: "rtx1210", firmware: "14.01.20" }));
        expect(old1210).toContain("ipsec ike child-exchange type 99 2");
        expect(old1210.some((l) => l.startsWith("ipsec ike negotiation receive"))).toBe(false);
        expect(yamahaRtxConfig({ ...input, model: "rtx1210", firmware: "14.01.20" })).toContain("# Left out, as this model/firmware lacks them: ipsec ike negotiation receive.");
    });

    it("behind NAT: NAT traversal on, the router's own address as local address, the public one as identity", () => {
        const nat = commands(yamahaRtxConfig({ ...input, behindNat: true, wanAddress: "192.168.0.2" }));
        expect(nat).toContain("ipsec ike nat-traversal 99 on");
        expect(nat).toContain("ipsec ike local address 99 192.168.0.2");
        expect(nat).toContain("ipsec ike local name 99 203.0.113.10 ipv4-addr");
        const dhcp = commands(yamahaRtxConfig({ ...input, behindNat: true }));
        expect(dhcp.some((l) => l.startsWith("ipsec ike local address"))).toBe(false);
        expect(lines.some((l) => l.startsWith("ipsec ike nat-traversal"))).toBe(false);
        expect(yamahaRtxConfig({ ...input, behindNat: true })).toContain("udp * 4500");
    });

    it("lists the WAN filter lines for both AWS addresses, as a checklist, not as commands", () => {
        expect(config).toContain("#   ip filter <free number> pass 198.51.100.1 * esp * *");
        expect(config).toContain("#   ip filter <free number> pass 198.51.100.2 * udp * 500");
        expect(lines.some((l) => l.startsWith("ip filter"))).toBe(false);
    });

    it("routes the VPC into both tunnels statically without BGP", () => {
        expect(lines).toContain("ip route 10.20.0.0/16 gateway tunnel 99 hide gateway tunnel 100 hide");
        expect(lines).not.toContain("bgp use on");
    });

    it("with BGP advertises the office LAN, installs only the VPC route, and peers over both tunnels", () => {
        const bgp = commands(yamahaRtxConfig({ ...input, bgp: { customerAsn: 65010, awsAsn: 64512 } }));
        expect(bgp).toContain("bgp autonomous-system 65010");
        expect(bgp).toContain("bgp neighbor 99 64512 169.254.44.1 hold-time=30 local-address=169.254.44.2");
        expect(bgp).toContain("bgp neighbor 100 64512 169.254.55.5 hold-time=30 local-address=169.254.55.6");
        expect(bgp).toContain("bgp import filter 299 equal 192.168.10.0/24");
        expect(bgp).toContain("bgp import 64512 static filter 299");
        expect(bgp).toContain("bgp export filter 299 include 10.20.0.0/16");
        expect(bgp).toContain("bgp export 64512 filter 299");
        expect(bgp.filter((l) => l.startsWith("bgp import filter")).join()).not.toContain("10.20.0.0/16");
        expect(bgp.some((l) => l.startsWith("ip route 10.20.0.0/16"))).toBe(false);
    });

    it("refuses values that would break the router's command line or its ranges", () => {
        expect(() => yamahaRtxConfig({ ...input, tunnels: [{ ...input.tunnels[0], presharedKey: "key with space" }, input.tunnels[1]] })).toThrow(/pre-shared key/);
        expect(() => yamahaRtxConfig({ ...input, customerGatewayIp: "router.example.jp" })).toThrow(/customer gateway ip "router.example.jp" is not an IPv4 address/);
        expect(() => yamahaRtxConfig({ ...input, model: "rtx830" })).toThrow(/tunnel number 99 is outside the RTX830's range 1–20/);
        expect(() => yamahaRtxConfig({ ...input, tunnelNumbers: [7, 7] })).toThrow(/different tunnel numbers/);
        expect(() => yamahaRtxConfig({ ...input, wanAddress: "192.168.0.2" })).toThrow(/only used behind NAT/);
    });
});
