/**
 * Shared pieces of the parser fuzz tests: input generators (arbitrary text and bytes, arbitrary JSON,
 * and mutations of valid messages), the run count, and a guard that fails a test on an unhandled
 * rejection or an uncaught exception raised while it ran.
 */
import fc from 'fast-check';

/** Runs per property; `FUZZ_RUNS` raises or lowers it (e.g. a long overnight run). */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);

/**
 * The suite is deterministic: the same 100k inputs every run, so a red CI is reproducible and never a
 * coin toss. `FUZZ_SEED=random` (or a number) explores other inputs; a failure prints its seed.
 */
export const SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20261124);
fc.configureGlobal({ seed: SEED });

/** Fails the caller's test if anything escaped as an unhandled rejection or uncaught exception while `fn` ran. */
export async function noEscapes(fn: () => void | Promise<void>): Promise<void> {
  const escaped: unknown[] = [];
  const onRejection = (reason: unknown) => escaped.push(reason);
  const onException = (err: unknown) => escaped.push(err);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  try {
    await fn();
    // Let any promise a parser may have left behind settle before looking.
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
  if (escaped.length) throw new Error(`escaped: ${String(escaped[0])}`);
}

/** Runs a property and reports its size and time, which docs/robustness.md quotes. */
export function check<T>(name: string, arb: fc.Arbitrary<T>, predicate: (v: T) => void, runs = RUNS): void {
  const t0 = performance.now();
  try {
    fc.assert(fc.property(arb, predicate), { numRuns: runs });
  } catch (err) {
    // Counterexamples can be 70 kB strings: report the failure and a readable slice of the input.
    const cause = (err as Error & { cause?: Error }).cause;
    throw new Error(`${name} (FUZZ_SEED=${SEED}): ${cause?.message ?? (err as Error).message}`.slice(0, 2000) + `\n${(err as Error).message.slice(0, 1500)}`);
  }
  const ms = performance.now() - t0;
  if (process.env.FUZZ_REPORT) console.log(`fuzz ${name}: ${runs} runs in ${(ms / 1000).toFixed(2)} s`);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Text a socket could deliver: any UTF-16 (lone surrogates included), or bytes decoded as UTF-8. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
);

/** Any JSON document, serialized. */
export const anyJson: fc.Arbitrary<string> = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null');

/** Any JSON document that is an object with a given discriminator set to one of `tags`. */
export function taggedJson(key: string, tags: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...tags), fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }))
    .map(([tag, rest]) => JSON.stringify({ ...rest, [key]: tag }));
}

const HUGE: Json[] = [1e308, -1e308, -1, 2 ** 53 + 1, 0.5, 'x'.repeat(70_000), '9'.repeat(400), [[[[[[[[[[[]]]]]]]]]]]];
const UNICODE = ['\u0000', '\uD800', '\uDFFF', '\u202E', '😀', 'é', '\n', '"', '\\', '\u2028'];

type Mutation =
  | { kind: 'remove'; at: number }
  | { kind: 'retype'; at: number; value: Json }
  | { kind: 'huge'; at: number; which: number }
  | { kind: 'unicode'; at: number; which: number; pos: number }
  | { kind: 'badBase64'; at: number; pos: number }
  | { kind: 'truncate'; cut: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> }),
  fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), which: fc.nat({ max: HUGE.length - 1 }) }),
  fc.record({ kind: fc.constant('unicode' as const), at: fc.nat(), which: fc.nat({ max: UNICODE.length - 1 }), pos: fc.nat() }),
  fc.record({ kind: fc.constant('badBase64' as const), at: fc.nat(), pos: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), cut: fc.nat() }),
);

type Path = Array<string | number>;
function paths(v: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (v && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) {
      const p = [...prefix, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      paths(child as Json, p, out);
    }
  }
  return out;
}

