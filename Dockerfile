# hoody-mcp as a hosted service: streamable HTTP on :8765 (see docs/deploy.md).
# Build:  docker build -t hoody-mcp .
# Run:    docker run -p 8765:8765 hoody-mcp        (clients send Authorization: Bearer <Hoody token>)

# Build stage: the full toolchain, then the package exactly as npm would publish it.
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && mkdir /pkg && npm pack --pack-destination /pkg

# Runtime stage: only the packed package and its runtime dependencies.
FROM node:20-slim
ENV NODE_ENV=production \
    HOODY_MCP_PORT=8765
COPY --from=build /pkg/ /tmp/pkg/
RUN npm install --global --omit=dev --no-audit --no-fund /tmp/pkg/hoody-mcp-*.tgz \
 && rm -rf /tmp/pkg /root/.npm
USER node
WORKDIR /home/node
EXPOSE 8765
# Ready = serving, the shared store (when configured) answers, not draining.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8765/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself, which starts the graceful drain.
CMD ["hoody-mcp", "--http", "--host", "0.0.0.0"]
