import { describe, expect, it } from "vitest";
import { ROUTER_MODELS, RTX_MODELS } from "../../../components/patlite-site/rtx-models";
import { routerOffer, SECURE_TUNNEL, secureTunnelOptions, tunnelAlgorithms, type TunnelAlgorithms } from "../../../components/patlite-site/vpn-tunnels";

const LISTS = [
    "phase1EncryptionAlgorithms",
    "phase1IntegrityAlgorithms",
    "phase1DhGroupNumbers",
    "phase2EncryptionAlgorithms",
    "phase2IntegrityAlgorithms",
    "phase2DhGroupNumbers",
] as const satisfies readonly (keyof TunnelAlgorithms)[];

// Firmware that has proposal-limitation and firmware that does not (RTX1210 before Rev.14.01.09).
const FIRMWARES = [undefined, "14.01.05"] as const;

describe("tunnel algorithms per router model", () => {
    for (const model of ROUTER_MODELS) {
        for (const firmware of model === "rtx1210" ? FIRMWARES : [undefined]) {
            it(`${model}${firmware ? ` on ${firmware}` : ""}: AWS and the router have a proposal in common in every list, and AWS allows only secure ones`, () => {
                const aws = tunnelAlgorithms(model);
                const offer = routerOffer(model, firmware);
                for (const list of LISTS) {
                    const common = (aws[list] as readonly (string | number)[]).filter((a) => (offer[list] as readonly (string | number)[]).includes(a));
                    expect(common.length, `${list}: AWS ${aws[list]} vs router ${offer[list]}`).toBeGreaterThan(0);
                    expect((SECURE_TUNNEL[list] as readonly (string | number)[]).includes(aws[list][0])).toBe(true);
                    for (const a of aws[list]) expect(SECURE_TUNNEL[list] as readonly (string | number)[]).toContain(a);
                    // Nothing AWS allows is something the router cannot do.
                    for (const a of aws[list]) {
                        const has = list.endsWith("DhGroupNumbers")
                            ? RTX_MODELS[model].algorithms.dhGroups
                            : list.endsWith("EncryptionAlgorithms")
                              ? RTX_MODELS[model].algorithms.encryption
                              : RTX_MODELS[model].algorithms.integrity;
                        expect(has as readonly (string | number)[]).toContain(a);
                    }
                }
                expect(aws.ikeVersions).toEqual(["ikev2"]);
            });
        }
    }

    it("allows no GCM and no ECP group on an RTX, and SHA-384/512 only on the RTX1300", () => {
        for (const model of ROUTER_MODELS) {
            const aws = tunnelAlgorithms(model);
            expect(aws.phase1EncryptionAlgorithms).toEqual(["AES256"]);
            expect(aws.phase2DhGroupNumbers).toEqual([14]);
        }
        expect(tunnelAlgorithms("rtx830").phase1IntegrityAlgorithms).toEqual(["SHA2-256"]);
        expect(tunnelAlgorithms("rtx1300").phase1IntegrityAlgorithms).toEqual(["SHA2-256", "SHA2-384", "SHA2-512"]);
    });

    it("without proposal-limitation the router offers everything it has, weak ones included: only AWS's side keeps them out", () => {
        const offer = routerOffer("rtx810");
        expect(offer.phase1IntegrityAlgorithms).toContain("SHA1");
        expect(offer.phase1DhGroupNumbers[0]).toBe(14);
        expect(tunnelAlgorithms("rtx810").phase1IntegrityAlgorithms).not.toContain("SHA1");
        expect(routerOffer("rtx1220").phase1IntegrityAlgorithms).toEqual(["SHA2-256"]);
    });

    it("puts the model's lists on both tunnels of the VPN connection", () => {
        const options = secureTunnelOptions("rtx830") as Record<string, unknown>;
        for (const n of [1, 2]) {
            expect(options[`tunnel${n}Phase1DhGroupNumbers`]).toEqual([14]);
            expect(options[`tunnel${n}Phase2IntegrityAlgorithms`]).toEqual(["SHA2-256"]);
            expect(options[`tunnel${n}StartupAction`]).toBe("start");
        }
    });
});
