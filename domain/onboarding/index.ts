export * from './catalog.ts';
export * from './form.ts';
export * from './questionnaire.ts';
export * from './requirements.ts';
