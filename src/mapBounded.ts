/**
 * Runs `fn` over `items` with at most `limit` calls in flight, and returns the
 * results in item order. Shared by the handlers (partition bounds, ranged
 * reads), maintenance, and the SDK's direct fetch: every fan-out to storage is
 * bounded, so one request never opens a socket per item.
 */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
