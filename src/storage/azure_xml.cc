#include "storage/azure_xml.h"

#include <expat.h>

#include "util/bytes.h"

namespace ferry {

namespace {

constexpr size_t kMaxDepth = 16;
constexpr size_t kMaxText = 4096;  // blob names are at most 1024 characters

// What the element stack of expat's callbacks has in common.
struct ElementStack {
  std::vector<std::string> path;
  std::string text;
  bool too_deep = false;
  bool too_long = false;

  bool Is(std::initializer_list<const char*> wanted) const {
    if (path.size() != wanted.size()) return false;
    size_t i = 0;
    for (const char* name : wanted)
      if (path[i++] != name) return false;
    return true;
  }
};

void StartElement(ElementStack& stack, const char* name) {
  if (stack.path.size() >= kMaxDepth) {
    stack.too_deep = true;
    return;
  }
  stack.path.push_back(name);
  stack.text.clear();
}

void AppendText(ElementStack& stack, const char* text, int length) {
  if (stack.text.size() + static_cast<size_t>(length) > kMaxText) {
    stack.too_long = true;
    return;
  }
  stack.text.append(text, static_cast<size_t>(length));
}

}  // namespace

struct AzureListParser::State {
  XML_Parser parser = nullptr;
  ElementStack stack;
  size_t max_entries = 0;
  std::vector<AzureBlobEntry> blobs;
  std::string next_marker;
  bool in_blob = false;
  bool blob_has_name = false, blob_has_size = false;
  bool saw_root = false;
  Status error;

  void Fail(Status status) {
    if (error.ok()) error = std::move(status);
    XML_StopParser(parser, XML_FALSE);
  }

  static void OnStart(void* user, const XML_Char* name, const XML_Char**) {
    auto* state = static_cast<State*>(user);
    StartElement(state->stack, name);
    if (state->stack.too_deep) return state->Fail(Status::Corruption("elements nested too deep"));
    if (state->stack.path.size() == 1) {
      if (state->stack.path[0] != "EnumerationResults")
        return state->Fail(Status::Corruption("not a listing (<" + std::string(name) + ">)"));
      state->saw_root = true;
    }
    if (state->stack.Is({"EnumerationResults", "Blobs", "Blob"})) {
      if (state->blobs.size() >= state->max_entries)
        return state->Fail(Status::Corruption("a page with more than " +
                                              std::to_string(state->max_entries) +
                                              " blobs, more than were asked for"));
      state->blobs.push_back({});
      state->in_blob = true;
      state->blob_has_name = state->blob_has_size = false;
    }
  }

  static void OnEnd(void* user, const XML_Char*) {
    auto* state = static_cast<State*>(user);
    ElementStack& stack = state->stack;
    if (stack.too_long) return state->Fail(Status::Corruption("an element's text is too long"));
    if (stack.Is({"EnumerationResults", "Blobs", "Blob", "Name"})) {
      if (stack.text.empty()) return state->Fail(Status::Corruption("a blob without a name"));
      state->blobs.back().name = stack.text;
      state->blob_has_name = true;
    } else if (stack.Is({"EnumerationResults", "Blobs", "Blob", "Properties", "Content-Length"})) {
      if (!ParseDecimalDigits(stack.text, &state->blobs.back().size))
        return state->Fail(Status::Corruption("a blob size that is not a number"));
      state->blob_has_size = true;
    } else if (stack.Is({"EnumerationResults", "Blobs", "Blob"})) {
      if (!state->blob_has_name || !state->blob_has_size)
        return state->Fail(Status::Corruption("a blob without a name or a size"));
      state->in_blob = false;
    } else if (stack.Is({"EnumerationResults", "NextMarker"})) {
      state->next_marker = stack.text;
    }
    stack.path.pop_back();
    stack.text.clear();
  }

