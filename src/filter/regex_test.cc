#include "filter/regex.h"

#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace trellis::filter::detail {
namespace {

using ::testing::HasSubstr;

TEST(Regex, SearchIsUnanchored) {
  auto re = compileRegex("eb-[0-9]+");
  ASSERT_TRUE(re.isOk()) << re.status().message();
  EXPECT_TRUE(regexSearch(*re, "web-12.dc1"));
  EXPECT_FALSE(regexSearch(*re, "web-x"));
  auto anchored = compileRegex("^web-");
  ASSERT_TRUE(anchored.isOk());
  EXPECT_FALSE(regexSearch(*anchored, "api-web-1"));
}

TEST(Regex, LeadingCaseInsensitiveFlag) {
  auto re = compileRegex("(?i)^WEB");
  ASSERT_TRUE(re.isOk()) << re.status().message();
  EXPECT_TRUE(regexSearch(*re, "web-1"));
  auto sensitive = compileRegex("^WEB");
  ASSERT_TRUE(sensitive.isOk());
  EXPECT_FALSE(regexSearch(*sensitive, "web-1"));
}

TEST(Regex, RejectsInvalidPatterns) {
  EXPECT_FALSE(compileRegex("(unclosed").isOk());
  EXPECT_FALSE(compileRegex("[a-").isOk());
  EXPECT_FALSE(compileRegex("*x").isOk());
  // Balanced only once wrapped for searching; must still be rejected.
  EXPECT_FALSE(compileRegex("a)(b").isOk());
}

TEST(Regex, RejectsBackreferencesLikeRe2) {
  EXPECT_EQ(compileRegex("(a)\\1").status().message(), "backreferences are not supported");
}

TEST(Regex, BoundsSizeAndRepeats) {
  EXPECT_THAT(compileRegex(std::string(513, 'a')).status().message(), HasSubstr("longer than"));
  EXPECT_TRUE(compileRegex(std::string(512, 'a')).isOk());
  EXPECT_THAT(compileRegex("a{1001}").status().message(), HasSubstr("repeat count"));
  EXPECT_TRUE(compileRegex("[a-z]{1000}").isOk());
  EXPECT_THAT(compileRegex("((a{100}){100}){100}").status().message(),
              HasSubstr("too many states"));
  EXPECT_THAT(compileRegex("(a?){900}(b?){900}(c?){900}(d?){900}(e?){900}").status().message(),
              HasSubstr("too many states"));
}

TEST(Regex, NestedQuantifiersStayFast) {
  // Exponential for a backtracking matcher; linear-ish in polynomial mode.
  auto re = compileRegex("^(a+)+$");
  ASSERT_TRUE(re.isOk());
  EXPECT_FALSE(regexSearch(*re, std::string(64, 'a') + "b"));
  EXPECT_TRUE(regexSearch(*re, std::string(64, 'a')));
}

// Regression: libstdc++'s regex_search restarts the automaton at every offset, so `.*503.*` over
// 64 KiB of check output took minutes. The single anchored pass takes milliseconds.
TEST(Regex, SearchOnLongSubjectIsNotQuadratic) {
  auto re = compileRegex(".*503.*");
  ASSERT_TRUE(re.isOk());
  std::string output(64 * 1024, 'x');
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(regexSearch(*re, output));
  output.replace(40000, 3, "503");
  EXPECT_TRUE(regexSearch(*re, output));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Regex, AnchorsKeepTheirMeaningInsideTheSearchWrapper) {
  auto re = compileRegex("^web$|^api");
  ASSERT_TRUE(re.isOk());
  EXPECT_TRUE(regexSearch(*re, "web"));
  EXPECT_TRUE(regexSearch(*re, "api-1"));
  EXPECT_FALSE(regexSearch(*re, "my-web"));
  EXPECT_FALSE(regexSearch(*re, "web-1"));
  EXPECT_FALSE(regexSearch(*re, "x-api"));
}

}  // namespace
}  // namespace trellis::filter::detail
