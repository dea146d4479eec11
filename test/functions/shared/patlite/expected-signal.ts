import type { SignalSpec, TowerSignal } from "../../../../functions/shared/patlite/signal";

/** The full signal a spec means, written out here (independently of toSignal) for expectations. */
export function expectedSignal(spec: SignalSpec): TowerSignal {
    return {
        red: spec.red ?? "off",
        amber: spec.amber ?? "off",
        green: spec.green ?? "off",
        blue: spec.blue ?? "off",
        white: spec.white ?? "off",
        buzzer: spec.buzzer ?? 0,
    };
}
