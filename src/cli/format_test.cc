#include "cli/format.h"

#include <gtest/gtest.h>

namespace trellis::cli {
namespace {

using nlohmann::json;

// Golden text written by hand from Consul's rules (columnize: two-space gutter, last column
// unpadded; tabwriter: widest cell + 6).
TEST(MembersFormatTest, StandardTable) {
  json members = json::parse(R"([
    {"Name":"node-b","Addr":"10.0.0.2","Port":8301,"Status":1,
     "Tags":{"role":"node","dc":"dc1","build":"1.17.0:abcdef","vsn":"2"}},
    {"Name":"server-1","Addr":"127.0.0.1","Port":8301,"Status":1,
     "Tags":{"role":"consul","dc":"dc1","build":"1.17.0","vsn":"2"}},
    {"Name":"node-a","Addr":"::1","Port":8301,"Status":4,
     "Tags":{"role":"node","dc":"dc1","vsn":"2"}}
  ])");
  auto table = formatMembers(members, false, ".*");
  ASSERT_TRUE(table);
  EXPECT_EQ(
      *table,
      "Node      Address         Status  Type    Build   Protocol  DC   Partition  Segment\n"
      "server-1  127.0.0.1:8301  alive   server  1.17.0  2         dc1  default    <all>\n"
      "node-a    [::1]:8301      failed  client  < 0.3   2         dc1  default    <default>\n"
      "node-b    10.0.0.2:8301   alive   client  1.17.0  2         dc1  default    <default>");
}

TEST(MembersFormatTest, DetailedAndStatusFilter) {
  json members = json::parse(R"([
    {"Name":"a","Addr":"10.0.0.1","Port":8301,"Status":3,"Tags":{"role":"node","dc":"dc1"}},
    {"Name":"b","Addr":"10.0.0.2","Port":8301,"Status":1,"Tags":{"role":"node","dc":"dc1"}}
  ])");
  auto table = formatMembers(members, true, "alive");
  ASSERT_TRUE(table);
  EXPECT_EQ(*table,
            "Node  Address        Status  Tags\n"
            "b     10.0.0.2:8301  alive   ap=default,dc=dc1,role=node,segment=<default>");
  auto none = formatMembers(members, false, "^failed$");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  EXPECT_FALSE(formatMembers(members, false, "("));
  EXPECT_FALSE(formatMembers(json::object(), false, ".*"));
}

TEST(MembersFormatTest, UnknownRoleHasEmptyColumns) {
  json members =
      json::parse(R"([{"Name":"x","Addr":"bogus","Port":1,"Status":9,"Tags":{"role":"weird"}}])");
  auto table = formatMembers(members, false, ".*");
  ASSERT_TRUE(table);
  EXPECT_EQ(*table,
            "Node  Address  Status   Type     Build  Protocol  DC  Partition  Segment\n"
            "x     :1       unknown  unknown                                  ");
}

TEST(KvFormatTest, Detailed) {
  json pair = json::parse(R"({"LockIndex":0,"Key":"foo","Flags":42,"Value":"aGVsbG8=",
                              "CreateIndex":100,"ModifyIndex":200})");
  auto text = formatKvDetailed(pair, false);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text,
            "CreateIndex      100\n"
            "Flags            42\n"
            "Key              foo\n"
            "LockIndex        0\n"
            "ModifyIndex      200\n"
            "Session          -\n"
            "Value            hello");
  pair["Session"] = "abc";
  pair["Value"] = nullptr;
  auto b64 = formatKvDetailed(pair, true);
  ASSERT_TRUE(b64);
  EXPECT_NE(b64->find("Session          abc\n"), std::string::npos);
  EXPECT_EQ(b64->substr(b64->size() - 17), "Value            ");
  pair["Value"] = "!!!";
  EXPECT_FALSE(formatKvDetailed(pair, false));
}

TEST(TabwriterTest, ColumnBlocksAndTrailingCells) {
  EXPECT_EQ(tabwrite("consul\t\nweb\tv1,v2\n", 0, 6), "consul      \nweb         v1,v2\n");
  // A line without a cell in column 0 ends the block: widths restart after it.
  EXPECT_EQ(tabwrite("a\tb\nplain\nlonger\tc", 0, 2), "a  b\nplain\nlonger  c");
  EXPECT_EQ(tabwrite("", 0, 6), "");
  // Regression: a KV value made of tabs must not recurse once per tab.
  std::string manyTabs = "Value\t" + std::string(200000, '\t') + "x";
  EXPECT_EQ(tabwrite(manyTabs, 0, 6).substr(0, 11), "Value      ");
}

TEST(ColumnizeTest, TrimsCellsAndLeavesLastColumnUnpadded) {
  EXPECT_EQ(columnize({"a\x1f"
                       "bb\x1f"
                       "c",
                       " long \x1f"
                       "d"}),
            "a     bb  c\nlong  d");
}

TEST(NodesFormatTest, ShortAndDetailed) {
  json nodes = json::parse(R"([{"ID":"40e4a748-2192-161a-0510-9bf59fe950b5","Node":"n1",
    "Address":"10.1.10.12","Datacenter":"dc1",
    "TaggedAddresses":{"wan":"1.2.3.4","lan":"10.1.10.12"},
    "Meta":{"env":"prod"}}])");
  EXPECT_EQ(formatNodes(nodes, false),
            "Node  ID        Address     DC\n"
            "n1    40e4a748  10.1.10.12  dc1");
  EXPECT_EQ(formatNodes(nodes, true),
            "Node  ID                                    Address     DC   TaggedAddresses"
            "              Meta\n"
            "n1    40e4a748-2192-161a-0510-9bf59fe950b5  10.1.10.12  dc1  "
            "lan=10.1.10.12, wan=1.2.3.4  env=prod");
}

}  // namespace
}  // namespace trellis::cli
