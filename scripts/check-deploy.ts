/**
 * `npm run check:deploy [-- <tenant> ...]`: what a deploy would meet, checked offline for every tenant in
 * infra/tenants (or the ones named), the way an operator's `cdk synth` sees it:
 *
 * 1. `cdk synth -c tenant=<t>` into cdk.out/tenants/<t> (cdk-nag runs inside it: an unacknowledged finding
 *    fails the synth), timed;
 * 2. the deploy rules (infra/deploy-rules.ts) over every template, root and nested;
 * 3. cfn-lint over every template: errors fail, warnings are printed (.cfnlintrc.yaml says which are ignored
 *    and why).
 *
 * Prints each stack's resources against the 500 limit, and exits non-zero on any finding. `.ci/run` runs it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assemblyTemplates } from '#infra/assembly.ts';
import { REPO_ROOT } from '#infra/constructs/functions.ts';
import { checkDeployRules } from '#infra/deploy-rules.ts';
import { TENANTS_DIR } from '#infra/tenant.ts';

const named = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const tenants = named.length
  ? named
  : readdirSync(TENANTS_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();

const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
if (cfnLint.error || cfnLint.status !== 0) {
  console.error(
    '[check:deploy] cfn-lint is not installed (or does not run): it must be, to check the synthesized templates.\n' +
      "               Install it (pipx install cfn-lint, or your distribution's cfn-lint package) and run again.",
  );
  process.exit(2);
}
console.log(`[check:deploy] ${cfnLint.stdout.trim()}; tenants: ${tenants.join(', ')}`);

let failed = false;
for (const tenant of tenants) {
  const out = join(REPO_ROOT, 'cdk.out', 'tenants', tenant);
  rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  const synth = spawnSync('npx', ['cdk', 'synth', '-c', `tenant=${tenant}`, '--quiet', '-o', out], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  const seconds = (performance.now() - started) / 1000;
  if (synth.status !== 0) {
    console.error(
      `\n[check:deploy] ${tenant}: cdk synth failed (cdk-nag findings or an error):\n${synth.stdout}\n${synth.stderr}`,
    );
    failed = true;
    continue;
  }
  const docs = assemblyTemplates(out);
  console.log(`\n## ${tenant}: synth ${seconds.toFixed(1)} s (cdk-nag clean)`);
  for (const d of docs) {
    const count = Object.keys(d.template.Resources ?? {}).length;
    console.log(`  ${String(count).padStart(3)} / 500 resources  ${(d.bytes / 1024).toFixed(0).padStart(4)} KB  ${d.name}`);
  }

  const findings = checkDeployRules(docs);
  if (findings.length) {
    failed = true;
    console.error(`  deploy rules: ${findings.length} finding(s)`);
    for (const f of findings) console.error(`    [${f.rule}] ${f.template}${f.resource ? ` ${f.resource}` : ''}: ${f.message}`);
  } else {
    console.log('  deploy rules: 0 findings');
  }

  const lint = spawnSync('cfn-lint', ['--format', 'parseable', ...docs.map((d) => join(out, d.name))], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  const lines = lint.stdout.split('\n').filter(Boolean);
  const errors = lines.filter((l) => /:E\d{4}:/.test(l));
  const warnings = lines.filter((l) => /:W\d{4}:/.test(l));
  // cfn-lint's exit code is a bit mask: 2 = errors, 4 = warnings, 8 = informational; 1 = it failed to run.
  if (lint.status === 1 || (lint.status ?? 0) & 2 || errors.length) {
    failed = true;
    console.error(`  cfn-lint: ${errors.length} error(s)\n${lint.stdout}${lint.stderr}`);
  } else {
    console.log(`  cfn-lint: 0 errors, ${warnings.length} warning(s)`);
    for (const w of warnings) console.log(`    ${w}`);
  }
}
process.exit(failed ? 1 : 0);
