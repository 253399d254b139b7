/**
 * The environment every function reads. infra/ sets these on each Lambda; local/ sets them
 * in-process. AWS SDK clients also honour AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, which
 * is how the local runtime points the same code at DynamoDB Local and the local AWS emulator.
 */
function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`Environment variable ${name} is not set`);
  return v;
}

export const env = {
  get tableName() {
    return required('TABLE_NAME');
  },
  get tenant() {
    return required('TENANT');
  },
  get eventBusName() {
    return required('EVENT_BUS_NAME');
  },
  get documentsBucket() {
    return required('DOCUMENTS_BUCKET');
  },
  get auditBucket() {
    return required('AUDIT_BUCKET');
  },
  /** The PSP settlement-report bucket: set by infra on functions with settlements:*, and by the local runtime. */
  get settlementsBucket() {
    return required('SETTLEMENTS_BUCKET');
  },
  get userPoolId() {
    return required('USER_POOL_ID');
  },
  get userPoolClientId() {
    return required('USER_POOL_CLIENT_ID');
  },
  /** Staff (back-office) users live in their own pool, where MFA is required. */
  get staffUserPoolId() {
    return required('STAFF_USER_POOL_ID');
  },
  get staffUserPoolClientId() {
    return required('STAFF_USER_POOL_CLIENT_ID');
  },
  /** 'local' when running under the local runtime, 'aws' otherwise. */
  get stage(): 'local' | 'aws' {
    return process.env.STAGE === 'local' ? 'local' : 'aws';
  },
  /** The KYC document analyzer: 'textract' (AWS) or 'sandbox' (local runtime and tests: reads JSON documents). */
  get kycAnalyzer(): 'textract' | 'sandbox' {
    return process.env.KYC_ANALYZER === 'sandbox' ? 'sandbox' : 'textract';
  },
  /** ARN of a state machine from the manifest, by name (STATE_MACHINE_ARN_<NAME_IN_UPPER_SNAKE>). */
  stateMachineArn(name: string) {
    return required(`STATE_MACHINE_ARN_${toEnvSuffix(name)}`);
  },
  /** URL of a queue from the manifest, by name (QUEUE_URL_<NAME_IN_UPPER_SNAKE>). */
  queueUrl(name: string) {
    return required(`QUEUE_URL_${toEnvSuffix(name)}`);
  },
};

export const toEnvSuffix = (name: string) => name.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
