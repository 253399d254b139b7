/**
 * No raw queries outside the store (docs/decisions/0013-entity-model.md): only functions/store/ may use DynamoDB's
 * Query or Scan (QueryCommand, ScanCommand, their input types and paginators, from lib-dynamodb or
 * client-dynamodb). A use case, edge or adapter that needs a query calls a named store function instead.
 * (local/ is the emulator and test/ the tests: not checked.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FUNCTIONS = join(ROOT, 'functions');
const STORE = 'functions/store/';

/** Query / Scan identifiers of the AWS SDK's DynamoDB packages. */
const RAW = /\b(QueryCommand|ScanCommand|QueryCommandInput|ScanCommandInput|QueryInput|ScanInput|paginateQuery|paginateScan)\b/g;
const DYNAMODB_PACKAGE = /@aws-sdk\/(lib|client)-dynamodb/;

/** The raw Query / Scan names a source file uses (only when it imports a DynamoDB package, or any use in code). */
function rawQueryUses(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  if (!DYNAMODB_PACKAGE.test(code)) return [];
  return [...new Set([...code.matchAll(RAW)].map((m) => m[1]!))];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(e.name) ? [path] : [];
  });
}

describe('no raw Query or Scan outside functions/store', () => {
  it('finds the raw names in a file that imports them (the check can fail)', () => {
    expect(
      rawQueryUses("import { QueryCommand } from '@aws-sdk/lib-dynamodb';\nawait ddb().send(new QueryCommand({}));"),
    ).toEqual(['QueryCommand']);
    expect(rawQueryUses("import { ScanCommand as S } from '@aws-sdk/client-dynamodb';")).toEqual(['ScanCommand']);
    expect(rawQueryUses("import { paginateQuery } from '@aws-sdk/lib-dynamodb';")).toEqual(['paginateQuery']);
    expect(rawQueryUses("import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';")).toEqual(['QueryCommandInput']);
    expect(rawQueryUses("// QueryCommand in a comment\nimport { GetCommand } from '@aws-sdk/lib-dynamodb';")).toEqual([]);
    expect(rawQueryUses("import { listCases } from '#app/payments/list-cases.ts';")).toEqual([]);
  });

  it('no file under functions/ outside functions/store/ queries or scans the table itself', () => {
    const offenders = sourceFiles(FUNCTIONS)
      .map((path) => ({ file: relative(ROOT, path).split('\\').join('/'), uses: rawQueryUses(readFileSync(path, 'utf8')) }))
      .filter((f) => !f.file.startsWith(STORE) && f.uses.length > 0)
      .map((f) => `${f.file}: ${f.uses.join(', ')}`);
    expect(offenders).toEqual([]);
  });

  it('the store is where the queries are (the scan sees files)', () => {
    const inStore = sourceFiles(join(FUNCTIONS, 'store')).filter((p) => rawQueryUses(readFileSync(p, 'utf8')).length > 0);
    expect(inStore.length).toBeGreaterThan(0);
  });
});
