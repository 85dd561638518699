#include "util/system_info.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <mutex>
#include <unordered_map>

namespace ferry {

std::string HostName() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

std::string UserName() { return UserNameOf(::geteuid()); }

std::string UserNameOf(unsigned uid) {
  static std::mutex mutex;
  static std::unordered_map<unsigned, std::string> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(uid);
  if (it != cache.end()) return it->second;
  struct passwd pw, *result = nullptr;
  char buffer[4096];
  std::string name;
  if (::getpwuid_r(uid, &pw, buffer, sizeof buffer, &result) == 0 && result) name = pw.pw_name;
  cache.emplace(uid, name);
  return name;
}

std::string GroupNameOf(unsigned gid) {
  static std::mutex mutex;
  static std::unordered_map<unsigned, std::string> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(gid);
  if (it != cache.end()) return it->second;
  struct group gr, *result = nullptr;
  char buffer[4096];
  std::string name;
  if (::getgrgid_r(gid, &gr, buffer, sizeof buffer, &result) == 0 && result) name = gr.gr_name;
  cache.emplace(gid, name);
  return name;
}

}  // namespace ferry
