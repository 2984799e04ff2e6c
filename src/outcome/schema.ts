import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * The outcome schema a call (or its runbook) gives: a JSON Schema for an object whose top-level
 * properties are the facts the call is for (confirmationNumber, price, pickupTime ...). Checked with a
 * real validator against its draft's meta-schema (2020-12 unless `$schema` names draft-07), then compiled,
 * so an unresolvable `$ref` or a bad pattern is refused at the boundary, not after the call.
 */
export type OutcomeSchema = Record<string, unknown>;

const MAX_SCHEMA_CHARS = 20_000;
const MAX_FIELDS = 40;
const FIELD_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function validatorFor(schema: OutcomeSchema): Ajv {
  const draft07 = typeof schema.$schema === 'string' && /draft-0[67]/.test(schema.$schema);
  // strict: false: unknown keywords (x-..., descriptions in odd places) are not errors; formats are not asserted.
  const opts = { strict: false, allErrors: false, validateFormats: false } as const;
  return draft07 ? new Ajv(opts) : new Ajv2020(opts);
}

/** Why this is not a usable outcome schema (one sentence), or undefined when it is. */
export function outcomeSchemaProblem(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return 'must be a JSON Schema object';
  const s = schema as OutcomeSchema;
  if (JSON.stringify(s).length > MAX_SCHEMA_CHARS) return `is longer than ${MAX_SCHEMA_CHARS} characters`;
  if (typeof s.$schema === 'string' && !/json-schema\.org\/(draft-0[67]|draft\/2020-12)\/schema/.test(s.$schema)) return `$schema must be draft-07 or 2020-12 (got ${s.$schema.slice(0, 80)})`;
  const ajv = validatorFor(s);
  let valid: boolean;
  try {
    valid = ajv.validateSchema(s) as boolean;
  } catch (err) {
    return `is not a JSON Schema: ${(err as Error).message}`;
  }
  // The first error only: the meta-schema's alternatives (anyOf) add two more that say the same thing.
  if (!valid) return `is not a JSON Schema: ${ajv.errorsText(ajv.errors?.slice(0, 1), { dataVar: 'schema' })}`;
  try {
    ajv.compile(s);
  } catch (err) {
    return `is not a JSON Schema: ${(err as Error).message}`;
  }
  if (s.type !== 'object') return 'must describe an object (type: "object"), whose properties are the facts to extract';
  const props = s.properties;
  if (typeof props !== 'object' || props === null || Object.keys(props).length === 0) return 'must list the facts to extract under properties';
  const names = Object.keys(props);
  if (names.length > MAX_FIELDS) return `has more than ${MAX_FIELDS} properties`;
  const bad = names.find((n) => !FIELD_NAME_RE.test(n));
  if (bad !== undefined) return `property name "${bad.slice(0, 64)}" must be letters, digits and _ (at most 64), starting with a letter or _`;
  return undefined;
}

/** A validator for facts against the call's schema (the schema was checked at the boundary). */
export function compileOutcomeSchema(schema: OutcomeSchema): ValidateFunction {
  return validatorFor(schema).compile(schema);
}

/** Ajv's errors for `validate`, as short sentences. */
export function schemaErrors(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(facts)'} ${e.message ?? 'is invalid'}`.trim());
}

/** The schema used when a call gives none: no facts, only the summary and whether the goal was met. */
export const NO_FIELDS: OutcomeSchema = { type: 'object', properties: {} };

/**
 * The schema the model must answer with. The call's facts become nullable strings, numbers or booleans
 * (what a phone call can state), each top-level field with the transcript line it came from. The shape is
 * strict-mode compatible (every object closed, every property required, nullable via a type union), which
 * OpenAI's structured outputs require and Gemini's responseJsonSchema accepts.
 */
export function responseSchema(fields: OutcomeSchema): OutcomeSchema {
  const props = (fields.properties ?? {}) as Record<string, Record<string, unknown>>;
  const fieldProps: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(props)) {
    fieldProps[name] = {
      type: 'object',
      additionalProperties: false,
      required: ['value', 'line', 'quote'],
      properties: {
        value: { type: [scalarType(p), 'null'], ...(typeof p.description === 'string' ? { description: p.description.slice(0, 500) } : {}), ...(Array.isArray(p.enum) ? { enum: [...p.enum.filter((v) => v === null || typeof v !== 'object'), null] } : {}) },
        line: { type: ['integer', 'null'], description: 'the number in brackets of the transcript line that states the value; null when the value is null' },
        quote: { type: ['string', 'null'], description: 'the exact words of that line that state the value, copied verbatim; null when the value is null' },
      },
    };
  }
  return {
    type: 'object',
    additionalProperties: false,
    required: ['summary', 'goalMet', 'fields'],
    properties: {
      summary: { type: 'string', description: 'two or three sentences: what was agreed or learned, and what is left to do' },
      goalMet: { type: 'string', enum: ['achieved', 'partly', 'not-achieved', 'unknown'] },
      fields: { type: 'object', additionalProperties: false, required: Object.keys(fieldProps), properties: fieldProps },
    },
  };
}

/** The JSON type a field's value is asked in: the schema's own when scalar, else a string. */
function scalarType(p: Record<string, unknown>): 'string' | 'number' | 'integer' | 'boolean' {
  const t = Array.isArray(p.type) ? p.type.find((x) => x !== 'null') : p.type;
  return t === 'number' || t === 'integer' || t === 'boolean' ? t : 'string';
}
