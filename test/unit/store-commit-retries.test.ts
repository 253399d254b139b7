/**
 * How commit() answers DynamoDB's cancellation reasons, including the ones DynamoDB Local never
 * produces (it runs transactions one at a time): conflicts, throttling and in-progress retries are
 * retried; the caller's own failed conditions are its typed error, never retried.
 */
import { TransactionCanceledException, TransactionInProgressException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import { commit } from '#store/audit.ts';
import { useDemoTenant } from '../support/tenant.ts';

useDemoTenant();
const ddbMock = mockClient(DynamoDBDocumentClient);
afterAll(() => ddbMock.restore());

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const input = (conditionFailedError?: DomainError) => ({
  writes: [{ Put: { Item: { pk: 'X#1', sk: 'X', type: 'x' } }, ...(conditionFailedError ? { conditionFailedError } : {}) }],
  audit: {
    actor: { id: 'a', role: 'admin' },
    action: 'x.created',
    entity: { type: 'x', id: '1' },
    before: null,
    after: {},
    requestId: 'r',
  },
});

beforeEach(() => {
  ddbMock.reset();
  ddbMock.on(GetCommand).resolves({});
});

describe('commit() retries what is worth retrying', () => {
  for (const code of ['TransactionConflict', 'ThrottlingError']) {
    it(`a ${code} cancellation is retried and the commit then succeeds`, async () => {
      ddbMock
        .on(TransactWriteCommand)
        .rejectsOnce(cancelled('None', code, 'None'))
        .resolves({});
      await expect(commit(input())).resolves.toMatchObject({ audit: [{ seq: 1 }] });
      expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(2);
    });
  }

  it('a TransactionInProgressException is retried', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .rejectsOnce(new TransactionInProgressException({ message: 'in progress', $metadata: {} }))
      .resolves({});
    await commit(input());
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it("the caller's failed condition is its own typed error and is not retried", async () => {
    const taken = new DomainError('x_taken', 'conflict', 'taken');
    ddbMock.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));
    await expect(commit(input(taken))).rejects.toBe(taken);
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('a validation cancellation is not retried', async () => {
    ddbMock.on(TransactWriteCommand).rejects(cancelled('ValidationError', 'None', 'None'));
    await expect(commit(input())).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('endless conflicts end in concurrent_modification, not a loop', async () => {
    ddbMock.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None', 'None'));
    await expect(commit(input())).rejects.toMatchObject({ code: 'concurrent_modification' });
  });
});
