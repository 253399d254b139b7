/**
 * A review's comparison table: what the analyser extracted from the identity document and the proof of
 * address, beside what the client registered, with the match as the KYC checks see it (domain/kyc/checks.ts)
 * and the analyser's confidence.
 *
 * Invariants:
 * - `match` is present only where the two values are comparable (both present; the issuing country is
 *   shown beside the country of residence but never compared)
 * - `confidence` is the lowest confidence of the fields a row is made of, present only when all have one
 * - pure: reads nothing, writes nothing
 */
import { checkAddressProof, checkName } from '#domain/kyc/checks.ts';
import { type ExtractedAddressProof, type ExtractedIdentity, toIso2 } from '#domain/kyc/model.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type ClientProfileItem, registrationProfileOf } from '#store/clients.ts';

export interface ComparisonRow {
  source: 'identity' | 'address_proof';
  field: string;
  extracted: string | null;
  registered: string | null;
  /** Present only where the two are comparable. */
  match?: boolean;
  /** The analyser's confidence (0..100) for the extracted value. */
  confidence?: number;
}

type Row = ComparisonRow;

const conf = (c: Record<string, number>, ...fields: string[]) => {
  const values = fields.map((f) => c[f]).filter((v): v is number => typeof v === 'number');
  return values.length === fields.length ? { confidence: Math.min(...values) } : {};
};

/** Extracted identity fields beside the registration data. */
export function identityRows(doc: ExtractedIdentity, p: ClientProfileItem | undefined): Row[] {
  const reg = p ? registrationProfileOf(p) : undefined;
  const c = doc.fieldConfidence ?? {};
  const hasName = Boolean(doc.givenNames || doc.surname);
  const extractedName = hasName ? [doc.givenNames, doc.surname].filter(Boolean).join(' ') : null;
  const nationality = p?.personalDetails?.nationality;
  const rows: Row[] = [
    { source: 'identity', field: 'documentType', extracted: doc.documentType, registered: null },
    {
      source: 'identity',
      field: 'documentNumber',
      extracted: doc.documentNumber ?? null,
      registered: null,
      ...conf(c, 'documentNumber'),
    },
    {
      source: 'identity',
      field: 'name',
      extracted: extractedName,
      registered: reg ? `${reg.givenNames} ${reg.surname}` : null,
      ...(reg && hasName ? { match: checkName(doc, reg, tenantConfig().kyc.nameThreshold).length === 0 } : {}),
      ...conf(c, 'givenNames', 'surname'),
    },
    {
      source: 'identity',
      field: 'dateOfBirth',
      extracted: doc.dateOfBirth ?? null,
      registered: reg?.dateOfBirth ?? null,
      ...(reg && doc.dateOfBirth ? { match: doc.dateOfBirth === reg.dateOfBirth } : {}),
      ...conf(c, 'dateOfBirth'),
    },
    {
      source: 'identity',
      field: 'nationality',
      extracted: doc.nationality ?? null,
      registered: nationality ?? null,
      ...(doc.nationality && nationality ? { match: toIso2(doc.nationality) === toIso2(nationality) } : {}),
      ...conf(c, 'nationality'),
    },
    // The issuing country need not be the country of residence: shown side by side, not compared.
    {
      source: 'identity',
      field: 'issuingCountry',
      extracted: doc.issuingCountry ?? null,
      registered: reg?.country ?? null,
      ...conf(c, 'issuingCountry'),
    },
    { source: 'identity', field: 'expiryDate', extracted: doc.expiryDate ?? null, registered: null, ...conf(c, 'expiryDate') },
  ];
  return rows;
}

/** Extracted proof-of-address fields beside the registered address (match as the address check sees it). */
export function addressRows(proof: ExtractedAddressProof, p: ClientProfileItem | undefined, now: Date): Row[] {
  const reg = p ? registrationProfileOf(p) : undefined;
  const c = proof.fieldConfidence ?? {};
  const comparable = reg?.address !== undefined;
  const mismatch = comparable ? checkAddressProof(proof, reg!, { now }).find((i) => i.code === 'address_mismatch') : undefined;
  const mismatched = new Set(((mismatch?.evidence as { fields?: string[] } | undefined)?.fields ?? []) as string[]);
  const match = (field: string, present: boolean) => (comparable && present ? { match: !mismatched.has(field) } : {});
  return [
    {
      source: 'address_proof',
      field: 'nameOnDocument',
      extracted: proof.nameOnDocument ?? null,
      registered: reg ? `${reg.givenNames} ${reg.surname}` : null,
      ...match('nameOnDocument', Boolean(proof.nameOnDocument)),
      ...conf(c, 'nameOnDocument'),
    },
    {
      source: 'address_proof',
      field: 'addressLines',
      extracted: proof.addressLines?.length ? proof.addressLines.join(', ') : null,
      registered: reg?.address ? reg.address.lines.join(', ') : null,
      ...match('addressLines', Boolean(proof.addressLines?.length)),
      ...conf(c, 'addressLines'),
    },
    {
      source: 'address_proof',
      field: 'postalCode',
      extracted: proof.postalCode ?? null,
      registered: reg?.address?.postalCode ?? null,
      ...match('postalCode', proof.postalCode !== undefined),
      ...conf(c, 'postalCode'),
    },
    {
      source: 'address_proof',
      field: 'country',
      extracted: proof.country ?? null,
      registered: reg?.address?.country ?? reg?.country ?? null,
      ...match('country', proof.country !== undefined),
      ...conf(c, 'country'),
    },
    {
      source: 'address_proof',
      field: 'issueDate',
      extracted: proof.issueDate ?? null,
      registered: null,
      ...conf(c, 'issueDate'),
    },
  ];
}
