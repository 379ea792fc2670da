import { BlockList, isIP } from 'node:net';

/**
 * EventBridge event-pattern matching ("content filtering"), as documented in
 * "Content filtering in Amazon EventBridge event patterns" and "Comparison operators".
 *
 * Semantics worth knowing (they mirror EventBridge, not intuition):
 * - Every key of a pattern must match (AND); the values listed in a leaf array are alternatives (OR).
 * - Arrays in the event are flattened: a leaf matches when any element matches, and an object
 *   pattern matches when any object element of the array matches it as a whole.
 * - Operators only see leaf values (strings, numbers, booleans, null); an object is not a leaf,
 *   so `{ exists: true }` does not match a field whose value is an object.
 * - A missing field only ever matches `{ exists: false }` (not even `anything-but`).
 */

export class InvalidPatternError extends Error {
  override name = 'InvalidPatternError';
}

type Leaf = string | number | boolean | null;
type Json = Leaf | Json[] | { [key: string]: Json };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isLeaf = (value: unknown): value is Leaf =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const fail = (path: string, reason: string): never => {
  throw new InvalidPatternError(`Event pattern is not valid. Reason: ${reason} at ${path || 'root'}`);
};

const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);
const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

/** Throws an {@link InvalidPatternError} explaining the first problem found in `pattern`. */
export function validatePattern(pattern: unknown): void {
  if (!isPlainObject(pattern)) fail('', 'the pattern must be a JSON object');
  validateObject(pattern as Record<string, unknown>, '');
}

function validateObject(pattern: Record<string, unknown>, path: string): void {
  for (const [key, value] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') validateOr(value, here);
    else if (Array.isArray(value)) {
      for (const [i, condition] of value.entries()) validateCondition(condition, `${here}[${i}]`);
    } else if (isPlainObject(value)) validateObject(value, here);
    else fail(here, `match value must be put inside a JSON array, got ${JSON.stringify(value)}`);
  }
}

function validateOr(value: unknown, path: string): void {
  if (!Array.isArray(value) || value.length < 2) fail(path, '"$or" must be an array of at least two patterns');
  (value as unknown[]).forEach((sub, i) => {
    if (!isPlainObject(sub)) fail(`${path}[${i}]`, '"$or" members must be JSON objects');
    validateObject(sub as Record<string, unknown>, path.replace(/\.?\$or$/, ''));
  });
}

function validateCondition(condition: unknown, path: string): void {
  if (isLeaf(condition)) return;
  if (!isPlainObject(condition)) fail(path, 'nested arrays are not allowed in a match list');
  const entries = Object.entries(condition as Record<string, unknown>);
  const [entry] = entries;
  if (!entry || entries.length !== 1) fail(path, 'a match object must have exactly one operator');
  const [operator, operand] = entry as [string, unknown];
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (isPlainObject(operand) && Object.keys(operand).length === 1 && 'equals-ignore-case' in operand) {
        requireString(operand['equals-ignore-case'], path, `${operator}.equals-ignore-case`);
      } else requireString(operand, path, operator);
      return;
    case 'equals-ignore-case':
      requireString(operand, path, operator);
      return;
    case 'wildcard':
      requireString(operand, path, operator);
      compileWildcard(operand as string, path);
      return;
    case 'anything-but':
      validateAnythingBut(operand, path);
      return;
    case 'numeric':
      validateNumeric(operand, path);
      return;
    case 'exists':
      if (typeof operand !== 'boolean') fail(path, '"exists" must be true or false');
      return;
    case 'cidr':
      requireString(operand, path, operator);
      parseCidr(operand as string, path);
      return;
    default:
      fail(path, `unrecognized match type ${operator}`);
  }
}

function requireString(value: unknown, path: string, operator: string): void {
  if (typeof value !== 'string') fail(path, `"${operator}" must be given a string`);
}

