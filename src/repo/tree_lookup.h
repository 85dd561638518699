// LookupPath: the node a path names in a snapshot ("/etc/fstab"), walking
// down from the root tree one component at a time (only the trees on the way
// are loaded). The root itself ("/" or "") is a directory node named "" whose
// subtree is the root tree.
#pragma once

#include <string>

#include "repo/repository.h"

namespace ferry {

// NotFound naming the first component that is missing; InvalidArgument when
// a component on the way is not a directory.
Result<Node> LookupPath(Repository& repository, const Id& root, const std::string& path);

}  // namespace ferry
