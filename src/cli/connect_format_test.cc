#include "cli/connect_format.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

namespace trellis::cli {
namespace {

using nlohmann::json;

// Pins the local zone to UTC for the RFC850 renderings and restores it afterwards.
class UtcZone {
 public:
  UtcZone() {
    const char* tz = ::getenv("TZ");
    if (tz != nullptr) saved_ = tz;
    hadTz_ = tz != nullptr;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  ~UtcZone() {
    if (hadTz_) {
      ::setenv("TZ", saved_.c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::string saved_;
  bool hadTz_ = false;
};

TEST(ConnectFormatTest, GoQuoteEscapesLikePercentQ) {
  EXPECT_EQ(goQuote("web"), "\"web\"");
  EXPECT_EQ(goQuote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(goQuote(std::string("\x01", 1)), "\"\\x01\"");
}

TEST(ConnectFormatTest, GoJsonIndentKeepsOrderAndEscapesHtml) {
  auto v = OrderedJson::parse(
      R"({"Kind":"service-defaults","Name":"web","Meta":{},"List":[],)"
      R"("Nested":{"b":1,"a":[1.0,2.5]},)"
      R"("Html":"<a&b>","Null":null,"Yes":true})");
  EXPECT_EQ(goJsonIndent(v, "    "),
            "{\n"
            "    \"Kind\": \"service-defaults\",\n"
            "    \"Name\": \"web\",\n"
            "    \"Meta\": {},\n"
            "    \"List\": [],\n"
            "    \"Nested\": {\n"
            "        \"b\": 1,\n"
            "        \"a\": [\n"
            "            1,\n"
            "            2.5\n"
            "        ]\n"
            "    },\n"
            "    \"Html\": \"\\u003ca\\u0026b\\u003e\",\n"
            "    \"Null\": null,\n"
            "    \"Yes\": true\n"
            "}");
  EXPECT_EQ(goJsonIndent(OrderedJson("line\u2028sep"), "\t"), "\"line\\u2028sep\"");
}

TEST(ConnectFormatTest, IntentionStringForms) {
  EXPECT_EQ(intentionString(json{{"SourceNS", "default"},
                                 {"SourceName", "web"},
                                 {"DestinationNS", "default"},
                                 {"DestinationName", "db"},
                                 {"Action", "allow"}}),
            "web => db (allow)");
  EXPECT_EQ(intentionString(json{{"SourceNS", "team"},
                                 {"SourceName", "web"},
                                 {"DestinationName", "*"},
                                 {"Action", "deny"}}),
            "team/web => * (deny)");
  json l7 = {{"SourceName", "a"}, {"DestinationName", "b"}, {"Permissions", json::array({1})}};
  EXPECT_EQ(intentionString(l7), "a => b (1 permission)");
  l7["Permissions"].push_back(2);
  l7["Permissions"].push_back(3);
  EXPECT_EQ(intentionString(l7), "a => b (3 permissions)");
}

TEST(ConnectFormatTest, IntentionDetailTable) {
  UtcZone utc;
  json ixn = json::parse(R"({"ID":"","Description":"front end","SourceNS":"default",
    "SourceName":"web","DestinationNS":"default","DestinationName":"db","Action":"deny",
    "Meta":{"owner":"ops","env":"prod"},"CreatedAt":"2024-05-06T07:08:09.123456Z"})");
  EXPECT_EQ(formatIntentionDetail(ixn),
            "Source:       web\n"
            "Destination:  db\n"
            "Action:       deny\n"
            "Description:  front end\n"
            "Meta[env]:    prod\n"
            "Meta[owner]:  ops\n"
            "Created At:   Monday, 06-May-24 07:08:09 UTC");
  json l7 = json::parse(R"({"SourceName":"a","DestinationName":"b","ID":"123",
    "CreatedAt":"0001-01-01T00:00:00Z","Permissions":[{"Action":"allow"}]})");
  EXPECT_EQ(formatIntentionDetail(l7),
            "Source:       a\n"
            "Destination:  b\n"
            "ID:           123\n"
            "Created At:   Monday, 01-Jan-01 00:00:00 UTC\n"
            "Permissions:\n"
            "[\n"
            "  {\n"
            "    \"Action\": \"allow\"\n"
            "  }\n"
            "]");
}

TEST(ConnectFormatTest, IntentionListTable) {
  json list = json::parse(R"([
    {"ID":"","SourceName":"web","Action":"deny","DestinationName":"db","Precedence":9},
    {"ID":"","SourceName":"*","Action":"allow","DestinationName":"db","Precedence":8}])");
  EXPECT_EQ(formatIntentionList(list),
            "ID  Source  Action  Destination  Precedence\n"
            "    web     deny    db           9\n"
            "    *       allow   db           8");
}

TEST(ConnectFormatTest, Rfc3339Parsing) {
  EXPECT_EQ(*parseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parseRfc3339("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*parseRfc3339("1970-01-01T00:00:10.5-00:00"), 10);
  EXPECT_FALSE(parseRfc3339("yesterday"));
  EXPECT_FALSE(parseRfc3339("1970-01-01T00:00:00"));
  EXPECT_FALSE(parseRfc3339("1970-01-01T00:00:00+0100"));
}

TEST(ConnectFormatTest, CaConfigTakesTheGoStructShape) {
  auto c = asCaConfig(json::parse(
      R"({"provider":"consul","ModifyIndex":7,"Extra":1,
          "config":{"RotationPeriod":"2160h","LeafCertTTL":"72h","PrivateKeyBits":256}})"));
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->dump(),
            R"({"Provider":"consul","Config":{"LeafCertTTL":"72h","PrivateKeyBits":256,)"
            R"("RotationPeriod":"2160h"},"State":null,"ForceWithoutCrossSigning":false,)"
            R"("CreateIndex":0,"ModifyIndex":7})");
  auto bad = asCaConfig(json::parse(R"({"Provider":3})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().message(),
            "json: cannot unmarshal number into Go struct field CAConfig.Provider of type string");
  EXPECT_FALSE(asCaConfig(json::parse(R"({"CreateIndex":-1})")));
  EXPECT_FALSE(asCaConfig(json::parse(R"([])")));
}

}  // namespace
}  // namespace trellis::cli
