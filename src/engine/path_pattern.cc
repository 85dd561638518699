#include "engine/path_pattern.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>

namespace ferry {

namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Go's path.Clean without the result "." for an empty path: repeated and
// trailing slashes go, "." parts go, ".." removes the part before it.
std::vector<std::string> CleanParts(const std::string& path) {
  std::vector<std::string> parts;
  bool absolute = !path.empty() && path[0] == '/';
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!absolute)
        parts.push_back(part);
      continue;
    }
    parts.push_back(part);
  }
  // restic marks an absolute path by a first part "/".
  if (absolute) parts.insert(parts.begin(), "/");
  return parts;
}

}  // namespace

PathPattern::PathPattern(const std::string& pattern, bool ignore_case)
    : text_(pattern), ignore_case_(ignore_case), match_all_(pattern.empty()) {
  for (const std::string& part : CleanParts(ignore_case ? Lower(pattern) : pattern)) {
    Part p;
    p.any_depth = part == "**";
    p.glob = p.any_depth ? "" : part;
    p.literal = part.find_first_of("\\[]*?") == std::string::npos;
    parts_.push_back(std::move(p));
  }
}

std::vector<std::string> PathPattern::Components(const std::string& path) const {
  return CleanParts(ignore_case_ ? Lower(path) : path);
}

bool PathPattern::MatchParts(const std::vector<Part>& parts,
                             const std::vector<std::string>& components) {
  auto wildcard =
      std::find_if(parts.begin(), parts.end(), [](const Part& p) { return p.any_depth; });
  if (wildcard != parts.end()) {
    // Expand "**" into 0, 1, 2, … single-component wildcards, as restic does.
    std::vector<Part> prefix(parts.begin(), wildcard);
    std::vector<Part> suffix(wildcard + 1, parts.end());
    for (size_t stars = 0; prefix.size() + stars + suffix.size() <= components.size(); ++stars) {
      std::vector<Part> expanded = prefix;
      for (size_t i = 0; i < stars; ++i) expanded.push_back({"*", false, false});
      expanded.insert(expanded.end(), suffix.begin(), suffix.end());
      if (MatchParts(expanded, components)) return true;
    }
    return false;
  }
  if (parts.empty()) return components.empty();
  if (parts.size() > components.size()) return false;
  size_t min_offset = 0;
  size_t max_offset = components.size() - parts.size();
  if (parts[0].glob == "/")
    max_offset = 0;  // anchored
  else if (!components.empty() && components[0] == "/")
    min_offset = 1;  // a relative pattern never matches the root marker
  for (size_t offset = max_offset + 1; offset-- > min_offset;) {
    bool all = true;
    for (size_t i = parts.size(); i-- > 0;) {
      const std::string& component = components[offset + i];
      bool ok = parts[i].literal ? parts[i].glob == component
                                 : fnmatch(parts[i].glob.c_str(), component.c_str(), 0) == 0;
      if (!ok) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool PathPattern::Matches(const std::string& path) const {
  if (match_all_) return true;
  return MatchParts(parts_, Components(path));
}

bool PathPattern::ChildMayMatch(const std::string& path) const {
  if (match_all_ || parts_.empty() || parts_[0].glob != "/") return true;
  std::vector<std::string> components = Components(path);
  auto wildcard =
      std::find_if(parts_.begin(), parts_.end(), [](const Part& p) { return p.any_depth; });
  size_t position = wildcard - parts_.begin();
  if (wildcard != parts_.end() && components.size() >= position) components.resize(position);
  size_t length = std::min(components.size(), parts_.size());
  std::vector<Part> prefix(parts_.begin(), parts_.begin() + length);
  return MatchParts(prefix, components);
}

}  // namespace ferry
