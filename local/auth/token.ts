import { demoSecret } from './demo-clients.ts';

/**
 * `npm run -s token -- <client id> [scope…]`: asks the running local issuer for an access token
 * with the client's demo secret, exactly as the client would (client-credentials grant, HTTP
 * Basic), and prints it for `curl -H "authorization: Bearer $TOKEN"`.
 */
async function main(): Promise<void> {
  const [clientId, ...scopes] = process.argv.slice(2);
  if (!clientId) {
    console.error(
      'usage: npm run -s token -- <client id> [scope…]   (checkout, buyer, erp, rep, ops, finance, approver)',
    );
    process.exit(2);
  }
  const port = process.env.LOCAL_AUTH_PORT || '8086';
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scopes.length > 0) form.set('scope', scopes.join(' '));
  const response = await fetch(`http://127.0.0.1:${port}/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${demoSecret(clientId)}`).toString('base64')}`,
    },
    body: form,
  }).catch((error: unknown) => {
    console.error(`No local issuer at 127.0.0.1:${port} (is \`npm start\` running?): ${String(error)}`);
    process.exit(1);
  });
  const answer = (await response.json()) as { access_token?: string; error?: string };
  if (!response.ok || !answer.access_token) {
    console.error(`The local issuer refused ${clientId}: ${answer.error ?? response.status}`);
    process.exit(1);
  }
  console.log(answer.access_token);
}

void main();
