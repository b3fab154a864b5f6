/**
 * Checks of JSON read back from a file (a model file): each returns the value, typed, when it
 * is what the reader needs, and otherwise throws InvalidMemberError naming the member by its
 * JSON path (`temporal.transitions[23]`) and what was expected. A damaged file is then reported
 * where it is damaged, instead of failing later as a JS TypeError deep in a loader, or loading
 * and giving wrong answers.
 *
 * Cost: a loader checks at load time only, never per prediction. Paths are plain strings built
 * per checked object; checks of long arrays build an element's path only when it is wrong.
 */

/**
 * A member of a JSON document that is missing or not what its reader needs. A RangeError, as
 * the model loaders' own checks threw before this module existed (callers catch those).
 */
export class InvalidMemberError extends RangeError {
  override readonly name = 'InvalidMemberError';
  constructor(
    /** JSON path of the member, e.g. `classifier.forest.baseModel.indexes[3][7]`. */
    readonly member: string,
    readonly problem: string,
  ) {
    super(`${member}: ${problem}`);
  }
}

/** The path of member `key` (a name or an array index) of the value at `path` ('' is the root). */
export function memberPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** A short rendering of a bad value for messages: long strings cut, containers summarised. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return text.length > 42 ? `${text.slice(0, 40)}…"` : text;
  }
  return String(value);
}

/** Throws: the member at `path` is missing (undefined) or is `value`, not `expected`. */
export function invalid(path: string, expected: string, value: unknown): never {
  throw new InvalidMemberError(path, value === undefined ? `missing; expected ${expected}` : `expected ${expected}, got ${describeValue(value)}`);
}

/** Bounds of a number; every checked number is also finite. */
export interface NumberRange {
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Exclusive lower bound. */
  readonly above?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
  readonly integer?: boolean;
}

export const PROBABILITY: NumberRange = { min: 0, max: 1 };
export const NON_NEGATIVE: NumberRange = { min: 0 };
export const POSITIVE: NumberRange = { above: 0 };

/** "an integer in [0, 117]", "a finite number > 0", … */
export function describeRange(range: NumberRange): string {
  const kind = range.integer === true ? 'an integer' : 'a finite number';
  if (range.min !== undefined && range.max !== undefined) return `${kind} in [${range.min}, ${range.max}]`;
  if (range.above !== undefined && range.max !== undefined) return `${kind} in (${range.above}, ${range.max}]`;
  const bounds: string[] = [];
  if (range.min !== undefined) bounds.push(`≥ ${range.min}`);
  if (range.above !== undefined) bounds.push(`> ${range.above}`);
  if (range.max !== undefined) bounds.push(`≤ ${range.max}`);
  return bounds.length === 0 ? kind : `${kind} ${bounds.join(' and ')}`;
}

/** A checker for one range, hoisted out of the loops over long arrays. */
function rangeTest(range: NumberRange): (value: unknown) => value is number {
  const min = range.min ?? -Infinity;
  const above = range.above ?? -Infinity;
  const max = range.max ?? Infinity;
  const integer = range.integer === true;
  return (value: unknown): value is number =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value > above && value <= max && (!integer || Number.isInteger(value));
}

/** A number in `range`; `why` explains the range in the message ("the dialog gap"). */
export function checkNumber(value: unknown, path: string, range: NumberRange = {}, why?: string): number {
  if (!rangeTest(range)(value)) invalid(path, why === undefined ? describeRange(range) : `${describeRange(range)} (${why})`, value);
  return value;
}

/** A required array length and why, for the message ("one per class"). */
export interface LengthRule {
  readonly length: number;
  readonly why: string;
}

export function checkArray(value: unknown, path: string, rule?: LengthRule): readonly unknown[] {
  const expected = rule === undefined ? 'an array' : `an array of ${rule.length} (${rule.why})`;
  if (!Array.isArray(value)) invalid(path, expected, value);
  if (rule !== undefined && value.length !== rule.length) invalid(path, expected, value);
  return value;
}