function validateAnythingBut(operand: unknown, path: string): void {
  if (typeof operand === 'string' || typeof operand === 'number') return;
  if (Array.isArray(operand)) {
    const allStrings = operand.every((v) => typeof v === 'string');
    const allNumbers = operand.every((v) => typeof v === 'number');
    if (operand.length === 0 || !(allStrings || allNumbers)) {
      fail(path, '"anything-but" list must be non-empty and hold only strings or only numbers');
    }
    return;
  }
  if (isPlainObject(operand)) {
    const entries = Object.entries(operand);
    const [entry] = entries;
    if (!entry || entries.length !== 1) fail(path, '"anything-but" object must have exactly one operator');
    const [operator, value] = entry as [string, unknown];
    if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(operator)) {
      fail(path, `"anything-but" does not support ${operator}`);
    }
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0 || !values.every((v) => typeof v === 'string')) {
      fail(path, `"anything-but.${operator}" must be given a string or a list of strings`);
    }
    if (operator === 'wildcard') for (const v of values) compileWildcard(v as string, path);
    return;
  }
  fail(path, '"anything-but" must be a string, a number, a list or an operator object');
}

function validateNumeric(operand: unknown, path: string): void {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    fail(path, '"numeric" must be [op, number] or [op, number, op, number]');
  }
  const items = operand as unknown[];
  const operators: string[] = [];
  for (let i = 0; i < items.length; i += 2) {
    const op = items[i];
    const value = items[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPERATORS.has(op)) fail(path, `unrecognized numeric operator ${String(op)}`);
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, `"numeric" bound must be a number`);
    operators.push(op as string);
  }
  if (operators.length === 2) {
    // A range needs exactly one lower and one upper bound; '=' cannot take part in a range.
    const lower = operators.filter((op) => LOWER_BOUNDS.has(op)).length;
    const upper = operators.filter((op) => UPPER_BOUNDS.has(op)).length;
    if (lower !== 1 || upper !== 1) fail(path, '"numeric" range must have one lower and one upper bound');
  }
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

const validated = new WeakSet<object>();

/** True when `event` (an EventBridge envelope, or any JSON object) matches `pattern`. */
export function matchesPattern(pattern: unknown, event: Record<string, unknown>): boolean {
  // Rules are matched against every event: validate each pattern object once, not per event.
  if (!(isPlainObject(pattern) && validated.has(pattern))) {
    validatePattern(pattern);
    validated.add(pattern as Record<string, unknown>);
  }
  return matchObject(pattern as Record<string, unknown>, event);
}

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  const fields = isPlainObject(value) ? value : {};
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') return (sub as Record<string, unknown>[]).some((alt) => matchObject(alt, value));
    const field = fields[key];
    if (Array.isArray(sub)) return matchLeaf(sub, field);
    return matchNested(sub as Record<string, unknown>, field);
  });
}

function matchNested(pattern: Record<string, unknown>, field: unknown): boolean {
  if (Array.isArray(field)) {
    const objects = flatten(field).filter(isPlainObject);
    // With no object element the path has no leaves at all, which only `exists: false` accepts.
    return objects.length === 0 ? matchObject(pattern, {}) : objects.some((element) => matchObject(pattern, element));
  }
  return matchObject(pattern, field);
}

function flatten(values: unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? flatten(v) : [v]));
}

/** The leaf values found at a field: none when missing or an object, every leaf element of an array. */
function leafValues(field: unknown): Leaf[] {
  if (field === undefined) return [];
  if (Array.isArray(field)) return flatten(field).filter(isLeaf);
  return isLeaf(field) ? [field] : [];
}

function matchLeaf(conditions: unknown[], field: unknown): boolean {
  const values = leafValues(field);
  return conditions.some((condition) => {
    if (isPlainObject(condition) && 'exists' in condition) return condition.exists === values.length > 0;
    return values.some((value) => matchCondition(condition, value));
  });
}