function parentOf(root: Json, p: Path): { parent: Record<string | number, Json>; key: string | number } {
  let node = root as Record<string | number, Json>;
  for (const k of p.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  return { parent: node, key: p[p.length - 1] };
}

/** Applies mutations to a (deep-copied) valid message and serializes it; truncation cuts the text. */
export function applyMutations(valid: Json, muts: Mutation[]): string {
  const root = structuredClone(valid);
  let cut: number | undefined;
  for (const m of muts) {
    if (m.kind === 'truncate') {
      cut = m.cut;
      continue;
    }
    const all = paths(root);
    if (all.length === 0) continue;
    const { parent, key } = parentOf(root, all[m.at % all.length]);
    const cur = parent[key];
    switch (m.kind) {
      case 'remove':
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case 'retype':
        parent[key] = m.value;
        break;
      case 'huge':
        parent[key] = structuredClone(HUGE[m.which]);
        break;
      case 'unicode': {
        const s = typeof cur === 'string' ? cur : String(cur);
        const i = m.pos % (s.length + 1);
        parent[key] = s.slice(0, i) + UNICODE[m.which] + s.slice(i);
        break;
      }
      case 'badBase64': {
        const s = typeof cur === 'string' && cur.length ? cur : 'AAAA';
        const i = m.pos % s.length;
        // One character outside the alphabet, or the length knocked off a multiple of 4.
        parent[key] = m.pos % 2 ? s.slice(0, i) + '!' + s.slice(i + 1) : s + 'A';
        break;
      }
    }
  }
  const text = JSON.stringify(root);
  return cut === undefined ? text : text.slice(0, cut % Math.max(1, text.length));
}

/** Mutations (1 to 3) of messages drawn from `valid`. */
export function mutated(valid: fc.Arbitrary<object>): fc.Arbitrary<string> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([v, muts]) => applyMutations(v as Json, muts));
}

/** Random text, random JSON, messages with the right tag and random fields, and mutated valid messages. */
export function hostileInputs(valid: fc.Arbitrary<object>, tagKey: string, tags: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: anyText, weight: 1 },
    { arbitrary: anyJson, weight: 1 },
    { arbitrary: taggedJson(tagKey, tags), weight: 2 },
    { arbitrary: mutated(valid), weight: 4 },
  );
}

export const base64Audio: fc.Arbitrary<string> = fc.uint8Array({ minLength: 1, maxLength: 320 }).map((b) => Buffer.from(b).toString('base64'));

/** Valid inputs only need to show they round-trip; fewer runs cover them. */
export const VALID_RUNS = Math.max(1, Math.round(RUNS / 5));

/** Runs `parse`: an error must be of `errorType` and pass `checkError`; a result must pass `checkValue`. */
export function parsedOrRefused<T, E extends Error>(parse: () => T, errorType: abstract new (...args: never[]) => E, checkError: (e: E) => void, checkValue: (v: T) => void): void {
  let value: T;
  try {
    value = parse();
  } catch (err) {
    if (!(err instanceof errorType)) throw new Error(`unexpected ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    checkError(err);
    return;
  }
  checkValue(value);
}

/** Escapes that are not valid: a lone or short `%`, non-hex digits, truncated or overlong UTF-8, a lone surrogate. */
export const BAD_ESCAPES = ['%', '%2', '%zz', '%G0', '%%', '%E0%A4%A', '%E0%A4', '%C0%80', '%FF', '%ED%A0%80', '%F4%90%80%80', '%u0041'];

/** One query-string or form component: well encoded, raw printable text, or a planted bad escape. */
const component: fc.Arbitrary<{ text: string; bad: boolean }> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => ({ text: encodeURIComponent(s), bad: false })),
  fc.stringMatching(/^[A-Za-z0-9._~+\-]{0,20}$/).map((s) => ({ text: s, bad: false })),
  // What follows a bad escape starts with a letter that is not a hex digit, so it cannot complete it.
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9]{0,8}$/), fc.constantFrom(...BAD_ESCAPES), fc.stringMatching(/^([g-zG-Z][A-Za-z0-9]{0,7})?$/)).map(([a, b, c]) => ({ text: a + b + c, bad: true })),
);

/**
 * A query string (without `?`) of 0 to 5 pairs, as a client could send it, and whether any part of it
 * carries a malformed escape. `names` are used as keys half of the time, so the routes' own parameters
 * (token, limit, q, callId, ...) are hit.
 */
export function hostileQuery(names: readonly string[]): fc.Arbitrary<{ query: string; bad: boolean }> {
  const key = fc.oneof(fc.constantFrom(...names).map((text) => ({ text, bad: false })), component);
  const pair = fc.tuple(key, fc.option(component, { nil: undefined })).map(([k, v]) => ({ text: v ? `${k.text}=${v.text}` : k.text, bad: k.bad || Boolean(v?.bad) }));
  return fc.array(pair, { maxLength: 5 }).map((ps) => ({ query: ps.map((p) => p.text).join('&'), bad: ps.some((p) => p.bad) }));
}
