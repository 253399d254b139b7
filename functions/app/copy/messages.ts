/**
 * The replication queue's messages (ADR 0017): what the fan-out sends one follower, and what the executor reads.
 * One FIFO queue; MessageGroupId = the follower's copy account (its opens, closes and stop apply in order, followers
 * in parallel); MessageDeduplicationId = the copy's id (a re-sent signal within SQS's five minutes is dropped, and
 * after them the executor's copy record makes it a no-op).
 *
 * Invariants: volumes, prices (points) and money (minor units) are integer strings; a message is parsed whole or
 * refused (a malformed message fails its record and reaches the DLQ after its receives).
 */
import * as z from 'zod';

const int = z.string().regex(/^-?\d+$/);

const signal = {
  subscriptionId: z.string().min(1),
  followerAccountId: z.string().min(1),
  /** When the back office recorded the signal (ms). */
  signalAtMsc: z.number().int().min(0),
};

export const DealSignalSchema = z.object({
  ...signal,
  kind: z.enum(['open', 'close']),
  dealKey: z.string().min(1),
  deal: z.number().int().min(1),
  strategyId: z.string().min(1),
  providerLogin: z.number().int().min(1),
  providerPositionId: z.number().int().min(0),
  symbol: z.string().min(1),
  /** The provider deal's side (for a close: the side that closed). */
  side: z.enum(['buy', 'sell']),
  volume: int,
  price: int,
  digits: z.number().int().min(0).max(10),
  providerTimeMsc: z.number().int().min(0),
  /** The provider deal's notional in minor units of the account currency, when the platform reports it. */
  notional: int.optional(),
  /** The provider account's balance and equity when the signal was sent (opens; the proportional modes). */
  provider: z.object({ balance: int, equity: int }).optional(),
});
export type DealSignal = z.output<typeof DealSignalSchema>;

export const StopSignalSchema = z.object({
  ...signal,
  kind: z.literal('stop'),
  reason: z.string().min(1),
});
export type StopSignal = z.output<typeof StopSignalSchema>;

export const CopySignalSchema = z.discriminatedUnion('kind', [DealSignalSchema, StopSignalSchema]);
export type CopySignal = z.output<typeof CopySignalSchema>;

export interface QueuedSignal {
  body: string;
  groupId: string;
  dedupId: string;
}

/** Sends signals to the replication queue (functions/adapters/queues/sqs.ts; a fake in tests). */
export interface SignalQueue {
  send(signals: readonly QueuedSignal[]): Promise<void>;
}
