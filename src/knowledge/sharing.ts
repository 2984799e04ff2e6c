/**
 * What the agent may do with each of a client's documents, set per file in CLIENTS_DIR/<id>/sharing.txt:
 *
 *     # comment
 *     default: when-asked-and-relevant
 *     profile.txt: always
 *     bank-statement.pdf: never
 *
 * One `<file>: <rule>` per line (the last colon separates, so a file name may contain colons); `default`
 * sets the rule of every document not listed (the profile keeps its own default). Rules:
 *
 * - `always`: in the call-start reference excerpts (pushed into the prompt) and in lookups.
 * - `when-asked-and-relevant`: never pushed into the prompt; returned by lookup_context only when the
 *   passage matches the question well (see LOOKUP_MIN_RELEVANCE in rank.ts).
 * - `never`: nothing from it reaches the model, the prompt or a lookup.
 *
 * Defaults: `always` for profile.txt (it is written for the agent and goes into the prompt whole, as it
 * always did), `when-asked-and-relevant` for every other document (paperwork holds IDs, medications,
 * account numbers: the agent gets a fact only when a callee asks for it and the passage answers).
 *
 * A line that cannot be read is reported with its number and fails closed: its file is `never` (a
 * `default:` line that cannot be read makes the default `never`), so a typo never shares more than
 * meant. Pure functions; the file is read and written by the knowledge base.
 */
import { z } from 'zod';

export const SHARE_RULES = ['always', 'when-asked-and-relevant', 'never'] as const;
export const shareRuleSchema = z.enum(SHARE_RULES, { error: () => `must be one of ${SHARE_RULES.join(', ')}` });
export type ShareRule = z.infer<typeof shareRuleSchema>;

export const DEFAULT_DOCUMENT_RULE: ShareRule = 'when-asked-and-relevant';
export const DEFAULT_PROFILE_RULE: ShareRule = 'always';

export interface SharingLineError {
  line: number;
  error: string;
}

export interface SharingRules {
  /** The rule of documents not listed (the profile aside), when the file sets one. */
  default?: ShareRule;
  /** By file name, lower-cased (file names are compared case-insensitively, as on macOS and Windows). */
  files: Map<string, ShareRule>;
  errors: SharingLineError[];
}

const fileNameSchema = z
  .string()
  .min(1, 'names no file')
  .max(200, 'file name is longer than 200 characters')
  // eslint-disable-next-line no-control-regex
  .regex(/^[^/\\\u0000-\u001f]+$/, 'file name must be a plain name in the client folder');

/** Parses sharing.txt. Never throws: every problem is a numbered line error. */
export function parseSharing(text: string): SharingRules {
  const rules: SharingRules = { files: new Map(), errors: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const content = raw.trim();
    if (!content || content.startsWith('#')) return;
    const colon = content.lastIndexOf(':');
    const name = colon > 0 ? content.slice(0, colon).trim() : '';
    const rule = shareRuleSchema.safeParse(colon > 0 ? content.slice(colon + 1).trim() : undefined);
    const fail = (error: string) => {
      rules.errors.push({ line, error });
      // Fail closed: whatever this line was about shares nothing until it is fixed.
      if (name.toLowerCase() === 'default') rules.default = 'never';
      else if (name) rules.files.set(name.toLowerCase(), 'never');
    };
    if (colon <= 0) return fail(`expected "<file>: <rule>" (rules: ${SHARE_RULES.join(', ')})`);
    if (name.toLowerCase() === 'default') {
      if (!rule.success) return fail(`default: "${content.slice(colon + 1).trim()}" ${rule.error.issues[0]!.message}`);
      if (rules.default !== undefined) return fail('default is set twice');
      rules.default = rule.data;
      return;
    }
    const file = fileNameSchema.safeParse(name);
    if (!file.success) return fail(`"${name}": ${file.error.issues[0]!.message}`);
    if (!rule.success) return fail(`${name}: "${content.slice(colon + 1).trim()}" ${rule.error.issues[0]!.message}`);
    if (rules.files.has(name.toLowerCase())) return fail(`${name} is listed twice`);
    rules.files.set(name.toLowerCase(), rule.data);
  });
  return rules;
}

/** The rule that applies to a file of the client's folder. */
export function ruleFor(rules: SharingRules, file: string, isProfile: boolean): ShareRule {
  return rules.files.get(file.toLowerCase()) ?? (isProfile ? DEFAULT_PROFILE_RULE : (rules.default ?? DEFAULT_DOCUMENT_RULE));
}

/**
 * sharing.txt with `file`'s rule set to `rule`: its line replaced in place (comments and other lines
 * kept), or a line appended. A line for the file that could not be read is replaced too.
 */
export function withRule(text: string, file: string, rule: ShareRule): string {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const key = file.toLowerCase();
  let found = false;
  const out: string[] = [];
  for (const l of lines) {
    const t = l.trim();
    const colon = t.lastIndexOf(':');
    if (!t.startsWith('#') && colon > 0 && t.slice(0, colon).trim().toLowerCase() === key) {
      if (!found) out.push(`${file}: ${rule}`);
      found = true;
      continue;
    }
    out.push(l);
  }
  if (!found) {
    if (!out.length) out.push('# What the agent may share from each document: always | when-asked-and-relevant | never (see README)');
    out.push(`${file}: ${rule}`);
  }
  return `${out.join('\n')}\n`;
}
