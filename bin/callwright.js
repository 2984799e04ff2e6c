#!/usr/bin/env node
// The `callwright` command, and the one place that decides how it runs: the compiled CLI
// (dist/cli/main.js, from `npm run build`, which `npm start` runs) when it is at least as new as every
// source file, else the source through tsx, so a fresh clone works after `npm install` alone and an
// edited source never runs as stale compiled code.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const compiled = new URL('dist/cli/main.js', root);

/** The newest modification time under a folder (0 when it is missing: a package shipped compiled only). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.name + (e.isDirectory() ? '/' : ''), dir);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (existsSync(compiled) && statSync(compiled).mtimeMs >= newest(new URL('src/', root))) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('src/cli/main.ts', root).href);
}
