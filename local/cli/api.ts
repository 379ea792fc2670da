import { demoSecret } from '../auth/demo-clients.ts';

/**
 * How the order CLI talks to the API: a bearer token (ORDER_API_TOKEN, or one minted for the local
 * demo client `rep` as `npm run token -- rep` does) and retries of what may succeed when repeated
 * (no answer, 5xx, 429), each with the same request and headers, so a retried POST carries the same
 * Idempotency-Key and finds the same order.
 */
export interface ApiOptions {
  /** The API's base URL: --api, ORDER_API_URL, else the local runtime's http://127.0.0.1:3000. */
  apiUrl: string;
  /** The OAuth2 issuer's base URL: --auth, ORDER_AUTH_URL, else the local issuer on LOCAL_AUTH_PORT (8086). */
  authUrl: string;
  /** A token to send as is (ORDER_API_TOKEN); absent: one is minted for `clientId`. */
  token?: string;
  /** The local demo client tokens are minted for. */
  clientId: string;
  /** Attempts per request, the first included. */
  attempts?: number;
  /** The first retry's delay; each further one doubles it (with jitter), at most 5 s. */
  retryDelayMs?: number;
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown> | undefined;
  /**
   * Some attempt may have reached the API without a definite answer (no answer, a 5xx): a POST may
   * have been captured although this answer says otherwise.
   */
  uncertain?: boolean;
}

/** No answer after every attempt; `uncertain` when a request may have arrived (not for a refused connection). */
export class NoAnswer extends Error {
  override name = 'NoAnswer';
  constructor(
    message: string,
    readonly uncertain: boolean,
  ) {
    super(message);
  }
}

export interface ApiError {
  code?: string;
  message?: string;
  issues?: { path: string; message: string }[];
}

export function apiOptionsFrom(
  flags: { api?: string; auth?: string },
  env: NodeJS.ProcessEnv = process.env,
): ApiOptions {
  return {
    apiUrl: (flags.api ?? env.ORDER_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    authUrl: (flags.auth ?? env.ORDER_AUTH_URL ?? `http://127.0.0.1:${env.LOCAL_AUTH_PORT || '8086'}`).replace(
      /\/+$/,
      '',
    ),
    ...(env.ORDER_API_TOKEN ? { token: env.ORDER_API_TOKEN } : {}),
    clientId: 'rep',
  };
}

const RETRIED = new Set([429, 500, 502, 503, 504]);
/** Answers after which the request may still have been carried out. */
const inconclusive = (status: number) => status >= 500;
/** Connection errors that mean the request never left: nothing can have arrived. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class OrderApi {
  private minted: Promise<string> | undefined;

  constructor(private readonly options: ApiOptions) {}

  get apiUrl(): string {
    return this.options.apiUrl;
  }

  /** Sends a request, retrying it unchanged while the answer may change; the last answer otherwise. */
  async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    const attempts = this.options.attempts ?? 6;
    const base = this.options.retryDelayMs ?? 250;
    let refreshed = false;
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      let answer: ApiAnswer | undefined;
      let failure: unknown;
      let token: string | undefined;
      try {
        token = await this.token();
        answer = await this.once(method, path, body, headers, token);
      } catch (error) {
        failure = error;
        // Without a token nothing was sent; a refused connection sent nothing either.
        if (token !== undefined && !NOT_SENT.has(causeCode(error) ?? '')) uncertain = true;
      }
      if (answer && inconclusive(answer.status)) uncertain = true;
      // A minted token that expired during a long import: mint a new one, once.
      if (answer?.status === 401 && !this.options.token && !refreshed) {
        refreshed = true;
        this.minted = undefined;
        attempt--;
        continue;
      }
      if (answer && !RETRIED.has(answer.status)) return { ...answer, uncertain };
      if (attempt >= attempts) {
        if (answer) return { ...answer, uncertain };
        throw new NoAnswer(`No answer from ${this.options.apiUrl}${path}: ${describe(failure)}`, uncertain);
      }
      await sleep(Math.random() * Math.min(5000, base * 2 ** (attempt - 1)) + base / 2);
    }
  }

  private async once(method: string, path: string, body: unknown, headers: Record<string, string>, token: string) {
    const response = await fetch(`${this.options.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    return { status: response.status, body: parsed };
  }

  private token(): Promise<string> {
    if (this.options.token) return Promise.resolve(this.options.token);
    this.minted ??= this.mint().catch((error: unknown) => {
      this.minted = undefined;
      throw error;
    });
    return this.minted;
  }

  /** A token for the demo client, asked of the local issuer as `npm run token -- rep` asks it. */
  private async mint(): Promise<string> {
    const { authUrl, clientId } = this.options;
    const response = await fetch(`${authUrl}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${demoSecret(clientId)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    }).catch((error: unknown) => {
      throw new Error(
        `No token issuer at ${authUrl} (is \`npm start\` running? Set ORDER_AUTH_URL or ORDER_API_TOKEN): ${describe(error)}`,
      );
    });
    const answer = (await response.json().catch(() => ({}))) as { access_token?: string; error?: string };
    if (!response.ok || !answer.access_token)
      throw new Error(`The issuer at ${authUrl} refused a token for ${clientId}: ${answer.error ?? response.status}`);
    return answer.access_token;
  }
}

/** The API's error body (`{ error: { code, message, issues } }`) or API Gateway's (`{ message }`). */
export function errorOf(answer: ApiAnswer): ApiError {
  const body = answer.body ?? {};
  const error = (body.error ?? body) as ApiError;
  return {
    ...(error.code ? { code: error.code } : {}),
    message: error.message ?? `HTTP ${answer.status}`,
    issues: Array.isArray(error.issues) ? error.issues : [],
  };
}

const causeCode = (error: unknown) => (error as { cause?: { code?: string } } | undefined)?.cause?.code;

function describe(error: unknown): string {
  return causeCode(error) ?? (error instanceof Error ? error.message : String(error));
}
