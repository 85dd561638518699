#include "seed/import_job.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

constexpr int64_t kStart = 1764300000000000000;

ImportJob NewJob() {
  ImportJob job;
  job.name = "seed-nov";
  job.storage_account = "acct1";
  job.container = "seeding";
  job.public_key = "AAAA";
  job.created_ns = kStart;
  job.drives.resize(2);
  job.drives[0].drive_id = "disk-1";
  job.drives[1].drive_id = "disk-2";
  return job;
}

TEST(ImportJobTest, HappyPathThroughEveryState) {
  ImportJob job = NewJob();
  ASSERT_TRUE(ShipJob(job, {"DHL", "1234567890", "1 Main St", ""}, kStart + kDay).ok());
  EXPECT_EQ(job.state, JobState::kShipping);
  for (JobState next :
       {JobState::kReceived, JobState::kTransferring, JobState::kPackaging, JobState::kCompleted})
    ASSERT_TRUE(TransitionJob(job, next, kStart + 2 * kDay, "").ok()) << JobStateName(next);
  DriveRecord& drive = job.drives[0];
  for (DriveState next : {DriveState::kReceived, DriveState::kTransferring,
                          DriveState::kCompletedMoreInfo, DriveState::kShippedBack})
    ASSERT_TRUE(TransitionDrive(job, drive, next, kStart + 3 * kDay, "").ok())
        << DriveStateName(next);
  EXPECT_GE(job.events.size(), 9u);
}

TEST(ImportJobTest, IllegalTransitionsAreRefusedWithBothStatesNamed) {
  ImportJob job = NewJob();
  Status status = TransitionJob(job, JobState::kCompleted, kStart, "");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("Creating"), std::string::npos);
  EXPECT_NE(status.message().find("Completed"), std::string::npos);
  EXPECT_EQ(job.state, JobState::kCreating);
  // Cancelled only before shipping ends.
  ASSERT_TRUE(ShipJob(job, {"DHL", "1", "", ""}, kStart).ok());
  ASSERT_TRUE(TransitionJob(job, JobState::kReceived, kStart, "").ok());
  EXPECT_FALSE(TransitionJob(job, JobState::kCancelled, kStart, "").ok());
  // Final states stay final.
  ImportJob cancelled = NewJob();
  ASSERT_TRUE(TransitionJob(cancelled, JobState::kCancelled, kStart, "").ok());
  EXPECT_FALSE(TransitionJob(cancelled, JobState::kShipping, kStart, "").ok());
  EXPECT_FALSE(CheckDriveTransition(DriveState::kSpecified, DriveState::kCompleted).ok());
  EXPECT_FALSE(CheckDriveTransition(DriveState::kShippedBack, DriveState::kReceived).ok());
}

TEST(ImportJobTest, JobWithoutTrackingExpiresAfterFourteenDaysAndCannotShip) {
  ImportJob job = NewJob();
  EXPECT_FALSE(ApplyDeadlines(job, kStart + 13 * kDay));
  EXPECT_EQ(job.state, JobState::kCreating);
  auto warnings = DeadlineWarnings(job, kStart + 12 * kDay);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("expires in 2 day"), std::string::npos);
  EXPECT_TRUE(ApplyDeadlines(job, kStart + 14 * kDay));
  EXPECT_EQ(job.state, JobState::kExpired);
  Status shipped = ShipJob(job, {"DHL", "1", "", ""}, kStart + 15 * kDay);
  ASSERT_FALSE(shipped.ok());
  EXPECT_NE(shipped.message().find("expired"), std::string::npos);
}

TEST(ImportJobTest, DrivesNotArrivingBecomeNeverReceivedAndMayStillArrive) {
  ImportJob job = NewJob();
  ASSERT_TRUE(ShipJob(job, {"UPS", "Z1", "", ""}, kStart).ok());
  ASSERT_TRUE(TransitionDrive(job, job.drives[0], DriveState::kReceived, kStart + kDay, "").ok());
  EXPECT_TRUE(ApplyDeadlines(job, kStart + 14 * kDay));
  EXPECT_EQ(job.drives[0].state, DriveState::kReceived);
  EXPECT_EQ(job.drives[1].state, DriveState::kNeverReceived);
  EXPECT_TRUE(
      TransitionDrive(job, job.drives[1], DriveState::kReceived, kStart + 20 * kDay, "late").ok());
}

TEST(ImportJobTest, ShippingCanBeCorrectedWhileShippingOnly) {
  ImportJob job = NewJob();
  ASSERT_TRUE(ShipJob(job, {"DHL", "1", "", ""}, kStart).ok());
  ASSERT_TRUE(ShipJob(job, {"DHL", "2", "", ""}, kStart).ok());
  EXPECT_EQ(job.shipping->tracking_number, "2");
  EXPECT_FALSE(ShipJob(job, {"", "", "", ""}, kStart).ok());
  ASSERT_TRUE(TransitionJob(job, JobState::kReceived, kStart, "").ok());
  EXPECT_FALSE(ShipJob(job, {"DHL", "3", "", ""}, kStart).ok());
}

TEST(ImportJobTest, EncodingRoundTrips) {
  ImportJob job = NewJob();
  ASSERT_TRUE(ShipJob(job, {"DHL", "1234567890", "1 Main St", "acct-9"}, kStart + 5).ok());
  job.drives[1].missing = {"data/ab/abcd"};
  job.drives[1].bytes = 123;
  auto parsed = ParseImportJob(EncodeImportJob(job));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(EncodeImportJob(*parsed), EncodeImportJob(job));
  EXPECT_EQ(parsed->shipping->return_carrier_account, "acct-9");
  EXPECT_EQ(parsed->drives[1].missing, job.drives[1].missing);
  EXPECT_FALSE(ParseImportJob("{}").ok());
  EXPECT_FALSE(ParseImportJob("not json").ok());
}

}  // namespace
}  // namespace ferry
