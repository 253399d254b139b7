/**
 * The MiFID II appropriateness test (Art. 25(3) MiFID II, Art. 55-56 Delegated Regulation 2017/565)
 * as data: questions on knowledge of CFDs, leverage and margin calls, trading experience
 * (frequency, volume), and education/profession, each option scored, labels in en/de/es.
 *
 * Invariants:
 * - every question is answered with one of its option ids; missing answers fail with
 *   `questionnaire_incomplete`, unknown questions or options with `unknown_answer`, each field named
 * - score >= thresholds.appropriate -> 'appropriate'; score >= thresholds.warn -> 'warn' (the client
 *   may proceed after an explicit risk warning); below -> 'not_appropriate' and the questionnaire's
 *   blocked instrument classes are closed to the client
 * - maxScore is the sum of each question's highest option score
 */
import { DomainError, type FieldError } from '../errors.ts';
import type { InstrumentClass, QuestionnaireId } from './catalog.ts';

export const TEXT_LOCALES = ['en', 'de', 'es'] as const;
export type TextLocale = (typeof TEXT_LOCALES)[number];
export type LocalizedText = Record<TextLocale, string>;

export interface QuestionOption {
  id: string;
  score: number;
  label: LocalizedText;
  /** A warning code raised whenever this option is chosen (e.g. the client does not understand margin calls). */
  warning?: string;
}

export interface Question {
  id: string;
  topic: 'knowledge' | 'experience' | 'education';
  label: LocalizedText;
  options: QuestionOption[];
}

export interface Questionnaire {
  id: QuestionnaireId;
  title: LocalizedText;
  questions: Question[];
  thresholds: { appropriate: number; warn: number };
  /** Instrument classes closed to a client whose result is 'not_appropriate'. */
  blockedWhenNotAppropriate: InstrumentClass[];
}

const dontKnow: QuestionOption = {
  id: 'dont_know',
  score: 0,
  label: { en: "I don't know", de: 'Ich weiß es nicht', es: 'No lo sé' },
};

