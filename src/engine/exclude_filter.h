// ExcludeFilter: decides which paths a backup skips. Patterns are shell globs
// (fnmatch): a pattern without '/' matches an entry's name anywhere in the
// tree ("*.tmp", ".cache"); a pattern with '/' matches the whole absolute path
// ("/home/*/.cache"), and a directory that matches is skipped with its contents.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace ferry {

class ExcludeFilter {
 public:
  void Add(std::string pattern);
  // Reads patterns from a file, one per line; blank lines and '#' comments skipped.
  Status AddFromFile(const std::string& path);

  bool Excluded(const std::string& path, const std::string& name) const;
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;
};

}  // namespace ferry
