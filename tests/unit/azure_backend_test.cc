// The Azure Blob backend: its signer, credential and location parsing, its
// XML readers, and the backend itself against a real Azurite (the azurite
// CTest fixture, tests/servers/azurite.sh, starts one and writes its
// endpoint and key to FERRY_AZURITE_ENV).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "backend_contract.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "storage/azure_blob_backend.h"
#include "storage/azure_credentials.h"
#include "storage/azure_shared_key.h"
#include "storage/azure_xml.h"
#include "storage/backend_registry.h"
#include "storage/retry_backend.h"
#include "test_util.h"

namespace ferry {
namespace {

const std::string kDevKey = kDevelopmentKey;

// --- SharedKey -------------------------------------------------------------

TransportRequest KnownRequest() {
  TransportRequest request;
  request.method = "PUT";
  request.url =
      "http://127.0.0.1:10000/devstoreaccount1/ferry/odd%20name/100%25/data/ab/"
      "abc?comp=block&blockid=QUJD%3D";
  request.SetHeader("x-ms-version", "2021-08-06");
  request.SetHeader("X-Ms-Date", "Wed, 02 Dec 2026 17:26:31 GMT");
  request.SetHeader("x-ms-blob-type", " BlockBlob ");
  request.SetHeader("If-None-Match", "*");
  static const std::string body = "hello";
  request.body = AsBytes(body);
  return request;
}

TEST(AzureSharedKeyTest, StringToSignIsCanonical) {
  auto text = SharedKeyStringToSign(KnownRequest(), "devstoreaccount1");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  // x-ms-* names lower-case and sorted, values trimmed; the path as sent
  // (path-style: the account twice); query parameters sorted and decoded.
  EXPECT_EQ(*text,
            "PUT\n\n\n5\n\n\n\n\n\n*\n\n\n"
            "x-ms-blob-type:BlockBlob\n"
            "x-ms-date:Wed, 02 Dec 2026 17:26:31 GMT\n"
            "x-ms-version:2021-08-06\n"
            "/devstoreaccount1/devstoreaccount1/ferry/odd%20name/100%25/data/ab/abc\n"
            "blockid:QUJD=\n"
            "comp:block");
}

TEST(AzureSharedKeyTest, SignatureMatchesOpenssl) {
  // The expected value, computed independently of this code:
  //   printf 'PUT\n\n\n5\n\n\n\n\n\n*\n\n\nx-ms-blob-type:BlockBlob\nx-ms-date:Wed, 02 Dec 2026
  //   17:26:31 GMT\nx-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/ferry/odd%%20name/
  //   100%%25/data/ab/abc\nblockid:QUJD=\ncomp:block' > sts.txt
  //   openssl dgst -sha256 -mac HMAC -macopt hexkey:$(echo -n KEY | base64 -d | xxd -p -c 256)
  //     -binary sts.txt | base64
  auto text = SharedKeyStringToSign(KnownRequest(), "devstoreaccount1");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(AzureSignature(*Base64Decode(kDevKey), *text),
            "bsfIODAHHQ9r6yNp1DS+3x/x9VuMT/cWGYTC0aCGHco=");
}

TEST(AzureSharedKeyTest, EmptyBodyHasEmptyContentLengthAndMultiValuedParametersJoin) {
  TransportRequest request;
  request.method = "GET";
  request.url =
      "https://acct.blob.core.windows.net/c?restype=container&comp=list&Include=b&include=a";
  request.SetHeader("x-ms-date", "d");
  auto text = SharedKeyStringToSign(request, "acct");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:d\n/acct/c\ncomp:list\ninclude:a,b\nrestype:"
            "container");
}

TEST(AzureSharedKeyTest, HttpDateIsRfc1123) {
  EXPECT_EQ(HttpDate(1796232391), "Wed, 02 Dec 2026 17:26:31 GMT");
  EXPECT_EQ(HttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

// --- credentials -----------------------------------------------------------

TEST(AzureCredentialsTest, ConnectionString) {
  auto credential = ParseAzureConnectionString(
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + kDevKey +
          ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
      "the connection string in X");
  ASSERT_TRUE(credential.ok()) << credential.status().ToString();
  EXPECT_EQ(credential->kind, AzureCredential::Kind::kSharedKey);
  EXPECT_EQ(credential->account, "devstoreaccount1");
  EXPECT_EQ(credential->key, *Base64Decode(kDevKey));
  EXPECT_EQ(credential->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");

  auto derived = ParseAzureConnectionString(
      "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=" + kDevKey +
          ";EndpointSuffix=core.chinacloudapi.cn",
      "s");
  ASSERT_TRUE(derived.ok());
  EXPECT_EQ(derived->blob_endpoint, "https://acct1.blob.core.chinacloudapi.cn");

  auto development = ParseAzureConnectionString("UseDevelopmentStorage=true", "s");
  ASSERT_TRUE(development.ok());
  EXPECT_EQ(development->account, "devstoreaccount1");
  EXPECT_EQ(development->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");

  auto sas = ParseAzureConnectionString(
      "BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=2021-08-06&sig=abc",
      "s");
  ASSERT_TRUE(sas.ok()) << sas.status().ToString();
  EXPECT_EQ(sas->kind, AzureCredential::Kind::kSas);
  EXPECT_EQ(sas->sas, "sv=2021-08-06&sig=abc");
}

TEST(AzureCredentialsTest, StrictParsingNamesTheProblemNotTheSecret) {
  const std::string secret = "c2VjcmV0IHRoYXQgbXVzdCBub3QgYmUgc2hvd24h";
  struct Case {
    std::string text;
    std::string expected;
  } cases[] = {
      {"AccountName=a;AccountKey=" + secret + ";Colour=blue", "unknown field 'Colour'"},
      {"AccountName=a;AccountKey=not base64 " + secret, "spaces"},
      {"AccountName=a;AccountKey=%%%" + secret + "%%%", "not an account key"},
      {"AccountKey=" + secret, "needs its AccountName"},
      {"AccountName=a", "no AccountKey"},
      {"AccountName=a;AccountKey=" + secret + ";SharedAccessSignature=sv=1&sig=" + secret,
       "not both"},
      {"UseDevelopmentStorage=false", "can only be true"},
      {"DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=" + secret, "https or http"},
      {"just-a-secret-" + secret, "without 'name='"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseAzureConnectionString(c.text, "the connection string in VAR");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_NE(parsed.status().message().find(c.expected), std::string::npos)
        << parsed.status().message();
    EXPECT_NE(parsed.status().message().find("VAR"), std::string::npos);
    EXPECT_EQ(parsed.status().message().find(secret), std::string::npos)
        << parsed.status().message();
  }
  auto sas = ParseAzureSasToken("?sv=2021-08-06&sp=r", "the SAS token in FERRY_AZURE_SAS_TOKEN");
  ASSERT_FALSE(sas.ok());
  EXPECT_NE(sas.status().message().find("sig="), std::string::npos);
}

TEST(AzureCredentialsTest, ExactlyOneSourceFromEnvironmentOrFile) {
  TempDir dir;
  std::string key_file = dir.path() + "/key";
  std::ofstream(key_file) << kDevKey << "\n";
  std::map<std::string, std::string> environment;
  auto getenv = [&](const char* name) -> const char* {
    auto found = environment.find(name);
    return found == environment.end() ? nullptr : found->second.c_str();
  };
  auto none = LoadAzureCredential(getenv);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("FERRY_AZURE_ACCOUNT_KEY"), std::string::npos);

  environment["FERRY_AZURE_ACCOUNT_KEY_FILE"] = key_file;
  auto from_file = LoadAzureCredential(getenv);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->key, *Base64Decode(kDevKey));  // the newline is not part of the key
  EXPECT_NE(from_file->source.find(key_file), std::string::npos);
  EXPECT_NE(from_file->source.find("FERRY_AZURE_ACCOUNT_KEY_FILE"), std::string::npos);

  environment["FERRY_AZURE_SAS_TOKEN"] = "sv=2021-08-06&sig=x";
  auto both = LoadAzureCredential(getenv);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("only one"), std::string::npos);

  environment.clear();
  environment["FERRY_AZURE_ACCOUNT_KEY"] = kDevKey;
  auto from_variable = LoadAzureCredential(getenv);
  ASSERT_TRUE(from_variable.ok());
  EXPECT_EQ(from_variable->source, "the key in FERRY_AZURE_ACCOUNT_KEY");

  environment.clear();
  environment["FERRY_AZURE_CONNECTION_STRING_FILE"] = dir.path() + "/missing";
  auto missing = LoadAzureCredential(getenv);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("FERRY_AZURE_CONNECTION_STRING_FILE"),
            std::string::npos);
}

// --- locations -------------------------------------------------------------

TEST(AzureLocationTest, ParsesContainerPrefixAccountEndpoint) {
  auto location = ParseAzureBlobLocation(
      "vault-data/machines/m 1/?account=acct1&endpoint=http%3A%2F%2F127.0.0.1%3A10000%2Fdev%2F");
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  EXPECT_EQ(location->container, "vault-data");
  EXPECT_EQ(location->prefix, "machines/m 1");
  EXPECT_EQ(location->account, "acct1");
  EXPECT_EQ(location->endpoint, "http://127.0.0.1:10000/dev");

  auto plain =
      ParseAzureBlobLocation("c01?account=acct1&endpoint=http://127.0.0.1:1/devstoreaccount1");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->prefix, "");
  EXPECT_EQ(plain->endpoint, "http://127.0.0.1:1/devstoreaccount1");

  for (const char* bad :
       {"C?account=acct1", "ab?account=acct1", "a--b?account=acct1", "-ab?account=acct1",
        "abc/x//y?account=acct1", "abc/../y?account=acct1", "abc?account=A", "abc?acount=acct1",
        "abc?account=acct1&account=acct2", "abc?account=acct1&endpoint=ftp://x",
        "abc?account=acct1&endpoint=https://user:pw@host", "abc?account=acct1&endpoint=%zz"}) {
    EXPECT_FALSE(ParseAzureBlobLocation(bad).ok()) << bad;
  }
}

TEST(AzureLocationTest, LocationShowsNoSecret) {
  auto location = ParseAzureBlobLocation("backups/host1?account=acct1");
  ASSERT_TRUE(location.ok());
  AzureCredential credential = *ParseAzureAccountKey(kDevKey, "the key in K");
  auto backend = AzureBlobBackend::Open(*location, credential);
  ASSERT_TRUE(backend.ok());
  EXPECT_EQ((*backend)->Location(), "azure://backups/host1?account=acct1");
  EXPECT_EQ((*backend)->BlobUrl({ObjectKind::kSnapshot, std::string(64, 'a')}),
            "https://acct1.blob.core.windows.net/backups/host1/snapshots/" + std::string(64, 'a'));
  AzureCredential sas = *ParseAzureSasToken("sv=2021-08-06&sig=SECRET", "the SAS token in S");
  auto with_sas = AzureBlobBackend::Open(*location, sas);
  ASSERT_TRUE(with_sas.ok());
  EXPECT_EQ((*with_sas)->Location().find("SECRET"), std::string::npos);

  AzureCredential other = *ParseAzureConnectionString("AccountName=acct2;AccountKey=" + kDevKey,
                                                      "the connection string in C");
  auto mismatch = AzureBlobBackend::Open(*location, other);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("acct2"), std::string::npos);
}

