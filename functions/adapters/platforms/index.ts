/**
 * The trading platform adapters by platform id (an account type's `platform` in the tenant config), with their
 * connection settings. ADR 0016.
 *
 * Where a connection comes from:
 * - local runtime and tests: environment variables (MT5_WEB_API_URL, MT5_MANAGER_LOGIN, MT5_MANAGER_PASSWORD,
 *   MT5_SERVER, MT5_SESSIONS), which local/runtime.ts sets to its simulator
 * - AWS: the Secrets Manager secret named by PLATFORM_SECRET_ARN_<PLATFORM> (infra/constructs/platform-secrets.ts),
 *   a JSON object per platform, read through Powertools Parameters with a 5-minute cache (shapes: infra/constructs/
 *   platform-secrets.ts; mt5 { baseUrl, managerLogin, managerPassword, server, sessions? }; ctrader { webservicesUrl, token,
 *   openApiHost, openApiPort (5035), clientId, clientSecret, accessToken, brokerName, server }; dxtrade { baseUrl, username,
 *   domain, password, server, instruments: { <symbol>: { digits, contractSize } } }; match_trader { baseUrl, token,
 *   systemUuid, paymentGatewayUuid, server, digits: { <symbol>: n } }). The README says how to fill them
 *
 * Invariants:
 * - one adapter instance per platform per container (an MT5 session is one authenticated connection); an adapter's
 *   module is loaded when its platform is first used, so a tenant's functions never evaluate (or, for cTrader,
 *   parse the protobuf schema of) a platform it does not offer
 * - a platform without a connection is platform_unavailable (503, retryable) and logged as a configuration
 *   error: a client is told to try later, never a 500, and nothing was changed on the platform
 * - a platform the tenant does not offer, or this module does not know, is a configuration error (thrown)
 * - tests may replace a platform's adapter with usePlatformForTests and must restore it (the returned function)
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { TradingError } from '#domain/trading/errors.ts';
import type { Platform, TradingPlatform } from '#domain/trading/port.ts';
import { toEnvSuffix } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';

const CACHE_SECONDS = 300;

interface Mt5Connection {
  baseUrl: string;
  managerLogin: number;
  managerPassword: string;
  server: string;
  /** Web API sessions per container (mt5.ts Mt5AdapterOptions.sessions); default 1. */
  sessions?: number;
}

function mt5FromEnv(): Mt5Connection | undefined {
  const baseUrl = process.env.MT5_WEB_API_URL;
  if (!baseUrl) return undefined;
  return {
    baseUrl,
    managerLogin: Number(process.env.MT5_MANAGER_LOGIN),
    managerPassword: process.env.MT5_MANAGER_PASSWORD ?? '',
    server: process.env.MT5_SERVER ?? 'mt5',
    ...(process.env.MT5_SESSIONS ? { sessions: Number(process.env.MT5_SESSIONS) } : {}),
  };
}

async function secretOf(platform: Platform): Promise<Record<string, unknown> | undefined> {
  const arn = process.env[`PLATFORM_SECRET_ARN_${toEnvSuffix(platform)}`];
  if (!arn) return undefined;
  const value = await getSecret<Record<string, unknown>>(arn, { transform: 'json', maxAge: CACHE_SECONDS });
  return value && typeof value === 'object' ? value : undefined;
}

const notConfigured = (platform: Platform, what: string) => {
  logger.error('trading platform connection is not configured', { platform, what });
  return new TradingError('platform_unavailable', `The ${platform} platform is not reachable now; try again later`);
};

