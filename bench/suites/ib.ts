/**
 * Introducing brokers (issue 16, part 6 "Benchmarks"), on a table of its own on the runtime's DynamoDB Local (no
 * stream: the runtime's relay and archiver do not compete with the figure; see bench/lib.ts onOwnTable).
 * Sizes: BENCH_IB_PARTNERS (200), BENCH_IB_CLIENTS (10,000), BENCH_IB_DEALS (100,000) closing deals, each with its
 * opening deal; BENCH_IB_CONCURRENCY (16) deals accrued at a time; BENCH_IB_PAYOUTS=0 skips the payout run.
 * - set-up, built with test/support/partners.ts (items through the entities: keys and indexes computed by them, the
 *   deals by ingestion's dealRecord) and written by BatchWriteItem (bench/lib.ts batchWriteAll): a network of 3 tiers
 *   (10 % roots, 30 % tier 1, 60 % tier 2), each partner approved with a link, its parent edge and (roots, some
 *   others) a plan assignment; two plans, one with two versions (the second in effect from mid-period): per_lot by
 *   symbol -> group -> default, spread_share, commission_share, CPA, tier overrides (tier 1 a share of the child's
 *   lines, tier 2 a fixed amount per lot), some partners with their own overrides (per-lot rates, tier overrides,
 *   commission share); qualification: minimum hold 60 s, minimum move 3 points, same price excluded, hedged volume
 *   once. Clients are spread round-robin over every partner (chains of 1, 2 and 3 members), each with a live
 *   account, a link, an attribution and a referral (a first deposit on three in four: CPA for some). Deals: each client's
 *   positions in successive time slots over the 10 days before the run, so only the planned hedges overlap; about
 *   4 % held under the minimum (20-49 s), 3 % closed at the opening price, and 8 % of the slot pairs a hedged pair
 *   (a buy and a sell of the same volume open together: the second close is fully hedged). The rest qualify.
 * - the figure: accrueDealCommissions over every closing deal, BENCH_IB_CONCURRENCY at a time (the partner-events
 *   consumer's use case, as each trading.deal.closed would call it): wall time, deals/s, lines/s, per-deal p50/p99.
 *   A deal that fails is retried once after the run (the consumer's queue would redeliver it) and counted
 * - checked: sampled deals of every kind have the result their kind must give (held_too_short, same_price,
 *   fully_hedged; the others qualified with lines)
 * - the baseline, in the same run, after the figure: a raw BatchWriteItem of as many line items (lineEntity items
 *   copied from stored lines, under other source keys), the same number of writers; ratio = lines/s over lines/s
 * - replay equality: replayAccruals over the whole period must find every deal, 0 mismatches and stored totals equal
 *   to the recomputed ones, and its stored lines plus the CPA lines must be the lines the run wrote. The suite
 *   throws (after printing) when not
 * - the payout run (runPayouts, the daily job's use case) for every partner, one partner on a compliance hold:
 *   every window paid, held or carried forward, and paid + held + carried = every line accrued, exactly; the house
 *   commission_expense account down and the partners' wallets up by exactly what was paid
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { accrueDealCommissions, cpaSource } from '#app/partners/accrue.ts';
import { replayAccruals } from '#app/partners/replay.ts';
import { formatAmount, toMinor } from '#domain/money/index.ts';
import type { PlanOverrides, PlanVersion } from '#domain/partners/plans.ts';
import { jobContext } from '#functions/jobs/runs.ts';
import type { Runtime } from '#local/runtime.ts';
import { ddb } from '#shared/clients.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { partnerKeys } from '#store/keys.ts';
import { getBalance, houseAccountId, walletId } from '#store/ledger/index.ts';
import { lineEntity, lineIdOf, resultEntity, sourceLines } from '#store/partner-accruals.ts';
import { type PayoutItem, partnerPayouts } from '#store/partner-payouts.ts';
import { clientProfile } from '../../test/support/clients.ts';
import {
  type PartnerFixture,
  partnerItems,
  planItems,
  type ReferredClient,
  referredClientItems,
  tradeItems,
} from '../../test/support/partners.ts';
import { batchWriteAll, latencySummary, onOwnTable, pool, printComparison, type Stats } from '../lib.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const USD = 'USD';
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const secs = (ms: number) => `${fmt(ms / 1000)} s`;
const usd = (minor: bigint) => formatAmount(minor, USD);
/** The machine's 1-minute load average (2 cores here: above 2, something else competes with the figure). */
const load = () => `load ${os.loadavg()[0]!.toFixed(1)}`;
/** A deterministic 32-bit mix (Knuth's multiplicative hash, then xorshift): the same sizes give the same data. */
const h = (...xs: number[]) => {
  let v = 0x9e3779b9;
  for (const x of xs) {
    v = Math.imul(v ^ x, 2654435761) >>> 0;
    v ^= v >>> 15;
  }
  return v >>> 0;
};

