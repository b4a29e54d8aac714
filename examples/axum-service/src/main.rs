//! The bookshop service: `DATABASE_URL=postgres://… cargo run -p axum-service` (default: an
//! SQLite file, `bookshop.db`), listening on `BIND` (default `127.0.0.1:3000`). Migrates at
//! startup; stops gracefully on Ctrl-C or SIGTERM (requests in flight finish).

use axum_service::{router, start};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,athanor::sql=warn")))
        .init();
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://bookshop.db".into());
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let state = match start(&url).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = ?e, "cannot start");
            return std::process::ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&bind).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(%bind, error = %e, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(%bind, "listening");
    match axum::serve(listener, router(state)).with_graceful_shutdown(shutdown()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix (what a container stop sends).
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
