/**
 * Hot wallets over HTTP (issue 13): a burst of 40 transfers out of ONE client's wallet (funded for 33)
 * against a burst of 40 transfers out of 40 different clients' wallets, both through the local
 * gateway (POST /v1/transfers with a signed-in client's token), measured in the same run, round by
 * round, first on a quiet machine and then with CPU hogs loading every core.
 *
 * Reported per condition (medians over the rounds): throughput (requests / wall time of the burst),
 * p50 and p99 latency per request, the contended/uncontended throughput ratio, and the outcomes. The
 * contended burst must answer exactly 33 x 201 and 7 x 422 insufficient_funds and leave the wallet at
 * exactly zero; anything else is printed as a failure and fails the run.
 * Transfers are USD -> EUR between the client's own wallets (the only client transfer), so both bursts
 * go through the same FX position accounts; setup (registration, sign-in, funding) is not timed.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { registerClient } from '#app/identity/register-client.ts';
import { transferJournal } from '#domain/ledger/index.ts';
import { DEMO_PASSWORD } from '#local/seed.ts';
import { systemActor } from '#store/audit.ts';
import { ensureWallet, getBalance, houseAccount } from '#store/ledger/accounts.ts';
import { newJournalId, postJournal } from '#store/ledger/journals.ts';
import { percentile } from '../lib.ts';

const BURST = 40;
const FUNDED_FOR = 33;
const WARMUP_BURSTS = Number(process.env.BENCH_BURST_WARMUP ?? 3);
const actor = systemActor('bench');

interface Burst {
  wallMs: number;
  latencies: number[];
  outcomes: Map<string, number>;
}

interface Client {
  clientId: string;
  token: string;
}

async function newClient(apiUrl: string, tag: string): Promise<Client> {
  const email = `burst-${tag}-${randomUUID().slice(0, 8)}@bench.test`;
  const { clientId } = await registerClient(
    {
      email,
      password: DEMO_PASSWORD,
      firstName: 'Bench',
      lastName: 'Client',
      dateOfBirth: '1990-04-12',
      countryOfResidence: 'DE',
      clientType: 'retail',
      locale: 'en',
    },
    { requestId: 'bench', locale: 'en' },
  );
  const res = await fetch(`${apiUrl}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: DEMO_PASSWORD }),
  });
  const body = (await res.json()) as { idToken?: string };
  if (res.status !== 200 || !body.idToken) throw new Error(`bench sign-in failed: ${res.status} ${JSON.stringify(body)}`);
  await Promise.all([
    ensureWallet(clientId, 'USD', { actor, requestId: 'bench' }),
    ensureWallet(clientId, 'EUR', { actor, requestId: 'bench' }),
  ]);
  return { clientId, token: body.idToken };
}

/** Deposits `cents` into the client's USD wallet (straight to the ledger: setup, not measured). */
async function fund(clientId: string, cents: bigint): Promise<void> {
  const [psp, wallet] = await Promise.all([
    houseAccount('psp_clearing', 'USD'),
    ensureWallet(clientId, 'USD', { actor, requestId: 'bench' }),
  ]);
  const journalId = newJournalId();
  await postJournal({
    draft: transferJournal({ journalId, from: psp, to: wallet, amount: { amount: cents, currency: 'USD' }, type: 'deposit' }),
    idempotency: { scope: 'bench', key: journalId, requestHash: journalId },
    actor,
    requestId: 'bench',
  });
}

async function transfer(apiUrl: string, c: Client): Promise<{ ms: number; outcome: string }> {
  const started = performance.now();
  const res = await fetch(`${apiUrl}/v1/transfers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}`, 'idempotency-key': randomUUID() },
    body: JSON.stringify({
      fromWalletId: `wal_${c.clientId}_USD`,
      toWalletId: `wal_${c.clientId}_EUR`,
      amount: { amount: '1.00', currency: 'USD' },
    }),
  });
  const body = (await res.json().catch(() => ({}))) as { code?: string };
  const ms = performance.now() - started;
  return { ms, outcome: res.status === 201 ? '201 posted' : `${res.status} ${body.code ?? ''}`.trim() };
}

async function burst(apiUrl: string, clients: Client[]): Promise<Burst> {
  const started = performance.now();
  const results = await Promise.all(clients.map((c) => transfer(apiUrl, c)));
  const wallMs = performance.now() - started;
  const outcomes = new Map<string, number>();
  for (const r of results) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
  return { wallMs, latencies: results.map((r) => r.ms), outcomes };
}

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** Busy loops, one per core, in child processes: "another process loading the machine". */
function cpuHogs(n: number) {
  const code = 'const until = Date.now() + 15 * 60_000; while (Date.now() < until) { Math.sqrt(Math.random()); }';
  const kids = Array.from({ length: n }, () => fork('-e', [], { execArgv: ['-e', code], stdio: 'ignore' }));
  return () => {
    for (const k of kids) k.kill('SIGKILL');
  };
}

