import { describe, expect, it } from "vitest";
import { RouterConfigInput, yamahaRtxConfig } from "../../components/yamaha-rtx-config";

const input: RouterConfigInput = {
    siteName: "tokyo-office",
    vpnConnectionId: "vpn-0abc",
    customerGatewayIp: "203.0.113.10",
    vpcCidr: "10.20.0.0/16",
    siteCidr: "192.168.10.0/24",
    tunnels: [
        { outsideAddress: "198.51.100.1", customerInsideAddress: "169.254.44.2", awsInsideAddress: "169.254.44.1", presharedKey: "Key.one_abcdefgh" },
        { outsideAddress: "198.51.100.2", customerInsideAddress: "169.254.55.6", awsInsideAddress: "169.254.55.5", presharedKey: "Key.two_abcdefgh" },
    ],
};

describe("yamahaRtxConfig", () => {
    const config = yamahaRtxConfig(input);
    const lines = config.split("\n");

    it("configures both tunnels against AWS's two outside addresses with their own keys", () => {
        expect(lines).toContain("tunnel select 1");
        expect(lines).toContain("tunnel select 2");
        expect(lines).toContain("  ipsec ike remote address 1 198.51.100.1");
        expect(lines).toContain("  ipsec ike remote address 2 198.51.100.2");
        expect(lines).toContain("  ipsec ike pre-shared-key 1 text Key.one_abcdefgh");
        expect(lines).toContain("  ipsec ike pre-shared-key 2 text Key.two_abcdefgh");
        expect(lines).toContain("  ipsec ike local address 1 203.0.113.10");
    });

    it("uses the inside addresses: the office's as its own, AWS's as the remote", () => {
        expect(lines).toContain(" ip tunnel address 169.254.44.2/30");
        expect(lines).toContain(" ip tunnel remote address 169.254.44.1");
        expect(lines).toContain(" ip tunnel address 169.254.55.6/30");
        expect(lines).toContain(" ip tunnel remote address 169.254.55.5");
    });

    it("offers only the pinned proposal: IKEv2, AES-256, SHA-256, group 14, PFS", () => {
        for (const n of [1, 2]) {
            expect(lines).toContain(`  ipsec ike version ${n} 2`);
            expect(lines).toContain(`  ipsec ike encryption ${n} aes256-cbc`);
            expect(lines).toContain(`  ipsec ike hash ${n} sha256`);
            expect(lines).toContain(`  ipsec ike group ${n} modp2048`);
            expect(lines).toContain(`  ipsec ike pfs ${n} on`);
            expect(lines).toContain(`  ipsec sa policy ${200 + n} ${n} esp aes256-cbc sha256-hmac`);
        }
        expect(config).not.toMatch(/sha-hmac|aes-cbc |modp1024|\bmd5\b/);
    });

    it("routes the VPC into the tunnels statically without BGP", () => {
        expect(lines).toContain("ip route 10.20.0.0/16 gateway tunnel 1 hide gateway tunnel 2 hide");
        expect(config).not.toContain("bgp use on");
    });

    it("peers with AWS over both tunnels with BGP", () => {
        const bgp = yamahaRtxConfig({ ...input, bgp: { customerAsn: 65010, awsAsn: 64512 } }).split("\n");
        expect(bgp).toContain("bgp autonomous-system 65010");
        expect(bgp).toContain("bgp neighbor 1 64512 169.254.44.1 hold-time=30 local-address=169.254.44.2");
        expect(bgp).toContain("bgp neighbor 2 64512 169.254.55.5 hold-time=30 local-address=169.254.55.6");
        expect(bgp.some((l) => l.startsWith("ip route 10.20.0.0/16"))).toBe(false);
    });

    it("refuses values that would break the router's command line", () => {
        expect(() => yamahaRtxConfig({ ...input, tunnels: [{ ...input.tunnels[0], presharedKey: "key with space" }, input.tunnels[1]] })).toThrow(/pre-shared key/);
        expect(() => yamahaRtxConfig({ ...input, customerGatewayIp: "router.example.jp" })).toThrow(/customer gateway ip "router.example.jp" is not an IPv4 address/);
    });
});
