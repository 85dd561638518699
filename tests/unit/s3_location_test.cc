// The "s3://" location syntax (storage/s3_location.h).
#include "storage/s3_location.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

Result<S3Location> Parse(const std::string& text) {
  auto location = ParseStorageLocation(text);
  if (!location.ok()) return location.status();
  return ParseS3Location(*location);
}

TEST(S3LocationTest, AwsIsVirtualHostedCustomEndpointsArePathStyle) {
  auto aws = Parse("s3://my-bucket/backups/host1/?region=eu-west-1");
  ASSERT_TRUE(aws.ok()) << aws.status().ToString();
  EXPECT_EQ(aws->bucket, "my-bucket");
  EXPECT_EQ(aws->prefix, "backups/host1");
  EXPECT_EQ(aws->endpoint, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_FALSE(aws->path_style);
  EXPECT_EQ(aws->ObjectUrl(aws->Key("data/ab/ab cd")),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/backups/host1/data/ab/ab%20cd");

  auto minio = Parse("s3://repo?endpoint=http://127.0.0.1:9000/");
  ASSERT_TRUE(minio.ok());
  EXPECT_EQ(minio->region, "us-east-1");
  EXPECT_TRUE(minio->path_style);
  EXPECT_EQ(minio->prefix, "");
  EXPECT_EQ(minio->ObjectUrl(minio->Key("config")), "http://127.0.0.1:9000/repo/config");
  EXPECT_EQ(minio->BucketUrl(), "http://127.0.0.1:9000/repo");
  EXPECT_EQ(minio->ToString(), "s3://repo?endpoint=http://127.0.0.1:9000&region=us-east-1");

  auto virtual_host =
      Parse("s3://repo/p?endpoint=https%3A%2F%2Fs3.example.com&addressing=virtual&region=x1");
  ASSERT_TRUE(virtual_host.ok()) << virtual_host.status().ToString();
  EXPECT_EQ(virtual_host->ObjectUrl("p/config"), "https://repo.s3.example.com/p/config");
  EXPECT_EQ(virtual_host->ToString(),
            "s3://repo/p?endpoint=https://s3.example.com&region=x1&addressing=virtual");
}

TEST(S3LocationTest, RefusesWhatIsNotALocation) {
  for (const char* text : {
           "s3://", "s3:///prefix", "s3://UpperCase", "s3://ab", "s3://bucket_name",
           "s3://bucket/a//b", "s3://bucket/../b", "s3://bucket?endpoint=ftp://host",
           "s3://bucket?endpoint=http://user:secret@host",
           "s3://bucket?endpoint=ftp://u:secret@host",
           "s3://bucket?endpoint=http%3A%2F%2Fuser%3Asecret%40host",
           "s3://bucket?endpoint=http://host/path", "s3://bucket?region=us-east-1&region=eu-west-1",
           "s3://bucket?colour=blue", "s3://bucket?addressing=dns", "s3://bucket?region",
           "s3://bucket?region=%zz",
           "s3://dotted.bucket?region=eu-west-1",  // virtual host + TLS + '.'
       }) {
    auto parsed = Parse(text);
    EXPECT_FALSE(parsed.ok()) << text;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find("s3://BUCKET"), std::string::npos)
          << parsed.status().message();
      EXPECT_EQ(parsed.status().message().find("secret"), std::string::npos)
          << parsed.status().message();
    }
  }
  EXPECT_TRUE(Parse("s3://dotted.bucket?region=eu-west-1&addressing=path").ok());
}

}  // namespace
}  // namespace ferry
