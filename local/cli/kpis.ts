import { parseArgs } from 'node:util';
import { type ApiError, apiOptionsFrom, errorOf, OrderApi } from './api.ts';
import { kpiReport } from './format.ts';

const USAGE = `KPIs of the orders placed in a window (GET /kpis), as a terminal report.

  npm run kpis -- --from 2026-11-01 --to 2026-11-30 [--currency EUR] [--as ops|finance] [--json]

--from/--to: UTC days, both included (at most 366 days). --currency narrows revenue and average order value.
--api <url> (ORDER_API_URL, default http://127.0.0.1:3000), --auth <issuer url> (ORDER_AUTH_URL).
ORDER_API_TOKEN: a bearer token to use; without it one is minted for the local demo client (--as, default ops).
Exit status: 0 answered, 1 refused or no answer, 2 wrong usage.`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      currency: { type: 'string' },
      as: { type: 'string', default: 'ops' },
      json: { type: 'boolean', default: false },
      api: { type: 'string' },
      auth: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help || !values.from || !values.to) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const api = new OrderApi({ ...apiOptionsFrom(values), clientId: values.as });
  const query = new URLSearchParams({ from: values.from, to: values.to });
  if (values.currency) query.set('currency', values.currency);
  const answer = await api.send('GET', `/kpis?${query}`);
  if (answer.status !== 200) {
    const error: ApiError = errorOf(answer);
    process.stderr.write(`GET /kpis: ${answer.status} ${error.code ?? ''} ${error.message ?? ''}\n`);
    for (const issue of error.issues ?? []) process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
    return 1;
  }
  const body = answer.body as Parameters<typeof kpiReport>[0];
  process.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : `${kpiReport(body).join('\n')}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
