// SigV4Signer against AWS's published examples ("Signature Calculations for
// the Authorization Header: Transferring Payload in a Single Chunk",
// examplebucket, AKIAIOSFODNN7EXAMPLE, 24 May 2013): s3rver checks no
// signatures, so these vectors are the only proof that real S3 will accept ours.
#include "storage/sigv4_signer.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"

namespace ferry {
namespace {

constexpr std::time_t kMay24th2013 = 1369353600;  // 2013-05-24T00:00:00Z
constexpr const char* kHost = "examplebucket.s3.amazonaws.com";

SigV4Signer ExampleSigner(std::string session_token = "") {
  return SigV4Signer({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                      std::move(session_token), "the example key"},
                     "us-east-1", [] { return kMay24th2013; });
}

std::string Hex256(const std::string& text) { return Sha256(AsBytes(text)).Hex(); }

std::string AuthorizationWith(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
         "SignedHeaders=" +
         signed_headers + ",Signature=" + signature;
}

TransportRequest Request(const std::string& method, const std::string& url) {
  TransportRequest request;
  request.method = method;
  request.url = url;
  return request;
}

TEST(SigV4SignerTest, DateAndEmptyPayload) {
  EXPECT_EQ(AmzDate(kMay24th2013), "20130524T000000Z");
  EXPECT_EQ(Hex256(""), kEmptyPayloadSha256);
}

TEST(SigV4SignerTest, AwsExampleGetObjectWithRange) {
  const std::string canonical =
      "GET\n"
      "/test.txt\n"
      "\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "range:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "\n"
      "host;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n"
      "20130524T000000Z\n"
      "20130524/us-east-1/s3/aws4_request\n"
      "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972";
  const std::string signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

  auto parts = ExampleSigner().Compute("GET", std::string("https://") + kHost + "/test.txt",
                                       {{"Host", kHost},
                                        {"Range", "bytes=0-9"},
                                        {"x-amz-content-sha256", kEmptyPayloadSha256},
                                        {"x-amz-date", "20130524T000000Z"}},
                                       kEmptyPayloadSha256, "20130524T000000Z");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->canonical_request, canonical);
  EXPECT_EQ(parts->string_to_sign, string_to_sign);
  EXPECT_EQ(parts->signature, signature);

