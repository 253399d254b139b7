/**
 * `npm run bench -- synth`: `cdk synth -c tenant=<t>` wall time of this tree, beside the same synth of a
 * baseline commit measured in the same run (BENCH_SYNTH_BASE, default the last commit with the one-stack
 * layout, before docs/decisions/0009-deployment-layout.md), each into a fresh output folder (no asset cache,
 * as in CI), BENCH_SYNTH_RUNS times (default 2: a synth takes half a minute). The baseline is checked out
 * into a temporary git worktree sharing this tree's node_modules.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '#infra/constructs/functions.ts';
import { measure, printComparison } from '../lib.ts';

export const SYNTH_BASELINE_REF = '4f4e7ca';

function synthOnce(root: string, tenant: string): void {
  const out = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  try {
    const r = spawnSync('npx', ['cdk', 'synth', '-c', `tenant=${tenant}`, '--quiet', '-o', out], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cdk synth failed in ${root}:\n${r.stderr.slice(-2000)}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export async function synthSuite(): Promise<void> {
  const runs = Number(process.env.BENCH_SYNTH_RUNS ?? 2);
  const ref = process.env.BENCH_SYNTH_BASE ?? SYNTH_BASELINE_REF;
  const base = mkdtempSync(join(tmpdir(), 'bench-synth-base-'));
  const add = spawnSync('git', ['worktree', 'add', '--detach', base, ref], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`git worktree add ${ref}: ${add.stderr}`);
  try {
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(base, 'node_modules'), 'dir');
    console.log(`\n## synth: this tree vs ${ref}, ${runs} runs each, tenant demo (seconds per synth)`);
    const ms = { ops: runs, concurrency: 1, warmup: 0 };
    const baseline = await measure(`cdk synth @ ${ref}`, ms, async () => synthOnce(base, 'demo'));
    const subject = await measure('cdk synth @ this tree', ms, async () => synthOnce(REPO_ROOT, 'demo'));
    printComparison([{ subject, baseline }]);
  } finally {
    spawnSync('git', ['worktree', 'remove', '--force', base], { cwd: REPO_ROOT });
  }
}
