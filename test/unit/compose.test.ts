/**
 * The compose files, read as Docker Compose reads them. No Docker daemon runs where the suite runs and no
 * image registry is reachable, so nothing is started here (docs/containers.md). Instead each file, after
 * its YAML merge keys and `${VAR}` interpolation, is validated against the Compose Specification's own
 * JSON Schema (test/fixtures/compose-spec.json: compose-spec/compose-spec at 170098ba, 2026-06-23,
 * Apache-2.0, the schema `docker compose config` validates with), and the environment each container
 * would start with is worked out with Compose's precedence (the image's ENV, then `env_file`, then
 * `environment`) from `.env.example` copied to `.env`, as the files' own instructions say, and handed to
 * the server's own settings parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { Ajv } from 'ajv';
import { DockerfileParser } from 'dockerfile-ast';
import { parse as parseEnv } from 'dotenv';
import { parse as parseYaml } from 'yaml';
import { parseSettings } from '../../src/config/settings.js';

type Env = Record<string, string>;
type Service = { build?: unknown; image?: string; environment?: Env; env_file?: Array<{ path: string; required: boolean }>; volumes?: string[]; ports?: string[]; depends_on?: Record<string, { condition: string }> | string[]; healthcheck?: unknown };
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

const example = parseEnv(readFileSync('.env.example', 'utf8'));
// The schema names draft-07 by its https address, which Ajv does not know by that name; Ajv's default is draft-07.
const { $schema: _draft07, ...schema } = JSON.parse(readFileSync('test/fixtures/compose-spec.json', 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt}. */
function interpolate(value: unknown, vars: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      if (bare) return vars[bare] ?? '';
      const v = vars[name!];
      const unset = colon ? !v : v === undefined;
      if (op === '-') return unset ? arg! : v!;
      if (op === '?') {
        if (unset) throw new Error(`required variable ${name} is missing a value: ${arg}`);
        return v!;
      }
      if (op === '+') return unset ? '' : arg!;
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, vars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars)]));
  return value;
}

/** The file as Compose loads it: merge keys resolved, variables from the project's .env interpolated, `x-` extensions dropped. */
function load(file: string, projectEnv: Env): Compose {
  const raw = parseYaml(readFileSync(file, 'utf8'), { merge: true }) as Record<string, unknown>;
  const model = interpolate(raw, projectEnv) as Record<string, unknown>;
  const errors = validate(model) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  assert.deepEqual(errors, [], `${file} against the Compose Specification's schema`);
  return Object.fromEntries(Object.entries(model).filter(([k]) => !k.startsWith('x-'))) as unknown as Compose;
}

/** The runtime stage's ENV and WORKDIR, and the folders it copies (relative to WORKDIR). */
function image() {
  const df = DockerfileParser.parse(readFileSync('Dockerfile', 'utf8'));
  const runtimeStart = df.getFROMs().at(-1)!.getRange().start.line;
  const runtime = df.getInstructions().filter((i) => i.getRange().start.line >= runtimeStart);
  const env: Env = {};
  for (const e of df.getENVs().filter((i) => i.getRange().start.line >= runtimeStart)) {
    for (const p of e.getProperties()) env[p.getName()] = p.getValue() ?? '';
  }
  const workdir = runtime.filter((i) => i.getKeyword() === 'WORKDIR').at(-1)!.getArgumentsContent()!;
  const copied = runtime.filter((i) => i.getKeyword() === 'COPY').map((i) => i.getArguments().at(-1)!.getValue());
  return { env, workdir, copied: copied.map((c) => posix.resolve(workdir, c)) };
}

const IMAGE = image();

/**
 * What the container's process sees: the image's ENV, overridden by env_file, overridden by environment.
 * `dotenv` is the project's .env (undefined: there is none), the one file the compose files name.
 */
function containerEnv(file: string, svc: Service, dotenv: Env | undefined): Env {
  const fromFiles: Env = {};
  for (const f of svc.env_file ?? []) {
    if (dotenv === undefined) {
      assert.equal(f.required, false, `${file}: ${f.path} is required but absent`);
      continue;
    }
    Object.assign(fromFiles, dotenv);
  }
  return { ...IMAGE.env, ...fromFiles, ...(svc.environment ?? {}) };
}

/** The container path each volume (named or bound) is mounted at, by source. */
function mounts(svc: Service): Map<string, string> {
  return new Map((svc.volumes ?? []).map((v) => { const [src, target] = v.split(':'); return [src!, target!]; }));
}

const under = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

