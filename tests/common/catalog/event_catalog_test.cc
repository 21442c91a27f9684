#include "common/catalog/event_catalog.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

using ::testing::Eq;
using ::testing::IsNull;
using ::testing::NotNull;
using ::testing::Optional;

// One schema in the format of testdata/python_catalog.txt (which the Python
// reference model printed).
std::string LifecycleLine(const std::optional<NotificationLifecycle>& lc) {
  if (!lc.has_value()) return "none";
  std::vector<std::string> kinds;
  if (lc->creates) kinds.push_back("creates");
  if (lc->updates) kinds.push_back("updates");
  if (lc->resolves) kinds.push_back("resolves");
  return absl::StrCat(kinds.empty() ? "-" : absl::StrJoin(kinds, "+"),
                      " group=", lc->group_key.value_or("-"), " meaningful=[",
                      absl::StrJoin(lc->meaningful_fields, ","), "] silent=[",
                      absl::StrJoin(lc->silent_fields, ","), "]");
}

std::string SchemaLine(const EventSchema& s) {
  return absl::StrCat(s.event_type, " | ", std::string(LevelName(s.default_level)), " | ",
                      std::string(VisibilityName(s.default_visibility)), " | ", s.domain,
                      " | idem=[", absl::StrJoin(s.idempotency_fields, ","), "] | ",
                      LifecycleLine(s.lifecycle), " | ", s.actionable ? "actionable" : "-", " | ",
                      s.description);
}

EventSchema Schema(std::string type, std::vector<std::string> idem = {}) {
  EventSchema s;
  s.event_type = std::move(type);
  s.description = "test";
  s.default_level = Level::kOperational;
  s.domain = "test";
  s.idempotency_fields = std::move(idem);
  return s;
}

TEST(EventCatalogTest, FindsRegisteredSchemaAndNothingElse) {
  EventCatalog catalog;
  ASSERT_TRUE(catalog.Register(Schema("a.b", {"x"})).ok());
  const EventSchema* found = catalog.Find("a.b");
  ASSERT_THAT(found, NotNull());
  EXPECT_EQ(found->event_type, "a.b");
  EXPECT_EQ(found->idempotency_fields, std::vector<std::string>{"x"});
  EXPECT_THAT(catalog.Find("a.c"), IsNull());
  EXPECT_THAT(catalog.Find(""), IsNull());
}

TEST(EventCatalogTest, RejectsDuplicateRegistration) {
  EventCatalog catalog;
  ASSERT_TRUE(catalog.Register(Schema("a.b")).ok());
  absl::Status status = catalog.Register(Schema("a.b", {"y"}));
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message(), "event type already registered: a.b");
  // The first registration is kept.
  EXPECT_TRUE(catalog.Find("a.b")->idempotency_fields.empty());
  EXPECT_EQ(catalog.size(), 1u);
}

TEST(EventCatalogTest, RejectsEmptyType) {
  EventCatalog catalog;
  EXPECT_EQ(catalog.Register(Schema("")).code(), absl::StatusCode::kInvalidArgument);
}

TEST(EventCatalogTest, ListsAllSortedByType) {
  EventCatalog catalog;
  for (const char* t : {"b.x", "a.z", "c", "a.a"}) {
    ASSERT_TRUE(catalog.Register(Schema(t)).ok());
  }
  std::vector<std::string> types;
  for (const EventSchema* s : catalog.ListAll()) types.push_back(s->event_type);
  EXPECT_EQ(types, (std::vector<std::string>{"a.a", "a.z", "b.x", "c"}));
}

TEST(EventCatalogTest, PointersSurviveMove) {
  EventCatalog catalog;
  ASSERT_TRUE(catalog.Register(Schema("a.b")).ok());
  const EventSchema* before = catalog.Find("a.b");
  EventCatalog moved = std::move(catalog);
  EXPECT_EQ(moved.Find("a.b"), before);
}

TEST(EventCatalogTest, DefaultCatalogHasDesignTableRows) {
  EventCatalog catalog = BuildDefaultCatalog();
  // DESIGN §5, row by row, plus the installer's own types.
  const char* kTypes[] = {
      "cartridge.published", "cartridge.install_pending", "cartridge.install_notified",
      "cartridge.installed", "cartridge.invoked",         "cartridge.promotion_suggested",
      "mesh.event.rejected", "cartridge.install_failed",  "cartridge.suspended",
      "cartridge.rejected",
  };
  std::string printed;
  for (const char* type : kTypes) {
    const EventSchema* s = catalog.Find(type);
    ASSERT_THAT(s, NotNull()) << type;
    std::string line = SchemaLine(*s);
    // Drop the description: the table fixes everything but the prose.
    printed += line.substr(0, line.rfind(" | ")) + "\n";
  }
  EXPECT_EQ(printed,
            "cartridge.published | WORKFLOW | public | cartridge | "
            "idem=[author,name,version] | creates group=- meaningful=[] "
            "silent=[] | actionable\n"
            "cartridge.install_pending | WORKFLOW | local | cartridge | "
            "idem=[name,sha256] | creates group=- meaningful=[] silent=[] | "
            "actionable\n"
            "cartridge.install_notified | OPERATIONAL | local | cartridge | "
            "idem=[name,sha256] | creates group=- meaningful=[] silent=[] | -\n"
            "cartridge.installed | WORKFLOW | local | cartridge | "
            "idem=[name,sha256] | creates group=- meaningful=[] silent=[] | -\n"
            "cartridge.invoked | INFRASTRUCTURE | local | system | idem=[] | "
            "none | -\n"
            "cartridge.promotion_suggested | WORKFLOW | local | cartridge | "
            "idem=[cartridge_name] | creates group=- meaningful=[] silent=[] "
            "| actionable\n"
            "mesh.event.rejected | OPERATIONAL | local | mesh | idem=[] | "
            "creates group=- meaningful=[] silent=[] | -\n"
            "cartridge.install_failed | OPERATIONAL | local | cartridge | "
            "idem=[] | creates group=- meaningful=[] silent=[] | -\n"
            "cartridge.suspended | OPERATIONAL | local | cartridge | idem=[name,sha256] | "
            "creates group=- meaningful=[] silent=[] | actionable\n"
            "cartridge.rejected | OPERATIONAL | local | cartridge | idem=[] | "
            "creates group=- meaningful=[] silent=[] | -\n");
}

