// S3's XML answers, parsed with expat: listing pages (ListObjectsV2), error
// documents (<Error><Code>…), and the results of multipart uploads and
// copies. Everything here comes from the network and is hostile until
// checked: a document is capped in size, depth and element count, sizes are
// parsed digit by digit, and a document whose root is not the one asked for
// is an error, not an empty answer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

// One element: its name (without a namespace prefix), its text, its children.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<XmlElement> children;

  // The first child called `name`, or nullptr.
  const XmlElement* Child(const std::string& name) const;
  // The text of the first child called `name`, or "".
  std::string ChildText(const std::string& name) const;
};

// An XML document fed piece by piece (a streamed answer) into expat.
class XmlDocument {
 public:
  // A listing page of 1000 keys is about 300 KiB; anything past the cap is
  // not an S3 answer we asked for.
  static constexpr size_t kMaxBytes = 8 << 20;

  XmlDocument();
  ~XmlDocument();
  XmlDocument(const XmlDocument&) = delete;
  XmlDocument& operator=(const XmlDocument&) = delete;

  Status Feed(ByteView piece);
  // Ends the document; then root() is the whole tree.
  Status Finish();
  const XmlElement& root() const { return root_; }

 private:
  struct Parser;
  std::unique_ptr<Parser> parser_;
  XmlElement root_;
};

// Parses a whole document.
Result<XmlElement> ParseXml(ByteView text);

// The <Error> document of a refused request: its Code and Message, both
// empty if `body` is not one (a HEAD answer has no body at all).
struct S3Error {
  std::string code;
  std::string message;
};
S3Error ParseS3Error(ByteView body);

// One page of ListObjectsV2.
struct S3ListPage {
  struct Entry {
    std::string key;
    uint64_t size = 0;
  };
  std::vector<Entry> entries;
  bool truncated = false;
  std::string next_token;  // NextContinuationToken; set when truncated
};
// Checks the page: root ListBucketResult, each Contents with a Key and a
// strictly decimal Size, at most `max_keys` entries, IsTruncated "true" or
// "false" and a token when true.
Result<S3ListPage> ParseListPage(const XmlElement& root, size_t max_keys);

// A decimal size, digits only, no sign, no overflow.
Result<uint64_t> ParseDecimal(const std::string& text, const std::string& what);

}  // namespace ferry