// --- XML -------------------------------------------------------------------

TEST(AzureXmlTest, ListPage) {
  std::string page =
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
      "ServiceEndpoint=\"http://x/\" ContainerName=\"c\"><Prefix>p/</Prefix><MaxResults>2"
      "</MaxResults><Blobs><Blob><Name>p/a &amp; b</Name><Properties><Content-Length>12"
      "</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob><Blob><Name>p/c</Name>"
      "<Properties><Content-Length>0</Content-Length></Properties><Metadata/></Blob></Blobs>"
      "<NextMarker>2!8!abc</NextMarker></EnumerationResults>";
  AzureListParser parser(2);
  // Fed byte by byte: pieces may split anything.
  for (char c : page) ASSERT_TRUE(parser.Feed(AsBytes(std::string(1, c))).ok());
  ASSERT_TRUE(parser.Finish().ok());
  ASSERT_EQ(parser.blobs().size(), 2u);
  EXPECT_EQ(parser.blobs()[0].name, "p/a & b");
  EXPECT_EQ(parser.blobs()[0].size, 12u);
  EXPECT_EQ(parser.blobs()[1].size, 0u);
  EXPECT_EQ(parser.next_marker(), "2!8!abc");
}

TEST(AzureXmlTest, HostileListPagesAreRefused) {
  auto blob = [](const std::string& name, const std::string& size) {
    return "<Blob><Name>" + name + "</Name><Properties><Content-Length>" + size +
           "</Content-Length></Properties></Blob>";
  };
  auto page = [](const std::string& blobs) {
    return "<EnumerationResults><Blobs>" + blobs + "</Blobs><NextMarker/></EnumerationResults>";
  };
  const std::string cases[] = {
      page(blob("a", "1") + blob("b", "2") + blob("c", "3")),  // more than asked for
      page(blob("a", "-1")),
      page(blob("a", "18446744073709551616")),
      page(blob("a", "1e3")),
      page(blob("a", "")),
      page("<Blob><Name>a</Name></Blob>"),  // no size
      page(blob("", "1")),
      page(blob(std::string(5000, 'x'), "1")),
      "<Error><Code>x</Code></Error>",
      page(blob("a", "1")).substr(0, 40),  // cut short
      "",
  };
  for (const std::string& text : cases) {
    AzureListParser parser(2);
    Status status = parser.Feed(AsBytes(text));
    if (status.ok()) status = parser.Finish();
    EXPECT_TRUE(status.IsCorruption()) << text.substr(0, 200) << ": " << status.ToString();
  }
}