interface SymbolSpec {
  symbol: string;
  digits: number;
  /** Units of the base per lot. */
  contract: bigint;
  /** Around this price, in points. */
  base: number;
}
const SYMBOLS: SymbolSpec[] = [
  { symbol: 'EURUSD', digits: 5, contract: 100_000n, base: 108_500 }, // per_lot by symbol
  { symbol: 'GBPUSD', digits: 5, contract: 100_000n, base: 127_000 }, // by group (forex)
  { symbol: 'XAUUSD', digits: 2, contract: 100n, base: 235_000 }, // by group (metals)
  { symbol: 'US500', digits: 1, contract: 1n, base: 52_000 }, // the default rate
];
const SYMBOL_OF = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3];
const VOLUMES = [100n, 1_000n, 1_000n, 5_000n, 10_000n, 20_000n]; // 0.01 .. 2 lots

type Kind = 'qualified' | 'short_hold' | 'same_price' | 'hedge_first' | 'hedged';
const EXPECTED_REASON: Record<Kind, string | null> = {
  qualified: null,
  hedge_first: null,
  short_hold: 'held_too_short',
  same_price: 'same_price',
  hedged: 'fully_hedged',
};

const QUALIFICATION = { minHoldSeconds: 60, minMovePoints: 3, excludeSamePrice: true, hedgedOnce: true };
const SYMBOL_GROUPS = { EURUSD: 'forex', GBPUSD: 'forex', XAUUSD: 'metals' };

function plans(t0: number, mid: number): PlanVersion[] {
  const standard = (version: number, effectiveFrom: number, eurusd: string, childShareBps: number): PlanVersion => ({
    planId: 'bench-standard',
    version,
    name: 'Bench standard',
    currency: USD,
    effectiveFrom: new Date(effectiveFrom).toISOString(),
    rules: {
      perLot: { default: '2.00', symbols: { EURUSD: eurusd }, groups: { forex: '4.00', metals: '6.00' } },
      spreadShare: { markupPoints: { default: 5, symbols: { EURUSD: 3 }, groups: { forex: 4, metals: 20 } }, shareBps: 2_500 },
      commissionShare: { shareBps: 1_000 },
      cpa: { amount: '25.00', minFirstDeposit: '100.00', depositWithinDays: 30, minLots: '0.50', lotsWithinDays: 30 },
      tierOverrides: [
        { tier: 1, childShareBps },
        { tier: 2, perLot: '0.50' },
      ],
      symbolGroups: SYMBOL_GROUPS,
    },
    qualification: QUALIFICATION,
  });
  return [
    standard(1, t0, '5.00', 2_000),
    standard(2, mid, '5.50', 2_500),
    {
      planId: 'bench-vip',
      version: 1,
      name: 'Bench VIP',
      currency: USD,
      effectiveFrom: new Date(t0).toISOString(),
      rules: {
        perLot: { default: '3.00', symbols: { XAUUSD: '8.00' }, groups: { forex: '6.00' } },
        spreadShare: { markupPoints: { default: 4, symbols: {}, groups: { forex: 5 } }, shareBps: 3_000 },
        commissionShare: { shareBps: 1_500 },
        tierOverrides: [
          { tier: 1, perLot: '1.00' },
          { tier: 2, childShareBps: 1_000 },
        ],
        symbolGroups: SYMBOL_GROUPS,
      },
      qualification: { ...QUALIFICATION, minHoldSeconds: 120 },
    },
  ];
}

