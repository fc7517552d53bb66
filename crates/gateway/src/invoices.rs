//! The invoice API: create and read invoices through billing v1 or v2, explicitly or by gray rules.
//!
//! - `POST /api/v1/invoices`, `POST /api/v2/invoices`: the body is the contract's request
//!   (`shared::billing::vN::InvoiceRequest`), plus two gateway fields: `notify` (an email or
//!   SMS recipient) and, for v2, `idempotency_key` (or the `Idempotency-Key` header).
//! - `POST /api/invoices`: a v1-shaped request; gray rules pick the version that serves it. On
//!   v2 the request is converted with `shared::billing::bridge::request_to_v2`.
//! - `GET /api/v1/invoices/{id}`, `GET /api/v2/invoices/{id}`, `GET /api/invoices/{id}`.
//!
//! Every answer that involved a billing version carries it in `X-Billing-Version`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::billing::{bridge, v1, v2};
use shared::domain::{IdempotencyKey, InvoiceId};
use shared::notification::v1::Recipient;

use crate::error::ApiError;
use crate::extract::{
    Authorized, Built, JsonBody, ReadInvoices, RoutedVersion, V1, V2, WriteInvoices,
};
use crate::outbox::OutboxSignal;
use crate::routing::{BillingVersion, ServedBy};
use crate::storage::StoragePool;

/// The response header naming the billing version that served a request.
pub(crate) static BILLING_VERSION_HEADER: HeaderName = HeaderName::from_static("x-billing-version");
/// The request header carrying a v2 idempotency key.
pub(crate) static IDEMPOTENCY_KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header set when a create returned an invoice stored by an earlier request.
pub(crate) static REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

/// What the invoice handlers need: billing, the invoice store and the API's database pool, where
/// notices go when a create names no recipient, and the outbox dispatcher's wake-up (with the
/// `faults` feature, also the live config its drills are read from). The part of the app's
/// state they take, through axum's `FromRef`; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct InvoiceApi {
    /// Prices invoices; implements billing v1 and/or v2 depending on the build's features.
    #[cfg_attr(not(any(feature = "v1", feature = "v2")), allow(dead_code))]
    pub(crate) billing: Arc<billing::Calculator>,
    /// The invoice database.
    pub(crate) invoices: Arc<store::Store>,
    /// The API's database threads (invoice reads and creates).
    pub(crate) storage: Arc<StoragePool>,
    /// Where invoice notices go when a create names no recipient.
    pub(crate) default_recipient: Arc<Recipient>,
    /// Wakes the outbox dispatcher when a create has queued a notice.
    #[cfg_attr(not(any(feature = "v1", feature = "v2")), allow(dead_code))]
    pub(crate) outbox_signal: Arc<OutboxSignal>,
    /// The live config, which `[faults]` is read from.
    #[cfg(feature = "faults")]
    pub(crate) config: Arc<gray::Store>,
}

/// `POST /api/v1/invoices`.
pub(crate) async fn create_v1(
    _built: Built<V1>,
    _auth: Authorized<WriteInvoices>,
    State(api): State<InvoiceApi>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (request, envelope) = split_body(body, &headers)?;
    if envelope.idempotency_key.is_some() {
        return Err(ApiError::Unprocessable {
            message:
                "billing v1 takes no idempotency key; the invoice id makes v1 creates safe to retry"
                    .to_owned(),
        });
    }
    let request: v1::InvoiceRequest = parse_request(request)?;
    Ok(run_create(api, Creation::V1(request), envelope.notify).await)
}

/// `POST /api/v2/invoices`.
pub(crate) async fn create_v2(
    _built: Built<V2>,
    _auth: Authorized<WriteInvoices>,
    State(api): State<InvoiceApi>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (request, envelope) = split_body(body, &headers)?;
    let request: v2::InvoiceRequest = parse_request(request)?;
    let key = envelope
        .idempotency_key
        .unwrap_or_else(|| bridge::idempotency_key_for(request.invoice_id()));
    Ok(run_create(api, Creation::V2(request, key), envelope.notify).await)
}

/// `POST /api/invoices`: a v1-shaped request served by the version gray rules pick.
pub(crate) async fn create_routed(
    _auth: Authorized<WriteInvoices>,
    RoutedVersion(version): RoutedVersion,
    State(api): State<InvoiceApi>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (request, envelope) = split_body(body, &headers)?;
    let request: v1::InvoiceRequest = parse_request(request)?;
    let creation = match version {
        // The client cannot know which version serves it, so a key is accepted either way;
        // v1 has none and replays by invoice id instead.
        BillingVersion::V1 => Creation::V1(request),
        BillingVersion::V2 => {
            let key = envelope
                .idempotency_key
                .unwrap_or_else(|| bridge::idempotency_key_for(request.invoice_id()));
            let request =
                bridge::request_to_v2(&request).map_err(|error| ApiError::Unprocessable {
                    message: format!("invalid invoice: {error}"),
                })?;
            Creation::V2(request, key)
        }
    };
    Ok(run_create(api, creation, envelope.notify).await)
}

