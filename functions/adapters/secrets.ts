import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

/** Reads a secret from Secrets Manager, cached for five minutes per execution environment. */
export async function readSecret(secretId: string): Promise<string> {
  const value = await getSecret(secretId, { maxAge: 300 });
  if (typeof value !== 'string' || value === '') throw new Error(`Secret ${secretId} is empty`);
  return value;
}
