import type { Loaded } from './command-handler.ts';

/**
 * Folded stream states by stream id, least recently used evicted first. States are immutable
 * (evolve returns new objects), so an entry can be shared by concurrent commands. A command may
 * decide on an entry without reading the stream, but never blindly: its append checks the
 * version of every stream it decided on (core/eventing/command-handler.ts).
 */
export type AggregateCache = {
  get: (streamId: string) => Loaded<unknown> | undefined;
  set: (loaded: Loaded<unknown>) => void;
  delete: (streamId: string) => void;
  size: () => number;
};

export function createAggregateCache(maxEntries: number): AggregateCache {
  const entries = new Map<string, Loaded<unknown>>();
  return {
    get(streamId) {
      const entry = entries.get(streamId);
      if (entry === undefined) return undefined;
      entries.delete(streamId);
      entries.set(streamId, entry);
      return entry;
    },
    set(loaded) {
      const existing = entries.get(loaded.streamId);
      // Two commands may load one stream concurrently: never step back to an older version.
      if (existing && existing.version > loaded.version) return;
      entries.delete(loaded.streamId);
      entries.set(loaded.streamId, loaded);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    delete(streamId) {
      entries.delete(streamId);
    },
    size: () => entries.size,
  };
}
