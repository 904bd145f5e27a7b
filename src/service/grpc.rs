//! The gRPC `Translator` service: each RPC reads its caller ids and deadline, is admitted or
//! shed, runs its operation off the reactor and answers with the result or a status.

use super::admission::parse_grpc_timeout;
use super::failure::{Failure, Outcome};
use super::metrics::{Rpc, Transport};
use super::ops;
use super::pb::v1::{self, translator_server::Translator};
use super::request::{CallerIds, Observed, Shared};
use futures_util::StreamExt;
use prost::Message;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status, Streaming};

/// Items of one ConvertStream worked on at once; results still leave in request order.
const STREAM_PARALLELISM: usize = 4;

/// The `Translator` service over the shared state.
#[derive(Debug, Clone)]
pub struct TranslatorService {
    shared: Arc<Shared>,
}

impl TranslatorService {
    pub fn new(shared: Arc<Shared>) -> TranslatorService {
        TranslatorService { shared }
    }

    /// One unary call: observe, admit, run `work` off the reactor within the deadline.
    async fn unary<Req, Resp>(
        &self,
        rpc: Rpc,
        input_field: &'static str,
        request: Request<Req>,
        work: impl FnOnce(&Req, crate::Context) -> Result<Resp, Failure> + Send + 'static,
    ) -> Result<Response<Resp>, Status>
    where
        Req: Message + Send + 'static,
        Resp: Message + Send + 'static,
    {
        let mut observed =
            Observed::start(&self.shared, Transport::Grpc, rpc, ids(request.metadata()));
        let deadline = self
            .shared
            .admission
            .deadline(observed.started(), caller_timeout(request.metadata()));
        let req = request.into_inner();
        observed.request_bytes = req.encoded_len();
        let result = match self.shared.admission.admit() {
            Err(f) => Err(f),
            Ok(permit) => {
                let base = self.shared.context();
                self.shared
                    .admission
                    .run(permit, deadline, move || work(&req, base))
                    .await
            }
        };
        match result {
            Ok(resp) => {
                observed.response_bytes = resp.encoded_len();
                observed.finish(Outcome::Ok);
                Ok(Response::new(resp))
            }
            Err(f) => {
                observed.fail(&f);
                let status = f.to_status(input_field);
                observed.response_bytes = status.message().len() + status.details().len();
                Err(status)
            }
        }
    }
}

fn ids(metadata: &MetadataMap) -> CallerIds {
    CallerIds::read(|name| metadata.get(name).and_then(|v| v.to_str().ok()))
}

fn caller_timeout(metadata: &MetadataMap) -> Option<Duration> {
    metadata
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
}

type ResultStream =
    Pin<Box<dyn futures_util::Stream<Item = Result<v1::StreamResult, Status>> + Send>>;

#[tonic::async_trait]
impl Translator for TranslatorService {
    async fn convert(
        &self,
        request: Request<v1::ConvertRequest>,
    ) -> Result<Response<v1::ConvertResponse>, Status> {
        self.unary(Rpc::Convert, "bundle_json", request, ops::convert)
            .await
    }

    async fn prepare(
        &self,
        request: Request<v1::PrepareRequest>,
    ) -> Result<Response<v1::PrepareResponse>, Status> {
        self.unary(Rpc::Prepare, "bundle_json", request, ops::prepare)
            .await
    }

    async fn to_fhir(
        &self,
        request: Request<v1::ToFhirRequest>,
    ) -> Result<Response<v1::ToFhirResponse>, Status> {
        let shared = self.shared.clone();
        self.unary(Rpc::ToFhir, "hl7v3_xml", request, move |r, base| {
            ops::to_fhir(r, base.now, &shared.trust.snapshot(base.now))
        })
        .await
    }

    async fn canonicalize(
        &self,
        request: Request<v1::CanonicalizeRequest>,
    ) -> Result<Response<v1::CanonicalizeResponse>, Status> {
        self.unary(Rpc::Canonicalize, "xml", request, |r, _base| {
            ops::canonicalize(r)
        })
        .await
    }

    async fn verify(
        &self,
        request: Request<v1::VerifyRequest>,
    ) -> Result<Response<v1::VerifyResponse>, Status> {
        let shared = self.shared.clone();
        self.unary(Rpc::Verify, "hl7v3_xml", request, move |r, base| {
            ops::verify(r, base.now, &shared.trust)
        })
        .await
    }