  // The hook adds host, x-amz-date and the payload hash itself.
  TransportRequest request = Request("GET", std::string("https://") + kHost + "/test.txt");
  request.SetHeader("Range", "bytes=0-9");
  ASSERT_TRUE(ExampleSigner().Sign(request).ok());
  EXPECT_EQ(request.Header("authorization"),
            AuthorizationWith("host;range;x-amz-content-sha256;x-amz-date", signature));
  EXPECT_EQ(request.Header("host"), kHost);
  EXPECT_EQ(request.Header("x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(request.Header("x-amz-content-sha256"), kEmptyPayloadSha256);
}

TEST(SigV4SignerTest, AwsExamplePutObject) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  ASSERT_EQ(Hex256(body), payload);
  const std::string canonical =
      "PUT\n"
      "/test%24file.text\n"
      "\n"
      "date:Fri, 24 May 2013 00:00:00 GMT\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
      "x-amz-date:20130524T000000Z\n"
      "x-amz-storage-class:REDUCED_REDUNDANCY\n"
      "\n"
      "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n"
      "20130524T000000Z\n"
      "20130524/us-east-1/s3/aws4_request\n"
      "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d";
  const std::string signature = "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd";

  // The key as written ("$") and as a URL carries it ("%24") sign alike.
  for (const char* path : {"/test$file.text", "/test%24file.text"}) {
    TransportRequest request = Request("PUT", std::string("https://") + kHost + path);
    request.body = AsBytes(body);
    request.SetHeader("Date", "Fri, 24 May 2013 00:00:00 GMT");
    request.SetHeader("x-amz-storage-class", "REDUCED_REDUNDANCY");
    ASSERT_TRUE(ExampleSigner().Sign(request).ok());
    EXPECT_EQ(request.Header("x-amz-content-sha256"), payload);
    EXPECT_EQ(request.Header("authorization"),
              AuthorizationWith("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                                signature))
        << path;
    auto parts = ExampleSigner().Compute(request.method, request.url, request.headers, payload,
                                         "20130524T000000Z");
    ASSERT_TRUE(parts.ok());
    // The Authorization header the hook added is not signed itself.
    std::vector<HttpHeader> unsigned_headers;
    for (const auto& header : request.headers)
      if (header.name != "Authorization") unsigned_headers.push_back(header);
    parts = ExampleSigner().Compute(request.method, request.url, unsigned_headers, payload,
                                    "20130524T000000Z");
    EXPECT_EQ(parts->canonical_request, canonical) << path;
    EXPECT_EQ(parts->string_to_sign, string_to_sign);
    EXPECT_EQ(parts->signature, signature);
  }
}

TEST(SigV4SignerTest, AwsExampleGetBucketLifecycle) {
  const std::string canonical =
      "GET\n"
      "/\n"
      "lifecycle=\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "\n"
      "host;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const std::string signature = "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543";
  auto parts = ExampleSigner().Compute("GET", std::string("https://") + kHost + "/?lifecycle",
                                       {{"host", kHost},
                                        {"x-amz-content-sha256", kEmptyPayloadSha256},
                                        {"x-amz-date", "20130524T000000Z"}},
                                       kEmptyPayloadSha256, "20130524T000000Z");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->canonical_request, canonical);
  EXPECT_EQ(parts->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(parts->signature, signature);

  TransportRequest request = Request("GET", std::string("https://") + kHost + "/?lifecycle");
  ASSERT_TRUE(ExampleSigner().Sign(request).ok());
  EXPECT_EQ(request.Header("authorization"),
            AuthorizationWith("host;x-amz-content-sha256;x-amz-date", signature));
}

TEST(SigV4SignerTest, AwsExampleListObjects) {
  const std::string canonical =
      "GET\n"
      "/\n"
      "max-keys=2&prefix=J\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "\n"
      "host;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const std::string signature = "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7";
  // Parameters in either order: the canonical query sorts them.
  for (const char* query : {"?max-keys=2&prefix=J", "?prefix=J&max-keys=2"}) {
    auto parts = ExampleSigner().Compute("GET", std::string("https://") + kHost + "/" + query,
                                         {{"host", kHost},
                                          {"x-amz-content-sha256", kEmptyPayloadSha256},
                                          {"x-amz-date", "20130524T000000Z"}},
                                         kEmptyPayloadSha256, "20130524T000000Z");
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(parts->canonical_request, canonical) << query;
    EXPECT_EQ(parts->string_to_sign,
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
    EXPECT_EQ(parts->signature, signature);
    TransportRequest request = Request("GET", std::string("https://") + kHost + "/" + query);
    ASSERT_TRUE(ExampleSigner().Sign(request).ok());
    EXPECT_EQ(request.Header("authorization"),
              AuthorizationWith("host;x-amz-content-sha256;x-amz-date", signature));
  }
}

TEST(SigV4SignerTest, OneChangedByteChangesTheSignature) {
  TransportRequest a = Request("GET", std::string("https://") + kHost + "/test.txt");
  a.SetHeader("Range", "bytes=0-9");
  TransportRequest b = a;
  b.SetHeader("Range", "bytes=0-8");
  ASSERT_TRUE(ExampleSigner().Sign(a).ok());
  ASSERT_TRUE(ExampleSigner().Sign(b).ok());
  EXPECT_NE(a.Header("authorization"), b.Header("authorization"));
  // Signing again (a retry) replaces the signature instead of signing it.
  ASSERT_TRUE(ExampleSigner().Sign(a).ok());
  TransportRequest fresh = Request("GET", std::string("https://") + kHost + "/test.txt");
  fresh.SetHeader("Range", "bytes=0-9");
  ASSERT_TRUE(ExampleSigner().Sign(fresh).ok());
  EXPECT_EQ(a.Header("authorization"), fresh.Header("authorization"));
}

TEST(SigV4SignerTest, SessionTokenIsSentAndSigned) {
  TransportRequest request = Request("GET", std::string("https://") + kHost + "/test.txt");
  ASSERT_TRUE(ExampleSigner("token/with+chars").Sign(request).ok());
  EXPECT_EQ(request.Header("x-amz-security-token"), "token/with+chars");
  EXPECT_NE(request.Header("authorization")
                .find("SignedHeaders=host;x-amz-content-sha256;"
                      "x-amz-date;x-amz-security-token,"),
            std::string::npos)
      << request.Header("authorization");
}

TEST(SigV4SignerTest, StreamedBodiesAreUnsignedPayloadNeverAwsChunked) {
  TransportRequest request = Request("PUT", "http://127.0.0.1:9000/bucket/key");
  request.body_length = 10;
  request.body_source = [](uint8_t*, size_t) -> Result<size_t> { return size_t{0}; };
  ASSERT_TRUE(ExampleSigner().Sign(request).ok());
  EXPECT_EQ(request.Header("x-amz-content-sha256"), kUnsignedPayload);
  EXPECT_EQ(request.Header("host"), "127.0.0.1:9000");
  EXPECT_EQ(request.Header("content-encoding"), "");
}

TEST(SigV4SignerTest, PathsAndQueriesAreEncodedTheAwsWay) {
  EXPECT_EQ(SigV4Encode("/a b+c%d~_-.", true), "/a%20b%2Bc%25d~_-.");
  EXPECT_EQ(SigV4Encode("/a%20b%2Bc%25d", true), "/a%20b%2Bc%25d");  // already encoded
  EXPECT_EQ(SigV4Encode("data/", false), "data%2F");
  auto parts =
      ExampleSigner().Compute("GET", "http://127.0.0.1:9000/b?prefix=p%20q/data/&list-type=2",
                              {{"host", "127.0.0.1:9000"}, {"x-amz-date", "20130524T000000Z"}},
                              kEmptyPayloadSha256, "20130524T000000Z");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->canonical_request.substr(0, parts->canonical_request.find("\nhost")),
            "GET\n/b\nlist-type=2&prefix=p%20q%2Fdata%2F");
}

TEST(SigV4SignerTest, RefusesWhatItCannotSign) {
  TransportRequest relative = Request("GET", "/bucket/key");
  EXPECT_FALSE(ExampleSigner().Sign(relative).ok());
  TransportRequest userinfo = Request("GET", "http://user:pass@host/key");
  EXPECT_FALSE(ExampleSigner().Sign(userinfo).ok());
  TransportRequest injected = Request("GET", "http://host/key");
  injected.SetHeader("x-amz-meta-x", "a\r\nInjected: yes");
  EXPECT_FALSE(ExampleSigner().Sign(injected).ok());
}

}  // namespace
}  // namespace ferry
