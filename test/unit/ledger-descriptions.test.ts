/** Entry descriptions per journal type and locale; FX entries show their rate. */
import { describe, expect, it } from 'vitest';
import { describeEntry, descriptionLocale, rateText } from '#domain/ledger/descriptions.ts';
import { JOURNAL_TYPES } from '#domain/ledger/model.ts';

const fx = { from: 'USD', to: 'EUR', rate: '0.9193548387' };

describe('describeEntry', () => {
  it('describes transfers from both sides', () => {
    expect(describeEntry({ journalType: 'transfer', direction: 'debit', currency: 'USD', counterCurrency: 'USD' }, 'en')).toBe(
      'Transfer to your USD wallet',
    );
    expect(describeEntry({ journalType: 'transfer', direction: 'credit', currency: 'USD', counterCurrency: 'USD' }, 'de')).toBe(
      'Übertrag von Ihrem USD-Wallet',
    );
  });

  it('shows the FX rate on both legs, with the locale decimal mark', () => {
    const out = describeEntry({ journalType: 'fx_transfer', direction: 'debit', currency: 'USD', fx }, 'en');
    expect(out).toBe('Currency exchange USD → EUR, rate 1 USD = 0.9193548387 EUR');
    const inDe = describeEntry({ journalType: 'fx_transfer', direction: 'credit', currency: 'EUR', fx }, 'de-DE');
    expect(inDe).toContain('1 USD = 0,9193548387 EUR');
    expect(describeEntry({ journalType: 'fx_transfer', direction: 'credit', currency: 'EUR', fx }, 'es')).toContain(
      'Cambio de divisa USD → EUR',
    );
  });

  it('has a non-empty description for every journal type, direction and locale, never the raw code', () => {
    for (const journalType of JOURNAL_TYPES) {
      for (const direction of ['credit', 'debit'] as const) {
        for (const locale of ['en', 'de', 'es']) {
          const d = describeEntry({ journalType, direction, currency: 'USD', counterCurrency: 'EUR' }, locale);
          expect(d.length, `${journalType} ${direction} ${locale}`).toBeGreaterThan(0);
          expect(d).not.toContain('_');
        }
      }
    }
  });

  it('adjustments are described by direction, in each locale', () => {
    expect(describeEntry({ journalType: 'adjustment', direction: 'credit', currency: 'USD' }, 'en')).toBe(
      'Balance adjustment (credit)',
    );
    expect(describeEntry({ journalType: 'adjustment', direction: 'debit', currency: 'USD' }, 'es')).toBe(
      'Ajuste de saldo (cargo)',
    );
  });

  it('unknown types and locales fall back, still readable', () => {
    expect(describeEntry({ journalType: 'mystery', direction: 'credit', currency: 'USD' }, 'fr')).toBe('Credit');
    expect(descriptionLocale('es-MX')).toBe('es');
    expect(descriptionLocale('pt')).toBe('en');
    expect(rateText({ from: 'EUR', to: 'JPY', rate: '164.05' }, 'es')).toBe('1 EUR = 164,05 JPY');
  });
});
