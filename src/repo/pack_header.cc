#include "repo/pack_header.h"

#include <algorithm>

#include "crypto/hash.h"

namespace ferry {

Result<IndexedPack> ReadPackHeader(Repository& repository, const Id& pack_id, uint64_t size) {
  ObjectName object{ObjectKind::kData, pack_id.Hex()};
  if (size < kPackSaltSize + kPackTrailerSize)
    return Status::Corruption("pack is " + std::to_string(size) + " bytes, too short for a pack");
  Backend& backend = repository.backend();
  ASSIGN_OR_RETURN(Bytes salt, backend.Get(object, 0, kPackSaltSize));
  ASSIGN_OR_RETURN(Bytes trailer, backend.Get(object, size - kPackTrailerSize, kPackTrailerSize));
  ASSIGN_OR_RETURN(uint32_t header_length, ParsePackTrailer(trailer, size));
  uint64_t header_offset = size - kPackTrailerSize - header_length;
  if (header_offset < kPackSaltSize) return Status::Corruption("pack header overlaps the salt");
  ASSIGN_OR_RETURN(Bytes header, backend.Get(object, header_offset, header_length));
  IndexedPack pack;
  pack.pack_id = pack_id;
  std::copy(salt.begin(), salt.end(), pack.salt.begin());
  ASSIGN_OR_RETURN(pack.blobs, DecryptPackHeader(repository.pack_keys(), salt, header, size));
  return pack;
}

Status VerifyPackBlobs(Repository& repository, const IndexedPack& pack) {
  ASSIGN_OR_RETURN(Bytes whole, repository.backend().Get({ObjectKind::kData, pack.pack_id.Hex()}));
  if (Sha256(whole) != pack.pack_id)
    return Status::Corruption("its content does not match its name");
  Bytes pack_key = DerivePackKey(repository.keys().data, pack.salt);
  for (const PackEntry& entry : pack.blobs) {
    if (uint64_t{entry.offset} + entry.stored_length > whole.size())
      return Status::Corruption("blob " + entry.id.Hex() + " lies past the end of the pack");
    auto plain = OpenBlob(repository.pack_keys(), pack_key, repository.keys().mac, entry,
                          ByteView(whole).subspan(entry.offset, entry.stored_length));
    if (!plain.ok()) return plain.status().WithContext("blob " + entry.id.Hex());
  }
  return Status::Ok();
}

}  // namespace ferry
