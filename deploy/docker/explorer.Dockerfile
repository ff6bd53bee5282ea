# syntax=docker/dockerfile:1.7
# The explorer. Build from the repository root:
#   docker build -f deploy/docker/explorer.Dockerfile -t network-of-traces/explorer .
# Run with its YAML config mounted at /etc/not/explorer.yaml (http.host 0.0.0.0, http.port 8300);
# secrets come from the environment through ${NAME} references in that file.

FROM node:22.21-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22.21-bookworm-slim AS runtime
ENV NODE_ENV=production \
    EXPLORER_CONFIG=/etc/not/explorer.yaml \
    HEALTH_PORT=8300
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist/libs ./dist/libs
COPY --from=build --chown=root:root /app/dist/apps/explorer ./dist/apps/explorer
# The web UI is read from apps/explorer/web beside dist/.
COPY --from=build --chown=root:root /app/apps/explorer/web ./apps/explorer/web
# The image's own unprivileged user (uid 1000); the code is owned by root and read-only to it.
USER node
EXPOSE 8300
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.HEALTH_PORT + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--enable-source-maps", "dist/apps/explorer/src/main.js"]
