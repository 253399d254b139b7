/**
 * Starting the local runtime (local/runtime.ts) as `npm start` does, with its own DynamoDB Local (GitHub issue 12):
 * - every listener (DynamoDB Local, the AWS emulator, the API gateway) is bound to loopback only (the sockets are
 *   inspected in /proc/net; nothing is sent anywhere but 127.0.0.1)
 * - GET /health?ready answers 503 until start-up, the demo seed included, has finished, and client@demo.test
 *   signs in the moment it answers 200; GET /health (liveness) stays 200
 * One runtime per file: the handlers' SDK clients keep the endpoints of the first runtime in a process.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from '#local/dynamodb.ts';
import { DEMO_PASSWORD, DEMO_USERS } from '#local/seed.ts';
import { canInspectSockets, isLoopback, listeningSockets } from '../support/sockets.ts';
import { call, ownRuntimes, signIn } from './own-runtime.ts';

const { start } = ownRuntimes();

const portOf = (url: string) => Number(new URL(url).port);

describe('starting the local runtime', () => {
  it('listens on loopback only, and reports ready only once the demo seed is done', async () => {
    const apiPort = await freePort();
    const base = `http://127.0.0.1:${apiPort}`;
    // Its own DynamoDB Local (no dynamoEndpoint), as npm start has.
    const starting = start({ apiPort, seed: true });
    let started = false;
    void starting.then(
      () => {
        started = true;
      },
      () => {
        started = true;
      },
    );
    const seen: number[] = [];
    let signInWhenReady: Record<string, number> | undefined;
    while (!started) {
      const res = await fetch(`${base}/health?ready`).catch(() => undefined);
      if (res) {
        seen.push(res.status);
        if (res.status === 200) {
          // Ready means usable: every demo user (client@demo.test first) signs in at once.
          signInWhenReady = {};
          for (const { email } of DEMO_USERS) {
            signInWhenReady[email] = (
              await call(base, 'POST', '/v1/sessions', { body: { email, password: DEMO_PASSWORD } })
            ).status;
          }
          break;
        }
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ status: 'starting', ready: false, tenant: 'demo' });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const rt = await starting;
    // The issue: /health answered while the seed ran, and demo users signing in then got 401.
    if (signInWhenReady !== undefined) {
      expect(signInWhenReady, 'sign-in right after the first ready answer').toEqual(
        Object.fromEntries(DEMO_USERS.map((u) => [u.email, 200])),
      );
    }
    expect(seen.filter((s) => s === 503).length, `statuses seen while starting: ${seen.join(',')}`).toBeGreaterThan(0);
    const ready = await call(base, 'GET', '/health?ready');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ok', ready: true } });
    expect((await call(base, 'GET', '/health')).body).toMatchObject({ status: 'ok', ready: true });
    await signIn(base, 'client@demo.test');

    if (canInspectSockets) {
      const sockets = listeningSockets();
      for (const [service, port] of [
        ['API gateway', apiPort],
        ['AWS emulator', portOf(rt.awsUrl)],
        ['DynamoDB Local', portOf(rt.dynamoEndpoint)],
      ] as const) {
        const listeners = sockets.filter((s) => s.port === port);
        expect(listeners.length, `${service} listens on ${port}`).toBeGreaterThan(0);
        expect(
          listeners.filter((s) => !isLoopback(s)),
          `${service} on ${port} bound beyond loopback`,
        ).toEqual([]);
      }
    }
  }, 120_000);
});
