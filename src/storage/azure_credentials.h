// Where an Azure Blob backend gets its credential: a connection string, an
// account key or a SAS token, each from an environment variable or from a
// file that variable names. A credential never comes from the command line
// or the location string, so a location can be shown anywhere.
//
// Every credential remembers its `source` ("the key in
// FERRY_AZURE_ACCOUNT_KEY"): an authentication failure names it, never the
// secret. Parsing is strict and its messages name the problem (an unknown
// connection-string field, a key that is not base64), never the value.
#pragma once

#include <functional>
#include <string>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

struct AzureCredential {
  enum class Kind { kSharedKey, kSas };
  Kind kind = Kind::kSharedKey;
  std::string account;        // from a connection string; may be empty otherwise
  Bytes key;                  // kSharedKey: the decoded account key
  std::string sas;            // kSas: the token's query, without a leading '?'
  std::string blob_endpoint;  // from a connection string; empty: not given
  std::string source;         // for messages: where the credential came from
};

// The well-known key of Azurite's (and the storage emulator's) account
// devstoreaccount1 — published, not a secret.
inline constexpr const char* kDevelopmentAccount = "devstoreaccount1";
inline constexpr const char* kDevelopmentKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// A connection string: "DefaultEndpointsProtocol=https;AccountName=…;
// AccountKey=…[;BlobEndpoint=…][;EndpointSuffix=…]", one with
// "SharedAccessSignature=…" instead of a key, or "UseDevelopmentStorage=true".
Result<AzureCredential> ParseAzureConnectionString(const std::string& text,
                                                   const std::string& source);
Result<AzureCredential> ParseAzureAccountKey(const std::string& text, const std::string& source);
Result<AzureCredential> ParseAzureSasToken(const std::string& text, const std::string& source);

// Reads the credential from the environment: FERRY_AZURE_CONNECTION_STRING,
// FERRY_AZURE_ACCOUNT_KEY or FERRY_AZURE_SAS_TOKEN, or the same names with
// _FILE (a file holding it; a trailing newline is dropped). Exactly one of
// them must be set. `getenv` is replaceable for tests.
Result<AzureCredential> LoadAzureCredential(
    const std::function<const char*(const char*)>& getenv = nullptr);

}  // namespace ferry
