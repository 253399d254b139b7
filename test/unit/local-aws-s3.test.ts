import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '#local/aws/s3.ts';
import { type AwsEmulator, startAwsEmulator } from '#local/aws/server.ts';

const BUCKET = 'documents';
let root: string;
let dir: string;
let emulator: AwsEmulator;
let store: S3Store;
let s3: S3Client;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'local-s3-'));
  dir = path.join(root, 'store');
  store = new S3Store({ dir, buckets: ['audit'] });
  emulator = await startAwsEmulator({ port: 0, services: [], s3: store });
  s3 = new S3Client({
    endpoint: emulator.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  s3?.destroy();
  await emulator?.close();
  await rm(root, { recursive: true, force: true });
});

/** Every file under the store, so tests can check nothing landed outside a bucket. */
async function filesUnder(d: string): Promise<string[]> {
  const entries = await readdir(d, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function upload(opts: {
  key?: string;
  size: number;
  type?: string;
  expires?: number;
  extra?: Record<string, string>;
  keyField?: string;
}) {
  const { url, fields } = await createPresignedPost(s3, {
    Bucket: BUCKET,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal ${filename} placeholder
    Key: opts.key ?? 'kyc/c1/${filename}',
    Conditions: [
      ['content-length-range', 1, 1024],
      ['starts-with', '$Content-Type', 'application/pdf'],
    ],
    Expires: opts.expires ?? 60,
  });
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...fields, 'Content-Type': opts.type ?? 'application/pdf', ...opts.extra }))
    form.append(k, v);
  if (opts.keyField !== undefined) form.set('key', opts.keyField);
  form.append('file', new Blob([Buffer.alloc(opts.size, 7)], { type: 'application/pdf' }), 'passport.pdf');
  const res = await fetch(url, { method: 'POST', body: form });
  return { status: res.status, body: await res.text(), url, cors: res.headers.get('access-control-allow-origin') };
}

describe('local S3 through the real SDK client', () => {
  it('puts, gets, heads, lists and deletes objects', async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'a/b/c.json',
        Body: '{"x":1}',
        ContentType: 'application/json',
        Metadata: { tenant: 'demo' },
      }),
    );
    expect(put.ETag).toBe(`"${createHash('md5').update('{"x":1}').digest('hex')}"`);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/d.txt', Body: Buffer.from('hello') }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'z with space+plus.txt', Body: 'z' }));

    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/b/c.json' }));
    expect(await got.Body!.transformToString()).toBe('{"x":1}');
    expect(got.ContentType).toBe('application/json');
    expect(got.ETag).toBe(put.ETag);
    expect(got.Metadata).toEqual({ tenant: 'demo' });

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a/d.txt' }));
    expect(head.ContentLength).toBe(5);

    const all = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(all.Contents!.map((o) => o.Key)).toEqual(['a/b/c.json', 'a/d.txt', 'z with space+plus.txt']);
    const underA = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'a/', Delimiter: '/' }));
    expect(underA.Contents!.map((o) => o.Key)).toEqual(['a/d.txt']);
    expect(underA.CommonPrefixes).toEqual([{ Prefix: 'a/b/' }]);
    const page1 = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 2 }));
    expect(page1.IsTruncated).toBe(true);
    const page2 = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 2, ContinuationToken: page1.NextContinuationToken }),
    );
    expect(page2.Contents!.map((o) => o.Key)).toEqual(['z with space+plus.txt']);

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'a/d.txt' }));
    const gone = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/d.txt' })).catch((e) => e);
    expect(gone).toBeInstanceOf(NoSuchKey);
    expect(gone.$metadata.httpStatusCode).toBe(404);
    const headGone = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a/d.txt' })).catch((e) => e);
    expect(headGone.$metadata.httpStatusCode).toBe(404);
    const noBucket = await s3.send(new GetObjectCommand({ Bucket: 'nope', Key: 'x' })).catch((e) => e);
    expect(noBucket.name).toBe('NoSuchBucket');
  });

  it('accepts streamed (aws-chunked) and large bodies', async () => {
    const streamed = Readable.from([Buffer.from('line 1\n'), Buffer.from('line 2\n')]);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'stream.ndjson', Body: streamed, ContentLength: 14 }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'stream.ndjson' }));
    expect(await got.Body!.transformToString()).toBe('line 1\nline 2\n');

    const big = Buffer.alloc(3 * 1024 * 1024, 1);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big.bin', Body: big }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big.bin' }))).ContentLength).toBe(big.length);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'big.bin' }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'stream.ndjson' }));
  });

  it('shares objects with in-process callers', async () => {
    await store.putObject('audit', 'tenant/demo/2025.ndjson', '{"a":1}\n', 'application/x-ndjson');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'audit', Key: 'tenant/demo/2025.ndjson' }));
    expect(got.ContentType).toBe('application/x-ndjson');
    expect((await store.getObject('audit', 'tenant/demo/2025.ndjson'))!.body.toString()).toBe('{"a":1}\n');
    expect(await store.getObject('audit', 'missing')).toBeNull();
  });

  it('serves presigned GETs until they expire', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'doc.pdf', Body: 'pdf', ContentType: 'application/pdf' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'doc.pdf' }), { expiresIn: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/pdf');
    expect(await ok.text()).toBe('pdf');

    const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'doc.pdf' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 3600_000),
    });
    const expired = await fetch(old);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('accepts a presigned POST upload within the policy, from another origin', async () => {
    const res = await upload({ size: 512 });
    expect(res.status).toBe(204);
    expect(res.cors).toBe('*');
    const preflight = await fetch(res.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'kyc/c1/passport.pdf' }));
    expect(got.ContentType).toBe('application/pdf');
    expect(got.ContentLength).toBe(512);
  });

  it('rejects presigned POST uploads that break the policy', async () => {
    const tooLarge = await upload({ size: 2048 });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body).toContain('<Code>EntityTooLarge</Code>');

    const wrongType = await upload({ size: 10, type: 'image/png' });
    expect(wrongType.status).toBe(403);
    expect(wrongType.body).toContain('<Code>AccessDenied</Code>');

    const expired = await upload({ size: 10, expires: -10 });
    expect(expired.status).toBe(403);
    expect(expired.body).toContain('Policy expired');

    const otherKey = await upload({ size: 10, keyField: 'kyc/c2/stolen.pdf' });
    expect(otherKey.status).toBe(403);

    const extraField = await upload({ size: 10, extra: { 'x-amz-meta-role': 'admin' } });
    expect(extraField.status).toBe(403);
    expect(extraField.body).toContain('Extra input fields');
  });

  it('rejects path traversal in keys', async () => {
    const before = await filesUnder(root);
    const viaPost = await upload({ key: '../../escape.pdf', size: 10 });
    expect(viaPost.status).toBe(400);
    expect(viaPost.body).toContain('<Code>InvalidArgument</Code>');

    const viaPut = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: '../escape.txt', Body: 'x' })).catch((e) => e);
    expect(viaPut).toBeInstanceOf(S3ServiceException);
    expect(viaPut.$metadata.httpStatusCode).toBe(400);

    // A raw request, so no client normalises the dot segments away.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${emulator.url}/${BUCKET}/..%2F..%2Fescape.txt`, { method: 'PUT' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('x');
    });
    expect(status).toBe(400);
    const badBucket = await fetch(`${emulator.url}/..%2F/x`, { method: 'PUT', body: 'x' });
    expect(badBucket.status).toBe(400);

    expect(await filesUnder(root)).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['audit', BUCKET]);
    expect((await filesUnder(root)).every((f) => f.startsWith(dir + path.sep))).toBe(true);
  });
});
