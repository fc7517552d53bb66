//! The gateway's one error type, and how it becomes a JSON response.
//!
//! Every handler returns `Result<_, ApiError>`. Client mistakes carry a message written for the
//! client; [`ApiError::Internal`] carries details that are logged once, here, and replaced in
//! the response by a generic message.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Where in the config a reload failed, as far as the config loader could tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfigLocation {
    /// The file that failed, or the environment variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The dotted key that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request body or a parameter is malformed.
    #[error("{message}")]
    BadRequest {
        /// What is wrong, for the client.
        message: String,
    },
    /// The body is well-formed JSON but its content is not acceptable (missing or wrong fields).
    #[error("{message}")]
    Unprocessable {
        /// What is wrong, for the client.
        message: String,
    },
    /// The body is larger than the configured limit.
    #[error("request body exceeds the size limit")]
    PayloadTooLarge,
    /// The body is not declared as JSON.
    #[error("{message}")]
    UnsupportedMediaType {
        /// What is wrong, for the client.
        message: String,
    },
    /// No credentials, or credentials that do not check out.
    #[error("{message}")]
    Unauthorized {
        /// Why, for the client.
        message: String,
    },
    /// Valid credentials without the needed permission.
    #[error("{message}")]
    Forbidden {
        /// Why, for the client.
        message: String,
    },
    /// No such resource.
    #[error("{message}")]
    NotFound {
        /// What was not found.
        message: String,
    },
    /// The request names a billing version this build does not contain.
    #[error("billing {version} is not compiled into this build")]
    VersionNotBuilt {
        /// The version requested, `v1` or `v2`.
        version: String,
    },
    /// The invoice exists but this billing version cannot represent it.
    #[error(
        "invoice {id} cannot be represented by billing {requested} ({reason}); it needs billing {needs}: read it through /api/{needs}/invoices/{id}"
    )]
    NeedsNewerVersion {
        /// The invoice id.
        id: String,
        /// The version that was asked for.
        requested: &'static str,
        /// The version that can represent it.
        needs: &'static str,
        /// What the requested version cannot express.
        reason: String,
    },
    /// The request conflicts with existing state (an idempotency key reused for another body).
    #[error("{message}")]
    Conflict {
        /// What conflicts, for the client.
        message: String,
    },
    /// A config reload failed; the previous config keeps serving.
    #[error("config reload failed: {message}")]
    InvalidConfig {
        /// The loader's message.
        message: String,
        /// Where it failed.
        location: ConfigLocation,
    },
    /// A config reload is already running; this one was not started.
    #[error("a config reload is already in progress; try again when it has finished")]
    ReloadInProgress,
    /// A config reload did not finish within `server.reload_timeout_ms` and was abandoned; the
    /// previous config keeps serving.
    #[error(
        "config reload did not finish within {timeout_ms} ms and was abandoned; the previous config keeps serving"
    )]
    ReloadTimedOut {
        /// The deadline, in milliseconds.
        timeout_ms: u64,
    },
    /// A dependency (the database, the reload machinery) cannot serve now; retry later.
    #[error("{message}")]
    Unavailable {
        /// A stable code: `storage_unavailable`, `reload_unavailable`.
        code: &'static str,
        /// What is unavailable, for the client.
        message: String,
        /// Seconds after which a retry may succeed (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// Too many failed attempts from this client; retry later.
    #[error("{message}")]
    TooManyRequests {
        /// Why, for the client.
        message: String,
        /// Seconds until the client may try again (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// The request target (path and query) is longer than the gateway accepts.
    #[error("the request URI is longer than {limit} bytes")]
    UriTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request's header block is larger, or has more fields, than the gateway accepts.
    #[error("{message}")]
    HeadersTooLarge {
        /// Which limit, for the client.
        message: String,
    },
    /// The method is not allowed on this path.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// The request took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// Something failed on our side. The detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// An internal error with the given detail (logged, not sent).
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } | Self::InvalidConfig { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } | Self::VersionNotBuilt { .. } => StatusCode::NOT_FOUND,
            Self::NeedsNewerVersion { .. } | Self::Conflict { .. } | Self::ReloadInProgress => {
                StatusCode::CONFLICT
            }
            Self::Timeout | Self::ReloadTimedOut { .. } | Self::Unavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable, machine-readable name for the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad_request",
            Self::Unprocessable { .. } => "unprocessable",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::VersionNotBuilt { .. } => "version_not_built",
            Self::NeedsNewerVersion { .. } => "needs_newer_version",
            Self::Conflict { .. } => "conflict",
            Self::InvalidConfig { .. } => "invalid_config",
            Self::ReloadInProgress => "reload_in_progress",
            Self::ReloadTimedOut { .. } => "reload_timeout",
            Self::Unavailable { code, .. } => code,
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::UriTooLong { .. } => "uri_too_long",
            Self::HeadersTooLarge { .. } => "headers_too_large",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Timeout => "timeout",
            Self::Internal(_) => "internal",
        }
    }
}

