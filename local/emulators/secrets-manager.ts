import { createHash } from 'node:crypto';
import { AwsServiceError, startAwsJsonServer } from '../aws-json.ts';
import { portInUseError } from '../ports.ts';
import type { EmulatorOptions, LocalEmulator } from './emulator.ts';

/**
 * A read-only Secrets Manager (awsJson1_1) holding the secrets given at start: enough for the
 * functions to fetch configuration through the real SDK (or Powertools Parameters) offline.
 */
export interface LocalSecret {
  name: string;
  value: string;
  description?: string;
}

export interface SecretsManagerLocalOptions extends EmulatorOptions {
  region: string;
  accountId: string;
  secrets: LocalSecret[];
}

interface StoredSecret extends LocalSecret {
  arn: string;
  versionId: string;
  createdDate: number;
}

const CURRENT_STAGE = 'AWSCURRENT';

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Deterministic stand-ins for AWS's random ARN suffix and version id, so ARNs survive restarts. */
function storeSecret(secret: LocalSecret, region: string, accountId: string, createdDate: number): StoredSecret {
  const hash = digest(`${secret.name}\n${secret.value}`);
  const versionId = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
  const suffix = digest(secret.name).slice(0, 6);
  const arn = `arn:aws:secretsmanager:${region}:${accountId}:secret:${secret.name}-${suffix}`;
  return { ...secret, arn, versionId, createdDate };
}

function notFound(): AwsServiceError {
  return new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
}

function requireString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') {
    throw new AwsServiceError('InvalidParameterException', `${field} is required.`);
  }
  return value;
}

/** SecretId may be the name, the full ARN, or the ARN without its random suffix (a partial ARN). */
function findSecret(secrets: StoredSecret[], secretId: string): StoredSecret {
  const secret = secrets.find((s) => s.name === secretId || s.arn === secretId || s.arn.slice(0, -7) === secretId);
  if (!secret) throw notFound();
  return secret;
}

function describe(secret: StoredSecret) {
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    CreatedDate: secret.createdDate,
    LastChangedDate: secret.createdDate,
    VersionIdsToStages: { [secret.versionId]: [CURRENT_STAGE] },
    Tags: [],
  };
}

function getSecretValue(secrets: StoredSecret[], input: Record<string, unknown>) {
  const secret = findSecret(secrets, requireString(input, 'SecretId'));
  // Only one version exists: asking for any other version or stage is a miss, as on AWS.
  if (input.VersionId !== undefined && input.VersionId !== secret.versionId) throw notFound();
  if (input.VersionStage !== undefined && input.VersionStage !== CURRENT_STAGE) throw notFound();
  return {
    ARN: secret.arn,
    Name: secret.name,
    SecretString: secret.value,
    VersionId: secret.versionId,
    VersionStages: [CURRENT_STAGE],
    CreatedDate: secret.createdDate,
  };
}

/** Supports the `name` filter (prefix match) and MaxResults/NextToken paging. */
function listSecrets(secrets: StoredSecret[], input: Record<string, unknown>) {
  const filters = Array.isArray(input.Filters) ? (input.Filters as { Key?: string; Values?: string[] }[]) : [];
  const prefixes = filters.filter((f) => f.Key === 'name').flatMap((f) => f.Values ?? []);
  const matching = secrets.filter((s) => prefixes.length === 0 || prefixes.some((p) => s.name.startsWith(p)));
  const start = typeof input.NextToken === 'string' ? Number(input.NextToken) || 0 : 0;
  const size = typeof input.MaxResults === 'number' ? input.MaxResults : 100;
  const page = matching.slice(start, start + size);
  const next = start + size < matching.length ? String(start + size) : undefined;
  return {
    SecretList: page.map((s) => {
      const { VersionIdsToStages, ...rest } = describe(s);
      return { ...rest, SecretVersionsToStages: VersionIdsToStages };
    }),
    NextToken: next,
  };
}

export async function startSecretsManagerLocal(options: SecretsManagerLocalOptions): Promise<LocalEmulator> {
  const startedAt = performance.now();
  const host = options.host ?? '127.0.0.1';
  const createdDate = Math.floor(Date.now() / 1000);
  const secrets = options.secrets.map((s) => storeSecret(s, options.region, options.accountId, createdDate));
  const server = await startAwsJsonServer({
    targetPrefix: 'secretsmanager',
    jsonVersion: '1.1',
    host,
    port: options.port,
    operations: {
      GetSecretValue: (input) => getSecretValue(secrets, input),
      DescribeSecret: (input) => describe(findSecret(secrets, requireString(input, 'SecretId'))),
      ListSecrets: (input) => listSecrets(secrets, input),
    },
  }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? portInUseError('Secrets Manager local', host, options.port ?? 0) : error;
  });
  return {
    endpoint: server.endpoint,
    port: server.port,
    startupMs: Math.round(performance.now() - startedAt),
    stop: () => (server.server.listening ? server.close() : Promise.resolve()),
  };
}
