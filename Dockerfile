# kiln in a container: the single executable on a slim base, running as a non-root user,
# its SQLite database on the /data volume, task files read from /tasks.
#
#   docker build -t kiln .
#   docker run -p 3000:3000 -v kiln-data:/data -v ./tasks:/tasks:ro -e KILN_TOKEN=… kiln

# --- build: the same two commands CI runs (tests/binary/dockerfile.test.ts runs them too) ----
FROM oven/bun:1.4.5 AS build
WORKDIR /src
COPY package.json bun.lock bunfig.toml tsconfig.json ./
# The driver patch that bun install applies (see patches/).
COPY patches ./patches
RUN bun install --frozen-lockfile
COPY src ./src
RUN bun run build

# --- runtime: the executable alone; it embeds the workers, migrations and UI assets ----------
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 kiln \
 && useradd --system --uid 10001 --gid kiln --home-dir /data --no-create-home kiln \
 && mkdir /data /tasks \
 && chown kiln:kiln /data
COPY --from=build /src/dist/kiln /usr/local/bin/kiln
USER kiln
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["kiln", "health", "--url", "http://127.0.0.1:3000"]
CMD ["kiln", "serve", "--host", "0.0.0.0", "--db", "/data/kiln.db", "--tasks-dir", "/tasks"]