interface Row {
  condition: string;
  uncontended: { opsPerSec: number; p50: number; p99: number };
  contended: { opsPerSec: number; p50: number; p99: number };
  ratio: number;
  outcomes: string;
  failures: string[];
}

async function measureCondition(apiUrl: string, condition: string, rounds: number): Promise<Row> {
  const many = await Promise.all(Array.from({ length: BURST }, (_, i) => newClient(apiUrl, `u${i}`)));
  for (const c of many) await fund(c.clientId, 100n * BigInt(rounds + WARMUP_BURSTS + 1));
  const hot = await newClient(apiUrl, 'hot');
  // warm-up (not measured): WARMUP_BURSTS uncontended and contended bursts, so cold module loads and both
  // JITs' compilations (node's and DynamoDB Local's JVM, which takes several seconds of load to reach its
  // optimised code) are not in the figures of whichever condition runs first
  for (let w = 0; w < WARMUP_BURSTS; w++) {
    await burst(apiUrl, many);
    await fund(hot.clientId, 100n * BigInt(BURST));
    await burst(
      apiUrl,
      Array.from({ length: BURST }, () => hot),
    );
  }

  const un: Burst[] = [];
  const con: Burst[] = [];
  const failures: string[] = [];
  for (let r = 0; r < rounds; r++) {
    un.push(await burst(apiUrl, many));
    await fund(hot.clientId, 100n * BigInt(FUNDED_FOR));
    const b = await burst(
      apiUrl,
      Array.from({ length: BURST }, () => hot),
    );
    con.push(b);
    const posted = b.outcomes.get('201 posted') ?? 0;
    const refused = b.outcomes.get('422 insufficient_funds') ?? 0;
    const balance = await getBalance(`wal_${hot.clientId}_USD`);
    if (posted !== FUNDED_FOR || refused !== BURST - FUNDED_FOR || balance.ledger !== 0n || balance.held !== 0n) {
      failures.push(`round ${r + 1}: ${JSON.stringify([...b.outcomes])}, wallet ${balance.ledger} held ${balance.held}`);
    }
    for (const o of un.at(-1)!.outcomes.keys()) if (o !== '201 posted') failures.push(`round ${r + 1} uncontended: ${o}`);
  }
  const summary = (bs: Burst[]) => {
    const all = bs.flatMap((b) => b.latencies).sort((a, b) => a - b);
    return {
      opsPerSec: median(bs.map((b) => (BURST * 1000) / b.wallMs)),
      p50: percentile(all, 50),
      p99: percentile(all, 99),
    };
  };
  const u = summary(un);
  const c = summary(con);
  const outcomes = new Map<string, number>();
  for (const b of con) for (const [k, v] of b.outcomes) outcomes.set(k, (outcomes.get(k) ?? 0) + v);
  return {
    condition,
    uncontended: u,
    contended: c,
    ratio: c.opsPerSec / u.opsPerSec,
    outcomes: [...outcomes].map(([k, v]) => `${v} x ${k}`).join(', '),
    failures,
  };
}

export async function walletBurstSuite(opts: { apiUrl: string }): Promise<Row[]> {
  const rounds = Number(process.env.BENCH_BURST_ROUNDS ?? 5);
  const rows: Row[] = [];
  rows.push(await measureCondition(opts.apiUrl, 'quiet machine', rounds));
  const stop = cpuHogs(Number(process.env.BENCH_CPU_HOGS ?? 2));
  try {
    rows.push(await measureCondition(opts.apiUrl, 'CPU hogs on every core', rounds));
  } finally {
    stop();
  }
  const f = (n: number) => n.toFixed(1);
  const ms = (n: number) => `${Math.round(n)}`;
  console.log(
    `\n## ledger: hot wallet over HTTP, ${BURST} transfers at once, ${rounds} rounds (medians): one wallet funded for ${FUNDED_FOR} vs ${BURST} wallets`,
  );
  console.log(
    '| condition | uncontended ops/s | p50 ms | p99 ms | one wallet ops/s | p50 ms | p99 ms | throughput ratio | one-wallet outcomes |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.condition} | ${f(r.uncontended.opsPerSec)} | ${ms(r.uncontended.p50)} | ${ms(r.uncontended.p99)} | ${f(r.contended.opsPerSec)} | ${ms(r.contended.p50)} | ${ms(r.contended.p99)} | ${r.ratio.toFixed(2)} | ${r.outcomes} |`,
    );
  }
  const failures = rows.flatMap((r) => r.failures.map((x) => `${r.condition}: ${x}`));
  if (failures.length > 0) {
    console.log(`\nFAILED: ${failures.join('\n        ')}`);
    process.exitCode = 1;
  }
  return rows;
}
