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

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/catalog/event_catalog.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "services/egress/python/python_runtime.h"
#include "services/egress/python/runner_protocol.h"
#include "tests/support/child_process.h"
#include "tests/support/sandbox_runner_command.h"
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
// Blocks the runner's one asyncio loop, as a busy loop would (without
// burning a core): the runner answers nobody, pings included, and its own
// 10 s wait_for cannot interrupt it.
constexpr char kBlocker[] =
    "import time\n"
    "async def process(event, context):\n"
    "    time.sleep(3600)\n"
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
    o.args = testing::SandboxRunnerCommand(TM_SANDBOX_RUNNER_PY);
    o.env = {{"SANDBOX_SOCKET_PATH", socket_}, {"SANDBOX_CARTRIDGES_DIR", dir_.File("cartridges")}};
    absl::StatusOr<std::unique_ptr<testing::ChildProcess>> child =
        testing::ChildProcess::Start(std::move(o));
    ASSERT_TRUE(child.ok()) << child.status();
    runner_ = std::move(*child);
    // Listening, not only bound (the file exists between bind and listen):
    // it answers a ping.
    SandboxRunnerClient::Options probe_options;
    probe_options.socket_path = socket_;
    SandboxRunnerClient probe(probe_options);
    ASSERT_TRUE(WaitFor(
        [&] {
          return std::filesystem::exists(socket_) &&
                 probe.Exchange(kRunnerPingName, EncodeRunnerPing(), absl::Seconds(1)).ok();
        },
        absl::Seconds(20)))
        << runner_->ReadLog();
  }

  // As a supervisor would restart a stuck runner: SIGKILL (a blocked loop
  // never runs the SIGTERM handler), then a new process on the same socket.
  void RestartRunner() {
    runner_->Kill();
    ASSERT_TRUE(runner_->Wait(absl::Seconds(10)).ok());
    std::filesystem::remove(socket_);
    StartRunner();
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

  // A pipeline of the Python cartridges `names` (in order) of `runtime`,
  // suspending after `failure_threshold` consecutive failures; each
  // suspension is appended to `suspended` as "name: reason".
  static std::unique_ptr<PipelineRunner> Pipeline(PythonRuntime& runtime,
                                                  const std::vector<std::string>& names,
                                                  int failure_threshold,
                                                  std::vector<std::string>* suspended) {
    std::vector<ActiveCartridge> active;
    for (const std::string& name : names) {
      CartridgeSpec spec;
      spec.name = name;
      spec.runtime = "python";
      active.push_back({spec, Load(runtime, name)});
    }
    PipelineRunner::Options options;
    options.computer_name = "lab";
    options.failure_threshold = failure_threshold;
    auto pipeline = std::make_unique<PipelineRunner>(
        options, std::vector<std::unique_ptr<Cartridge>>{},
        [suspended](const CartridgeSpec& s, const std::string& reason) {
          suspended->push_back(s.name + ": " + reason);
        });
    pipeline->SetActive(std::move(active));
    return pipeline;
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

// What TeleClaude's models give a cartridge: schema objects with attributes
// in context.catalog; actions come back as ActionDescriptor.model_dump()
// writes them (outcome_shape added), which is how egress writes them too.
TEST_F(PythonCartridgeTest, CatalogSchemasHaveAttributesAndActionsSurviveTheRoundTrip) {
  Write("schemas",
        "async def process(event, context):\n"
        "    s = context.catalog.get('deployment.started')\n"
        "    event.payload['domain'] = s.domain\n"
        "    event.payload['level'] = int(s.default_level)\n"
        "    event.payload['types'] = len(context.catalog.list_all())\n"
        "    return event\n");
  StartRunner();
  auto runtime = Runtime();
  auto cartridge = Load(*runtime, "schemas");
  EventEnvelope e = Event();
  e.actions_json = R"({"approve":{"description":"ship it","produces":"deployment.approved"}})";
  CartridgeContext context;
  absl::StatusOr<Cartridge::Verdict> v = cartridge->Process(e, context);
  ASSERT_TRUE(v.ok()) << v.status() << "\n" << runner_->ReadLog();
  const EventCatalog catalog = BuildDefaultCatalog();
  const EventSchema* schema = catalog.Find("deployment.started");
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(e.payload_json, absl::StrCat(R"({"slug":"web","domain":")", schema->domain,
                                         R"(","level":)", static_cast<int>(schema->default_level),
                                         R"(,"types":)", catalog.ListAll().size(), "}"));
  EXPECT_EQ(e.actions_json, R"({"approve":{"description":"ship it","produces":)"
                            R"("deployment.approved","outcome_shape":null}})");
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
  // An exception without a message: runner.py answers error "" (str(exc)),
  // a failure here, never a drop.
  Write("bare", "async def process(event, context):\n    raise ValueError()\n");
  v = Load(*runtime, "bare")->Process(e, context);
  ASSERT_FALSE(v.ok()) << "verdict " << static_cast<int>(*v);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(v.status().message(), HasSubstr("python runner: error \"\""));
  v = Load(*runtime, "absent")->Process(e, context);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("Cartridge not found"));
}

