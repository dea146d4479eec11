import { defineConfig } from "vitest/config";

// The AWS SDK v3's own switch for its 9-line "upgrade to node >=22" warning, which otherwise fills
// the output of every test file that builds a client on Node.js 20 (README, "Node.js versions";
// the name is SDK_NODE_WARNING_SWITCH in tools/node-support.ts, checked by its test).
// Everything else is Vitest's default.
export default defineConfig({
    test: {
        env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    },
});
