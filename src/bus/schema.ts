/**
 * Runtime decoders for bus messages, with their TypeScript types inferred from them.
 *
 * Purpose: every frame that crosses a process boundary is checked against the declared shape of
 * its message before a handler sees it (house rule 2). A decoder returns the value or throws a
 * DecodeError naming the path of the first wrong field. No I/O.
 */

export class DecodeError extends Error {
  constructor(readonly path: string, readonly expected: string) {
    super(`${path || 'message'}: expected ${expected}`);
  }
}

export interface Decoder<T> {
  readonly describe: string;
  decode(value: unknown, path: string): T;
}

export type Infer<D> = D extends Decoder<infer T> ? T : never;

function make<T>(describe: string, check: (v: unknown, path: string) => T): Decoder<T> {
  return { describe, decode: check };
}

export const str: Decoder<string> = make('a string', (v, p) => {
  if (typeof v !== 'string') throw new DecodeError(p, 'a string');
  return v;
});

export const int: Decoder<number> = make('an integer', (v, p) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new DecodeError(p, 'an integer');
  return v;
});

export const num: Decoder<number> = make('a number', (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DecodeError(p, 'a number');
  return v;
});

export const bool: Decoder<boolean> = make('a boolean', (v, p) => {
  if (typeof v !== 'boolean') throw new DecodeError(p, 'a boolean');
  return v;
});

/** Any JSON value (but present), for payloads another module validates (the Config, checked
 * when it was parsed). */
export const json: Decoder<unknown> = make('a value', (v, p) => {
  if (v === undefined) throw new DecodeError(p, 'a value');
  return v;
});

export function lit<const L extends readonly (string | number)[]>(...values: L): Decoder<L[number]> {
  const d = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return make(d, (v, p) => {
    if (!values.includes(v as L[number])) throw new DecodeError(p, d);
    return v as L[number];
  });
}

export function arr<T>(item: Decoder<T>, max = 100_000): Decoder<T[]> {
  return make(`a list of ${item.describe}`, (v, p) => {
    if (!Array.isArray(v) || v.length > max) throw new DecodeError(p, `a list of at most ${max}`);
    return v.map((x, i) => item.decode(x, `${p}[${i}]`));
  });
}

export function record<T>(item: Decoder<T>): Decoder<Record<string, T>> {
  return make(`a map of ${item.describe}`, (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DecodeError(p, 'an object');
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = item.decode(x, `${p}.${k}`);
    return out;
  });
}

export interface Optional<T> extends Decoder<T | undefined> {
  readonly optional: true;
}

export function opt<T>(d: Decoder<T>): Optional<T> {
  return { ...make(`${d.describe} or nothing`, (v, p) => (v === undefined ? undefined : d.decode(v, p))), optional: true };
}

export type Fields = Record<string, Decoder<unknown>>;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends Optional<unknown> ? K : never }[keyof F];
type RequiredKeys<F extends Fields> = Exclude<keyof F, OptionalKeys<F>>;
export type ObjectOf<F extends Fields> = { [K in RequiredKeys<F>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> };

export function obj<F extends Fields>(fields: F): Decoder<ObjectOf<F>> {
  return make('an object', (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DecodeError(p, 'an object');
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, d] of Object.entries(fields)) {
      const x = d.decode(src[k], p ? `${p}.${k}` : k);
      if (x !== undefined) out[k] = x;
    }
    for (const k of Object.keys(src)) if (!(k in fields)) throw new DecodeError(p ? `${p}.${k}` : k, 'no such field');
    return out as ObjectOf<F>;
  });
}

/** A union of messages discriminated by `type`: `{ PING: { seq: int }, ... }`. */
export type MessagesOf<M extends Record<string, Fields>> = {
  [T in keyof M & string]: { type: T } & ObjectOf<M[T]>;
}[keyof M & string];

export interface UnionDecoder<U extends { type: string }> extends Decoder<U> {
  readonly types: readonly U['type'][];
}

export function union<M extends Record<string, Fields>>(messages: M): UnionDecoder<MessagesOf<M>> {
  const decoders = new Map<string, Decoder<unknown>>(
    Object.entries(messages).map(([t, f]) => [t, obj({ type: lit(t), ...f })]),
  );
  const types = [...decoders.keys()];
  return {
    types: types as MessagesOf<M>['type'][],
    describe: `a message (${types.join(', ')})`,
    decode(v: unknown, p: string) {
      const type = typeof v === 'object' && v !== null ? (v as { type?: unknown }).type : undefined;
      const d = typeof type === 'string' ? decoders.get(type) : undefined;
      if (!d) throw new DecodeError(p ? `${p}.type` : 'type', `one of ${types.join(', ')}`);
      return d.decode(v, p) as MessagesOf<M>;
    },
  };
}

/** One handler per message type: a missing one is a compile error. */
export type Handlers<U extends { type: string }, R = void> = {
  [T in U['type']]: (msg: Extract<U, { type: T }>) => R;
};

export function dispatch<U extends { type: string }, R>(handlers: Handlers<U, R>, msg: U): R {
  const h = handlers[msg.type as U['type']] as (m: U) => R;
  return h(msg);
}
