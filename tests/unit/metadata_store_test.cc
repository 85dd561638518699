// The MetadataStore contract, run on every implementation: SQLite (a file in
// a scratch directory) and PostgreSQL (a fresh database in the cluster of
// postgres_cluster.h). What correctness across servers rests on is checked
// with several stores (separate connections) on one database racing from
// threads: uniqueness of names and tracking numbers, compare-and-swap saves,
// leases; and schema versions with their migrations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "postgres_cluster.h"
#include "service/metadata_store.h"
#include "test_util.h"

namespace ferry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kRacers = 8;
constexpr int64_t kSecond = 1'000'000'000;

// Runs SQL on the database behind `location` with a connection of its own,
// as an operator (or an older ferry) would: for what the store cannot do.
void ExecuteRaw(const std::string& location, const std::string& sql) {
  if (IsPostgresLocation(location)) {
    PGconn* connection = PQconnectdb(location.c_str());
    ASSERT_EQ(PQstatus(connection), CONNECTION_OK) << PQerrorMessage(connection);
    PGresult* result = PQexec(connection, sql.c_str());
    EXPECT_TRUE(PQresultStatus(result) == PGRES_COMMAND_OK ||
                PQresultStatus(result) == PGRES_TUPLES_OK)
        << PQresultErrorMessage(result);
    PQclear(result);
    PQfinish(connection);
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(location.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

ImportJob Job(const std::string& machine, const std::string& name, int64_t created_ns = 1) {
  ImportJob job;
  job.name = name;
  job.vault = "prod";
  job.machine = machine;
  job.storage_account = "acct1";
  job.container = "c";
  job.public_key = "k";
  job.created_ns = created_ns;
  return job;
}

SeedRecord Seed(const std::string& job, int64_t registered_ns = 5) {
  SeedRecord seed;
  seed.job = job;
  seed.storage_account = "acct1";
  seed.container = "c";
  seed.registered_ns = registered_ns;
  Id pack;
  pack.bytes[0] = 0xab;
  seed.packs.push_back({pack, 4096});
  return seed;
}

Id TokenHash(uint8_t first) {
  Id id;
  id.bytes[0] = first;
  id.bytes[31] = 0x5a;
  return id;
}

class MetadataStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      auto cluster = PostgresCluster::Get();
      if (!cluster.ok() && cluster.status().code() == StatusCode::kUnsupported)
        GTEST_SKIP() << "PostgreSQL tests skipped: " << cluster.status().message();
      ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
      auto database = (*cluster)->CreateDatabase();
      ASSERT_TRUE(database.ok()) << database.status().ToString();
      location_ = *database;
    } else {
      location_ = dir_.path() + "/vault.db";
    }
    store_ = OpenStore();
    ASSERT_TRUE(store_);
  }

  // Another store on the same database: another connection, as another
  // server would have.
  std::unique_ptr<MetadataStore> OpenStore() {
    auto store = OpenMetadataStore(location_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::vector<std::unique_ptr<MetadataStore>> OpenStores(int count) {
    std::vector<std::unique_ptr<MetadataStore>> stores;
    for (int i = 0; i < count; ++i) stores.push_back(OpenStore());
    return stores;
  }

  // Runs `race(i, store)` on kRacers threads, each with a store of its own,
  // released together; returns how many returned OK.
  int Race(const std::function<Status(int, MetadataStore&)>& race) {
    auto stores = OpenStores(kRacers);
    std::atomic<int> ready{0}, wins{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kRacers; ++i) {
      threads.emplace_back([&, i] {
        ++ready;
        while (!go) std::this_thread::yield();
        Status status = race(i, *stores[i]);
        if (status.ok())
          ++wins;
        else
          losses_.push_back_locked(status);
      });
    }
    while (ready < kRacers) std::this_thread::yield();
    go = true;
    for (std::thread& thread : threads) thread.join();
    return wins;
  }

  // The losers' statuses of the last Race.
  struct Losses {
    std::mutex mutex;
    std::vector<Status> statuses;
    void push_back_locked(const Status& status) {
      std::lock_guard lock(mutex);
      statuses.push_back(status);
    }
  } losses_;

  TempDir dir_;
  std::string location_;
  std::unique_ptr<MetadataStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Stores, MetadataStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST_P(MetadataStoreTest, VaultsAndMachines) {
  auto prod = store_->CreateVault("prod", 10);
  ASSERT_TRUE(prod.ok()) << prod.status().ToString();
  auto archive = store_->CreateVault("archive", 11);
  ASSERT_TRUE(archive.ok());
  EXPECT_NE(prod->id, archive->id);
  EXPECT_EQ(store_->CreateVault("prod", 12).status().code(), StatusCode::kAlreadyExists);
  auto found = store_->FindVault("prod");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, prod->id);
  EXPECT_EQ(found->created_ns, 10);
  EXPECT_TRUE(store_->FindVault("nope").status().IsNotFound());
  auto vaults = store_->ListVaults();
  ASSERT_TRUE(vaults.ok());
  ASSERT_EQ(vaults->size(), 2u);
  EXPECT_EQ((*vaults)[0].name, "archive");  // by name
  EXPECT_EQ((*vaults)[1].name, "prod");

  auto m1 = store_->CreateMachine(*prod, "m1", 20);
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  EXPECT_EQ(m1->vault, "prod");
  ASSERT_TRUE(store_->CreateMachine(*archive, "m1", 21).ok()) << "the name is per vault";
  auto taken = store_->CreateMachine(*prod, "m1", 22);
  EXPECT_EQ(taken.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(taken.status().message(), HasSubstr("vault prod"));
  ASSERT_TRUE(store_->CreateMachine(*prod, "a0", 23).ok());
  auto machine = store_->FindMachine(*prod, "m1");
  ASSERT_TRUE(machine.ok());
  EXPECT_EQ(machine->id, m1->id);
  EXPECT_EQ(machine->created_ns, 20);
  EXPECT_TRUE(store_->FindMachine(*prod, "m2").status().IsNotFound());
  auto machines = store_->ListMachines(*prod);
  ASSERT_TRUE(machines.ok());
  ASSERT_EQ(machines->size(), 2u);
  EXPECT_EQ((*machines)[0].name, "a0");
  EXPECT_EQ((*machines)[1].name, "m1");
}

TEST_P(MetadataStoreTest, TokensByHashWithTheirMachine) {
  auto vault = store_->CreateVault("prod", 1);
  ASSERT_TRUE(vault.ok());
  auto machine = store_->CreateMachine(*vault, "m1", 1);
  ASSERT_TRUE(machine.ok());
  ASSERT_TRUE(store_->AddToken(TokenHash(1), TokenKind::kAdmin, std::nullopt, 1).ok());
  Status added = store_->AddToken(TokenHash(2), TokenKind::kMachine, machine->id, 1);
  ASSERT_TRUE(added.ok()) << added.ToString();
  ASSERT_TRUE(store_->AddToken(TokenHash(3), TokenKind::kMaintenance, machine->id, 1).ok());
  ASSERT_TRUE(store_->AddToken(TokenHash(4), TokenKind::kOperator, std::nullopt, 1).ok());
  EXPECT_EQ(store_->AddToken(TokenHash(1), TokenKind::kAdmin, std::nullopt, 2).code(),
            StatusCode::kAlreadyExists);

  auto admin = store_->FindToken(TokenHash(1));
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->kind, TokenKind::kAdmin);
  EXPECT_FALSE(admin->machine);
  auto agent = store_->FindToken(TokenHash(2));
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->kind, TokenKind::kMachine);
  ASSERT_TRUE(agent->machine);
  EXPECT_EQ(agent->machine->id, machine->id);
  EXPECT_EQ(agent->machine->vault, "prod");
  EXPECT_EQ(agent->machine->name, "m1");
  EXPECT_EQ(store_->FindToken(TokenHash(3))->kind, TokenKind::kMaintenance);
  EXPECT_EQ(store_->FindToken(TokenHash(4))->kind, TokenKind::kOperator);
  EXPECT_TRUE(store_->FindToken(TokenHash(9)).status().IsNotFound());
}

TEST_P(MetadataStoreTest, RecoveryPointsAndLockOwners) {
  auto vault = store_->CreateVault("prod", 1);
  auto m1 = store_->CreateMachine(*vault, "m1", 1);
  auto m2 = store_->CreateMachine(*vault, "m2", 1);
  ASSERT_TRUE(m1.ok() && m2.ok());
  ASSERT_TRUE(store_->AddRecoveryPoint(m1->id, {"snap-b", 200, 7}).ok());
  ASSERT_TRUE(store_->AddRecoveryPoint(m1->id, {"snap-a", 100, uint64_t{1} << 40}).ok());
  ASSERT_TRUE(store_->AddRecoveryPoint(m1->id, {"snap-a", 300, 9}).ok()) << "again: kept as was";
  ASSERT_TRUE(store_->AddRecoveryPoint(m2->id, {"snap-c", 50, 1}).ok());
  auto points = store_->ListRecoveryPoints(m1->id);
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 2u);
  EXPECT_EQ((*points)[0].snapshot, "snap-a");  // by time received
  EXPECT_EQ((*points)[0].received_ns, 100);
  EXPECT_EQ((*points)[0].size, uint64_t{1} << 40);
  EXPECT_EQ((*points)[1].snapshot, "snap-b");
  ASSERT_TRUE(store_->RemoveRecoveryPoint(m1->id, "snap-a").ok());
  EXPECT_EQ(store_->ListRecoveryPoints(m1->id)->size(), 1u);
  EXPECT_EQ(store_->ListRecoveryPoints(m2->id)->size(), 1u);

  EXPECT_TRUE(store_->FindLockOwner(m1->id, "lock1").status().IsNotFound());
  ASSERT_TRUE(store_->SetLockOwner(m1->id, "lock1", TokenHash(1)).ok());
  ASSERT_TRUE(store_->SetLockOwner(m1->id, "lock1", TokenHash(2)).ok());  // replaced
  auto owner = store_->FindLockOwner(m1->id, "lock1");
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(*owner, TokenHash(2));
  EXPECT_TRUE(store_->FindLockOwner(m2->id, "lock1").status().IsNotFound());
  ASSERT_TRUE(store_->RemoveLockOwner(m1->id, "lock1").ok());
  EXPECT_TRUE(store_->FindLockOwner(m1->id, "lock1").status().IsNotFound());
}