/** An array of numbers, each in `range`. */
export function checkNumbers(value: unknown, path: string, range: NumberRange = {}, rule?: LengthRule): readonly number[] {
  const array = checkArray(value, path, rule);
  // The loop runs once per load, mostly before V8 optimises it: kept to a few comparisons, no
  // call. Bounds within ±MAX_VALUE make the comparisons refuse ±Infinity and NaN as well.
  const min = Math.max(range.min ?? -Number.MAX_VALUE, -Number.MAX_VALUE);
  const max = Math.min(range.max ?? Number.MAX_VALUE, Number.MAX_VALUE);
  const above = range.above ?? -Infinity;
  const integer = range.integer === true;
  for (let i = 0; i < array.length; i++) {
    const v = array[i];
    if (typeof v !== 'number' || !(v >= min && v <= max && v > above) || (integer && !Number.isInteger(v))) {
      invalid(memberPath(path, i), describeRange(range), v);
    }
  }
  return array as readonly number[];
}

/** A non-empty array of distinct members of `choices`. */
export function checkChoiceList<T extends string>(value: unknown, path: string, choices: readonly T[]): T[] {
  const array = checkArray(value, path);
  if (array.length === 0) invalid(path, `a non-empty array of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, value);
  const seen = new Map<unknown, number>();
  array.forEach((item, i) => {
    if (!(choices as readonly unknown[]).includes(item)) invalid(memberPath(path, i), `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, item);
    const first = seen.get(item);
    if (first !== undefined) throw new InvalidMemberError(memberPath(path, i), `repeats ${describeValue(item)}, already at ${memberPath(path, first)}`);
    seen.set(item, i);
  });
  return array as T[];
}

/** A JSON object whose members are checked one by one, each error naming the member's path. */
export class JsonObject {
  private constructor(
    private readonly members: Readonly<Record<string, unknown>>,
    readonly path: string,
  ) {}

  /** `value` as an object (not null, not an array); `expected` words the error. */
  static at(value: unknown, path: string, expected = 'an object'): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(path, expected, value);
    return new JsonObject(value as Readonly<Record<string, unknown>>, path);
  }

  /** The member's value; undefined when absent (own members only: `constructor` is no member). */
  get(key: string): unknown {
    return Object.hasOwn(this.members, key) ? this.members[key] : undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  pathOf(key: string | number): string {
    return memberPath(this.path, key);
  }

  /** The member must be `expected`; `why` says why in the message. */
  literal<T extends string | number | boolean>(key: string, expected: T, why?: string): T {
    const value = this.get(key);
    if (value !== expected) invalid(this.pathOf(key), why === undefined ? JSON.stringify(expected) : `${JSON.stringify(expected)} (${why})`, value);
    return expected;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T {
    const value = this.get(key);
    if (!(choices as readonly unknown[]).includes(value)) invalid(this.pathOf(key), `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, value);
    return value as T;
  }

  string(key: string): string {
    const value = this.get(key);
    if (typeof value !== 'string') invalid(this.pathOf(key), 'a string', value);
    return value;
  }

  boolean(key: string): boolean {
    const value = this.get(key);
    if (typeof value !== 'boolean') invalid(this.pathOf(key), 'true or false', value);
    return value;
  }

  number(key: string, range: NumberRange = {}, why?: string): number {
    return checkNumber(this.get(key), this.pathOf(key), range, why);
  }

  numbers(key: string, range: NumberRange = {}, rule?: LengthRule): readonly number[] {
    return checkNumbers(this.get(key), this.pathOf(key), range, rule);
  }

  array(key: string, rule?: LengthRule): readonly unknown[] {
    return checkArray(this.get(key), this.pathOf(key), rule);
  }

  object(key: string, expected?: string): JsonObject {
    return JsonObject.at(this.get(key), this.pathOf(key), expected);
  }

  choiceList<T extends string>(key: string, choices: readonly T[]): T[] {
    return checkChoiceList(this.get(key), this.pathOf(key), choices);
  }
}
