/**
 * Requests in flight by caller and JSON-RPC id. Stateless, a `notifications/cancelled` arrives on an HTTP request of
 * its own, to a server of its own: this is how it finds the call it names. Only the same caller (token id) can
 * cancel, and only when the id names exactly one of its requests (two clients sharing a token may reuse ids).
 */
export function createCallRegistry() {
  const calls = new Map<string, Set<() => void>>();
  const keyOf = (callerId: string, id: string | number) => `${callerId}\n${typeof id}:${id}`;
  return {
    /** Registers `stop` for the call; the returned function unregisters it. */
    add(callerId: string, id: string | number, stop: () => void): () => void {
      const key = keyOf(callerId, id);
      let set = calls.get(key);
      if (set === undefined) {
        set = new Set();
        calls.set(key, set);
      }
      set.add(stop);
      return () => {
        set.delete(stop);
        if (set.size === 0 && calls.get(key) === set) calls.delete(key);
      };
    },
    /** Stops the one call the caller has under this id; says what happened. */
    cancel(callerId: string, id: string | number): "cancelled" | "unknown" | "ambiguous" {
      const set = calls.get(keyOf(callerId, id));
      if (set === undefined || set.size === 0) return "unknown";
      if (set.size > 1) return "ambiguous";
      for (const stop of set) stop();
      return "cancelled";
    },
  };
}

/** The id a JSON-RPC message names when it is a `notifications/cancelled`, else undefined. */
export function cancelledRequestId(message: unknown): string | number | undefined {
  const m = message as { method?: unknown; params?: { requestId?: unknown } } | null;
  if (m?.method !== "notifications/cancelled") return undefined;
  const id = m.params?.requestId;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
}

/** The id of a JSON-RPC request (it has a method and an id), else undefined. */
export function requestId(message: unknown): string | number | undefined {
  const m = message as { method?: unknown; id?: unknown } | null;
  if (typeof m?.method !== "string") return undefined;
  return typeof m.id === "string" || typeof m.id === "number" ? m.id : undefined;
}
