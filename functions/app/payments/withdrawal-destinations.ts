/**
 * Where a withdrawal's payout may go: a funding source of the method (card, e-wallet: closed loop), or an
 * account the client names (a bank wire's IBAN, a crypto address on the method's network). Pure rules,
 * used by request-withdrawal.ts.
 *
 * Invariants:
 * - card and e-wallet payouts go only to a funding source of the same method (422
 *   destination_must_be_funding_source when an account is named; 422 unknown_funding_source for a source
 *   id that is not one of the client's of this method, another client's included)
 * - a bank wire account is a valid IBAN (422 invalid_iban), stored in its electronic form and shown masked
 * - a crypto account has a plausible address shape for the network the method id names (422
 *   invalid_crypto_address), shown masked
 * - an account that is one of the client's sources of this method carries that source's id (and display)
 */
import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import { DomainError } from '#domain/errors.ts';
import { isSameAccount } from '#domain/payments/withdrawal-checks.ts';
import type { PaymentMethodConfig } from '#domain/tenant/config.ts';
import type { FundingSource } from '#store/payments/client-state.ts';

/** Where the client asked the payout to go. */
export type DestinationInput = { sourceId: string } | { account: string };

export interface ResolvedDestination {
  sourceId?: string | undefined;
  account: string;
  display: string;
}

/** A 422 refusal naming the field at fault. */
export const refused = (code: string, message: string, field: string, meta: Record<string, unknown> = {}) =>
  new DomainError(code, 'unprocessable', message, [{ field, code, message }], meta);

/** The crypto networks a method id names, with a plausible address shape for each. */
const NETWORKS: { name: string; names: RegExp; address: RegExp }[] = [
  { name: 'TRC20', names: /trc-?20|tron/i, address: /^T[1-9A-HJ-NP-Za-km-z]{33}$/ },
  { name: 'ERC20', names: /erc-?20|ethereum/i, address: /^0x[0-9a-fA-F]{40}$/ },
  { name: 'BEP20', names: /bep-?20|bsc/i, address: /^0x[0-9a-fA-F]{40}$/ },
  { name: 'SOL', names: /\bsol|solana/i, address: /^[1-9A-HJ-NP-Za-km-z]{32,44}$/ },
  {
    name: 'BTC',
    names: /btc|bitcoin/i,
    address: /^(bc1[02-9ac-hj-np-z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})$/,
  },
];
/** A method naming no known network: any address of 20..128 URL-safe characters. */
const ANY_ADDRESS = /^[A-Za-z0-9_:-]{20,128}$/;

/** True when `address` has the usual shape of an address on the network the method id names. */
export function isPlausibleCryptoAddress(methodId: string, address: string): boolean {
  const network = NETWORKS.find((n) => n.names.test(methodId));
  return (network?.address ?? ANY_ADDRESS).test(address);
}

/** 'DE89 •••• 3000' */
export const maskIban = (iban: string) => `${iban.slice(0, 4)} •••• ${iban.slice(-4)}`;
/** 'TXyz12…abcd' */
export const maskAddress = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`;

/**
 * Where the payout goes. `{ sourceId }`: one of the client's funding sources of this method (422
 * unknown_funding_source otherwise, another client's included). `{ account }`: bank wire (a valid IBAN,
 * 422 invalid_iban) or crypto (a plausible address, 422 invalid_crypto_address); card and e-wallet pay
 * out only to a funding source (422 destination_must_be_funding_source). An account that is one of the
 * client's sources of this method carries that source's id.
 */
export function resolveDestination(
  method: PaymentMethodConfig,
  destination: DestinationInput,
  sources: readonly FundingSource[],
): ResolvedDestination {
  const ofMethod = sources.filter((s) => s.methodId === method.id);
  if ('sourceId' in destination) {
    const source = ofMethod.find((s) => s.sourceId === destination.sourceId);
    if (!source) {
      throw refused('unknown_funding_source', `No funding source of ${method.id} with this id`, 'destination.sourceId', {
        methodId: method.id,
      });
    }
    return { sourceId: source.sourceId, account: source.account, display: source.display };
  }
  let account: string;
  let display: string;
  switch (method.kind) {
    case 'bank_wire': {
      account = electronicFormatIBAN(destination.account) ?? '';
      if (!isValidIBAN(account)) throw refused('invalid_iban', 'Not a valid IBAN', 'destination.account');
      display = maskIban(account);
      break;
    }
    case 'crypto': {
      account = destination.account;
      if (!isPlausibleCryptoAddress(method.id, account)) {
        throw refused('invalid_crypto_address', `Not an address for ${method.id}`, 'destination.account', {
          methodId: method.id,
        });
      }
      display = maskAddress(account);
      break;
    }
    default:
      throw refused(
        'destination_must_be_funding_source',
        `${method.id} pays out only to an account you deposited from: name its sourceId`,
        'destination',
        { methodId: method.id },
      );
  }
  const known = ofMethod.find((s) => isSameAccount(s.account, account));
  return known ? { sourceId: known.sourceId, account, display: known.display } : { account, display };
}
