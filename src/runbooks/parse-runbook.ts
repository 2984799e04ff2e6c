import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { createCallSchema } from '../calls/call-request.js';
import { runbookSchema, type Runbook, type RunbookProblem } from './runbook-schema.js';
import { callFieldsOf } from './expand-runbook.js';

export type ParsedRunbook = { ok: true; runbook: Runbook } | { ok: false; problems: RunbookProblem[] };

/** The runbook's fields a call request holds under another name. */
const CALL_FIELD_TO_RUNBOOK: Record<string, string> = { outcomeSchema: 'outcome' };

/**
 * Reads a runbook file: Markdown with a front-matter block (`---` YAML `---`, then the instructions), or
 * a whole YAML file. Every problem is reported with its line, so a user can fix the file in an editor.
 */
export function parseRunbook(name: string, fileName: string, text: string): ParsedRunbook {
  const isYaml = /\.ya?ml$/i.test(fileName);
  let yamlText = text;
  let body = '';
  let lineOffset = 0;
  let bodyFirstLine = 0;
  if (!isYaml) {
    const m = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text);
    if (!m) return { ok: false, problems: [{ line: 1, message: 'a runbook starts with a front-matter block: a line "---", the YAML fields, and another "---"' }] };
    yamlText = m[1];
    body = m[2].trim();
    lineOffset = 1;
    // "---", the YAML, "---", then any blank lines before the instructions start.
    bodyFirstLine = lineCountOf(yamlText) + 3 + (/^\s*/.exec(m[2])![0].match(/\n/g)?.length ?? 0);
  }
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number) => lines.linePos(offset).line + lineOffset;
  if (doc.errors.length) return { ok: false, problems: doc.errors.map((e) => ({ line: lineAt(e.pos[0]), message: `YAML: ${e.message.split('\n')[0]}` })) };
  if (!isMap(doc.contents)) return { ok: false, problems: [{ line: 1 + lineOffset, message: 'the front matter must be a set of "field: value" lines' }] };

  const fm = runbookSchema.safeParse(doc.toJS());
  if (!fm.success) return { ok: false, problems: fm.error.issues.map((i) => problemAt(doc, i.path, i, lineAt)) };
  const runbook: Runbook = { ...fm.data, name, body: (isYaml ? fm.data.instructions ?? '' : body).trim() };
  const problems: RunbookProblem[] = [];
  if (!runbook.body) problems.push({ line: isYaml ? undefined : bodyFirstLine, field: isYaml ? 'instructions' : undefined, message: 'the runbook has no instructions (the text after the front matter)' });

  // The fields a call request also has must pass the call's own checks, or no call could be made from it.
  const call = createCallSchema.partial().safeParse(callFieldsOf(runbook));
  if (!call.success) {
    for (const i of call.error.issues) {
      const [head, ...rest] = i.path;
      problems.push(problemAt(doc, [CALL_FIELD_TO_RUNBOOK[String(head)] ?? head, ...rest], i, lineAt));
    }
  }

  // A placeholder that names no variable would reach the callee as "{{name}}".
  const declared = new Set(Object.keys(runbook.variables));
  for (const { field, text: t, line } of placeholdersIn(runbook, doc, lineAt, bodyFirstLine)) {
    for (const m of t.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      if (!declared.has(m[1])) problems.push({ line: line(m.index ?? 0), field, message: `{{${m[1]}}} is not one of the runbook's variables (${[...declared].join(', ') || 'none declared'})` });
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, runbook };
}

function problemAt(doc: Document, path: PropertyKey[], issue: z.core.$ZodIssue, lineAt: (offset: number) => number): RunbookProblem {
  const field = path.map(String).join('.');
  // The node at the path, or its nearest ancestor when the field is missing.
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) {
      const message = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message;
      const keyLine = issue.code === 'unrecognized_keys' ? keyOffset(doc, path, issue.keys[0]) : undefined;
      return { line: lineAt(keyLine ?? node.range[0]), ...(field ? { field } : {}), message };
    }
  }
  return { ...(field ? { field } : {}), message: issue.message };
}

/** Where an unknown key is written, so the line points at it rather than at its parent. */
function keyOffset(doc: Document, path: PropertyKey[], key: string): number | undefined {
  const parent = path.length ? doc.getIn(path as unknown[], true) : doc.contents;
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isNode(p.key) && String((p.key as { value?: unknown }).value) === key);
  return isNode(pair?.key) ? pair.key.range?.[0] : undefined;
}

function lineCountOf(text: string): number {
  return text.split('\n').length;
}

/** The texts where `{{variables}}` are filled in, each with a way to find the line of a character. */
function* placeholdersIn(r: Runbook, doc: Document, lineAt: (offset: number) => number, bodyFirstLine: number) {
  for (const field of ['goal', 'instructions']) {
    const node = doc.getIn([field], true);
    if (isNode(node) && node.range && typeof r[field as 'goal'] === 'string') yield { field, text: r[field as 'goal'] as string, line: () => lineAt(node.range![0]) };
  }
  const vm = doc.getIn(['voicemail', 'message'], true);
  const vmText = (r.voicemail as { message?: unknown } | undefined)?.message;
  if (isNode(vm) && vm.range && typeof vmText === 'string') yield { field: 'voicemail.message', text: vmText, line: () => lineAt(vm.range![0]) };
  if (bodyFirstLine > 0) yield { field: undefined, text: r.body, line: (index: number) => bodyFirstLine + r.body.slice(0, index).split('\n').length - 1 };
}
