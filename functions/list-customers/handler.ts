import { customersRepository } from '../lib/deps.ts';
import { httpRoute, json } from '../lib/http.ts';

const customers = customersRepository();

/** GET /customers — for reps placing orders. */
export const handler = httpRoute(async () => {
  const all = await customers.list();
  return json(
    200,
    all.map(({ customerId, name, email, status, paymentTerms, currency, discountBasisPoints }) => ({
      customerId,
      name,
      email,
      status,
      paymentTerms,
      currency,
      discountBasisPoints,
    })),
  );
});
