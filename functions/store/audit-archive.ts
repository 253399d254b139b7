/**
 * The Object Lock copy of the audit trail: one NDJSON object per audit item at
 * audit/<yyyy>/<mm>/<dd>/<entityType>/<entityId>/<seq>.json (date from `at`).
 *
 * Invariants:
 * - the key is a pure function of the item, so writing the same item twice writes the same key; with
 *   Object Lock (versioning on) that adds a new version with identical content, never replaces the
 *   locked one - acceptable, and an export de-duplicates by key
 * - every PutObject carries Content-MD5 and a SHA-256 checksum, as Object Lock requires an integrity
 *   header; the bucket's default retention (compliance mode) applies
 * - the archived line is the whole audit record (hash and prevHash included), without index keys,
 *   so the chain can be re-verified from the archive alone
 * - an object is missing only when S3 says so (404, NotFound, NoSuchKey); any other error (access denied,
 *   throttling) is thrown, never taken as evidence of a hole
 * - the item given is a parsed audit item (audit-trail.ts parseAuditItem / getAuditItem), never a raw image
 * Used by the stream archiver and by audit-verify (which checks chain tips and repairs a hole).
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3 } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import type { AuditItem } from '#store/audit.ts';
import { padSeq } from '#store/keys.ts';

const safe = (s: string) => encodeURIComponent(s);

export function archiveKey(item: Pick<AuditItem, 'at' | 'entity' | 'seq'>): string {
  const d = new Date(item.at);
  const yyyy = String(d.getUTCFullYear());
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  return `audit/${yyyy}/${mm}/${dd}/${safe(item.entity.type)}/${safe(item.entity.id)}/${padSeq(item.seq)}.json`;
}

export function archiveLine(item: AuditItem): string {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...record } = item;
  return `${JSON.stringify(record)}\n`;
}

/** Writes one audit item to the audit bucket. */
export async function archiveAuditItem(item: AuditItem): Promise<void> {
  const body = archiveLine(item);
  await s3().send(
    new PutObjectCommand({
      Bucket: env.auditBucket,
      Key: archiveKey(item),
      Body: body,
      ContentType: 'application/x-ndjson',
      ContentMD5: createHash('md5').update(body, 'utf8').digest('base64'),
      ChecksumAlgorithm: 'SHA256',
    }),
  );
}

const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

/** Whether the archive holds an object under `key` (HeadObject); other S3 errors are thrown. */
export async function archiveObjectExists(key: string): Promise<boolean> {
  try {
    await s3().send(new HeadObjectCommand({ Bucket: env.auditBucket, Key: key }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