TEST_P(MetadataStoreTest, PoliciesAndPrunes) {
  auto vault = store_->CreateVault("prod", 1);
  auto machine = store_->CreateMachine(*vault, "m1", 1);
  ASSERT_TRUE(machine.ok());
  EXPECT_TRUE(store_->FindVaultPolicy(vault->id).status().IsNotFound());
  EXPECT_TRUE(store_->RemoveVaultPolicy(vault->id).IsNotFound());
  ASSERT_TRUE(store_->SetVaultPolicy(vault->id, {R"({"keep_last":3})", 10}).ok());
  ASSERT_TRUE(store_->SetVaultPolicy(vault->id, {R"({"keep_last":5})", 20}).ok());
  auto policy = OpenStore()->FindVaultPolicy(vault->id);  // stored, not cached
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->document, R"({"keep_last":5})");
  EXPECT_EQ(policy->updated_ns, 20);
  ASSERT_TRUE(store_->RemoveVaultPolicy(vault->id).ok());
  EXPECT_TRUE(store_->FindVaultPolicy(vault->id).status().IsNotFound());

  EXPECT_FALSE(store_->LastPrune(machine->id)->has_value());
  ASSERT_TRUE(store_->AddPrune(machine->id, {200, 5000, 3, 1, 700, 4}).ok());
  ASSERT_TRUE(store_->AddPrune(machine->id, {100, 9, 1, 0, 0, 0}).ok());  // older, late
  auto last = store_->LastPrune(machine->id);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->time_ns, 200);
  EXPECT_EQ((*last)->bytes_freed, 5000u);
  EXPECT_EQ((*last)->snapshots_removed, 4u);
}

