import * as z from 'zod';

/**
 * A schema built on first use: `lazySchema(() => z.object({ ... }))` is the schema itself to its users
 * (parse, extend, optional, z.infer, z.toJSONSchema), but zod builds it only when something first touches
 * it. Building every schema at module load is a large part of a cold start's INIT; a function uses a few.
 *
 * It is a Proxy whose target becomes a copy of the built schema (its prototype and own properties, whose
 * methods close over the built schema), so every trap is the default one on a complete object. A
 * description or meta given in the factory is registered for the proxy too, as z.toJSONSchema meets it.
 *
 * Declare each one as `export const X = /* @__PURE__ *\/ lazySchema(() => ...)`: the mark tells the bundler
 * the call has no effect of its own, so a function's bundle drops the schemas it never names (and zod
 * itself where it names none). esbuild does not carry a mark on the function across files.
 */
export function lazySchema<T extends z.ZodType>(build: () => T): T {
  const target = {};
  let built = false;
  const ready = (): object => {
    if (!built) {
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
