// The XML answers of the Azure Blob service that ferry reads: a List Blobs
// page and an error document. Parsed with expat, streaming, and treated as
// hostile: element depth, text lengths and the number of entries per page
// are capped, sizes are parsed strictly, and anything malformed is
// Corruption rather than a guess.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

struct AzureBlobEntry {
  std::string name;  // the full blob name, prefix included
  uint64_t size = 0;
};

// One page of List Blobs (`<EnumerationResults><Blobs><Blob><Name>…`), fed
// in pieces as it arrives.
class AzureListParser {
 public:
  // A page with more than `max_entries` blobs is refused (we asked for at
  // most that many).
  explicit AzureListParser(size_t max_entries);
  ~AzureListParser();
  AzureListParser(const AzureListParser&) = delete;
  AzureListParser& operator=(const AzureListParser&) = delete;

  Status Feed(ByteView data);
  // Ends the document; fails if it was not a complete listing.
  Status Finish();

  const std::vector<AzureBlobEntry>& blobs() const;
  // Empty on the last page.
  const std::string& next_marker() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct AzureError {
  std::string code;     // "AuthenticationFailed"; empty if the body had none
  std::string message;  // its first line, printable, at most 200 characters
};

// The `<Error><Code>…</Code><Message>…</Message></Error>` of an answer;
// never fails (a body that is not such a document gives empty fields).
// The AuthenticationErrorDetail element is deliberately not read: it
// quotes the signature that was sent.
AzureError ParseAzureError(ByteView body);

}  // namespace ferry