TEST(AzureXmlTest, ErrorDocumentWithoutTheSignatureDetail) {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code>"
      "<Message>Server failed to authenticate the request.\nRequestId:1</Message>"
      "<AuthenticationErrorDetail>The MAC signature found in the HTTP request 'SIGNATURE' is not"
      "</AuthenticationErrorDetail></Error>";
  AzureError error = ParseAzureError(AsBytes(body));
  EXPECT_EQ(error.code, "AuthenticationFailed");
  EXPECT_EQ(error.message, "Server failed to authenticate the request.");
  EXPECT_TRUE(ParseAzureError(AsBytes("not xml")).code.empty());
  EXPECT_TRUE(ParseAzureError(AsBytes("<Error><Code>a b</Code></Error>")).code.empty());
}

// --- against Azurite -------------------------------------------------------

class AzuriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ReadEnvFile(FERRY_AZURITE_ENV);
    ASSERT_FALSE(server_["AZURITE_ENDPOINT"].empty())
        << "no Azurite: " << FERRY_AZURITE_ENV
        << " is missing. Run the tests through ctest (the fixture azurite starts it), or "
           "start one with: tests/servers/azurite.sh start "
        << std::string(FERRY_AZURITE_ENV).substr(0, std::string(FERRY_AZURITE_ENV).size() - 4);
  }

  AzureBlobLocation Where(const std::string& prefix) {
    AzureBlobLocation location;
    location.container = "ferry-unit";
    location.prefix = prefix;
    location.account = server_["AZURITE_ACCOUNT"];
    location.endpoint = server_["AZURITE_ENDPOINT"];
    return location;
  }
  std::string UniquePrefix(const std::string& base = "t") {
    return base + "-" + HexEncode(RandomBytes(6));
  }
  AzureCredential Key() { return *ParseAzureAccountKey(server_["AZURITE_KEY"], "the test key"); }
  std::unique_ptr<AzureBlobBackend> Make(const std::string& prefix, AzureBlobOptions options = {},
                                         AzureCredential credential = {}) {
    if (credential.key.empty() && credential.sas.empty()) credential = Key();
    auto backend = AzureBlobBackend::Open(Where(prefix), credential, std::move(options));
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    return backend.ok() ? std::move(*backend) : nullptr;
  }
  // A fresh repository under a prefix of its own.
  std::unique_ptr<AzureBlobBackend> Fresh(AzureBlobOptions options = {}) {
    auto backend = Make(UniquePrefix(), std::move(options));
    if (backend) {
      EXPECT_TRUE(backend->Create().ok());
    }
    return backend;
  }
  static ObjectName Name(ObjectKind kind, ByteView data) { return {kind, Sha256(data).Hex()}; }

  std::map<std::string, std::string> server_;
};

