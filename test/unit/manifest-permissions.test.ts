/**
 * Invariant: a function whose code answers Step Functions task tokens (SendTaskSuccess / SendTaskFailure /
 * SendTaskHeartbeat) - in its entry file or in any repository module it imports, transitively - declares
 * 'states:callback' in the manifest, so infra grants it (least privilege grants nothing undeclared) and
 * the call is not refused with AccessDenied in AWS only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { functions } from '#functions/manifest.ts';

const root = path.resolve(import.meta.dirname, '../..');
const aliases = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { imports: Record<string, string> })
  .imports;

/** A repository module's file for an import specifier; undefined for packages. */
function resolve(from: string, spec: string): string | undefined {
  if (spec.startsWith('.')) return path.resolve(path.dirname(from), spec);
  for (const [alias, target] of Object.entries(aliases)) {
    const prefix = alias.replace(/\*$/, '');
    if (spec.startsWith(prefix)) return path.join(root, target.replace(/\*$/, ''), spec.slice(prefix.length));
  }
  return undefined;
}

/** Runtime imports (not `import type`) of a module. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+['"]([^'"]+)['"]/gms),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs.flatMap((s) => {
    const f = resolve(file, s);
    return f?.endsWith('.ts') ? [f] : [];
  });
}

/** The entry file and every repository module it imports, transitively. */
function moduleGraph(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [path.join(root, entry)];
  while (queue.length > 0) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    queue.push(...imports(f));
  }
  return [...seen];
}

const CALLBACK = /\bSendTask(Success|Failure|Heartbeat)Command\b/;
/** Use cases answer task tokens through the workflow port (functions/app/ports/workflow.ts). */
const PORT_ANSWER = /\bworkflows\(\)\.answer\(/;
/**
 * The port's Step Functions adapter holds the callback commands for every function that uses the port (to
 * start or describe executions too), so it is not a caller itself: its users' `workflows().answer(` are.
 */
const WORKFLOW_ADAPTER = path.join(root, 'functions/adapters/workflow/step-functions.ts');
const answersTasks = (f: string) => {
  if (f === WORKFLOW_ADAPTER) return false;
  const text = readFileSync(f, 'utf8');
  return CALLBACK.test(text) || PORT_ANSWER.test(text);
};
/**
 * Functions that import every route module for its definitions only (api-health builds the OpenAPI
 * document from them) and never run their handlers: their graph is not what they call.
 */
const DEFINITIONS_ONLY = new Set(['api-health']);

describe("functions answering task tokens declare 'states:callback'", () => {
  it.each(functions.map((f) => [f.name, f] as const))('%s', (name, fn) => {
    const graph = DEFINITIONS_ONLY.has(name) ? [path.join(root, fn.entry)] : moduleGraph(fn.entry);
    const callers = graph.filter(answersTasks);
    const relative = callers.map((f) => path.relative(root, f));
    expect(fn.permissions.includes('states:callback'), `task callbacks in ${relative.join(', ') || 'nothing'}`).toBe(
      callers.length > 0,
    );
  });

  it('sees the callbacks it should (the graph follows aliases and relative imports)', () => {
    const graph = moduleGraph('functions/api/kyc-admin.ts').map((f) => path.relative(root, f));
    expect(graph).toEqual(expect.arrayContaining(['functions/app/kyc/callbacks.ts', 'functions/store/kyc.ts']));
  });
});

/**
 * Invariant: a function serving a role-restricted route can write the table, because its edge records every
 * 403 forbidden_role (and every cross-client probe) as a security event (functions/middleware/security.ts,
 * docs/decisions/0010-security-events.md); without the grant the record would be refused in AWS only.
 */
describe("functions serving role-restricted routes have 'table:write' (their 403s are recorded)", () => {
  const restricted = functions.filter((f) => (f.routes ?? []).some((r) => Array.isArray(r.auth)));
  it.each(restricted.map((f) => [f.name, f] as const))('%s', (_name, fn) => {
    expect(fn.permissions).toContain('table:write');
  });
});