TEST_P(MetadataStoreTest, ImportJobsByQualifiedNameWithUniqueTrackingNumbers) {
  ImportJob a = Job("m1", "seed-nov", 1), b = Job("m2", "secret-job-name", 2);
  ASSERT_TRUE(store_->CreateImportJob(a).ok());
  ASSERT_TRUE(store_->CreateImportJob(b).ok());
  ASSERT_TRUE(store_->CreateImportJob(Job("m2", "seed-nov", 3)).ok()) << "names are per machine";
  Status again = store_->CreateImportJob(a);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr("seed-nov already exists"));
  auto loaded = store_->LoadImportJob("prod:m1:seed-nov");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->machine, "m1");
  EXPECT_TRUE(store_->LoadImportJob("seed-nov").status().IsNotFound());
  auto jobs = store_->ListImportJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].name, "seed-nov");  // by creation
  EXPECT_EQ((*jobs)[1].name, "secret-job-name");

  a.shipping = ShippingInfo{"UPS", "1Z999AA1", "", ""};
  ASSERT_TRUE(store_->SaveImportJob(a).ok());
  b.shipping = ShippingInfo{"UPS", "1z 999 aa1", "", ""};
  Status taken = store_->SaveImportJob(b);
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(taken.message(), HasSubstr("another import job"));
  EXPECT_THAT(taken.message(), Not(HasSubstr("seed-nov")));
  EXPECT_THAT(taken.message(), Not(HasSubstr("m1")));
  ImportJob c = Job("m3", "shipped-at-creation", 4);
  c.shipping = ShippingInfo{"UPS", "1Z999 AA1", "", ""};
  EXPECT_EQ(store_->CreateImportJob(c).code(), StatusCode::kAlreadyExists);
  a.shipping->carrier = "UPS Freight";  // its own number again: fine
  EXPECT_TRUE(store_->SaveImportJob(a).ok());
  EXPECT_EQ(store_->LoadImportJob("prod:m1:seed-nov")->shipping->carrier, "UPS Freight");
  EXPECT_TRUE(store_->SaveImportJob(Job("m9", "never-created")).IsNotFound());
}

