/**
 * The local S3: a folder-backed object store speaking enough of the path-style S3 REST API for the
 * unmodified S3Client, presigned GET/PUT URLs and browser uploads through presigned POST policies.
 *
 * Guarantees:
 * - Layout: `<dir>/<bucket>/<sha256(key)>.obj` plus a `.json` sidecar (key, size, content type,
 *   etag = md5, user metadata). Keys never become file paths, and keys with empty, `.` or `..`
 *   segments, backslashes or control characters are rejected, so no request can escape `dir`.
 * - Writes are atomic (temp file + rename; the sidecar is written last and is the commit point).
 * - Presigned POST: the policy's expiration, `content-length-range`, `bucket`, exact-match and
 *   `eq` / `starts-with` conditions are enforced, and any form field the policy does not cover is
 *   refused, as S3 does (403 AccessDenied / 400 EntityTooLarge|EntityTooSmall, XML error bodies).
 * - Presigned URLs: X-Amz-Date + X-Amz-Expires are enforced (403 "Request has expired").
 * - NOT checked: SigV4 signatures (query, header or POST policy signature). This is a local
 *   development store bound to 127.0.0.1; it must never be exposed.
 * Not emulated: virtual-host addressing, versioning, multipart upload, copy, ranges, ACLs, Object Lock.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';

export interface S3Request {
  method: string;
  /** Path and query, e.g. /bucket/some/key?X-Amz-Date=... */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface S3Response {
  status: number;
  headers: Record<string, string | number>;
  body?: Buffer | string;
}

export interface S3Object {
  key: string;
  size: number;
  /** md5 hex, unquoted. */
  etag: string;
  contentType: string;
  lastModified: string;
  metadata: Record<string, string>;
  contentDisposition?: string;
  cacheControl?: string;
  contentEncoding?: string;
}

class S3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export class S3Store {
  private readonly dir: string;

  constructor(opts: { dir: string; buckets?: string[] }) {
    this.dir = path.resolve(opts.dir);
    this.initialBuckets = opts.buckets ?? [];
  }

  private readonly initialBuckets: string[];
  private ready?: Promise<void>;

  // ---------------------------------------------------------------- in-process API

  async createBucket(bucket: string): Promise<void> {
    await mkdir(this.bucketDir(bucket), { recursive: true });
  }

