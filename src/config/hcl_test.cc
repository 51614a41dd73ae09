#include "config/hcl.h"

#include <gtest/gtest.h>

#include <string>

namespace trellis::config {
namespace {

using nlohmann::json;

json parse(const std::string& text) {
  auto r = parseHcl(text);
  EXPECT_TRUE(r.isOk()) << r.status().message();
  return r.isOk() ? r->value : json();
}

std::string parseError(const std::string& text) {
  auto r = parseHcl(text);
  EXPECT_FALSE(r.isOk()) << "parsed: " << (r.isOk() ? r->value.dump() : "");
  return r.isOk() ? "" : r.status().message();
}

TEST(HclTest, EmptyInputIsEmptyObject) {
  EXPECT_EQ(parse(""), json::object());
  EXPECT_EQ(parse("  # only a comment\n\n"), json::object());
}

TEST(HclTest, Scalars) {
  json v = parse(R"(
s = "text"
i = 42
neg = -7
hex = 0x1F
neghex = -0x10
oct = 0755
zero = 0
f = 1.5
negf = -0.25
e = 1e3
t = true
fl = false
)");
  EXPECT_EQ(v["s"], "text");
  EXPECT_EQ(v["i"], 42);
  EXPECT_TRUE(v["i"].is_number_integer());
  EXPECT_EQ(v["neg"], -7);
  EXPECT_EQ(v["hex"], 31);
  EXPECT_EQ(v["neghex"], -16);
  EXPECT_EQ(v["oct"], 493);
  EXPECT_EQ(v["zero"], 0);
  EXPECT_DOUBLE_EQ(v["f"].get<double>(), 1.5);
  EXPECT_TRUE(v["f"].is_number_float());
  EXPECT_DOUBLE_EQ(v["negf"].get<double>(), -0.25);
  EXPECT_DOUBLE_EQ(v["e"].get<double>(), 1000.0);
  EXPECT_EQ(v["t"], true);
  EXPECT_EQ(v["fl"], false);
}

TEST(HclTest, Int64Limits) {
  EXPECT_EQ(parse("a = 9223372036854775807")["a"].get<int64_t>(), INT64_MAX);
  EXPECT_EQ(parse("a = -9223372036854775808")["a"].get<int64_t>(), INT64_MIN);
  EXPECT_NE(parseError("a = 9223372036854775808").find("integer out of range"), std::string::npos);
}

TEST(HclTest, ObjectsAssignedAndBlocks) {
  json v = parse(R"(
ports = { http = 8500, dns = 8600 }
connect {
  enabled = true
}
)");
  EXPECT_EQ(v["ports"], json({{"http", 8500}, {"dns", 8600}}));
  EXPECT_EQ(v["connect"], json({{"enabled", true}}));
}

TEST(HclTest, LabeledBlocks) {
  json v = parse(R"(
service "web" { port = 80 }
service "db" { port = 5432 }
sink "a" "b" { x = 1 }
)");
  EXPECT_EQ(v["service"]["web"]["port"], 80);
  EXPECT_EQ(v["service"]["db"]["port"], 5432);
  EXPECT_EQ(v["sink"]["a"]["b"]["x"], 1);
}

TEST(HclTest, IdentifierLabels) {
  json v = parse("audit sink1 { type = \"file\" }");
  EXPECT_EQ(v["audit"]["sink1"]["type"], "file");
}

TEST(HclTest, RepeatedBlocksBecomeList) {
  json v = parse(R"(
service {
  name = "a"
}
service {
  name = "b"
}
)");
  ASSERT_TRUE(v["service"].is_array());
  ASSERT_EQ(v["service"].size(), 2u);
  EXPECT_EQ(v["service"][0]["name"], "a");
  EXPECT_EQ(v["service"][1]["name"], "b");
}

TEST(HclTest, RepeatedSameLabelBecomesList) {
  json v = parse("svc \"x\" { n = 1 }\nsvc \"x\" { n = 2 }\n");
  ASSERT_TRUE(v["svc"]["x"].is_array());
  EXPECT_EQ(v["svc"]["x"][1]["n"], 2);
}

TEST(HclTest, RepeatedScalarLastWins) { EXPECT_EQ(parse("a = 1\na = 2\n")["a"], 2); }

TEST(HclTest, SingleBlockStaysObject) {
  EXPECT_TRUE(parse("service { name = \"a\" }")["service"].is_object());
}

TEST(HclTest, Lists) {
  json v = parse(R"(
a = [1, 2, 3,]
b = []
c = [
  "x", # comment
  "y"
]
d = [[1], [2, 3]]
e = [{ name = "s1" }, { name = "s2" },]
)");
  EXPECT_EQ(v["a"], json({1, 2, 3}));
  EXPECT_EQ(v["b"], json::array());
  EXPECT_EQ(v["c"], json({"x", "y"}));
  EXPECT_EQ(v["d"][1], json({2, 3}));
  EXPECT_EQ(v["e"][1]["name"], "s2");
}

TEST(HclTest, StringEscapes) {
  json v = parse(R"(
nl = "a\nb"
q = "say \"hi\""
bs = "back\\slash"
u = "caf\u00e9"
big = "\U0001F600"
pair = "\ud83d\ude00"
tab = "a\tb"
hex = "\x41"
oct = "\101"
)");
  EXPECT_EQ(v["nl"], "a\nb");
  EXPECT_EQ(v["q"], "say \"hi\"");
  EXPECT_EQ(v["bs"], "back\\slash");
  EXPECT_EQ(v["u"], "caf\xC3\xA9");
  EXPECT_EQ(v["big"], "\xF0\x9F\x98\x80");
  EXPECT_EQ(v["pair"], "\xF0\x9F\x98\x80");
  EXPECT_EQ(v["tab"], "a\tb");
  EXPECT_EQ(v["hex"], "A");
  EXPECT_EQ(v["oct"], "A");
}

TEST(HclTest, InterpolationKeptVerbatim) {
  json v = parse(R"(addr = "${env("HOST")}:80")");
  EXPECT_EQ(v["addr"], "${env(\"HOST\")}:80");
}

TEST(HclTest, Heredoc) {
  json v = parse("script = <<EOF\nline one\n  line two\nEOF\nafter = 1\n");
  EXPECT_EQ(v["script"], "line one\n  line two\n");
  EXPECT_EQ(v["after"], 1);
}

TEST(HclTest, IndentedHeredocStripsTerminatorIndent) {
  json v = parse("x {\n  s = <<-EOT\n    one\n      two\n    EOT\n}\n");
  EXPECT_EQ(v["x"]["s"], "one\n  two\n");
}

TEST(HclTest, IndentedHeredocKeepsTextWhenALineIsLessIndented) {
  json v = parse("s = <<-EOT\n    one\n  two\n    EOT\n");
  EXPECT_EQ(v["s"], "    one\n  two\n");
}

TEST(HclTest, HeredocWithCrLf) { EXPECT_EQ(parse("s = <<EOF\r\nabc\r\nEOF\r\n")["s"], "abc\n"); }

TEST(HclTest, Comments) {
  json v = parse(R"(
# hash
// slashes
/* block
   comment */ a = 1 /* inline */
b = 2 // trailing
)");
  EXPECT_EQ(v, json({{"a", 1}, {"b", 2}}));
}

TEST(HclTest, KeysIdentifiersAndQuoted) {
  json v = parse(R"(
node_meta {
  "with space" = "1"
  a.b-c_d9 = "2"
}
"quoted" = 3
)");
  EXPECT_EQ(v["node_meta"]["with space"], "1");
  EXPECT_EQ(v["node_meta"]["a.b-c_d9"], "2");
  EXPECT_EQ(v["quoted"], 3);
}

TEST(HclTest, CommasBetweenItemsAndNoSeparator) {
  EXPECT_EQ(parse("a = 1, b = 2")["b"], 2);
  EXPECT_EQ(parse("x { a = 1 b = \"s\" }")["x"]["b"], "s");
}

TEST(HclTest, LineNumbers) {
  auto r = parseHcl(R"(datacenter = "dc1"
ports {
  http = 8500

  dns = 8600
}
service {
  name = "a"
}
service {
  name = "b"
  tags = [
    "x",
    "y"]
}
)");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  const auto& lines = r->lines;
  EXPECT_EQ(r->lineOf("/datacenter"), 1);
  EXPECT_EQ(r->lineOf("/ports"), 2);
  EXPECT_EQ(r->lineOf("/ports/http"), 3);
  EXPECT_EQ(r->lineOf("/ports/dns"), 5);
  EXPECT_EQ(r->lineOf("/service"), 7);
  EXPECT_EQ(r->lineOf("/service/0"), 7);
  EXPECT_EQ(r->lineOf("/service/0/name"), 8);
  EXPECT_EQ(r->lineOf("/service/1"), 10);
  EXPECT_EQ(r->lineOf("/service/1/name"), 11);
  EXPECT_EQ(r->lineOf("/service/1/tags/1"), 14);
  EXPECT_EQ(lines.count("/service/name"), 0u);
  EXPECT_EQ(r->lineOf("/nope"), 0);
}

TEST(HclTest, LineNumbersEscapePointerTokens) {
  auto r = parseHcl("m {\n  \"a/b\" = 1\n  \"c~d\" = 2\n}\n");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->lineOf("/m/a~1b"), 2);
  EXPECT_EQ(r->lineOf("/m/c~0d"), 3);
}

TEST(HclTest, ErrorsNameLineAndColumn) {
  EXPECT_EQ(parseError("a = 1\nb = \"open\n"), "line 2, column 5: string literal not terminated");
  EXPECT_EQ(parseError("a = 1\n  b 2\n"),
            "line 2, column 5: expected '=' or '{' after key 'b', found number 2");
  EXPECT_EQ(parseError("a = 1\n}\n"), "line 2, column 1: unexpected '}'");
  EXPECT_EQ(parseError("x {\n a = 1\n"), "line 3, column 1: unexpected end of input, expected '}'");
  EXPECT_EQ(parseError("a = bogus"),
            "line 1, column 5: unexpected identifier 'bogus', expected a value");
  EXPECT_EQ(parseError("a = [1 2]"),
            "line 1, column 8: expected ',' or ']' in list, found number 2");
  EXPECT_EQ(parseError("a = \"\\q\""), "line 1, column 6: unknown escape sequence \\q");
  EXPECT_EQ(parseError("a = 10s"), "line 1, column 7: unexpected character 's' in number");
  EXPECT_EQ(parseError("/* never closed"), "line 1, column 1: comment not terminated");
  EXPECT_EQ(parseError("a = <<EOF\nno end\n"), "line 1, column 5: heredoc not terminated");
  EXPECT_EQ(parseError("a \"l\" = 1"), "line 1, column 3: unexpected string after key");
  EXPECT_EQ(parseError("a = @"), "line 1, column 5: unexpected character '@'");
  EXPECT_EQ(parseError("= 1"), "line 1, column 1: expected a key, found '='");
}

TEST(HclTest, RejectsInvalidUtf8) {
  EXPECT_NE(parseError("a = \"\xff\"").find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(parseError("a = \"\\xff\"").find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(parseError("a = \"\\ud800\"").find("invalid unicode escape"), std::string::npos);
}

TEST(HclTest, NestingDepthIsBounded) {
  std::string ok, deep_objects, deep_lists;
  for (int i = 0; i < kMaxHclDepth - 1; ++i) ok += "a {";
  ok += std::string(kMaxHclDepth - 1, '}');
  EXPECT_TRUE(parseHcl(ok).isOk());

  for (int i = 0; i < 10000; ++i) deep_objects += "a {";
  EXPECT_NE(parseError(deep_objects).find("nesting too deep"), std::string::npos);

  deep_lists = "a = " + std::string(10000, '[');
  EXPECT_NE(parseError(deep_lists).find("nesting too deep"), std::string::npos);

  std::string labels = "a";
  for (int i = 0; i < 10000; ++i) labels += " \"l\"";
  EXPECT_NE(parseError(labels + " {}").find("nesting too deep"), std::string::npos);
}

}  // namespace
}  // namespace trellis::config