TEST_P(MetadataStoreTest, ImportJobCompareAndSwap) {
  ImportJob job = Job("m1", "seed-nov");
  ASSERT_TRUE(store_->CreateImportJob(job).ok());
  auto first = store_->LoadImportJobVersioned("prod:m1:seed-nov");
  ASSERT_TRUE(first.ok());
  auto second = OpenStore()->LoadImportJobVersioned("prod:m1:seed-nov");  // another server
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->version, second->version);

  first->value.events.push_back({10, "first"});
  auto saved = store_->SaveImportJobIfVersion(first->value, first->version);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_GT(*saved, first->version);
  second->value.events.push_back({11, "second"});
  auto lost = store_->SaveImportJobIfVersion(second->value, second->version);
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(IsConflict(lost.status())) << lost.status().ToString();
  EXPECT_THAT(lost.status().message(), HasSubstr("changed since it was read"));
  auto stored = store_->LoadImportJob("prod:m1:seed-nov");
  ASSERT_EQ(stored->events.size(), 1u);
  EXPECT_EQ(stored->events[0].message, "first") << "the losing save wrote nothing";

  // A save without a version moves the version on too.
  auto current = store_->LoadImportJobVersioned("prod:m1:seed-nov");
  ASSERT_TRUE(store_->SaveImportJob(current->value).ok());
  EXPECT_TRUE(
      IsConflict(store_->SaveImportJobIfVersion(current->value, current->version).status()));
  EXPECT_TRUE(store_->SaveImportJobIfVersion(Job("m1", "gone"), 1).status().IsNotFound());

  // UpdateImportJob applies the change again on the newer record when
  // another server saved in between.
  int calls = 0;
  auto updated = store_->UpdateImportJob("prod:m1:seed-nov", [&](ImportJob& job) {
    if (calls++ == 0) {
      auto other = OpenStore();
      auto theirs = other->LoadImportJob("prod:m1:seed-nov");
      EXPECT_TRUE(theirs.ok());
      theirs->events.push_back({20, "theirs"});
      EXPECT_TRUE(other->SaveImportJob(*theirs).ok());
    }
    job.events.push_back({21, "ours"});
    return Status::Ok();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(calls, 2);
  auto final_job = store_->LoadImportJob("prod:m1:seed-nov");
  ASSERT_EQ(final_job->events.size(), 3u);
  EXPECT_EQ(final_job->events[1].message, "theirs");
  EXPECT_EQ(final_job->events[2].message, "ours");
  // A change that refuses saves nothing.
  auto refused = store_->UpdateImportJob("prod:m1:seed-nov", [](ImportJob& job) {
    job.events.clear();
    return Status::InvalidArgument("no");
  });
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LoadImportJob("prod:m1:seed-nov")->events.size(), 3u);
}

TEST_P(MetadataStoreTest, SeedsSavedAndComparedAndSwapped) {
  auto vault = store_->CreateVault("prod", 1);
  auto m1 = store_->CreateMachine(*vault, "m1", 1);
  auto m2 = store_->CreateMachine(*vault, "m2", 1);
  ASSERT_TRUE(m1.ok() && m2.ok());
  EXPECT_TRUE(store_->LoadSeed(m1->id, "job1").status().IsNotFound());
  ASSERT_TRUE(store_->SaveSeed(m1->id, Seed("job1", 7)).ok());
  SeedRecord replaced = Seed("job1", 7);
  replaced.state = SeedState::kAdopting;
  ASSERT_TRUE(store_->SaveSeed(m1->id, replaced).ok());
  ASSERT_TRUE(store_->SaveSeed(m1->id, Seed("job0", 3)).ok());
  auto seed = store_->LoadSeed(m1->id, "job1");
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(seed->state, SeedState::kAdopting);
  ASSERT_EQ(seed->packs.size(), 1u);
  EXPECT_EQ(seed->packs[0].size, 4096u);
  EXPECT_TRUE(store_->LoadSeed(m2->id, "job1").status().IsNotFound()) << "another machine's";
  auto seeds = store_->ListSeeds(m1->id);
  ASSERT_TRUE(seeds.ok());
  ASSERT_EQ(seeds->size(), 2u);
  EXPECT_EQ((*seeds)[0].job, "job0");  // by registration

  // Version 0 creates, and only once.
  auto created = store_->SaveSeedIfVersion(m2->id, Seed("job1"), 0);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(IsConflict(OpenStore()->SaveSeedIfVersion(m2->id, Seed("job1"), 0).status()));
  auto stale = store_->LoadSeedVersioned(m2->id, "job1");
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->version, *created);
  SeedRecord adopting = stale->value;
  adopting.state = SeedState::kAdopting;
  ASSERT_TRUE(store_->SaveSeedIfVersion(m2->id, adopting, stale->version).ok());
  EXPECT_TRUE(IsConflict(store_->SaveSeedIfVersion(m2->id, stale->value, stale->version).status()));
  EXPECT_EQ(store_->LoadSeed(m2->id, "job1")->state, SeedState::kAdopting);
  EXPECT_TRUE(store_->SaveSeedIfVersion(m2->id, Seed("nope"), 4).status().IsNotFound());

  auto registered = store_->UpdateSeed(
      m2->id, "job2",
      [](SeedRecord& seed) {
        seed.storage_account = "acct2";
        return Status::Ok();
      },
      /*create=*/true);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  EXPECT_EQ(store_->LoadSeed(m2->id, "job2")->storage_account, "acct2");
  EXPECT_TRUE(store_->UpdateSeed(m2->id, "job3", [](SeedRecord&) { return Status::Ok(); })
                  .status()
                  .IsNotFound());
}