/// `GET /api/v1/invoices/{id}`.
pub(crate) async fn get_v1(
    _built: Built<V1>,
    _auth: Authorized<ReadInvoices>,
    State(api): State<InvoiceApi>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    run_read(api, BillingVersion::V1, parse_id(&id)?).await
}

/// `GET /api/v2/invoices/{id}`.
pub(crate) async fn get_v2(
    _built: Built<V2>,
    _auth: Authorized<ReadInvoices>,
    State(api): State<InvoiceApi>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    run_read(api, BillingVersion::V2, parse_id(&id)?).await
}

/// `GET /api/invoices/{id}`: read through the version gray rules pick.
pub(crate) async fn get_routed(
    _auth: Authorized<ReadInvoices>,
    RoutedVersion(version): RoutedVersion,
    State(api): State<InvoiceApi>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    run_read(api, version, parse_id(&id)?).await
}

/// Gateway fields a create body may carry beside the contract's request.
#[derive(Debug, Default)]
struct Envelope {
    idempotency_key: Option<IdempotencyKey>,
    notify: Option<Recipient>,
}

/// Splits the gateway's fields (`idempotency_key`, `notify`) off a create body, and merges
/// the `Idempotency-Key` header in.
fn split_body(body: Value, headers: &HeaderMap) -> Result<(Value, Envelope), ApiError> {
    let Value::Object(mut fields) = body else {
        return Err(ApiError::Unprocessable {
            message: "request body must be a json object".to_owned(),
        });
    };
    let from_body = match fields.remove("idempotency_key") {
        None => None,
        Some(Value::String(text)) => Some(parse_key(&text)?),
        Some(_) => {
            return Err(ApiError::Unprocessable {
                message: "field `idempotency_key` must be a string".to_owned(),
            });
        }
    };
    let from_header = match headers.get(&IDEMPOTENCY_KEY_HEADER) {
        None => None,
        Some(value) => Some(parse_key(value.to_str().map_err(|_| {
            ApiError::BadRequest {
                message: "header Idempotency-Key is not valid text".to_owned(),
            }
        })?)?),
    };
    let idempotency_key = match (from_header, from_body) {
        (Some(header), Some(body)) if header != body => {
            return Err(ApiError::Unprocessable {
                message: "the Idempotency-Key header and the `idempotency_key` field differ"
                    .to_owned(),
            });
        }
        (header, body) => header.or(body),
    };
    let notify = match fields.remove("notify") {
        None => None,
        Some(value) => Some(serde_json::from_value::<Recipient>(value).map_err(|error| {
            ApiError::Unprocessable {
                message: format!(
                    "field `notify` must be {{\"email\": ADDRESS}} or {{\"sms\": NUMBER}}: {error}"
                ),
            }
        })?),
    };
    Ok((
        Value::Object(fields),
        Envelope {
            idempotency_key,
            notify,
        },
    ))
}

fn parse_key(text: &str) -> Result<IdempotencyKey, ApiError> {
    IdempotencyKey::parse(text).map_err(|error| ApiError::Unprocessable {
        message: error.to_string(),
    })
}

/// Deserializes a contract request, turning serde's message into a 422.
fn parse_request<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|error| ApiError::Unprocessable {
        message: format!("invalid invoice request: {error}"),
    })
}

fn parse_id(text: &str) -> Result<InvoiceId, ApiError> {
    InvoiceId::parse(text).map_err(|error| ApiError::BadRequest {
        message: error.to_string(),
    })
}

/// A create, after parsing, for one version.
enum Creation {
    V1(v1::InvoiceRequest),
    V2(v2::InvoiceRequest, IdempotencyKey),
}

/// What a create produced.
struct Created {
    version: BillingVersion,
    id: InvoiceId,
    outcome: store::Outcome,
    body: Value,
}

impl Creation {
    fn version(&self) -> BillingVersion {
        match self {
            Self::V1(_) => BillingVersion::V1,
            Self::V2(..) => BillingVersion::V2,
        }
    }
}

/// Creates the invoice through its version. Errors from here on are that version's errors, so
/// they carry the version too: the error rate by version counts them.
async fn run_create(api: InvoiceApi, creation: Creation, notify: Option<Recipient>) -> Response {
    let version = creation.version();
    #[cfg(feature = "faults")]
    if let Err(error) = crate::faults::inject(&api.config, version).await {
        return versioned_error(error, version);
    }
    match create(api, creation, notify).await {
        Ok(response) => response,
        Err(error) => versioned_error(error, version),
    }
}

