// A vault's backup policy and prune reports (issue 11): the bodies the vault
// accepts (service/request_body.h) refuse what is malformed naming the field,
// the metadata store keeps one policy per vault and every prune reported, and
// a database of the schema before them gains both at open.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "repo/retention_policy.h"
#include "service/metadata_store.h"
#include "service/request_body.h"
#include "test_util.h"

namespace ferry {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

void ExpectPolicyRefused(const std::string& body, const std::string& field) {
  auto policy = ParseVaultPolicy(body);
  ASSERT_FALSE(policy.ok()) << body;
  EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument) << body;
  EXPECT_THAT(policy.status().message(), StartsWith(field)) << body;
}

TEST(VaultPolicyBodyTest, ReadsEveryRuleAndRoundTrips) {
  auto policy = ParseVaultPolicy(
      R"({"keep_last": 3, "keep_hourly": 24, "keep_daily": 7, "keep_weekly": 5,
          "keep_monthly": 12, "keep_yearly": -1, "keep_within": "10d",
          "keep_within_daily": "1m", "keep_tags": ["gold", "legal"], "prune": false,
          "updated": "ignored: unknown fields are for newer clients"})");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const RetentionRules& rules = policy->rules;
  EXPECT_EQ(rules.keep_last, 3);
  EXPECT_EQ(rules.keep[static_cast<int>(Bucket::kHour)], 24);
  EXPECT_EQ(rules.keep[static_cast<int>(Bucket::kDay)], 7);
  EXPECT_EQ(rules.keep[static_cast<int>(Bucket::kWeek)], 5);
  EXPECT_EQ(rules.keep[static_cast<int>(Bucket::kMonth)], 12);
  EXPECT_EQ(rules.keep[static_cast<int>(Bucket::kYear)], -1);
  EXPECT_EQ(rules.keep_within, "10d");
  EXPECT_EQ(rules.keep_within_bucket[static_cast<int>(Bucket::kDay)], "1m");
  EXPECT_EQ(rules.keep_tags, (std::vector<std::string>{"gold", "legal"}));
  EXPECT_FALSE(policy->prune);

  auto again = ParseVaultPolicy(EncodeVaultPolicy(*policy));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(EncodeVaultPolicy(*again), EncodeVaultPolicy(*policy));

  auto compiled = CompileRetentionRules(rules, RuleNames::kJson);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(compiled->keep_within, *ParseRetentionDuration("10d"));

  auto minimal = ParseVaultPolicy(R"({"keep_daily": 30})");
  ASSERT_TRUE(minimal.ok());
  EXPECT_TRUE(minimal->prune) << "a policy prunes unless it says otherwise";
  EXPECT_EQ(EncodeVaultPolicy(*minimal), R"({"keep_daily":30,"prune":true})");
}

TEST(VaultPolicyBodyTest, RefusesMalformedPoliciesNamingTheField) {
  ExpectPolicyRefused("not json", "the body is not JSON");
  ExpectPolicyRefused("[]", "the body is an array");
  ExpectPolicyRefused("{}", "keep_*: the policy keeps nothing");
  ExpectPolicyRefused(R"({"prune": true})", "keep_*: the policy keeps nothing");
  ExpectPolicyRefused(R"({"keep_last": "3"})", "keep_last: expected a number of snapshots");
  ExpectPolicyRefused(R"({"keep_last": -2})", "keep_last");
  ExpectPolicyRefused(R"({"keep_last": 1.5})", "keep_last");
  ExpectPolicyRefused(R"({"keep_daily": 99999999999})", "keep_daily");
  ExpectPolicyRefused(R"({"keep_weekly": null})", "keep_weekly");
  ExpectPolicyRefused(R"({"keep_within": "10x"})", "keep_within: '10x' is not a duration");
  ExpectPolicyRefused(R"({"keep_within": 10})", "keep_within: expected a string");
  ExpectPolicyRefused(R"({"keep_within_monthly": "1y", "keep_last": 1, "keep_within_hourly": "h"})",
                      "keep_within_hourly");
  ExpectPolicyRefused(R"({"keep_within": "999999y"})", "keep_within: '999999y' is longer than");
  ExpectPolicyRefused(R"({"keep_within": ")" + std::string(100, '1') + R"(d"})",
                      "keep_within: longer than 64 bytes");
  ExpectPolicyRefused(R"({"keep_tags": "gold"})", "keep_tags: expected an array");
  ExpectPolicyRefused(R"({"keep_tags": ["a\nb"]})", "keep_tags[0]: contains a control");
  ExpectPolicyRefused(R"({"keep_tags": [""]})", "keep_tags: empty tag");
  ExpectPolicyRefused(R"({"keep_last": 1, "prune": "yes"})", "prune: expected a boolean");
}

