/**
 * `npm run bench [-- suite ...]`: runs the benchmark suites against a local runtime on DynamoDB
 * Local (in memory) and prints medians, p99 and throughput beside baselines measured in the same run.
 * Suites: http, audit, ledger (includes hot-wallet), hot-wallet, kyc, payments, trading, copy, copy-fees, size, synth (default: all but synth, which times `cdk synth` against a
 * baseline commit). Set BENCH_OPS to change the operations per figure; trading: BENCH_TRADING_PARTS (fills,transfers,ingestion),
 * BENCH_DEALS (100000), BENCH_TRANSFER_OPS; copy: BENCH_COPY_FOLLOWERS (2000), BENCH_COPY_POSITIONS (15),
 * BENCH_COPY_FANOUT_RUNS (5); copy-fees: BENCH_COPY_FEE_FOLLOWERS (2000). With the copy or copy-fees suite the local queues
 * run at timeScale 0.1 (see bench/suites/copy.ts). ib (introducing brokers: the commission run, its raw batch-write
 * baseline, replay equality, a payout run; BENCH_IB_PARTNERS 200, BENCH_IB_CLIENTS 10000, BENCH_IB_DEALS 100000,
 * BENCH_IB_CONCURRENCY 16, BENCH_IB_PAYOUTS=0 to skip the payouts) is not in the default set: it takes tens of minutes.
 */
import './env.ts';
import { startRuntime } from '#local/runtime.ts';
import { bundleSizes, printSizes } from './size.ts';
import { auditSuite } from './suites/audit.ts';
import { httpSuite } from './suites/http.ts';
import { ledgerSuite } from './suites/ledger.ts';

const all = ['http', 'audit', 'ledger', 'hot-wallet', 'kyc', 'payments', 'trading', 'copy', 'copy-fees', 'ib', 'size', 'synth'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const suites = wanted.length ? wanted : all.filter((s) => s !== 'synth' && s !== 'hot-wallet' && s !== 'ib');
for (const s of suites) if (!all.includes(s)) throw new Error(`Unknown suite ${s}; choose from ${all.join(', ')}`);

const ops = Number(process.env.BENCH_OPS ?? 600);
const concurrencies = [1, 8, 32];
console.log(`# bench: ${suites.join(', ')} | ${ops} ops per figure | node ${process.version} | ${new Date().toISOString()}`);

const needsRuntime = suites.some((s) => s !== 'size' && s !== 'synth');
const rt = needsRuntime
  ? await startRuntime({
      seed: false,
      schedules: false,
      ...(suites.includes('copy') || suites.includes('copy-fees') ? { timeScale: 0.1 } : {}),
    })
  : undefined;
try {
  if (rt && suites.includes('http')) await httpSuite({ apiUrl: rt.apiUrl, ops, concurrencies });
  if (rt && suites.includes('audit')) await auditSuite({ ops, concurrencies });
  if (rt && suites.includes('ledger')) await ledgerSuite({ ops, concurrencies, settle: () => rt.settle() });
  // the ledger suite includes the hot-wallet burst over HTTP; 'hot-wallet' runs only that part
  if (rt && (suites.includes('ledger') || suites.includes('hot-wallet')))
    await (await import('./suites/wallet-burst.ts')).walletBurstSuite({ apiUrl: rt.apiUrl });
  // Imported after the runtime set the environment (log level, endpoints) its handler modules read at load.
  if (rt && suites.includes('kyc')) await (await import('./suites/kyc.ts')).kycSuite();
  if (rt && suites.includes('payments'))
    await (await import('./suites/payments.ts')).paymentsSuite({ settle: () => rt.settle() });
  if (suites.includes('trading'))
    await (await import('./suites/trading.ts')).tradingSuite({
      ops,
      parts: (process.env.BENCH_TRADING_PARTS ?? 'fills,transfers,ingestion').split(','),
    });
  if (rt && suites.includes('copy')) await (await import('./suites/copy.ts')).copySuite({ rt });
  if (rt && suites.includes('copy-fees')) await (await import('./suites/copy-fees.ts')).copyFeesSuite({ rt });
  if (rt && suites.includes('ib')) await (await import('./suites/ib.ts')).ibSuite({ rt });
  if (suites.includes('size')) printSizes(await bundleSizes());
  if (suites.includes('synth')) await (await import('./suites/synth.ts')).synthSuite();
} finally {
  await rt?.stop();
}
