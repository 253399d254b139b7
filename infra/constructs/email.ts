/**
 * The tenant's SES domain identity (email.transport 'ses'): `brand.domain`, with Easy DKIM (2048-bit keys).
 * The stack outputs the three DKIM CNAME records the operator adds to the domain's DNS; SES verifies the
 * domain once they resolve. Functions holding `email:send` may send from `brand.supportEmail` only, on this
 * identity only (infra/constructs/functions.ts).
 *
 * A domain identity's name is fixed by nature: it is created with RetainExceptOnCreate (production) so a
 * rolled-back first create deletes it and the retry does not collide with it.
 */
import { CfnOutput } from 'aws-cdk-lib';
import { CfnEmailIdentity } from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { removalPolicy } from './removal.ts';

export class EmailIdentity extends Construct {
  readonly identity: CfnEmailIdentity;

  constructor(scope: Construct, id: string, props: { tenantConfig: TenantConfig }) {
    super(scope, id);
    const domain = props.tenantConfig.brand.domain;
    if (!domain) throw new Error(`tenant ${props.tenantConfig.tenant}: email transport 'ses' needs brand.domain`);
    this.identity = new CfnEmailIdentity(this, 'Identity', {
      emailIdentity: domain,
      dkimSigningAttributes: { nextSigningKeyLength: 'RSA_2048_BIT' },
      dkimAttributes: { signingEnabled: true },
      feedbackAttributes: { emailForwardingEnabled: true },
    });
    this.identity.applyRemovalPolicy(removalPolicy(props.tenantConfig));
    for (const i of [1, 2, 3] as const) {
      new CfnOutput(scope, `DkimRecord${i}`, {
        description: `SES DKIM CNAME ${i} of ${domain}: add it to the domain's DNS`,
        value: `${this.identity.getAtt(`DkimDNSTokenName${i}`).toString()} CNAME ${this.identity.getAtt(`DkimDNSTokenValue${i}`).toString()}`,
      });
    }
  }
}