interface Network {
  partners: (PartnerFixture & { tier: number })[];
  items: object[];
}

/** The tree (test/support/partners.ts builders): 10 % roots, 30 % tier 1 under them, the rest tier 2 under those. */
function network(n: number, t0: string, at: string): Network {
  const roots = Math.max(1, Math.round(n * 0.1));
  const tier1 = Math.min(n - roots, Math.max(n > 1 ? 1 : 0, Math.round(n * 0.3)));
  const partners: Network['partners'] = [];
  const items: object[] = [];
  for (let i = 0; i < n; i++) {
    const tier = i < roots ? 0 : i < roots + tier1 ? 1 : 2;
    const parent =
      tier === 0 ? undefined : tier === 1 ? partners[(i - roots) % roots]! : partners[roots + ((i - roots - tier1) % tier1)]!;
    // roots name a plan (one in four the VIP one); every third tier-1 and fifth tier-2 partner has its own rates
    const own: { planId?: string; overrides?: PlanOverrides } =
      tier === 0
        ? { planId: i % 4 === 3 ? 'bench-vip' : 'bench-standard' }
        : tier === 1 && i % 3 === 0
          ? {
              overrides: {
                perLot: { symbols: { XAUUSD: '7.00' } },
                tierOverrides: [
                  { tier: 1, perLot: '1.25' },
                  { tier: 2, perLot: '0.50' },
                ],
              },
            }
          : tier === 2 && i % 5 === 0
            ? { overrides: { commissionShare: { shareBps: 1_500 } } }
            : {};
    const built = partnerItems(
      {
        parentId: parent?.partnerId ?? null,
        parentPath: parent?.path ?? [],
        ...own,
        from: t0,
        schedule: 'daily',
        name: `Bench partner ${i} (tier ${tier})`,
      },
      at,
    );
    // the last partner is under compliance review: its payout is held
    const held = i === n - 1 && n > 2;
    items.push(
      ...built.items.map((item) =>
        held && item.type === 'partner' ? { ...item, hold: { reason: 'KYC refresh under review', by: 'staff-bench', at } } : item,
      ),
    );
    partners.push({ ...built.partner, tier });
  }
  return { partners, items };
}

interface DealPlan {
  kind: Kind;
  symbol: SymbolSpec;
  side: 'buy' | 'sell';
  volume: bigint;
  openMs: number;
  closeMs: number;
  openPoints: number;
  closePoints: number;
}

