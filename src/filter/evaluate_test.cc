// Evaluation semantics, through the public API.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "filter/expression.h"
#include "filter/test_util.h"

namespace trellis::filter {
namespace {

using nlohmann::json;
using testing::eval;

const json& sample() {
  static const json kSample = json::parse(R"({
    "Name": "web",
    "Port": 8080,
    "Offset": -3,
    "Weight": 1.5,
    "Enabled": true,
    "Empty": "",
    "Tags": ["v1", "primary"],
    "NoTags": [],
    "Nums": [1, 2, 3],
    "Meta": {"env": "prod", "x-y": "z", "a.b": "dot", "count": "3"},
    "NoMeta": {},
    "Nothing": null,
    "Nested": {"Inner": {"Leaf": "deep"}},
    "Checks": [
      {"CheckID": "c1", "Status": "passing", "Meta": {"k": "v"}},
      {"CheckID": "c2", "Status": "critical", "Tags": ["x"]}
    ],
    "Grid": [[{"V": "a"}], [{"V": "b"}]]
  })");
  return kSample;
}

TEST(Evaluate, EqualityOnStrings) {
  EXPECT_TRUE(eval("Name == \"web\"", sample()));
  EXPECT_TRUE(eval("Name == web", sample()));
  EXPECT_TRUE(eval("Name == `web`", sample()));
  EXPECT_FALSE(eval("Name == \"Web\"", sample()));
  EXPECT_FALSE(eval("Name == \"we\"", sample()));
  EXPECT_TRUE(eval("Name != api", sample()));
  EXPECT_FALSE(eval("Name != web", sample()));
  EXPECT_TRUE(eval("Empty == \"\"", sample()));
}

TEST(Evaluate, NumbersCoerceTheLiteral) {
  EXPECT_TRUE(eval("Port == 8080", sample()));
  EXPECT_TRUE(eval("Port == \"8080\"", sample()));
  EXPECT_TRUE(eval("Port == \"0x1F90\"", sample()));
  EXPECT_FALSE(eval("Port == 8081", sample()));
  EXPECT_TRUE(eval("Port != 8081", sample()));
  EXPECT_FALSE(eval("Port == -1", sample()));
  EXPECT_TRUE(eval("Port != -1", sample()));
  EXPECT_TRUE(eval("Offset == -3", sample()));
  EXPECT_TRUE(eval("Weight == 1.5", sample()));
  EXPECT_TRUE(eval("Weight == \"15e-1\"", sample()));
  EXPECT_TRUE(eval("Port == 8080.0", sample()));   // float fields rendered without a fraction
  EXPECT_TRUE(eval("Meta.count == 3", sample()));  // string field: compared as text
  EXPECT_FALSE(eval("Meta.count == 3.0", sample()));
}

TEST(Evaluate, BoolsCoerceTheLiteral) {
  EXPECT_TRUE(eval("Enabled == true", sample()));
  EXPECT_TRUE(eval("Enabled == \"true\"", sample()));
  EXPECT_TRUE(eval("Enabled == T", sample()));
  EXPECT_TRUE(eval("Enabled == 1", sample()));
  EXPECT_FALSE(eval("Enabled == false", sample()));
  EXPECT_TRUE(eval("Enabled != false", sample()));
}

TEST(Evaluate, UnconvertibleLiteralExcludesTheElement) {
  // go-bexpr fails the request; we drop the element for both polarities.
  EXPECT_FALSE(eval("Port == abc", sample()));
  EXPECT_FALSE(eval("Port != abc", sample()));
  EXPECT_FALSE(eval("Enabled != maybe", sample()));
  EXPECT_FALSE(eval("Tags == v1", sample()));  // == on a list
  EXPECT_FALSE(eval("Port is empty", sample()));
  EXPECT_FALSE(eval("Port is not empty", sample()));
  EXPECT_FALSE(eval("\"8\" in Port", sample()));
  EXPECT_FALSE(eval("\"8\" not in Port", sample()));
  EXPECT_FALSE(eval("Port matches \"8\"", sample()));
  EXPECT_FALSE(eval("Port not matches \"8\"", sample()));
  EXPECT_FALSE(eval("Name.Sub == a", sample()));  // a string has no fields
}

TEST(Evaluate, MembershipInListsMapsAndStrings) {
  EXPECT_TRUE(eval("\"v1\" in Tags", sample()));
  EXPECT_TRUE(eval("primary in Tags", sample()));
  EXPECT_FALSE(eval("\"v2\" in Tags", sample()));
  EXPECT_TRUE(eval("\"v2\" not in Tags", sample()));
  EXPECT_FALSE(eval("\"v1\" not in Tags", sample()));
  EXPECT_TRUE(eval("Tags contains v1", sample()));
  EXPECT_TRUE(eval("Tags not contains v2", sample()));
  EXPECT_TRUE(eval("2 in Nums", sample()));
  EXPECT_TRUE(eval("\"0x2\" in Nums", sample()));
  EXPECT_FALSE(eval("x in Nums", sample()));
  EXPECT_TRUE(eval("env in Meta", sample()));
  EXPECT_TRUE(eval("\"x-y\" in Meta", sample()));
  EXPECT_FALSE(eval("prod in Meta", sample()));  // keys, not values
  EXPECT_TRUE(eval("Meta contains env", sample()));
  EXPECT_TRUE(eval("\"eb\" in Name", sample()));
  EXPECT_TRUE(eval("Name contains \"we\"", sample()));
  EXPECT_FALSE(eval("Name contains \"api\"", sample()));
  EXPECT_TRUE(eval("Name not contains \"api\"", sample()));
  EXPECT_FALSE(eval("v1 in NoTags", sample()));
}

TEST(Evaluate, Emptiness) {
  EXPECT_TRUE(eval("Empty is empty", sample()));
  EXPECT_FALSE(eval("Name is empty", sample()));
  EXPECT_TRUE(eval("Name is not empty", sample()));
  EXPECT_TRUE(eval("NoTags is empty", sample()));
  EXPECT_FALSE(eval("Tags is empty", sample()));
  EXPECT_TRUE(eval("NoMeta is empty", sample()));
  EXPECT_TRUE(eval("Meta is not empty", sample()));
  EXPECT_TRUE(eval("Nothing is empty", sample()));
  EXPECT_FALSE(eval("Nothing is not empty", sample()));
}

TEST(Evaluate, RegexMatches) {
  EXPECT_TRUE(eval("Name matches \"^w.b$\"", sample()));
  EXPECT_TRUE(eval("Name matches \"e\"", sample()));
  EXPECT_FALSE(eval("Name matches \"^api\"", sample()));
  EXPECT_TRUE(eval("Name not matches \"^api\"", sample()));
  EXPECT_TRUE(eval("Meta.env matches `^pr(od|eprod)$`", sample()));
  EXPECT_TRUE(eval("Name matches \"(?i)WEB\"", sample()));
}

TEST(Evaluate, MissingAndNullFields) {
  // Documented disposition: nothing equals, contains or matches a missing value; it is empty.
  for (const char* sel : {"Missing", "Meta.missing", "Meta[\"nope\"]", "Nested.Nope.Leaf",
                          "Nothing", "Nothing.Below"}) {
    std::string s(sel);
    EXPECT_FALSE(eval(s + " == x", sample())) << s;
    EXPECT_TRUE(eval(s + " != x", sample())) << s;
    EXPECT_TRUE(eval(s + " is empty", sample())) << s;
    EXPECT_FALSE(eval(s + " is not empty", sample())) << s;
    EXPECT_FALSE(eval("x in " + s, sample())) << s;
    EXPECT_TRUE(eval("x not in " + s, sample())) << s;
    EXPECT_FALSE(eval(s + " contains x", sample())) << s;
    EXPECT_FALSE(eval(s + " matches \".*\"", sample())) << s;
    EXPECT_TRUE(eval(s + " not matches \".*\"", sample())) << s;
  }
}

TEST(Evaluate, MapIndexSelectors) {
  EXPECT_TRUE(eval("Meta.env == prod", sample()));
  EXPECT_TRUE(eval("Meta[\"env\"] == prod", sample()));
  EXPECT_TRUE(eval("Meta[\"x-y\"] == z", sample()));
  EXPECT_TRUE(eval("Meta[\"a.b\"] == dot", sample()));
  EXPECT_TRUE(eval("\"/Meta/x-y\" == z", sample()));
  EXPECT_TRUE(eval("Nested.Inner.Leaf == deep", sample()));
  EXPECT_TRUE(eval("Nested[\"Inner\"].Leaf == deep", sample()));
  EXPECT_FALSE(eval("meta.env == prod", sample()));  // field names are case-sensitive
}

TEST(Evaluate, ListOfObjectsMeansAnyElement) {
  EXPECT_TRUE(eval("Checks.Status == critical", sample()));
  EXPECT_TRUE(eval("Checks.Status == passing", sample()));
  EXPECT_FALSE(eval("Checks.Status == warning", sample()));
  // Any element, with the operator applied per element (go-bexpr's rule): some check is not
  // passing, so != passing holds.
  EXPECT_TRUE(eval("Checks.Status != passing", sample()));
  EXPECT_FALSE(eval("not Checks.Status != passing and Checks.Status != warning", sample()));
  EXPECT_TRUE(eval("Checks.CheckID matches \"^c2$\"", sample()));
  EXPECT_TRUE(eval("x in Checks.Tags", sample()));
  EXPECT_TRUE(eval("Checks.Meta.k == v", sample()));
  EXPECT_TRUE(eval("Checks.Nope is empty", sample()));       // a missing key in any element
  EXPECT_FALSE(eval("NoTags.Status == passing", sample()));  // no elements: never true
  EXPECT_FALSE(eval("NoTags.Status != passing", sample()));
  EXPECT_TRUE(eval("Grid.V == b", sample()));  // lists of lists too
}

TEST(Evaluate, NumericSegmentsIndexLists) {
  EXPECT_TRUE(eval("Tags.0 == v1", sample()));
  EXPECT_TRUE(eval("Tags.1 == primary", sample()));
  EXPECT_FALSE(eval("Tags.1 == v1", sample()));
  EXPECT_TRUE(eval("Tags.7 is empty", sample()));
  EXPECT_TRUE(eval("Checks.1.Status == critical", sample()));
  EXPECT_FALSE(eval("Checks.0.Status == critical", sample()));
}

TEST(Evaluate, BooleanLogicAndPrecedence) {
  EXPECT_TRUE(eval("Name == web and Port == 8080", sample()));
  EXPECT_FALSE(eval("Name == web and Port == 1", sample()));
  EXPECT_TRUE(eval("Name == api or Port == 8080", sample()));
  EXPECT_FALSE(eval("Name == api or Port == 1", sample()));
  EXPECT_TRUE(eval("not Name == api", sample()));
  EXPECT_TRUE(eval("not not Name == web", sample()));
  // and binds tighter than or: true or (false and false)
  EXPECT_TRUE(eval("Name == web or Name == api and Port == 1", sample()));
  EXPECT_FALSE(eval("(Name == web or Name == api) and Port == 1", sample()));
  // not binds tighter than and: (not true) and true
  EXPECT_FALSE(eval("not Name == web and Port == 8080", sample()));
  EXPECT_TRUE(eval("not (Name == web and Port == 1)", sample()));
  EXPECT_TRUE(eval("((Name == web))", sample()));
  EXPECT_TRUE(eval("not(Name == api)", sample()));
}

TEST(Evaluate, ElementItselfViaEmptyPointer) {
  EXPECT_TRUE(eval("\"\" is not empty", sample()));
  EXPECT_TRUE(eval("\"\" contains Name", sample()));
  EXPECT_TRUE(eval("\"\" == x", json("x")));
}

TEST(Evaluate, NonObjectElements) {
  auto expr = Expression::parse("Name == web or \"\" is empty or Port != 1");
  ASSERT_TRUE(expr.isOk());
  EXPECT_FALSE(expr->matches(json(42)));      // scalars have no fields and no length
  EXPECT_TRUE(expr->matches(json::array()));  // the empty element is empty
  EXPECT_TRUE(eval("Name != web", json()));   // a null element has no fields at all
  EXPECT_FALSE(eval("Name == web", json()));
}

TEST(Evaluate, ExpressionsAreCopyableAndShareState) {
  auto parsed = Expression::parse("Name == web");
  ASSERT_TRUE(parsed.isOk());
  Expression copy = *parsed;
  Expression moved = std::move(copy);
  EXPECT_TRUE(moved.matches(sample()));
  EXPECT_TRUE(parsed->matches(sample()));
}

}  // namespace
}  // namespace trellis::filter