export const MIFID2_APPROPRIATENESS: Questionnaire = {
  id: 'mifid2-appropriateness',
  title: {
    en: 'Appropriateness assessment',
    de: 'Angemessenheitsprüfung',
    es: 'Evaluación de la conveniencia',
  },
  thresholds: { appropriate: 14, warn: 8 },
  blockedWhenNotAppropriate: ['index_minor', 'commodity', 'equity', 'crypto'],
  questions: [
    {
      id: 'cfd_knowledge',
      topic: 'knowledge',
      label: {
        en: 'When you trade a CFD, what do you own?',
        de: 'Was besitzen Sie, wenn Sie einen CFD handeln?',
        es: 'Cuando opera con un CFD, ¿qué posee?',
      },
      options: [
        {
          id: 'contract_on_price',
          score: 3,
          label: {
            en: 'A contract on the price difference, not the underlying asset',
            de: 'Einen Vertrag auf die Preisdifferenz, nicht den Basiswert',
            es: 'Un contrato sobre la diferencia de precio, no el activo subyacente',
          },
        },
        {
          id: 'underlying_asset',
          score: 0,
          label: { en: 'The underlying asset itself', de: 'Den Basiswert selbst', es: 'El propio activo subyacente' },
        },
        dontKnow,
      ],
    },
    {
      id: 'leverage_effect',
      topic: 'knowledge',
      label: {
        en: 'With leverage of 30:1, how does a 1% price move against your position affect the margin you used?',
        de: 'Wie wirkt sich bei einem Hebel von 30:1 eine Kursbewegung von 1% gegen Ihre Position auf die eingesetzte Margin aus?',
        es: 'Con un apalancamiento de 30:1, ¿cómo afecta un movimiento del precio del 1% en su contra al margen utilizado?',
      },
      options: [
        {
          id: 'loss_30_percent',
          score: 3,
          label: { en: 'I lose about 30% of it', de: 'Ich verliere etwa 30% davon', es: 'Pierdo alrededor del 30%' },
        },
        {
          id: 'loss_1_percent',
          score: 0,
          label: { en: 'I lose about 1% of it', de: 'Ich verliere etwa 1% davon', es: 'Pierdo alrededor del 1%' },
          warning: 'does_not_understand_leverage',
        },
        { ...dontKnow, warning: 'does_not_understand_leverage' },
      ],
    },
    {
      id: 'margin_call',
      topic: 'knowledge',
      label: {
        en: 'What can happen when your equity falls below the required margin?',
        de: 'Was kann passieren, wenn Ihr Eigenkapital unter die erforderliche Margin fällt?',
        es: '¿Qué puede ocurrir cuando su capital cae por debajo del margen requerido?',
      },
      options: [
        {
          id: 'positions_closed',
          score: 3,
          label: {
            en: 'My positions may be closed automatically at a loss',
            de: 'Meine Positionen können automatisch mit Verlust geschlossen werden',
            es: 'Mis posiciones pueden cerrarse automáticamente con pérdidas',
          },
        },
        {
          id: 'nothing_happens',
          score: 0,
          label: {
            en: 'Nothing, positions stay open until I close them',
            de: 'Nichts, Positionen bleiben offen, bis ich sie schließe',
            es: 'Nada, las posiciones siguen abiertas hasta que las cierre',
          },
          warning: 'does_not_understand_margin_calls',
        },
        { ...dontKnow, warning: 'does_not_understand_margin_calls' },
      ],
    },
    {
      id: 'loss_risk',
      topic: 'knowledge',
      label: {
        en: 'Which statement about losses on leveraged products is correct?',
        de: 'Welche Aussage über Verluste bei gehebelten Produkten ist richtig?',
        es: '¿Qué afirmación sobre las pérdidas en productos apalancados es correcta?',
      },
      options: [
        {
          id: 'can_lose_all',
          score: 3,
          label: {
            en: 'I can quickly lose all the money I deposit',
            de: 'Ich kann das eingezahlte Geld schnell vollständig verlieren',
            es: 'Puedo perder rápidamente todo el dinero depositado',
          },
        },
        {
          id: 'losses_limited',
          score: 0,
          label: {
            en: 'Losses are limited to a small part of my deposit',
            de: 'Verluste sind auf einen kleinen Teil meiner Einzahlung begrenzt',
            es: 'Las pérdidas se limitan a una pequeña parte de mi depósito',
          },
          warning: 'underestimates_loss_risk',
        },
        dontKnow,
      ],
    },
    {
      id: 'trading_frequency',
      topic: 'experience',
      label: {
        en: 'How often did you trade CFDs, forex or other leveraged products in the last 12 months?',
        de: 'Wie oft haben Sie in den letzten 12 Monaten CFDs, Devisen oder andere gehebelte Produkte gehandelt?',
        es: '¿Con qué frecuencia ha operado con CFD, divisas u otros productos apalancados en los últimos 12 meses?',
      },
      options: [
        { id: 'never', score: 0, label: { en: 'Never', de: 'Nie', es: 'Nunca' } },
        { id: 'up_to_10', score: 1, label: { en: '1 to 10 trades', de: '1 bis 10 Trades', es: 'De 1 a 10 operaciones' } },
        { id: 'up_to_40', score: 2, label: { en: '11 to 40 trades', de: '11 bis 40 Trades', es: 'De 11 a 40 operaciones' } },
        { id: 'over_40', score: 3, label: { en: 'More than 40 trades', de: 'Mehr als 40 Trades', es: 'Más de 40 operaciones' } },
      ],
    },
    {
      id: 'trading_volume',
      topic: 'experience',
      label: {
        en: 'What was the total notional volume of those trades (EUR equivalent)?',
        de: 'Wie hoch war das gesamte Nominalvolumen dieser Trades (EUR-Gegenwert)?',
        es: '¿Cuál fue el volumen nocional total de esas operaciones (equivalente en EUR)?',
      },
      options: [
        { id: 'none', score: 0, label: { en: 'None', de: 'Keines', es: 'Ninguno' } },
        { id: 'under_10k', score: 1, label: { en: 'Less than 10,000', de: 'Weniger als 10.000', es: 'Menos de 10.000' } },
        {
          id: '10k_to_100k',
          score: 2,
          label: { en: '10,000 to 100,000', de: '10.000 bis 100.000', es: 'De 10.000 a 100.000' },
        },
        { id: 'over_100k', score: 3, label: { en: 'More than 100,000', de: 'Mehr als 100.000', es: 'Más de 100.000' } },
      ],
    },
    {
      id: 'education',
      topic: 'education',
      label: {
        en: 'What is your highest education relevant to financial markets?',
        de: 'Was ist Ihre höchste Ausbildung mit Bezug zu Finanzmärkten?',
        es: '¿Cuál es su formación más alta relacionada con los mercados financieros?',
      },
      options: [
        { id: 'none', score: 0, label: { en: 'None', de: 'Keine', es: 'Ninguna' } },
        {
          id: 'course',
          score: 1,
          label: {
            en: 'A trading or investment course',
            de: 'Ein Trading- oder Investmentkurs',
            es: 'Un curso de trading o inversión',
          },
        },
        {
          id: 'degree',
          score: 2,
          label: {
            en: 'A degree in finance, economics or mathematics',
            de: 'Ein Studium in Finanzen, Wirtschaft oder Mathematik',
            es: 'Un título en finanzas, economía o matemáticas',
          },
        },
        {
          id: 'professional_certification',
          score: 3,
          label: {
            en: 'A professional certification (e.g. CFA, CISI)',
            de: 'Eine Berufszertifizierung (z. B. CFA, CISI)',
            es: 'Una certificación profesional (p. ej., CFA, CISI)',
          },
        },
      ],
    },
    {
      id: 'profession',
      topic: 'education',
      label: {
        en: 'Have you worked in the financial sector in a role requiring knowledge of leveraged products?',
        de: 'Haben Sie im Finanzsektor in einer Funktion gearbeitet, die Kenntnisse über gehebelte Produkte erfordert?',
        es: '¿Ha trabajado en el sector financiero en un puesto que requiera conocer productos apalancados?',
      },
      options: [
        { id: 'no', score: 0, label: { en: 'No', de: 'Nein', es: 'No' } },
        {
          id: 'under_1_year',
          score: 2,
          label: { en: 'Yes, for less than a year', de: 'Ja, weniger als ein Jahr', es: 'Sí, menos de un año' },
        },
        {
          id: 'at_least_1_year',
          score: 3,
          label: { en: 'Yes, for a year or more', de: 'Ja, ein Jahr oder länger', es: 'Sí, un año o más' },
        },
      ],
    },
  ],
};

