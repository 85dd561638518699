// SigV4Signer: AWS Signature Version 4 for S3 requests, installed as an
// HttpTransport's `sign` hook (storage/http_transport.h). It adds `host`,
// `x-amz-date`, `x-amz-content-sha256` (and `x-amz-security-token` for
// temporary credentials) and the `Authorization` header computed over them:
//
//   canonical request = METHOD \n canonical URI \n canonical query \n
//                       (lower-case name ":" trimmed value \n)* \n
//                       signed header names joined by ";" \n payload hash
//   string to sign    = "AWS4-HMAC-SHA256" \n AMZDATE \n DATE/REGION/s3/aws4_request \n
//                       hex(SHA-256(canonical request))
//   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, DATE), REGION), "s3"),
//                       "aws4_request")
//   signature         = hex(HMAC(signing key, string to sign))
//
// Every header of the request is signed, so a proxy cannot change a Range or
// an If-None-Match unnoticed. The payload hash is the body's SHA-256; a
// streamed body (body_source) is sent as UNSIGNED-PAYLOAD, never with
// aws-chunked streaming signatures (s3rver would store the chunk framing as
// data). A caller that already knows the body's hash sets
// x-amz-content-sha256 itself and it is used as it is (no second hashing of
// an 8 MiB part on each retry).
//
// The canonical URI and query are rebuilt from the URL (decoded, then encoded
// the AWS way: everything but A-Z a-z 0-9 - _ . ~ escaped, "/" kept in the
// path), so a URL the caller escaped a little differently is still signed as
// S3 will see it.
//
// Thread-safe: Sign only reads the signer's state.
#pragma once

#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "storage/http_transport.h"
#include "storage/s3_credentials.h"
#include "util/status.h"

namespace ferry {

// What a signature is computed over, and the results, for tests that compare
// every intermediate text with AWS's published examples.
struct SigV4Parts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;range;x-amz-content-sha256;x-amz-date"
  std::string signature;       // 64 hex digits
  std::string authorization;   // the Authorization header's value
};

// The hex SHA-256 of an empty body, and the payload hash of a streamed one.
inline constexpr const char* kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";

class SigV4Signer {
 public:
  // `now` gives the signing time (seconds since the epoch); tests fix it.
  SigV4Signer(S3Credentials credentials, std::string region,
              std::function<std::time_t()> now = nullptr);

  // Adds the SigV4 headers to `request` (any it already has of those names
  // are replaced, but x-amz-content-sha256 is kept if present). Fails on a
  // URL it cannot take apart.
  Status Sign(TransportRequest& request) const;

  // The signature of `method` on `url` with exactly `headers` (names in any
  // case; host and x-amz-date must be among them) and `payload_hash`, at
  // `amz_date` ("20130524T000000Z").
  Result<SigV4Parts> Compute(const std::string& method, const std::string& url,
                             const std::vector<HttpHeader>& headers,
                             const std::string& payload_hash, const std::string& amz_date) const;

  const S3Credentials& credentials() const { return credentials_; }
  const std::string& region() const { return region_; }

 private:
  S3Credentials credentials_;
  std::string region_;
  std::function<std::time_t()> now_;
};

// "20130524T000000Z" for a time in seconds since the epoch (UTC).
std::string AmzDate(std::time_t time);

// The host[:port] of an http(s) URL, as the Host header carries it; fails on
// anything else.
Result<std::string> UrlAuthority(const std::string& url);

// A path or query component decoded from %XX and encoded again as SigV4
// wants it (unreserved characters kept; "/" kept when `keep_slashes`).
std::string SigV4Encode(const std::string& component, bool keep_slashes);

}  // namespace ferry
