/**
 * The HTTP edge: GET /health through the local gateway, the middy stack (correlation id, logger,
 * metrics, auth, errors) and the handler, against a bare node:http server answering the same JSON
 * in the same process. The ratio is the cost of our edge, not of the network.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { measure, printComparison } from '../lib.ts';

export async function httpSuite(opts: { apiUrl: string; ops: number; concurrencies: number[] }) {
  const bare = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', tenant: 'demo', version: '0.1.0', time: new Date().toISOString() }));
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  const get = async (url: string) => {
    const res = await fetch(url);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(String(res.status));
  };
  const rows = [];
  for (const concurrency of opts.concurrencies) {
    const baseline = await measure('bare node:http', { ops: opts.ops, concurrency }, () => get(`${bareUrl}/health`));
    const subject = await measure('GET /health', { ops: opts.ops, concurrency }, () => get(`${opts.apiUrl}/health`));
    rows.push({ subject, baseline });
  }
  bare.close();
  console.log('\n## http: the API edge (gateway + middleware + handler)');
  printComparison(rows);
  return rows;
}