TEST_P(MetadataStoreTest, LeasesAreClaimedRenewedReleasedAndTakenOverWhenExpired) {
  const std::string name = "adopt/7/seed-nov";
  EXPECT_FALSE(store_->FindLease(name)->has_value());
  auto a = store_->ClaimLease(name, "server-a", 1000 * kSecond, 30 * kSecond);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->holder, "server-a");
  EXPECT_EQ(a->expires_ns, 1030 * kSecond);

  // Another server, while A's time runs: refused, told who holds it.
  auto other = OpenStore();
  auto b = other->ClaimLease(name, "server-b", 1010 * kSecond, 30 * kSecond);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(IsConflict(b.status()));
  EXPECT_THAT(b.status().message(), HasSubstr("held by server-a"));

  // A claims again or renews: extended, the same generation.
  auto again = store_->ClaimLease(name, "server-a", 1020 * kSecond, 30 * kSecond);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->generation, a->generation);
  auto renewed = store_->RenewLease(name, "server-a", 1040 * kSecond, 30 * kSecond);
  ASSERT_TRUE(renewed.ok()) << "a lease whose time ran out is A's until someone takes it";
  EXPECT_EQ(renewed->expires_ns, 1070 * kSecond);
  EXPECT_TRUE(IsConflict(other->RenewLease(name, "server-b", 1040 * kSecond, kSecond).status()));

  // A dies: once its time has run out, B takes it over.
  EXPECT_FALSE(other->ClaimLease(name, "server-b", 1069 * kSecond, 30 * kSecond).ok());
  auto taken = other->ClaimLease(name, "server-b", 1070 * kSecond, 30 * kSecond);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->generation, a->generation + 1) << "a new holder: the fencing token moves on";
  auto found = store_->FindLease(name);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->holder, "server-b");
  EXPECT_EQ((*found)->expires_ns, 1100 * kSecond);

  // A comes back: its renewal says the lease is lost; its release changes nothing.
  auto lost = store_->RenewLease(name, "server-a", 1071 * kSecond, 30 * kSecond);
  EXPECT_TRUE(IsConflict(lost.status()));
  EXPECT_THAT(lost.status().message(), HasSubstr("no longer held by server-a"));
  ASSERT_TRUE(store_->ReleaseLease(name, "server-a").ok());
  EXPECT_EQ((*store_->FindLease(name))->holder, "server-b");
  ASSERT_TRUE(other->ReleaseLease(name, "server-b").ok());
  EXPECT_FALSE(store_->FindLease(name)->has_value());
  EXPECT_TRUE(store_->ClaimLease(name, "server-a", 1072 * kSecond, 30 * kSecond).ok());

  EXPECT_EQ(store_->ClaimLease("", "x", 0, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ClaimLease("n", "", 0, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ClaimLease("n", "x", 0, 0).status().code(), StatusCode::kInvalidArgument);
}

// --- Racing writers: exactly one wins ----------------------------------------

TEST_P(MetadataStoreTest, ConcurrentCreatesOfOneNameHaveOneWinner) {
  EXPECT_EQ(
      Race([](int, MetadataStore& store) { return store.CreateVault("contested", 1).status(); }),
      1);
  for (const Status& status : losses_.statuses)
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  losses_.statuses.clear();
  auto vault = store_->FindVault("contested");
  ASSERT_TRUE(vault.ok());
  EXPECT_EQ(Race([&](int, MetadataStore& store) {
              return store.CreateMachine(*vault, "m1", 1).status();
            }),
            1);
  losses_.statuses.clear();
  EXPECT_EQ(
      Race([](int, MetadataStore& store) { return store.CreateImportJob(Job("m1", "seed-nov")); }),
      1);
  for (const Status& status : losses_.statuses)
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_EQ(store_->ListVaults()->size(), 1u);
  EXPECT_EQ(store_->ListImportJobs()->size(), 1u);
}

// `job ship` with one tracking number for different jobs on different
// servers: one job gets it, the others are told it belongs to another job.
TEST_P(MetadataStoreTest, ConcurrentShipmentsWithOneTrackingNumberHaveOneWinner) {
  for (int i = 0; i < kRacers; ++i)
    ASSERT_TRUE(store_->CreateImportJob(Job("m" + std::to_string(i), "seed", i)).ok());
  EXPECT_EQ(Race([](int i, MetadataStore& store) {
              return store
                  .UpdateImportJob("prod:m" + std::to_string(i) + ":seed",
                                   [&](ImportJob& job) {
                                     job.shipping = ShippingInfo{"UPS", "1Z 42", "", ""};
                                     return Status::Ok();
                                   })
                  .status();
            }),
            1);
  for (const Status& status : losses_.statuses) {
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
    EXPECT_THAT(status.message(), HasSubstr("another import job"));
  }
  int shipped = 0;
  auto jobs = store_->ListImportJobs();
  ASSERT_TRUE(jobs.ok());
  for (const ImportJob& job : *jobs) shipped += job.shipping.has_value();
  EXPECT_EQ(shipped, 1);
}

// Read-modify-write from every server at once loses no change.
TEST_P(MetadataStoreTest, ConcurrentUpdatesOfOneRecordLoseNothing) {
  ASSERT_TRUE(store_->CreateImportJob(Job("m1", "seed-nov")).ok());
  auto vault = store_->CreateVault("prod", 1);
  auto machine = store_->CreateMachine(*vault, "m1", 1);
  ASSERT_TRUE(machine.ok());
  EXPECT_EQ(Race([&](int i, MetadataStore& store) {
              Status job = store
                               .UpdateImportJob("prod:m1:seed-nov",
                                                [&](ImportJob& job) {
                                                  job.events.push_back({i, std::to_string(i)});
                                                  return Status::Ok();
                                                })
                               .status();
              if (!job.ok()) return job;
              return store
                  .UpdateSeed(
                      machine->id, "seed-nov",
                      [&](SeedRecord& seed) {
                        Id pack;
                        pack.bytes[0] = static_cast<uint8_t>(i);
                        AddSeedPacks(seed, {{pack, 1}});
                        return Status::Ok();
                      },
                      /*create=*/true)
                  .status();
            }),
            kRacers);
  EXPECT_EQ(store_->LoadImportJob("prod:m1:seed-nov")->events.size(), size_t{kRacers});
  EXPECT_EQ(store_->LoadSeed(machine->id, "seed-nov")->packs.size(), size_t{kRacers});
}

TEST_P(MetadataStoreTest, ConcurrentLeaseClaimsHaveOneWinner) {
  EXPECT_EQ(Race([](int i, MetadataStore& store) {
              return store
                  .ClaimLease("adopt/1/seed", "server-" + std::to_string(i), kSecond, 60 * kSecond)
                  .status();
            }),
            1);
  for (const Status& status : losses_.statuses)
    EXPECT_TRUE(IsConflict(status)) << status.ToString();
  losses_.statuses.clear();
  // Its time has run out: again exactly one of the others takes it over.
  std::string first = (*store_->FindLease("adopt/1/seed"))->holder;
  EXPECT_EQ(Race([](int i, MetadataStore& store) {
              return store
                  .ClaimLease("adopt/1/seed", "late-" + std::to_string(i), 61 * kSecond,
                              60 * kSecond)
                  .status();
            }),
            1);
  auto now = store_->FindLease("adopt/1/seed");
  EXPECT_NE((*now)->holder, first);
  EXPECT_EQ((*now)->generation, 2);
}

// --- Schema versions -------------------------------------------------------------

TEST_P(MetadataStoreTest, SchemaIsCurrentAndReopeningChangesNothing) {
  EXPECT_EQ(*store_->SchemaVersion(), kMetadataSchemaVersion);
  ASSERT_TRUE(store_->CreateVault("prod", 1).ok());
  store_.reset();
  store_ = OpenStore();
  ASSERT_TRUE(store_);
  EXPECT_EQ(*store_->SchemaVersion(), kMetadataSchemaVersion);
  EXPECT_TRUE(store_->FindVault("prod").ok());
}

// Servers starting together on an empty database migrate it once.
TEST_P(MetadataStoreTest, ServersOpeningAFreshDatabaseTogetherMigrateItOnce) {
  if (GetParam() == "postgres") {
    auto database = (*PostgresCluster::Get())->CreateDatabase();
    ASSERT_TRUE(database.ok());
    location_ = *database;
  } else {
    location_ = dir_.path() + "/fresh.db";
  }
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < kRacers; ++i)
    threads.emplace_back([&] {
      auto store = OpenMetadataStore(location_);
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      if (store.ok() && (*store)->SchemaVersion().value() == kMetadataSchemaVersion) ++opened;
    });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(opened, kRacers);
}

