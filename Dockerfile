# syntax=docker/dockerfile:1
# The sample API. Build: docker build -t sample-api .   Run: docker compose up
FROM node:24-bookworm-slim AS build
WORKDIR /app
# Native addons (better-sqlite3, argon2) build from source with node-gyp.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# npm workspaces: the root and every package.json of libs/ and apps/ make the install.
COPY . .
RUN npm ci --no-audit --no-fund
# The packages build into libs/*/dist (node_modules/@infrastructure/* link to them), the sample into dist/.
RUN npm run build && npm prune --omit=dev && rm -rf libs/*/src libs/*/test apps/sample-api/src apps/sample-api/test

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/libs ./libs
COPY --from=build --chown=node:node /app/apps ./apps
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--import", "@infrastructure/monitoring/tracing/register", "dist/apps/sample-api/src/main.js"]
