//! A gRPC client that knows only the server's reflection, as grpcurl does: no `.proto`, no
//! generated code. It lists the services, fetches the API's descriptors (and their imports),
//! builds Convert and Prepare requests from JSON and gets the golden bytes back.

mod common;
mod service_support;

use base64::Engine;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use service_support::{server, CONVERT_NOW, PREPARE_NOW};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::Status;
use tonic_reflection::pb::v1::{
    server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
    server_reflection_response::MessageResponse, ServerReflectionRequest,
};

/// A codec for messages known only by their descriptors.
#[derive(Clone)]
struct DynamicCodec(MessageDescriptor);
struct DynamicEncoder;
struct DynamicDecoder(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;
    fn encoder(&mut self) -> DynamicEncoder {
        DynamicEncoder
    }
    fn decoder(&mut self) -> DynamicDecoder {
        DynamicDecoder(self.0.clone())
    }
}

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;
    fn encode(&mut self, item: DynamicMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Status> {
        DynamicMessage::decode(self.0.clone(), src)
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

/// One reflection request's answer.
async fn reflect(channel: &Channel, request: MessageRequest) -> MessageResponse {
    let mut client = ServerReflectionClient::new(channel.clone());
    let mut answers = client
        .server_reflection_info(tokio_stream::iter(vec![ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        }]))
        .await
        .unwrap()
        .into_inner();
    answers
        .message()
        .await
        .unwrap()
        .unwrap()
        .message_response
        .unwrap()
}

/// The descriptor pool of a service, fetched file by file through reflection.
async fn pool_for(channel: &Channel, service: &str) -> DescriptorPool {
    pool_for_symbols(channel, &[service]).await
}

/// The descriptor pool of the files defining `symbols`, with their imports.
async fn pool_for_symbols(channel: &Channel, symbols: &[&str]) -> DescriptorPool {
    let mut files: Vec<prost_types::FileDescriptorProto> = Vec::new();
    for symbol in symbols {
        let MessageResponse::FileDescriptorResponse(first) = reflect(
            channel,
            MessageRequest::FileContainingSymbol(symbol.to_string()),
        )
        .await
        else {
            panic!("no descriptor for {symbol}");
        };
        for bytes in &first.file_descriptor_proto {
            let file: prost_types::FileDescriptorProto = Message::decode(bytes.as_slice()).unwrap();
            if !files.iter().any(|f| f.name() == file.name()) {
                files.push(file);
            }
        }
    }
    // Fetch imports until every dependency is known.
    loop {
        let known: Vec<String> = files.iter().map(|f| f.name().to_string()).collect();
        let missing: Vec<String> = files
            .iter()
            .flat_map(|f| f.dependency.clone())
            .filter(|d| !known.contains(d))
            .collect();
        let Some(name) = missing.first() else { break };
        let MessageResponse::FileDescriptorResponse(more) =
            reflect(channel, MessageRequest::FileByFilename(name.clone())).await
        else {
            panic!("no descriptor for {name}");
        };
        files.extend(
            more.file_descriptor_proto
                .iter()
                .map(|b| Message::decode(b.as_slice()).unwrap()),
        );
    }
    DescriptorPool::from_file_descriptor_set(prost_types::FileDescriptorSet { file: files })
        .unwrap()
}

/// Calls `service/method` with a request built from JSON (grpcurl's `-d`).
async fn call(
    channel: &Channel,
    pool: &DescriptorPool,
    method: &str,
    json: &str,
) -> DynamicMessage {
    let service = pool
        .get_service_by_name("eps.translator.v1.Translator")
        .unwrap();
    let method = service.methods().find(|m| m.name() == method).unwrap();
    let mut de = serde_json::Deserializer::from_str(json);
    let request = DynamicMessage::deserialize(method.input(), &mut de).unwrap();
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let path =
        PathAndQuery::try_from(format!("/{}/{}", service.full_name(), method.name())).unwrap();
    grpc.unary(
        tonic::Request::new(request),
        path,
        DynamicCodec(method.output()),
    )
    .await
    .unwrap()
    .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reflection_only_client_lists_the_services_and_gets_the_golden_bytes() {
    let Some(shared) = common::shared_dir("reflection-only client") else {
        return;
    };
    let running = server(|_| {}).await;
    let channel = service_support::channel(&running).await;
    let MessageResponse::ListServicesResponse(list) =
        reflect(&channel, MessageRequest::ListServices(String::new())).await
    else {
        panic!("no service list");
    };
    assert!(list
        .service
        .iter()
        .any(|s| s.name == "eps.translator.v1.Translator"));
    let pool = pool_for(&channel, "eps.translator.v1.Translator").await;
    let b64 = base64::engine::general_purpose::STANDARD;

    let examples =
        shared.join("eps-examples/primary-care/acute/nominated-pharmacy/medical-prescriber");
    let sends = common::find_files(&examples, &|n| {
        n.ends_with("-Process-Request-Send-200_OK.json")
    });
    let send = sends.first().expect("a Send example");
    let n = common::example_number(send);
    let golden = std::fs::read_to_string(
        send.with_file_name(format!("{n}-Convert-Response-Send-200_OK.xml")),
    )
    .unwrap();
    let json = format!(
        r#"{{"bundle_json": "{}", "context": {{"creation_time": "{CONVERT_NOW}"}}}}"#,
        b64.encode(std::fs::read(send).unwrap())
    );
    let answer = call(&channel, &pool, "Convert", &json).await;
    let xml = answer.get_field_by_name("hl7v3_xml").unwrap();
    assert_eq!(xml.as_str().unwrap(), golden, "{}", send.display());

    let prepares = common::find_files(&shared.join("eps-examples"), &|n| {
        n.ends_with("-Prepare-Request-200_OK.json")
    });
    for request in prepares.iter().take(5) {
        let json = format!(
            r#"{{"bundle_json": "{}", "algorithm": "DIGEST_ALGORITHM_SHA256", "signing_time": "{}"}}"#,
            b64.encode(std::fs::read(request).unwrap()),
            PREPARE_NOW.replace("+00:00", "Z")
        );
        let answer = call(&channel, &pool, "Prepare", &json).await;
        let parameters = answer.get_field_by_name("parameters_json").unwrap();
        let ours: serde_json::Value =
            serde_json::from_slice(parameters.as_bytes().unwrap()).unwrap();
        let response = request.with_file_name(
            request
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .replace("Request", "Response"),
        );
        let theirs: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&response).unwrap()).unwrap();
        assert_eq!(ours, theirs, "{}", response.display());
    }

    // Verify: the verdicts, read by field name.
    let release =
        std::fs::read_to_string(shared.join("eps-release-responses/release_invalid.xml")).unwrap();
    let anchor =
        std::fs::read(shared.join("eps-signatures/certificates/NHS_INT_Level1D_Base64_pem.cer"))
            .unwrap();
    let json = serde_json::json!({
        "hl7v3_xml": release,
        "trusted_ca_pem": [b64.encode(anchor)],
        "at": "2024-12-09T11:50:04Z",
        "revocation": "prefer",
    })
    .to_string();
    let answer = call(&channel, &pool, "Verify", &json).await;
    assert!(!answer
        .get_field_by_name("valid")
        .unwrap()
        .as_bool()
        .unwrap());
    let prescriptions = answer.get_field_by_name("prescriptions").unwrap();
    let first = prescriptions.as_list().unwrap()[0]
        .as_message()
        .unwrap()
        .clone();
    let errors: Vec<String> = first
        .get_field_by_name("errors")
        .unwrap()
        .as_list()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(errors, ["Signature is invalid"]);
    running.shutdown().await.unwrap();
}

