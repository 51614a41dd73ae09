#include <gtest/gtest.h>

#include "intentions/intention.h"
#include "intentions/intention_set.h"
#include "intentions/mapping.h"

namespace trellis::intentions {
namespace {

using nlohmann::json;

Intention ixn(std::string src, std::string dst, std::string action = "allow") {
  Intention i;
  i.source_name = std::move(src);
  i.destination_name = std::move(dst);
  i.action = std::move(action);
  i.precedence =
      computePrecedence(i.source_ns, i.source_name, i.destination_ns, i.destination_name);
  return i;
}

Intention l7(std::string src, std::string dst, size_t n = 1) {
  Intention i = ixn(std::move(src), std::move(dst), "");
  for (size_t k = 0; k < n; ++k) {
    model::IntentionPermission p;
    p.action = "allow";
    p.http = model::IntentionHttpMatch{};
    p.http->path_prefix = "/";
    i.permissions.push_back(p);
  }
  return i;
}

TEST(Precedence, FullConsulTable) {
  struct Row {
    const char *src_ns, *src, *dst_ns, *dst;
    int want;
  };
  const Row rows[] = {
      {"default", "web", "default", "db", 9},
      {"default", "*", "default", "db", 8},
      {"*", "*", "default", "db", 7},
      {"default", "web", "default", "*", 6},
      {"default", "*", "default", "*", 5},
      {"*", "*", "default", "*", 4},
      {"default", "web", "*", "*", 3},
      {"default", "*", "*", "*", 2},
      {"*", "*", "*", "*", 1},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(computePrecedence(r.src_ns, r.src, r.dst_ns, r.dst), r.want)
        << r.src_ns << "/" << r.src << " => " << r.dst_ns << "/" << r.dst;
  }
}

TEST(Strings, CliAndReason) {
  EXPECT_EQ(cliString(ixn("web", "db")), "web => db (allow)");
  EXPECT_EQ(cliString(ixn("*", "db", "deny")), "* => db (deny)");
  EXPECT_EQ(cliString(l7("web", "db")), "web => db (1 permission)");
  EXPECT_EQ(cliString(l7("web", "db", 3)), "web => db (3 permissions)");
  Intention other_ns = ixn("web", "db");
  other_ns.source_ns = "team";
  EXPECT_EQ(cliString(other_ns), "team/web => db (allow)");
  EXPECT_EQ(reasonString(ixn("web", "db", "deny")),
            "default/web => default/db (Precedence: 9, Action: DENY)");
  Intention legacy = ixn("web", "db");
  legacy.id = "1234";
  EXPECT_EQ(reasonString(legacy),
            "default/web => default/db (ID: 1234, Precedence: 9, Action: ALLOW)");
  EXPECT_EQ(reasonString(l7("web", "db", 2)),
            "default/web => default/db (Precedence: 9, Permissions: 2)");
}

TEST(IntentionSet, MatchOrderedByPrecedence) {
  auto set = IntentionSet::build({ixn("*", "*"), ixn("web", "*"), ixn("*", "db", "deny"),
                                  ixn("web", "db"), ixn("api", "db"), ixn("web", "cache")});
  std::vector<std::string> got;
  for (const auto* m : set->match(MatchType::kDestination, "db")) got.push_back(cliString(*m));
  EXPECT_EQ(got,
            (std::vector<std::string>{"api => db (allow)", "web => db (allow)", "* => db (deny)",
                                      "web => * (allow)", "* => * (allow)"}));
  got.clear();
  for (const auto* m : set->match(MatchType::kSource, "web")) got.push_back(cliString(*m));
  EXPECT_EQ(got,
            (std::vector<std::string>{"web => cache (allow)", "web => db (allow)", "* => db (deny)",
                                      "web => * (allow)", "* => * (allow)"}));
  EXPECT_EQ(set->match(MatchType::kDestination, "nothing").size(), 2u);  // the `*` ones
  EXPECT_EQ(set->all().front().precedence, 9);
  EXPECT_EQ(set->all().back().precedence, 5);
}

TEST(IntentionSet, AuthorizeMatrix) {
  auto set = IntentionSet::build({ixn("web", "db"), ixn("*", "db", "deny"), ixn("admin", "*"),
                                  ixn("*", "*", "deny"), l7("api", "db")});
  const DefaultPolicy allow{true, false}, deny{false, false};
  // exact allow beats wildcard-source deny
  Decision d = set->authorize("web", "db", deny);
  EXPECT_TRUE(d.authorized);
  EXPECT_EQ(d.reason,
            "Matched L4 intention: default/web => default/db (Precedence: 9, Action: "
            "ALLOW)");
  // wildcard-source deny beats wildcard-destination allow (8 > 6)
  d = set->authorize("admin", "db", allow);
  EXPECT_FALSE(d.authorized);
  EXPECT_EQ(d.match->precedence, 8);
  // wildcard destination allow beats */* deny (6 > 5)
  d = set->authorize("admin", "cache", deny);
  EXPECT_TRUE(d.authorized);
  EXPECT_EQ(d.match->precedence, 6);
  d = set->authorize("other", "cache", allow);
  EXPECT_FALSE(d.authorized);
  EXPECT_EQ(d.reason, "Matched L4 intention: default/* => default/* (Precedence: 5, Action: DENY)");
  // L7 intentions deny at L4
  d = set->authorize("api", "db", allow);
  EXPECT_FALSE(d.authorized);
  EXPECT_EQ(d.reason,
            "Matched L7 intention: default/api => default/db (Precedence: 9, "
            "Permissions: 1)");
  EXPECT_FALSE(set->check("api", "db", allow));
  EXPECT_TRUE(set->check("web", "db", deny));
}

TEST(IntentionSet, Defaults) {
  auto empty = IntentionSet::build({});
  Decision d = empty->authorize("web", "db", DefaultPolicy{true, false});
  EXPECT_TRUE(d.authorized);
  EXPECT_EQ(d.reason, kReasonDefaultAcls);
  EXPECT_EQ(d.match, nullptr);
  d = empty->authorize("web", "db", DefaultPolicy{false, false});
  EXPECT_FALSE(d.authorized);
  EXPECT_EQ(d.reason, "Default behavior configured by ACLs");
  d = empty->authorize("web", "db", DefaultPolicy{false, true});
  EXPECT_FALSE(d.authorized);
  EXPECT_EQ(d.reason, "Default intention policy");
  auto set = IntentionSet::build({ixn("web", "db", "deny")});
  EXPECT_TRUE(set->check("api", "db", DefaultPolicy{true, false}));
  EXPECT_FALSE(set->check("api", "db", DefaultPolicy{false, false}));
  EXPECT_FALSE(set->check("web", "db", DefaultPolicy{true, false}));
}

TEST(IntentionSet, PeeredSourcesNeverMatchLocalCallers) {
  Intention peered = ixn("web", "db", "deny");
  peered.source_peer = "other-cluster";
  auto set = IntentionSet::build({peered});
  EXPECT_TRUE(set->check("web", "db", DefaultPolicy{true, false}));
  EXPECT_EQ(set->match(MatchType::kDestination, "db").size(), 1u);
}

model::ConfigEntry entry(const char* text) {
  auto e = model::decodeConfigEntry(json::parse(text));
  EXPECT_TRUE(e.isOk()) << e.status().message();
  return e.isOk() ? *e : model::ConfigEntry{};
}

TEST(Mapping, EntryToIntentionsAndBack) {
  model::ConfigEntry e = entry(R"({"Kind":"service-intentions","Name":"db","Meta":{"o":"t"},
      "Sources":[{"Name":"*","Action":"deny"},{"Name":"web","Action":"allow",
      "Description":"front"}]})");
  e.create_index = 4;
  e.modify_index = 5;
  auto ixns = toIntentions(e);
  ASSERT_TRUE(ixns.isOk());
  ASSERT_EQ(ixns->size(), 2u);
  EXPECT_EQ(renderIntention((*ixns)[0]).dump(),
            R"({"ID":"","Description":"front","SourceNS":"default","SourceName":"web",)"
            R"("DestinationNS":"default","DestinationName":"db","SourceType":"consul",)"
            R"("Action":"allow","Meta":{"o":"t"},"Precedence":9,)"
            R"("CreatedAt":"0001-01-01T00:00:00Z","UpdatedAt":"0001-01-01T00:00:00Z",)"
            R"("CreateIndex":4,"ModifyIndex":5})");
  EXPECT_EQ((*ixns)[1].precedence, 8);

