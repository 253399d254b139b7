/**
 * The ledger's shared input contracts: money as JSON and a wallet id. The API modules parse requests
 * with them and the use cases type their input with them (payments use them too).
 *
 * Invariants:
 * - money is JSON `{ amount: "123.45", currency: "USD" }`: a decimal string in major units; the format
 *   is only bounded here and checked by parseMoney (domain/money), so each fault gets its own code
 * - a wallet id is an account id (domain/ledger ID_PATTERN), at most 128 characters
 */
import * as z from 'zod';
import { ID_PATTERN } from '#domain/ledger/index.ts';

/** Money as JSON. The format is checked by parseMoney (domain/money) so each fault gets its own code. */
export const MoneyJson = z
  .strictObject({
    amount: z.string().max(48).meta({ description: 'Decimal string in major units, e.g. "123.45"', example: '123.45' }),
    currency: z.string().max(12).meta({ description: 'Currency code, e.g. USD', example: 'USD' }),
  })
  .meta({ id: 'Money', description: 'An amount in major units as a decimal string, and its currency' });
export type MoneyInput = z.infer<typeof MoneyJson>;

export const WalletId = z.string().min(1).max(128).regex(ID_PATTERN);
