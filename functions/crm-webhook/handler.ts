import { readSecret } from '../adapters/secrets.ts';
import { dealProblems } from '../core/crm.ts';
import { InvalidOrder } from '../core/errors.ts';
import { verifySignature } from '../core/signature.ts';
import { requireEnv } from '../lib/config.ts';
import { dealDelivery, dealRefusal, receiveDeal } from '../lib/crm-deals.ts';
import { clock } from '../lib/deps.ts';
import { HttpError, httpRoute, json, jsonBody, rawBody } from '../lib/http.ts';

const secretId = requireEnv('CRM_WEBHOOK_SECRET_ID');

/**
 * POST /webhooks/crm — a CRM's signed deal event (HubSpot, Salesforce). A won deal becomes an order
 * for the company's customer, once per event id; other stages are acknowledged and ignored.
 */
export const handler = httpRoute(async (event, context) => {
  const check = verifySignature({
    secret: await readSecret(secretId),
    timestamp: event.headers?.['x-timestamp'],
    signature: event.headers?.['x-signature'],
    rawBody: rawBody(event),
    nowSeconds: Math.floor(clock().getTime() / 1000),
  });
  if (!check.ok) throw new HttpError(401, 'InvalidSignature', check.reason);

  const delivery = dealDelivery(jsonBody(event));
  try {
    return json(202, await receiveDeal(delivery, context));
  } catch (error) {
    if (error instanceof InvalidOrder) {
      const issues = dealProblems(error.problems);
      throw new HttpError(
        422,
        'InvalidOrder',
        `The won deal cannot be ordered: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
        issues,
      );
    }
    throw dealRefusal(error) ?? error;
  }
});
