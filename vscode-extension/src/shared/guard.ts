/**
 * Small structural checks for JSON that crosses a trust boundary (the agent's WebSocket, a
 * webview's postMessage). Each reader either returns a fresh, well-typed copy holding only the
 * fields it knows, or throws a GuardError naming the path of the first bad field.
 */

export class GuardError extends Error {
  override readonly name = 'GuardError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

export type Json = unknown;

export function fail(path: string, detail: string): never {
  throw new GuardError(path, detail);
}

export function record(value: Json, path: string): Readonly<Record<string, Json>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'expected an object');
  return value as Record<string, Json>;
}

/** Own property only: a key like "__proto__" or "constructor" is never read from the prototype. */
export function field(object: Readonly<Record<string, Json>>, key: string): Json {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

export function string(value: Json, path: string, maxLength = 4096): string {
  if (typeof value !== 'string') fail(path, 'expected a string');
  if (value.length > maxLength) fail(path, `longer than ${maxLength} characters`);
  return value;
}

export function optionalString(value: Json, path: string, maxLength = 4096): string | undefined {
  return value === undefined ? undefined : string(value, path, maxLength);
}

export function number(value: Json, path: string, min = -Number.MAX_VALUE, max = Number.MAX_VALUE): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'expected a finite number');
  if (value < min || value > max) fail(path, `out of range [${min}, ${max}]`);
  return value;
}

export function integer(value: Json, path: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const result = number(value, path, min, max);
  if (!Number.isInteger(result)) fail(path, 'expected an integer');
  return result;
}

export function boolean(value: Json, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'expected true or false');
  return value;
}

export function oneOf<T extends string>(value: Json, path: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) fail(path, `expected one of ${choices.join(', ')}`);
  return value as T;
}

export function array<T>(value: Json, path: string, maxLength: number, item: (value: Json, path: string) => T): T[] {
  if (!Array.isArray(value)) fail(path, 'expected an array');
  if (value.length > maxLength) fail(path, `more than ${maxLength} items`);
  const result = new Array<T>(value.length);
  for (let index = 0; index < value.length; index++) result[index] = item(value[index], `${path}[${index}]`);
  return result;
}

/** An id as JSON-RPC-like protocols carry them: a short string or a safe integer. */
export function optionalId(value: Json, path: string): string | number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return integer(value, path);
  return string(value, path, 128);
}