/// The error details the service returns (`google.rpc.Status` in `grpc-status-details-bin`,
/// holding a `BadRequest` and an `ErrorInfo`) are described by reflection too, so a client
/// without the `.proto` files (grpcurl) can read them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reflection_only_client_reads_the_error_details_of_a_refusal() {
    let running = server(|_| {}).await;
    let channel = service_support::channel(&running).await;
    let pool = pool_for_symbols(
        &channel,
        &[
            "eps.translator.v1.Translator",
            "google.rpc.Status",
            "google.rpc.BadRequest",
            "google.rpc.ErrorInfo",
            "google.rpc.RetryInfo",
        ],
    )
    .await;
    let service = pool
        .get_service_by_name("eps.translator.v1.Translator")
        .unwrap();
    let method = service.methods().find(|m| m.name() == "Convert").unwrap();
    let mut de = serde_json::Deserializer::from_str(r#"{"bundle_json": "e30="}"#);
    let request = DynamicMessage::deserialize(method.input(), &mut de).unwrap();
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let path = PathAndQuery::try_from("/eps.translator.v1.Translator/Convert").unwrap();
    let status = grpc
        .unary(
            tonic::Request::new(request),
            path,
            DynamicCodec(method.output()),
        )
        .await
        .expect_err("an empty object is refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    let details = DynamicMessage::decode(
        pool.get_message_by_name("google.rpc.Status").unwrap(),
        status.details(),
    )
    .unwrap();
    let mut seen = Vec::new();
    for any in details
        .get_field_by_name("details")
        .unwrap()
        .as_list()
        .unwrap()
    {
        let any = any.as_message().unwrap();
        let type_url = any.get_field_by_name("type_url").unwrap();
        let name = type_url
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let descriptor = pool
            .get_message_by_name(&name)
            .unwrap_or_else(|| panic!("{name} is not described by reflection"));
        let value = any.get_field_by_name("value").unwrap();
        let detail = DynamicMessage::decode(descriptor, value.as_bytes().unwrap().clone()).unwrap();
        if name == "google.rpc.BadRequest" {
            let violations = detail.get_field_by_name("field_violations").unwrap();
            let first = violations.as_list().unwrap()[0]
                .as_message()
                .unwrap()
                .clone();
            let field = first.get_field_by_name("field").unwrap();
            assert!(!field.as_str().unwrap().is_empty(), "a FHIRPath is named");
        }
        if name == "google.rpc.ErrorInfo" {
            let metadata = detail.get_field_by_name("metadata").unwrap();
            let has_outcome = metadata
                .as_map()
                .unwrap()
                .keys()
                .any(|k| k.as_str() == Some("operation_outcome"));
            assert!(has_outcome, "ErrorInfo carries the OperationOutcome");
        }
        seen.push(name);
    }
    assert!(
        seen.contains(&"google.rpc.BadRequest".to_string()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"google.rpc.ErrorInfo".to_string()),
        "{seen:?}"
    );
    running.shutdown().await.unwrap();
}
