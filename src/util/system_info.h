// Facts about the running system recorded in snapshots, keys and locks.
#pragma once

#include <string>

namespace ferry {

std::string HostName();
std::string UserName();
// Names for numeric IDs, empty when unknown. Cached: lookups are slow on NSS.
std::string UserNameOf(unsigned uid);
std::string GroupNameOf(unsigned gid);

}  // namespace ferry
