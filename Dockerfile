# Vigil's image: the web server and the worker run from the same build.
# docker-compose.yml starts it twice with different commands.
FROM node:20-bookworm-slim

ENV NEXT_TELEMETRY_DISABLED=1 \
    VIGIL_HOST=0.0.0.0 \
    PORT=3000

WORKDIR /app
RUN chown node:node /app
USER node

# Dependencies first, so that a code change does not reinstall them. The
# postinstall script generates the Prisma client from prisma/schema.prisma.
COPY --chown=node:node package.json package-lock.json prisma.config.ts ./
COPY --chown=node:node prisma ./prisma
RUN npm ci --no-audit --no-fund

COPY --chown=node:node . .
RUN npm run build

EXPOSE 3000
CMD ["sh", "-c", "npm run vigil -- migrate && exec node node_modules/next/dist/bin/next start -p \"$PORT\" -H \"$VIGIL_HOST\""]
