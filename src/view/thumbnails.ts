import { randomBytes } from "node:crypto";

/** A photo held for the view: the loaded bytes until the thumbnail is made, then only the thumbnail. */
export interface HeldPhoto {
  /** The photo as loaded (dropped once the thumbnail exists). */
  bytes: Uint8Array | undefined;
  /** Clockwise degrees the result says the photo was turned (its best_angle). */
  angle: number;
  /** The thumbnail, once made: later reads of the same handle answer it without decoding again. */
  thumbnail?: Promise<unknown> | undefined;
}

export interface ThumbnailStoreOptions {
  /** Photos held at once, across every caller; the oldest goes first. Default 32. */
  maxEntries?: number;
  /** Bytes held at once, across every caller; the oldest goes first. Default 48 MB (nine 5 MB photos). */
  maxBytes?: number;
  /** How long a handle lives. Default 10 minutes: a view reads it right after the result. */
  ttlMs?: number;
  now?: () => number;
}

/**
 * The photos the verdict view may show, in memory only (never on disk, never logged), each under a random handle that
 * expires. One store per process, since HTTP mode builds a server per request; a handle is found only under the scope
 * (the caller's token id) it was made for, so one caller cannot read another's photo.
 */
export interface ThumbnailStore {
  hold(scope: string, photo: HeldPhoto): string;
  find(scope: string, handle: string): HeldPhoto | undefined;
  /** Bytes held now (for tests and the bound). */
  readonly heldBytes: number;
  readonly size: number;
}

interface Entry {
  photo: HeldPhoto;
  expires: number;
  bytes: number;
}

export function createThumbnailStore(options: ThumbnailStoreOptions = {}): ThumbnailStore {
  const maxEntries = options.maxEntries ?? 32;
  const maxBytes = options.maxBytes ?? 48 * 1024 * 1024;
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  // Insertion order is age order: the first key is the oldest.
  const entries = new Map<string, Entry>();
  let heldBytes = 0;

  const drop = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    heldBytes -= entry.bytes;
    entry.photo.bytes = undefined;
    entry.photo.thumbnail = undefined;
  };
  const sweep = () => {
    const at = now();
    for (const [key, entry] of entries) if (entry.expires <= at) drop(key);
  };
  const keyOf = (scope: string, handle: string) => `${scope}\n${handle}`;

  return {
    hold(scope, photo) {
      sweep();
      const bytes = photo.bytes?.byteLength ?? 0;
      const handle = randomBytes(12).toString("base64url");
      const key = keyOf(scope, handle);
      entries.set(key, { photo, expires: now() + ttlMs, bytes });
      heldBytes += bytes;
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries && heldBytes <= maxBytes) break;
        drop(oldest);
      }
      // Nothing holds the photo past its expiry even when no call comes to sweep; unref'd, so no exit waits on it.
      setTimeout(() => drop(key), ttlMs).unref();
      return handle;
    },
    find(scope, handle) {
      sweep();
      return entries.get(keyOf(scope, handle))?.photo;
    },
    get heldBytes() {
      return heldBytes;
    },
    get size() {
      return entries.size;
    },
  };
}

let processStore: ThumbnailStore | undefined;

/** The process's one store, made on first use. */
export function processThumbnailStore(): ThumbnailStore {
  processStore ??= createThumbnailStore();
  return processStore;
}