// Every schema of TeleClaude's Python catalog is present with identical
// fields (the golden file is the Python model's own printout).
TEST(EventCatalogTest, DefaultCatalogMatchesPythonCatalog) {
  std::ifstream in(TM_CATALOG_TESTDATA "/python_catalog.txt");
  ASSERT_TRUE(in.good());
  std::string expected, line;
  std::vector<std::string> python_types;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    expected += line + "\n";
    python_types.push_back(line.substr(0, line.find(" | ")));
  }
  ASSERT_GT(python_types.size(), 90u);
  EventCatalog catalog = BuildDefaultCatalog();
  std::string actual;
  for (const std::string& type : python_types) {
    const EventSchema* s = catalog.Find(type);
    actual += s == nullptr ? type + " | MISSING" : SchemaLine(*s);
    actual += "\n";
  }
  EXPECT_EQ(actual, expected);
  // Ours: python's plus cartridge.* and mesh.*.
  // (cartridge.deactivated and cartridge.removed: issue 17;
  // mesh.peer.key_changed: issue 14; mesh.peer.deliveries_dropped: issue 16.)
  EXPECT_EQ(catalog.size(), python_types.size() + 14);
}

TEST(EventCatalogTest, DefaultCatalogCoversEveryLifecycleKind) {
  EventCatalog catalog = BuildDefaultCatalog();
  bool creates = false, upsert = false, update_only = false, resolves = false, none = false;
  for (const EventSchema* s : catalog.ListAll()) {
    if (!s->lifecycle) {
      none = true;
      continue;
    }
    const NotificationLifecycle& lc = *s->lifecycle;
    creates |= lc.creates && !lc.updates;
    upsert |= lc.creates && lc.updates && lc.group_key.has_value() && !lc.meaningful_fields.empty();
    update_only |= !lc.creates && lc.updates && lc.group_key.has_value();
    resolves |= lc.resolves && lc.group_key.has_value();
  }
  EXPECT_TRUE(creates && upsert && update_only && resolves && none);
  // The system.* ones named by DESIGN §5.
  EXPECT_THAT(catalog.Find("system.entity.degraded"), NotNull());
  EXPECT_THAT(catalog.Find("deployment.completed")->lifecycle->group_key, Optional(Eq("slug")));
}

class IdempotencyKeyTest : public ::testing::Test {
 protected:
  EventCatalog catalog_ = BuildDefaultCatalog();
  std::optional<std::string> Key(std::string_view payload) {
    return catalog_.BuildIdempotencyKey("cartridge.published", payload);
  }
};

// Expected keys below were computed by Python's
// ":".join([t] + [str(payload.get(f, "")) for f in fields]).
TEST_F(IdempotencyKeyTest, JoinsFieldsInSchemaOrder) {
  EXPECT_THAT(Key(R"({"version":3,"name":"x.y","author":"ann"})"),
              Optional(Eq("cartridge.published:ann:x.y:3")));
}

TEST_F(IdempotencyKeyTest, MissingFieldIsEmptyAndColonsAreKept) {
  EXPECT_THAT(Key(R"({"author":"a:b","version":"1:2"})"),
              Optional(Eq("cartridge.published:a:b::1:2")));
  EXPECT_THAT(Key("{}"), Optional(Eq("cartridge.published:::")));
}

TEST_F(IdempotencyKeyTest, NestedValuesUsePythonStr) {
  EXPECT_THAT(Key(R"({"author":{"k":[1,"two",null,true,false,1.5]},"name":[],"version":{}})"),
              Optional(Eq("cartridge.published:{'k': [1, 'two', None, True, False, "
                          "1.5]}:[]:{}")));
}

TEST_F(IdempotencyKeyTest, StringsVerbatimNullAsNoneBigIntsExact) {
  EXPECT_THAT(Key(R"({"author":"café \"q\" it's","name":null,"version":-12345678901234567890})"),
              Optional(Eq("cartridge.published:café \"q\" it's:None:"
                          "-12345678901234567890")));
}

TEST_F(IdempotencyKeyTest, NoneForUnknownTypeOrNoFields) {
  EXPECT_EQ(catalog_.BuildIdempotencyKey("no.such.type", R"({"a":1})"), std::nullopt);
  EXPECT_EQ(catalog_.BuildIdempotencyKey("cartridge.invoked", R"({"cartridge_name":"x"})"),
            std::nullopt);
}

TEST_F(IdempotencyKeyTest, InstallerEventsDeduplicateOnNameAndHash) {
  EXPECT_THAT(catalog_.BuildIdempotencyKey("cartridge.install_pending",
                                           R"({"name":"tagger","sha256":"ab12","reason":"x"})"),
              Optional(Eq("cartridge.install_pending:tagger:ab12")));
  EXPECT_THAT(catalog_.BuildIdempotencyKey("cartridge.promotion_suggested",
                                           R"({"cartridge_name":"tagger",
                                               "invocation_count":10})"),
              Optional(Eq("cartridge.promotion_suggested:tagger")));
}

}  // namespace
}  // namespace teleclaude::mesh