TEST_F(AzuriteTest, CreateTwiceAndRoundTrip) {
  auto backend = Fresh();
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Put(ObjectName::Config(), AsBytes("cfg")).ok());
  EXPECT_EQ(backend->Create().code(), StatusCode::kAlreadyExists);
  Bytes data = RandomBytes(3000);
  ObjectName name = Name(ObjectKind::kData, data);
  ASSERT_TRUE(backend->Put(name, data).ok());
  EXPECT_EQ(*backend->Get(name, 0, Backend::kToEnd), data);
  EXPECT_EQ(*backend->Get(name, 2990, Backend::kToEnd), Bytes(data.begin() + 2990, data.end()));
  {
    auto r = backend->Get(name, 3000, Backend::kToEnd);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->empty());
  }
  EXPECT_TRUE(backend->Get(name, 2999, 2).status().IsCorruption());
  EXPECT_TRUE(backend->Get(name, 3001, Backend::kToEnd).status().IsCorruption());
  EXPECT_EQ(*backend->Stat(name), 3000u);
}

TEST_F(AzuriteTest, ListPagesTwoAtATime) {
  AzureBlobOptions options;
  options.list_page_size = 2;
  auto backend = Fresh(options);
  ASSERT_NE(backend, nullptr);
  std::map<std::string, uint64_t> expected;
  for (int i = 0; i < 7; ++i) {
    Bytes data = RandomBytes(100 + static_cast<size_t>(i));
    ObjectName name = Name(ObjectKind::kData, data);
    expected[name.name] = data.size();
    ASSERT_TRUE(backend->Put(name, data).ok());
  }
  Bytes index = RandomBytes(10);
  ASSERT_TRUE(backend->Put(Name(ObjectKind::kIndex, index), index).ok());
  uint64_t requests_before = backend->stats().requests;
  std::map<std::string, uint64_t> listed;
  ASSERT_TRUE(backend
                  ->List(ObjectKind::kData,
                         [&](const std::string& name, uint64_t size) {
                           EXPECT_TRUE(listed.emplace(name, size).second) << "twice: " << name;
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(backend->stats().requests - requests_before, 4u);  // 2+2+2+1
}

TEST_F(AzuriteTest, BlockUploadOfTwentyMiBInOneMiBBlocks) {
  AzureBlobOptions options;
  options.block_size = 1 << 20;
  auto backend = Fresh(options);
  ASSERT_NE(backend, nullptr);
  Bytes data = RandomBytes(20 << 20);
  ObjectName name = Name(ObjectKind::kData, data);
  auto writer = backend->OpenWriter(name);
  ASSERT_TRUE(writer.ok());
  uint64_t requests_before = backend->stats().requests;
  // Pieces that do not line up with blocks.
  for (size_t offset = 0; offset < data.size();) {
    size_t piece = std::min<size_t>(data.size() - offset, 300000 + offset % 7777);
    ASSERT_TRUE((*writer)->Write(ByteView(data).subspan(offset, piece)).ok());
    offset += piece;
  }
  uint64_t requests_uploading = backend->stats().requests - requests_before;
  EXPECT_TRUE(backend->Stat(name).status().IsNotFound());  // nothing visible before Commit
  requests_before = backend->stats().requests - requests_uploading;
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(backend->stats().requests - requests_before, 21u);  // 20 blocks + the list
  EXPECT_EQ(*backend->Stat(name), data.size());
  auto read = backend->Get(name, 0, Backend::kToEnd);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == data);
  EXPECT_EQ(*backend->Get(name, (5 << 20) - 10, 20),
            Bytes(data.begin() + (5 << 20) - 10, data.begin() + (5 << 20) + 10));

  // An object that fits in one block is a single Put Blob.
  Bytes small = RandomBytes(1 << 20);
  ObjectName small_name = Name(ObjectKind::kData, small);
  auto small_writer = backend->OpenWriter(small_name);
  ASSERT_TRUE(small_writer.ok());
  requests_before = backend->stats().requests;
  ASSERT_TRUE((*small_writer)->Write(small).ok());
  ASSERT_TRUE((*small_writer)->Commit().ok());
  EXPECT_EQ(backend->stats().requests - requests_before, 1u);
  EXPECT_EQ(*backend->Get(small_name, 0, Backend::kToEnd), small);
}

TEST_F(AzuriteTest, DiscardedWriterLeavesNothing) {
  AzureBlobOptions options;
  options.block_size = 1 << 20;
  auto backend = Fresh(options);
  ASSERT_NE(backend, nullptr);
  Bytes data = RandomBytes(3 << 20);
  ObjectName name = Name(ObjectKind::kData, data);
  {
    auto writer = backend->OpenWriter(name);
    ASSERT_TRUE(writer.ok());
    uint64_t requests_before = backend->stats().requests;
    ASSERT_TRUE((*writer)->Write(data).ok());
    EXPECT_EQ(backend->stats().requests - requests_before, 2u);  // two blocks went up
  }
  EXPECT_TRUE(backend->Stat(name).status().IsNotFound());
  size_t listed = 0;
  ASSERT_TRUE(backend
                  ->List(ObjectKind::kData,
                         [&](const std::string&, uint64_t) {
                           ++listed;
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(listed, 0u);
  // The name is still free for a real upload.
  ASSERT_TRUE(backend->Put(name, data).ok());
  EXPECT_EQ(*backend->Stat(name), data.size());
}

TEST_F(AzuriteTest, PutIfAbsentTwice) {
  auto backend = Fresh();
  ASSERT_NE(backend, nullptr);
  Bytes data = RandomBytes(500);
  ObjectName name = Name(ObjectKind::kSnapshot, data);
  ASSERT_TRUE(backend->PutIfAbsent(name, data).ok());
  Status second = backend->PutIfAbsent(name, RandomBytes(500));
  EXPECT_EQ(second.code(), StatusCode::kAlreadyExists) << second.ToString();
  EXPECT_NE(second.message().find("BlobAlreadyExists"), std::string::npos) << second.ToString();
  EXPECT_FALSE(second.retryable());
  EXPECT_EQ(*backend->Get(name, 0, Backend::kToEnd), data);  // the first one stays
}

TEST_F(AzuriteTest, WrongKeyIsPermissionDeniedQuicklyAndNotRetried) {
  std::string wrong = Base64Encode(RandomBytes(64));
  ASSERT_EQ(setenv("FERRY_AZURE_ACCOUNT_KEY", wrong.c_str(), 1), 0);
  std::string location = "azure://ferry-unit/" + UniquePrefix() +
                         "?account=" + server_["AZURITE_ACCOUNT"] +
                         "&endpoint=" + server_["AZURITE_ENDPOINT"];
  auto backend = OpenBackend(location);
  unsetenv("FERRY_AZURE_ACCOUNT_KEY");
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  // OpenBackend retries what can be retried: this must not be.
  ASSERT_NE(dynamic_cast<RetryBackend*>(backend->get()), nullptr);
  auto start = std::chrono::steady_clock::now();
  Status status = (*backend)->Put({ObjectKind::kKey, std::string(64, 'b')}, AsBytes("x"));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
  EXPECT_FALSE(status.retryable());
  EXPECT_LT(seconds, 5);
  EXPECT_NE(status.message().find("the key in FERRY_AZURE_ACCOUNT_KEY"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("authentication failed"), std::string::npos) << status.message();
  // The service's code (Azure says AuthenticationFailed, Azurite AuthorizationFailure).
  EXPECT_TRUE(status.message().find("AuthenticationFailed") != std::string::npos ||
              status.message().find("AuthorizationFailure") != std::string::npos)
      << status.message();
  EXPECT_EQ(status.message().find(wrong), std::string::npos);
  EXPECT_EQ(status.message().find("SharedKey"), std::string::npos) << status.message();
}

TEST_F(AzuriteTest, NamesWithSpacesSlashesAndPercentSignsAreSignedRight) {
  for (std::string odd : {"odd name/with spaces", "100% sure/%20 not a space/%2F",
                          "a+b=c&d;e,f'g(h)!~*/äöü €/#tag?q"}) {
    // '#' and '?' cannot be in a location string but can be in a prefix we are given.
    auto backend = Make(odd + "/" + UniquePrefix());
    ASSERT_NE(backend, nullptr);
    ASSERT_TRUE(backend->Create().ok()) << odd;
    Bytes data = RandomBytes(1000);
    ObjectName name = Name(ObjectKind::kIndex, data);
    Status put = backend->Put(name, data);
    ASSERT_TRUE(put.ok()) << odd << ": " << put.ToString();
    EXPECT_EQ(*backend->Get(name, 10, 20), Bytes(data.begin() + 10, data.begin() + 30));
    EXPECT_EQ(*backend->Stat(name), 1000u);
    std::vector<std::string> listed;
    ASSERT_TRUE(backend
                    ->List(ObjectKind::kIndex,
                           [&](const std::string& n, uint64_t) {
                             listed.push_back(n);
                             return Status::Ok();
                           })
                    .ok())
        << odd;
    EXPECT_EQ(listed, std::vector<std::string>{name.name}) << odd;
    ASSERT_TRUE(backend->Remove(name).ok()) << odd;
    EXPECT_TRUE(backend->Remove(name).IsNotFound()) << odd;
  }
}

// An account SAS (version 2020-12-06 and later), signed like the service
// checks it: account, permissions, services, resource types, start, expiry,
// IP, protocol, version, encryption scope — each followed by "\n".
std::string AccountSas(const std::string& account, ByteView key, const std::string& permissions,
                       const std::string& expiry) {
  const std::string version = "2021-08-06", services = "b", types = "sco", protocol = "https,http";
  std::string text = account + "\n" + permissions + "\n" + services + "\n" + types + "\n\n" +
                     expiry + "\n\n" + protocol + "\n" + version + "\n\n";
  return "sv=" + version + "&ss=" + services + "&srt=" + types + "&sp=" + permissions +
         "&se=" + PercentEncode(expiry) + "&spr=" + PercentEncode(protocol) +
         "&sig=" + PercentEncode(AzureSignature(key, text));
}

TEST_F(AzuriteTest, SasTokenAccess) {
  Bytes key = *Base64Decode(server_["AZURITE_KEY"]);
  std::string expiry = "2099-01-01T00:00:00Z";
  std::string token = AccountSas(server_["AZURITE_ACCOUNT"], key, "rwdlac", expiry);
  auto sas = ParseAzureSasToken(token, "the SAS token in FERRY_AZURE_SAS_TOKEN");
  ASSERT_TRUE(sas.ok()) << sas.status().ToString();
  std::string prefix = UniquePrefix();
  auto backend = Make(prefix, {}, *sas);
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Create().ok());
  Bytes data = RandomBytes(2000);
  ObjectName name = Name(ObjectKind::kData, data);
  ASSERT_TRUE(backend->Put(name, data).ok());
  EXPECT_EQ(*backend->Get(name, 0, Backend::kToEnd), data);
  size_t listed = 0;
  ASSERT_TRUE(backend
                  ->List(ObjectKind::kData,
                         [&](const std::string&, uint64_t) {
                           ++listed;
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(listed, 1u);
  // The key's backend sees what the SAS wrote.
  EXPECT_EQ(*Make(prefix)->Get(name, 0, Backend::kToEnd), data);

  // Read-only and expired tokens are refused, naming the token, never showing it.
  auto read_only =
      Make(prefix, {},
           *ParseAzureSasToken(AccountSas(server_["AZURITE_ACCOUNT"], key, "rl", expiry),
                               "the SAS token in FERRY_AZURE_SAS_TOKEN_FILE"));
  EXPECT_EQ(*read_only->Get(name, 0, Backend::kToEnd), data);
  Status refused = read_only->Put(name, data);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied) << refused.ToString();
  EXPECT_NE(refused.message().find("FERRY_AZURE_SAS_TOKEN_FILE"), std::string::npos);
  std::string forged_token =
      token.substr(0, token.find("&sig=")) + "&sig=" + PercentEncode(Base64Encode(RandomBytes(32)));
  auto forged = Make(prefix, {}, *ParseAzureSasToken(forged_token, "the SAS token in T"));
  auto forged_read = forged->Get(name, 0, Backend::kToEnd);
  EXPECT_EQ(forged_read.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(forged_read.status().message().find("sig="), std::string::npos)
      << forged_read.status().message();
}

TEST_F(AzuriteTest, CopyFromAnotherPrefixServerSide) {
  auto source = Fresh();
  auto target = Fresh();
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  Bytes data = RandomBytes(5 << 20);
  ObjectName name = Name(ObjectKind::kData, data);
  ASSERT_TRUE(source->Put(name, data).ok());
  uint64_t sent_before = target->stats().bytes_sent;
  // Through a RetryBackend, as OpenBackend hands it out.
  RetryBackend wrapped(std::move(source));
  Status copied = target->CopyFrom(wrapped, name);
  ASSERT_TRUE(copied.ok()) << copied.ToString();
  EXPECT_LT(target->stats().bytes_sent - sent_before, 4096u);  // the bytes never crossed
  EXPECT_EQ(*target->Get(name, 0, Backend::kToEnd), data);
  EXPECT_EQ(*wrapped.Get(name, 0, Backend::kToEnd), data);  // the source stays

  ObjectName missing{ObjectKind::kData, std::string(64, 'c')};
  EXPECT_TRUE(target->CopyFrom(wrapped, missing).IsNotFound());
  TempDir dir;
  auto local = OpenBackend(dir.path());
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(target->CopyFrom(**local, name).code(), StatusCode::kUnsupported);
}

// The conformance suite every backend passes, on Azurite: a repository
// under a prefix of its own per test, opened the way ferry opens it
// (OpenBackend: the registry's factory, the RetryBackend around it) and
// directly (so that nothing a retry hides goes unnoticed).
std::unique_ptr<Backend> MakeOnAzurite(bool through_registry) {
  auto server = ReadEnvFile(FERRY_AZURITE_ENV);
  if (server["AZURITE_ENDPOINT"].empty()) {
    ADD_FAILURE() << "no Azurite: " << FERRY_AZURITE_ENV
                  << " is missing. Run the tests through ctest (the fixture azurite starts it), "
                     "or start one with tests/servers/azurite.sh start DIR";
    return nullptr;
  }
  std::string prefix = "contract-" + HexEncode(RandomBytes(6));
  if (through_registry) {
    setenv("FERRY_AZURE_ACCOUNT_KEY", server["AZURITE_KEY"].c_str(), 1);
    auto backend =
        OpenBackend("azure://ferry-contract/" + prefix + "?account=" + server["AZURITE_ACCOUNT"] +
                    "&endpoint=" + server["AZURITE_ENDPOINT"]);
    unsetenv("FERRY_AZURE_ACCOUNT_KEY");
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    return backend.ok() ? std::move(*backend) : nullptr;
  }
  AzureBlobLocation location{"ferry-contract", prefix, server["AZURITE_ACCOUNT"],
                             server["AZURITE_ENDPOINT"]};
  AzureBlobOptions options;
  options.block_size = 256 << 10;  // streamed writes of the suite span several blocks
  auto backend = AzureBlobBackend::Open(
      location, *ParseAzureAccountKey(server["AZURITE_KEY"], "the test key"), options);
  EXPECT_TRUE(backend.ok()) << backend.status().ToString();
  return backend.ok() ? std::move(*backend) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(
    Azurite, BackendContractTest,
    ::testing::Values(BackendUnderTest{"AzureBlob",
                                       [](const std::string&) { return MakeOnAzurite(false); }},
                      BackendUnderTest{"AzureThroughRegistry",
                                       [](const std::string&) { return MakeOnAzurite(true); }}),
    BackendName);

}  // namespace
}  // namespace ferry
