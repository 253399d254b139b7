/**
 * S3: KYC documents (uploaded by the trader room with presigned POST), the Object Lock audit archive
 * (production: COMPLIANCE mode for `audit.retentionYears`, so nobody, not even the root user, can shorten
 * retention or delete a version early; other tenants: GOVERNANCE mode for `audit.retentionDays`, so their
 * test data can be removed),
 * the PSP settlement reports (psp/<provider>/<YYYY-MM-DD>/...: what the providers say they settled, read
 * by the PSP reconciliation job), and a bucket for the other buckets' server access logs.
 */
import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket, HttpMethods, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { auditRetention, type TenantConfig } from '#domain/tenant/config.ts';
import { acknowledge } from '../nag.ts';
import { removalPolicy } from './removal.ts';

/** Versions that lifecycle rules keep of an overwritten KYC document, for disputes about what was uploaded. */
export const DOCUMENT_NONCURRENT_DAYS = 365;

/** The audit retention in days (years counted as 365 days plus one for each possible leap day). */
export function retentionDays(r: { years?: number; days?: number }): number {
  return r.days ?? (r.years ?? 0) * 365 + Math.ceil((r.years ?? 0) / 4);
}

export interface StorageProps {
  tenantConfig: TenantConfig;
  key: IKey;
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
    const cfg = props.tenantConfig;
    const retention = auditRetention(cfg);
    const keepDays = retentionDays(retention);
    const removal = removalPolicy(cfg);

    this.logsBucket = new Bucket(this, 'AccessLogsBucket', {
      // S3 server access logging only delivers to SSE-S3 buckets, not SSE-KMS.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(400), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: removal,
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
      lifecycleRules: [
        {
          noncurrentVersionExpiration: Duration.days(DOCUMENT_NONCURRENT_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: removal,
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
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'audit/',
      // Object Lock already forbids deleting a version before its retention ends; after it, versions that were
      // superseded go, and incomplete uploads never linger.
      lifecycleRules: [
        { noncurrentVersionExpiration: Duration.days(keepDays + 1), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: removal,
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
          expiration: Duration.days(keepDays),
          noncurrentVersionExpiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: removal,
    });

    // The default retention exactly as the tenant file states it: in years for production (CDK's own
    // prop renders days, 365 x years, short of N calendar years by the leap days), in days otherwise.
    // Set as the whole L1 property: S3 refuses a rule that names both Days and Years.
    (this.auditBucket.node.defaultChild as CfnBucket).objectLockConfiguration = {
      objectLockEnabled: 'Enabled',
      rule: {
        defaultRetention: {
          mode: retention.mode,
          ...(retention.years !== undefined ? { years: retention.years } : { days: retention.days }),
        },
      },
    };
  }
}
