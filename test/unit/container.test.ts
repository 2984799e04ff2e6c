/**
 * The container files. No Docker daemon runs where the suite runs (CI included), so the image is not
 * built here: the Dockerfile is checked by a Dockerfile parser and validator (dockerfile-utils, the one
 * behind VS Code's Docker language server) and against what `npm start` runs; see docs/containers.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { validate } from 'dockerfile-utils';
import { DockerfileParser } from 'dockerfile-ast';
import { parse } from 'yaml';

const text = readFileSync('Dockerfile', 'utf8');
const dockerfile = DockerfileParser.parse(text);
const instructions = dockerfile.getInstructions().map((i) => ({ keyword: i.getKeyword(), args: i.getArgumentsContent() ?? '' }));
const stages = dockerfile.getFROMs();

test('the Dockerfile validates, with no warnings', () => {
  assert.deepEqual(validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`), []);
});

test('multi-stage: build tools and dev dependencies stay in the build stage; the runtime is non-root with a health check', () => {
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
  const runtimeStart = stages.at(-1)!.getRange().start.line;
  const runtime = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= runtimeStart);
  const rt = (k: string) => runtime.filter((i) => i.getKeyword() === k).map((i) => i.getArgumentsContent() ?? '');
  assert.ok(!rt('RUN').some((r) => /g\+\+|npm (ci|install)/.test(r)), 'no compiler and no install in the runtime stage');
  assert.ok(instructions.some((i) => i.keyword === 'RUN' && /npm prune --omit=dev/.test(i.args)), 'dev dependencies (Vite, TypeScript) are pruned before the copy');
  assert.equal(rt('USER').at(-1), 'node', 'runs as the unprivileged node user');
  assert.match(rt('HEALTHCHECK').join(' '), /\/healthz/);
  // The runtime stage starts from the same base as the build stage, so native addons match its libc and Node.
  assert.equal(stages[0]!.getImageName() + ':' + stages[0]!.getImageTag(), stages.at(-1)!.getImageName() + ':' + stages.at(-1)!.getImageTag());
  assert.match(stages.at(-1)!.getImageTag() ?? '', /^24-/, 'Node 24, as CI runs');
});

test('the container runs the server as npm start does, and copies what it needs at run time', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } };
  const cmd = JSON.parse(instructions.filter((i) => i.keyword === 'CMD').at(-1)!.args) as string[];
  assert.deepEqual(cmd.join(' '), pkg.scripts.start, 'CMD is npm start without npm');
  const copied = instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
  for (const path of ['dist', 'web/dist', 'node_modules', 'runbooks', 'package.json']) {
    assert.ok(copied.some((c) => c.includes(path)), `${path} is copied into the image`);
  }
  const env = instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
  assert.match(env, /HOST=0\.0\.0\.0/, 'listens on all interfaces inside the container');
  assert.match(env, /DATA_DIR=\/data/);
  const ignore = readFileSync('.dockerignore', 'utf8').split('\n');
  for (const secret of ['.env', 'data', 'node_modules']) assert.ok(ignore.includes(secret), `.dockerignore keeps ${secret} out of the build context`);
});

test('compose.yaml: the server alone, data in a volume, settings from an optional .env', () => {
  const compose = parse(readFileSync('compose.yaml', 'utf8')) as any;
  const svc = compose.services.callwright;
  assert.equal(svc.build, '.');
  assert.ok(existsSync('Dockerfile'));
  assert.deepEqual(svc.ports, ['3000:3000']);
  assert.ok(svc.volumes.some((v: string) => v.endsWith(':/data')));
  assert.deepEqual(svc.env_file, [{ path: '.env', required: false }]);
  assert.deepEqual(Object.keys(compose.services), ['callwright']);
});
