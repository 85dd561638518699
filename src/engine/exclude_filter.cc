#include "engine/exclude_filter.h"

#include <fnmatch.h>

#include <fstream>

namespace ferry {

void ExcludeFilter::Add(std::string pattern) {
  while (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
  if (!pattern.empty()) patterns_.push_back(std::move(pattern));
}

Status ExcludeFilter::AddFromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read exclude file " + path);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos || line[start] == '#') continue;
    Add(line.substr(start));
  }
  return Status::Ok();
}

bool ExcludeFilter::Excluded(const std::string& path, const std::string& name) const {
  for (const std::string& pattern : patterns_) {
    bool whole_path = pattern.find('/') != std::string::npos;
    if (fnmatch(pattern.c_str(), whole_path ? path.c_str() : name.c_str(),
                whole_path ? FNM_PATHNAME : 0) == 0)
      return true;
  }
  return false;
}

}  // namespace ferry
