#include "storage/http_client.h"

#include <nlohmann/json.hpp>

namespace ferry {

namespace {

std::string ErrorMessageFromBody(const Bytes& body) {
  auto document = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (document.is_object() && document.contains("error") && document["error"].is_object()) {
    const auto& error = document["error"];
    std::string message = error.value("message", "");
    std::string code = error.value("code", "");
    if (!message.empty()) return message + (code.empty() ? "" : " (" + code + ")");
  }
  return std::string(body.begin(),
                     body.begin() + static_cast<long>(std::min<size_t>(body.size(), 200)));
}

}  // namespace

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)),
      transport_(HttpTransportOptions{options_.ca_file, 10, 60, nullptr, options_.label,
                                      options_.unreachable_hint}),
      retrier_(RetryPolicy{options_.retry_seconds, 0.25, 8, nullptr, nullptr}) {
  while (!options_.server.empty() && options_.server.back() == '/') options_.server.pop_back();
}

std::string HttpClient::Describe() const {
  return options_.label.empty() ? options_.server : options_.label + " at " + options_.server;
}

Result<HttpResponse> HttpClient::PerformOnce(const HttpRequest& request, bool* delivered) {
  TransportRequest sent;
  sent.method = request.method;
  sent.url = options_.server + request.path;
  if (!options_.token.empty())
    sent.headers.push_back({"Authorization", "Bearer " + options_.token});
  sent.headers.push_back({"Ferry-Protocol", std::to_string(kClientProtocol)});
  if (!request.content_type.empty()) sent.headers.push_back({"Content-Type", request.content_type});
  if (!request.range.empty()) sent.headers.push_back({"Range", "bytes=" + request.range});
  if (request.write_once) sent.headers.push_back({"If-None-Match", "*"});
  sent.body = request.body;
  std::function<Status(ByteView)> counting_sink;
  if (request.sink) {
    counting_sink = [&](ByteView piece) {
      *delivered = true;
      return (*request.sink)(piece);
    };
    sent.sink = &counting_sink;
  }
  auto answer = transport_.Perform(sent);
  std::string what = Describe() + ": " + request.method + " " + request.path;
  // A transport failure names the label and the URL (never its query).
  if (!answer.ok()) return answer.status();
  HttpResponse response{answer->status, std::move(answer->body), answer->content_length};
  if (response.status == 507 || response.status >= 500 || response.status == 408 ||
      response.status == 429)
    return StatusForHttpAnswer(response.status, what, ErrorMessageFromBody(response.body));
  return response;
}

Result<HttpResponse> HttpClient::Perform(const HttpRequest& request) {
  Result<HttpResponse> result = Status::Internal("no attempt");
  bool delivered = false;
  Status status = retrier_.Run([&](int) {
    result = PerformOnce(request, &delivered);
    // A sink that has had bytes cannot have them again: the caller resumes
    // (RetryBackend::ReadStream asks for the rest with a range).
    if (delivered && !result.ok()) return result.status().Permanent();
    return result.status();
  });
  // Still retryable for the caller that can resume it.
  if (delivered && !result.ok()) return result.status();
  if (!status.ok()) return status;
  return result;
}

Status HttpClient::ErrorFor(const HttpRequest& request, const HttpResponse& response) const {
  std::string message = Describe() + ": " + request.method + " " + request.path + ": " +
                        ErrorMessageFromBody(response.body);
  switch (response.status) {
    case 401:
      return Status::PermissionDenied(options_.unauthorized_hint.empty()
                                          ? message
                                          : message + " — " + options_.unauthorized_hint);
    case 403:
      return Status::PermissionDenied(message);
    case 404:
      return Status::NotFound(message);
    case 409:
      return Status::AlreadyExists(message);
    case 416:
      return Status::Corruption(message);
    case 422:
      return Status::Corruption(message);
    case 426:
      return Status::Unsupported(message);
    default:
      return Status::IOError(message + " (HTTP " + std::to_string(response.status) + ")");
  }
}

}  // namespace ferry
