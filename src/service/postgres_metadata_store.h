// The MetadataStore on PostgreSQL (libpq): the state several `ferry serve`
// processes share. Each server keeps a small pool of connections; every
// operation is one statement or one transaction, so that the database, not a
// server's memory, decides which of two racing servers wins.
#pragma once

#include <memory>
#include <string>

#include "service/metadata_store.h"
#include "util/status.h"

namespace ferry {

// Connections a store opens at most: requests beyond wait for one to be free.
constexpr int kPostgresPoolSize = 8;

// Opens the database `uri` names (libpq syntax: postgresql://USER@HOST:PORT/DB
// with parameters after '?'; a password is better kept in ~/.pgpass or
// PGPASSFILE than in the URI) and migrates its schema under an advisory lock,
// so that servers starting together migrate it once.
Result<std::unique_ptr<MetadataStore>> OpenPostgresMetadataStore(const std::string& uri);

}  // namespace ferry
