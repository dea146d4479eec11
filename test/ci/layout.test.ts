import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The layout README "Where things are" describes, checked on the real tree so a move or a new
 * import that breaks it fails here (issue 13): the design card's components are folders, no
 * component reaches into another's folder, no function into another function's, nothing a product
 * command runs lives under test/.
 */

const root = path.resolve(__dirname, "..", "..");

function sourceFiles(dir: string): string[] {
    const files: string[] = [];
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
        const rel = path.join(dir, entry.name);
        if (entry.isDirectory()) files.push(...sourceFiles(rel));
        else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) files.push(rel);
    }
    return files;
}

/** The repository-relative files a module imports (relative specifiers only; packages are not ours). */
export function localImports(file: string): string[] {
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(root, file), "utf8"), true, true);
    return importedFiles
        .map((imported) => imported.fileName)
        .filter((spec) => spec.startsWith("./") || spec.startsWith("../"))
        .map((spec) => resolveModule(path.join(path.dirname(file), spec), `${file} imports "${spec}"`));
}

function resolveModule(base: string, what: string): string {
    for (const candidate of [base, `${base}.ts`, `${base}.mts`, path.join(base, "index.ts")]) {
        try {
            if (statSync(path.join(root, candidate)).isFile()) return path.normalize(candidate);
        } catch {
            // not this one
        }
    }
    throw new Error(`${what}, which resolves to no file`);
}

/** Every file `entry` loads, following relative imports. */
function reachableFrom(entry: string): Set<string> {
    const seen = new Set<string>();
    const pending = [path.normalize(entry)];
    while (pending.length > 0) {
        const file = pending.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        if (/\.(ts|mts)$/.test(file)) pending.push(...localImports(file));
    }
    return seen;
}

const topFolder = (file: string, under: string): string | undefined => {
    const rel = path.relative(under, file);
    return rel.startsWith("..") || !rel.includes(path.sep) ? undefined : rel.split(path.sep)[0];
};

describe("the layout", () => {
    it("has a folder per design-card component holding the component's file", () => {
        for (const component of ["monitored-host", "alert-channel", "mail-ingest", "patlite-site"]) {
            expect(statSync(path.join(root, "components", component, `${component}.ts`)).isFile(), component).toBe(true);
        }
        const loose = readdirSync(path.join(root, "components")).filter((name) => name.endsWith(".ts"));
        expect(loose, "components/ holds folders only").toEqual([]);
    });

    it("lets a component use its own folder and components/shared/, never another component's folder", () => {
        const crossings: string[] = [];
        for (const file of sourceFiles("components")) {
            const own = topFolder(file, "components");
            for (const target of localImports(file)) {
                const other = topFolder(target, "components");
                if (other === undefined || other === own || other === "shared") continue;
                // The stack's schema is made of the components' schemas: the one import from shared/ into a component (README, "Where things are").
                if (file === path.join("components", "shared", "stack-config.ts") && target === path.join("components", "patlite-site", "site-config.ts")) continue;
                crossings.push(`${file} → ${target}`);
            }
        }
        expect(crossings).toEqual([]);
    });

    it("keeps every function to its own folder and functions/shared/", () => {
        const crossings: string[] = [];
        for (const file of sourceFiles("functions")) {
            const own = topFolder(file, "functions");
            for (const target of localImports(file)) {
                const inFunctions = topFolder(target, "functions");
                if (inFunctions === undefined) crossings.push(`${file} → ${target} (outside functions/)`);
                else if (own !== "shared" && inFunctions !== own && inFunctions !== "shared") crossings.push(`${file} → ${target}`);
                else if (own === "shared" && inFunctions !== "shared") crossings.push(`${file} → ${target} (shared code importing a function)`);
            }
        }
        expect(crossings).toEqual([]);
    });

    it("runs nothing under test/ from an npm script other than the tests and the benchmarks", () => {
        const scripts = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        const products = Object.entries(scripts).filter(([name]) => name !== "test" && name !== "typecheck" && !name.startsWith("bench:"));
        expect(products.map(([name]) => name)).toEqual(expect.arrayContaining(["plan", "router", "start", "mail", "patlite", "policy-config"]));
        const reachesTest: string[] = [];
        for (const [name, command] of products) {
            const entries = command.split(/\s+/).filter((word) => /\.(ts|mts)$/.test(word));
            expect(entries.length, `npm run ${name} runs a TypeScript file`).toBeGreaterThan(0);
            for (const entry of entries) {
                for (const file of reachableFrom(entry)) if (file.startsWith(`test${path.sep}`)) reachesTest.push(`npm run ${name}: ${entry} loads ${file}`);
            }
        }
        expect(reachesTest).toEqual([]);
    });
});
