# One image, two processes:
#   webhook    node webhook/main.ts      (the default command)
#   reconciler node reconciler/main.ts
# Node 24 runs the TypeScript sources directly (type stripping): no build step.
FROM node:24-bookworm-slim

LABEL org.opencontainers.image.title="oda-apim-operator" \
      org.opencontainers.image.description="Publishes ODA ExposedAPI resources into Azure API Management: admission webhook and reconciler" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV NODE_ENV=production
WORKDIR /app

# Production dependencies only. No install scripts: the only production
# dependency with one (msgpackr-extract, optional) ships prebuilt binaries,
# and the dev-only "node" package (the Node binary for local runs) is omitted.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# Sources stay owned by root and read-only for the node user.
COPY shared/ ./shared/
COPY webhook/ ./webhook/
COPY reconciler/ ./reconciler/
COPY bin/ ./bin/

# uid/gid 1000 (the manifests set runAsUser: 1000 to match).
USER node

# 8443: webhook (TLS), 9090: reconciler admin (HTTP).
EXPOSE 8443 9090

# Node is PID 1 in the container: the processes handle SIGTERM themselves
# (or run with `docker run --init`).
CMD ["node", "webhook/main.ts"]
