/**
 * Runs `work` on each item, in order, on at most `concurrency` workers: batch and calibrate alike. Once `more()` is
 * false no further item is started; those already running finish.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  more: () => boolean,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (more()) {
      const index = next++;
      if (index >= items.length) return;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
