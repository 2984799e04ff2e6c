import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
/** The repository's top-level folders: a `path` in backticks that starts with one of them names a file of the repository. */
const REPO_DIRS = ['src', 'test', 'bench', 'scripts', 'docs', 'web', 'runbooks', 'bin', 'models'];

/** Relative Markdown links, without their #anchor: `[text](path)` and `[ref]: path`. */
export function relativeLinks(md: string): string[] {
  const out: string[] = [];
  // Code blocks and inline code are text, not links (a regex pattern in the API reference looks like one).
  const body = md.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  for (const m of body.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\[[^\]]+\]:\s*(\S+)/gm)) {
    const target = (m[1] ?? m[2])!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('/')) continue;
    out.push(decodeURI(target.split('#')[0]!));
  }
  return out.filter(Boolean);
}

/**
 * Repository paths named in backticks, outside code blocks: one under a top-level folder (`test/fixtures/`,
 * `src/records/pricing.ts`), or a source file named from src/ or web/src/ (`calls/policy.ts`, `lib/api.ts`).
 * Placeholders (`<id>`), settings-based paths (`DATA_DIR/...`) and home or dot paths (`~/.cursor/mcp.json`) are not the repository's.
 */
export function mentionedPaths(md: string): string[] {
  const body = md.replace(/```[\s\S]*?```/g, '');
  const out: string[] = [];
  for (const m of body.matchAll(/`([^`\s]+)`/g)) {
    const p = m[1]!.replace(/[.,:;]$/, '').replace(/:\d+(-\d+)?$/, '');
    if (!p.includes('/') || /[<>{}*$?~]/.test(p) || p.startsWith('.') || /^[A-Z_]+\//.test(p) || /^[a-z]+:/.test(p)) continue;
    const first = p.split('/')[0]!;
    if (REPO_DIRS.includes(first) || /\.(ts|tsx|mjs|md)$/.test(p)) out.push(p);
  }
  return out;
}

/** Where a mentioned path may live: from the root, the document's folder, or the source roots it is named from. */
const pathExists = (doc: string, p: string) => [ROOT, resolve(ROOT, dirname(doc)), join(ROOT, 'src'), join(ROOT, 'web/src'), join(ROOT, 'test')].some((base) => existsSync(join(base, p)));

test('every relative link and repository path in README.md and docs/*.md exists', () => {
  const missing: string[] = [];
  for (const doc of DOCS) {
    const md = readFileSync(join(ROOT, doc), 'utf8');
    for (const link of relativeLinks(md)) if (!existsSync(resolve(ROOT, dirname(doc), link))) missing.push(`${doc}: link ${link}`);
    for (const p of mentionedPaths(md)) if (!pathExists(doc, p)) missing.push(`${doc}: path ${p}`);
  }
  assert.deepEqual(missing, []);
});

test('the checks find what they should (and skip URLs, anchors, placeholders and code blocks)', () => {
  const md = [
    'See [a](docs/a.md#x), [b](https://x.example/b.md), [c](#anchor), `src/x/y.ts`, `calls/policy.ts`, `DATA_DIR/api-token`, `src/<id>.ts`, `~/.cursor/mcp.json`, `a/b`.',
    '[ref]: ../bench/run.ts',
    '```sh',
    'cat src/in-code-block.ts [z](z.md)',
    '```',
  ].join('\n');
  assert.deepEqual(relativeLinks(md), ['docs/a.md', '../bench/run.ts']);
  assert.deepEqual(mentionedPaths(md), ['src/x/y.ts', 'calls/policy.ts']);
  assert.equal(pathExists('docs/safety.md', 'calls/policy.ts'), true);
  assert.equal(pathExists('README.md', 'shared/ARCHITECTURE.md'), false);
});
