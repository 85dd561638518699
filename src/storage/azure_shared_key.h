// The Azure Storage SharedKey signer: the Authorization header of a Blob
// service request, as the service recomputes it (HMAC-SHA256 under the
// account key of a canonical "string to sign"). It is installed as an
// HttpTransport's `sign` hook, so every attempt is signed with a fresh
// x-ms-date just before it is sent.
//
// The string to sign (version 2015-02-21 and later) is the verb, eleven
// standard headers (Content-Length "" when 0, Date "" because x-ms-date is
// sent), the x-ms-* headers lower-case and sorted as "name:value", and the
// canonical resource: "/ACCOUNT" + the URL's path exactly as sent (still
// percent-encoded) + one "\nname:value" per query parameter, names
// lower-case and sorted, values decoded. With a path-style endpoint such as
// Azurite's the path itself starts with the account again.
#pragma once

#include <cstdint>
#include <string>

#include "storage/http_transport.h"
#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

// The service version every request asks for (x-ms-version).
inline constexpr const char* kAzureApiVersion = "2021-08-06";

// The canonical string to sign of `request` for `account`; fails on a URL
// it cannot take apart.
Result<std::string> SharedKeyStringToSign(const TransportRequest& request,
                                          const std::string& account);

// base64(HMAC-SHA256(key, text)): a SharedKey or SAS signature.
std::string AzureSignature(ByteView key, const std::string& text);

// RFC 1123 date in GMT ("Wed, 02 Dec 2026 17:26:31 GMT") of a Unix time.
std::string HttpDate(int64_t unix_seconds);

// Adds x-ms-date (now), x-ms-version (if absent) and the Authorization
// header to `request`.
Status SignSharedKey(TransportRequest& request, const std::string& account, ByteView key);

}  // namespace ferry