  async putObject(
    bucket: string,
    key: string,
    body: Buffer | Uint8Array | string,
    contentType = DEFAULT_CONTENT_TYPE,
    extra: Partial<Pick<S3Object, 'metadata' | 'contentDisposition' | 'cacheControl' | 'contentEncoding'>> = {},
  ): Promise<S3Object> {
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body as Uint8Array | string);
    const { dataFile, metaFile } = await this.files(bucket, key);
    const meta: S3Object = {
      key,
      size: data.length,
      etag: createHash('md5').update(data).digest('hex'),
      contentType,
      lastModified: new Date().toISOString(),
      metadata: extra.metadata ?? {},
      ...(extra.contentDisposition ? { contentDisposition: extra.contentDisposition } : {}),
      ...(extra.cacheControl ? { cacheControl: extra.cacheControl } : {}),
      ...(extra.contentEncoding ? { contentEncoding: extra.contentEncoding } : {}),
    };
    await writeAtomic(dataFile, data);
    await writeAtomic(metaFile, JSON.stringify(meta));
    return meta;
  }

  async headObject(bucket: string, key: string): Promise<S3Object | null> {
    const { metaFile } = await this.files(bucket, key);
    return readJson<S3Object>(metaFile);
  }

  async getObject(bucket: string, key: string): Promise<(S3Object & { body: Buffer }) | null> {
    const { dataFile, metaFile } = await this.files(bucket, key);
    const meta = await readJson<S3Object>(metaFile);
    if (!meta) return null;
    return { ...meta, body: await readFile(dataFile) };
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const { dataFile, metaFile } = await this.files(bucket, key);
    await rm(metaFile, { force: true });
    await rm(dataFile, { force: true });
  }

  /** Every object of a bucket whose key starts with `prefix`, in key order. */
  async listObjects(bucket: string, prefix = ''): Promise<S3Object[]> {
    await this.existingBucket(bucket);
    const dir = this.bucketDir(bucket);
    const out: S3Object[] = [];
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.json')) continue;
      const meta = await readJson<S3Object>(path.join(dir, name));
      if (meta?.key.startsWith(prefix)) out.push(meta);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  // ---------------------------------------------------------------- REST

  async handle(req: S3Request): Promise<S3Response> {
    // Split the raw path ourselves: WHATWG URL parsing would resolve `..` segments before we can refuse them.
    const queryAt = req.url.indexOf('?');
    const resource = queryAt < 0 ? req.url : req.url.slice(0, queryAt);
    const url = new URL(queryAt < 0 ? '' : req.url.slice(queryAt), 'http://local');
    const [, rawBucket = '', ...rest] = resource.split('/');
    try {
      await this.init();
      checkPresignedExpiry(url.searchParams);
      const bucket = decodePath(rawBucket);
      const key = rest.length ? decodePath(rest.join('/')) : '';
      if (!bucket) {
        if (req.method !== 'GET') throw new S3Error('MethodNotAllowed', 'The specified method is not allowed', 405);
        return this.listBuckets();
      }
      if (!key && rest.length <= 1) return await this.bucketRequest(req, bucket, url);
      switch (req.method) {
        case 'PUT':
          return await this.restPut(req, bucket, key);
        case 'GET':
        case 'HEAD': {
          const obj = await this.getObject(bucket, validKey(key));
          if (!obj) throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404);
          const headers = objectHeaders(obj);
          const override = (q: string, h: string) => {
            const v = url.searchParams.get(q);
            if (v) headers[h] = v;
          };
          override('response-content-type', 'content-type');
          override('response-content-disposition', 'content-disposition');
          override('response-cache-control', 'cache-control');
          return { status: 200, headers, body: obj.body };
        }
        case 'DELETE':
          await this.existingBucket(bucket);
          await this.deleteObject(bucket, validKey(key));
          return { status: 204, headers: {} };
        default:
          throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
      }
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      const body = xmlDoc(
        'Error',
        `<Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message><Resource>${esc(resource)}</Resource><RequestId>${randomBytes(8).toString('hex')}</RequestId>`,
      );
      return { status: err.status, headers: { 'content-type': 'application/xml' }, body: req.method === 'HEAD' ? '' : body };
    }
  }

  private async bucketRequest(req: S3Request, bucket: string, url: URL): Promise<S3Response> {
    switch (req.method) {
      case 'PUT':
        await this.createBucket(bucket);
        return { status: 200, headers: { location: `/${bucket}` } };
      case 'HEAD':
        await this.existingBucket(bucket);
        return { status: 200, headers: {} };
      case 'GET':
        if (url.searchParams.get('list-type') !== '2')
          throw new S3Error('NotImplemented', 'Only ListObjectsV2 (list-type=2) is supported by the local S3.', 501);
        return this.listObjectsV2(bucket, url.searchParams);
      case 'POST':
        if (url.searchParams.has('delete'))
          throw new S3Error('NotImplemented', 'DeleteObjects is not supported by the local S3.', 501);
        return this.postObject(req, bucket);
      default:
        throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
    }
  }

  private async restPut(req: S3Request, bucket: string, key: string): Promise<S3Response> {
    validKey(key);
    await this.existingBucket(bucket);
    if (req.headers['x-amz-copy-source'])
      throw new S3Error('NotImplemented', 'CopyObject is not supported by the local S3.', 501);
    const h = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const encodings = (h('content-encoding') ?? '').split(',').map((s) => s.trim());
    const chunked = encodings.includes('aws-chunked') || (h('x-amz-content-sha256') ?? '').startsWith('STREAMING-');
    const body = chunked ? decodeAwsChunked(req.body) : req.body;
    const md5 = h('content-md5');
    if (md5 && createHash('md5').update(body).digest('base64') !== md5)
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name.slice('x-amz-meta-'.length)] = value;
    const contentEncoding = encodings.filter((e) => e && e !== 'aws-chunked').join(', ');
    const meta = await this.putObject(bucket, key, body, h('content-type') || DEFAULT_CONTENT_TYPE, {
      metadata,
      contentDisposition: h('content-disposition'),
      cacheControl: h('cache-control'),
      contentEncoding,
    });
    return { status: 200, headers: { etag: `"${meta.etag}"` } };
  }

  private async listObjectsV2(bucket: string, q: URLSearchParams): Promise<S3Response> {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(Math.max(Number(q.get('max-keys') ?? 1000) || 0, 0), 1000);
    const token = q.get('continuation-token');
    const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (q.get('start-after') ?? '');
    const encode =
      q.get('encoding-type') === 'url' ? (s: string) => encodeURIComponent(s).replace(/%2F/g, '/') : (s: string) => s;

    const contents: S3Object[] = [];
    const prefixes: string[] = [];
    let last = '';
    let truncated = false;
    for (const obj of await this.listObjects(bucket, prefix)) {
      if (obj.key <= after) continue;
      const cut = delimiter ? obj.key.indexOf(delimiter, prefix.length) : -1;
      const common = cut >= 0 ? obj.key.slice(0, cut + delimiter.length) : undefined;
      if (common && (prefixes.at(-1) === common || (after && common <= after))) continue;
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (common) prefixes.push(common);
      else contents.push(obj);
      last = common ? common + '\uffff' : obj.key;
    }
    const parts = [
      `<Name>${esc(bucket)}</Name><Prefix>${esc(encode(prefix))}</Prefix>`,
      delimiter ? `<Delimiter>${esc(encode(delimiter))}</Delimiter>` : '',
      `<MaxKeys>${maxKeys}</MaxKeys><KeyCount>${contents.length + prefixes.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>`,
      token ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : '',
      truncated ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>` : '',
      q.get('encoding-type') === 'url' ? '<EncodingType>url</EncodingType>' : '',
      ...contents.map(
        (o) =>
          `<Contents><Key>${esc(encode(o.key))}</Key><LastModified>${o.lastModified}</LastModified><ETag>&quot;${o.etag}&quot;</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      ),
      ...prefixes.map((p) => `<CommonPrefixes><Prefix>${esc(encode(p))}</Prefix></CommonPrefixes>`),
    ];
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml('ListBucketResult', parts.join('')) };
  }

  private async listBuckets(): Promise<S3Response> {
    const names = (await readdir(this.dir, { withFileTypes: true })).filter((d) => d.isDirectory() && BUCKET.test(d.name));
    const buckets = names.map(
      (d) => `<Bucket><Name>${esc(d.name)}</Name><CreationDate>${new Date(0).toISOString()}</CreationDate></Bucket>`,
    );
    return {
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: xml('ListAllMyBucketsResult', `<Owner><ID>local</ID></Owner><Buckets>${buckets.join('')}</Buckets>`),
    };
  }

  /** Browser upload with a presigned POST policy (what @aws-sdk/s3-presigned-post produces). */
  private async postObject(req: S3Request, bucket: string): Promise<S3Response> {
    await this.existingBucket(bucket);
    const type = String(req.headers['content-type'] ?? '');
    const boundary = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
    if (!boundary) throw new S3Error('PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data', 412);
    const parts = parseMultipart(req.body, boundary[1] ?? boundary[2]!);
    const fields = new Map<string, string>();
    let file: Part | undefined;
    for (const part of parts) {
      if (part.name.toLowerCase() === 'file') {
        file = part;
        break; // S3 ignores everything after the file
      }
      const name = part.name.toLowerCase();
      if (fields.has(name)) throw new S3Error('InvalidArgument', `Conflicting values provided for form field ${part.name}`);
      fields.set(name, part.data.toString('utf8'));
    }
    if (!file) throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.');
    const rawKey = fields.get('key');
    if (!rawKey) throw new S3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal ${filename} placeholder
    const key = validKey(rawKey.replaceAll('${filename}', file.filename ?? ''));
    fields.set('key', key);
    const policy = fields.get('policy');
    if (!policy) throw new S3Error('AccessDenied', 'Anonymous POST uploads are not allowed; a policy is required.', 403);
    checkPostPolicy(policy, fields, bucket, file.data.length);

    const meta = await this.putObject(bucket, key, file.data, fields.get('content-type') || DEFAULT_CONTENT_TYPE, {
      metadata: Object.fromEntries(
        [...fields].filter(([k]) => k.startsWith('x-amz-meta-')).map(([k, v]) => [k.slice('x-amz-meta-'.length), v]),
      ),
      contentDisposition: fields.get('content-disposition'),
      cacheControl: fields.get('cache-control'),
    });
    const location = `/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
    const headers = { etag: `"${meta.etag}"`, location };
    const status = fields.get('success_action_status');
    if (status === '200') return { status: 200, headers };
    if (status === '201') {
      const body = xml(
        'PostResponse',
        `<Location>${esc(location)}</Location><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><ETag>&quot;${meta.etag}&quot;</ETag>`,
      );
      return { status: 201, headers: { ...headers, 'content-type': 'application/xml' }, body };
    }
    return { status: 204, headers };
  }

  // ---------------------------------------------------------------- files

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      for (const b of this.initialBuckets) await this.createBucket(b);
    })();
    return this.ready;
  }

  private bucketDir(bucket: string): string {
    if (!BUCKET.test(bucket) || bucket.includes('..'))
      throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.');
    return path.join(this.dir, bucket);
  }

  private async existingBucket(bucket: string): Promise<string> {
    const dir = this.bucketDir(bucket);
    const s = await stat(dir).catch(() => null);
    if (!s?.isDirectory()) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404);
    return dir;
  }

  private async files(bucket: string, key: string) {
    const dir = await this.existingBucket(bucket);
    const id = createHash('sha256').update(validKey(key)).digest('hex');
    return { dataFile: path.join(dir, `${id}.obj`), metaFile: path.join(dir, `${id}.json`) };
  }
}

// ------------------------------------------------------------------ helpers

function validKey(key: string): string {
  const bad =
    !key ||
    Buffer.byteLength(key) > 1024 ||
    key.startsWith('/') ||
    key.includes('\\') ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    /[\u0000-\u001f\u007f]/.test(key) ||
    key.split('/').some((s) => s === '.' || s === '..');
  if (bad)
    throw new S3Error(
      'InvalidArgument',
      'Object key is not allowed by the local S3 store (empty, leading "/", "." or ".." segments, backslashes or control characters).',
    );
  return key;
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  }
}

function objectHeaders(o: S3Object): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'content-type': o.contentType,
    'content-length': o.size,
    etag: `"${o.etag}"`,
    'last-modified': new Date(o.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
  };
  if (o.contentDisposition) headers['content-disposition'] = o.contentDisposition;
  if (o.cacheControl) headers['cache-control'] = o.cacheControl;
  if (o.contentEncoding) headers['content-encoding'] = o.contentEncoding;
  for (const [k, v] of Object.entries(o.metadata)) headers[`x-amz-meta-${k}`] = v;
  return headers;
}

/** Presigned URLs carry X-Amz-Date (YYYYMMDDTHHMMSSZ) and X-Amz-Expires (seconds). The signature itself is not checked. */
function checkPresignedExpiry(q: URLSearchParams) {
  const date = q.get('X-Amz-Date');
  const expires = q.get('X-Amz-Expires');
  if (!date || !expires) return;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  const seconds = Number(expires);
  if (!m || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS)
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Date or X-Amz-Expires is malformed.');
  const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Date.now() > signedAt + seconds * 1000) throw new S3Error('AccessDenied', 'Request has expired', 403);
}

/** Enforces a POST policy (base64 JSON: expiration + conditions) against the form fields and file size. */
function checkPostPolicy(policyB64: string, fields: Map<string, string>, bucket: string, size: number) {
  let policy: { expiration?: unknown; conditions?: unknown };
  try {
    policy = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8'));
  } catch {
    throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  const expiration = typeof policy.expiration === 'string' ? Date.parse(policy.expiration) : Number.NaN;
  if (Number.isNaN(expiration) || !Array.isArray(policy.conditions))
    throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: expiration and conditions are required.');
  if (Date.now() > expiration) throw new S3Error('AccessDenied', 'Invalid according to Policy: Policy expired.', 403);

  const value = (field: string) => (field === 'bucket' ? bucket : fields.get(field));
  const failed = (cond: unknown) =>
    new S3Error('AccessDenied', `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(cond)}`, 403);
  const covered = new Set(['policy', 'x-amz-signature', 'file']);
  for (const cond of policy.conditions as unknown[]) {
    if (Array.isArray(cond)) {
      const [op, a, b] = cond as [unknown, unknown, unknown];
      const operator = String(op).toLowerCase();
      if (operator === 'content-length-range') {
        if (size > Number(b)) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
        if (size < Number(a))
          throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
        continue;
      }
      if (
        (operator !== 'eq' && operator !== 'starts-with') ||
        typeof a !== 'string' ||
        !a.startsWith('$') ||
        typeof b !== 'string'
      )
        throw new S3Error('InvalidPolicyDocument', `Invalid Policy: Invalid condition ${JSON.stringify(cond)}`);
      const field = a.slice(1).toLowerCase();
      const actual = value(field) ?? '';
      if (operator === 'eq' ? actual !== b : !actual.startsWith(b)) throw failed(cond);
      covered.add(field);
    } else if (cond && typeof cond === 'object') {
      for (const [k, v] of Object.entries(cond)) {
        const field = k.toLowerCase();
        if (value(field) !== v) throw failed(cond);
        covered.add(field);
      }
    } else throw new S3Error('InvalidPolicyDocument', `Invalid Policy: Invalid condition ${JSON.stringify(cond)}`);
  }
  const extra = [...fields.keys()].filter((f) => !covered.has(f) && !f.startsWith('x-ignore-'));
  if (extra.length)
    throw new S3Error('AccessDenied', `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`, 403);
}

interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** A strict multipart/form-data parser over a complete body (RFC 7578). Throws MalformedPOSTRequest on anything odd. */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const malformed = () =>
    new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw malformed();
  pos += delimiter.length;
  const parts: Part[] = [];
  for (;;) {
    if (body.subarray(pos, pos + 2).toString() === '--') return parts; // closing delimiter
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw malformed();
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw malformed();
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos, headerEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformed();
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const end = body.indexOf(next, headerEnd + 4);
    if (end < 0) throw malformed();
    const disposition = headers.get('content-disposition') ?? '';
    const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (!/^form-data\b/i.test(disposition) || name === undefined) throw malformed();
    const filename = /(?:^|;)\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    const contentType = headers.get('content-type');
    parts.push({
      name,
      ...(filename !== undefined ? { filename: path.posix.basename(filename.replaceAll('\\', '/')) } : {}),
      ...(contentType ? { contentType } : {}),
      data: body.subarray(headerEnd + 4, end),
    });
    pos = end + next.length;
  }
}

/** Decodes an aws-chunked body (`<hex size>[;ext]\r\n<data>\r\n` ... `0\r\n<trailers>\r\n`). */
function decodeAwsChunked(body: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) throw new S3Error('IncompleteBody', 'The aws-chunked body is malformed.');
    const size = Number.parseInt(body.subarray(pos, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0 || eol + 2 + size > body.length)
      throw new S3Error('IncompleteBody', 'The aws-chunked body is malformed.');
    if (size === 0) return Buffer.concat(chunks);
    chunks.push(body.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

async function writeAtomic(file: string, data: Buffer | string) {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const esc = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

const xmlDoc = (root: string, inner: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${inner}</${root}>`;
const xml = (root: string, inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;