// A slow cartridge in a runner that still answers (an awaited sleep): the
// stall probe gets its ping answered, so only the slow cartridge fails; the
// next one runs on every event.
TEST_F(PythonCartridgeTest, SlowRunnerFailsWithinTheBudgetAndRepeatsSuspend) {
  Write("sleeper", kSleeper);
  Write("tagger", kTagger);
  StartRunner();
  const absl::Duration budget = absl::Milliseconds(200);
  auto runtime = Runtime(budget);
  std::vector<std::string> suspended;
  std::unique_ptr<PipelineRunner> owned = Pipeline(*runtime, {"sleeper", "tagger"}, 3, &suspended);
  PipelineRunner& pipeline = *owned;
  for (int i = 0; i < 4; ++i) {
    std::vector<RunResult> results;
    std::vector<Invocation> invocations;
    const absl::Time start = absl::Now();
    pipeline.Run(Event(), EventOrigin::kLocal, "", "local:s:" + std::to_string(i), &results,
                 &invocations);
    // The bound: budget + the answered probe + a few ms on an idle machine;
    // generous here for a loaded one (the 4th run does not call the
    // suspended cartridge).
    const absl::Duration took = absl::Now() - start;
    EXPECT_LT(took, budget + absl::Milliseconds(400)) << i;
    std::cerr << "run " << i << " took " << absl::FormatDuration(took) << "\n";
    ASSERT_FALSE(results.empty());
    // The event flows on, unchanged by the sleeper, tagged by the next one.
    EXPECT_EQ(results[0].status, RunResult::Status::kProcessed);
    EXPECT_EQ(results[0].envelope.payload_json, R"({"slug":"web","tagged":true})");
    // (The third run also runs the cartridge.suspended notice through the
    // chain: the tagger sees it too.)
    int tagged = 0;
    for (const Invocation& inv : invocations) {
      EXPECT_EQ(inv.cartridge_name, "tagger");
      if (inv.event_type == "deployment.started") ++tagged;
    }
    EXPECT_EQ(tagged, 1) << i;
  }
  const CartridgeCounters& c = pipeline.counters().at("sleeper");
  EXPECT_EQ(c.failures, 3);
  EXPECT_TRUE(c.suspended);
  const CartridgeCounters& t = pipeline.counters().at("tagger");
  EXPECT_EQ(t.invocations, 5);  // 4 events + the cartridge.suspended notice
  EXPECT_EQ(t.skipped, 0);
  EXPECT_EQ(t.failures, 0);
  EXPECT_THAT(pipeline.Unavailable("tagger"), IsEmpty());
  ASSERT_EQ(suspended.size(), 1u);
  EXPECT_THAT(suspended[0], HasSubstr("wall-time budget of 200ms exceeded"));
}

