#include "filter/parser.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "filter/expression.h"
#include "filter/test_util.h"

namespace trellis::filter::detail {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::trellis::filter::testing::parseError;

// Parses a single condition and returns it.
Match parseMatch(std::string_view text) {
  auto root = parseExpression(text);
  EXPECT_TRUE(root.isOk()) << text << " -> " << root.status().message();
  if (!root.isOk()) return {};
  EXPECT_EQ((*root)->kind, NodeKind::kMatch) << text;
  return (*root)->match;
}

TEST(Parser, EveryOperator) {
  struct Case {
    const char* text;
    MatchOp op;
    const char* value;
  };
  const Case cases[] = {
      {"Sel == \"v\"", MatchOp::kEqual, "v"},
      {"Sel != \"v\"", MatchOp::kNotEqual, "v"},
      {"Sel is empty", MatchOp::kIsEmpty, ""},
      {"Sel is not empty", MatchOp::kIsNotEmpty, ""},
      {"\"v\" in Sel", MatchOp::kIn, "v"},
      {"\"v\" not in Sel", MatchOp::kNotIn, "v"},
      {"Sel contains \"v\"", MatchOp::kIn, "v"},
      {"Sel not contains \"v\"", MatchOp::kNotIn, "v"},
      {"Sel matches \"v\"", MatchOp::kMatches, "v"},
      {"Sel not matches \"v\"", MatchOp::kNotMatches, "v"},
  };
  for (const auto& c : cases) {
    Match m = parseMatch(c.text);
    EXPECT_EQ(m.op, c.op) << c.text;
    EXPECT_EQ(m.value, c.value) << c.text;
    EXPECT_THAT(m.path, ElementsAre("Sel")) << c.text;
  }
}

TEST(Parser, OperatorsNeedNoSpacesAroundEquality) {
  EXPECT_EQ(parseMatch("Sel==\"v\"").value, "v");
  EXPECT_EQ(parseMatch("  Sel!=v  ").op, MatchOp::kNotEqual);
}

TEST(Parser, ValueForms) {
  EXPECT_EQ(parseMatch(R"(A == "a\"b\\c\n\t\x41\101\u00e9")").value, "a\"b\\c\n\tAA\xC3\xA9");
  EXPECT_EQ(parseMatch(R"(A == `raw \n "q"`)").value, R"(raw \n "q")");
  EXPECT_EQ(parseMatch("A == 8080").value, "8080");
  EXPECT_EQ(parseMatch("A == -12.50").value, "-12.50");
  EXPECT_EQ(parseMatch("A == 0").value, "0");
  EXPECT_EQ(parseMatch("A == true").value, "true");
  EXPECT_EQ(parseMatch("A == passing").value, "passing");
  // A bare dotted word is kept as go-bexpr prints a selector.
  EXPECT_EQ(parseMatch("A == web.service").value, "web.service");
  EXPECT_EQ(parseMatch("passing in A").value, "passing");
  EXPECT_EQ(parseMatch("42 in A").value, "42");
  EXPECT_EQ(parseMatch("`x` in A").value, "x");
}

TEST(Parser, SelectorForms) {
  EXPECT_THAT(parseMatch("Service.Meta.env == a").path, ElementsAre("Service", "Meta", "env"));
  EXPECT_THAT(parseMatch(R"(ServiceMeta["x-y"] == a)").path, ElementsAre("ServiceMeta", "x-y"));
  EXPECT_THAT(parseMatch(R"(ServiceMeta[ "a.b" ].c == a)").path,
              ElementsAre("ServiceMeta", "a.b", "c"));
  EXPECT_THAT(parseMatch("M[`k`] == a").path, ElementsAre("M", "k"));
  EXPECT_THAT(parseMatch("Tags.0 == a").path, ElementsAre("Tags", "0"));
  EXPECT_THAT(parseMatch("Field_2 == a").path, ElementsAre("Field_2"));
  EXPECT_THAT(parseMatch(R"("/Service/Meta/x-y" == a)").path,
              ElementsAre("Service", "Meta", "x-y"));
  EXPECT_THAT(parseMatch(R"("/a~1b/c~0d" == a)").path, ElementsAre("a/b", "c~d"));
  EXPECT_THAT(parseMatch(R"(v in "/Service/Tags")").path, ElementsAre("Service", "Tags"));
  EXPECT_TRUE(parseMatch(R"("" is empty)").path.empty());
}

TEST(Parser, PrecedenceNotAndOr) {
  // a or b and not c  ==  a or (b and (not c))
  auto root = parseExpression("A == 1 or B == 2 and not C == 3");
  ASSERT_TRUE(root.isOk());
  const Node& top = **root;
  ASSERT_EQ(top.kind, NodeKind::kOr);
  ASSERT_EQ(top.children.size(), 2u);
  EXPECT_EQ(top.children[0]->kind, NodeKind::kMatch);
  const Node& conj = *top.children[1];
  ASSERT_EQ(conj.kind, NodeKind::kAnd);
  EXPECT_EQ(conj.children[1]->kind, NodeKind::kNot);

  auto grouped = parseExpression("(A == 1 or B == 2) and C == 3");
  ASSERT_TRUE(grouped.isOk());
  ASSERT_EQ((*grouped)->kind, NodeKind::kAnd);
  EXPECT_EQ((*grouped)->children[0]->kind, NodeKind::kOr);
}

TEST(Parser, ChainsAreFlat) {
  std::string text = "A == 1";
  for (int i = 0; i < 1000; ++i) text += " and A == 1";
  auto root = parseExpression(text);
  ASSERT_TRUE(root.isOk());
  EXPECT_EQ((*root)->children.size(), 1001u);
}

TEST(Parser, ErrorsNameTheProblemAndPosition) {
  EXPECT_EQ(parseError(R"(Node == "web)"), "unterminated string literal at position 9");
  EXPECT_EQ(parseError("Node == `web"), "unterminated string literal at position 9");
  EXPECT_EQ(parseError(R"(Node == "web\)"), "unterminated string literal at position 9");
  EXPECT_EQ(parseError("Node =="),
            "expected a value after '==', found end of expression at "
            "position 8");
  EXPECT_EQ(parseError("Node == a and"),
            "expected a condition, found end of expression at position 14");
  EXPECT_EQ(parseError("not"), "expected a condition, found end of expression at position 4");
  EXPECT_EQ(parseError("and Node == a"), "expected a condition, found 'and' at position 1");
  EXPECT_THAT(parseError("Node equals a"), HasSubstr("expected an operator (==, !=, is empty"));
  EXPECT_THAT(parseError("Node equals a"), HasSubstr("found 'equals' at position 6"));
  EXPECT_EQ(parseError("Node == a AND Node == b"),
            "expected 'and', 'or' or end of expression, found 'AND' at position 11 (keywords are "
            "lowercase)");
  EXPECT_THAT(parseError("Tags CONTAINS a"), HasSubstr("(keywords are lowercase)"));
  EXPECT_THAT(parseError(R"(Node matches "(")"), HasSubstr("invalid regular expression ("));
  EXPECT_THAT(parseError(R"(Node matches "(")"), HasSubstr("at position 14"));
  EXPECT_EQ(parseError("Node is full"),
            "expected 'empty' or 'not empty' after 'is', found 'full' at position 9");
  EXPECT_EQ(parseError("Node not equals a"),
            "expected 'in', 'contains' or 'matches' after 'not', found 'equals' at position 10");
  EXPECT_EQ(parseError("(Node == a"),
            "expected ')' to close '(' at position 1, found end of expression at position 11");
  EXPECT_EQ(parseError("Node == a)"), "unmatched ')' at position 10");
  EXPECT_EQ(parseError("Port == 12ab"), "invalid number literal at position 9");
  EXPECT_EQ(parseError("Port == 012"), "invalid number literal at position 9");
  EXPECT_EQ(parseError("Meta[x] == a"),
            "invalid index: expected a quoted string after '[' at position 6");
  EXPECT_EQ(parseError(R"(Meta["x" == a)"),
            "unclosed index expression opened at position 5 at position 10");
  EXPECT_EQ(parseError("Meta. == a"), "expected a field name after '.', found ' ' at position 6");
  EXPECT_THAT(parseError(R"("web" == Node)"), HasSubstr("expected 'in' or 'not in' after a value"));
  EXPECT_EQ(parseError("a in 5"), "expected a selector after 'in', found '5' at position 6");
  EXPECT_EQ(parseError(R"(a in "Tags")"),
            "invalid selector: quoted selectors are JSON pointers at position 6");
  EXPECT_EQ(parseError(R"(A == "\q")"),
            "invalid escape sequence 'q' in string literal at position 7");
  EXPECT_EQ(parseError(R"(A == "\uD800")"),
            "invalid Unicode code point in string literal at position 7");
  EXPECT_EQ(parseError(""), "filter expression is empty");
  EXPECT_EQ(parseError(" \t\n"), "filter expression is empty");
  EXPECT_EQ(parseError("Node == a\x01"),
            "expected 'and', 'or' or end of expression, found byte 0x01 at position 10");
}

TEST(Parser, BoundsNestingAndLength) {
  std::string nested;
  for (int i = 0; i < kMaxNestingDepth; ++i) nested += "(";
  nested += "A == 1";
  for (int i = 0; i < kMaxNestingDepth; ++i) nested += ")";
  EXPECT_EQ(parseError(nested), "<parsed>");
  EXPECT_THAT(parseError("(" + nested + ")"), HasSubstr("nested more than 64 levels deep"));

  std::string nots;
  for (int i = 0; i < 100000 / 4; ++i) nots += "not ";
  EXPECT_THAT(parseError(nots.substr(0, kMaxExpressionBytes - 8) + "A == 1"),
              HasSubstr("nested more than 64 levels deep"));
  EXPECT_THAT(parseError(std::string(kMaxExpressionBytes + 1, ' ')),
              HasSubstr("longer than 16384 bytes"));
}

}  // namespace
}  // namespace trellis::filter::detail