export const QUESTIONNAIRES: Readonly<Record<QuestionnaireId, Questionnaire>> = {
  'mifid2-appropriateness': MIFID2_APPROPRIATENESS,
};

export type AppropriatenessResult = 'appropriate' | 'warn' | 'not_appropriate';

export interface AppropriatenessScore {
  questionnaire: QuestionnaireId;
  score: number;
  maxScore: number;
  result: AppropriatenessResult;
  /** Instrument classes closed to the client (empty unless 'not_appropriate'). */
  blockedProducts: InstrumentClass[];
  /** Warning codes: 'limited_knowledge_experience' for 'warn', 'not_appropriate', plus per-answer codes. */
  warnings: string[];
}

export function maxScore(q: Questionnaire): number {
  return q.questions.reduce((sum, question) => sum + Math.max(...question.options.map((o) => o.score)), 0);
}

/** The result band for a score under the questionnaire's thresholds. */
export function appropriatenessResult(score: number, q: Questionnaire = MIFID2_APPROPRIATENESS): AppropriatenessResult {
  if (score >= q.thresholds.appropriate) return 'appropriate';
  if (score >= q.thresholds.warn) return 'warn';
  return 'not_appropriate';
}

/**
 * Scores answers ({ questionId: optionId }) against a questionnaire (default: MiFID II appropriateness).
 * Throws DomainError `unknown_answer` (unknown question or option) or `questionnaire_incomplete`
 * (a question unanswered), with one field error per offending `answers.<questionId>`.
 */
export function scoreAppropriateness(answers: unknown, q: Questionnaire = MIFID2_APPROPRIATENESS): AppropriatenessScore {
  if (typeof answers !== 'object' || answers === null || Array.isArray(answers)) {
    throw new DomainError('questionnaire_incomplete', 'validation', 'answers must be an object of questionId: optionId', [
      { field: 'answers', code: 'required', message: 'must be an object of questionId: optionId' },
    ]);
  }
  const given = answers as Record<string, unknown>;
  const unknown: FieldError[] = [];
  const missing: FieldError[] = [];
  for (const key of Object.keys(given)) {
    if (!q.questions.some((question) => question.id === key)) {
      unknown.push({ field: `answers.${key}`, code: 'unknown_question', message: 'is not a question of this questionnaire' });
    }
  }
  let score = 0;
  const warnings: string[] = [];
  for (const question of q.questions) {
    const answer = given[question.id];
    if (answer === undefined || answer === null || answer === '') {
      missing.push({ field: `answers.${question.id}`, code: 'required', message: 'must be answered' });
      continue;
    }
    const option = question.options.find((o) => o.id === answer);
    if (!option) {
      unknown.push({
        field: `answers.${question.id}`,
        code: 'unknown_option',
        message: `must be one of ${question.options.map((o) => o.id).join(', ')}`,
      });
      continue;
    }
    score += option.score;
    if (option.warning && !warnings.includes(option.warning)) warnings.push(option.warning);
  }
  if (unknown.length > 0) {
    throw new DomainError('unknown_answer', 'validation', 'some answers are not options of this questionnaire', [
      ...unknown,
      ...missing,
    ]);
  }
  if (missing.length > 0) {
    throw new DomainError('questionnaire_incomplete', 'validation', 'every question must be answered', missing);
  }
  const result = appropriatenessResult(score, q);
  if (result === 'warn') warnings.unshift('limited_knowledge_experience');
  if (result === 'not_appropriate') warnings.unshift('not_appropriate');
  return {
    questionnaire: q.id,
    score,
    maxScore: maxScore(q),
    result,
    blockedProducts: result === 'not_appropriate' ? [...q.blockedWhenNotAppropriate] : [],
    warnings,
  };
}
