/**
 * The single table's shape, declared once. CDK (infra/) and the local runtime (local/dynamodb.ts)
 * both build the table from this, so local and deployed tables cannot differ.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

export const GSIS = [
  { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  { name: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
] as const;

export type GsiName = (typeof GSIS)[number]['name'];

/** Items with this attribute set (epoch seconds) are removed by DynamoDB TTL. */
export const TTL_ATTRIBUTE = 'expiresAt';

export const STREAM_VIEW = 'NEW_AND_OLD_IMAGES' as const;

/** Every item carries these. */
export interface BaseItem {
  pk: string;
  sk: string;
  type: string;
  tenant: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}
