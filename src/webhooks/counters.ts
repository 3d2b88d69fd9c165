/** The counts of one URL, as `/metrics` shows them. */
export interface EndpointCounts {
  /** Events the URL answered with a 2xx. */
  ok: number;
  /** Attempts that failed (non-2xx, redirect, network error, timeout); each is retried. */
  failed: number;
  /** Events given up: the queue was full, or shutdown came first. */
  dropped: number;
  /** Events waiting now, in flight included. */
  queued: number;
}

const FIELDS = ["ok", "failed", "dropped", "queued"] as const;
type Field = (typeof FIELDS)[number];

/**
 * Each URL's counts in shared memory: the delivery thread writes them, the engine's thread reads
 * them for `/metrics` without a message round trip. 64-bit cells, so a counter never wraps.
 */
export class SharedCounts {
  readonly cells: BigInt64Array;

  constructor(endpoints: number, buffer?: SharedArrayBuffer) {
    this.cells = new BigInt64Array(
      buffer ?? new SharedArrayBuffer(endpoints * FIELDS.length * BigInt64Array.BYTES_PER_ELEMENT),
    );
  }

  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }

  add(endpoint: number, field: Exclude<Field, "queued">, by = 1): void {
    Atomics.add(this.cells, endpoint * FIELDS.length + FIELDS.indexOf(field), BigInt(by));
  }

  setQueued(endpoint: number, queued: number): void {
    Atomics.store(this.cells, endpoint * FIELDS.length + 3, BigInt(queued));
  }

  read(endpoint: number): EndpointCounts {
    const at = (i: number) => Number(Atomics.load(this.cells, endpoint * FIELDS.length + i));
    return { ok: at(0), failed: at(1), dropped: at(2), queued: at(3) };
  }
}
