//! gRPC server reflection on felundd's socket: what `grpcurl -plaintext -authority
//! localhost -unix SOCKET list` and other generic tools rely on to discover the API
//! without the .proto file.

use std::path::PathBuf;

use felund_tests::Daemon;
use hyper_util::rt::TokioIo;
use prost::Message as _;
use prost_types::FileDescriptorProto;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

/// A plain tonic channel over the Unix socket, written here from scratch (as any
/// third-party client would) rather than borrowed from felund-client. The URI's
/// authority `localhost` is what goes out as HTTP/2 `:authority`.
async fn channel(socket: PathBuf) -> Channel {
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { UnixStream::connect(socket).await.map(TokioIo::new) }
        }))
        .await
        .expect("connect to felundd's socket")
}

/// Sends one reflection request on a fresh stream and returns the answer, or the
/// status the stream ended with.
async fn try_ask(
    client: &mut ServerReflectionClient<Channel>,
    request: MessageRequest,
) -> Result<MessageResponse, tonic::Status> {
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter([req]))
        .await?
        .into_inner();
    Ok(answers
        .message()
        .await?
        .and_then(|a| a.message_response)
        .expect("a reflection response"))
}

/// Like [`try_ask`], for requests that must succeed.
async fn ask(
    client: &mut ServerReflectionClient<Channel>,
    request: MessageRequest,
) -> MessageResponse {
    try_ask(client, request).await.expect("reflection answers")
}

async fn list_services(client: &mut ServerReflectionClient<Channel>) -> Vec<String> {
    match ask(client, MessageRequest::ListServices(String::new())).await {
        MessageResponse::ListServicesResponse(list) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("expected a service list, got {other:?}"),
    }
}

async fn file_containing(
    client: &mut ServerReflectionClient<Channel>,
    symbol: &str,
) -> Vec<FileDescriptorProto> {
    match ask(client, MessageRequest::FileContainingSymbol(symbol.into())).await {
        MessageResponse::FileDescriptorResponse(files) => files
            .file_descriptor_proto
            .iter()
            .map(|bytes| FileDescriptorProto::decode(bytes.as_slice()).expect("a file descriptor"))
            .collect(),
        other => panic!("expected a file descriptor for {symbol}, got {other:?}"),
    }
}

#[tokio::test]
async fn reflection_lists_the_felund_service_over_the_unix_socket() {
    let d = Daemon::start();
    let mut client = ServerReflectionClient::new(channel(d.socket.clone()).await);
    let services = list_services(&mut client).await;
    assert!(
        services.iter().any(|s| s == "felund.v1.Felund"),
        "services: {services:?}"
    );
    assert!(
        services
            .iter()
            .any(|s| s == "grpc.reflection.v1.ServerReflection"),
        "services: {services:?}"
    );
}

#[tokio::test]
async fn reflection_serves_the_felund_file_descriptor_with_every_rpc() {
    let d = Daemon::start();
    let mut client = ServerReflectionClient::new(channel(d.socket.clone()).await);
    let files = file_containing(&mut client, "felund.v1.Felund").await;
    let file = files
        .iter()
        .find(|f| f.package() == "felund.v1")
        .unwrap_or_else(|| {
            panic!(
                "no felund.v1 file among {:?}",
                files.iter().map(|f| f.name()).collect::<Vec<_>>()
            )
        });
    assert_eq!(file.name(), "felund.proto");
    let service = file
        .service
        .iter()
        .find(|s| s.name() == "Felund")
        .expect("service Felund in felund.proto");
    let method = |name: &str| {
        service
            .method
            .iter()
            .find(|m| m.name() == name)
            .unwrap_or_else(|| panic!("no rpc {name}"))
    };
    let subscribe = method("Subscribe");
    assert!(subscribe.server_streaming(), "Subscribe streams events");
    assert_eq!(subscribe.output_type(), ".felund.v1.Event");
    let send = method("SendMessage");
    assert_eq!(send.input_type(), ".felund.v1.SendMessageRequest");
    assert!(!send.server_streaming());
    for rpc in [
        "GetNodeInfo",
        "ListMessages",
        "SearchMessages",
        "ImportState",
    ] {
        method(rpc);
    }
    // A message type is found too, in the same file.
    let by_type = file_containing(&mut client, "felund.v1.Message").await;
    assert!(by_type.iter().any(|f| f.name() == "felund.proto"));
}

#[tokio::test]
async fn reflection_reports_an_unknown_symbol_as_an_error_not_a_crash() {
    let d = Daemon::start();
    let mut client = ServerReflectionClient::new(channel(d.socket.clone()).await);
    // tonic-reflection ends the stream with NOT_FOUND; the reflection spec also
    // allows an ErrorResponse message. Either is a clean refusal.
    let code = match try_ask(
        &mut client,
        MessageRequest::FileContainingSymbol("felund.v1.NoSuchThing".into()),
    )
    .await
    {
        Err(status) => status.code() as i32,
        Ok(MessageResponse::ErrorResponse(e)) => e.error_code,
        Ok(other) => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(code, tonic::Code::NotFound as i32);
    // The daemon still serves its own API afterwards.
    assert!(d.ctl(&["status"]).status.success());
}