// A cartridge that blocks the runner (accepts, never answers anyone): its
// call ends within budget + probe and is its failure; the runner is then
// unavailable, naming it, so the next cartridge is skipped, not failed.
// Each time a supervisor restarts the runner the cartridge stalls it again:
// consecutive failures suspend it, and the other cartridge runs again.
TEST_F(PythonCartridgeTest, CartridgeThatStallsTheRunnerIsSuspendedOthersAreOnlySkipped) {
  Write("blocker", kBlocker);
  Write("tagger", kTagger);
  StartRunner();
  const absl::Duration budget = absl::Milliseconds(200);
  auto runtime = Runtime(budget);
  std::vector<std::string> suspended;
  std::unique_ptr<PipelineRunner> owned = Pipeline(*runtime, {"blocker", "tagger"}, 2, &suspended);
  PipelineRunner& pipeline = *owned;
  int n = 0;
  absl::Duration took;
  auto run = [&] {
    std::vector<RunResult> results;
    std::vector<Invocation> invocations;
    const absl::Time start = absl::Now();
    pipeline.Run(Event(), EventOrigin::kLocal, "", "local:b:" + std::to_string(n++), &results,
                 &invocations);
    took = absl::Now() - start;
    std::cerr << "run " << n << " took " << absl::FormatDuration(took) << "\n";
    return results.at(0).envelope.payload_json;
  };
  auto counters = [&](const std::string& name) {
    const CartridgeCounters& c = pipeline.counters().at(name);
    return absl::StrCat("invocations=", c.invocations, " failures=", c.failures,
                        " skipped=", c.skipped, " suspended=", c.suspended);
  };

  // The blocker stalls the runner: its failure, within budget + the 100 ms
  // probe (+ a margin for a loaded machine); the tagger is skipped.
  EXPECT_EQ(run(), R"({"slug":"web"})");
  EXPECT_LT(took, budget + absl::Milliseconds(100) + absl::Milliseconds(400));
  EXPECT_EQ(counters("blocker"), "invocations=0 failures=1 skipped=0 suspended=0");
  EXPECT_EQ(counters("tagger"), "invocations=0 failures=0 skipped=1 suspended=0");
  EXPECT_THAT(pipeline.Unavailable("tagger"),
              HasSubstr("python runner unavailable: ping: the runner did not answer within"));
  EXPECT_THAT(pipeline.Unavailable("tagger"),
              HasSubstr("it stopped answering during cartridge blocker"));
  // Still stuck: both skipped, no time spent on the runner, no failures.
  EXPECT_EQ(run(), R"({"slug":"web"})");
  EXPECT_LT(took, budget);
  EXPECT_EQ(counters("blocker"), "invocations=0 failures=1 skipped=1 suspended=0");
  EXPECT_EQ(counters("tagger"), "invocations=0 failures=0 skipped=2 suspended=0");
  EXPECT_TRUE(suspended.empty());

  // Restarted, stalled again by the blocker: its second consecutive failure
  // suspends it. (The tagger is skipped on the event and on the
  // cartridge.suspended notice the chain runs next.)
  RestartRunner();
  ASSERT_TRUE(WaitFor([&] { return pipeline.Unavailable("tagger").empty(); }, absl::Seconds(20)))
      << pipeline.Unavailable("tagger");
  EXPECT_EQ(run(), R"({"slug":"web"})");
  EXPECT_EQ(counters("blocker"), "invocations=0 failures=2 skipped=1 suspended=1");
  EXPECT_EQ(counters("tagger"), "invocations=0 failures=0 skipped=4 suspended=0");
  ASSERT_EQ(suspended.size(), 1u);
  EXPECT_THAT(suspended[0], HasSubstr("blocker: 2 consecutive failures; last: wall-time budget"));

  // Restarted once more: the blocker no longer runs, the tagger does.
  RestartRunner();
  ASSERT_TRUE(WaitFor([&] { return pipeline.Unavailable("tagger").empty(); }, absl::Seconds(20)))
      << pipeline.Unavailable("tagger");
  EXPECT_EQ(run(), R"({"slug":"web","tagged":true})") << runner_->ReadLog();
  EXPECT_EQ(counters("tagger"), "invocations=1 failures=0 skipped=4 suspended=0");
}

