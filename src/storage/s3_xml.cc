#include "storage/s3_xml.h"

#include <expat.h>

#include <cstring>

#include "util/bytes.h"

namespace ferry {

namespace {

// Far beyond any S3 answer (a listing is 3 levels deep), and a bound on the
// stack of open elements a hostile server can make us keep.
constexpr size_t kMaxDepth = 32;
// A 1000-key page has about 7000 elements.
constexpr size_t kMaxElements = 100000;
constexpr size_t kMaxTextPerElement = 64 << 10;

}  // namespace

struct XmlDocument::Parser {
  XML_Parser expat = nullptr;
  XmlElement* root = nullptr;
  std::vector<XmlElement*> open;  // the path from the root to the current element
  size_t bytes = 0;
  size_t elements = 0;
  bool seen_root = false;
  Status error;

  void Fail(Status status) {
    if (error.ok()) error = std::move(status);
    XML_StopParser(expat, XML_FALSE);
  }

  static void OnStart(void* user, const XML_Char* name, const XML_Char**) {
    auto* self = static_cast<Parser*>(user);
    if (!self->error.ok()) return;
    if (++self->elements > kMaxElements)
      return self->Fail(Status::Corruption("the XML answer has over 100000 elements"));
    if (self->open.size() >= kMaxDepth)
      return self->Fail(Status::Corruption("the XML answer is nested over 32 levels deep"));
    std::string local = name;
    if (size_t colon = local.find(':'); colon != std::string::npos) local = local.substr(colon + 1);
    if (self->open.empty()) {
      if (self->seen_root) return self->Fail(Status::Corruption("the XML answer has two roots"));
      self->seen_root = true;
      self->root->name = local;
      self->open.push_back(self->root);
      return;
    }
    XmlElement& parent = *self->open.back();
    parent.children.push_back(XmlElement{local, "", {}});
    self->open.push_back(&parent.children.back());
  }

  static void OnEnd(void* user, const XML_Char*) {
    auto* self = static_cast<Parser*>(user);
    if (!self->open.empty()) self->open.pop_back();
  }

  static void OnText(void* user, const XML_Char* text, int length) {
    auto* self = static_cast<Parser*>(user);
    if (!self->error.ok() || self->open.empty()) return;
    std::string& into = self->open.back()->text;
    if (into.size() + static_cast<size_t>(length) > kMaxTextPerElement)
      return self->Fail(Status::Corruption("an element of the XML answer holds over 64 KiB"));
    into.append(text, static_cast<size_t>(length));
  }
};

XmlDocument::XmlDocument() : parser_(std::make_unique<Parser>()) {
  parser_->expat = XML_ParserCreate("UTF-8");
  parser_->root = &root_;
  XML_SetUserData(parser_->expat, parser_.get());
  XML_SetElementHandler(parser_->expat, Parser::OnStart, Parser::OnEnd);
  XML_SetCharacterDataHandler(parser_->expat, Parser::OnText);
}

XmlDocument::~XmlDocument() {
  if (parser_->expat) XML_ParserFree(parser_->expat);
}

Status XmlDocument::Feed(ByteView piece) {
  if (!parser_->expat) return Status::Internal("libexpat could not create a parser");
  RETURN_IF_ERROR(parser_->error);
  parser_->bytes += piece.size();
  if (parser_->bytes > kMaxBytes)
    return Status::Corruption("the XML answer is over " + HumanBytes(kMaxBytes));
  if (XML_Parse(parser_->expat, reinterpret_cast<const char*>(piece.data()),
                static_cast<int>(piece.size()), XML_FALSE) != XML_STATUS_OK) {
    RETURN_IF_ERROR(parser_->error);
    return Status::Corruption(std::string("the XML answer is malformed: ") +
                              XML_ErrorString(XML_GetErrorCode(parser_->expat)) + " at line " +
                              std::to_string(XML_GetCurrentLineNumber(parser_->expat)));
  }
  return Status::Ok();
}

Status XmlDocument::Finish() {
  if (!parser_->expat) return Status::Internal("libexpat could not create a parser");
  RETURN_IF_ERROR(parser_->error);
  if (XML_Parse(parser_->expat, nullptr, 0, XML_TRUE) != XML_STATUS_OK) {
    RETURN_IF_ERROR(parser_->error);
    return Status::Corruption(std::string("the XML answer is malformed: ") +
                              XML_ErrorString(XML_GetErrorCode(parser_->expat)));
  }
  if (!parser_->seen_root) return Status::Corruption("the answer holds no XML element");
  return Status::Ok();
}

const XmlElement* XmlElement::Child(const std::string& wanted) const {
  for (const XmlElement& child : children)
    if (child.name == wanted) return &child;
  return nullptr;
}

std::string XmlElement::ChildText(const std::string& wanted) const {
  const XmlElement* child = Child(wanted);
  return child ? child->text : "";
}

Result<XmlElement> ParseXml(ByteView text) {
  XmlDocument document;
  RETURN_IF_ERROR(document.Feed(text));
  RETURN_IF_ERROR(document.Finish());
  return document.root();
}

S3Error ParseS3Error(ByteView body) {
  if (body.empty()) return {};
  auto parsed = ParseXml(body);
  if (!parsed.ok() || parsed->name != "Error") return {};
  // For messages: one line, bounded, printable.
  auto clean = [](std::string text) {
    if (text.size() > 300) text = text.substr(0, 300) + "…";
    for (char& c : text)
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return text;
  };
  return {clean(parsed->ChildText("Code")), clean(parsed->ChildText("Message"))};
}

Result<uint64_t> ParseDecimal(const std::string& text, const std::string& what) {
  uint64_t value = 0;
  if (!ParseDecimalDigits(text, &value))
    return Status::Corruption(what + " '" + text.substr(0, 40) + "' is not a decimal number");
  return value;
}

Result<S3ListPage> ParseListPage(const XmlElement& root, size_t max_keys) {
  if (root.name != "ListBucketResult")
    return Status::Corruption("the listing answer is a <" + root.name.substr(0, 40) +
                              ">, not a <ListBucketResult>");
  S3ListPage page;
  for (const XmlElement& child : root.children) {
    if (child.name != "Contents") continue;
    const XmlElement* key = child.Child("Key");
    const XmlElement* size = child.Child("Size");
    if (!key || !size) return Status::Corruption("a listed object has no Key or no Size");
    ASSIGN_OR_RETURN(uint64_t bytes, ParseDecimal(size->text, "the size of " + key->text));
    page.entries.push_back({key->text, bytes});
  }
  if (page.entries.size() > max_keys)
    return Status::Corruption("the listing page holds " + std::to_string(page.entries.size()) +
                              " objects, more than the " + std::to_string(max_keys) + " asked for");
  std::string truncated = root.ChildText("IsTruncated");
  if (truncated != "true" && truncated != "false")
    return Status::Corruption("the listing's IsTruncated is '" + truncated.substr(0, 40) +
                              "', not true or false");
  page.truncated = truncated == "true";
  page.next_token = root.ChildText("NextContinuationToken");
  if (page.truncated && page.next_token.empty())
    return Status::Corruption("the listing is truncated but names no NextContinuationToken");
  return page;
}

}  // namespace ferry
