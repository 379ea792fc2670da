import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { lazySchema } from '../../functions/core/lazy-schema.ts';

describe('lazySchema', () => {
  it('gives zod/mini, which sets no locale of its own, the English messages before the first schema is built', () => {
    const Name = lazySchema(() => z.object({ name: z.string().check(z.minLength(2)) }));
    expect(Name.safeParse({ name: 1 }).error?.issues[0]?.message).toBe(
      'Invalid input: expected string, received number',
    );
    expect(Name.safeParse({ name: 'a' }).error?.issues[0]?.message).toBe(
      'Too small: expected string to have >=2 characters',
    );
  });

  it('builds the schema on first use, once', () => {
    let builds = 0;
    const Point = lazySchema(() => {
      builds++;
      return z.object({ x: z.int(), y: z.int() });
    });
    expect(builds).toBe(0);
    expect(Point.parse({ x: 1, y: 2 })).toEqual({ x: 1, y: 2 });
    expect(Point.safeParse({ x: 1.5, y: 2 }).success).toBe(false);
    expect(builds).toBe(1);
  });

  it('is the schema to zod: composed, extended, an instance of its class, converted to JSON Schema', () => {
    const Sku = lazySchema(() => z.string().check(z.regex(/^[A-Z]{3}$/), z.describe('a stock keeping unit')));
    const Line = lazySchema(() => z.object({ sku: Sku, quantity: z.int().check(z.positive()) }));
    const Priced = z.extend(Line, { price: z.number() });

    expect(Line).toBeInstanceOf(z.ZodMiniObject);
    expect(Object.keys(Line.shape)).toEqual(['sku', 'quantity']);
    expect(Priced.parse({ sku: 'ABC', quantity: 1, price: 5 })).toEqual({ sku: 'ABC', quantity: 1, price: 5 });
    const refused = Line.safeParse({ sku: 'abc', quantity: 0 });
    expect(refused.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['sku', 'quantity']);
    expect(z.toJSONSchema(Line)).toMatchObject({
      type: 'object',
      properties: { sku: { type: 'string', description: 'a stock keeping unit' }, quantity: { type: 'integer' } },
      required: ['sku', 'quantity'],
    });
  });
});
