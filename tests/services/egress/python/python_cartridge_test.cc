// PythonCartridge against a real sandbox runner process
// (tests/python/sandbox_runner.py, faithful to TeleClaude's runner.py) and
// against a hostile one (a socket server in this test that answers garbage):
// the event changed through the runner, None drops, the runner's error and a
// slow runner are failures within the budget, repeated failures suspend the
// cartridge in the PipelineRunner, and a runner that is down is skipped and
// visible until it comes back.
#include "services/egress/python/python_cartridge.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/catalog/event_catalog.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "services/egress/python/python_runtime.h"
#include "services/egress/python/runner_protocol.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kTagger[] =
    "async def process(event, context):\n"
    "    event.payload['tagged'] = context.catalog.get('deployment.started') is not None\n"
    "    return event\n";
constexpr char kDropper[] = "async def process(event, context):\n    return None\n";
constexpr char kRaiser[] =
    "async def process(event, context):\n    raise ValueError('no slug\\nsecond line')\n";
constexpr char kSleeper[] =
    "import asyncio\n"
    "async def process(event, context):\n"
    "    await asyncio.sleep(5)\n"
    "    return event\n";

EventEnvelope Event() {
  EventEnvelope e;
  e.event = "deployment.started";
  e.source = "lab";
  e.level = Level::kWorkflow;
  e.payload_json = R"({"slug":"web"})";
  return e;
}

class PythonCartridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("cartridges"));
    socket_ = dir_.File("runner.sock");
  }

  void Write(const std::string& name, const std::string& source) {
    std::ofstream(dir_.File("cartridges/" + name + ".py")) << source;
  }

  void StartRunner() {
    testing::ChildOptions o;
    o.args = {"python3", TM_SANDBOX_RUNNER_PY};
    o.env = {{"SANDBOX_SOCKET_PATH", socket_}, {"SANDBOX_CARTRIDGES_DIR", dir_.File("cartridges")}};
    absl::StatusOr<std::unique_ptr<testing::ChildProcess>> child =
        testing::ChildProcess::Start(std::move(o));
    ASSERT_TRUE(child.ok()) << child.status();
    runner_ = std::move(*child);
    ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(socket_); }, absl::Seconds(20)))
        << runner_->ReadLog();
  }

  std::unique_ptr<PythonRuntime> Runtime(absl::Duration budget = absl::Seconds(5)) {
    PythonRuntime::Options o;
    o.runner.socket_path = socket_;
    o.runner.retry_min = absl::Milliseconds(20);
    o.runner.retry_max = absl::Milliseconds(100);
    o.runner.ping_interval = absl::Milliseconds(100);
    o.budget = budget;
    auto runtime = std::make_unique<PythonRuntime>(std::move(o));
    runtime->Start();
    return runtime;
  }

  static std::unique_ptr<Cartridge> Load(PythonRuntime& runtime, const std::string& name,
                                         const std::string& entry_point = "") {
    CartridgeSpec spec;
    spec.name = name;
    spec.runtime = "python";
    spec.entry_point = entry_point;
    absl::StatusOr<std::unique_ptr<Cartridge>> c = runtime.Load(spec);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  testing::TempDir dir_;
  std::string socket_;
  std::unique_ptr<testing::ChildProcess> runner_;
};

TEST_F(PythonCartridgeTest, RunnerChangesTheEventWithTheCatalogInContext) {
  Write("tagger", kTagger);
  StartRunner();
  auto runtime = Runtime();
  EXPECT_THAT(runtime->client().Unavailable(), IsEmpty());
  auto cartridge = Load(*runtime, "tagger", "pytagger:process");
  EventEnvelope e = Event();
  CartridgeContext context;
  absl::StatusOr<Cartridge::Verdict> v = cartridge->Process(e, context);
  ASSERT_TRUE(v.ok()) << v.status() << "\n" << runner_->ReadLog();
  EXPECT_EQ(*v, Cartridge::Verdict::kContinue);
  EXPECT_EQ(e.payload_json, R"({"slug":"web","tagged":true})");
  EXPECT_EQ(e.event, "deployment.started");
}

TEST_F(PythonCartridgeTest, NoneDropsTheEvent) {
  Write("dropper", kDropper);
  StartRunner();
  auto runtime = Runtime();
  auto cartridge = Load(*runtime, "dropper");
  EventEnvelope e = Event();
  CartridgeContext context;
  absl::StatusOr<Cartridge::Verdict> v = cartridge->Process(e, context);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, Cartridge::Verdict::kDrop);
}