// A database a newer ferry migrated further is refused, not written to.
TEST_P(MetadataStoreTest, ANewerSchemaIsRefused) {
  store_.reset();
  ExecuteRaw(location_, GetParam() == "postgres" ? "UPDATE ferry_schema_version SET version = 99"
                                                 : "PRAGMA user_version = 99");
  auto store = OpenMetadataStore(location_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 99, newer than this ferry's"));
}

// --- PostgreSQL only ---------------------------------------------------------------

// The database ended the store's idle connections (a restart, an operator's
// pg_terminate_backend): the next operation gets a new connection instead
// of an error.
TEST(PostgresMetadataStoreTest, ConnectionsTheServerEndedAreReplaced) {
  auto cluster = PostgresCluster::Get();
  if (!cluster.ok() && cluster.status().code() == StatusCode::kUnsupported)
    GTEST_SKIP() << "PostgreSQL tests skipped: " << cluster.status().message();
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  auto database = (*cluster)->CreateDatabase();
  ASSERT_TRUE(database.ok());
  auto store = OpenMetadataStore(*database);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->CreateVault("prod", 1).ok());  // a connection now idles in the pool

  PGconn* admin = PQconnectdb(database->c_str());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK);
  auto others = [&] {
    PGresult* result = PQexec(admin,
                              "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                              "current_database() AND pid <> pg_backend_pid()");
    int count =
        PQresultStatus(result) == PGRES_TUPLES_OK ? std::atoi(PQgetvalue(result, 0, 0)) : -1;
    PQclear(result);
    return count;
  };
  ASSERT_GE(others(), 1);
  PQclear(PQexec(admin,
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                 "current_database() AND pid <> pg_backend_pid()"));
  while (others() != 0) std::this_thread::yield();  // until the backends have gone
  PQfinish(admin);

  auto vault = (*store)->FindVault("prod");
  EXPECT_TRUE(vault.ok()) << vault.status().ToString();
  EXPECT_TRUE((*store)->CreateVault("test", 2).ok());
}

