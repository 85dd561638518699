// The vault's JSON request bodies (service/request_body.h) and the import
// service's rules on job names and tracking numbers (issue 9): every malformed
// body is InvalidArgument naming the field (the vault's 400; before, wrong
// types threw inside the handlers and became 500s), a job name is scoped by
// vault and machine in the metadata store, and tracking numbers are unique
// once case and spaces are normalised.
#include "service/request_body.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/signature.h"
#include "service/metadata_store.h"
#include "test_util.h"
#include "util/bytes.h"

namespace ferry {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Key() { return Base64Encode(GenerateSigningKey().public_key); }

std::string JobBody(const std::string& drives, const std::string& key = Key()) {
  return R"({"name": "seed-nov", "storage_account": "acct1", "container": "seeding",
             "public_key": ")" +
         key + R"(", "drives": )" + drives + "}";
}

// Asserts that `body` is refused with a message starting with `field`.
template <typename Parse>
void ExpectRefused(Parse parse, const std::string& body, const std::string& field) {
  auto result = parse(body);
  ASSERT_FALSE(result.ok()) << body;
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << body;
  EXPECT_THAT(result.status().message(), StartsWith(field)) << body;
}

TEST(RequestBodyTest, CreateJobAcceptsWhatDiskprepSends) {
  std::string key = Key();
  std::string hash(64, 'a');
  auto request = ParseCreateJobRequest(
      JobBody(R"([{"drive_id": "FD-0123456789ab", "bytes": 1000, "manifest_hash": ")" + hash +
                  R"("}, {"drive_id": "d2"}])",
              key));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->name, "seed-nov");
  EXPECT_EQ(request->public_key, key);
  ASSERT_EQ(request->drives.size(), 2u);
  EXPECT_EQ(request->drives[0].drive_id, "FD-0123456789ab");
  EXPECT_EQ(request->drives[0].bytes, 1000u);
  EXPECT_EQ(request->drives[0].manifest_hash, hash);
  EXPECT_EQ(request->drives[1].bytes, 0u);
  EXPECT_TRUE(ParseCreateJobRequest(R"({"name": "j", "storage_account": "a", "container": "c",
                                        "public_key": ")" +
                                    key + "\"}")
                  .ok())
      << "drives are optional";
}

// Each of these was a 500 (a json::type_error thrown in the handler) or was
// accepted: drives "x" silently became no drives, "../../x" a drive ID that
// ends up in URLs and reports, "AAAA" a key no manifest can ever verify with.
TEST(RequestBodyTest, CreateJobRefusesMalformedBodiesNamingTheField) {
  auto parse = [](const std::string& body) { return ParseCreateJobRequest(body); };
  ExpectRefused(parse, "not json", "the body is not JSON");
  EXPECT_THAT(ParseCreateJobRequest("not json").status().message(), HasSubstr("drives"));
  ExpectRefused(parse, "[1, 2]", "the body is an array");
  ExpectRefused(parse, JobBody("\"x\""), "drives: expected an array");
  ExpectRefused(parse, JobBody("{}"), "drives: expected an array");
  ExpectRefused(parse, JobBody("[5]"), "drives[0]: expected an object");
  ExpectRefused(parse, JobBody(R"([{"bytes": 1}])"), "drives[0].drive_id: missing");
  ExpectRefused(parse, JobBody(R"([{"drive_id": 7}])"), "drives[0].drive_id: expected a string");
  ExpectRefused(parse, JobBody(R"([{"drive_id": "../../x"}])"), "drives[0].drive_id: must be");
  ExpectRefused(parse, JobBody(R"([{"drive_id": "d1"}, {"drive_id": "a/b"}])"),
                "drives[1].drive_id");
  ExpectRefused(parse, JobBody(R"([{"drive_id": "d1"}, {"drive_id": "d1"}])"),
                "drives[1].drive_id: drive d1 is listed twice");
  ExpectRefused(parse, JobBody(R"([{"drive_id": "d1", "bytes": -1}])"), "drives[0].bytes");
  ExpectRefused(parse, JobBody(R"([{"drive_id": "d1", "bytes": "1"}])"), "drives[0].bytes");
  ExpectRefused(parse, JobBody(R"([{"drive_id": "d1", "bytes": 1.5}])"), "drives[0].bytes");
  ExpectRefused(parse, JobBody(R"([{"drive_id": "d1", "manifest_hash": "zz"}])"),
                "drives[0].manifest_hash");
  ExpectRefused(parse, JobBody(R"([{"drive_id": "d1", "manifest_hash": 5}])"),
                "drives[0].manifest_hash");
  for (const std::string& key :
       std::vector<std::string>{"AAAA", "not base64!", "", std::string(100, 'A')})
    ExpectRefused(parse, JobBody("[]", key), "public_key: not an Ed25519 public key");
  ExpectRefused(parse, R"({"name": 5, "storage_account": "a", "container": "c"})", "name");
  ExpectRefused(parse, R"({"name": "j", "storage_account": null, "container": "c"})",
                "storage_account: expected a string, got null");
  ExpectRefused(parse, R"({"name": "j", "storage_account": "../a", "container": "c"})",
                "storage_account: must be");
  ExpectRefused(parse, R"({"name": "j", "storage_account": "a", "container": ["c"]})",
                "container: expected a string, got an array");
  ExpectRefused(parse, R"({"name": "j", "storage_account": "a", "container": "c"})",
                "public_key: missing");
  ExpectRefused(parse,
                R"({"name": "j", "storage_account": "a", "container": "c", "public_key": 1})",
                "public_key: expected a string");
  ExpectRefused(parse, R"({"name": "a:b", "storage_account": "a", "container": "c"})",
                "name: must be");
}

