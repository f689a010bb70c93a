# compute-service image: build with the dev toolchain, ship Node, production dependencies and
# compiled JavaScript only. Works with docker build and podman/buildah build alike.

# ---- build: the TypeScript compiler and dev dependencies stay in this stage
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the build only needs tsc and asc, and no dependency compiles native code.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY assembly assembly
COPY src src
COPY routes routes
COPY workers workers
RUN npm run build

# ---- deps: production dependencies, installed in their own stage so npm's cache never ships
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
# Root owns every file and the service runs as `node`: the process cannot rewrite its own code.
# package.json ships for "type": "module", which makes Node load dist/ as ES modules.
COPY package.json ./
COPY --from=deps /app/node_modules node_modules
# What server.js imports at runtime: src/, routes/, workers/ (loaded by the pool's threads), and
# the WebAssembly kernel the workers load.
COPY --from=build /app/dist/assembly dist/assembly
COPY --from=build /app/dist/src dist/src
COPY --from=build /app/dist/routes dist/routes
COPY --from=build /app/dist/workers dist/workers
# The commit the image was built from, for GET /version and compute_build_info:
# `--build-arg GIT_COMMIT=$(git rev-parse HEAD)` (scripts/test-container.sh passes it). Last, so a new
# commit does not invalidate the layers above.
ARG GIT_COMMIT=unknown
ENV GIT_COMMIT=$GIT_COMMIT
USER node
EXPOSE 3000
# Node's own fetch, since the slim image has no curl. Liveness, not readiness: whatever acts on an
# unhealthy container (Swarm replaces it; plain Docker only marks it) must not act on one that is
# draining, which is shutdown, not a fault.
# Probes 127.0.0.1, so it assumes HOST is left at 0.0.0.0 (or a loopback address). Ignored by the
# OCI image format: build with `--format docker` under podman/buildah to keep it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (src/server.ts drains, then exits 0).
# `npm start` or a shell form would swallow the signal. Node starts no child processes, so no
# init is needed to reap zombies.
CMD ["node", "dist/src/server.js"]
