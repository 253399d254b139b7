/**
 * The dealing desk's view of copy trading (issue 15): social exposure per symbol and direction (providers' open
 * volume and notional beside their followers' copies), with the tenant's alert threshold and whether the alert is
 * raised. Use case: functions/app/copy/exposure.ts.
 *
 * Invariants: finance, compliance and admin only; amounts are decimal strings of their currency, volumes lots x
 * 10,000 as integer strings; a currency without a threshold shows threshold null.
 */
import * as z from 'zod';
import { EXPOSURE_READERS, readExposure } from '#app/copy/exposure.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';

const Side = z.object({
  volume: z.string().meta({ description: 'Open volume, lots x 10,000' }),
  notional: z.string().meta({ description: 'Open notional at the opening prices, in `currency`' }),
});
export const ExposureView = z.object({
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  currency: z.string(),
  provider: Side,
  followers: Side,
  threshold: z.string().nullable().meta({ description: 'Copied notional at which the desk is alerted (tenant setting)' }),
  alerted: z.boolean(),
});

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/copy/exposure',
    operationId: 'getCopyExposure',
    summary: 'Social exposure: providers’ and followers’ open volume and notional per symbol and direction',
    tags: ['copy'],
    auth: EXPOSURE_READERS,
    responses: { 200: { description: 'Largest copied notional first', schema: z.object({ items: z.array(ExposureView) }) } },
    handler: async ({ caller, correlationId, locale }) => ({
      status: 200,
      body: { items: await readExposure({}, caller!, { requestId: correlationId, locale }) },
    }),
  }),
];

export const handler = httpHandler(...routes);
