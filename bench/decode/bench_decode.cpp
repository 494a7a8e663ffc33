// bench_decode: single-thread decode throughput of the ingest decoders, each reported with its
// ratio to memcpy of the same bytes measured in the same run (counter `vs_memcpy`), and
// BM_Hdf5NoneThreads/threads:T/layout:L: T threads decoding the same 16x1x1920x1920 float32
// hdf5-none message concurrently (aggregate GBps over wall time; `lock_frac` = share of the threads'
// decode time spent holding libhdf5's lock, `lock_ms_msg` / `wait_ms_msg` per message). Layout
// 0 = lclstreamer's one chunk per event, 1 = tile chunks (2,1,640,960), 2 = contiguous. isolate:1
// = the catalog in each decoder's libhdf5 parser process (the default; the lock counters are then
// the children's, not seen here), 0 = in this process (`ingestd.decode.hdf5.isolate: false`).
//   bench_decode --benchmark_counters_tabular=true
//   bench_decode --benchmark_filter=Hdf5None --benchmark_counters_tabular=true
// Frames: 1920x1920 float32 (14.7 MB), synthetic: "counts" = photon counts (Poisson 0.05 + Bragg
// spots, integers stored as float), "noise" = pedestal-subtracted Gaussian noise (full mantissas).
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <time.h>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bitshuffle.hpp"
#include "ingest/decode/decoder.hpp"
#include "ingest/decode/hdf5_lock_stats.hpp"
#include "ingest/decode/memory_sink.hpp"
#include "pusher/batch_pattern.hpp"
#include "pusher/hdf5_image_writer.hpp"

namespace {
using namespace peaknet::ingest;
constexpr size_t kSide = 1920;
constexpr size_t kFrameBytes = kSide * kSide * sizeof(float);

std::vector<std::byte> frame(bool noise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> f(kSide * kSide);
  std::poisson_distribution<int> photons(0.05);
  std::normal_distribution<float> gauss(0.f, 1.f);
  for (auto& v : f) v = noise ? gauss(rng) : static_cast<float>(photons(rng));
  for (int spot = 0; spot < 200; ++spot) {
    const size_t y = rng() % (kSide - 4), x = rng() % (kSide - 4);
    for (size_t dy = 0; dy < 3; ++dy) {
      for (size_t dx = 0; dx < 3; ++dx) f[(y + dy) * kSide + x + dx] += 500.f;
    }
  }
  std::vector<std::byte> out(kFrameBytes);
  std::memcpy(out.data(), f.data(), kFrameBytes);
  return out;
}

double thread_cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// memcpy reference in thread CPU time, like the benchmarks' rates (robust on a busy machine).
double memcpy_gbps() {
  static const double gbps = [] {
    std::vector<std::byte> a(kFrameBytes, std::byte{1}), b(kFrameBytes);
    std::memcpy(b.data(), a.data(), a.size());
    const double t0 = thread_cpu_s();
    int n = 0;
    while (thread_cpu_s() - t0 < 0.3) {
      std::memcpy(b.data(), a.data(), a.size());
      benchmark::ClobberMemory();
      ++n;
    }
    return n * double(kFrameBytes) / (thread_cpu_s() - t0) / 1e9;
  }();
  return gbps;
}

void report(benchmark::State& state, size_t bytes_per_iter) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes_per_iter));
  state.counters["GBps"] =
      benchmark::Counter(double(bytes_per_iter) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["vs_memcpy"] = benchmark::Counter(double(bytes_per_iter) * state.iterations() / 1e9 / memcpy_gbps(),
                                                   benchmark::Counter::kIsRate);
}

void BM_Memcpy(benchmark::State& state) {
  std::vector<std::byte> a = frame(false, 1), b(kFrameBytes);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), a.size());
    benchmark::ClobberMemory();
  }
  report(state, kFrameBytes);
}

void BM_BitshuffleLz4(benchmark::State& state) {
  const auto raw = frame(state.range(0) == 1, 2);
  const auto packed = bitshuffle_lz4_compress(raw, 4, 2048);  // HDF5 default block for float32
  std::vector<std::byte> out(kFrameBytes), block;
  for (auto _ : state) {
    bitshuffle_decode(packed, {BitshuffleCodec::kLz4, 4, 2048}, kSide * kSide, out.data(), block, nullptr, "bench");
    benchmark::ClobberMemory();
  }
  if (out != raw) state.SkipWithError("round trip differs");
  state.counters["ratio"] = double(raw.size()) / double(packed.size());
  report(state, kFrameBytes);
}

