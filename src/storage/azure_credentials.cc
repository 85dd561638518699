#include "storage/azure_credentials.h"

#include <cstdlib>
#include <vector>

#include "storage/http_transport.h"
#include "util/file_util.h"

namespace ferry {

namespace {

std::string TrimLineEnd(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

bool IsPrintableWithoutSpace(const std::string& text) {
  for (unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

// Azure's own rules for a field name are case-insensitive.
bool SameName(const std::string& a, const char* b) { return AsciiLower(a) == AsciiLower(b); }

}  // namespace

Result<AzureCredential> ParseAzureAccountKey(const std::string& text, const std::string& source) {
  if (text.empty()) return Status::InvalidArgument(source + " is empty");
  if (!IsPrintableWithoutSpace(text))
    return Status::InvalidArgument(source + " contains spaces or control characters");
  auto key = Base64Decode(text);
  // Storage account keys are 64 bytes (88 base64 characters); accept any
  // decodable key of a sensible size, since the service has the last word.
  if (!key.ok() || key->size() < 16)
    return Status::InvalidArgument(source +
                                   " is not an account key (base64, as the portal shows it)");
  AzureCredential credential;
  credential.kind = AzureCredential::Kind::kSharedKey;
  credential.key = std::move(*key);
  credential.source = source;
  return credential;
}

Result<AzureCredential> ParseAzureSasToken(const std::string& text, const std::string& source) {
  std::string token = text.empty() || text[0] != '?' ? text : text.substr(1);
  if (token.empty()) return Status::InvalidArgument(source + " is empty");
  if (!IsPrintableWithoutSpace(token) || token.find('#') != std::string::npos)
    return Status::InvalidArgument(source + " contains characters a SAS token has not");
  bool has_signature = false, has_version = false;
  size_t start = 0;
  while (start <= token.size()) {
    size_t end = token.find('&', start);
    if (end == std::string::npos) end = token.size();
    std::string pair = token.substr(start, end - start);
    if (pair.rfind("sig=", 0) == 0 && pair.size() > 4) has_signature = true;
    if (pair.rfind("sv=", 0) == 0 && pair.size() > 3) has_version = true;
    start = end + 1;
  }
  if (!has_signature || !has_version)
    return Status::InvalidArgument(source +
                                   " is not a SAS token (it needs sv=… and sig=… parameters)");
  AzureCredential credential;
  credential.kind = AzureCredential::Kind::kSas;
  credential.sas = token;
  credential.source = source;
  return credential;
}

Result<AzureCredential> ParseAzureConnectionString(const std::string& text,
                                                   const std::string& source) {
  std::string protocol, account, key, sas, blob_endpoint, suffix;
  bool development = false;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    std::string field = text.substr(start, end - start);
    start = end + 1;
    if (field.empty()) continue;
    size_t equals = field.find('=');
    if (equals == std::string::npos || equals == 0)
      return Status::InvalidArgument(source +
                                     ": a field without 'name=' (fields are name=value, "
                                     "separated by ';')");
    std::string name = field.substr(0, equals);
    std::string value = field.substr(equals + 1);  // keys end with '=': split at the first
    if (SameName(name, "DefaultEndpointsProtocol")) {
      protocol = value;
      if (protocol != "https" && protocol != "http")
        return Status::InvalidArgument(source + ": DefaultEndpointsProtocol must be https or http");
    } else if (SameName(name, "AccountName")) {
      account = value;
    } else if (SameName(name, "AccountKey")) {
      key = value;
    } else if (SameName(name, "SharedAccessSignature")) {
      sas = value;
    } else if (SameName(name, "BlobEndpoint")) {
      blob_endpoint = value;
    } else if (SameName(name, "EndpointSuffix")) {
      suffix = value;
    } else if (SameName(name, "UseDevelopmentStorage")) {
      if (value != "true")
        return Status::InvalidArgument(source + ": UseDevelopmentStorage can only be true");
      development = true;
    } else if (SameName(name, "QueueEndpoint") || SameName(name, "TableEndpoint") ||
               SameName(name, "FileEndpoint") || SameName(name, "DevelopmentStorageProxyUri")) {
      // Other services of the account: not ours.
    } else {
      return Status::InvalidArgument(source + ": unknown field '" + name + "'");
    }
  }
  if (development) {
    if (!key.empty() || !sas.empty() || !account.empty())
      return Status::InvalidArgument(
          source + ": UseDevelopmentStorage=true stands alone (no AccountName, key or SAS)");
    AzureCredential credential;
    credential.kind = AzureCredential::Kind::kSharedKey;
    credential.account = kDevelopmentAccount;
    Result<Bytes> decoded = Base64Decode(kDevelopmentKey);
    credential.key = std::move(*decoded);
    credential.blob_endpoint =
        blob_endpoint.empty() ? "http://127.0.0.1:10000/devstoreaccount1" : blob_endpoint;
    credential.source = "the development-storage account of " + source;
    return credential;
  }
  if (!key.empty() && !sas.empty())
    return Status::InvalidArgument(source + ": give AccountKey or SharedAccessSignature, not both");
  if (key.empty() && sas.empty())
    return Status::InvalidArgument(source + ": no AccountKey and no SharedAccessSignature");
  if (!key.empty() && account.empty())
    return Status::InvalidArgument(source + ": an AccountKey needs its AccountName");
  AzureCredential credential;
  if (!key.empty()) {
    ASSIGN_OR_RETURN(credential, ParseAzureAccountKey(key, "the AccountKey of " + source));
  } else {
    ASSIGN_OR_RETURN(credential, ParseAzureSasToken(sas, "the SharedAccessSignature of " + source));
  }
  credential.account = account;
  if (!blob_endpoint.empty()) {
    credential.blob_endpoint = blob_endpoint;
  } else if (!account.empty()) {
    credential.blob_endpoint = (protocol.empty() ? "https" : protocol) + "://" + account +
                               ".blob." + (suffix.empty() ? "core.windows.net" : suffix);
  }
  credential.source = source;
  return credential;
}

Result<AzureCredential> LoadAzureCredential(const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* name) -> std::string {
    const char* value = getenv ? getenv(name) : std::getenv(name);
    return value ? value : "";
  };
  struct Source {
    const char* variable;
    const char* what;
    Result<AzureCredential> (*parse)(const std::string&, const std::string&);
  };
  const Source sources[] = {
      {"FERRY_AZURE_CONNECTION_STRING", "the connection string", ParseAzureConnectionString},
      {"FERRY_AZURE_ACCOUNT_KEY", "the key", ParseAzureAccountKey},
      {"FERRY_AZURE_SAS_TOKEN", "the SAS token", ParseAzureSasToken},
  };
  std::vector<std::string> set;
  for (const Source& source : sources)
    for (std::string suffix : {"", "_FILE"})
      if (!get((std::string(source.variable) + suffix).c_str()).empty())
        set.push_back(source.variable + suffix);
  if (set.empty())
    return Status::PermissionDenied(
        "no Azure credential: set FERRY_AZURE_CONNECTION_STRING, FERRY_AZURE_ACCOUNT_KEY or "
        "FERRY_AZURE_SAS_TOKEN, or the same name with _FILE for a file that holds it");
  if (set.size() > 1) {
    std::string names;
    for (const auto& name : set) names += (names.empty() ? "" : ", ") + name;
    return Status::InvalidArgument("more than one Azure credential is set (" + names +
                                   "): set only one");
  }
  for (const Source& source : sources) {
    std::string variable = source.variable;
    if (set[0] == variable)
      return source.parse(get(source.variable), std::string(source.what) + " in " + variable);
    if (set[0] == variable + "_FILE") {
      std::string path = get(set[0].c_str());
      auto contents = ReadWholeFile(path);
      if (!contents.ok())
        return contents.status().WithContext("reading " + std::string(source.what) + " from " +
                                             set[0]);
      return source.parse(TrimLineEnd(std::string(AsString(*contents))),
                          std::string(source.what) + " in the file " + path + " (" + set[0] + ")");
    }
  }
  return Status::Internal("unreachable");
}

}  // namespace ferry
