import type { Server } from 'node:http';
import sesLocalModule from 'aws-ses-v2-local';
import { freePort, portInUseError } from '../ports.ts';
import type { EmulatorOptions, LocalEmulator } from './emulator.ts';

/**
 * Local SES (v1 + v2 APIs) from the `aws-ses-v2-local` package. Mail is kept in memory, listed as
 * JSON at `GET /store` and browsable at `/`.
 *
 * The package keeps its mail store in a module-level variable: every instance started in the same
 * Node process shares one mailbox.
 */

// The package is CommonJS with `exports.default`; loaded from ESM, the function sits on `.default`.
type StartSes = (config?: { host?: string; port?: number }) => Promise<Server>;
const startSesServer: StartSes =
  (sesLocalModule as unknown as { default?: StartSes }).default ?? (sesLocalModule as unknown as StartSes);

export interface SentAttachment {
  filename?: string;
  contentType: string;
  size: number;
  /** Base64 content. */
  content: string;
  [key: string]: unknown;
}

export interface SentEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  /** Each entry is one address header as text, e.g. `a@x.com, Bob <b@y.com>` for raw MIME messages. */
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  attachments: SentAttachment[];
  headers?: { name: string; value: string }[];
  /** Epoch seconds. */
  at: number;
  [key: string]: unknown;
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/**
 * The account GetAccount reports (the package reads it from AWS_SES_ACCOUNT): a sending-enabled
 * account, as the health check expects of a working SES.
 */
const LOCAL_ACCOUNT = {
  DedicatedIpAutoWarmupEnabled: false,
  Details: {
    AdditionalContactEmailAddresses: [],
    ContactLanguage: 'EN',
    MailType: 'TRANSACTIONAL',
    ReviewDetails: { CaseId: 'local', Status: 'GRANTED' },
    UseCaseDescription: 'Invoices for sales orders',
    WebsiteURL: 'http://127.0.0.1',
  },
  EnforcementStatus: 'HEALTHY',
  ProductionAccessEnabled: true,
  SendingEnabled: true,
  SendQuota: { Max24HourSend: 50_000, MaxSendRate: 14, SentLast24Hours: 0 },
  SuppressionAttributes: { SuppressedReasons: [] },
};

export async function startSesLocal(options: EmulatorOptions = {}): Promise<LocalEmulator> {
  const startedAt = performance.now();
  process.env.AWS_SES_ACCOUNT ??= JSON.stringify(LOCAL_ACCOUNT);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  // The package resolves its promise even when listen fails (the error only reaches its callback).
  const server = await startSesServer({ host, port });
  if (!server.listening) throw portInUseError('SES local', host, port);

  return {
    endpoint: `http://${host}:${port}`,
    port,
    startupMs: Math.round(performance.now() - startedAt),
    stop: () => closeServer(server),
  };
}

/** Mail sent so far, oldest first; `sinceEpochSeconds` keeps only newer messages. */
export async function readSentEmails(endpoint: string, sinceEpochSeconds?: number): Promise<SentEmail[]> {
  const url = new URL('/store', endpoint);
  if (sinceEpochSeconds !== undefined) url.searchParams.set('since', String(Math.floor(sinceEpochSeconds)));
  const response = await fetch(url);
  if (!response.ok) throw new Error(`SES local: GET ${url} answered ${response.status}`);
  const store = (await response.json()) as { emails?: SentEmail[] };
  return store.emails ?? [];
}