async fn create(
    api: InvoiceApi,
    creation: Creation,
    notify: Option<Recipient>,
) -> Result<Response, ApiError> {
    // Pricing is cheap, but the store blocks on SQLite; the whole create runs on the API's
    // database pool, off the async workers, so one slow disk write never stalls other requests
    // and a stuck disk costs a bounded number of threads (a full queue answers 503 at once).
    let pool_api = api.clone();
    let created = api
        .storage
        .run(move || {
            let api = pool_api;
            let recipient = notify.unwrap_or_else(|| Recipient::clone(&api.default_recipient));
            match creation {
                Creation::V1(request) => create_v1_blocking(&api, &request, &recipient),
                Creation::V2(request, key) => create_v2_blocking(&api, &request, &key, &recipient),
            }
        })
        .await??;
    let status = match created.outcome {
        store::Outcome::Created => StatusCode::CREATED,
        store::Outcome::Replayed => StatusCode::OK,
    };
    let mut response = (status, Json(created.body)).into_response();
    mark(&mut response, created.version);
    let location = format!("/api/{}/invoices/{}", created.version, created.id);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if created.outcome == store::Outcome::Replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER.clone(), HeaderValue::from_static("true"));
    }
    Ok(response)
}

#[cfg(feature = "v1")]
fn create_v1_blocking(
    api: &InvoiceApi,
    request: &v1::InvoiceRequest,
    recipient: &Recipient,
) -> Result<Created, ApiError> {
    use shared::billing::v1::Billing as _;
    let invoice = api
        .billing
        .create_invoice(request)
        .map_err(billing_v1_error)?;
    let notice = render(&notification::notice_from_invoice(&invoice), recipient);
    let stored = match &notice {
        Some(message) => api.invoices.create_v1_with_notice(&invoice, message),
        None => api.invoices.create_v1(&invoice),
    }
    .map_err(store_error)?;
    queued(api, stored.outcome, notice.is_some());
    Ok(Created {
        version: BillingVersion::V1,
        id: stored.invoice.id().clone(),
        outcome: stored.outcome,
        body: to_json(&stored.invoice)?,
    })
}

#[cfg(not(feature = "v1"))]
fn create_v1_blocking(
    _api: &InvoiceApi,
    _request: &v1::InvoiceRequest,
    _recipient: &Recipient,
) -> Result<Created, ApiError> {
    Err(ApiError::VersionNotBuilt {
        version: BillingVersion::V1.as_str().to_owned(),
    })
}

#[cfg(feature = "v2")]
fn create_v2_blocking(
    api: &InvoiceApi,
    request: &v2::InvoiceRequest,
    key: &IdempotencyKey,
    recipient: &Recipient,
) -> Result<Created, ApiError> {
    use shared::billing::v2::Billing as _;
    let invoice = api
        .billing
        .create_invoice(request, key)
        .map_err(billing_v2_error)?;
    let notice = render(&notice_from_v2(&invoice), recipient);
    let stored = match &notice {
        Some(message) => api.invoices.create_v2_with_notice(&invoice, message),
        None => api.invoices.create_v2(&invoice),
    }
    .map_err(store_error)?;
    queued(api, stored.outcome, notice.is_some());
    Ok(Created {
        version: BillingVersion::V2,
        id: stored.invoice.id().clone(),
        outcome: stored.outcome,
        body: to_json(&stored.invoice)?,
    })
}

#[cfg(not(feature = "v2"))]
fn create_v2_blocking(
    _api: &InvoiceApi,
    _request: &v2::InvoiceRequest,
    _key: &IdempotencyKey,
    _recipient: &Recipient,
) -> Result<Created, ApiError> {
    Err(ApiError::VersionNotBuilt {
        version: BillingVersion::V2.as_str().to_owned(),
    })
}

/// The notice for a v2 invoice; the notification crate reads v1 invoices only, and a notice
/// carries its own currency, so any v2 invoice has one.
#[cfg(feature = "v2")]
fn notice_from_v2(invoice: &v2::Invoice) -> shared::notification::v1::InvoiceNotice {
    let totals = invoice.totals();
    shared::notification::v1::InvoiceNotice::new(
        invoice.id().clone(),
        invoice.customer().clone(),
        invoice.lines().len(),
        totals.subtotal(),
        totals.tax(),
        totals.total(),
    )
}

/// The notice's message for `recipient`, stored in the invoice's transaction so the two commit
/// together. A notice that cannot be rendered could never be delivered: it is logged and the
/// invoice is stored without one, rather than refusing a valid invoice over its notice.
#[cfg(any(feature = "v1", feature = "v2"))]
fn render(
    notice: &shared::notification::v1::InvoiceNotice,
    recipient: &Recipient,
) -> Option<shared::notification::v1::Message> {
    notification::render_message(notice, recipient)
        .inspect_err(|error| {
            tracing::error!(invoice = %notice.invoice_id(), %error, "cannot render invoice notice");
        })
        .ok()
}

