/**
 * What a PATLITE tower shows, independent of the protocol that carries it. A signal is the whole
 * state: a lamp it does not name is off, and the buzzer is silent unless a pattern is given.
 */

export const LAMPS = ["red", "amber", "green", "blue", "white"] as const;
export type Lamp = (typeof LAMPS)[number];

export const LAMP_MODES = ["off", "on", "flash1", "flash2"] as const;
export type LampMode = (typeof LAMP_MODES)[number];

export interface TowerSignal {
    readonly red: LampMode;
    readonly amber: LampMode;
    readonly green: LampMode;
    readonly blue: LampMode;
    readonly white: LampMode;
    /** 0 = silent; 1–4 = buzzer pattern (PHN knows 1–2, PNS 1–4, LA6 1–11). */
    readonly buzzer: number;
}

/** A partial description, as written in config: `{ red: flash1, buzzer: 1 }`. */
export type SignalSpec = Partial<Record<Lamp, LampMode>> & { readonly buzzer?: number };

/** The full state a partial description means: everything unnamed is off. */
export function toSignal(spec: SignalSpec): TowerSignal {
    return {
        red: spec.red ?? "off",
        amber: spec.amber ?? "off",
        green: spec.green ?? "off",
        blue: spec.blue ?? "off",
        white: spec.white ?? "off",
        buzzer: spec.buzzer ?? 0,
    };
}

/** Everything off and silent. */
export const DARK: TowerSignal = toSignal({});

export function sameSignal(a: TowerSignal, b: TowerSignal): boolean {
    return LAMPS.every((lamp) => a[lamp] === b[lamp]) && a.buzzer === b.buzzer;
}

/** "red:flash1 buzzer:1", or "dark"; for logs and the emulator's display. */
export function describeSignal(signal: TowerSignal): string {
    const lit = LAMPS.filter((lamp) => signal[lamp] !== "off").map((lamp) => `${lamp}:${signal[lamp]}`);
    if (signal.buzzer > 0) lit.push(`buzzer:${signal.buzzer}`);
    return lit.length === 0 ? "dark" : lit.join(" ");
}