function matchCondition(condition: unknown, value: Leaf): boolean {
  if (isLeaf(condition)) return condition === value;
  const [operator, operand] = Object.entries(condition as Record<string, Json>)[0] as [string, Json];
  switch (operator) {
    case 'prefix':
      return matchAffix(operand, value, (v, affix) => v.startsWith(affix));
    case 'suffix':
      return matchAffix(operand, value, (v, affix) => v.endsWith(affix));
    case 'equals-ignore-case':
      return typeof value === 'string' && foldCase(value) === foldCase(operand as string);
    case 'wildcard':
      return typeof value === 'string' && compileWildcard(operand as string).test(value);
    case 'anything-but':
      return !matchesAnythingButOperand(operand, value);
    case 'numeric':
      return typeof value === 'number' && matchNumeric(operand as (string | number)[], value);
    case 'cidr':
      return typeof value === 'string' && matchCidr(operand as string, value);
    default:
      return false;
  }
}

function foldCase(value: string): string {
  return value.toLowerCase();
}

function matchAffix(operand: Json, value: Leaf, test: (value: string, affix: string) => boolean): boolean {
  if (typeof value !== 'string') return false;
  if (isPlainObject(operand)) return test(foldCase(value), foldCase(operand['equals-ignore-case'] as string));
  return test(value, operand as string);
}

/** Whether `value` is one of the things an `anything-but` excludes. Prefix/suffix/wildcard only exclude strings. */
function matchesAnythingButOperand(operand: Json, value: Leaf): boolean {
  if (Array.isArray(operand)) return operand.includes(value);
  if (!isPlainObject(operand)) return operand === value;
  const [operator, raw] = Object.entries(operand)[0] as [string, Json];
  const candidates = (Array.isArray(raw) ? raw : [raw]) as string[];
  if (typeof value !== 'string') return false;
  switch (operator) {
    case 'prefix':
      return candidates.some((c) => value.startsWith(c));
    case 'suffix':
      return candidates.some((c) => value.endsWith(c));
    case 'equals-ignore-case':
      return candidates.some((c) => foldCase(c) === foldCase(value));
    case 'wildcard':
      return candidates.some((c) => compileWildcard(c).test(value));
    default:
      return false;
  }
}

function matchNumeric(operand: (string | number)[], value: number): boolean {
  for (let i = 0; i < operand.length; i += 2) {
    const bound = operand[i + 1] as number;
    const ok =
      operand[i] === '='
        ? value === bound
        : operand[i] === '<'
          ? value < bound
          : operand[i] === '<='
            ? value <= bound
            : operand[i] === '>'
              ? value > bound
              : value >= bound;
    if (!ok) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Wildcards and CIDR blocks
// ---------------------------------------------------------------------------------------------

const wildcardCache = new Map<string, RegExp>();

/** `*` matches any run of characters; `\*` and `\\` are a literal star and backslash. */
function compileWildcard(wildcard: string, path = ''): RegExp {
  const cached = wildcardCache.get(wildcard);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < wildcard.length; i++) {
    const char = wildcard[i] as string;
    if (char === '\\') {
      const next = wildcard[i + 1];
      if (next !== '*' && next !== '\\') fail(path, `invalid escape in wildcard ${JSON.stringify(wildcard)}`);
      source += `\\${next}`;
      i++;
    } else if (char === '*') {
      if (wildcard[i + 1] === '*') fail(path, `consecutive wildcard characters in ${JSON.stringify(wildcard)}`);
      source += '[\\s\\S]*';
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  const regex = new RegExp(`^${source}$`, 'u');
  wildcardCache.set(wildcard, regex);
  return regex;
}

interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

function parseCidr(cidr: string, path = ''): Cidr {
  const [address = '', bits, extra] = cidr.split('/');
  const version = isIP(address);
  const max = version === 6 ? 128 : 32;
  const prefix = bits === undefined ? max : Number(bits);
  if (version === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    fail(path, `invalid CIDR ${JSON.stringify(cidr)}`);
  }
  return { address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' };
}

function matchCidr(cidr: string, value: string): boolean {
  const block = parseCidr(cidr);
  const family = isIP(value) === 6 ? 'ipv6' : isIP(value) === 4 ? 'ipv4' : undefined;
  if (family !== block.family) return false;
  const list = new BlockList();
  list.addSubnet(block.address, block.prefix, block.family);
  return list.check(value, family);
}
