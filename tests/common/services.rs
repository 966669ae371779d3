//! Compose service snippets the stack lifecycle tests register (stackctl on
//! Docker, and the same scenarios on both engines in tests/podman.rs).

/// A postgres service publishing 127.0.0.1:`port`, with a healthcheck.
pub fn db_service(port: u16) -> String {
    format!(
        "  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: secret
    ports: [\"127.0.0.1:{port}:5432\"]
    healthcheck:
      test: [\"CMD\", \"pg_isready\", \"-U\", \"postgres\", \"-h\", \"127.0.0.1\"]
      interval: 1s
      timeout: 3s
      retries: 60
"
    )
}

/// An HTTP app (python's http.server) on `port`, healthy when curl gets an answer.
pub fn app_service(port: u16) -> String {
    format!(
        "  app:
    image: berth/debian:bookworm
    command: [\"python3\", \"-u\", \"-m\", \"http.server\", \"8000\"]
    stop_signal: SIGINT
    ports: [\"127.0.0.1:{port}:8000\"]
    healthcheck:
      test: [\"CMD\", \"curl\", \"-fsS\", \"-o\", \"/dev/null\", \"http://127.0.0.1:8000/\"]
      interval: 1s
      timeout: 3s
      retries: 60
"
    )
}
