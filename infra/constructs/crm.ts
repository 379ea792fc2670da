import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

/** The CRM integration's shared secret, which signs its deal webhook calls (HMAC-SHA256). */
export class CrmIntegration extends Construct {
  readonly webhookSecret: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.webhookSecret = new Secret(this, 'WebhookSecret', {
      description: 'Shared secret that signs CRM deal webhook calls (X-Signature HMAC-SHA256)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
  }

  grantWebhookSecret(fn: EnvFunction): void {
    fn.addEnvironment('CRM_WEBHOOK_SECRET_ID', this.webhookSecret.secretArn);
    this.webhookSecret.grantRead(fn);
  }
}