async function makeMt5(): Promise<TradingPlatform> {
  let c = mt5FromEnv();
  if (!c) {
    const s = await secretOf('mt5');
    if (s && typeof s.baseUrl === 'string' && typeof s.managerPassword === 'string') {
      c = {
        baseUrl: s.baseUrl,
        managerLogin: Number(s.managerLogin),
        managerPassword: s.managerPassword,
        server: typeof s.server === 'string' ? s.server : 'mt5',
        ...(typeof s.sessions === 'number' ? { sessions: s.sessions } : {}),
      };
    }
  }
  if (!c || !Number.isSafeInteger(c.managerLogin) || c.managerLogin <= 0 || !c.managerPassword) {
    throw notConfigured('mt5', 'baseUrl, managerLogin, managerPassword');
  }
  const { Mt5Platform } = await import('./mt5.ts');
  return new Mt5Platform({
    baseUrl: c.baseUrl,
    manager: { login: c.managerLogin, password: c.managerPassword },
    server: c.server,
    ...(c.sessions ? { sessions: c.sessions } : {}),
  });
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

async function makeDxtrade(): Promise<TradingPlatform> {
  const s = await secretOf('dxtrade');
  const [baseUrl, username, domain, password] = [str(s?.baseUrl), str(s?.username), str(s?.domain), str(s?.password)];
  if (!s || !baseUrl || !username || !domain || !password) throw notConfigured('dxtrade', 'baseUrl, username, domain, password');
  const instruments = Object.fromEntries(
    Object.entries((s.instruments ?? {}) as Record<string, { digits: number; contractSize: string | number }>).map(([k, v]) => [
      k,
      { digits: Number(v.digits), contractSize: BigInt(v.contractSize) },
    ]),
  );
  const { DxtradePlatform } = await import('./dxtrade.ts');
  return new DxtradePlatform({ baseUrl, admin: { username, domain, password }, server: str(s.server) ?? 'dxtrade', instruments });
}

async function makeMatchTrader(): Promise<TradingPlatform> {
  const s = await secretOf('match_trader');
  const [baseUrl, apiKey, systemUuid, gateway] = [str(s?.baseUrl), str(s?.token), str(s?.systemUuid), str(s?.paymentGatewayUuid)];
  if (!s || !baseUrl || !apiKey || !systemUuid || !gateway) {
    throw notConfigured('match_trader', 'baseUrl, token, systemUuid, paymentGatewayUuid');
  }
  const { MatchTraderPlatform } = await import('./match-trader.ts');
  return new MatchTraderPlatform({
    baseUrl,
    apiKey,
    systemUuid,
    paymentGatewayUuid: gateway,
    server: str(s.server) ?? 'match-trader',
    digits: (s.digits ?? {}) as Record<string, number>,
  });
}

async function makeCTrader(): Promise<TradingPlatform> {
  const s = await secretOf('ctrader');
  const need = ['webservicesUrl', 'token', 'openApiHost', 'clientId', 'clientSecret', 'accessToken', 'brokerName'] as const;
  if (!s || need.some((k) => !str(s[k]))) throw notConfigured('ctrader', need.join(', '));
  const { CTraderPlatform } = await import('./ctrader.ts');
  return new CTraderPlatform({
    webServices: { baseUrl: str(s.webservicesUrl)!, token: str(s.token)! },
    openApi: {
      host: str(s.openApiHost)!,
      port: Number(s.openApiPort ?? 5035),
      clientId: str(s.clientId)!,
      clientSecret: str(s.clientSecret)!,
      accessToken: str(s.accessToken)!,
    },
    server: str(s.server) ?? 'ctrader',
    brokerName: str(s.brokerName)!,
  });
}

const factories = new Map<Platform, () => Promise<TradingPlatform>>([
  ['mt5', makeMt5],
  ['ctrader', makeCTrader],
  ['dxtrade', makeDxtrade],
  ['match_trader', makeMatchTrader],
]);

const overrides = new Map<Platform, TradingPlatform>();
const instances = new Map<Platform, Promise<TradingPlatform>>();

/** The adapters this build has, by platform. */
export const SUPPORTED_PLATFORMS: readonly Platform[] = [...factories.keys()];

/** The adapter of `platform` (see the module invariants). */
export async function tradingPlatform(platform: Platform): Promise<TradingPlatform> {
  const o = overrides.get(platform);
  if (o) return o;
  let p = instances.get(platform);
  if (!p) {
    const make = factories.get(platform);
    if (!make) throw notConfigured(platform, 'no adapter registered');
    p = make();
    instances.set(platform, p);
    // a connection that could not be configured is tried again on the next call (the secret may be filled now)
    p.catch(() => instances.delete(platform));
  }
  return p;
}

/** Replaces a platform's adapter (tests only); returns the restore function. */
export function usePlatformForTests(platform: Platform, adapter: TradingPlatform): () => void {
  overrides.set(platform, adapter);
  return () => overrides.delete(platform);
}
