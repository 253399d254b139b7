/**
 * Human descriptions of a wallet's entries, in the client's locale (en, de, es; anything else falls
 * back to English by primary language, then to English). Pure.
 *
 * Invariants:
 * - every journal type the ledger posts today has a description in every locale; an unknown type
 *   gets a generic, still localised, one (never an empty string, never an internal code)
 * - FX entries always show the applied rate, as "1 EUR = 1.0823 USD" with the locale's decimal mark
 * - descriptions never contain internal notes (adjustment reasons stay with finance and the audit)
 */

export const DESCRIPTION_LOCALES = ['en', 'de', 'es'] as const;
export type DescriptionLocale = (typeof DESCRIPTION_LOCALES)[number];

export interface EntryFacts {
  /** The journal's type (domain/ledger JOURNAL_TYPES), e.g. 'transfer', 'fx_transfer', 'adjustment'. */
  journalType: string;
  /** Money moved into (credit) or out of (debit) this wallet. */
  direction: 'credit' | 'debit';
  /** This entry's currency. */
  currency: string;
  /** For transfers: the currency of the other wallet. */
  counterCurrency?: string | undefined;
  /** For FX entries: the rate applied, units of `to` per one unit of `from`. */
  fx?: { from: string; to: string; rate: string } | undefined;
}

type Phrases = {
  transferOut: (to: string) => string;
  transferIn: (from: string) => string;
  fxOut: (from: string, to: string) => string;
  fxIn: (from: string, to: string) => string;
  rate: string;
  adjustmentCredit: string;
  adjustmentDebit: string;
  deposit: string;
  withdrawal: string;
  fee: string;
  commission: string;
  chargeback: string;
  reversal: string;
  genericCredit: string;
  genericDebit: string;
};

const PHRASES: Record<DescriptionLocale, Phrases> = {
  en: {
    transferOut: (to) => `Transfer to your ${to} wallet`,
    transferIn: (from) => `Transfer from your ${from} wallet`,
    fxOut: (from, to) => `Currency exchange ${from} → ${to}`,
    fxIn: (from, to) => `Currency exchange ${from} → ${to}`,
    rate: 'rate',
    adjustmentCredit: 'Balance adjustment (credit)',
    adjustmentDebit: 'Balance adjustment (debit)',
    deposit: 'Deposit',
    withdrawal: 'Withdrawal',
    fee: 'Fee',
    commission: 'Commission',
    chargeback: 'Chargeback',
    reversal: 'Reversal',
    genericCredit: 'Credit',
    genericDebit: 'Debit',
  },
  de: {
    transferOut: (to) => `Übertrag auf Ihr ${to}-Wallet`,
    transferIn: (from) => `Übertrag von Ihrem ${from}-Wallet`,
    fxOut: (from, to) => `Währungsumtausch ${from} → ${to}`,
    fxIn: (from, to) => `Währungsumtausch ${from} → ${to}`,
    rate: 'Kurs',
    adjustmentCredit: 'Saldokorrektur (Gutschrift)',
    adjustmentDebit: 'Saldokorrektur (Belastung)',
    deposit: 'Einzahlung',
    withdrawal: 'Auszahlung',
    fee: 'Gebühr',
    commission: 'Provision',
    chargeback: 'Rückbuchung (Chargeback)',
    reversal: 'Stornierung',
    genericCredit: 'Gutschrift',
    genericDebit: 'Belastung',
  },
  es: {
    transferOut: (to) => `Transferencia a su billetera ${to}`,
    transferIn: (from) => `Transferencia desde su billetera ${from}`,
    fxOut: (from, to) => `Cambio de divisa ${from} → ${to}`,
    fxIn: (from, to) => `Cambio de divisa ${from} → ${to}`,
    rate: 'tipo',
    adjustmentCredit: 'Ajuste de saldo (abono)',
    adjustmentDebit: 'Ajuste de saldo (cargo)',
    deposit: 'Depósito',
    withdrawal: 'Retiro',
    fee: 'Comisión',
    commission: 'Comisión de intermediación',
    chargeback: 'Contracargo',
    reversal: 'Anulación',
    genericCredit: 'Abono',
    genericDebit: 'Cargo',
  },
};

/** The description locale for a tenant locale such as 'de-DE' (primary language), else 'en'. */
export function descriptionLocale(locale: string): DescriptionLocale {
  const primary = locale.toLowerCase().split('-')[0] as DescriptionLocale;
  return (DESCRIPTION_LOCALES as readonly string[]).includes(primary) ? primary : 'en';
}

/** A rate with the locale's decimal mark: '1.0823' in en, '1,0823' in de and es. */
export function formatRate(rate: string, locale: string): string {
  return descriptionLocale(locale) === 'en' ? rate : rate.replace('.', ',');
}

/** "1 EUR = 1.0823 USD" (localised decimal mark). */
export function rateText(fx: { from: string; to: string; rate: string }, locale: string): string {
  return `1 ${fx.from} = ${formatRate(fx.rate, locale)} ${fx.to}`;
}

/** The entry's description in `locale`. */
export function describeEntry(facts: EntryFacts, locale: string): string {
  const p = PHRASES[descriptionLocale(locale)];
  const credit = facts.direction === 'credit';
  if (facts.fx || facts.journalType === 'fx_transfer') {
    const from = facts.fx?.from ?? (credit ? (facts.counterCurrency ?? '?') : facts.currency);
    const to = facts.fx?.to ?? (credit ? facts.currency : (facts.counterCurrency ?? '?'));
    const head = credit ? p.fxIn(from, to) : p.fxOut(from, to);
    return facts.fx ? `${head}, ${p.rate} ${rateText(facts.fx, locale)}` : head;
  }
  if (facts.journalType === 'transfer') {
    const other = facts.counterCurrency ?? facts.currency;
    return credit ? p.transferIn(other) : p.transferOut(other);
  }
  switch (facts.journalType) {
    case 'adjustment':
      return credit ? p.adjustmentCredit : p.adjustmentDebit;
    case 'deposit':
      return p.deposit;
    case 'withdrawal':
    case 'hold_post':
      return credit ? p.genericCredit : p.withdrawal;
    case 'fee':
      return p.fee;
    case 'commission':
      return p.commission;
    case 'chargeback':
      return p.chargeback;
    case 'reversal':
      return p.reversal;
    default:
      return credit ? p.genericCredit : p.genericDebit;
  }
}
