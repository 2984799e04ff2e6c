import { existsSync, readFileSync } from 'node:fs';
import { errorBody, sendError, sendZodError } from './errors.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { uiNotBuiltPage } from './home.js';

/** Where `vite build` puts the UI (web/dist), resolved from this file so the working directory does not matter. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Paths the UI's fallback must never answer: the API, the carrier's webhooks and the health check keep their own 404s. */
const SERVER_PATHS = /^\/(api|twilio|healthz)(\/|\?|$)/;

/**
 * Serves the built web UI at `/`: hashed assets with a long cache, index.html for every other GET that
 * asks for a page (the UI routes on the client), and a clear page when the UI has not been built.
 */
export async function webUi(app: FastifyInstance, o: { webDir?: string; version: string }): Promise<void> {
  const dir = o.webDir ?? DEFAULT_WEB_DIR;
  const indexFile = join(dir, 'index.html');
  const built = existsSync(indexFile);
  // Read once: the file changes only with a rebuild, which restarts the server (npm start builds first).
  const indexHtml = built ? readFileSync(indexFile, 'utf8') : undefined;

  const sendIndex = (reply: FastifyReply) => {
    if (!indexHtml) return reply.code(503).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(uiNotBuiltPage(o.version));
    return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(indexHtml);
  };

  if (built) {
    await app.register(fastifyStatic, {
      root: dir,
      index: false,
      wildcard: false,
      serve: true,
      setHeaders(reply, path) {
        // Vite names assets by content hash: they never change under the same name.
        reply.header('Cache-Control', path.includes(`${join(dir, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
        reply.header('X-Content-Type-Options', 'nosniff');
      },
    });
    // wildcard:false registers a route per file found at start-up; the assets folder is all there is.
  }

  app.get('/', async (_req, reply) => sendIndex(reply));

  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0];
    const wantsPage = (req.method === 'GET' || req.method === 'HEAD') && !SERVER_PATHS.test(path) && !/\.[a-z0-9]+$/i.test(path) && String(req.headers.accept ?? '').includes('text/html');
    if (wantsPage) return sendIndex(reply);
    return sendError(reply, 404, `no route ${req.method} ${path}`);
  });
}