  // exact upsert replaces by source name and adds new sources
  auto body = decodeIntention(json::parse(R"({"source_type":"consul","Action":"deny"})"));
  ASSERT_TRUE(body.isOk()) << body.status().message();
  Intention upd = *body;
  upd.source_name = "web";
  upd.destination_name = "db";
  auto written = upsertBySourceName(&e, upd);
  ASSERT_TRUE(written.isOk()) << written.status().message();
  EXPECT_EQ(written->create_index, 4u);
  auto after = toIntentions(*written);
  EXPECT_EQ((*after)[0].action, "deny");
  EXPECT_EQ((*after)[0].description, "");
  upd.source_name = "api";
  upd.permissions = l7("api", "db").permissions;
  upd.action.clear();
  written = upsertBySourceName(&*written, upd);
  ASSERT_TRUE(written.isOk()) << written.status().message();
  EXPECT_EQ(toIntentions(*written)->size(), 3u);

  // a new entry from nothing
  auto fresh = upsertBySourceName(nullptr, ixn("web", "cache"));
  ASSERT_TRUE(fresh.isOk());
  EXPECT_EQ(fresh->name, "cache");
  EXPECT_EQ(fresh->kind, "service-intentions");

  // delete by source; the last delete removes the entry
  auto removed = removeBySourceName(*fresh, "web");
  ASSERT_TRUE(removed.isOk());
  EXPECT_FALSE(removed->has_value());
  EXPECT_EQ(removeBySourceName(*fresh, "nope").status().code(), Code::kNotFound);
  auto partial = removeBySourceName(*written, "api");
  ASSERT_TRUE(partial.isOk() && partial->has_value());
  EXPECT_EQ(toIntentions(**partial)->size(), 2u);
}

TEST(Mapping, WriteErrors) {
  Intention with_meta = ixn("web", "db");
  with_meta.meta["a"] = "b";
  EXPECT_EQ(upsertBySourceName(nullptr, with_meta).status().message(),
            "Meta must not be specified");
  EXPECT_EQ(upsertBySourceName(nullptr, ixn("we*", "db")).status().message(),
            "SourceName: wildcard character '*' cannot be used with partial values");
  EXPECT_EQ(upsertBySourceName(nullptr, ixn("", "db")).status().message(),
            "SourceName must be set");
  EXPECT_EQ(upsertBySourceName(nullptr, ixn("web", "db", "maybe")).status().message(),
            "Sources[0].Action must be set to 'allow' or 'deny'");
  Intention ns = ixn("web", "db");
  ns.source_ns = "team";
  EXPECT_FALSE(upsertBySourceName(nullptr, ns).isOk());
  Intention wild_l7 = l7("web", "*");
  EXPECT_EQ(upsertBySourceName(nullptr, wild_l7).status().message(),
            "Sources[0].Permissions cannot be specified on intentions with wildcarded "
            "destinations");
  auto bad_perm = decodeIntention(json::parse(R"({"Permissions":[{"Action":"allow","HTTP":
      {"PathExact":"/a","PathPrefix":"/b"}}]})"));
  ASSERT_TRUE(bad_perm.isOk());
  bad_perm->source_name = "web";
  bad_perm->destination_name = "db";
  EXPECT_EQ(upsertBySourceName(nullptr, *bad_perm).status().message(),
            "Sources[0].Permissions[0].HTTP should only contain at most one of PathExact, "
            "PathPrefix, or PathRegex");
  EXPECT_EQ(decodeIntention(json::parse(R"({"Bogus":true})")).status().message(),
            "Request decode failed: json: unknown field \"Bogus\"");
}