// A runner process that accepts and never answers anything (not even the
// first ping): unavailable from the start, every cartridge skipped, none
// failed or suspended.
TEST_F(PythonCartridgeTest, RunnerThatNeverAnswersIsUnavailableAndSuspendsNothing) {
  testing::ChildOptions o;
  o.args = {"python3", "-c",
            "import socket, sys, time\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "s.bind(sys.argv[1]); s.listen(64)\n"
            "held = []\n"
            "while True:\n"
            "    held.append(s.accept()[0])\n",
            socket_};
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> child =
      testing::ChildProcess::Start(std::move(o));
  ASSERT_TRUE(child.ok()) << child.status();
  runner_ = std::move(*child);
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(socket_); }, absl::Seconds(20)));
  PythonRuntime::Options ro;
  ro.runner.socket_path = socket_;
  ro.runner.ping_timeout = absl::Milliseconds(300);
  ro.budget = absl::Milliseconds(200);
  PythonRuntime runtime(std::move(ro));
  runtime.Start();
  std::vector<ActiveCartridge> active;
  CartridgeSpec spec;
  spec.name = "tagger";
  spec.runtime = "python";
  active.push_back({spec, Load(runtime, "tagger")});
  PipelineRunner::Options options;
  options.failure_threshold = 1;
  PipelineRunner pipeline(options, {});
  pipeline.SetActive(std::move(active));
  EXPECT_THAT(pipeline.Unavailable("tagger"),
              HasSubstr("python runner unavailable: ping: the runner did not answer within 300ms"));
  for (int i = 0; i < 3; ++i) {
    std::vector<RunResult> results;
    std::vector<Invocation> invocations;
    const absl::Time start = absl::Now();
    pipeline.Run(Event(), EventOrigin::kLocal, "", "local:n:" + std::to_string(i), &results,
                 &invocations);
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(200));
    EXPECT_EQ(results.at(0).envelope.payload_json, R"({"slug":"web"})");
  }
  const CartridgeCounters& c = pipeline.counters().at("tagger");
  EXPECT_EQ(c.skipped, 3);
  EXPECT_EQ(c.failures, 0);
  EXPECT_FALSE(c.suspended);
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
  void set_ping_body(std::string body) {
    absl::MutexLock lock(&mu_);
    ping_body_ = std::move(body);
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
        absl::MutexLock lock(&mu_);
        reply = std::string{0, 0, 0, static_cast<char>(ping_body_.size())} + ping_body_;
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
  std::string ping_body_ ABSL_GUARDED_BY(mu_) =
      R"({"envelope": null, "error": null, "duration_ms": 0.0})";
  std::thread thread_;
};

// container.py's health check is `response.error is None`: a ping answered
// with any error, "" included, leaves the runner unavailable.
TEST_F(PythonCartridgeTest, PingAnsweredWithAnyErrorIsUnavailable) {
  HostileRunner hostile(socket_);
  for (const std::string error : {"\"\"", "\"busy\\nnow\""}) {
    hostile.set_ping_body(absl::StrCat(R"({"envelope": null, "error": )", error, "}"));
    PythonRuntime::Options o;
    o.runner.socket_path = socket_;
    PythonRuntime runtime(std::move(o));
    runtime.Start();
    EXPECT_EQ(runtime.client().Unavailable(),
              error == "\"\"" ? R"(python runner unavailable: ping answered error "")"
                              : R"(python runner unavailable: ping answered error "busy now")");
    runtime.Stop();
  }
}

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