TEST(RequestBodyTest, ShipNormalisesTheTrackingNumberAndRefusesJunk) {
  auto ship = ParseShipJobRequest(
      R"({"carrier": "UPS", "tracking_number": " 1z 999\taa1 ", "return_address": "1 Main St\nTown"})");
  ASSERT_TRUE(ship.ok()) << ship.status().ToString();
  EXPECT_EQ(ship->tracking_number, "1Z999AA1");
  EXPECT_EQ(ship->return_address, "1 Main St\nTown");
  auto parse = [](const std::string& body) { return ParseShipJobRequest(body); };
  ExpectRefused(parse, R"({"tracking_number": "1"})", "carrier: missing");
  ExpectRefused(parse, R"({"carrier": "", "tracking_number": "1"})", "carrier: must be");
  ExpectRefused(parse, R"({"carrier": "DHL\nforged line", "tracking_number": "1"})",
                "carrier: contains a control character");
  ExpectRefused(parse, R"({"carrier": "DHL"})", "tracking_number: missing");
  ExpectRefused(parse, R"({"carrier": "DHL", "tracking_number": 1234})",
                "tracking_number: expected a string, got a number");
  for (const char* junk : {"\"\"", "\"   \"", "\"../x\"", "\"1Z\\u0000\""})
    ExpectRefused(parse, std::string(R"({"carrier": "DHL", "tracking_number": )") + junk + "}",
                  "tracking_number: must be");
  ExpectRefused(parse, R"({"carrier": "DHL", "tracking_number": "1", "return_address": 5})",
                "return_address: expected a string");
}

TEST(RequestBodyTest, StateAndDriveUpdatesRefuseWrongTypes) {
  auto state = ParseJobStateRequest(R"({"state": "Received", "message": "at the dock"})");
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->state, JobState::kReceived);
  auto parse_state = [](const std::string& body) { return ParseJobStateRequest(body); };
  ExpectRefused(parse_state, R"({})", "state: missing");
  ExpectRefused(parse_state, R"({"state": 3})", "state: expected a string");
  ExpectRefused(parse_state, R"({"state": "Bogus"})", "state: ");
  ExpectRefused(parse_state, R"({"state": "Received", "message": {}})", "message: expected");

  auto drive = ParseDriveUpdateRequest(
      R"({"state": "CompletedMoreInfo", "reason": "1 corrupt file", "corrupt": ["data/ab/abcd"],
          "percent_complete": 100, "bytes_succeeded": 5})");
  ASSERT_TRUE(drive.ok()) << drive.status().ToString();
  EXPECT_EQ(drive->state, DriveState::kCompletedMoreInfo);
  EXPECT_EQ(drive->percent_complete, 100);
  EXPECT_FALSE(drive->missing.has_value()) << "absent lists stay as they are";
  EXPECT_EQ(drive->corrupt, std::vector<std::string>{"data/ab/abcd"});
  auto parse_drive = [](const std::string& body) { return ParseDriveUpdateRequest(body); };
  ExpectRefused(parse_drive, R"({"percent_complete": 101})", "percent_complete: must be 0-100");
  ExpectRefused(parse_drive, R"({"percent_complete": -1})", "percent_complete: expected");
  ExpectRefused(parse_drive, R"({"bytes_succeeded": "1"})", "bytes_succeeded: expected");
  ExpectRefused(parse_drive, R"({"missing": "x"})", "missing: expected an array of strings");
  ExpectRefused(parse_drive, R"({"unexpected": ["a", 5]})", "unexpected[1]: expected a string");
  ExpectRefused(parse_drive, R"({"state": null})", "state: expected a string, got null");
  ExpectRefused(parse_drive, R"({"reason": 5})", "reason: expected a string");
}

