/**
 * The event catalogue (domain/events) against the code: every rule of functions/manifest.ts names catalogued
 * detail-types that something produces and that its target parses; every detail-type produced in functions/
 * (found statically: `detailType: '...'` next to a `detail`, and `event('...', ...)` of domain/events) is in the
 * catalogue and is consumed by a rule or marked external; every schema accepts its example and rejects
 * malformed details; parseEvent keeps the publication fields and throws EventContractError otherwise.
 *
 * The checks are functions returning problems, each also run on deliberately broken input (a bogus rule
 * detail-type, an uncatalogued producer, a detail-type built at run time), so the test is known to fail when
 * the code breaks the contract.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  DETAIL_TYPES,
  EVENT_CONTEXTS,
  EVENTS,
  EventContractError,
  event,
  eventDefinition,
  isDetailType,
  parseEvent,
} from '#domain/events/index.ts';
import { CONTEXTS, EVENT_SOURCE, functions, queues, type RuleSpec, rules } from '#functions/manifest.ts';

const root = path.resolve(import.meta.dirname, '../..');

// ---- static scan of producers -----------------------------------------------------------------------------

/** Files that move events without producing them (the outbox writes what producers hand to commit()). */
const NOT_PRODUCERS = new Set(['functions/store/outbox.ts']);

interface SourceFile {
  file: string;
  text: string;
}

interface ProducerScan {
  /** detail-type -> where it is produced (file:line). */
  produced: Map<string, string[]>;
  /** Producer sites whose detail-type is not a literal (or a conditional of literals). */
  unresolved: string[];
}

function sourcesUnder(dir: string): SourceFile[] {
  const out: SourceFile[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const abs = path.join(entry.parentPath, entry.name);
    const file = path.relative(root, abs).split(path.sep).join('/');
    out.push({ file, text: readFileSync(abs, 'utf8') });
  }
  return out;
}

/** The string literals an expression can evaluate to (literals and conditionals of literals), else undefined. */
function literals(e: ts.Expression): string[] | undefined {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [e.text];
  if (ts.isParenthesizedExpression(e)) return literals(e.expression);
  if (ts.isConditionalExpression(e)) {
    const a = literals(e.whenTrue);
    const b = literals(e.whenFalse);
    return a && b ? [...a, ...b] : undefined;
  }
  return undefined;
}

const propName = (p: ts.ObjectLiteralElementLike) =>
  p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;

/** Whether the file imports `event` from domain/events (so `event(...)` is the catalogue's builder). */
function importsEventBuilder(sf: ts.SourceFile): boolean {
  return sf.statements.some(
    (s) =>
      ts.isImportDeclaration(s) &&
      ts.isStringLiteral(s.moduleSpecifier) &&
      /domain\/events\/index\.ts$/.test(s.moduleSpecifier.text) &&
      s.importClause?.namedBindings !== undefined &&
      ts.isNamedImports(s.importClause.namedBindings) &&
      s.importClause.namedBindings.elements.some((el) => el.name.text === 'event' && !el.isTypeOnly),
  );
}

