//! Config reloads in process: files that are not regular files, the config's total budget, and
//! secrets redacted alike in every output.

use axum::http::{Method, StatusCode};

use crate::support::{TestApp, admin, base_toml};

#[cfg(unix)]
#[tokio::test]
async fn a_fifo_fragment_fails_every_reload_at_once_naming_it_and_reloads_work_once_it_is_gone() {
    let app = TestApp::with_files(&[("base.toml", &base_toml())]);
    std::fs::create_dir_all(app.dir.path().join("gray")).unwrap();
    let pipe = app.dir.path().join("gray/pipe.toml");
    let status = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("run mkfifo");
    assert!(status.success());
    // Nobody writes to the FIFO, so a reload that opened it and waited would never end; more
    // reloads than may ever be stuck at once all answer.
    for _ in 0..6 {
        let reply = app.send(admin(Method::POST, "/config/reload")).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text()
        );
        let body = reply.json();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("gray/pipe.toml"), "{message}");
        assert!(message.contains("not a regular file"), "{message}");
    }
    std::fs::remove_file(&pipe).unwrap();
    let reply = app.send(admin(Method::POST, "/config/reload")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["generation"], 2);
}