    type ConvertStreamStream = ResultStream;

    /// Items are worked on a few at a time and answered in order. Each item waits for a
    /// slot under the server's limit instead of being shed (the stream's parallelism bounds
    /// the wait); the caller's deadline bounds the whole stream.
    async fn convert_stream(
        &self,
        request: Request<Streaming<v1::StreamItem>>,
    ) -> Result<Response<Self::ConvertStreamStream>, Status> {
        let mut observed = Observed::start(
            &self.shared,
            Transport::Grpc,
            Rpc::ConvertStream,
            ids(request.metadata()),
        );
        observed.items = Some(0);
        let deadline = caller_timeout(request.metadata()).map(|t| observed.started() + t);
        let inbound = request.into_inner();
        let shared = self.shared.clone();
        let (tx, rx) = mpsc::channel::<Result<v1::StreamResult, Status>>(STREAM_PARALLELISM * 2);
        tokio::spawn(async move {
            let results = inbound
                .map(|item| {
                    let shared = shared.clone();
                    async move {
                        match item {
                            Ok(item) => Ok(stream_item(&shared, item).await),
                            Err(status) => Err(Failure::from_transport(&status)),
                        }
                    }
                })
                .buffered(STREAM_PARALLELISM);
            tokio::pin!(results);
            let mut outcome = Outcome::Ok;
            loop {
                let next = match deadline {
                    Some(d) => tokio::select! {
                        next = results.next() => next,
                        () = tokio::time::sleep_until(d) => Some(Err(Failure::DeadlineExceeded(
                            "deadline exceeded: the stream outlived the caller's deadline".to_string(),
                        ))),
                    },
                    None => results.next().await,
                };
                let Some(next) = next else { break };
                let end = next.is_err();
                let message = match next {
                    Ok((result, bytes_in, bytes_out)) => {
                        observed.request_bytes += bytes_in;
                        observed.response_bytes += bytes_out;
                        observed.items = observed.items.map(|n| n + 1);
                        Ok(result)
                    }
                    Err(f) => {
                        outcome = f.outcome();
                        Err(f.to_status("request"))
                    }
                };
                if tx.send(message).await.is_err() {
                    outcome = Outcome::Cancelled;
                    break;
                }
                if end {
                    break;
                }
            }
            observed.finish(outcome);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// One stream item: waits for a slot, runs within the server's timeout, counts in the
/// metrics under `ConvertStream`. Returns the result and the item's request/response sizes.
async fn stream_item(
    shared: &Arc<Shared>,
    item: v1::StreamItem,
) -> (v1::StreamResult, usize, usize) {
    let start = std::time::Instant::now();
    let bytes_in = item.encoded_len();
    let correlation_id = item.correlation_id.clone();
    let base = shared.context();
    let trust = shared.trust.clone();
    let deadline = shared
        .admission
        .deadline(tokio::time::Instant::from_std(start), None);
    let result = match shared.admission.admit_waiting().await {
        Ok(permit) => {
            shared
                .admission
                .run(permit, deadline, move || {
                    Ok(ops::stream_item(item, base, &trust))
                })
                .await
        }
        Err(f) => Err(f),
    };
    let result = result.unwrap_or_else(|f| v1::StreamResult {
        correlation_id,
        result: Some(v1::stream_result::Result::Error(f.to_item_error())),
    });
    let outcome = match &result.result {
        Some(v1::stream_result::Result::Error(e)) => item_outcome(e.code),
        _ => Outcome::Ok,
    };
    shared.metrics.record(
        Transport::Grpc,
        Rpc::ConvertStream,
        outcome,
        start.elapsed(),
    );
    let bytes_out = result.encoded_len();
    (result, bytes_in, bytes_out)
}

fn item_outcome(code: i32) -> Outcome {
    match tonic::Code::from_i32(code) {
        tonic::Code::InvalidArgument => Outcome::Rejected,
        tonic::Code::DeadlineExceeded => Outcome::DeadlineExceeded,
        tonic::Code::ResourceExhausted => Outcome::Shed,
        tonic::Code::Unimplemented => Outcome::Unimplemented,
        tonic::Code::Internal => Outcome::Internal,
        _ => Outcome::Cancelled,
    }
}
