// ferry_storage_list: lists the objects of one kind at a storage location,
// opened through the backend registry as ferry opens it (credentials from the
// environment), so that the e2e scripts can see what ingest, adoption and
// cleanup left in an object store they cannot read with `find`.
//
//   ferry_storage_list LOCATION KIND      one "NAME SIZE" line per object
//
// KIND is data, index, snapshots, keys or locks. Exit 1 with the error on stderr.
#include <cstdio>
#include <string>

#include "storage/backend_registry.h"

int main(int argc, char** argv) {
  using namespace ferry;
  if (argc != 3) {
    std::fprintf(stderr, "usage: ferry_storage_list LOCATION data|index|snapshots|keys|locks\n");
    return 2;
  }
  std::string kind_name = argv[2];
  ObjectKind kind = ObjectKind::kData;
  bool known = false;
  for (ObjectKind candidate : {ObjectKind::kData, ObjectKind::kIndex, ObjectKind::kSnapshot,
                               ObjectKind::kKey, ObjectKind::kLock})
    if (kind_name == ObjectKindName(candidate)) kind = candidate, known = true;
  if (!known) {
    std::fprintf(stderr, "ferry_storage_list: no object kind '%s'\n", kind_name.c_str());
    return 2;
  }
  auto backend = OpenBackend(argv[1]);
  Status status = backend.ok()
                      ? (*backend)->List(kind,
                                         [](const std::string& name, uint64_t size) {
                                           std::printf("%s %llu\n", name.c_str(),
                                                       static_cast<unsigned long long>(size));
                                           return Status::Ok();
                                         })
                      : backend.status();
  if (!status.ok()) {
    std::fprintf(stderr, "ferry_storage_list: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