void BM_BitunshuffleOnly(benchmark::State& state) {
  const auto raw = frame(false, 3);
  std::vector<std::byte> shuffled(kFrameBytes), out(kFrameBytes);
  const size_t block = 2048;
  for (size_t i = 0; i < kSide * kSide; i += block)
    bitshuffle_block(raw.data() + i * 4, shuffled.data() + i * 4, block, 4);
  for (auto _ : state) {
    for (size_t i = 0; i < kSide * kSide; i += block)
      bitunshuffle_block(shuffled.data() + i * 4, out.data() + i * 4, block, 4);
    benchmark::ClobberMemory();
  }
  report(state, kFrameBytes);
}

// A .npz message of one (B,1,1920,1920) float32 detector_data member, stored or raw-deflated,
// written like CPython's zipfile (local header + central directory + EOCD).
std::vector<std::byte> npz_message(bool compress, int batch) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(batch) + ", 1, 1920, 1920), }";
  while ((10 + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  std::vector<std::byte> npy(10 + dict.size());
  std::memcpy(npy.data(), "\x93NUMPY\x01\x00", 8);
  npy[8] = std::byte(dict.size() & 0xFF);
  npy[9] = std::byte(dict.size() >> 8);
  std::memcpy(npy.data() + 10, dict.data(), dict.size());
  for (int b = 0; b < batch; ++b) {
    auto f = frame(false, 10 + b);
    npy.insert(npy.end(), f.begin(), f.end());
  }
  std::vector<std::byte> data = npy;
  if (compress) {
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    data.resize(deflateBound(&z, npy.size()));
    z.next_in = reinterpret_cast<Bytef*>(npy.data());
    z.avail_in = static_cast<uInt>(npy.size());
    z.next_out = reinterpret_cast<Bytef*>(data.data());
    z.avail_out = static_cast<uInt>(data.size());
    ::deflate(&z, Z_FINISH);
    data.resize(z.total_out);
    deflateEnd(&z);
  }
  const std::string name = "detector_data.npy";
  const uint32_t crc =
      static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(npy.data()), static_cast<uInt>(npy.size())));
  std::vector<std::byte> m;
  auto u16 = [&](uint32_t v) {
    for (int i = 0; i < 2; ++i) m.push_back(std::byte((v >> (8 * i)) & 0xFF));
  };
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) m.push_back(std::byte((v >> (8 * i)) & 0xFF));
  };
  auto str = [&](const std::string& s) {
    for (char c : s) m.push_back(std::byte(c));
  };
  const uint16_t method = compress ? 8 : 0;
  u32(0x04034b50);
  u16(20);
  u16(0);
  u16(method);
  u16(0);
  u16(0);
  u32(crc);
  u32(static_cast<uint32_t>(data.size()));
  u32(static_cast<uint32_t>(npy.size()));
  u16(static_cast<uint32_t>(name.size()));
  u16(0);
  str(name);
  m.insert(m.end(), data.begin(), data.end());
  const uint32_t cd = static_cast<uint32_t>(m.size());
  u32(0x02014b50);
  u16(20);
  u16(20);
  u16(0);
  u16(method);
  u16(0);
  u16(0);
  u32(crc);
  u32(static_cast<uint32_t>(data.size()));
  u32(static_cast<uint32_t>(npy.size()));
  u16(static_cast<uint32_t>(name.size()));
  u16(0);
  u16(0);
  u16(0);
  u16(0);
  u32(0);
  u32(0);
  str(name);
  const uint32_t cd_size = static_cast<uint32_t>(m.size()) - cd;
  u32(0x06054b50);
  u16(0);
  u16(0);
  u16(1);
  u16(1);
  u32(cd_size);
  u32(cd);
  u16(0);
  return m;
}

void BM_Npz(benchmark::State& state) {
  const bool deflate = state.range(0) == 1;
  const int batch = 4;
  const auto message = npz_message(deflate, batch);
  Decoder decoder(DecoderOptions{});
  MemorySink sink(false);  // one reused buffer, like a slot
  for (auto _ : state) {
    sink.clear();
    const auto r = decoder.decode(message, sink);
    if (r.reject || r.events != static_cast<uint32_t>(batch)) state.SkipWithError(r.detail.c_str());
  }
  state.counters["ratio"] = double(batch * kFrameBytes) / double(message.size());
  report(state, batch * kFrameBytes);
}

