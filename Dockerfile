# The service image used by docker-compose.yml, for the npm workspaces layout: the packages in
# libs/*, each with its package.json and a dist/ built by `npm run build`, and the service in src/.
# Node 24 LTS: CI runs the whole suite on it (and on Node 20, the oldest that engines allows).
FROM node:24-bookworm-slim AS build
WORKDIR /app
# The manifests alone first, so that the install layer is reused until one of them changes: the
# lockfile, the root's, and one line per workspace package (a package added to libs/ needs a line).
COPY package.json package-lock.json ./
COPY libs/protocol/package.json libs/protocol/
COPY libs/notifications/package.json libs/notifications/
COPY libs/client/package.json libs/client/
COPY libs/inbox/package.json libs/inbox/
RUN npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY scripts/build-packages.mjs scripts/
COPY libs ./libs
COPY src ./src
# The packages, then the service (dist/src/main.js); then the dev dependencies go.
RUN npm run build && npm prune --omit=dev
# What runs, gathered in /out. npm links each workspace package into node_modules/@rtnotify/* as
# a symlink to ../../libs/*, so the links' targets come too: each package's manifest (its
# `exports`), its build, and its own node_modules where npm put one (a version the root lacks).
COPY scripts/issue-token.mjs /out/scripts/
RUN cp -a package.json node_modules dist /out/ \
  && for pkg in libs/*/; do \
       mkdir -p "/out/$pkg" && cp -a "$pkg/package.json" "$pkg/dist" "/out/$pkg" \
       && if [ -d "$pkg/node_modules" ]; then cp -a "$pkg/node_modules" "/out/$pkg"; fi; \
     done

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out ./
USER node
EXPOSE 3000
CMD ["node", "dist/src/main.js"]
