/**
 * Payments: the tenant's deposit and withdrawal methods (which, where, limits, fees, processing
 * times), the deposit / withdrawal lifecycles, the PSP port and the sandbox outcome rule.
 * See each module's invariants; the config itself is validated in domain/tenant/config.ts.
 */
export * from './catalog.ts';
export * from './fees.ts';
export * from './methods.ts';
export type * from './ports.ts';
export * from './reasons.ts';
export * from './regions.ts';
export * from './sandbox.ts';
export * from './status.ts';
export * from './withdrawal-checks.ts';
