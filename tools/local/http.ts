import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What every local AWS peer shares: the region and the (fake) credentials its SDK clients sign
 * with, and the few node:http chores. The peers only ever listen on 127.0.0.1.
 */

export const LOCAL_REGION = "ap-northeast-1";
export const LOCAL_ACCOUNT = "123456789012";
/** Signed with, never checked: the peers accept any signature. */
export const LOCAL_CREDENTIALS = { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local-test-secret" } as const;

/** Listens on 127.0.0.1 (port 0: any free one) and resolves to the endpoint URL. */
export async function listen(server: Server, port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve();
        });
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes the server and any keep-alive connection the SDK still holds. */
export function close(server: Server): Promise<void> {
    server.closeAllConnections?.();
    return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}

export function xmlEscape(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
