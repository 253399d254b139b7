import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { localClient } from '#local/dynamodb.ts';
import { GSIS, TTL_ATTRIBUTE } from '#store/table.ts';
import { createTestTable } from '../support/dynamodb.ts';

describe('the local table is built from the shared definition', () => {
  it('has the key schema, every GSI and a stream', async () => {
    const name = await createTestTable();
    const client = localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB!);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    expect(Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(['pk', 'sk']);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual(GSIS.map((g) => g.name).sort());
    expect(Table?.StreamSpecification?.StreamEnabled).toBe(true);
    expect(TTL_ATTRIBUTE).toBe('expiresAt');
    client.destroy();
  });
});
