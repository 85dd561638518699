// The reads Azure Blob and S3 share: an object's size from a HEAD, and a
// ranged, streamed GET whose answer is checked against what was asked before
// a byte is believed. The stores' answers are outside data: a range that was
// ignored or shifted, more or fewer bytes than declared, or a broken answer
// to a range past the end must be Corruption, never a short or wrong read.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "storage/http_transport.h"
#include "util/status.h"

namespace ferry {

// How a store turns a refused answer into a Status (its error document,
// which credential was refused); `what` names the operation.
using AnswerStatusFunction =
    std::function<Status(const TransportResponse& response, const std::string& what)>;

// The size of the object that `head` (a signed HEAD request) asks about:
// NotFound on 404, the store's error otherwise.
Result<uint64_t> ObjectSizeFromHead(HttpTransport& transport, const TransportRequest& head,
                                    const std::string& what,
                                    const AnswerStatusFunction& answer_status);

struct RangedRead {
  TransportRequest request;  // a GET of the object, without the range header
  std::string range_header;  // "Range" (S3), "x-ms-range" (Azure)
  uint64_t offset = 0;
  uint64_t length = 0;  // kToEnd (UINT64_MAX): to the end
  std::string what;     // "azure://c/p: reading data/3f/3f2a…"
  AnswerStatusFunction answer_status;
  // The object's size, asked when an answer leaves it unclear whether the
  // range went past the end.
  std::function<Result<uint64_t>()> size;
};

// Streams the bytes of `read` into `sink`, as Backend::ReadStream promises:
// reading past the end is Corruption, a missing object NotFound, and an
// answer that does not prove it holds exactly the bytes asked for (its
// Content-Range, its declared length) is Corruption, retryable where a cut
// connection can explain it.
Status StreamObjectRange(HttpTransport& transport, RangedRead read,
                         const std::function<Status(ByteView)>& sink);

// "bytes START-END/TOTAL" (TOTAL may be "*") → START and END; false if it is
// not one or is not a range inside the object.
bool ParseContentRange(const std::string& text, uint64_t* start, uint64_t* end);

}  // namespace ferry
