/**
 * AWS SDK clients, created once per container (module singletons) and reused across invocations.
 * Endpoints come from the standard AWS_ENDPOINT_URL[_SERVICE] variables when set (local runtime, LocalStack).
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const lazy = <T>(make: () => T) => {
  let v: T | undefined;
  return () => (v ??= make());
};

export const dynamo = lazy(() => new DynamoDBClient({}));
export const ddb = lazy(() =>
  DynamoDBDocumentClient.from(dynamo(), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  }),
);
export const events = lazy(() => new EventBridgeClient({}));
export const s3 = lazy(
  () => new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) }),
);
export const sfn = lazy(() => new SFNClient({}));
export const sqs = lazy(() => new SQSClient({}));
export const cognito = lazy(() => new CognitoIdentityProviderClient({}));