  static void OnText(void* user, const XML_Char* text, int length) {
    AppendText(static_cast<State*>(user)->stack, text, length);
  }
};

AzureListParser::AzureListParser(size_t max_entries) : state_(new State) {
  state_->max_entries = max_entries;
  state_->parser = XML_ParserCreate("UTF-8");
  XML_SetUserData(state_->parser, state_.get());
  XML_SetElementHandler(state_->parser, State::OnStart, State::OnEnd);
  XML_SetCharacterDataHandler(state_->parser, State::OnText);
}

AzureListParser::~AzureListParser() { XML_ParserFree(state_->parser); }

Status AzureListParser::Feed(ByteView data) {
  if (!state_->error.ok()) return state_->error;
  if (XML_Parse(state_->parser, reinterpret_cast<const char*>(data.data()),
                static_cast<int>(data.size()), XML_FALSE) == XML_STATUS_ERROR) {
    if (state_->error.ok())
      state_->error = Status::Corruption(std::string("malformed XML: ") +
                                         XML_ErrorString(XML_GetErrorCode(state_->parser)));
  }
  return state_->error;
}

Status AzureListParser::Finish() {
  if (!state_->error.ok()) return state_->error;
  if (XML_Parse(state_->parser, nullptr, 0, XML_TRUE) == XML_STATUS_ERROR && state_->error.ok())
    state_->error = Status::Corruption(std::string("malformed XML: ") +
                                       XML_ErrorString(XML_GetErrorCode(state_->parser)));
  if (state_->error.ok() && !state_->saw_root)
    state_->error = Status::Corruption("an empty answer where a listing was expected");
  return state_->error;
}

const std::vector<AzureBlobEntry>& AzureListParser::blobs() const { return state_->blobs; }
const std::string& AzureListParser::next_marker() const { return state_->next_marker; }

namespace {

struct ErrorState {
  ElementStack stack;
  AzureError error;

  static void OnStart(void* user, const XML_Char* name, const XML_Char**) {
    StartElement(static_cast<ErrorState*>(user)->stack, name);
  }
  static void OnEnd(void* user, const XML_Char*) {
    auto* state = static_cast<ErrorState*>(user);
    ElementStack& stack = state->stack;
    if (stack.too_deep || stack.path.empty()) return;
    if (!stack.too_long) {
      if (stack.Is({"Error", "Code"})) state->error.code = stack.text;
      if (stack.Is({"Error", "Message"})) state->error.message = stack.text;
    }
    stack.path.pop_back();
    stack.text.clear();
    stack.too_long = false;
  }
  static void OnText(void* user, const XML_Char* text, int length) {
    AppendText(static_cast<ErrorState*>(user)->stack, text, length);
  }
};

// Keeps letters, digits and punctuation; a hostile server cannot put
// control characters or a novel into our messages.
std::string Printable(const std::string& text, size_t limit, bool first_line) {
  std::string out;
  for (char c : text) {
    if (first_line && (c == '\n' || c == '\r')) break;
    if (out.size() >= limit) break;
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  return out;
}

}  // namespace

AzureError ParseAzureError(ByteView body) {
  ErrorState state;
  XML_Parser parser = XML_ParserCreate("UTF-8");
  XML_SetUserData(parser, &state);
  XML_SetElementHandler(parser, ErrorState::OnStart, ErrorState::OnEnd);
  XML_SetCharacterDataHandler(parser, ErrorState::OnText);
  bool ok = XML_Parse(parser, reinterpret_cast<const char*>(body.data()),
                      static_cast<int>(body.size()), XML_TRUE) != XML_STATUS_ERROR;
  XML_ParserFree(parser);
  if (!ok) return {};
  AzureError error;
  // An error code is one identifier; anything else is not one.
  for (char c : state.error.code)
    if (!std::isalnum(static_cast<unsigned char>(c))) return {};
  error.code = state.error.code.substr(0, 100);
  error.message = Printable(state.error.message, 200, true);
  return error;
}

}  // namespace ferry