TEST(VaultPolicyBodyTest, PruneReportsNeedTheirCounts) {
  auto report = ParsePruneReportRequest(
      R"({"bytes_freed": 1000, "packs_removed": 2, "packs_repacked": 1, "bytes_repacked": 50,
          "snapshots_removed": 3})");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->bytes_freed, 1000u);
  EXPECT_EQ(report->packs_removed, 2u);
  EXPECT_EQ(report->packs_repacked, 1u);
  EXPECT_EQ(report->bytes_repacked, 50u);
  EXPECT_EQ(report->snapshots_removed, 3u);
  auto parse = [](const std::string& body) { return ParsePruneReportRequest(body); };
  for (auto [body, field] : std::vector<std::pair<std::string, std::string>>{
           {"{}", "bytes_freed: missing"},
           {R"({"bytes_freed": 1})", "packs_removed: missing"},
           {R"({"bytes_freed": -1, "packs_removed": 0})", "bytes_freed: expected a non-negative"},
           {R"({"bytes_freed": 1, "packs_removed": "2"})", "packs_removed"},
           {R"({"bytes_freed": 1, "packs_removed": 2, "bytes_repacked": 0.5})", "bytes_repacked"},
       }) {
    auto result = parse(body);
    ASSERT_FALSE(result.ok()) << body;
    EXPECT_THAT(result.status().message(), StartsWith(field)) << body;
  }
}

TEST(RetentionRulesTest, NamesTheRuleAsFlagOrField) {
  RetentionRules rules;
  rules.keep_within_bucket[static_cast<int>(Bucket::kWeek)] = "3w";
  auto as_flag = CompileRetentionRules(rules, RuleNames::kFlags);
  ASSERT_FALSE(as_flag.ok());
  EXPECT_THAT(as_flag.status().message(), StartsWith("--keep-within-weekly: '3w'"));
  auto as_field = CompileRetentionRules(rules, RuleNames::kJson);
  ASSERT_FALSE(as_field.ok());
  EXPECT_THAT(as_field.status().message(), StartsWith("keep_within_weekly: '3w'"));
  rules = RetentionRules();
  rules.keep[static_cast<int>(Bucket::kMonth)] = -3;
  EXPECT_THAT(CompileRetentionRules(rules, RuleNames::kFlags).status().message(),
              StartsWith("--keep-monthly"));
  EXPECT_TRUE(CompileRetentionRules(RetentionRules(), RuleNames::kFlags)->empty());
}

class VaultPolicyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    store_.reset();
    auto store = OpenSqliteMetadataStore(path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  std::string path() const { return dir_.path() + "/vault.db"; }
  TempDir dir_;
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(VaultPolicyStoreTest, OnePolicyPerVaultSetReplacedAndRemoved) {
  auto prod = store_->CreateVault("prod", 1);
  auto test = store_->CreateVault("test", 1);
  ASSERT_TRUE(prod.ok() && test.ok());
  EXPECT_TRUE(store_->FindVaultPolicy(prod->id).status().IsNotFound());
  EXPECT_TRUE(store_->RemoveVaultPolicy(prod->id).IsNotFound());
  ASSERT_TRUE(store_->SetVaultPolicy(prod->id, {R"({"keep_last":3})", 10}).ok());
  ASSERT_TRUE(store_->SetVaultPolicy(prod->id, {R"({"keep_last":5})", 20}).ok());
  auto policy = store_->FindVaultPolicy(prod->id);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->document, R"({"keep_last":5})");
  EXPECT_EQ(policy->updated_ns, 20);
  EXPECT_TRUE(store_->FindVaultPolicy(test->id).status().IsNotFound()) << "another vault's";
  Open();  // it is stored, not cached
  EXPECT_EQ(store_->FindVaultPolicy(prod->id)->document, R"({"keep_last":5})");
  ASSERT_TRUE(store_->RemoveVaultPolicy(prod->id).ok());
  EXPECT_TRUE(store_->FindVaultPolicy(prod->id).status().IsNotFound());
}

TEST_F(VaultPolicyStoreTest, LastPruneIsTheNewestOfTheMachine) {
  auto vault = store_->CreateVault("prod", 1);
  ASSERT_TRUE(vault.ok());
  auto m1 = store_->CreateMachine(*vault, "m1", 1);
  auto m2 = store_->CreateMachine(*vault, "m2", 1);
  ASSERT_TRUE(m1.ok() && m2.ok());
  auto none = store_->LastPrune(m1->id);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store_->AddPrune(m1->id, {200, 5000, 3, 1, 700, 4}).ok());
  ASSERT_TRUE(store_->AddPrune(m1->id, {100, 9, 1, 0, 0, 0}).ok());  // older, reported late
  ASSERT_TRUE(store_->AddPrune(m2->id, {300, 1, 1, 0, 0, 0}).ok());
  Open();
  auto last = store_->LastPrune(m1->id);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->time_ns, 200);
  EXPECT_EQ((*last)->bytes_freed, 5000u);
  EXPECT_EQ((*last)->packs_removed, 3u);
  EXPECT_EQ((*last)->packs_repacked, 1u);
  EXPECT_EQ((*last)->bytes_repacked, 700u);
  EXPECT_EQ((*last)->snapshots_removed, 4u);
  EXPECT_EQ((*store_->LastPrune(m2->id))->time_ns, 300);
}

// A vault database written before policies (schema version 1, no tables for
// them) gains them at open, keeps what it held, and records the current
// version (metadata_store_test.cc migrates a whole version 2 database).
TEST_F(VaultPolicyStoreTest, AnOlderDatabaseGainsPoliciesAtOpen) {
  store_.reset();
  std::string old_path = dir_.path() + "/old.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(old_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE vaults (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                         "created_ns INTEGER NOT NULL);"
                         "CREATE TABLE import_jobs (name TEXT PRIMARY KEY, tracking_number TEXT "
                         "UNIQUE, created_ns INTEGER NOT NULL, document TEXT NOT NULL);"
                         "CREATE TABLE seeds (machine_id INTEGER NOT NULL, job TEXT NOT NULL, "
                         "registered_ns INTEGER NOT NULL, document TEXT NOT NULL, "
                         "PRIMARY KEY (machine_id, job));"
                         "INSERT INTO vaults (name, created_ns) VALUES ('prod', 5);"
                         "PRAGMA user_version = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = OpenSqliteMetadataStore(old_path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto vault = (*store)->FindVault("prod");
  ASSERT_TRUE(vault.ok());
  EXPECT_EQ(vault->created_ns, 5);
  ASSERT_TRUE((*store)->SetVaultPolicy(vault->id, {R"({"keep_last":1})", 7}).ok());
  store->reset();
  ASSERT_EQ(sqlite3_open(old_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(statement, 0), kMetadataSchemaVersion);
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

}  // namespace
}  // namespace ferry
