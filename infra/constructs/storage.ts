/**
 * S3: KYC documents (uploaded by the trader room with presigned POST), the Object Lock audit archive
 * (compliance mode: nobody, not even the root user, can shorten retention or delete a version early),
 * the PSP settlement reports (psp/<provider>/<YYYY-MM-DD>/...: what the providers say they settled, read
 * by the PSP reconciliation job), and a bucket for the other buckets' server access logs.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  HttpMethods,
  ObjectLockRetention,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

export interface StorageProps {
  key: IKey;
  auditRetentionYears: number;
  /** Browser origins allowed to upload documents (CORS); ['*'] when the tenant has no domain. */
  corsOrigins: string[];
}

export class Storage extends Construct {
  readonly logsBucket: Bucket;
  readonly documentsBucket: Bucket;
  readonly auditBucket: Bucket;
  readonly settlementsBucket: Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    this.logsBucket = new Bucket(this, 'AccessLogsBucket', {
      // S3 server access logging only delivers to SSE-S3 buckets, not SSE-KMS.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(400), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.logsBucket,
      'AwsSolutions-S1',
      'This is the server access log destination itself; logging it to itself would loop.',
    );

    this.documentsBucket = new Bucket(this, 'DocumentsBucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'documents/',
      cors: [
        {
          // Presigned POST uploads and presigned GET previews from the trader room / back office.
          allowedMethods: [HttpMethods.POST, HttpMethods.GET, HttpMethods.HEAD],
          allowedOrigins: props.corsOrigins,
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.auditBucket = new Bucket(this, 'AuditBucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(365 * props.auditRetentionYears)),
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'audit/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Settlement reports are financial records: kept (versioned) as long as the audit trail, overwritten
    // versions for 90 days.
    this.settlementsBucket = new Bucket(this, 'SettlementsBucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'settlements/',
      lifecycleRules: [
        {
          expiration: Duration.days(365 * props.auditRetentionYears),
          noncurrentVersionExpiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // CDK renders the retention in days (365 x years, which falls short of N calendar years by the leap
    // days); state it in years, exactly as the tenant file does.
    (this.auditBucket.node.defaultChild as CfnBucket).addPropertyOverride('ObjectLockConfiguration.Rule.DefaultRetention', {
      Mode: 'COMPLIANCE',
      Years: props.auditRetentionYears,
    });
  }
}