test('compose.yaml: with .env.example as its .env, the server keeps its data in the volume and listens where the port mapping reaches', () => {
  for (const dotenv of [undefined, example]) {
    const compose = load('compose.yaml', dotenv ?? {});
    const svc = compose.services.callwright!;
    const env = containerEnv('compose.yaml', svc, dotenv);
    const vols = [...mounts(svc).values()];
    const label = dotenv ? 'with .env.example as .env' : 'without a .env';
    assert.equal(env.HOST, '0.0.0.0', `${label}: HOST`);
    assert.deepEqual(svc.ports, [`3000:${env.PORT}`], `${label}: the published port is the one the server listens on`);
    for (const k of ['DATA_DIR', 'CLIENTS_DIR'] as const) {
      assert.ok(isAbsolute(env[k]!) && vols.some((v) => under(env[k]!, v)), `${label}: ${k}=${env[k]} is in a volume (${vols.join(', ')})`);
    }
    assert.ok(IMAGE.copied.includes(env.RUNBOOKS_DIR!), `${label}: RUNBOOKS_DIR=${env.RUNBOOKS_DIR} is a folder the image copies`);
    assert.doesNotThrow(() => parseSettings(env), `${label}: the server accepts the container's settings`);
  }
});

test('deploy/compose.yaml: two nodes behind the proxy, with PostgreSQL and Redis, as the server and deploy/haproxy.cfg see them', () => {
  assert.throws(() => load('deploy/compose.yaml', example), /POSTGRES_PASSWORD.*set POSTGRES_PASSWORD in \.env/, 'no password, no deployment');
  const dotenv = { ...example, POSTGRES_PASSWORD: 's3cret', PUBLIC_URL: 'https://calls.example.com', API_TOKEN: 'x'.repeat(32) };
  const compose = load('deploy/compose.yaml', dotenv);
  const services = compose.services;
  const nodes = Object.keys(services).filter((name) => services[name]!.build !== undefined);
  assert.deepEqual(nodes, ['node-a', 'node-b']);

  const proxyCfg = readFileSync('deploy/haproxy.cfg', 'utf8');
  const anyServers = proxyCfg.split(/^backend /m).find((b) => b.startsWith('be_any'))!;
  const pg = services.postgres!.environment!;
  for (const name of nodes) {
    const svc = services[name]!;
    const env = containerEnv('deploy/compose.yaml', svc, dotenv);
    const vols = mounts(svc);
    assert.equal(env.NODE_ID, name, 'NODE_ID is the service name, which the proxy routes /n/<id>/ to');
    assert.equal(env.HOST, '0.0.0.0');
    assert.match(proxyCfg, new RegExp(`^backend be_${name}\\n\\s+server ${name} ${name}:${env.PORT}$`, 'm'), `the proxy's own route to ${name}, on its PORT`);
    assert.match(anyServers, new RegExp(`server ${name} ${name}:${env.PORT} check`), `${name} is in be_any`);
    assert.ok(isAbsolute(env.DATA_DIR!) && under(env.DATA_DIR!, vols.get(`${name}-data`)!), `DATA_DIR=${env.DATA_DIR} is ${name}'s own volume`);
    for (const k of ['RECORDINGS_DIR', 'TRANSCRIPTS_DIR', 'CLIENTS_DIR'] as const) {
      assert.ok(under(env[k]!, vols.get('shared')!), `${k}=${env[k]} is on the volume every node mounts`);
    }
    const db = new URL(env.DATABASE_URL!);
    assert.deepEqual([db.hostname, db.port, db.username, db.password, db.pathname], ['postgres', '5432', pg.POSTGRES_USER, 's3cret', `/${pg.POSTGRES_DB}`]);
    assert.equal(pg.POSTGRES_PASSWORD, 's3cret');
    assert.equal(new URL(env.REDIS_URL!).hostname, 'redis');
    for (const [dep, { condition }] of Object.entries(svc.depends_on as Record<string, { condition: string }>)) {
      assert.ok(services[dep], `${name} depends on ${dep}, a service`);
      if (condition === 'service_healthy') assert.ok(services[dep]!.healthcheck, `${dep} has the health check ${name} waits for`);
    }
    const settings = parseSettings(env);
    assert.equal(settings.NODE_ID, name);
  }

  const proxy = services.haproxy!;
  assert.deepEqual(proxy.ports, [`8080${proxy.environment!.CALLWRIGHT_PROXY_BIND}`], 'the proxy publishes the port it binds');
  const [cfgSource] = proxy.volumes![0]!.split(':');
  assert.ok(existsSync(join('deploy', cfgSource!)), 'the proxy mounts deploy/haproxy.cfg');
  const named = Object.keys(compose.volumes ?? {});
  for (const svc of Object.values(services)) {
    for (const src of mounts(svc).keys()) if (!src.startsWith('.')) assert.ok(named.includes(src), `volume ${src} is declared`);
  }
});
