/** Requests the console keeps in flight at once for one view (as src/mapBounded.ts bounds the server's fan-outs). */
export const requestsInFlightMax = 6;

export async function mapBounded<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, limit = requestsInFlightMax): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