/** Closing deal j (client j % clients, its slot j / clients): what it is and when. */
function dealPlan(j: number, clients: number, deals: number, t0: number, slotMs: number): DealPlan {
  const c = j % clients;
  const s = Math.floor(j / clients);
  const pair = Math.floor(s / 2);
  const pairStart = t0 + HOUR + 2 * pair * slotMs;
  const hedgedPair = h(c, pair, 7) % 100 < 8 && c + (2 * pair + 1) * clients < deals;
  if (hedgedPair) {
    // the first leg's plan, shared by both legs; the second opens 5 s later on the other side, closes 5 s later
    const a = c + 2 * pair * clients;
    const r = h(a, 1);
    const symbol = SYMBOLS[SYMBOL_OF[r % 10]!]!;
    const volume = VOLUMES[h(a, 2) % VOLUMES.length]!;
    const openPoints = symbol.base + (h(a, 3) % 2_000) - 1_000;
    const hold = 10 * 60_000 + (h(a, 4) % (4 * 60)) * 60_000; // 10 min .. 4 h
    const move = 5 + (h(a, 5) % 400);
    const first = s % 2 === 0;
    const side = (h(a, 6) % 2 === 0) === first ? 'buy' : 'sell';
    const up = h(a, 8) % 2 === 0;
    return {
      kind: first ? 'hedge_first' : 'hedged',
      symbol,
      side,
      volume,
      openMs: pairStart + (first ? 0 : 5_000),
      closeMs: pairStart + hold + (first ? 0 : 5_000),
      openPoints: openPoints + (first ? 0 : 2),
      closePoints: openPoints + (up ? move : -move),
    };
  }
  const r = h(j, 1);
  const symbol = SYMBOLS[SYMBOL_OF[r % 10]!]!;
  const bucket = h(j, 9) % 100;
  const kind: Kind = bucket < 4 ? 'short_hold' : bucket < 7 ? 'same_price' : 'qualified';
  const openMs = t0 + HOUR + s * slotMs + (h(j, 10) % Math.max(1, Math.floor(slotMs / 4)));
  const hold =
    kind === 'short_hold' ? 20_000 + (h(j, 11) % 30) * 1_000 : 5 * 60_000 + (h(j, 12) % Math.floor(slotMs / 2 / 60_000)) * 60_000;
  const openPoints = symbol.base + (h(j, 13) % 2_000) - 1_000;
  const move = kind === 'same_price' ? 0 : (5 + (h(j, 14) % 400)) * (h(j, 15) % 2 === 0 ? 1 : -1);
  return {
    kind,
    symbol,
    side: h(j, 16) % 2 === 0 ? 'buy' : 'sell',
    volume: VOLUMES[h(j, 17) % VOLUMES.length]!,
    openMs,
    closeMs: openMs + hold,
    openPoints,
    closePoints: openPoints + move,
  };
}

/** Minor units of USD for `volume` units of `symbol` at `points` (USD-quoted symbols: contract x price). */
const notional = (s: SymbolSpec, volume: bigint, points: number) =>
  (volume * s.contract * BigInt(points) * 100n) / (10_000n * 10n ** BigInt(s.digits));

/** Counts the requests sent through the shared DocumentClient, by command, until stop(). */
function countRequests(): { stop(): Map<string, number> } {
  const counts = new Map<string, number>();
  const name = `bench-ib-count-${randomUUID().slice(0, 8)}`;
  ddb().middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName ?? '?', (counts.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    stop() {
      ddb().middlewareStack.remove(name);
      return counts;
    },
  };
}

export async function ibSuite(_opts: { rt: Runtime }): Promise<void> {
  await onOwnTable('bench-ib', run, { stream: false });
}

