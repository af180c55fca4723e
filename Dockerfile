# Remote mode image: `docker build -t didit-passive-liveness-mcp .` then run with DIDIT_API_KEY, DIDIT_MCP_TOKENS
# (or OAuth) and DIDIT_ALLOWED_HOSTS. Runs with a read-only root file system: it writes nothing but stderr.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
# Everything `npm run build` reads: tsc's configs and sources, the esbuild step that writes dist/index.js, and the
# verdict view's sources and build step (dist/view/verdict.html).
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY view ./view
COPY scripts/bundle-server.mjs scripts/build-view.mjs ./scripts/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
# The MCP registry matches an OCI image to its server.json entry by this label (server.json's "name").
LABEL io.modelcontextprotocol.server.name="io.github.didit-community/didit-passive-liveness-mcp"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root samples ./samples
COPY --chown=root:root README.md LICENSE server.json ./
# The image's own unprivileged user (uid 1000 in node images); the app files stay root-owned and read-only.
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/index.js"]
CMD ["--http", "--host", "0.0.0.0", "--port", "8080"]
