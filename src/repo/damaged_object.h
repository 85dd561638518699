// DamagedObject: a repository object that a reader skipped because it could
// not be authenticated or parsed (its bytes do not match its name, the AEAD
// tag fails, the plaintext is not a valid index or snapshot). Anyone who can
// write to the repository — a machine token is append-only but may still add
// objects under their correct SHA-256 names — can plant such an object, so
// one of them must never stop a reader: it is skipped, recorded as a value,
// and the caller tells the user what it costs and how to repair it.
#pragma once

#include <string>

#include "storage/backend.h"
#include "util/id.h"
#include "util/status.h"

namespace ferry {

struct DamagedObject {
  ObjectKind kind = ObjectKind::kIndex;
  Id id;
  std::string problem;  // why it was skipped, e.g. "authentication failed (…)"
};

// "index", "snapshot", "pack", … as users read them in messages. The labels
// of sealed objects are also bound into their AEAD (docs/format.md, "Sealed
// objects"): they are part of the format and never change.
std::string ObjectLabel(ObjectKind kind);

// True if `status` means that the object's bytes are damaged or forged (and
// the reader should skip it), false for errors that say nothing about the
// object (network, permissions, a newer format), which must stop the reader.
bool IsDamage(const Status& status);

// One line for the user: the object, why it was skipped, what that costs
// and the `ferry repair` verb that fixes it.
std::string DescribeSkipped(const DamagedObject& object);

}  // namespace ferry
