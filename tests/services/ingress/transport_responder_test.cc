// The real telec-ingress binary answering TeleClaude transport requests on a
// real redis-server. The client here speaks TeleClaude's request/response
// protocol as teleclaude/transport/redis_transport/_request_response.py does:
// send_request = XADD messages:{peer} command/timestamp/initiator/origin;
// read_response = XREAD BLOCK 100 COUNT 1 STREAMS output:{peer}:{id} 0 until
// a `chunk` arrives or 3 s have passed.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/base/strings.h"
#include "common/json/json_text.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/recording_pipeline.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

#ifndef TM_INGRESS_BINARY
#error "TM_INGRESS_BINARY must name the telec-ingress binary"
#endif

namespace teleclaude::mesh {
namespace {

using testing::ChildProcess;
using testing::WaitFor;

// Python's read_response timeout in discover_peers().
constexpr absl::Duration kPythonWait = absl::Seconds(3);

struct Response {
  std::string chunk;
  std::vector<std::pair<std::string, std::string>> fields;
  absl::Duration latency;
};

class TransportResponderTest : public ::testing::Test {
 protected:
  void SetUp() override { client_ = redis_.Client(); }

  void StartIngress(const std::vector<std::string>& extra = {}) {
    testing::ChildOptions options;
    options.args = {TM_INGRESS_BINARY,
                    "--computer_name=beta",
                    Cat("--redis_url=", redis_.url()),
                    Cat("--data_dir=", data_.path().string()),
                    Cat("--ingress_addr=127.0.0.1:", testing::FreeLoopbackPort()),
                    Cat("--egress_addr=", pipeline_.addr()),
                    Cat("--installer_addr=127.0.0.1:", testing::FreeLoopbackPort()),
                    "--peer_refresh_ms=100",
                    "--computer_role=builder"};
    options.args.insert(options.args.end(), extra.begin(), extra.end());
    options.log_path = data_.File("ingress.log");
    auto child = ChildProcess::Start(options);
    ASSERT_TRUE(child.ok()) << child.status();
    ingress_ = *std::move(child);
    ASSERT_TRUE(WaitFor(
        [&] {
          auto v = client_->Get("computer:beta:heartbeat");
          return v.ok() && v->has_value();
        },
        absl::Seconds(10)))
        << ingress_->ReadLog();
  }

  // send_request(computer_name="beta", command): the request's entry id.
  std::string SendRequest(const std::string& command, const std::string& id = "*") {
    auto added = client_->XAdd("messages:beta",
                               {{"command", command},
                                {"timestamp", "1733250000.123456"},
                                {"initiator", "py-a"},
                                {"origin", "redis"}},
                               10000, id);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.value_or("");
  }

  // read_response(message_id, timeout=3.0, target_computer="beta").
  std::optional<Response> ReadResponse(const std::string& message_id, absl::Time sent) {
    const std::string stream = Cat("output:beta:", message_id);
    while (absl::Now() - sent <= kPythonWait) {
      auto reply =
          client_->Command({"XREAD", "COUNT", "1", "BLOCK", "100", "STREAMS", stream, "0"});
      if (!reply.ok()) return std::nullopt;
      if (reply->is_array() && !reply->elements().empty()) {
        const absl::Time got = absl::Now();
        const RedisReply& entries = reply->elements()[0].elements()[1];
        std::vector<StreamEntry> parsed = RedisClient::ParseEntries(entries);
        if (parsed.empty()) continue;
        Response r;
        r.fields = parsed[0].fields;
        for (const auto& [k, v] : r.fields) {
          if (k == "chunk") r.chunk = v;
        }
        r.latency = got - sent;
        if (!r.chunk.empty()) return r;
      }
    }
    return std::nullopt;
  }

  std::optional<Response> Ask(const std::string& command) {
    const absl::Time sent = absl::Now();
    return ReadResponse(SendRequest(command), sent);
  }

  int64_t Pending() {
    auto info = client_->XInfoGroup("messages:beta", "mesh-ingress");
    return info.ok() ? info->pending : -1;
  }
  std::string LastDelivered() {
    auto info = client_->XInfoGroup("messages:beta", "mesh-ingress");
    return info.ok() ? info->last_delivered_id : "";
  }

