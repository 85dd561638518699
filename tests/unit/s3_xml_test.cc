// S3's XML answers (storage/s3_xml.h): listing pages and error documents as
// S3 writes them, and the hostile ones a broken or malicious server could
// send, which must be refused, not half-believed.
#include "storage/s3_xml.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry {
namespace {

std::string Page(const std::string& contents, const std::string& tail) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
         "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
         "<Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>" +
         contents + tail + "</ListBucketResult>";
}

std::string Entry(const std::string& key, const std::string& size) {
  return "<Contents><Key>" + key +
         "</Key><LastModified>2026-12-07T16:00:00.000Z</LastModified>"
         "<ETag>&quot;abc&quot;</ETag><Size>" +
         size + "</Size><StorageClass>STANDARD</StorageClass></Contents>";
}

Result<S3ListPage> Parse(const std::string& text, size_t max_keys = 2) {
  XmlDocument document;
  RETURN_IF_ERROR(document.Feed(AsBytes(text)));
  RETURN_IF_ERROR(document.Finish());
  return ParseListPage(document.root(), max_keys);
}

TEST(S3XmlTest, ListPageFedInPieces) {
  std::string text =
      Page(Entry("p/a &amp; b", "12") + Entry("p/c", "0"),
           "<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/"
           "wm36Hy4vbOwM=</NextContinuationToken>");
  XmlDocument document;
  // Byte by byte: pieces may split anything, even a UTF-8 sequence or an entity.
  for (char c : text) ASSERT_TRUE(document.Feed(AsBytes(std::string(1, c))).ok());
  ASSERT_TRUE(document.Finish().ok());
  auto page = ParseListPage(document.root(), 2);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].key, "p/a & b");
  EXPECT_EQ(page->entries[0].size, 12u);
  EXPECT_EQ(page->entries[1].size, 0u);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

  auto last = Parse(Page("", "<IsTruncated>false</IsTruncated>"));
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_TRUE(last->entries.empty());
  EXPECT_FALSE(last->truncated);
}

TEST(S3XmlTest, HostilePagesAreRefused) {
  const std::string done = "<IsTruncated>false</IsTruncated>";
  const std::string cases[] = {
      Page(Entry("a", "1") + Entry("b", "2") + Entry("c", "3"), done),  // more than asked for
      Page(Entry("a", "-1"), done),
      Page(Entry("a", "18446744073709551616"), done),
      Page(Entry("a", "1e3"), done),
      Page(Entry("a", " 1"), done),
      Page(Entry("a", ""), done),
      Page("<Contents><Key>a</Key></Contents>", done),    // no size
      Page("<Contents><Size>1</Size></Contents>", done),  // no key
      Page(Entry("a", "1"), ""),                          // no IsTruncated
      Page(Entry("a", "1"), "<IsTruncated>yes</IsTruncated>"),
      Page(Entry("a", "1"), "<IsTruncated>true</IsTruncated>"),  // truncated, but no token
      "<Error><Code>InternalError</Code></Error>",
      "<ListAllMyBucketsResult/>",
      Page(Entry("a", "1"), done).substr(0, 120),           // cut short
      Page(Entry("a", "1"), done) + "<ListBucketResult/>",  // two roots
      "",
      "not xml at all",
  };
  for (const std::string& text : cases) {
    auto page = Parse(text);
    EXPECT_FALSE(page.ok()) << text.substr(0, 200);
    if (!page.ok()) {
      EXPECT_TRUE(page.status().IsCorruption())
          << text.substr(0, 200) << ": " << page.status().ToString();
    }
  }
}

TEST(S3XmlTest, DocumentsAreCapped) {
  // Nesting, text per element and total size have bounds a server cannot push us past.
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  EXPECT_TRUE(ParseXml(AsBytes(deep)).status().IsCorruption());

  std::string long_text = "<Error><Message>" + std::string(70 << 10, 'x') + "</Message></Error>";
  EXPECT_TRUE(ParseXml(AsBytes(long_text)).status().IsCorruption());

  XmlDocument huge;
  std::string chunk = "<ListBucketResult>";
  Status fed = huge.Feed(AsBytes(chunk));
  std::string filler(1 << 20, ' ');
  for (int i = 0; i < 10 && fed.ok(); ++i) fed = huge.Feed(AsBytes(filler));
  EXPECT_TRUE(fed.IsCorruption()) << fed.ToString();

  std::string many = "<r>";
  for (int i = 0; i < 100001; ++i) many += "<e/>";
  many += "</r>";
  EXPECT_TRUE(ParseXml(AsBytes(many)).status().IsCorruption());
}

TEST(S3XmlTest, ErrorDocumentsKeepCodeAndMessageOnly) {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code>"
      "<Message>The request signature we calculated does not match\nthe signature you "
      "provided.</Message><StringToSign>AWS4-HMAC-SHA256 …</StringToSign>"
      "<SignatureProvided>abc</SignatureProvided><RequestId>1</RequestId></Error>";
  S3Error error = ParseS3Error(AsBytes(body));
  EXPECT_EQ(error.code, "SignatureDoesNotMatch");
  EXPECT_EQ(error.message,
            "The request signature we calculated does not match the signature you provided.");
  EXPECT_TRUE(ParseS3Error(AsBytes("not xml")).code.empty());
  EXPECT_TRUE(ParseS3Error(AsBytes("<Other><Code>x</Code></Other>")).code.empty());
  EXPECT_TRUE(ParseS3Error({}).code.empty());
  std::string long_message =
      "<Error><Code>X</Code><Message>" + std::string(1000, 'm') + "</Message></Error>";
  EXPECT_LT(ParseS3Error(AsBytes(long_message)).message.size(), 320u);
}

TEST(S3XmlTest, DecimalsAreStrict) {
  EXPECT_EQ(*ParseDecimal("0", "n"), 0u);
  EXPECT_EQ(*ParseDecimal("9999999999999999999", "n"),
            9999999999999999999u);  // 19 digits: the most
  for (const char* bad : {"", "-1", "+1", "1.0", "0x10", "10000000000000000000", "1 "})
    EXPECT_TRUE(ParseDecimal(bad, "n").status().IsCorruption()) << bad;
}

}  // namespace
}  // namespace ferry