// --- Opening -----------------------------------------------------------------------

TEST(MetadataStoreOpenTest, LocationsPickTheImplementation) {
  EXPECT_TRUE(IsPostgresLocation("postgresql://ferry@db/ferry"));
  EXPECT_TRUE(IsPostgresLocation("postgres://db"));
  EXPECT_FALSE(IsPostgresLocation("/var/lib/ferry/vault.db"));
  EXPECT_FALSE(IsPostgresLocation("postgresql.db"));
  TempDir dir;
  auto store = OpenMetadataStore(dir.path() + "/vault.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/vault.db"));
  EXPECT_EQ(OpenMetadataStore("").status().code(), StatusCode::kInvalidArgument);
}

TEST(MetadataStoreOpenTest, PasswordsNeverAppearInMessages) {
  EXPECT_EQ(RedactDatabaseLocation("postgresql://ferry:s3cret@db:5432/ferry"),
            "postgresql://ferry:***@db:5432/ferry");
  EXPECT_EQ(RedactDatabaseLocation("postgresql://ferry:p@ss@db/ferry"),
            "postgresql://ferry:***@db/ferry");
  EXPECT_EQ(RedactDatabaseLocation("postgresql://ferry@db/ferry?password=s3cret&sslmode=require"),
            "postgresql://ferry@db/ferry?password=***&sslmode=require");
  EXPECT_EQ(RedactDatabaseLocation("postgresql://db/ferry"), "postgresql://db/ferry");
  EXPECT_EQ(RedactDatabaseLocation("/var/lib/ferry/vault.db"), "/var/lib/ferry/vault.db");

  // A server that is not there: the message names it (without the password)
  // and says what to check.
  auto store = OpenMetadataStore("postgresql://ferry:s3cret@127.0.0.1:1/ferry?connect_timeout=5");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("postgresql://ferry:***@127.0.0.1:1/ferry"));
  EXPECT_THAT(store.status().message(), HasSubstr("is PostgreSQL running there"));
  EXPECT_THAT(store.status().message(), Not(HasSubstr("s3cret")));
}

