/**
 * Email templates, per locale with an English fallback.
 *
 * Invariants:
 * - every template exists in 'en'; an unknown locale falls back to its language, then to 'en'
 * - template inputs are escaped before they go into HTML
 */
import type { EmailMessage } from './port.ts';

export interface WelcomeInput {
  to: string;
  firstName: string;
  brandName: string;
  supportEmail: string;
  locale: string;
}

const WELCOME: Record<
  string,
  { subject: (b: string) => string; greeting: (n: string) => string; body: (b: string) => string; help: (s: string) => string }
> = {
  en: {
    subject: (b) => `Welcome to ${b}`,
    greeting: (n) => `Hello ${n},`,
    body: (b) => `Your ${b} account has been created. The next step is to complete your profile.`,
    help: (s) => `Questions? Write to ${s}.`,
  },
  de: {
    subject: (b) => `Willkommen bei ${b}`,
    greeting: (n) => `Hallo ${n},`,
    body: (b) => `Ihr ${b}-Konto wurde eröffnet. Als Nächstes vervollständigen Sie bitte Ihr Profil.`,
    help: (s) => `Fragen? Schreiben Sie an ${s}.`,
  },
  es: {
    subject: (b) => `Bienvenido a ${b}`,
    greeting: (n) => `Hola ${n}:`,
    body: (b) => `Su cuenta de ${b} ha sido creada. El siguiente paso es completar su perfil.`,
    help: (s) => `¿Preguntas? Escriba a ${s}.`,
  },
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function resolveLocale(locale: string): string {
  if (locale in WELCOME) return locale;
  const lang = locale.split('-')[0] ?? 'en';
  return lang in WELCOME ? lang : 'en';
}

export function welcomeEmail(i: WelcomeInput): EmailMessage {
  const locale = resolveLocale(i.locale);
  const t = WELCOME[locale]!;
  const lines = [t.greeting(i.firstName), t.body(i.brandName), t.help(i.supportEmail)];
  return {
    to: i.to,
    subject: t.subject(i.brandName),
    text: lines.join('\n\n'),
    html: lines.map((l) => `<p>${escapeHtml(l)}</p>`).join(''),
    template: 'welcome',
    locale,
  };
}