async function run(): Promise<void> {
  const P = Number(process.env.BENCH_IB_PARTNERS ?? 200);
  const C = Number(process.env.BENCH_IB_CLIENTS ?? 10_000);
  const D = Number(process.env.BENCH_IB_DEALS ?? 100_000);
  const conc = Number(process.env.BENCH_IB_CONCURRENCY ?? 16);
  const withPayouts = process.env.BENCH_IB_PAYOUTS !== '0';
  if (!(P >= 1 && C >= 1 && D >= 1 && conc >= 1)) throw new Error('bench ib: sizes must be positive');
  const tag = randomUUID().slice(0, 8);
  const server = `bench-ib-${tag}`;
  const ctx = { requestId: `bench-ib-${tag}`, locale: 'en' };
  const NOW = Math.floor(Date.now() / 1000) * 1000;
  const T0 = NOW - 10 * DAY;
  const t0iso = new Date(T0).toISOString();
  const MID = T0 + 5 * DAY; // the standard plan's second version is in effect from here
  const at = new Date(NOW).toISOString();
  const slots = Math.ceil(D / C);
  const slotMs = Math.floor((NOW - T0 - 2 * HOUR) / (slots + (slots % 2)));
  console.log(
    `# ib: ${P} partners, ${C} clients, ${D} closing deals (+ ${D} opening deals), ${conc} at a time; table of its own, no stream`,
  );

  // --- set-up -----------------------------------------------------------------------------------------------------
  const tSetup = performance.now();
  const net = network(P, t0iso, at);
  const planItemsOf = plans(T0, MID).flatMap((v) => planItems(v, at).items);
  // each partner is a client of the broker with KYC approved (payouts wait for it)
  const profiles = net.partners.map((p) => clientProfile({ clientId: p.clientId, kycStatus: 'approved' }, at));
  await batchWriteAll([...net.items, ...planItemsOf, ...profiles], { concurrency: 4 });
  const clients: ReferredClient[] = [];
  for (let from = 0; from < C; from += 2_000) {
    const items: object[] = [];
    for (let k = from; k < Math.min(C, from + 2_000); k++) {
      const built = referredClientItems(
        { partnerId: net.partners[k % P]!.partnerId, registeredAt: t0iso, server, campaign: `c${k % 3}` },
        at,
      );
      // a first deposit on three clients in four (one of them under the CPA's minimum)
      const amount = k % 4 === 0 ? undefined : k % 4 === 1 ? '5000' : String(15_000 + (k % 50) * 1_000);
      const firstDeposit = amount ? { amount, currency: USD, at: new Date(T0 + DAY).toISOString() } : undefined;
      items.push(...built.items.map((i) => (firstDeposit && i.type === 'partner-referral' ? { ...i, firstDeposit } : i)));
      clients.push(built.client);
    }
    await batchWriteAll(items, { concurrency: 4 });
  }
  const tDeals = performance.now();
  const kinds = new Map<Kind, number[]>();
  const dealKeys: string[] = new Array(D);
  for (let from = 0; from < D; from += 5_000) {
    const items: object[] = [];
    for (let j = from; j < Math.min(D, from + 5_000); j++) {
      const p = dealPlan(j, C, D, T0, slotMs);
      const list = kinds.get(p.kind) ?? [];
      list.push(j);
      kinds.set(p.kind, list);
      const trade = tradeItems(
        clients[j % C]!,
        {
          side: p.side,
          symbol: p.symbol.symbol,
          digits: p.symbol.digits,
          volume: p.volume,
          openPrice: BigInt(p.openPoints),
          closePrice: BigInt(p.closePoints),
          openAt: p.openMs,
          closeAt: p.closeMs,
          notional: notional(p.symbol, p.volume, p.closePoints),
        },
        at,
      );
      dealKeys[j] = trade.dealKey;
      items.push(trade.open!, trade.close);
    }
    await batchWriteAll(items, { concurrency: 4 });
  }
  const setupMs = performance.now() - tSetup;
  const count = (k: Kind) => kinds.get(k)?.length ?? 0;
  console.log(
    `# ib: set up in ${secs(setupMs)} (deals ${secs(performance.now() - tDeals)}): ${P} partners (tiers ${[0, 1, 2].map((t) => net.partners.filter((p) => p.tier === t).length).join('/')}), ${C} clients, ${2 * D} deal items; closing deals by kind: qualified ${count('qualified')} + hedge first legs ${count('hedge_first')}, held too short ${count('short_hold')}, same price ${count('same_price')}, fully hedged second legs ${count('hedged')}`,
  );

  // --- the figure: the commission run -------------------------------------------------------------------------------
  const dealKey = (j: number) => dealKeys[j]!;
  const order = Array.from({ length: D }, (_, j) => j); // client-major round robin: one client's deals far apart
  const outcomes = new Map<string, number>();
  const latencies: number[] = [];
  const failed: { j: number; error: string }[] = [];
  let lines = 0;
  let done = 0;
  const step = Math.max(1, Math.ceil(D / 10));
  const loadAtStart = load();
  const requests = countRequests();
  const tRun = performance.now();
  await pool(order, conc, async (j) => {
    const t = performance.now();
    try {
      const r = await accrueDealCommissions(dealKey(j), ctx);
      outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      lines += r.lines;
    } catch (err) {
      failed.push({ j, error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 200) });
    }
    latencies.push(performance.now() - t);
    done += 1;
    if (done % step === 0 && done < D) {
      const el = performance.now() - tRun;
      console.log(`# ib: accrued ${done}/${D} in ${secs(el)} (${fmt(done / (el / 1000))} deals/s, ${lines} lines; ${load()})`);
    }
  });
  const runMs = performance.now() - tRun;
  const perDeal = requests.stop();
  const retried: { j: number; error: string }[] = [];
  for (const f of failed) {
    try {
      const r = await accrueDealCommissions(dealKey(f.j), ctx);
      outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      lines += r.lines;
    } catch (err) {
      retried.push({ j: f.j, error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 200) });
    }
  }
  const lat = latencySummary(latencies);
  const subject: Stats = {
    name: 'accrueDealCommissions (lines/s)',
    ops: lines,
    concurrency: conc,
    errors: failed.length,
    seconds: runMs / 1000,
    perSecond: lines / (runMs / 1000),
    p50: lat.p50,
    p99: lat.p99,
  };
  console.log(
    `commission run (${loadAtStart} at its start, ${load()} at its end): ${D} deals in ${secs(runMs)}\t${fmt(D / (runMs / 1000))} deals/s\t${lines} lines, ${fmt(subject.perSecond)} lines/s\tper deal p50 ${fmt(lat.p50, 1)} ms p99 ${fmt(lat.p99, 1)} ms mean ${fmt(lat.mean, 1)} ms\toutcomes ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}\tfailed ${failed.length} (after one retry: ${retried.length})`,
  );
  console.log(
    `DynamoDB requests per deal: ${[...perDeal]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k.replace(/Command$/, '')} ${fmt(v / D, 2)}`)
      .join(', ')} (${fmt([...perDeal.values()].reduce((a, b) => a + b, 0) / D, 1)} in all)`,
  );
  for (const f of [...failed.slice(0, 5)]) console.log(`  failed: ${dealKey(f.j)}: ${f.error}`);

  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < 30) problems.push(p);
  };
  if (retried.length > 0) problem(`${retried.length} deals failed twice (first: ${retried[0]!.error})`);

  // --- every kind gave what it must (a sample of each) ---------------------------------------------------------------
  const sampled = new Map<Kind, { n: number; ok: number }>();
  const priced = new Map<string, number>(); // plan versions the sampled results name, per chain member
  for (const [kind, js] of kinds) {
    const sample = js.filter((_, i) => i % Math.max(1, Math.floor(js.length / 200)) === 0).slice(0, 200);
    const tally = { n: sample.length, ok: 0 };
    sampled.set(kind, tally);
    await pool(sample, 16, async (j) => {
      const r = await resultEntity.get(partnerKeys.result(dealKey(j)));
      const own = r?.chain[0];
      for (const m of r?.chain ?? []) {
        priced.set(`${m.planId} v${m.planVersion}`, (priced.get(`${m.planId} v${m.planVersion}`) ?? 0) + 1);
        // the standard plan's second version prices from mid-period on, the first before
        if (m.planId === 'bench-standard' && m.planVersion !== (r!.dealTimeMsc >= MID ? 2 : 1)) {
          problem(
            `${dealKey(j)}: ${m.partnerId} priced with bench-standard v${m.planVersion} at ${new Date(r!.dealTimeMsc).toISOString()}`,
          );
        }
      }
      const want = EXPECTED_REASON[kind];
      const good = want
        ? own && !own.qualified && own.reasons.some((x) => x.code === want) && r.lines === 0
        : own?.qualified === true && r!.lines > 0;
      if (good) tally.ok += 1;
      else
        problem(
          `${dealKey(j)} (${kind}): ${JSON.stringify(own?.reasons ?? r?.reasons ?? 'no result').slice(0, 160)}, lines ${r?.lines}`,
        );
    });
  }
  console.log(
    `qualification (sampled results): ${[...sampled].map(([k, v]) => `${k} ${v.ok}/${v.n}${EXPECTED_REASON[k] ? ` ${EXPECTED_REASON[k]}` : ' qualified'}`).join(', ')}\tplan versions priced (chain members of the sample): ${[
      ...priced,
    ]
      .sort()
      .map(([k, v]) => `${k} x ${v}`)
      .join(', ')}`,
  );

  // --- the baseline: a raw BatchWriteItem of as many line items ------------------------------------------------------
  const templates: ReturnType<typeof lineEntity.item>[] = [];
  for (const j of kinds.get('qualified')?.slice(0, 64) ?? []) {
    templates.push(...(await sourceLines(dealKey(j))).lines);
  }
  const rawSource = (i: number) => `mt5#${server}-raw#${i}`;
  const rawItems = templates.length
    ? Array.from({ length: lines }, (_, i) => {
        const tpl = templates[i % templates.length]!;
        const sk = rawSource(i);
        return lineEntity.item(
          {
            lineId: lineIdOf(sk, `${tpl.partnerId}-raw`, tpl.rule, 0),
            sourceKey: sk,
            kind: tpl.kind,
            seq: 0,
            // other partners and clients: the payout run below must not see them
            partnerId: `${tpl.partnerId}-raw`,
            tier: tpl.tier,
            rule: tpl.rule,
            amount: tpl.amount,
            currency: tpl.currency,
            rate: tpl.rate,
            inputs: tpl.inputs,
            planId: tpl.planId,
            planVersion: tpl.planVersion,
            clientId: `${tpl.clientId}-raw`,
            ...(tpl.accountId ? { accountId: tpl.accountId } : {}),
            dealTimeMsc: tpl.dealTimeMsc,
            accruedAt: at,
          },
          at,
        );
      })
    : [];
  const tRaw = performance.now();
  const callMs = await batchWriteAll(rawItems, { concurrency: conc });
  const rawMs = performance.now() - tRaw;
  const rawLat = latencySummary(callMs);
  const baseline: Stats = {
    name: 'raw BatchWriteItem of line items (lines/s; latency per 25-item call)',
    ops: rawItems.length,
    concurrency: conc,
    errors: 0,
    seconds: rawMs / 1000,
    perSecond: rawItems.length / (rawMs / 1000),
    p50: rawLat.p50,
    p99: rawLat.p99,
  };
  rawItems.length = 0;
  console.log(`\n## IB commission run (per deal) vs a raw batch write of the same number of lines`);
  printComparison([{ subject, baseline }]);
  console.log(
    `baseline: ${baseline.ops} lines in ${secs(rawMs)} (${fmt(baseline.perSecond)} lines/s, ${conc} writers)\t| run/baseline throughput ratio ${fmt(subject.perSecond / baseline.perSecond, 3)} (the run takes ${fmt(runMs / rawMs, 1)}x the time of its lines alone)`,
  );

  // --- replay equality ----------------------------------------------------------------------------------------------
  const tReplay = performance.now();
  const replay = await replayAccruals({ from: t0iso, to: new Date(NOW).toISOString() });
  const replayMs = performance.now() - tReplay;
  let cpaLines = 0;
  let cpaTotal = 0n;
  await pool(
    Array.from({ length: C }, (_, k) => k),
    16,
    async (k) => {
      for (const l of (await sourceLines(cpaSource(clients[k]!.clientId))).lines) {
        cpaLines += 1;
        cpaTotal += BigInt(l.amount);
      }
    },
  );
  const totals = replay.totals.map((t) => `${t.currency} stored ${t.stored} expected ${t.expected}`).join('; ');
  console.log(
    `replay ${replay.from} .. ${replay.to} (${load()}): ${secs(replayMs)} (${fmt(replay.deals / (replayMs / 1000))} deals/s)\tpartners ${replay.partners}, clients ${replay.clients}, deals ${replay.deals}, lines ${replay.lines}\ttotals: ${totals}\tmismatches ${replay.failed}\t(+ CPA lines ${cpaLines}, ${usd(cpaTotal)} USD, not part of a deal's replay)`,
  );
  for (const m of replay.mismatches.slice(0, 5)) console.log(`  mismatch: ${JSON.stringify(m)}`);
  if (replay.failed !== 0) problem(`replay: ${replay.failed} mismatches`);
  if (replay.totals.some((t) => t.stored !== t.expected)) problem(`replay totals differ: ${totals}`);
  if (replay.totals.length === 0) problem('replay: no totals');
  if (replay.deals !== D) problem(`replay saw ${replay.deals} deals of ${D}`);
  if (replay.clients !== C || replay.partners !== P) problem(`replay saw ${replay.partners} partners, ${replay.clients} clients`);
  if (replay.lines + cpaLines !== lines) problem(`replay's stored lines ${replay.lines} + CPA ${cpaLines} != the run's ${lines}`);

  // --- the payout run -----------------------------------------------------------------------------------------------
  if (withPayouts) {
    const cfg = tenantConfig();
    const runAt = new Date(Date.now() + (cfg.partners.payoutSafetySeconds + 60) * 1000); // every line inside the window
    const tPay = performance.now();
    const { runPayouts } = await import('#app/partners/payouts.ts');
    const summary = await runPayouts({ now: runAt }, jobContext(`bench-ib-payouts-${tag}`));
    const payMs = performance.now() - tPay;
    const payouts: PayoutItem[] = [];
    await pool(net.partners, 16, async (p) => {
      let cursor: string | undefined;
      do {
        const page = await partnerPayouts(p.partnerId, { limit: 100, cursor });
        payouts.push(...page.items);
        cursor = page.hasMore ? page.nextCursor : undefined;
      } while (cursor);
    });
    const sum = (s: string) => payouts.filter((x) => x.status === s).reduce((a, x) => a + BigInt(x.amount), 0n);
    const [paid, held, carried] = [sum('paid'), sum('held'), sum('below_minimum')];
    const payoutLines = payouts.reduce((a, x) => a + x.lines, 0);
    const stored = replay.totals.reduce((a, t) => a + toMinor(t.stored, t.currency), 0n);
    const allLines = stored + cpaTotal;
    const expense = paid > 0n ? (await getBalance(houseAccountId('commission_expense', USD))).ledger : 0n;
    let wallets = 0n;
    await pool(
      net.partners.filter((p) => payouts.some((x) => x.partnerId === p.partnerId && x.status === 'paid')),
      16,
      async (p) => {
        const balance = (await getBalance(walletId(p.clientId, USD))).ledger;
        wallets += balance;
      },
    );
    console.log(
      `payout run (${load()}): ${secs(payMs)} (${fmt(summary.due / (payMs / 1000))} partners/s)\tpartners ${summary.partners}, due ${summary.due}, paid ${summary.paid}, held ${summary.held}, below minimum ${summary.belowMinimum}, failed ${summary.failed}\tpaid ${usd(paid)} + held ${usd(held)} + carried ${usd(carried)} = ${usd(paid + held + carried)} USD over ${payoutLines} lines; accrued ${usd(allLines)} USD in ${lines} lines\tcommission_expense ${usd(expense)}, partner wallets +${usd(wallets)}`,
    );
    if (summary.failed !== 0) problem(`payouts: ${summary.failed} partners failed`);
    if (paid + held + carried !== allLines) problem(`payouts ${usd(paid + held + carried)} != accrued ${usd(allLines)}`);
    if (payoutLines !== lines) problem(`payout lines ${payoutLines} != accrued lines ${lines}`);
    if (expense !== -paid || wallets !== paid)
      problem(`journals: expense ${usd(expense)}, wallets ${usd(wallets)}, paid ${usd(paid)}`);
  }

  console.log(`ib verified: problems ${problems.length}`);
  for (const p of problems) console.log(`  problem: ${p}`);
  if (problems.length > 0) throw new Error(`bench ib: ${problems.length} problems (first: ${problems[0]})`);
}
