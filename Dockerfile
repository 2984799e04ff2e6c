# syntax=docker/dockerfile:1
# Callwright: the server alone (SQLite in the /data volume). Build: docker build -t callwright .
# Run: docker run -p 3000:3000 -v callwright-data:/data --env-file .env callwright

# --- build: native addons, the web UI (Vite) and the server (tsc), then only the runtime dependencies
FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node's postinstall would fetch CUDA libraries (package.json's allowScripts stops it under npm 11 only)
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-fund --no-audit
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY web ./web
RUN npm run build && npm prune --omit=dev --no-fund --no-audit

# --- runtime: compiled code and production dependencies only, as an unprivileged user
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    CLIENTS_DIR=/data/clients \
    RUNBOOKS_DIR=/app/runbooks
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY runbooks ./runbooks
# Silero VAD for barge-in (src/media/silero-vad.ts finds it at ../../models from dist/media)
COPY models ./models
# The callwright command (runs dist/cli): docker compose exec callwright node bin/callwright.js calls list
COPY bin ./bin
# /shared: where several nodes mount their shared volume (deploy/compose.yaml); a new named volume takes
# this folder's owner, so the unprivileged user can write there.
RUN mkdir -p /data/clients /shared && chown -R node:node /data /shared
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=64", "dist/main.js"]
