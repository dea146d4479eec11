import type { TowerProtocol } from "../tower-config";
import { nakReply, shownSignal } from "./codec";
import { decodeLa6Status, LA6_TIERS } from "./la6";
import { decodePhnReadReply } from "./phn";
import { decodePnsStatusReply } from "./pns";
import { describeSignal, LAMPS, type Lamp, type TowerSignal } from "./signal";

/**
 * What a tower says about itself when asked, one reading per protocol, and whether that reading
 * agrees with a signal alertline sent. The requests are codec.ts encodeStatusRead (PHN `52`, PNS
 * `58 58 47 00 00 00`, LA6 `41 42 47 00 00 00`); the byte layouts of the answers live with each
 * protocol (phn.ts, pns.ts, la6.ts); this module puts them behind one door.
 *
 * How much a reading tells differs:
 * - PHN `R` answers with the operation byte, so the whole signal comes back (lamps, flashing, buzzer).
 * - PNS `G` answers with the six state bytes: the whole signal, both flash kinds told apart.
 *   Unconfirmed: `G` is known from three independent clients, not from a PATLITE manual page
 *   (pns.ts); facts.md names no NH read command.
 * - LA6 `G` answers with a pattern per tier but no colour. Unconfirmed: the pattern values a tier
 *   reports after a `D` command (la6.ts assumes 0 off, 1 on, 2 flashing). So only "tier dark or
 *   lit" is read from it (0 = off is the one value every reading of the samples agrees on), and
 *   steady against flashing is not compared. In smart mode the tiers are run by a stored group,
 *   not by alertline's command, and the reading says nothing comparable.
 * - Unconfirmed for PHN: whether `R` returns the byte as written or after the tower's priority
 *   rules; alertline never sets both bits of a lamp, so either decodes the same.
 */

export type TowerReading =
    /** PHN, PNS: the signal the tower shows. */
    | { readonly kind: "signal"; readonly signal: TowerSignal }
    /** LA6 in signal-light mode: which tiers (lamp k = tier k) are lit, and the buzzer pattern. */
    | { readonly kind: "lit"; readonly lit: Readonly<Record<Lamp, boolean>>; readonly buzzer: number }
    /** LA6 in smart mode: the tower runs a stored pattern; nothing to compare. */
    | { readonly kind: "smart"; readonly group: number; readonly pattern: number };

/** Whether `reply` is the protocol's NAK: the tower is there but refused the request. */
export function isNakReply(protocol: TowerProtocol, reply: Buffer): boolean {
    return reply.equals(nakReply(protocol));
}

/**
 * Reads a whole answer to the status request (codec.ts encodeStatusRead). Throws, naming the protocol and what was wrong,
 * for a NAK or an answer of the wrong shape.
 */
export function decodeStatusReply(protocol: TowerProtocol, reply: Buffer): TowerReading {
    if (isNakReply(protocol, reply)) throw new Error(`the ${protocol.toUpperCase()} tower answered NAK to the status request`);
    switch (protocol) {
        case "phn":
            return { kind: "signal", signal: decodePhnReadReply(reply) };
        case "pns":
            return { kind: "signal", signal: decodePnsStatusReply(reply) };
        case "la6": {
            const status = decodeLa6Status(reply);
            if (status.mode === "smart") return { kind: "smart", group: status.smart!.group, pattern: status.smart!.pattern };
            const patterns = status.tierPatterns!;
            if (patterns.length !== LA6_TIERS) throw new Error(`an LA6 status answer reports ${LA6_TIERS} tiers, got ${patterns.length}`);
            const lit = Object.fromEntries(LAMPS.map((lamp, tier) => [lamp, patterns[tier] !== 0])) as Record<Lamp, boolean>;
            return { kind: "lit", lit, buzzer: status.buzzer! };
        }
    }
    throw new Error(`unknown tower protocol ${JSON.stringify(protocol)}; use phn, pns or la6`);
}

/**
 * Whether the lamps the tower reports are the lamps `signal` lights, in the protocol's terms
 * (flash2 on PHN reads back as flash1, and so on); undefined when the reading cannot be compared
 * (LA6 smart mode).
 *
 * The buzzer is left out on purpose: a buzzer silenced at the tower is a person's decision, and a
 * probe that "restored" it would sound it again every few minutes. A tower that lost its state
 * (a power cycle) shows it in its lamps. A signal the protocol cannot show never matches.
 */
export function lampsMatch(protocol: TowerProtocol, reading: TowerReading, signal: TowerSignal): boolean | undefined {
    if (reading.kind === "smart") return undefined;
    if (reading.kind === "lit") return LAMPS.every((lamp) => reading.lit[lamp] === (signal[lamp] !== "off"));
    let expected: TowerSignal;
    try {
        expected = shownSignal(protocol, signal);
    } catch {
        return false;
    }
    return LAMPS.every((lamp) => reading.signal[lamp] === expected[lamp]);
}

/** "red:flash1 buzzer:1", "lit red amber buzzer:1", "smart mode group 3 pattern 1"; for logs. */
export function describeReading(reading: TowerReading): string {
    switch (reading.kind) {
        case "signal":
            return describeSignal(reading.signal);
        case "lit": {
            const lit = LAMPS.filter((lamp) => reading.lit[lamp]);
            const parts = lit.length === 0 ? ["dark"] : ["lit", ...lit];
            if (reading.buzzer > 0) parts.push(`buzzer:${reading.buzzer}`);
            return parts.join(" ");
        }
        case "smart":
            return `smart mode group ${reading.group} pattern ${reading.pattern}`;
    }
}
