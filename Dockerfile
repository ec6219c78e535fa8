# Build standardise, then run it on a slim image. Templates, static files and
# migrations are compiled into the binary, so only the binary is copied. The
# demonstration meeting's paper is the tests' sample paper, also compiled in.
# The SQL is checked at compile time against the committed .sqlx/ data
# (.cargo/config.toml sets SQLX_OFFLINE), so the build needs no database.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY .sqlx .sqlx
COPY src src
COPY migrations migrations
COPY templates templates
COPY static static
COPY tests/fixtures/markschemes/standardise-sample-history.md tests/fixtures/markschemes/
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app standardise
COPY --from=build /src/target/release/standardise /usr/local/bin/standardise
USER standardise
WORKDIR /app
ENV STANDARDISE_BIND=0.0.0.0:3000
EXPOSE 3000
CMD ["standardise", "serve"]
