import type { TowerProtocol } from "../tower-config";
import { LAMP_MODES, LAMPS, type TowerSignal } from "./signal";

/** How each protocol is called in messages. */
export const PROTOCOL_LABELS: Record<TowerProtocol, string> = {
    phn: "PHN",
    pns: "PNS (NH series)",
    la6: "PNS for LA6-POE",
};

/**
 * A signal or command that a protocol cannot carry. `field` names what is at fault: a lamp
 * ("red" … "white"), "buzzer", or for LA6's detailed control "colors" / "flash"; the operator
 * CLI turns it into the flag to fix (`--blue`, `--buzzer`, …).
 */
export class PatliteEncodingError extends Error {
    constructor(
        readonly protocol: TowerProtocol,
        readonly field: string,
        message: string,
    ) {
        super(message);
        this.name = "PatliteEncodingError";
    }
}

/**
 * Checks that `signal` really is a TowerSignal (it may have come from JSON or YAML) and that its
 * buzzer pattern is one the protocol knows (0 = silent … `maxBuzzer`). Lamp-specific limits are
 * the caller's.
 */
export function checkSignal(protocol: TowerProtocol, signal: TowerSignal, maxBuzzer: number): void {
    if (signal === null || typeof signal !== "object") {
        throw new PatliteEncodingError(protocol, "signal", `a tower signal must be an object such as {"red": "flash1", "buzzer": 1}, got ${JSON.stringify(signal)}`);
    }
    for (const lamp of LAMPS) {
        const mode = signal[lamp] as unknown;
        if (!(LAMP_MODES as readonly unknown[]).includes(mode)) {
            throw new PatliteEncodingError(protocol, lamp, `${lamp}: ${JSON.stringify(mode)} is not a lamp mode; use ${LAMP_MODES.join(", ")}`);
        }
    }
    const buzzer = signal.buzzer as unknown;
    if (typeof buzzer !== "number" || !Number.isInteger(buzzer) || buzzer < 0 || buzzer > maxBuzzer) {
        throw new PatliteEncodingError(
            protocol,
            "buzzer",
            `${PROTOCOL_LABELS[protocol]} knows buzzer patterns 1–${maxBuzzer} (0 = silent), got buzzer ${JSON.stringify(buzzer)}; use 0–${maxBuzzer}`,
        );
    }
}
