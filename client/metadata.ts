/**
 * Topic metadata the producer needs (the partition count, for the key
 * partitioner), cached for `maxAgeMs` like Kafka's metadata.max.age.ms. A
 * produce that meets an unknown partition invalidates the entry.
 */
export class MetadataCache {
  private readonly entries = new Map<string, { partitions: number; at: number }>();
  private readonly loading = new Map<string, Promise<number>>();

  constructor(
    private readonly load: (topic: string) => Promise<number>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  set(topic: string, partitions: number): void {
    this.entries.set(topic, { partitions, at: this.now() });
  }

  delete(topic: string): void {
    this.entries.delete(topic);
  }

  /** The partition count, from the cache when fresh; concurrent misses share one request. */
  async partitions(topic: string): Promise<number> {
    const entry = this.entries.get(topic);
    if (entry && this.now() - entry.at < this.maxAgeMs) return entry.partitions;
    let pending = this.loading.get(topic);
    if (!pending) {
      pending = this.load(topic).then(
        (n) => {
          this.loading.delete(topic);
          this.set(topic, n);
          return n;
        },
        (err: unknown) => {
          this.loading.delete(topic);
          throw err;
        },
      );
      this.loading.set(topic, pending);
    }
    return pending;
  }
}
