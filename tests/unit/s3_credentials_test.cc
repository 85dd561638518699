// Where S3 keys come from (storage/s3_credentials.h): the order of the
// sources, strict parsing of a shared-credentials file, and messages that
// name the source but never hold a secret.
#include "storage/s3_credentials.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "test_util.h"

namespace ferry {
namespace {

struct FakeEnvironment {
  std::map<std::string, std::string> values;
  std::function<const char*(const char*)> get() const {
    return [this](const char* name) -> const char* {
      auto found = values.find(name);
      return found == values.end() ? nullptr : found->second.c_str();
    };
  }
};

TEST(S3CredentialsTest, FerryVariablesComeFirstThenTheFileThenAws) {
  FakeEnvironment env{{{"FERRY_S3_ACCESS_KEY_ID", "FERRYKEY"},
                       {"FERRY_S3_SECRET_ACCESS_KEY", "ferry-secret"},
                       {"FERRY_S3_SESSION_TOKEN", "ferry-token"},
                       {"AWS_ACCESS_KEY_ID", "AWSKEY"},
                       {"AWS_SECRET_ACCESS_KEY", "aws-secret"}}};
  auto ferry = LoadS3Credentials(env.get());
  ASSERT_TRUE(ferry.ok()) << ferry.status().ToString();
  EXPECT_EQ(ferry->access_key_id, "FERRYKEY");
  EXPECT_EQ(ferry->session_token, "ferry-token");
  EXPECT_EQ(ferry->source, "the key in FERRY_S3_ACCESS_KEY_ID");

  env.values.erase("FERRY_S3_ACCESS_KEY_ID");
  env.values.erase("FERRY_S3_SECRET_ACCESS_KEY");
  auto aws = LoadS3Credentials(env.get());
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(aws->access_key_id, "AWSKEY");
  EXPECT_EQ(aws->secret_access_key, "aws-secret");
  EXPECT_EQ(aws->session_token, "");
  EXPECT_EQ(aws->source, "the key in AWS_ACCESS_KEY_ID");

  TempDir dir;
  std::string path = dir.path() + "/credentials";
  std::ofstream(path) << "# ferry's\n[default]\naws_access_key_id = FILEKEY\n"
                         "aws_secret_access_key=file-secret\n\n[backup]\n"
                         "aws_access_key_id=BACKUPKEY\naws_secret_access_key = backup-secret\n"
                         "aws_session_token = backup-token\nregion = eu-west-1\n";
  env.values["FERRY_S3_CREDENTIALS_FILE"] = path;
  auto file = LoadS3Credentials(env.get());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->access_key_id, "FILEKEY");
  EXPECT_EQ(file->source, "the key of profile 'default' of " + path);
  env.values["FERRY_S3_PROFILE"] = "backup";
  auto profile = LoadS3Credentials(env.get());
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(profile->access_key_id, "BACKUPKEY");
  EXPECT_EQ(profile->session_token, "backup-token");

  // Both of ferry's own sources at once: ambiguous.
  env.values["FERRY_S3_ACCESS_KEY_ID"] = "FERRYKEY";
  env.values["FERRY_S3_SECRET_ACCESS_KEY"] = "ferry-secret";
  EXPECT_FALSE(LoadS3Credentials(env.get()).ok());
}

TEST(S3CredentialsTest, HalfAPairOrNothingSaysWhatToSet) {
  FakeEnvironment env{{{"FERRY_S3_ACCESS_KEY_ID", "FERRYKEY"}}};
  auto half = LoadS3Credentials(env.get());
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("FERRY_S3_SECRET_ACCESS_KEY"), std::string::npos);
  FakeEnvironment none;
  auto nothing = LoadS3Credentials(none.get());
  ASSERT_FALSE(nothing.ok());
  EXPECT_NE(nothing.status().message().find("FERRY_S3_CREDENTIALS_FILE"), std::string::npos);
  FakeEnvironment pasted{{{"AWS_ACCESS_KEY_ID", "KEY"}, {"AWS_SECRET_ACCESS_KEY", "se cret\n"}}};
  auto broken = LoadS3Credentials(pasted.get());
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().message().find("se cret"), std::string::npos);
}

TEST(S3CredentialsTest, SharedFileParsingIsStrictAndNeverQuotesALine) {
  const std::string secret = "very-secret-value";
  struct Case {
    std::string text;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"aws_access_key_id=K\n", "before the first"},
           {"[default]\naws_secret_access_key " + secret + "\n", "line 2"},
           {"[default]\naws_access_key_id=K\n[default]\n", "twice"},
           {"[default]\naws_access_key_id=K\naws_access_key_id=L\n", "twice"},
           {"[default\n", "']'"},
           {"[default]\naws_access_key_id=K\n", "no aws_secret_access_key"},
           {"[other]\naws_access_key_id=K\naws_secret_access_key=" + secret + "\n", "other"},
       }) {
    auto parsed = ParseSharedCredentials(c.text, "default", "/etc/creds");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_NE(parsed.status().message().find(c.says), std::string::npos)
        << parsed.status().message();
    EXPECT_NE(parsed.status().message().find("/etc/creds"), std::string::npos);
    EXPECT_EQ(parsed.status().message().find(secret), std::string::npos)
        << parsed.status().message();
  }
}

}  // namespace
}  // namespace ferry
