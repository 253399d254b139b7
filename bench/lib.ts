/**
 * Tiny benchmark harness: runs an async operation a fixed number of times with a fixed number of
 * concurrent workers, and reports throughput and latency percentiles. Every figure is printed beside
 * a baseline measured in the same run on the same machine, so ratios stay meaningful across machines.
 */
export interface Stats {
  name: string;
  ops: number;
  concurrency: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export async function measure(
  name: string,
  opts: { ops: number; concurrency: number; warmup?: number },
  op: (i: number) => Promise<unknown>,
): Promise<Stats> {
  for (let i = 0; i < (opts.warmup ?? Math.min(20, opts.ops)); i++) await op(-1 - i);
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.ops) return;
      const t = performance.now();
      try {
        await op(i);
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    ops: opts.ops,
    concurrency: opts.concurrency,
    errors,
    seconds,
    perSecond: opts.ops / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** Prints a measured figure and its baseline side by side, with the ratios. */
export function printComparison(rows: { subject: Stats; baseline: Stats }[]): void {
  console.log(
    [
      'subject',
      'conc',
      'ops/s',
      'p50 ms',
      'p99 ms',
      'errors',
      '| baseline',
      'ops/s',
      'p50 ms',
      'p99 ms',
      '| thrpt ratio',
      'p50 ratio',
    ].join('\t'),
  );
  for (const { subject: s, baseline: b } of rows) {
    console.log(
      [
        s.name,
        s.concurrency,
        fmt(s.perSecond),
        fmt(s.p50, 2),
        fmt(s.p99, 2),
        s.errors,
        `| ${b.name}`,
        fmt(b.perSecond),
        fmt(b.p50, 2),
        fmt(b.p99, 2),
        `| ${fmt(s.perSecond / b.perSecond, 2)}`,
        fmt(s.p50 / b.p50, 2),
      ].join('\t'),
    );
  }
}

/** Puts items with BatchWriteItem, 25 at a time, into the environment's table (bench fixtures: no audit, no events). */
export async function batchPut(items: Record<string, unknown>[]): Promise<void> {
  const { BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const { ddb } = await import('#shared/clients.ts');
  const { env } = await import('#shared/env.ts');
  for (let i = 0; i < items.length; i += 25) {
    await ddb().send(
      new BatchWriteCommand({
        RequestItems: { [env.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}
