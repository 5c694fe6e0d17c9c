# Ledgerline: one image for every service (command-api, query-api, projectors, migrate).
# The app runs its TypeScript directly with Node 24's type stripping: there is no build step.
# Which service a container is comes from its command, e.g. `node query-api/server.ts`.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------- deps: production node_modules
# bcrypt ships prebuilt binaries for linux glibc, so the compilers below are normally unused; they
# are here so that `npm ci` still succeeds if a native module has no prebuild for this platform.
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---------------------------------------------------------------- runtime: no compilers, no dev deps
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the app user: the running process cannot modify its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY . .
USER node
# Listen on all interfaces inside the container (the app's default, 127.0.0.1, is for local dev).
ENV HOST=0.0.0.0
EXPOSE 4999 4998
# The entrypoint exports the Vault AppRole credentials from the files vault-init wrote (if present),
# then execs the command.
ENTRYPOINT ["/bin/sh", "/app/deploy/app-entrypoint.sh"]
CMD ["node", "--max-semi-space-size=4", "command-api/server.ts"]
