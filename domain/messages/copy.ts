/**
 * Copy-trading disclosures shown with every strategy (issue 15): copy trading is an investment service (ESMA), so a
 * client sees the provider's fees and the past-performance and risk warnings in its language before it follows.
 *
 * Invariants: the texts state facts and risks only (no promise of returns); fee figures come in as already
 * formatted strings, so no locale formats money or percentages differently from the API's own fields.
 */
import { defineMessages, withParams } from './define.ts';

interface FeeParams {
  performance: string;
  management: string;
  volume: string;
  subscription: string;
  currency: string;
}

export const COPY_MESSAGES = defineMessages({
  'disclosure.past_performance': {
    en: 'Past performance is not a reliable indicator of future results. The statistics shown describe what this strategy did, not what it will do.',
    de: 'Die frühere Wertentwicklung ist kein verlässlicher Indikator für künftige Ergebnisse. Die gezeigten Kennzahlen beschreiben, was diese Strategie erzielt hat, nicht, was sie erzielen wird.',
    es: 'La rentabilidad pasada no es un indicador fiable de resultados futuros. Las estadísticas mostradas describen lo que esta estrategia ha hecho, no lo que hará.',
  },
  'disclosure.copy_risk': {
    en: 'Copy trading is an investment service. Your account trades leveraged CFDs automatically in proportion to the provider, and you can lose all the money in your copy account. Copies can be filled at different prices than the provider’s, or skipped.',
    de: 'Copy-Trading ist eine Wertpapierdienstleistung. Ihr Konto handelt gehebelte CFDs automatisch im Verhältnis zum Anbieter, und Sie können das gesamte Geld auf Ihrem Kopierkonto verlieren. Kopien können zu anderen Preisen als beim Anbieter ausgeführt oder ausgelassen werden.',
    es: 'El copy trading es un servicio de inversión. Su cuenta opera CFD apalancados automáticamente en proporción al proveedor, y puede perder todo el dinero de su cuenta de copia. Las copias pueden ejecutarse a precios distintos de los del proveedor, o no ejecutarse.',
  },
  'disclosure.fees': withParams<FeeParams>({
    en: (p) =>
      `Fees you pay to follow this strategy: ${p.performance} % of new profit above your high-water mark, ${p.management} % a year of your copy account's equity, ${p.volume} ${p.currency} per million traded per side, and ${p.subscription} ${p.currency} a month. Fees are charged monthly from your own start date, before any withdrawal from the copy account, and when you stop.`,
    de: (p) =>
      `Gebühren für das Folgen dieser Strategie: ${p.performance} % des neuen Gewinns über Ihrer Höchstmarke (High-Water-Mark), ${p.management} % pro Jahr des Kapitals Ihres Kopierkontos, ${p.volume} ${p.currency} je Million Handelsvolumen und Seite sowie ${p.subscription} ${p.currency} pro Monat. Die Gebühren werden monatlich ab Ihrem eigenen Startdatum, vor jeder Auszahlung vom Kopierkonto und beim Beenden berechnet.`,
    es: (p) =>
      `Comisiones por seguir esta estrategia: ${p.performance} % del nuevo beneficio por encima de su marca máxima (high-water mark), ${p.management} % anual del capital de su cuenta de copia, ${p.volume} ${p.currency} por millón negociado y lado, y ${p.subscription} ${p.currency} al mes. Las comisiones se cobran mensualmente desde su propia fecha de inicio, antes de cualquier retirada de la cuenta de copia y al dejar de copiar.`,
  }),
  'disclosure.new_strategy': withParams<{ days: number }>({
    en: (p) => `This strategy has a track record of fewer than ${p.days} days. Its statistics are shown but not ranked.`,
    de: (p) =>
      `Diese Strategie hat eine Historie von weniger als ${p.days} Tagen. Ihre Kennzahlen werden gezeigt, aber nicht gerankt.`,
    es: (p) =>
      `Esta estrategia tiene un historial de menos de ${p.days} días. Sus estadísticas se muestran, pero no se clasifican.`,
  }),
});
