// PathPattern: restic's path patterns (internal/filter, as `restic find` uses
// them), so that `ferry find` finds what `restic find` finds:
//
//   - a pattern is split at '/' into parts; each part is a shell glob for one
//     path component (fnmatch(3): '*', '?', '[...]', '\' escapes; '*' never
//     crosses a '/');
//   - "**" as a whole part matches any number of components, none included;
//   - a pattern starting with '/' is anchored at the root; any other pattern
//     matches wherever its parts meet consecutive components of the path
//     ("*.conf" matches /etc/a.conf, "etc/*.conf" matches /x/etc/a.conf, and
//     "etc" matches /etc and everything below it);
//   - the empty pattern matches everything.
//
// The pattern is cleaned as a path first ("a//b/./c/" is "a/b/c").
#pragma once

#include <string>
#include <vector>

namespace ferry {

class PathPattern {
 public:
  // `ignore_case`: compare both sides in lower case (ASCII), as restic's --ignore-case.
  explicit PathPattern(const std::string& pattern, bool ignore_case = false);

  // `path` is absolute ("/etc/fstab").
  bool Matches(const std::string& path) const;
  // Whether something below directory `path` may match: false lets a walk
  // skip the directory (only anchored patterns ever say so).
  bool ChildMayMatch(const std::string& path) const;

  const std::string& text() const { return text_; }

 private:
  struct Part {
    std::string glob;  // "" stands for "**"
    bool literal = false;
    bool any_depth = false;  // "**"
  };
  static bool MatchParts(const std::vector<Part>& parts,
                         const std::vector<std::string>& components);
  std::vector<std::string> Components(const std::string& path) const;

  std::string text_;
  bool ignore_case_ = false;
  bool match_all_ = false;
  std::vector<Part> parts_;
};

}  // namespace ferry
