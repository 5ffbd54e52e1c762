# teamchat server image, used by docker-compose.yml (two cluster nodes, Postgres, NATS).
#   docker build -t teamchat .
#   docker run --rm -p 5555:5555 -p 8080:8080 teamchat node bin/teamchat serve --database-url postgres://...
FROM node:20-slim

# Not root: the official image's `node` user owns the app folder.
RUN mkdir /app && chown node:node /app
WORKDIR /app
USER node

# The whole checkout first: `npm ci` runs the root `prepare` script (`npm run build`: `tsc -b`
# over every workspace, then the PGlite template), which needs the sources. Dev dependencies
# (TypeScript) are needed for that, so NODE_ENV is not set to production here.
COPY --chown=node:node . .
RUN npm ci --no-audit --no-fund && test -f packages/cli/dist/main.js

# TCP chat, HTTP + WebSocket (dashboard, /healthz).
EXPOSE 5555 8080
STOPSIGNAL SIGTERM
# Node a of docker-compose.yml; other nodes override the command (at least --node-id).
CMD ["node", "bin/teamchat", "serve", "--database-url", "postgres://teamchat:teamchat@postgres:5432/teamchat", "--nats", "nats://nats:4222", "--node-id", "a"]
