#include "common/progress_monitor.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "shm/event_clock.hpp"

namespace peaknet::common {
namespace {

using shm::steady_ns;

constexpr int64_t kRingCheckIntervalNs = 1'000'000'000;

}  // namespace

Stage::Stage(std::string name) : name_(std::move(name)) {
  const int64_t now = steady_ns();
  since_ns_.store(now);
  beat_ns_.store(now);
  progress_ns_.store(now);
}

void Stage::set(Kind kind, const char* what) noexcept {
  const int64_t now = steady_ns();
  beat_ns_.store(now, std::memory_order_relaxed);
  // Re-stating the same activity keeps its start time: a wait loop says blocked("q1 acquire") per slice.
  if (kind_.load(std::memory_order_relaxed) == kind && what_.load(std::memory_order_relaxed) == what) return;
  what_.store(what, std::memory_order_relaxed);
  since_ns_.store(now, std::memory_order_relaxed);
  kind_.store(kind, std::memory_order_release);
}

void Stage::progress() noexcept {
  const int64_t now = steady_ns();
  progress_ns_.store(now, std::memory_order_relaxed);
  beat_ns_.store(now, std::memory_order_relaxed);
}

void Stage::beat() noexcept { beat_ns_.store(steady_ns(), std::memory_order_relaxed); }

ProgressMonitor::ProgressMonitor(std::chrono::milliseconds stall_timeout) : stall_timeout_(stall_timeout) {}

Stage& ProgressMonitor::add_stage(std::string name) {
  std::lock_guard lock(mu_);
  stages_.push_back(std::unique_ptr<Stage>(new Stage(std::move(name))));
  return *stages_.back();
}

void ProgressMonitor::watch_ring(std::string label, std::function<std::string()> problem) {
  std::lock_guard lock(mu_);
  rings_.push_back({std::move(label), std::move(problem)});
  ring_checked_ns_ = 0;  // check the new ring at the next call
}

void ProgressMonitor::count_into(std::atomic<uint64_t>* stalls, std::atomic<uint64_t>* stalled) {
  std::lock_guard lock(mu_);
  stalls_ = stalls;
  stalled_ = stalled;
}

StallReport ProgressMonitor::evaluate(int64_t now) {
  const int64_t timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(stall_timeout_).count();
  if (!rings_.empty() && (ring_checked_ns_ == 0 || now - ring_checked_ns_ >= kRingCheckIntervalNs)) {
    ring_checked_ns_ = now;
    ring_problem_.clear();
    for (const auto& ring : rings_) {
      std::string problem = ring.problem ? ring.problem() : std::string();
      if (!problem.empty()) {
        ring_label_ = ring.label;
        ring_problem_ = std::move(problem);
        break;
      }
    }
  }
  // The stage that has gone longest without what it owes: progress (busy) or a sign of life (waiting).
  StallReport worst;
  const Stage* longest_wait = nullptr;
  int64_t longest_wait_ns = -1;
  for (const auto& stage : stages_) {
    const Stage& s = *stage;
    const Stage::Kind kind = s.kind_.load(std::memory_order_acquire);
    if (kind == Stage::Kind::kDone || kind == Stage::Kind::kNotStarted) continue;
    const int64_t since = s.since_ns_.load(std::memory_order_relaxed);
    const int64_t quiet = now - s.beat_ns_.load(std::memory_order_relaxed);
    const int64_t stuck =
        kind == Stage::Kind::kBusy ? now - std::max(since, s.progress_ns_.load(std::memory_order_relaxed)) : quiet;
    if (kind != Stage::Kind::kIdle && now - since > longest_wait_ns) {
      longest_wait_ns = now - since;
      longest_wait = &s;
    }
    if (stuck > timeout && stuck / 1e9 > worst.seconds) {
      worst.stalled = true;
      worst.stage = s.name_;
      worst.activity = s.what_.load(std::memory_order_relaxed);
      worst.seconds = stuck / 1e9;
    }
  }
  if (worst.stalled) {
    worst.message = fmt::format("{} stuck for {:.0f} s in {}", worst.stage, worst.seconds, worst.activity);
  }
  if (!ring_problem_.empty()) {
    StallReport ring;
    ring.stalled = true;
    ring.stage = ring_label_;
    ring.activity = "waiting on " + ring_label_;
    ring.message = ring_label_ + " unusable: " + ring_problem_;
    if (longest_wait != nullptr) {
      ring.seconds = longest_wait_ns / 1e9;
      ring.message += fmt::format(" ({} in {} for {:.0f} s)", longest_wait->name_,
                                  longest_wait->what_.load(std::memory_order_relaxed), ring.seconds);
    }
    if (worst.stalled) ring.message += "; " + worst.message;
    return ring;
  }
  return worst;
}

StallReport ProgressMonitor::check() {
  std::lock_guard lock(mu_);
  StallReport report = evaluate(steady_ns());
  if (report.stalled && !last_.stalled) {
    spdlog::error("stall: {} ({}; the systemd watchdog is no longer petted)", report.message,
                  ring_problem_.empty() ? fmt::format("no progress for longer than control.stall_timeout_s = {} s",
                                                      stall_timeout_.count() / 1000.0)
                                        : std::string("waiting on it would last for ever"));
    if (stalls_) stalls_->fetch_add(1, std::memory_order_relaxed);
  } else if (!report.stalled && last_.stalled) {
    spdlog::info("stall over: {} made progress again", last_.stage);
  }
  if (stalled_) stalled_->store(report.stalled ? 1 : 0, std::memory_order_relaxed);
  last_ = report;
  return report;
}

StallReport ProgressMonitor::last() const {
  std::lock_guard lock(mu_);
  return last_;
}

bool test_wedge_requested(const char* stage) {
  static const std::string wanted = [] {
    const char* v = std::getenv("PEAKNET_TEST_WEDGE");
    return std::string(v ? v : "");
  }();
  return !wanted.empty() && wanted == stage;
}

void test_wedge_forever(const char* stage) {
  spdlog::warn("PEAKNET_TEST_WEDGE={}: this thread now sleeps for ever (test-only fault hook)", stage);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

}  // namespace peaknet::common
