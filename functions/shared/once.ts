/**
 * Memoises a loader for the container's life (configuration files, clients built from the
 * environment). A failure is not kept, so the next invocation tries again and fails with the
 * loader's own message; an `undefined` result is kept like any other.
 */
export function once<T>(load: () => T): () => T {
    let value: { v: T } | undefined;
    return () => (value ??= { v: load() }).v;
}
