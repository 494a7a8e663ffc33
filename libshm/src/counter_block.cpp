// CounterBlock: named counters / gauges / histograms in a small shm segment per daemon.
#include <algorithm>
#include <cstring>
#include <thread>

#include "counter_block_impl.hpp"
#include "process_identity.hpp"

namespace peaknet::shm {

using namespace layout;
using detail::ShmSegment;

namespace {

std::string prefix(const std::string& name) { return "shm counter block '" + name + "': "; }

uint64_t total_bytes_for(uint32_t capacity) {
  return sizeof(CounterHeader) + uint64_t{capacity} * sizeof(CounterEntry);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

void take_ownership(CounterHeader& h) {
  h.owner_start_time = detail::self_start_time();
  h.owner_pid = static_cast<int32_t>(::getpid());
}

}  // namespace

std::string counter_block_problem(const ShmSegment& s) {
  if (s.bytes() < sizeof(CounterHeader)) {
    return "file is " + std::to_string(s.bytes()) + " bytes, smaller than the header (" +
           std::to_string(sizeof(CounterHeader)) + ")";
  }
  const auto& h = *reinterpret_cast<const CounterHeader*>(s.base());
  const uint64_t magic = h.magic.load(std::memory_order_acquire);
  if (magic != kCounterMagic) return "bad magic (not a peaknet counter block)";
  if (h.layout_version != kCounterLayoutVersion) {
    return "layout version " + std::to_string(h.layout_version) + ", expected " + std::to_string(kCounterLayoutVersion);
  }
  if (h.header_bytes != sizeof(CounterHeader) || h.entry_bytes != sizeof(CounterEntry)) {
    return "header/entry size " + std::to_string(h.header_bytes) + "/" + std::to_string(h.entry_bytes) + ", expected " +
           std::to_string(sizeof(CounterHeader)) + "/" + std::to_string(sizeof(CounterEntry));
  }
  if (h.capacity == 0 || h.capacity > 65536 || h.total_bytes != total_bytes_for(h.capacity)) {
    return "bad capacity " + std::to_string(h.capacity);
  }
  if (s.bytes() < h.total_bytes) {
    return "truncated: file is " + std::to_string(s.bytes()) + " bytes, header says " + std::to_string(h.total_bytes);
  }
  return "";
}

CounterBlock::CounterBlock(std::unique_ptr<CounterBlockImpl> impl) : impl_(std::move(impl)) {}
CounterBlock::CounterBlock(CounterBlock&&) noexcept = default;
CounterBlock& CounterBlock::operator=(CounterBlock&&) noexcept = default;
CounterBlock::~CounterBlock() = default;

CounterBlock CounterBlock::open_or_create(const std::string& name, uint32_t capacity, bool group_shareable) {
  if (capacity == 0 || capacity > 65536) {
    throw ShmError(prefix(name) + "capacity must be 1..65536, got " + std::to_string(capacity));
  }
  for (int attempt = 0; attempt < 8; ++attempt) {
    ShmSegment seg;
    const auto start = std::chrono::steady_clock::now();
    bool opened = false;
    while ((opened = ShmSegment::open_existing(name, false, seg))) {
      // Wait briefly for a concurrent creator to finish its header.
      if (seg.bytes() >= sizeof(CounterHeader) &&
          reinterpret_cast<CounterHeader*>(seg.base())->magic.load(std::memory_order_acquire) != 0)
        break;
      if (std::chrono::steady_clock::now() - start > std::chrono::milliseconds(200)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (opened) {
      std::string problem = counter_block_problem(seg);
      auto& h = *reinterpret_cast<CounterHeader*>(seg.base());
      if (problem.empty() && h.capacity != capacity) {
        problem = "capacity " + std::to_string(h.capacity) + ", expected " + std::to_string(capacity);
      }
      if (problem.empty()) {
        take_ownership(h);
        return CounterBlock(std::make_unique<CounterBlockImpl>(std::move(seg), name));
      }
      const bool owner_alive = seg.bytes() >= sizeof(CounterHeader) && h.owner_pid > 0 &&
                               h.magic.load() == kCounterMagic &&
                               detail::identity_alive(detail::make_identity(h.owner_pid, h.owner_start_time));
      if (owner_alive) throw ShmError(prefix(name) + problem + "; in use by pid " + std::to_string(h.owner_pid));
      ShmSegment::unlink(name);
      continue;
    }
    auto write_header = [&](ShmSegment& fresh) {
      auto& h = *reinterpret_cast<CounterHeader*>(fresh.base());
      take_ownership(h);
      h.layout_version = kCounterLayoutVersion;
      h.header_bytes = sizeof(CounterHeader);
      h.entry_bytes = sizeof(CounterEntry);
      h.capacity = capacity;
      h.total_bytes = total_bytes_for(capacity);
      h.created_realtime_ns = detail::realtime_ns();
      h.magic.store(kCounterMagic, std::memory_order_release);
    };
    if (ShmSegment::create_published(name, total_bytes_for(capacity), group_shareable, write_header, seg) ==
        ShmSegment::CreateResult::kExists) {
      continue;
    }
    return CounterBlock(std::make_unique<CounterBlockImpl>(std::move(seg), name));
  }
  throw ShmError(prefix(name) + "cannot open or create: it keeps changing (concurrent creators?)");
}

CounterBlock CounterBlock::attach(const std::string& name) {
  ShmSegment seg;
  if (!ShmSegment::open_existing(name, false, seg)) throw ShmError(prefix(name) + "does not exist");
  if (std::string problem = counter_block_problem(seg); !problem.empty()) throw ShmError(prefix(name) + problem);
  return CounterBlock(std::make_unique<CounterBlockImpl>(std::move(seg), name));
}

CounterEntry& CounterBlockImpl::find_or_register(std::string_view metric, MetricKind kind) {
  if (metric.empty() || metric.size() > CounterBlock::kMaxNameLength) {
    throw ShmError(prefix(name_) + "metric name '" + std::string(metric) + "' must be 1.." +
                   std::to_string(CounterBlock::kMaxNameLength) + " characters");
  }
  CounterHeader& h = header();
  CounterEntry* e = entries();
  const uint32_t cap = h.capacity;
  const uint64_t start = fnv1a(metric) % cap;
  for (uint32_t k = 0; k < cap; ++k) {
    CounterEntry& entry = e[(start + k) % cap];
    uint32_t st = entry.state.load(std::memory_order_acquire);
    if (st == kEntryEmpty) {
      if (entry.state.compare_exchange_strong(st, kEntryRegistering, std::memory_order_acq_rel)) {
        std::memset(entry.name, 0, sizeof entry.name);
        std::memcpy(entry.name, metric.data(), metric.size());
        entry.kind = static_cast<uint32_t>(kind);
        entry.state.store(kEntryReady, std::memory_order_release);
        h.registered.fetch_add(1, std::memory_order_relaxed);
        return entry;
      }
    }
    // Someone is writing this entry's name: wait for it (a few instructions; bounded in case it died).
    for (int spin = 0; st == kEntryRegistering && spin < 100000; ++spin) {
      std::this_thread::yield();
      st = entry.state.load(std::memory_order_acquire);
    }
    if (st != kEntryReady) continue;
    if (std::string_view(entry.name) == metric) {
      if (entry.kind != static_cast<uint32_t>(kind)) {
        throw ShmError(prefix(name_) + "metric '" + std::string(metric) + "' already registered as another kind");
      }
      return entry;
    }
  }
  throw ShmError(prefix(name_) + "full (" + std::to_string(cap) + " metrics), cannot register '" + std::string(metric) +
                 "'");
}

std::atomic<uint64_t>& CounterBlock::counter(std::string_view n) {
  return impl_->find_or_register(n, MetricKind::kCounter).value;
}
std::atomic<uint64_t>& CounterBlock::gauge(std::string_view n) {
  return impl_->find_or_register(n, MetricKind::kGauge).value;
}
Histogram& CounterBlock::histogram(std::string_view n) {
  return impl_->find_or_register(n, MetricKind::kHistogram).histogram;
}

std::vector<std::pair<std::string, uint64_t>> CounterBlock::snapshot() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const MetricSnapshot& m : snapshot_entries()) {
    if (m.kind != MetricKind::kHistogram) out.emplace_back(m.name, m.value);
  }
  return out;
}

std::vector<MetricSnapshot> CounterBlock::snapshot_entries() const {
  std::vector<MetricSnapshot> out;
  const CounterEntry* e = impl_->entries();
  for (uint32_t i = 0; i < impl_->header().capacity; ++i) {
    if (e[i].state.load(std::memory_order_acquire) != kEntryReady) continue;
    MetricSnapshot m;
    m.name.assign(e[i].name, strnlen(e[i].name, sizeof e[i].name));
    m.kind = static_cast<MetricKind>(e[i].kind);
    if (m.kind == MetricKind::kHistogram) {
      const Histogram& hist = e[i].histogram;
      m.value = hist.count.load(std::memory_order_relaxed);
      m.p50 = hist.percentile(50);
      m.p99 = hist.percentile(99);
      m.max = hist.max.load(std::memory_order_relaxed);
      m.mean = hist.mean();
    } else {
      m.value = e[i].value.load(std::memory_order_relaxed);
    }
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const MetricSnapshot& a, const MetricSnapshot& b) { return a.name < b.name; });
  return out;
}

uint32_t CounterBlock::capacity() const { return impl_->header().capacity; }
const std::string& CounterBlock::name() const { return impl_->name(); }
int32_t CounterBlock::creator_pid() const { return impl_->header().owner_pid; }
void CounterBlock::unlink(const std::string& name) { ShmSegment::unlink(name); }

}  // namespace peaknet::shm
