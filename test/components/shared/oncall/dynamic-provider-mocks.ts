import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";

/**
 * Shared by the tests that declare alertline's `pulumi.dynamic` resources (Opsgenie, JSM) under
 * Pulumi's mocks: they read the wire request of each registration, where secrets and
 * additionalSecretOutputs are visible, and load the serialised provider as the dynamic provider
 * host does.
 */

/** How the SDK marks a secret in registered inputs (runtime/rpc.ts specialSigKey / specialSecretSig). */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface Registration {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly additionalSecretOutputs: string[];
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getAdditionalsecretoutputsList(): string[];
}

/**
 * Sets Pulumi's mocks, whose resources get the id `<name>-id` and the state `state` gives (default
 * their inputs), and records every registration's wire request into `registrations`.
 */
export async function recordRegistrations(
    registrations: Registration[],
    state: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown> = (args) => args.inputs,
): Promise<void> {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: `${args.name}-id`, state: state(args) }),
            call: (args) => {
                throw new Error(`Mock not implemented: ${args.token}`);
            },
        },
        "alertline",
        "dev",
        false,
    );
    // The wire request itself: where secrets and additionalSecretOutputs are visible.
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, cb: unknown) => unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
        registrations.push({
            type: req.getType(),
            name: req.getName(),
            inputs: req.getObject()?.toJavaScript() ?? {},
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        });
        return register(req, cb);
    };
}

/** The registration of this type and name, or an error listing what was registered. */
export function registeredIn(registrations: readonly Registration[], type: string, name: string): Registration {
    const found = registrations.find((r) => r.type === type && r.name === name);
    if (found === undefined) throw new Error(`${type} ${name} was not registered; got ${registrations.map((r) => `${r.type} ${r.name}`).join(", ")}`);
    return found;
}

export function resolved<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

/** The provider as the dynamic provider host loads it: `__provider` through require-from-string, then handler(). */
export function loadProvider(registration: Registration): pulumi.dynamic.ResourceProvider {
    const requireFromString = createRequire(__filename)("require-from-string") as (code: string) => { handler(): pulumi.dynamic.ResourceProvider };
    return requireFromString(registration.inputs.__provider as string).handler();
}