/// The JSON body of every error response: `{"error": {"code", "message", ...}}`.
#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Debug, Serialize)]
struct ErrorDetail<'a> {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    needs: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let (file, key, line) = match &self {
            Self::InvalidConfig { location, .. } => (
                location.file.as_deref(),
                location.key.as_deref(),
                location.line,
            ),
            _ => (None, None, None),
        };
        let needs = match &self {
            Self::NeedsNewerVersion { needs, .. } => Some(*needs),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                needs,
                file,
                key,
                line,
            },
        };
        let retry_after = match &self {
            Self::Unavailable {
                retry_after_secs, ..
            }
            | Self::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            // axum's text leads with a generic sentence; what follows it (the path in the body,
            // then serde's message with line and column) is the part a client can act on.
            JsonRejection::JsonDataError(err) => {
                let text = err.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                    .unwrap_or(&text);
                Self::Unprocessable {
                    message: format!("invalid request body: {detail}"),
                }
            }
            JsonRejection::JsonSyntaxError(err) => Self::BadRequest {
                message: format!("malformed json: {}", err.body_text()),
            },
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType {
                message: "expected a body with content-type application/json".to_owned(),
            },
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            other if other.status().is_client_error() => Self::BadRequest {
                message: other.body_text(),
            },
            other => Self::internal(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest {
            message: format!("invalid path parameter: {}", rejection.body_text()),
        }
    }
}

/// The fallback for unknown paths: a JSON 404 rather than an empty body.
pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound {
        message: "no such endpoint".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn internal_details_are_never_sent() {
        let (status, body) =
            body_json(ApiError::internal("database at /secret/path is locked")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "internal", "message": "internal error"}})
        );
    }

    #[tokio::test]
    async fn config_errors_carry_file_key_and_line() {
        let (status, body) = body_json(ApiError::InvalidConfig {
            message: "bad".to_owned(),
            location: ConfigLocation {
                file: Some("config/gray/v2.toml".to_owned()),
                key: Some("gray.rules".to_owned()),
                line: Some(3),
            },
        })
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["file"], "config/gray/v2.toml");
        assert_eq!(body["error"]["key"], "gray.rules");
        assert_eq!(body["error"]["line"], 3);
        assert_eq!(body["error"]["code"], "invalid_config");
    }

    #[tokio::test]
    async fn needs_newer_version_says_which() {
        let (status, body) = body_json(ApiError::NeedsNewerVersion {
            id: "inv_1".to_owned(),
            requested: "v1",
            needs: "v2",
            reason: "it is in USD, and v1 only knows EUR".to_owned(),
        })
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["needs"], "v2");
        assert_eq!(
            body["error"]["message"],
            "invoice inv_1 cannot be represented by billing v1 (it is in USD, and v1 only knows EUR); \
             it needs billing v2: read it through /api/v2/invoices/inv_1"
        );
    }

    #[test]
    fn unauthorized_answers_with_a_bearer_challenge() {
        let response = ApiError::Unauthorized {
            message: "missing bearer token".to_owned(),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[test]
    fn every_variant_has_a_client_or_server_status() {
        let all = [
            ApiError::BadRequest {
                message: String::new(),
            },
            ApiError::Unprocessable {
                message: String::new(),
            },
            ApiError::PayloadTooLarge,
            ApiError::UnsupportedMediaType {
                message: String::new(),
            },
            ApiError::Forbidden {
                message: String::new(),
            },
            ApiError::NotFound {
                message: String::new(),
            },
            ApiError::VersionNotBuilt {
                version: "v2".to_owned(),
            },
            ApiError::Conflict {
                message: String::new(),
            },
        ];
        for error in all {
            assert!(error.status().is_client_error(), "{error:?}");
        }
    }
}