constexpr int kHdf5Batch = 16;

// (16,1,1920,1920) float32 hdf5-none in `layout` (peaknet::pusher::Hdf5Layout), built once.
const std::vector<std::byte>& hdf5_none_message(int layout) {
  static std::vector<std::byte> messages[3];
  auto& m = messages[layout];
  if (m.empty()) {
    const auto arrays = peaknet::pusher::pattern_batch(0, 0, {kHdf5Batch, 1, kSide, kSide}, "float32", true);
    const auto image = peaknet::pusher::make_hdf5_image(arrays, peaknet::pusher::Hdf5Compression::kNone,
                                                        static_cast<peaknet::pusher::Hdf5Layout>(layout));
    m.resize(image.size());
    std::memcpy(m.data(), image.data(), image.size());
  }
  return m;
}

// T threads, each with its own Decoder and one reused slot-sized buffer (MemorySink without
// pixels), decode the same message at once, like T ingestd decode threads; one iteration = T
// messages. Wall-clock rates: the aggregate is what scales (or not) with T.
void BM_Hdf5NoneThreads(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0)), batch = kHdf5Batch;
  const auto& message = hdf5_none_message(static_cast<int>(state.range(1)));
  DecoderOptions options;
  options.hdf5_isolate = state.range(2) != 0;
  std::vector<Decoder> decoders;
  std::vector<MemorySink> sinks;
  for (int t = 0; t < threads; ++t) {
    decoders.emplace_back(options);
    sinks.emplace_back(false);
  }
  std::vector<std::string> errors(threads);
  std::vector<double> busy_s(threads, 0.0);
  auto decode_one = [&](int t) {
    const auto t0 = std::chrono::steady_clock::now();
    sinks[t].clear();
    const auto r = decoders[t].decode(message, sinks[t]);
    if (r.reject || r.events != static_cast<uint32_t>(batch)) errors[t] = r.detail.empty() ? "short" : r.detail;
    busy_s[t] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  {  // the decode is checked once against the pattern the message was built from
    MemorySink check(true);
    const auto r = decoders[0].decode(message, check);
    for (uint32_t e = 0; e < check.events().size(); ++e) {
      if (!peaknet::pusher::check_pattern(peaknet::pusher::pattern_key(0, 0, e), "<f4", kSide * kSide,
                                          reinterpret_cast<const uint8_t*>(check.events()[e].pixels.data()))) {
        state.SkipWithError("decoded pixels differ from the pattern");
      }
    }
    if (r.reject || check.events().size() != size_t(batch)) state.SkipWithError("hdf5-none did not decode");
  }
  for (int t = 0; t < threads; ++t) decode_one(t);  // warm: page-fault every buffer once
  std::fill(busy_s.begin(), busy_s.end(), 0.0);
  const auto lock0 = hdf5_lock_stats();
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(decode_one, t);
    decode_one(0);
    for (auto& th : pool) th.join();
  }
  const auto lock1 = hdf5_lock_stats();
  for (const auto& e : errors) {
    if (!e.empty()) state.SkipWithError(e.c_str());
  }
  double busy = 0;
  for (double b : busy_s) busy += b;
  const double messages = double(state.iterations()) * threads;
  state.counters["lock_frac"] = busy > 0 ? (lock1.held_ns - lock0.held_ns) * 1e-9 / busy : 0;
  state.counters["lock_ms_msg"] = (lock1.held_ns - lock0.held_ns) * 1e-6 / messages;
  state.counters["wait_ms_msg"] = (lock1.wait_ns - lock0.wait_ns) * 1e-6 / messages;
  state.counters["ms_msg"] = busy * 1e3 / messages;
  report(state, size_t(threads) * batch * kFrameBytes);
}

}  // namespace

BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BitunshuffleOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BitshuffleLz4)->Arg(0)->Arg(1)->ArgNames({"noise"})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Npz)->Arg(0)->Arg(1)->ArgNames({"deflate"})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hdf5NoneThreads)
    ->ArgsProduct({{1, 2, 4, 8}, {0, 1, 2}, {1, 0}})
    ->ArgNames({"threads", "layout", "isolate"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