TEST(RequestBodyTest, VaultBodiesNameTheirFields) {
  EXPECT_EQ(*ParseNameRequest(R"({"name": "prod"})", "VAULT"), "prod");
  for (const char* body : {"not json", "[]", "{}", R"({"name": 5})", R"({"name": null})"}) {
    auto name = ParseNameRequest(body, "VAULT");
    ASSERT_FALSE(name.ok()) << body;
    EXPECT_THAT(name.status().message(), HasSubstr("name")) << body;
  }
  std::string id(64, 'e');
  auto seed = ParseSeedRegistrationRequest(
      R"({"storage_account": "a", "container": "c", "since_ns": 7, "staging": "/st",
          "packs": [{"id": ")" +
      id + R"(", "size": 9}]})");
  ASSERT_TRUE(seed.ok()) << seed.status().ToString();
  EXPECT_EQ(seed->packs.size(), 1u);
  EXPECT_EQ(seed->since_ns, 7);
  EXPECT_EQ(*seed->staging, "/st");
  auto parse = [](const std::string& body) { return ParseSeedRegistrationRequest(body); };
  ExpectRefused(parse, "{}", "packs: missing");
  ExpectRefused(parse, R"({"packs": "x"})", "packs: expected an array");
  ExpectRefused(parse, R"({"packs": [{"id": "../x", "size": 1}]})", "packs[0].id");
  ExpectRefused(parse, R"({"packs": [{"id": ")" + id + R"(", "size": -1}]})", "packs[0].size");
  ExpectRefused(parse, R"({"packs": [], "storage_account": 5})", "storage_account");
  ExpectRefused(parse,
                R"({"packs": [], "storage_account": "a", "container": "c", "since_ns": 1.5})",
                "since_ns");
}

TEST(ImportJobNamesTest, TrackingNumbersAreNormalisedAndNamesQualified) {
  EXPECT_EQ(NormalizeTrackingNumber("1z 999 aa1"), "1Z999AA1");
  EXPECT_EQ(NormalizeTrackingNumber("1Z999AA1"), "1Z999AA1");
  EXPECT_EQ(QualifiedJobName("prod", "m1", "seed-nov"), "prod:m1:seed-nov");
  EXPECT_EQ(QualifiedJobName("", "", "seed-nov"), "seed-nov");
}

class ImportJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteMetadataStore(dir_.path() + "/vault.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  static ImportJob Job(const std::string& machine, const std::string& name) {
    ImportJob job;
    job.name = name;
    job.vault = "prod";
    job.machine = machine;
    job.storage_account = "acct1";
    job.container = "c";
    job.public_key = "k";
    job.created_ns = 1;
    return job;
  }
  TempDir dir_;
  std::unique_ptr<MetadataStore> store_;
};

// Before: names were global, so m2's "seed-nov" was refused with "import job
// seed-nov already exists" — m2 learnt of m1's job, and could not use the name.
TEST_F(ImportJobStoreTest, TwoMachinesMayUseTheSameJobName) {
  ASSERT_TRUE(store_->CreateImportJob(Job("m1", "seed-nov")).ok());
  ASSERT_TRUE(store_->CreateImportJob(Job("m2", "seed-nov")).ok());
  EXPECT_EQ(store_->CreateImportJob(Job("m1", "seed-nov")).code(), StatusCode::kAlreadyExists);
  auto m1 = store_->LoadImportJob("prod:m1:seed-nov");
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  EXPECT_EQ(m1->machine, "m1");
  auto m2 = store_->LoadImportJob("prod:m2:seed-nov");
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  EXPECT_EQ(m2->machine, "m2");
  EXPECT_TRUE(store_->LoadImportJob("seed-nov").status().IsNotFound());
}

// Before: "1z 999 aa1" and "1Z999AA1" were two tracking numbers, and the
// conflict message named the other machine's job.
TEST_F(ImportJobStoreTest, TrackingNumbersCollideAfterNormalisingWithoutNamingTheOtherJob) {
  ImportJob a = Job("m1", "seed-nov"), b = Job("m2", "secret-job-name");
  ASSERT_TRUE(store_->CreateImportJob(a).ok());
  ASSERT_TRUE(store_->CreateImportJob(b).ok());
  a.shipping = ShippingInfo{"UPS", "1Z999AA1", "", ""};
  ASSERT_TRUE(store_->SaveImportJob(a).ok());
  b.shipping = ShippingInfo{"UPS", "1z 999 aa1", "", ""};
  Status status = store_->SaveImportJob(b);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("another import job"));
  EXPECT_THAT(status.message(), ::testing::Not(HasSubstr("seed-nov")));
  EXPECT_THAT(status.message(), ::testing::Not(HasSubstr("m1")));
  // Re-saving its own number (a correction of the carrier) is fine.
  a.shipping->carrier = "UPS Freight";
  EXPECT_TRUE(store_->SaveImportJob(a).ok());
}

}  // namespace
}  // namespace ferry