TEST_F(PythonCartridgeTest, EntryPointOtherThanProcessIsRefusedAtLoad) {
  PythonRuntime runtime(PythonRuntime::Options{});
  CartridgeSpec spec;
  spec.name = "tagger";
  spec.entry_point = "pytagger:handle";
  absl::StatusOr<std::unique_ptr<Cartridge>> c = runtime.Load(spec);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("calls process only"));
}

TEST_F(PythonCartridgeTest, RaisedExceptionAndMissingFileAreFailuresOnOneLine) {
  Write("raiser", kRaiser);
  StartRunner();
  auto runtime = Runtime();
  CartridgeContext context;
  EventEnvelope e = Event();
  absl::StatusOr<Cartridge::Verdict> v = Load(*runtime, "raiser")->Process(e, context);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(v.status().message(), "python runner: no slug second line");
  v = Load(*runtime, "absent")->Process(e, context);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("Cartridge not found"));
}

TEST_F(PythonCartridgeTest, SlowRunnerFailsWithinTheBudgetAndRepeatsSuspend) {
  Write("sleeper", kSleeper);
  StartRunner();
  const absl::Duration budget = absl::Milliseconds(200);
  auto runtime = Runtime(budget);
  std::vector<ActiveCartridge> active;
  CartridgeSpec spec;
  spec.name = "sleeper";
  spec.runtime = "python";
  active.push_back({spec, Load(*runtime, "sleeper")});
  std::vector<std::string> suspended;
  PipelineRunner::Options options;
  options.computer_name = "lab";
  options.failure_threshold = 3;
  PipelineRunner pipeline(options, {}, [&](const CartridgeSpec& s, const std::string& reason) {
    suspended.push_back(s.name + ": " + reason);
  });
  pipeline.SetActive(std::move(active));
  for (int i = 0; i < 4; ++i) {
    std::vector<RunResult> results;
    std::vector<Invocation> invocations;
    const absl::Time start = absl::Now();
    pipeline.Run(Event(), EventOrigin::kLocal, "", "local:s:" + std::to_string(i), &results,
                 &invocations);
    // The bound: budget + a few ms on an idle machine; generous here for a
    // loaded one (the 4th run does not call the suspended cartridge).
    const absl::Duration took = absl::Now() - start;
    EXPECT_LT(took, budget + absl::Milliseconds(400)) << i;
    std::cerr << "run " << i << " took " << absl::FormatDuration(took) << "\n";
    ASSERT_FALSE(results.empty());
    // The event flows on unchanged.
    EXPECT_EQ(results[0].status, RunResult::Status::kProcessed);
    EXPECT_EQ(results[0].envelope.payload_json, R"({"slug":"web"})");
    EXPECT_TRUE(invocations.empty());
  }
  const CartridgeCounters& c = pipeline.counters().at("sleeper");
  EXPECT_EQ(c.failures, 3);
  EXPECT_TRUE(c.suspended);
  ASSERT_EQ(suspended.size(), 1u);
  EXPECT_THAT(suspended[0], HasSubstr("wall-time budget of 200ms exceeded"));
}

TEST_F(PythonCartridgeTest, RunnerDownIsSkippedVisiblyUntilItComesBack) {
  Write("tagger", kTagger);
  auto runtime = Runtime();
  std::vector<ActiveCartridge> active;
  CartridgeSpec spec;
  spec.name = "tagger";
  spec.runtime = "python";
  active.push_back({spec, Load(*runtime, "tagger")});
  PipelineRunner::Options options;
  options.failure_threshold = 1;
  PipelineRunner pipeline(options, {});
  pipeline.SetActive(std::move(active));
  EXPECT_THAT(pipeline.Unavailable("tagger"), HasSubstr("python runner unavailable: connect "));
  EXPECT_THAT(pipeline.Unavailable("tagger"), HasSubstr("No such file or directory"));
  auto run = [&] {
    std::vector<RunResult> results;
    std::vector<Invocation> invocations;
    pipeline.Run(Event(), EventOrigin::kLocal, "", "local:s:1", &results, &invocations);
    return results.at(0).envelope.payload_json;
  };
  EXPECT_EQ(run(), R"({"slug":"web"})");
  EXPECT_EQ(pipeline.counters().at("tagger").skipped, 1);
  EXPECT_EQ(pipeline.counters().at("tagger").failures, 0);
  EXPECT_FALSE(pipeline.counters().at("tagger").suspended);

  StartRunner();
  ASSERT_TRUE(WaitFor([&] { return pipeline.Unavailable("tagger").empty(); }, absl::Seconds(10)))
      << pipeline.Unavailable("tagger");
  EXPECT_EQ(run(), R"({"slug":"web","tagged":true})");
  EXPECT_EQ(pipeline.counters().at("tagger").invocations, 1);

  // Gone again: seen by the health thread, skipped again.
  runner_->Terminate();
  ASSERT_TRUE(runner_->Wait(absl::Seconds(10)).ok());
  std::filesystem::remove(socket_);
  ASSERT_TRUE(WaitFor([&] { return !pipeline.Unavailable("tagger").empty(); }, absl::Seconds(10)));
  EXPECT_EQ(run(), R"({"slug":"web"})");
  EXPECT_EQ(pipeline.counters().at("tagger").skipped, 2);
}

