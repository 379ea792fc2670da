import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/** Set before the first schema is built (see below). */
let englishMessages = false;

/**
 * A schema built on first use: `lazySchema(() => z.object({ ... }))` is the schema itself to its users
 * (parse, z.extend, z.optional, z.infer, z.toJSONSchema), but zod builds it only when something first touches
 * it. Building every schema at module load is a large part of a cold start's INIT; a function uses a few.
 *
 * It is a Proxy whose target becomes a copy of the built schema (its prototype and own properties, whose
 * methods close over the built schema), so every trap is the default one on a complete object. A
 * description or meta given in the factory is registered for the proxy too, as z.toJSONSchema meets it.
 *
 * Schemas are written with `zod/mini`, zod's tree-shakable API (functions and `.check()` instead of methods),
 * so a bundle holds only the parts of zod its function calls: the classic API's methods bring all of it in, about
 * 90 KB, which cost every function some 20 ms of INIT. Unlike the classic API, `zod/mini` sets no locale of its
 * own: English messages ("Invalid input: expected string, received number") are configured here, before the
 * first schema is built, so a bundle that names no schema holds no zod at all.
 *
 * Declare each one as `export const X = /* @__PURE__ *\/ lazySchema(() => ...)`: the mark tells the bundler
 * the call has no effect of its own, so a function's bundle drops the schemas it never names (and zod
 * itself where it names none). esbuild does not carry a mark on the function across files.
 */
export function lazySchema<T extends z.ZodMiniType>(build: () => T): T {
  const target = {};
  let built = false;
  const ready = (): object => {
    if (!built) {
      if (!englishMessages) {
        // As the classic API does: English unless a locale was configured already.
        if (!z.config().localeError) z.config(en());
        englishMessages = true;
      }
      const schema = build();
      Object.setPrototypeOf(target, Object.getPrototypeOf(schema));
      Object.defineProperties(target, Object.getOwnPropertyDescriptors(schema));
      built = true;
      const meta = z.globalRegistry.get(schema);
      if (meta) z.globalRegistry.add(proxy, meta);
    }
    return target;
  };
  const proxy = new Proxy(target, {
    get: (_, key, receiver) => Reflect.get(ready(), key, receiver),
    set: (_, key, value, receiver) => Reflect.set(ready(), key, value, receiver),
    has: (_, key) => Reflect.has(ready(), key),
    ownKeys: () => Reflect.ownKeys(ready()),
    getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(ready(), key),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(ready(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(ready(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(ready()),
  }) as T;
  return proxy;
}
