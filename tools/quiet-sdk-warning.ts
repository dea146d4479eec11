// Imported first by the tools that build AWS SDK clients: the Lambda handlers they load build their
// clients while being imported, so the SDK's switch has to be set before any of them loads. Our one
// line about Node.js is kept until the tool has read its arguments (`--help` and a bad argument
// answer first), then written by writeNodeSupportNote.
import { quietSdkNodeWarning } from "./node-support";

const held: string[] = [];
quietSdkNodeWarning(process.env, process.version, (line) => void held.push(line));

/** Writes the Node.js note held since import (once; nothing on Node.js 22+ or when the operator set the switch). */
export function writeNodeSupportNote(write: (line: string) => void = (line) => void process.stderr.write(line)): void {
    for (const line of held.splice(0)) write(line);
}
