#include "cli/telec/json_out.h"

#include <cstdlib>

#include "cli/telec/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh::telec {
namespace {

TEST(JsonOutTest, JsonTextIsEmbeddedAsAValueOrFallsBackToAString) {
  std::string text;
  json::Writer out(&text);
  out.BeginObject();
  out.Key("a");
  WriteJsonText("{ \"x\" : [1, 2.50] }", out);
  out.Key("b");
  WriteJsonText("", out);
  out.Key("c");
  WriteJsonText("", out, "{}");
  out.Key("d");
  WriteJsonText("not json", out);
  out.Key("e");
  WriteJsonText("NaN", out);
  out.Key("f").OptionalString(std::nullopt);
  out.Key("g").String("q\"\n");
  out.EndObject();
  EXPECT_EQ(text,
            "{\"a\":{\"x\":[1,2.5]},\"b\":null,\"c\":{},\"d\":\"not json\",\"e\":null,"
            "\"f\":null,\"g\":\"q\\\"\\n\"}");
}

TEST(JsonOutTest, NotificationShape) {
  v1::Notification n;
  n.set_id(7);
  n.set_event_type("cartridge.install_pending");
  n.set_version(1);
  n.set_source("installer");
  n.set_level(v1::EVENT_LEVEL_WORKFLOW);
  n.set_domain("cartridges");
  n.set_visibility(v1::EVENT_VISIBILITY_LOCAL);
  n.set_entity("cartridge:x");
  n.set_description("install x?");
  n.set_payload_json("{\"name\":\"x\"}");
  n.set_human_status(v1::HUMAN_STATUS_UNSEEN);
  n.set_agent_status(v1::AGENT_STATUS_NONE);
  n.set_created_at("2025-03-01T12:00:00Z");
  n.set_updated_at("2025-03-01T12:00:00Z");
  n.set_actionable(true);
  std::string text;
  json::Writer out(&text);
  WriteNotification(n, out);
  EXPECT_EQ(text,
            "{\"id\":7,\"event_type\":\"cartridge.install_pending\",\"version\":1,"
            "\"source\":\"installer\",\"level\":2,\"domain\":\"cartridges\","
            "\"visibility\":\"local\",\"entity\":\"cartridge:x\",\"description\":\"install x?\","
            "\"payload\":{\"name\":\"x\"},\"idempotency_key\":null,\"human_status\":\"unseen\","
            "\"agent_status\":\"none\",\"agent_id\":null,\"resolution\":null,"
            "\"created_at\":\"2025-03-01T12:00:00Z\",\"updated_at\":\"2025-03-01T12:00:00Z\","
            "\"seen_at\":null,\"claimed_at\":null,\"resolved_at\":null,\"actionable\":true}");
}

TEST(JsonOutTest, WatchedEventShapeAndTailLine) {
  v1::WatchedEvent w;
  w.set_processed_at("2025-03-01T12:34:56Z");
  w.set_origin(v1::ORIGIN_MESH);
  w.set_source_computer("desk");
  w.set_status(v1::OUTCOME_DROPPED);
  w.set_dropped_by("dedup");
  v1::EventEnvelope* e = w.mutable_envelope();
  e->set_event("cartridge.published");
  e->set_version(1);
  e->set_source("desk");
  e->set_timestamp("2025-03-01T12:34:55Z");
  e->set_level(v1::EVENT_LEVEL_WORKFLOW);
  e->set_visibility(v1::EVENT_VISIBILITY_PUBLIC);
  e->set_payload_json("{\"name\":\"x\",\"code\":\"" + std::string(100, 'A') + "\"}");
  std::string text;
  json::Writer out(&text);
  WriteWatchedEvent(w, out);
  std::string json = text;
  EXPECT_THAT(json, ::testing::StartsWith(
                        "{\"processed_at\":\"2025-03-01T12:34:56Z\",\"status\":\"dropped\","
                        "\"dropped_by\":\"dedup\",\"origin\":\"mesh\",\"source_computer\":"
                        "\"desk\",\"envelope\":{\"event\":\"cartridge.published\",\"version\":1,"
                        "\"source\":\"desk\",\"timestamp\":\"2025-03-01T12:34:55Z\","
                        "\"idempotency_key\":null,\"level\":2,\"domain\":\"\",\"entity\":null,"
                        "\"description\":\"\",\"visibility\":\"public\",\"payload\":{\"name\":"));
  EXPECT_THAT(json, ::testing::EndsWith(
                        "\"},\"actions\":null,\"terminal_when\":null,\"resolution_shape\":null}}"));

  setenv("TZ", "UTC", 1);
  EXPECT_EQ(FormatTailLine(w),
            "12:34:56  cartridge.published           workflow        public      desk          "
            "mesh:desk     {\"name\":\"x\",\"code\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA..."
            "  [dropped by dedup]");
}

TEST(JsonOutTest, PeersShape) {
  v1::ListPeersResponse p;
  p.set_computer_name("laptop");
  p.set_peer_retention_s(86400);
  v1::Peer* peer = p.add_peers();
  peer->set_name("desk");
  peer->set_cluster("home");
  peer->set_state("away");
  peer->set_state_since("2025-03-01T12:00:03Z");
  peer->set_last_seen("2025-03-01T12:00:00Z");
  peer->set_first_seen("2025-02-01T08:00:00Z");
  peer->set_stopping(true);
  peer->set_destination(true);
  std::string text;
  json::Writer out(&text);
  v1::StatsResponse stats;
  (*stats.mutable_forwarded_per_peer())["desk"] = 7;
  WritePeers(p, &stats, out);
  EXPECT_EQ(
      text,
      "{\"computer_name\":\"laptop\",\"cluster\":null,\"peer_retention_s\":86400,"
      "\"peers\":[{\"name\":\"desk\",\"cluster\":\"home\",\"state\":\"away\","
      "\"state_since\":\"2025-03-01T12:00:03Z\",\"last_seen\":\"2025-03-01T12:00:00Z\","
      "\"first_seen\":\"2025-02-01T08:00:00Z\",\"stopping\":true,\"forgotten_by\":null,"
      "\"destination\":true,\"cluster_peer\":false,\"fingerprint\":null,"
      "\"key_source\":null,\"verified\":false,\"pending_fingerprint\":null,\"forwarded\":7}]}");
}

}  // namespace
}  // namespace teleclaude::mesh::telec
