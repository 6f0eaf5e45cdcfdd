# syntax=docker/dockerfile:1
# Mentorship Reports for Slack: `serve` in a small image that runs as a non-root user.
# Build: docker build -t mentorship-report .   Run: see compose.yaml and README, "Deploying".

# The toolchain: better-sqlite3 builds its native module here when no prebuilt binary fits.
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

# Compiles the TypeScript sources and the migrations to dist/.
FROM toolchain AS build
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
# The Slack emulator (a test double that serves whatever roster it is given) and the benchmark that
# drives it stay out of production: serve, send and import never load them.
RUN npm run build && rm -rf dist/emulator dist/bench

# Only what runs in production, with the native SQLite driver built for this platform.
FROM toolchain AS deps
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm rebuild better-sqlite3

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATABASE_URL=/data/mentorship.sqlite \
    PORT=3000 \
    HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json manifest.yml ./
COPY bin ./bin
COPY examples ./examples
# The SQLite file lives on a volume the `node` user owns; with PostgreSQL it stays empty.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# /healthz answers 200 while the database answers (it reports Slack too, without failing on it).
# It asks the address serve listens on (HTTP_HOST; a wildcard means any local address will do).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "const h=process.env.HTTP_HOST||'127.0.0.1';const a=h==='0.0.0.0'?'127.0.0.1':h==='::'?'[::1]':h.includes(':')?'['+h+']':h;fetch('http://'+a+':'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "bin/mentorship-report.js", "serve"]
