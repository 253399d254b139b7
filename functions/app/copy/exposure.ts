/**
 * Social exposure for the dealing desk (issue 15): per symbol and direction, what strategy providers hold open and
 * what their followers' copies hold, in volume and notional (functions/store/copy-exposure.ts), and the alert
 * when copied exposure on one symbol reaches the tenant's threshold (TenantConfig.copy.exposureAlerts, per
 * currency). Read by GET /v1/admin/copy/exposure; the alerts by the copy-exposure-alerts job every minute.
 *
 * Invariants:
 * - amounts on the wire are decimal strings of their currency, volumes lots x 10,000 as integer strings
 * - an alert is raised once per crossing: `alerted` is set in the transaction that audits it and emits
 *   copy.exposure.alert (state 'raised'); falling below clears it (state 'cleared'), so the next crossing alerts again
 * - a row whose currency has no threshold never alerts
 */
import type { Caller, Role } from '#domain/identity/roles.ts';
import { formatAmount, toMinor } from '#domain/money/index.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit, systemActor } from '#store/audit.ts';
import { allExposure, type ExposureItem, exposureEntity } from '#store/copy-exposure.ts';
import type { CommandContext } from '../context.ts';

export const EXPOSURE_READERS: readonly Role[] = ['finance', 'compliance', 'admin'];
export const EXPOSURE_ALERT_JOB = 'copy-exposure-alerts';
const ACTOR = systemActor(EXPOSURE_ALERT_JOB);

export interface ExposureRow {
  symbol: string;
  side: 'buy' | 'sell';
  currency: string;
  provider: { volume: string; notional: string };
  followers: { volume: string; notional: string };
  threshold: string | null;
  alerted: boolean;
}

const row = (e: ExposureItem): ExposureRow => {
  const threshold = tenantConfig().copy.exposureAlerts[e.currency];
  return {
    symbol: e.symbol,
    side: e.side,
    currency: e.currency,
    provider: { volume: e.providerVolume, notional: formatAmount(BigInt(e.providerNotional), e.currency) },
    followers: { volume: e.followerVolume, notional: formatAmount(BigInt(e.followerNotional), e.currency) },
    threshold: threshold ?? null,
    alerted: e.alerted === true,
  };
};

/** Every symbol and direction with open provider or copied volume, the largest copied notional first. */
export async function readExposure(_input: Record<string, never>, caller: Caller, _ctx: CommandContext): Promise<ExposureRow[]> {
  actorFrom(caller, EXPOSURE_READERS);
  const rows = (await allExposure()).filter((e) => e.providerVolume !== '0' || e.followerVolume !== '0');
  rows.sort((a, b) => {
    const d = BigInt(b.followerNotional) - BigInt(a.followerNotional);
    return d > 0n ? 1 : d < 0n ? -1 : 0;
  });
  return rows.map(row);
}

export interface ExposureAlertResult {
  checked: number;
  raised: number;
  cleared: number;
  failed: number;
}

/** Raises or clears the alert of every row whose copied notional crossed its currency's threshold. */
export async function checkExposureAlerts(_input: Record<string, never>, ctx: CommandContext): Promise<ExposureAlertResult> {
  const thresholds = tenantConfig().copy.exposureAlerts;
  const result: ExposureAlertResult = { checked: 0, raised: 0, cleared: 0, failed: 0 };
  for (const e of await allExposure()) {
    result.checked++;
    const t = thresholds[e.currency];
    if (t === undefined) continue;
    const over = BigInt(e.followerNotional) >= toMinor(t, e.currency);
    if (over === (e.alerted === true)) continue;
    const at = new Date().toISOString();
    const next = { ...e, alerted: over };
    const state = over ? 'raised' : 'cleared';
    try {
      await commit({
        writes: [exposureEntity.patch(e, next, at)],
        audit: {
          actor: ACTOR,
          action: `copy.exposure.alert_${state}`,
          entity: { type: exposureEntity.type, id: `${e.symbol}#${e.side}#${e.currency}` },
          before: { alerted: e.alerted === true },
          after: { alerted: over, followerNotional: e.followerNotional, threshold: t },
          requestId: ctx.requestId,
        },
        outbox: [
          {
            detailType: 'copy.exposure.alert',
            detail: {
              symbol: e.symbol,
              side: e.side,
              currency: e.currency,
              state,
              followerVolume: e.followerVolume,
              followerNotional: formatAmount(BigInt(e.followerNotional), e.currency),
              threshold: t,
            },
          },
        ],
      });
      if (over) result.raised++;
      else result.cleared++;
    } catch {
      result.failed++;
    }
  }
  return result;
}
