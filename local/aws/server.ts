/**
 * The local AWS emulator: one in-process HTTP server the unmodified AWS SDK v3 clients talk to
 * (through AWS_ENDPOINT_URL), so handler code is identical locally and in AWS.
 *
 * Guarantees:
 * - JSON protocols (awsJson1_0 / awsJson1_1): a request with `X-Amz-Target: <Prefix>.<Operation>`
 *   goes to the service registered under that prefix; the reply is JSON with the protocol's content
 *   type. An AwsError becomes its HTTP status with `{"__type","message"}` and `x-amzn-ErrorType`,
 *   which the SDK turns into the matching exception class. Unknown prefix/operation: 400
 *   UnknownOperationException. Any other error: 500 InternalFailure (details go to stderr only).
 * - Every other request is S3 (path style), except `GET /<userPoolId>/.well-known/jwks.json` and
 *   `.../openid-configuration`, served by the local Cognito.
 * - SigV4 signatures are not checked (this is a local development tool bound to 127.0.0.1).
 * - Permissive CORS (any origin, preflights answered) so browser uploads work from the local web apps.
 * - close() stops listening and destroys open keep-alive sockets, so nothing keeps the process alive.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { LocalCognito } from './cognito.ts';
import { AwsError } from './errors.ts';
import type { S3Store } from './s3.ts';

export interface JsonService {
  /** The X-Amz-Target prefix, e.g. 'AWSEvents', 'AmazonSQS', 'AWSStepFunctions'. */
  prefix: string;
  /** Runs one operation; throw AwsError for AWS-shaped failures. */
  // biome-ignore lint/suspicious/noExplicitAny: the agreed plug-in contract; each service validates its own input
  handle(operation: string, input: any): Promise<unknown>;
}

export interface AwsEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'ETag, Location, x-amz-request-id, x-amzn-errortype',
};

/** Largest request body accepted (S3 uploads included). */
const MAX_BODY_BYTES = 100 * 1024 * 1024;

export async function startAwsEmulator(opts: {
  port: number;
  host?: string;
  services: JsonService[];
  s3?: S3Store;
  cognito?: LocalCognito;
}): Promise<AwsEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const services = new Map<string, JsonService>();
  for (const s of [...opts.services, ...(opts.cognito ? [opts.cognito] : [])]) {
    if (services.get(s.prefix) === s) continue;
    if (services.has(s.prefix)) throw new Error(`Two services registered for X-Amz-Target prefix ${s.prefix}`);
    services.set(s.prefix, s);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error('[local-aws] unhandled error', err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    // Browsers (trader room, back office) upload with presigned URLs/POSTs from another origin.
    for (const [k, v] of Object.entries(CORS)) res.setHeader(k, v);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, PUT, POST, HEAD, DELETE',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const body = await readBody(req);
    if (body === null) {
      res.writeHead(413, { connection: 'close' }).end();
      return;
    }
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') return handleJson(req, res, target, body);

    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const wellKnown = /^\/([^/]+)\/\.well-known\/(jwks\.json|openid-configuration)$/.exec(path);
    if (wellKnown && req.method === 'GET' && opts.cognito?.hasPool(wellKnown[1]!)) {
      const doc = wellKnown[2] === 'jwks.json' ? await opts.cognito.jwks() : opts.cognito.openIdConfiguration(wellKnown[1]!);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      return;
    }
    if (!opts.s3) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('No S3 store configured');
      return;
    }
    const out = await opts.s3.handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
    res.writeHead(out.status, out.headers);
    res.end(req.method === 'HEAD' ? undefined : out.body);
  }

  async function handleJson(req: IncomingMessage, res: ServerResponse, target: string, body: Buffer) {
    const requested = req.headers['content-type'] ?? '';
    const contentType = requested.startsWith('application/x-amz-json-1.0') ? requested : 'application/x-amz-json-1.1';
    const send = (status: number, payload: unknown, extra: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': contentType, ...extra }).end(JSON.stringify(payload ?? {}));
    const fail = (e: AwsError) =>
      send(e.status, { __type: e.type, message: e.message }, { 'x-amzn-errortype': e.type, 'x-amzn-requestid': randomUUID() });

    const dot = target.lastIndexOf('.');
    const service = dot > 0 ? services.get(target.slice(0, dot)) : undefined;
    if (!service) return fail(new AwsError('UnknownOperationException', `Unknown target ${target}`));
    let input: unknown;
    try {
      input = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      return fail(new AwsError('SerializationException', 'Request body is not valid JSON'));
    }
    try {
      send(200, await service.handle(target.slice(dot + 1), input), { 'x-amzn-requestid': randomUUID() });
    } catch (err) {
      if (err instanceof AwsError) return fail(err);
      console.error(`[local-aws] ${target} failed`, err);
      fail(new AwsError('InternalFailure', 'The request processing has failed because of an unknown error.', 500));
    }
  }

  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** The whole request body, or null when it is larger than MAX_BODY_BYTES. */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
