/**
 * What the console calls: the order API on this origin with an access token of the `ops` demo client
 * (asked of the local issuer as any client would: client-credentials grant, HTTP Basic, the demo
 * secret `local-<client id>-secret`), and the local Step Functions API and SES mailbox through the
 * runtime's same-origin pass-through under /console.
 */

const CLIENT_ID = 'ops';
let token;

async function accessToken() {
  if (token && token.expiresAt > Date.now() + 30_000) return token.value;
  const response = await fetch('/console/oauth2/token', {
    method: 'POST',
    headers: {
      authorization: `Basic ${btoa(`${CLIENT_ID}:local-${CLIENT_ID}-secret`)}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`The local issuer refused the ${CLIENT_ID} client: ${answer.error}`);
  token = { value: answer.access_token, expiresAt: Date.now() + answer.expires_in * 1000 };
  return token.value;
}

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

/** GET on the order API; a non-2xx answer throws with the API's own message. */
export async function api(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${await accessToken()}` } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body.error?.message ?? body.message ?? 'request failed';
    throw new HttpError(response.status, `GET ${path.split('?')[0]}: ${response.status} ${message}`);
  }
  return body;
}

/** Every page of an order search (up to maxPages of 100); `truncated` when more were left. */
export async function searchAll(params, maxPages = 20) {
  const orders = [];
  let cursor;
  for (let page = 0; page < maxPages; page++) {
    const query = new URLSearchParams({ ...params, limit: '100', ...(cursor ? { cursor } : {}) });
    const answer = await api(`/orders?${query}`);
    orders.push(...answer.orders);
    cursor = answer.nextCursor;
    if (!cursor) return { orders, truncated: false };
  }
  return { orders, truncated: true };
}

/** One Step Functions API call (JSON protocol), as the SDK makes it. */
export async function states(operation, input) {
  const response = await fetch('/console/states', {
    method: 'POST',
    headers: { 'x-amz-target': `AWSStepFunctions.${operation}`, 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify(input),
  });
  const body = await response.json();
  if (!response.ok) throw new HttpError(response.status, `${operation}: ${body.__type}: ${body.message}`);
  return body;
}

/** The local SES mailbox, oldest first. */
export async function sentEmails() {
  const response = await fetch('/console/ses/store');
  if (!response.ok) throw new HttpError(response.status, `SES mailbox: ${response.status}`);
  return (await response.json()).emails ?? [];
}
