// What the MetadataStore implementations share and their callers do not
// need: how a tracking number is keyed, and the errors that both return in
// the same words (the contract tests compare them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "service/metadata_store.h"
#include "util/status.h"

namespace ferry {

// The tracking number column of a job: its normalised tracking number
// (import_job.h), null (nullopt) before it ships.
std::optional<std::string> TrackingKey(const ImportJob& job);

// AlreadyExists: the job's tracking number is another job's. It never names
// that job, which may be another machine's.
Status TrackingNumberTaken(const ImportJob& job);
// Conflict: a compare-and-swap save found another version stored.
Status JobChanged(const ImportJob& job, int64_t expected_version, int64_t stored_version);
Status SeedChanged(const SeedRecord& seed, int64_t expected_version, int64_t stored_version);
// Conflict: a seed saved as new (version 0) was created by another save first.
Status SeedCreated(const SeedRecord& seed);

// InvalidArgument for an empty name or holder, or a ttl that is not positive.
Status CheckLeaseArguments(const std::string& name, const std::string& holder, int64_t ttl_ns);
// Conflict: `lease` is another holder's and its time runs.
Status LeaseHeld(const Lease& lease);
// Conflict: `holder` no longer holds the lease (taken over or released).
Status LeaseLost(const std::string& name, const std::string& holder);

// now_ns + ttl_ns, at most INT64_MAX.
int64_t LeaseExpiry(int64_t now_ns, int64_t ttl_ns);

}  // namespace ferry