function scanProducers(files: readonly SourceFile[]): ProducerScan {
  const produced = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const { file, text } of files) {
    if (NOT_PRODUCERS.has(file)) continue;
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const builder = importsEventBuilder(sf);
    const at = (n: ts.Node) => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
    const record = (types: string[] | undefined, n: ts.Node) => {
      if (!types) unresolved.push(at(n));
      else for (const t of types) produced.set(t, [...(produced.get(t) ?? []), at(n)]);
    };
    const visit = (n: ts.Node): void => {
      if (ts.isObjectLiteralExpression(n)) {
        const dt = n.properties.find((p) => propName(p) === 'detailType');
        const hasDetail = n.properties.some((p) => propName(p) === 'detail');
        if (dt && hasDetail) record(ts.isPropertyAssignment(dt) ? literals(dt.initializer) : undefined, dt);
      }
      if (builder && ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'event') {
        const first = n.arguments[0];
        record(first ? literals(first) : undefined, n);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return { produced, unresolved };
}

// ---- the checks -------------------------------------------------------------------------------------------

function ruleProblems(ruleList: readonly RuleSpec[], scan: ProducerScan): string[] {
  const problems: string[] = [];
  for (const r of ruleList) {
    const types = r.pattern['detail-type'] ?? [];
    if (JSON.stringify(r.pattern.source) !== JSON.stringify([EVENT_SOURCE])) {
      problems.push(`rule ${r.name}: source is not [${EVENT_SOURCE}]`);
    }
    if (types.length === 0) problems.push(`rule ${r.name}: no detail-type`);
    for (const t of types) {
      if (!isDetailType(t)) problems.push(`rule ${r.name}: '${t}' is not in the event catalogue`);
      else if (!scan.produced.has(t)) problems.push(`rule ${r.name}: '${t}' is produced nowhere in functions/`);
    }
  }
  return problems;
}

function producerProblems(scan: ProducerScan, ruleList: readonly RuleSpec[]): string[] {
  const consumed = new Set(ruleList.flatMap((r) => r.pattern['detail-type'] ?? []));
  const problems = scan.unresolved.map((at) => `${at}: detail-type is not a literal (the catalogue test cannot see it)`);
  for (const [t, where] of scan.produced) {
    if (!isDetailType(t)) problems.push(`'${t}' (${where.join(', ')}) is not in the event catalogue`);
    else if (!consumed.has(t) && !EVENTS[t].external) problems.push(`'${t}' is neither consumed by a rule nor external`);
  }
  for (const t of DETAIL_TYPES) {
    if (!scan.produced.has(t)) problems.push(`'${t}' is in the catalogue but produced nowhere in functions/`);
    if (!EVENTS[t].external && !consumed.has(t)) problems.push(`'${t}' is internal but no rule consumes it`);
  }
  return problems;
}

const entryOf = (fn: string) => functions.find((f) => f.name === fn)?.entry;

/** What a module's code (not its comments) holds: its string literals and whether it calls parseEvent. */
function codeOf(file: string): { literals: Set<string>; parses: boolean } {
  const sf = ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found = { literals: new Set<string>(), parses: false };
  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) found.literals.add(n.text);
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'parseEvent') found.parses = true;
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/** A rule target's entry module, and the use cases (#app/...) it imports: where its events are parsed. */
function targetModules(r: RuleSpec): { entry: string; files: string[] } | undefined {
  const fn =
    'function' in r.target ? r.target.function : queues.find((q) => q.name === (r.target as { queue: string }).queue)?.consumer;
  const entry = fn ? entryOf(fn) : undefined;
  if (!entry) return undefined;
  const text = readFileSync(path.join(root, entry), 'utf8');
  return { entry, files: [entry, ...[...text.matchAll(/from '#app\/([^']+)'/g)].map((m) => `functions/app/${m[1]}`)] };
}

function consumerProblems(ruleList: readonly RuleSpec[]): string[] {
  const problems: string[] = [];
  for (const r of ruleList) {
    const target = targetModules(r);
    if (!target) {
      problems.push(`rule ${r.name}: its target has no entry file in the manifest`);
      continue;
    }
    const code = target.files.map(codeOf);
    if (!code.some((c) => c.parses)) problems.push(`rule ${r.name}: ${target.entry} does not parseEvent`);
    for (const t of r.pattern['detail-type'] ?? []) {
      if (!code.some((c) => c.literals.has(t))) problems.push(`rule ${r.name}: ${target.entry} does not handle '${t}'`);
    }
  }
  return problems;
}

const scan = scanProducers(sourcesUnder('functions'));

// ---- tests ------------------------------------------------------------------------------------------------

describe('the catalogue', () => {
  it('declares each detail-type once, versioned from 1, produced by a context of the manifest', () => {
    expect(new Set(DETAIL_TYPES).size).toBe(DETAIL_TYPES.length);
    for (const t of DETAIL_TYPES) {
      const d = EVENTS[t];
      expect(d.detailType).toBe(t);
      expect(Number.isInteger(d.version) && d.version >= 1, t).toBe(true);
      expect(EVENT_CONTEXTS).toContain(d.context);
      expect(CONTEXTS as readonly string[]).toContain(d.context);
      expect(d.description.length, t).toBeGreaterThan(10);
    }
  });

  for (const t of DETAIL_TYPES) {
    it(`${t}: accepts its example, rejects a missing required field or a mistyped one`, () => {
      const { schema, example } = EVENTS[t];
      const ex = example as Record<string, unknown>;
      expect(schema.safeParse(example).success).toBe(true);
      expect(parseEvent(t, { ...ex, eventId: 'evt-1', eventVersion: EVENTS[t].version })).toMatchObject(ex);
      expect(schema.safeParse({}).success).toBe(false);
      const required = Object.entries(schema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>)
        .filter(([, field]) => !field.safeParse(undefined).success)
        .map(([k]) => k);
      expect(required.length).toBeGreaterThan(0);
      for (const k of required) {
        const { [k]: _dropped, ...without } = ex;
        expect(schema.safeParse(without).success, `${t} without ${k}`).toBe(false);
      }
      for (const [k, v] of Object.entries(ex)) {
        const wrong =
          typeof v === 'string' || v === null ? 42 : typeof v === 'number' ? 'x' : typeof v === 'boolean' ? 'yes' : 'x';
        expect(schema.safeParse({ ...ex, [k]: wrong }).success, `${t} with ${k}: ${JSON.stringify(wrong)}`).toBe(false);
      }
    });
  }

  it('never takes money as a JSON number', () => {
    expect(() =>
      parseEvent('payment.deposit.completed', { ...EVENTS['payment.deposit.completed'].example, amount: 97.5 }),
    ).toThrow(EventContractError);
    expect(() => parseEvent('ledger.hold.placed', { ...EVENTS['ledger.hold.placed'].example, amount: '1e3' })).toThrow(
      EventContractError,
    );
  });
});

describe('parseEvent', () => {
  const example = EVENTS['kyc.expired'].example;

  it('keeps eventId and eventVersion, strips fields it does not know (a newer producer)', () => {
    expect(parseEvent('kyc.expired', { ...example, eventId: 'evt-1', eventVersion: 1, addedLater: true })).toEqual({
      ...example,
      eventId: 'evt-1',
      eventVersion: 1,
    });
    expect(parseEvent('kyc.expired', example)).toEqual(example);
  });

  it('throws EventContractError: malformed_event, event_version_mismatch, unknown_event_type', () => {
    const fail = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(EventContractError);
        return err as EventContractError;
      }
      throw new Error('expected an EventContractError');
    };
    const missing = fail(() => parseEvent('kyc.expired', { clientId: 'c-1' }));
    expect(missing).toMatchObject({ code: 'malformed_event', detailType: 'kyc.expired', kind: 'validation' });
    expect(missing.errors.map((e) => e.field)).toEqual(['identityExpiresOn']);
    expect(fail(() => parseEvent('kyc.expired', 'not an object')).code).toBe('malformed_event');
    expect(fail(() => parseEvent('kyc.expired', [example])).code).toBe('malformed_event');
    expect(fail(() => parseEvent('kyc.expired', { ...example, eventId: 7 })).code).toBe('malformed_event');
    expect(fail(() => parseEvent('kyc.expired', { ...example, eventVersion: 2 })).code).toBe('event_version_mismatch');
    expect(fail(() => parseEvent('kyc.expird' as 'kyc.expired', example)).code).toBe('unknown_event_type');
    expect(fail(() => eventDefinition('widget.created')).code).toBe('unknown_event_type');
  });

  it('event() builds the typed outbox event', () => {
    expect(event('kyc.expired', example)).toEqual({ detailType: 'kyc.expired', detail: example });
  });
});

describe('the catalogue against the code', () => {
  it('finds the producers in functions/', () => {
    expect(scan.produced.size).toBeGreaterThan(20);
  });

  it("every rule's detail-type is in the catalogue and produced somewhere", () => {
    expect(ruleProblems(rules, scan)).toEqual([]);
  });

  it('every produced detail-type is in the catalogue and consumed by a rule or external; every entry is produced', () => {
    expect(producerProblems(scan, rules)).toEqual([]);
  });

  it('every rule target parses the detail-types routed to it', () => {
    expect(consumerProblems(rules)).toEqual([]);
  });
});

describe('the checks fail on broken input', () => {
  const bogusRule: RuleSpec = {
    name: 'bogus',
    pattern: { source: [EVENT_SOURCE], 'detail-type': ['kyc.approvd', 'kyc.approved'] },
    target: { queue: 'notifications' },
  };

  it('a rule naming a detail-type outside the catalogue, or one nothing produces', () => {
    expect(ruleProblems([bogusRule], scan)).toEqual(["rule bogus: 'kyc.approvd' is not in the event catalogue"]);
    const nothing: ProducerScan = { produced: new Map(), unresolved: [] };
    expect(ruleProblems([bogusRule], nothing)).toContain("rule bogus: 'kyc.approved' is produced nowhere in functions/");
  });

  it('an uncatalogued producer, a detail-type built at run time, an internal event nobody consumes', () => {
    const extra = scanProducers([
      {
        file: 'functions/app/x/bad.ts',
        text: [
          "import { event } from '#domain/events/index.ts';",
          "commit({ outbox: [{ detailType: 'widget.created', detail: { id: 'w' } }] });",
          `commit({ outbox: [{ detailType: \`payment.deposit.\${to}\`, detail: {} }] });`,
          "commit({ outbox: [event(on ? 'kyc.approved' : 'kyc.aproved', {})] });",
          "logger.info('not a producer', { detailType: 'anything' });",
        ].join('\n'),
      },
    ]);
    expect([...extra.produced.keys()].sort()).toEqual(['kyc.approved', 'kyc.aproved', 'widget.created']);
    expect(extra.unresolved).toEqual(['functions/app/x/bad.ts:3']);
    const merged: ProducerScan = {
      produced: new Map([...scan.produced, ...extra.produced]),
      unresolved: extra.unresolved,
    };
    const problems = producerProblems(merged, rules);
    expect(problems).toContain("'widget.created' (functions/app/x/bad.ts:2) is not in the event catalogue");
    expect(problems).toContain("'kyc.aproved' (functions/app/x/bad.ts:4) is not in the event catalogue");
    expect(problems).toContain('functions/app/x/bad.ts:3: detail-type is not a literal (the catalogue test cannot see it)');
    const withoutStart = rules.filter((r) => r.name !== 'withdrawal-received-to-start');
    expect(producerProblems(scan, withoutStart)).toEqual([
      "'payment.withdrawal.received' is neither consumed by a rule nor external",
      "'payment.withdrawal.received' is internal but no rule consumes it",
    ]);
  });

  it('a rule whose target does not handle a detail-type routed to it', () => {
    const misrouted: RuleSpec = { ...bogusRule, pattern: { ...bogusRule.pattern, 'detail-type': ['ledger.journal.posted'] } };
    expect(consumerProblems([misrouted])).toEqual([
      expect.stringMatching(/^rule bogus: functions\/workers\/notifications\.ts does not handle 'ledger\.journal\.posted'$/),
    ]);
  });
});
