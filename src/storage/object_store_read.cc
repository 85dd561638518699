#include "storage/object_store_read.h"

#include <string_view>

#include "util/bytes.h"

namespace ferry {

namespace {
constexpr uint64_t kToEnd = UINT64_MAX;
}  // namespace

Result<uint64_t> ObjectSizeFromHead(HttpTransport& transport, const TransportRequest& head,
                                    const std::string& what,
                                    const AnswerStatusFunction& answer_status) {
  ASSIGN_OR_RETURN(TransportResponse response, transport.Perform(head));
  if (response.status == 404) return Status::NotFound(what + ": no such object");
  if (response.status / 100 != 2) return answer_status(response, what);
  uint64_t size = 0;
  if (!ParseDecimalDigits(response.Header("content-length"), &size))
    return Status::Corruption(what + ": the service answered without a valid Content-Length")
        .Retryable();
  return size;
}

bool ParseContentRange(const std::string& text, uint64_t* start, uint64_t* end) {
  if (text.rfind("bytes ", 0) != 0) return false;
  size_t dash = text.find('-', 6), slash = text.find('/', 6);
  if (dash == std::string::npos || slash == std::string::npos || slash < dash) return false;
  std::string_view view(text);
  if (!ParseDecimalDigits(view.substr(6, dash - 6), start) ||
      !ParseDecimalDigits(view.substr(dash + 1, slash - dash - 1), end) || *start > *end)
    return false;
  uint64_t total = 0;
  if (view.substr(slash + 1) == "*") return true;
  return ParseDecimalDigits(view.substr(slash + 1), &total) && *end < total;
}

Status StreamObjectRange(HttpTransport& transport, RangedRead read,
                         const std::function<Status(ByteView)>& sink) {
  const std::string& what = read.what;
  const uint64_t offset = read.offset, length = read.length;
  if (length == 0) {
    ASSIGN_OR_RETURN(uint64_t size, read.size());
    if (offset > size)
      return Status::Corruption(what + ": offset " + std::to_string(offset) + " is past its end (" +
                                std::to_string(size) + " bytes)");
    return Status::Ok();
  }
  if (length != kToEnd && offset + length < offset)
    return Status::InvalidArgument(what + ": the range overflows");
  bool ranged = offset > 0 || length != kToEnd;
  if (ranged)
    read.request.SetHeader(read.range_header,
                           "bytes=" + std::to_string(offset) + "-" +
                               (length == kToEnd ? "" : std::to_string(offset + length - 1)));
  uint64_t received = 0;
  std::function<Status(ByteView)> counted = [&](ByteView piece) -> Status {
    if (length != kToEnd && received + piece.size() > length)
      return Status::Corruption(what + ": the service sent more than the " +
                                std::to_string(length) + " bytes asked for");
    received += piece.size();
    return sink(piece);
  };
  read.request.sink = &counted;
  auto answer = transport.Perform(read.request);
  if (!answer.ok()) {
    // Some servers answer a range past the end with a broken 206 instead
    // of a 416 (s3rver promises one byte of an empty object and closes):
    // if nothing came, ask the object's size before calling it a network
    // failure worth retrying.
    if (ranged && received == 0 && answer.status().retryable()) {
      auto size = read.size();
      if (size.ok() && (offset > *size || (length != kToEnd && length > *size - offset)))
        return Status::Corruption(what + ": the range from byte " + std::to_string(offset) +
                                  " goes past the object's end (" + std::to_string(*size) +
                                  " bytes)");
    }
    return answer.status();
  }
  TransportResponse& response = *answer;
  if (response.status == 404) return Status::NotFound(what + ": no such object");
  if (response.status == 416) {
    // Reading from exactly the end to the end is an empty read, as elsewhere.
    if (length == kToEnd) {
      ASSIGN_OR_RETURN(uint64_t size, read.size());
      if (offset == size) return Status::Ok();
    }
    return Status::Corruption(what + ": bytes from " + std::to_string(offset) +
                              " are past the object's end");
  }
  if (response.status / 100 != 2) return read.answer_status(response, what);
  if (ranged && received == 0 && length == kToEnd) {
    // Nothing from the offset to the end: an empty read if the offset is the
    // end, whatever the answer says of it (Azurite: 206 "bytes 3000-2999/3000").
    ASSIGN_OR_RETURN(uint64_t size, read.size());
    if (offset == size) return Status::Ok();
  }
  if (ranged && response.status == 206) {
    // The bytes must be the ones asked for, not some other part of the object.
    uint64_t first = 0, last = 0;
    std::string range = response.Header("content-range");
    if (!ParseContentRange(range, &first, &last) || first != offset || last - first + 1 != received)
      return Status::Corruption(what + ": the answer's Content-Range '" + range.substr(0, 80) +
                                "' does not match the " + std::to_string(received) +
                                " bytes from " + std::to_string(offset) + " it sent");
  } else if (ranged && offset > 0) {
    return Status::Corruption(what + ": the service ignored the range and sent the whole object");
  }
  if (response.content_length != 0 && response.content_length != received)
    return Status::Corruption(what + ": the service declared " +
                              std::to_string(response.content_length) + " bytes but sent " +
                              std::to_string(received))
        .Retryable();
  if (length != kToEnd && received < length)
    return Status::Corruption(what + ": the object ends " + std::to_string(length - received) +
                              " bytes before the range asked for");
  return Status::Ok();
}

}  // namespace ferry