TEST_F(PythonCartridgeTest, NoSocketConfiguredSaysSo) {
  PythonRuntime runtime(PythonRuntime::Options{});
  runtime.Start();
  auto cartridge = Load(runtime, "tagger");
  EXPECT_THAT(cartridge->Unavailable(), HasSubstr("no sandbox runner configured"));
  EventEnvelope e = Event();
  CartridgeContext context;
  EXPECT_EQ(*cartridge->Process(e, context), Cartridge::Verdict::kSkipped);
}

// A hostile runner: answers pings correctly, everything else with `reply`
// (then closes).
class HostileRunner {
 public:
  HostileRunner(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HostileRunner() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  void set_reply(std::string reply) {
    absl::MutexLock lock(&mu_);
    reply_ = std::move(reply);
  }

 private:
  void Serve() {
    while (true) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string request;
      char buf[4096];
      // The request's header and body (small here).
      while (request.size() < 4 ||
             request.size() < 4 + static_cast<size_t>(*DecodeRunnerFrameHeader(
                                      std::string_view(request).substr(0, 4)))) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      std::string reply;
      if (request.find("__ping__") != std::string::npos) {
        std::string body = R"({"envelope": null, "error": null, "duration_ms": 0.0})";
        reply = std::string{0, 0, 0, static_cast<char>(body.size())} + body;
      } else {
        absl::MutexLock lock(&mu_);
        reply = reply_;
      }
      (void)!write(c, reply.data(), reply.size());
      close(c);
    }
  }
  int fd_;
  absl::Mutex mu_;
  std::string reply_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

TEST_F(PythonCartridgeTest, GarbageFromTheRunnerIsAFailureNeverACrash) {
  HostileRunner hostile(socket_);
  auto runtime = Runtime(absl::Milliseconds(500));
  ASSERT_THAT(runtime->client().Unavailable(), IsEmpty());
  auto cartridge = Load(*runtime, "tagger");
  struct Case {
    std::string reply;
    absl::StatusCode code;
    std::string error;
  };
  const std::string bad_level =
      R"({"envelope": {"event": "a", "source": "b", "timestamp": "2025-01-01T00:00:00", )"
      R"("level": "7"}, "error": null})";
  for (const Case& c : std::vector<Case>{
           {"\xff\xff\xff\xff", absl::StatusCode::kInvalidArgument, "exceeds the runner's"},
           {std::string("\0\0\0\x05hello", 9), absl::StatusCode::kInvalidArgument,
            "not valid JSON"},
           {"", absl::StatusCode::kDataLoss, "closed the connection after 0 of 4 bytes"},
           {std::string("\0\0\0\x50{", 5), absl::StatusCode::kDataLoss, "1 of 80 bytes"},
           {std::string("\0\0\0", 3) + static_cast<char>(bad_level.size()) + bad_level,
            absl::StatusCode::kInvalidArgument, "response.envelope.level"},
       }) {
    hostile.set_reply(c.reply);
    const EventEnvelope original = Event();
    EventEnvelope e = original;
    CartridgeContext context;
    absl::StatusOr<Cartridge::Verdict> v = cartridge->Process(e, context);
    ASSERT_FALSE(v.ok()) << c.error;
    EXPECT_EQ(v.status().code(), c.code) << v.status();
    EXPECT_THAT(v.status().message(), HasSubstr(c.error));
    EXPECT_EQ(e, original);
  }
}

}  // namespace
}  // namespace teleclaude::mesh