TEST(Mapping, LegacyIdsRoundTrip) {
  Intention a = ixn("web", "db");
  a.id = "11111111-2222-3333-4444-555555555555";
  a.meta = {{"k", "v"}};
  a.created_at = "2021-01-01T00:00:00Z";
  a.updated_at = "2021-01-01T00:00:00Z";
  auto e = upsertLegacy(nullptr, a);
  ASSERT_TRUE(e.isOk()) << e.status().message();
  auto list = toIntentions(*e);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, a.id);
  EXPECT_EQ((*list)[0].meta.at("k"), "v");
  EXPECT_EQ((*list)[0].created_at, "2021-01-01T00:00:00Z");
  // update keeps the create time
  a.action = "deny";
  a.created_at = "2030-01-01T00:00:00Z";
  a.updated_at = "2022-01-01T00:00:00Z";
  auto e2 = upsertLegacy(&*e, a);
  ASSERT_TRUE(e2.isOk()) << e2.status().message();
  list = toIntentions(*e2);
  EXPECT_EQ((*list)[0].created_at, "2021-01-01T00:00:00Z");
  EXPECT_EQ((*list)[0].updated_at, "2022-01-01T00:00:00Z");
  EXPECT_EQ((*list)[0].action, "deny");
  // same source under another ID is a duplicate
  Intention dup = a;
  dup.id = "other";
  EXPECT_EQ(upsertLegacy(&*e2, dup).status().message(),
            "duplicate intention found: web => db (deny)");
  Intention perm = l7("api", "db");
  perm.id = "x";
  perm.created_at = perm.updated_at = "2021-01-01T00:00:00Z";
  EXPECT_FALSE(upsertLegacy(&*e2, perm).isOk());
  auto gone = removeByLegacyId(*e2, a.id);
  ASSERT_TRUE(gone.isOk());
  EXPECT_FALSE(gone->has_value());
}

TEST(Mapping, ParseTarget) {
  EXPECT_EQ(parseIntentionTarget("web")->second, "web");
  EXPECT_EQ(parseIntentionTarget("web")->first, "default");
  EXPECT_EQ(parseIntentionTarget("default/web")->second, "web");
  EXPECT_EQ(parseIntentionTarget("default/default/web")->second, "web");
  EXPECT_FALSE(parseIntentionTarget("team/web").isOk());
  EXPECT_FALSE(parseIntentionTarget("a/b/c/d").isOk());
  EXPECT_FALSE(parseIntentionTarget("").isOk());
}

}  // namespace
}  // namespace trellis::intentions