// A vault database as `ferry serve` wrote it before schema version 3
// (tests/fixtures/vault-db-v2.sql, dumped from a running vault: a vault, a
// machine with tokens, a backup's recovery point and lock owner, an import
// job with a tracking number, a seed, a policy, a prune). It opens, keeps
// every row, and gains versions and leases.
TEST(MetadataStoreMigrationTest, AVersion2DatabaseFromTheCurrentServerIsMigrated) {
  TempDir dir;
  std::string path = dir.path() + "/vault.db";
  std::ifstream dump(FERRY_FIXTURES_DIR "/vault-db-v2.sql");
  ASSERT_TRUE(dump) << "missing fixture " FERRY_FIXTURES_DIR "/vault-db-v2.sql";
  std::stringstream sql;
  sql << dump.rdbuf();
  ExecuteRaw(path, sql.str());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(statement, 0), 2) << "the fixture is a version 2 database";
    sqlite3_finalize(statement);
    sqlite3_close(db);
  }
  auto opened = OpenSqliteMetadataStore(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  MetadataStore& store = **opened;
  EXPECT_EQ(*store.SchemaVersion(), kMetadataSchemaVersion);

  auto vault = store.FindVault("prod");
  ASSERT_TRUE(vault.ok());
  auto machine = store.FindMachine(*vault, "fs01");
  ASSERT_TRUE(machine.ok());
  auto points = store.ListRecoveryPoints(machine->id);
  ASSERT_TRUE(points.ok());
  EXPECT_EQ(points->size(), 1u);
  EXPECT_TRUE(store.FindVaultPolicy(vault->id).ok());
  EXPECT_TRUE(store.LastPrune(machine->id)->has_value());

  auto job = store.LoadImportJobVersioned("prod:fs01:seed-nov");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->version, 1) << "rows from before versions are version 1";
  ASSERT_TRUE(job->value.shipping.has_value());
  ImportJob other = Job("fs02", "copycat");
  ASSERT_TRUE(store.CreateImportJob(other).ok());
  other.shipping = job->value.shipping;
  EXPECT_EQ(store.SaveImportJob(other).code(), StatusCode::kAlreadyExists)
      << "the old job's tracking number is still unique";
  job->value.events.push_back({1, "migrated"});
  EXPECT_TRUE(store.SaveImportJobIfVersion(job->value, 1).ok());

  auto seeds = store.ListSeeds(machine->id);
  ASSERT_TRUE(seeds.ok());
  ASSERT_EQ(seeds->size(), 1u);
  auto seed = store.LoadSeedVersioned(machine->id, (*seeds)[0].job);
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(seed->version, 1);
  EXPECT_FALSE(seed->value.packs.empty());
  EXPECT_TRUE(store.ClaimLease("adopt", "server-a", 1, kSecond).ok());
  opened->reset();

  // The tokens still admit their machine: read back by hash with the raw
  // database (the fixture's tokens are in no file here).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT hex(hash) FROM tokens WHERE kind = 'machine'", -1,
                               &statement, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  std::string hex = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  sqlite3_finalize(statement);
  sqlite3_close(db);
  auto reopened = OpenSqliteMetadataStore(path);
  ASSERT_TRUE(reopened.ok());
  std::string lower;
  for (char c : hex) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto token = (*reopened)->FindToken(*Id::FromHex(lower));
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(token->machine);
  EXPECT_EQ(token->machine->name, "fs01");
}

// A migration that fails midway leaves the database as it was: here the
// version 3 step meets a table it would create.
TEST(MetadataStoreMigrationTest, AFailedMigrationChangesNothing) {
  TempDir dir;
  std::string path = dir.path() + "/vault.db";
  {
    auto store = OpenSqliteMetadataStore(path);
    ASSERT_TRUE(store.ok());
  }
  ExecuteRaw(path,
             "ALTER TABLE import_jobs DROP COLUMN version; ALTER TABLE seeds DROP COLUMN version; "
             "DROP TABLE leases; CREATE TABLE leases (x); PRAGMA user_version = 2;");
  auto store = OpenSqliteMetadataStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("migrate the schema to version 3"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(statement, 0), 2);
  sqlite3_finalize(statement);
  // The version column the failed step added first was rolled back too.
  EXPECT_NE(sqlite3_prepare_v2(db, "SELECT version FROM import_jobs", -1, &statement, nullptr),
            SQLITE_OK);
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

}  // namespace
}  // namespace ferry
