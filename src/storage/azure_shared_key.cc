#include "storage/azure_shared_key.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <vector>

namespace ferry {

namespace {

std::string Trim(const std::string& text) {
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

}  // namespace

Result<std::string> SharedKeyStringToSign(const TransportRequest& request,
                                          const std::string& account) {
  // The path and query of the URL, exactly as they go on the wire.
  size_t scheme_end = request.url.find("://");
  if (scheme_end == std::string::npos)
    return Status::InvalidArgument("cannot sign a URL without a scheme");
  size_t path_start = request.url.find('/', scheme_end + 3);
  std::string path_and_query =
      path_start == std::string::npos ? "/" : request.url.substr(path_start);
  size_t question = path_and_query.find('?');
  std::string path = path_and_query.substr(0, question);
  std::string query = question == std::string::npos ? "" : path_and_query.substr(question + 1);

  uint64_t body_length = request.body_source ? request.body_length : request.body.size();
  std::string text = request.method + "\n";
  for (const char* header : {"Content-Encoding", "Content-Language"})
    text += request.Header(header) + "\n";
  text += (body_length == 0 ? std::string() : std::to_string(body_length)) + "\n";
  for (const char* header : {"Content-MD5", "Content-Type"}) text += request.Header(header) + "\n";
  text += "\n";  // Date: x-ms-date is sent instead
  for (const char* header :
       {"If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"})
    text += request.Header(header) + "\n";

  std::map<std::string, std::string> ms_headers;
  for (const auto& header : request.headers) {
    std::string name = AsciiLower(header.name);
    if (name.rfind("x-ms-", 0) == 0) ms_headers[name] = Trim(header.value);
  }
  for (const auto& [name, value] : ms_headers) text += name + ":" + value + "\n";

  text += "/" + account + path;
  // Parameters sorted by lower-case name; several values of one name are
  // joined with commas in sorted order.
  std::map<std::string, std::vector<std::string>> parameters;
  size_t start = 0;
  while (!query.empty() && start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(start, end - start);
    if (!pair.empty()) {
      size_t equals = pair.find('=');
      auto name = PercentDecode(pair.substr(0, equals));
      auto value = PercentDecode(equals == std::string::npos ? "" : pair.substr(equals + 1));
      if (!name.ok() || !value.ok())
        return Status::InvalidArgument("cannot sign a URL whose query has a broken escape");
      parameters[AsciiLower(*name)].push_back(*value);
    }
    start = end + 1;
  }
  for (auto& [name, values] : parameters) {
    std::sort(values.begin(), values.end());
    text += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); ++i) text += (i ? "," : "") + values[i];
  }
  return text;
}

std::string AzureSignature(ByteView key, const std::string& text) {
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const uint8_t*>(text.data()), text.size(), digest, &length);
  return Base64Encode(ByteView(digest, length));
}

std::string HttpDate(int64_t unix_seconds) {
  std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&time, &tm);
  // strftime's %a and %b follow the locale; RFC 1123 wants English.
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

Status SignSharedKey(TransportRequest& request, const std::string& account, ByteView key) {
  request.SetHeader("x-ms-date", HttpDate(std::time(nullptr)));
  if (request.Header("x-ms-version").empty()) request.SetHeader("x-ms-version", kAzureApiVersion);
  ASSIGN_OR_RETURN(std::string text, SharedKeyStringToSign(request, account));
  request.SetHeader("Authorization", "SharedKey " + account + ":" + AzureSignature(key, text));
  return Status::Ok();
}

}  // namespace ferry