  testing::RedisServer redis_;
  testing::TempDir data_;
  testing::RecordingPipelineServer pipeline_;
  std::unique_ptr<RedisClient> client_;
  std::unique_ptr<ChildProcess> ingress_;
};

std::string Member(const std::string& json, const std::vector<std::string>& path) {
  std::optional<std::string> value = json;
  for (const std::string& key : path) {
    if (!value.has_value()) return "(absent)";
    value = json::GetMember(*value, key);
  }
  return value.value_or("(absent)");
}

TEST_F(TransportResponderTest, GetComputerInfoIsAnsweredAsPythonDoesWithin100Ms) {
  StartIngress();
  std::vector<absl::Duration> latencies;
  for (int i = 0; i < 20; ++i) {
    std::optional<Response> r = Ask("get_computer_info");
    ASSERT_TRUE(r.has_value()) << "no answer within Python's 3 s\n" << ingress_->ReadLog();
    latencies.push_back(r->latency);
    if (i > 0) continue;
    const std::string& chunk = r->chunk;
    // json.dumps layout, ComputerInfo.to_dict() order.
    EXPECT_TRUE(absl::StartsWith(chunk, R"({"status": "success", "data": {"name": "beta", )"
                                        R"("status": "online", "user": ")"))
        << chunk;
    EXPECT_EQ(Member(chunk, {"status"}), R"("success")");
    passwd* pw = getpwuid(geteuid());
    ASSERT_NE(pw, nullptr);
    EXPECT_EQ(Member(chunk, {"data", "user"}), json::Quote(pw->pw_name));
    char host[256] = {};
    ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
    EXPECT_EQ(Member(chunk, {"data", "host"}), json::Quote(host));
    EXPECT_EQ(Member(chunk, {"data", "role"}), R"("builder")");
    EXPECT_EQ(Member(chunk, {"data", "is_local"}), "true");
    EXPECT_EQ(Member(chunk, {"data", "tmux_binary"}), "null");
    for (const std::vector<std::string>& path : {std::vector<std::string>{"memory", "total_gb"},
                                                 {"memory", "available_gb"},
                                                 {"memory", "percent_used"},
                                                 {"disk", "total_gb"},
                                                 {"disk", "free_gb"},
                                                 {"disk", "percent_used"},
                                                 {"cpu", "percent_used"}}) {
      std::vector<std::string> full = {"data", "system_stats"};
      full.insert(full.end(), path.begin(), path.end());
      const std::string value = Member(chunk, full);
      double number = -1;
      EXPECT_TRUE(absl::SimpleAtod(value, &number) && number >= 0) << path[0] << " " << value;
    }
    EXPECT_GT(std::stod(Member(chunk, {"data", "system_stats", "memory", "total_gb"})), 0);
    // send_response's fields: chunk, timestamp, message_id.
    ASSERT_EQ(r->fields.size(), 3u);
    EXPECT_EQ(r->fields[1].first, "timestamp");
    EXPECT_EQ(r->fields[2].first, "message_id");
  }
  std::sort(latencies.begin(), latencies.end());
  const absl::Duration median = latencies[latencies.size() / 2];
  std::printf("get_computer_info answer latency over %zu requests: median %s, max %s\n",
              latencies.size(), absl::FormatDuration(median).c_str(),
              absl::FormatDuration(latencies.back()).c_str());
  EXPECT_LT(median, absl::Milliseconds(100));
  // Every request acknowledged; the answer streams expire.
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  auto keys = client_->ScanKeys("output:beta:*");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 20u);
  auto ttl = client_->Command({"TTL", (*keys)[0]});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer(), 0);
  EXPECT_LE(ttl->integer(), 3600);
}

TEST_F(TransportResponderTest, OtherCommandsGetPythonsUnknownCommandErrorAndSystemMessagesNone) {
  StartIngress();
  // A system message: Python handles it without an answer; so do we.
  auto system =
      client_->XAdd("messages:beta",
                    {{"type", "system"}, {"command", "restart"}, {"from_computer", "py-a"}}, 10000);
  ASSERT_TRUE(system.ok());
  std::optional<Response> r = Ask("list_sessions");
  ASSERT_TRUE(r.has_value()) << ingress_->ReadLog();
  EXPECT_EQ(r->chunk, R"({"status": "error", "error": "Unknown redis command: list_sessions"})");
  r = Ask("/new_session \"My Project\"");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->chunk, R"({"status": "error", "error": "Unknown redis command: new_session"})");
  // Entries are handled in order: the system message was seen before.
  auto exists = client_->Command({"EXISTS", Cat("output:beta:", *system)});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->integer(), 0);
  // A field that is not UTF-8: an error naming it.
  const absl::Time sent = absl::Now();
  auto bad =
      client_->XAdd("messages:beta", {{"command", "get_computer_info"}, {"title", "\xff"}}, 10000);
  ASSERT_TRUE(bad.ok());
  r = ReadResponse(*bad, sent);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->chunk,
            R"j({"status": "error", "error": "title: not valid UTF-8 (byte 0xff at offset 0)"})j");
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

TEST_F(TransportResponderTest, ARequestWhoseAnswerCannotBeWrittenStaysPending) {
  StartIngress();
  // The answer stream's key already holds a string: XADD fails (WRONGTYPE).
  const std::string id = "9999999999999-0";
  ASSERT_TRUE(client_->Command({"SET", Cat("output:beta:", id), "in the way"}).ok());
  SendRequest("get_computer_info", id);
  ASSERT_TRUE(WaitFor([&] { return LastDelivered() == id; }, absl::Seconds(5)));
  // Read, not answered, so not acknowledged; a later request is still answered.
  EXPECT_TRUE(WaitFor([&] { return Pending() == 1; }, absl::Seconds(5)));
  auto added = client_->XAdd("messages:beta",
                             {{"command", "get_computer_info"}, {"initiator", "py-a"}}, 10000);
  ASSERT_TRUE(added.ok());
  EXPECT_TRUE(ReadResponse(*added, absl::Now()).has_value());
  EXPECT_TRUE(WaitFor([&] { return Pending() == 1; }, absl::Seconds(5))) << Pending();
  auto pending = client_->Command({"XPENDING", "messages:beta", "mesh-ingress", "-", "+", "10"});
  ASSERT_TRUE(pending.ok() && pending->elements().size() == 1);
  EXPECT_EQ(pending->elements()[0].elements()[0].str(), id);
}

TEST_F(TransportResponderTest, WithTheFlagOffRequestsAreAcknowledgedUnanswered) {
  StartIngress({"--noanswer_transport_requests"});
  const std::string id = SendRequest("get_computer_info");
  ASSERT_TRUE(WaitFor([&] { return LastDelivered() == id && Pending() == 0; }, absl::Seconds(5)));
  auto exists = client_->Command({"EXISTS", Cat("output:beta:", id)});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->integer(), 0);
}

}  // namespace
}  // namespace teleclaude::mesh