/// Wakes the outbox dispatcher when this create committed a notice (a replay queues none).
#[cfg(any(feature = "v1", feature = "v2"))]
fn queued(api: &InvoiceApi, outcome: store::Outcome, with_notice: bool) {
    if with_notice && outcome == store::Outcome::Created {
        api.outbox_signal.wake();
    }
}

/// Reads the invoice through `version`, which must be built; errors from the read carry the
/// version, as for creates.
async fn run_read(
    api: InvoiceApi,
    version: BillingVersion,
    id: InvoiceId,
) -> Result<Response, ApiError> {
    version.require_built()?;
    #[cfg(feature = "faults")]
    if let Err(error) = crate::faults::inject(&api.config, version).await {
        return Ok(versioned_error(error, version));
    }
    Ok(match read(api, version, id).await {
        Ok(response) => response,
        Err(error) => versioned_error(error, version),
    })
}

async fn read(
    api: InvoiceApi,
    version: BillingVersion,
    id: InvoiceId,
) -> Result<Response, ApiError> {
    let pool_api = api.clone();
    let found = api
        .storage
        .run(move || {
            let api = pool_api;
            match version {
                BillingVersion::V1 => api
                    .invoices
                    .get_v1(&id)
                    .map_err(store_error)
                    .and_then(|invoice| invoice.map(|i| to_json(&i)).transpose())
                    .map(|body| (id, body)),
                BillingVersion::V2 => api
                    .invoices
                    .get_v2(&id)
                    .map_err(store_error)
                    .and_then(|invoice| invoice.map(|i| to_json(&i)).transpose())
                    .map(|body| (id, body)),
            }
        })
        .await?;
    let (id, body) = found.map_err(|error| match error {
        ApiError::NeedsNewerVersion { id, reason, .. } => ApiError::NeedsNewerVersion {
            id,
            requested: version.as_str(),
            needs: BillingVersion::V2.as_str(),
            reason,
        },
        other => other,
    })?;
    let body = body.ok_or_else(|| ApiError::NotFound {
        message: format!("invoice {id} does not exist"),
    })?;
    let mut response = Json(body).into_response();
    mark(&mut response, version);
    Ok(response)
}

/// An error response that names the version that produced it.
fn versioned_error(error: ApiError, version: BillingVersion) -> Response {
    let mut response = error.into_response();
    mark(&mut response, version);
    response
}

/// Names the serving version in the response header and for the metrics middleware.
fn mark(response: &mut Response, version: BillingVersion) {
    response.headers_mut().insert(
        BILLING_VERSION_HEADER.clone(),
        HeaderValue::from_static(version.as_str()),
    );
    response.extensions_mut().insert(ServedBy(version));
}

fn to_json(value: &impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(value)
        .map_err(|error| ApiError::internal(format!("cannot encode invoice: {error}")))
}

/// How store errors answer: conflicts are 409; a failed query (a read-only or full disk, a
/// moved database, a lock held too long) is 503 `storage_unavailable` with `Retry-After`, since
/// it heals when the disk does; the rest is ours (500, details logged).
fn store_error(error: store::StoreError) -> ApiError {
    match error {
        store::StoreError::NeedsV2 { id, reason } => ApiError::NeedsNewerVersion {
            id: id.to_string(),
            requested: BillingVersion::V1.as_str(),
            needs: BillingVersion::V2.as_str(),
            reason: reason.to_string(),
        },
        conflict @ (store::StoreError::IdempotencyConflict { .. }
        | store::StoreError::DuplicateInvoice { .. }) => ApiError::Conflict {
            message: conflict.to_string(),
        },
        store::StoreError::Database { .. } | store::StoreError::NotWritable { .. } => {
            tracing::error!(%error, "invoice store unavailable");
            crate::storage::unavailable()
        }
        other => ApiError::internal(other),
    }
}

#[cfg(feature = "v1")]
fn billing_v1_error(error: v1::BillingError) -> ApiError {
    match error {
        v1::BillingError::Invoice(error) => ApiError::Unprocessable {
            message: format!("invalid invoice: {error}"),
        },
        v1::BillingError::RequiresV2(reason) => ApiError::Unprocessable {
            message: format!("billing v1 cannot create this invoice ({reason}); use billing v2"),
        },
        other => ApiError::internal(other),
    }
}

#[cfg(feature = "v2")]
fn billing_v2_error(error: v2::BillingError) -> ApiError {
    match error {
        v2::BillingError::Invoice(error) => ApiError::Unprocessable {
            message: format!("invalid invoice: {error}"),
        },
        unsupported @ v2::BillingError::UnsupportedCurrency { .. } => ApiError::Unprocessable {
            message: unsupported.to_string(),
        },
        other => ApiError::internal(other),
    }
}
