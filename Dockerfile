# dockgate container image. Build: docker build -t dockgate .
# Run:  docker run -d --group-add $(stat -c %g /var/run/docker.sock) \
#         -v /var/run/docker.sock:/var/run/docker.sock -v /run/dockgate:/run/dockgate dockgate
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --ignore-scripts && npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY policy/dist ./policy/dist
USER node
ENTRYPOINT ["node", "/app/dist/cli/main.js", "serve"]
CMD ["--listen", "unix:///run/dockgate/dockgate.sock", "--upstream", "unix:///var/run/docker.sock"]
