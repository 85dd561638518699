#include "seed/pack_copy.h"

#include "crypto/hash.h"

namespace ferry {

namespace {
Status Mismatch(Backend& from, const Id& id, const Id& actual) {
  return Status::Corruption("pack " + id.Hex() + " in " + from.Location() + " hashes to " +
                            actual.Hex() + ": its bytes are damaged");
}
}  // namespace

Result<uint64_t> CopyVerifiedPack(Backend& from, Backend& to, const Id& id,
                                  std::optional<uint64_t> expected_size) {
  ObjectName name{ObjectKind::kData, id.Hex()};
  RETURN_IF_ERROR(from.Stat(name).status());
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> writer, to.OpenWriter(name));
  Sha256Stream hash;
  uint64_t size = 0;
  auto wrong_size = [&](const std::string& how) {
    return Status::Corruption("pack " + id.Hex() + " in " + from.Location() + " is " + how +
                              " than the " + std::to_string(*expected_size) + " bytes listed");
  };
  RETURN_IF_ERROR(from.ReadStream(name, 0, Backend::kToEnd, [&](ByteView data) {
    if (expected_size && data.size() > *expected_size - size) return wrong_size("longer");
    hash.Update(data);
    size += data.size();
    return writer->Write(data);
  }));
  if (expected_size && size != *expected_size) return wrong_size("shorter");
  Id actual = hash.Finish();
  if (actual != id) return Mismatch(from, id, actual);
  RETURN_IF_ERROR(writer->Commit());
  return size;
}

Result<uint64_t> CopyVerifiedPackServerSide(Backend& from, Backend& to, const Id& id,
                                            bool* server_side) {
  if (server_side) *server_side = false;
  ObjectName name{ObjectKind::kData, id.Hex()};
  Status copied = to.CopyFrom(from, name);
  if (copied.code() == StatusCode::kUnsupported) return CopyVerifiedPack(from, to, id);
  RETURN_IF_ERROR(copied);
  auto verified = VerifyPack(to, id);
  if (verified.status().IsCorruption()) {
    Status removed = to.Remove(name);
    if (!removed.ok() && !removed.IsNotFound())
      return verified.status().WithContext("and removing the bad copy failed: " +
                                           removed.ToString());
    return Status::Corruption("pack " + id.Hex() + " in " + from.Location() +
                              " does not hash to its name (the server-side copy was removed)");
  }
  if (verified.ok() && server_side) *server_side = true;
  return verified;
}

Result<uint64_t> VerifyPack(Backend& backend, const Id& id) {
  ObjectName name{ObjectKind::kData, id.Hex()};
  Sha256Stream hash;
  uint64_t size = 0;
  RETURN_IF_ERROR(backend.ReadStream(name, 0, Backend::kToEnd, [&](ByteView data) {
    hash.Update(data);
    size += data.size();
    return Status::Ok();
  }));
  Id actual = hash.Finish();
  if (actual != id) return Mismatch(backend, id, actual);
  return size;
}

}  // namespace ferry
