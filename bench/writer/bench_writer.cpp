// bench_writer: what writerd does per hit once it holds the Q2 slot: make the CXI row (peaks to slab
// coordinates, frame placed in the slab as float32), deflate the frame (WorkPool) and append it to a
// CXI file with H5Dwrite_chunk, rows in order, files of --events-per-file rows closed and renamed as
// writerd does. Reports events/s, input MB/s (raw frame + mask bytes) and file MB/s per deflate level and
// thread count, and the ratio to 1 thread at the same level (one run, same frames).
//
// With --masks each hit also carries its PeakNet mask (uint8, a 3x3 blob per peak, writerd.write_masks):
// placed in the slab, deflated and written to /entry_1/result_1/peakMask as writerd does.
//
//   bench_writer --size 1920 --panels 1 --events 64 --levels 0,1,4 --threads 1,2 [--content counts|noise] [--masks]
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "shm/event_layout.hpp"
#include "writerd/cxi_file.hpp"
#include "writerd/cxi_row.hpp"
#include "writerd/geometry.hpp"
#include "writerd/h5_handle.hpp"
#include "writerd/work_pool.hpp"

namespace fs = std::filesystem;
using namespace peaknet;

namespace {

// One Q2 slot image: ResultHeader, peaks, frame (float32, C x H x W), as inferd publishes a hit.
std::vector<std::byte> make_slot(uint32_t panels, uint32_t size, uint32_t seed, const std::string& content,
                                 bool masks) {
  const uint32_t n_peaks = 40;
  const uint64_t frame_floats = uint64_t(panels) * size * size;
  const uint64_t frame_offset = (shm::kPeaksOffset + n_peaks * sizeof(shm::PeakRecord) + 63) / 64 * 64;
  const uint64_t mask_offset = (frame_offset + frame_floats * 4 + 63) / 64 * 64;
  std::vector<std::byte> slot(masks ? mask_offset + frame_floats : frame_offset + frame_floats * 4);
  shm::ResultHeader h{};
  h.event_id = seed;
  h.channels = panels;
  h.height = h.orig_height = size;
  h.width = h.orig_width = size;
  h.n_peaks = h.n_found = n_peaks;
  h.photon_wavelength_a = 1.3;
  h.frame_bytes = frame_floats * 4;
  h.frame_offset = frame_offset;
  h.frame_dtype = shm::DType::kF32;
  if (masks) {
    h.mask_place = shm::MaskPlace::kHost;
    h.mask_channels = panels;
    h.mask_height = h.mask_width = size;
    h.mask_bytes = frame_floats;
    h.mask_offset = mask_offset;
  }
  std::memcpy(slot.data(), &h, sizeof h);
  std::mt19937 rng(seed);
  for (uint32_t i = 0; i < n_peaks; ++i) {
    shm::PeakRecord p{};
    p.panel = i % panels;
    p.y = double(rng() % size);
    p.x = double(rng() % size);
    p.intensity_sum = 500 + rng() % 1000;
    std::memcpy(slot.data() + shm::kPeaksOffset + i * sizeof p, &p, sizeof p);
    if (masks) {  // a 3x3 blob of peak pixels around the centroid
      auto* mask = reinterpret_cast<uint8_t*>(slot.data() + mask_offset) + uint64_t(p.panel) * size * size;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int64_t y = int64_t(p.y) + dy, x = int64_t(p.x) + dx;
          if (y >= 0 && x >= 0 && y < int64_t(size) && x < int64_t(size)) mask[y * size + x] = 1;
        }
    }
  }
  auto* frame = reinterpret_cast<float*>(slot.data() + frame_offset);
  if (content == "noise") {  // calibrated detector: pedestal-subtracted noise, every float distinct
    std::normal_distribution<float> noise(0.0f, 3.0f);
    for (uint64_t i = 0; i < frame_floats; ++i) frame[i] = noise(rng);
  } else {  // photon counts as float32: mostly 0, a few 1..n (a typical hit's diffuse background)
    std::poisson_distribution<int> counts(0.3);
    for (uint64_t i = 0; i < frame_floats; ++i) frame[i] = float(counts(rng));
  }
  return slot;
}

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t comma = text.find(',', pos);
    out.push_back(std::stoi(text.substr(pos, comma - pos)));
    pos = comma == std::string::npos ? text.size() : comma + 1;
  }
  return out;
}

struct Result {
  double seconds = 0;
  uint64_t file_bytes = 0;
};

Result run_trial(const std::vector<std::vector<std::byte>>& slots, const writerd::Geometry& g, int level, int threads,
                 int events, int per_file, const fs::path& dir, bool masks) {
  writerd::WorkPool pool(unsigned(std::max(0, threads - 1)));
  writerd::CxiLayout layout;
  layout.frames = true;
  layout.masks = masks;
  layout.slab_height = g.slab_height();
  layout.slab_width = g.slab_width();
  layout.compression_level = level;
  layout.pool = &pool;
  const size_t chunk = std::max<size_t>(size_t(threads), (64u << 20) / size_t(g.slab_height() * g.slab_width() * 4));
  std::vector<writerd::CxiRow> rows(chunk);
  std::vector<const writerd::CxiRow*> ptrs;
  Result r;
  const auto t0 = std::chrono::steady_clock::now();
  int done = 0, file_no = 0;
  while (done < events) {
    const fs::path path = dir / ("bench_" + std::to_string(file_no++) + ".cxi");
    writerd::CxiFile file(path.string() + ".inprogress", layout);
    for (int in_file = 0; in_file < per_file && done < events;) {
      const size_t n = std::min<size_t>({chunk, size_t(per_file - in_file), size_t(events - done)});
      pool.run(n, [&](size_t i) {
        const auto& s = slots[(done + i) % slots.size()];
        shm::ResultHeader h;
        std::memcpy(&h, s.data(), sizeof h);
        writerd::make_cxi_row(h, reinterpret_cast<const shm::PeakRecord*>(s.data() + shm::kPeaksOffset),
                              reinterpret_cast<const uint8_t*>(s.data()) + h.frame_offset, h.frame_bytes, g, 2048, true,
                              rows[i]);
        if (masks) {
          const bool placed =
              writerd::place_mask(h, reinterpret_cast<const uint8_t*>(s.data()) + h.mask_offset, g, rows[i].mask)
                  .empty();
          rows[i].mask_status = placed ? writerd::MaskStatus::kWritten : writerd::MaskStatus::kMissing;
        }
      });
      ptrs.clear();
      for (size_t i = 0; i < n; ++i) ptrs.push_back(&rows[i]);
      file.append(ptrs);
      in_file += int(n);
      done += int(n);
    }
    file.close();
    fs::rename(path.string() + ".inprogress", path);  // as writerd publishes (fsync none here)
    r.file_bytes += fs::file_size(path);
    fs::remove(path);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_writer: writerd rows + frames into CXI, by deflate level and threads"};
  int size = 1920, panels = 1, events = 64, per_file = 32, distinct = 4;
  std::string levels_text = "0,1,4", threads_text = "1,2", content = "counts", dir_text, json_path;
  bool masks = false;
  app.add_option("--size", size, "panel height = width (pixels)");
  app.add_option("--panels", panels, "panels per event");
  app.add_option("--events", events, "events per trial");
  app.add_option("--events-per-file", per_file, "rows per CXI file");
  app.add_option("--distinct", distinct, "distinct frames cycled through");
  app.add_option("--levels", levels_text, "deflate levels, comma separated (0 = none)");
  app.add_option("--threads", threads_text, "thread counts (writer thread included), comma separated");
  app.add_option("--content", content, "counts (Poisson photon counts) | noise (calibrated, every float distinct)")
      ->check(CLI::IsMember({"counts", "noise"}));
  app.add_option("--dir", dir_text, "output directory (default: a temp dir, removed)");
  app.add_option("--json", json_path, "also write the results as JSON here");
  app.add_flag("--masks", masks, "each hit also carries its PeakNet mask (writerd.write_masks)");
  CLI11_PARSE(app, argc, argv);

  writerd::h5_silence_errors();
  const fs::path dir = dir_text.empty() ? fs::temp_directory_path() / ("bench-writer-" + std::to_string(::getpid()))
                                        : fs::path(dir_text);
  fs::create_directories(dir);
  const writerd::Geometry g = writerd::Geometry::stacked(uint32_t(panels), uint32_t(size), uint32_t(size));
  std::vector<std::vector<std::byte>> slots;
  for (int i = 0; i < distinct; ++i)
    slots.push_back(make_slot(uint32_t(panels), uint32_t(size), uint32_t(i + 1), content, masks));
  const double frame_mb = double(panels) * size * size * (masks ? 5 : 4) / 1e6;  // input: frame (+ mask) bytes
  std::printf("bench_writer: %d events of %dx%dx%d float32 (%.1f MB)%s, %s, %d per file, dir %s, %u cores\n", events,
              panels, size, size, frame_mb, masks ? " + uint8 masks" : "", content.c_str(), per_file, dir.c_str(),
              std::thread::hardware_concurrency());
  std::printf("| level | threads | events/s | input MB/s | file MB/s | ratio (raw/file) | speed-up vs 1 thread |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- |\n");
  nlohmann::json out = nlohmann::json::array();
  for (int level : parse_list(levels_text)) {
    double one_thread = 0;
    for (int threads : parse_list(threads_text)) {
      run_trial(slots, g, level, threads, std::min(events, 2 * threads), per_file, dir, masks);  // warm-up
      const Result r = run_trial(slots, g, level, threads, events, per_file, dir, masks);
      const double eps = events / r.seconds;
      if (threads == 1 || one_thread == 0) one_thread = eps;
      const double ratio = double(events) * frame_mb * 1e6 / double(r.file_bytes);
      std::printf("| %d | %d | %.1f | %.0f | %.0f | %.2f | %.2f |\n", level, threads, eps, eps * frame_mb,
                  double(r.file_bytes) / 1e6 / r.seconds, ratio, eps / one_thread);
      std::fflush(stdout);
      out.push_back({{"level", level},
                     {"threads", threads},
                     {"events_per_s", eps},
                     {"input_mb_s", eps * frame_mb},
                     {"file_mb_s", double(r.file_bytes) / 1e6 / r.seconds},
                     {"compression_ratio", ratio},
                     {"speedup_vs_first", eps / one_thread}});
    }
  }
  if (dir_text.empty()) fs::remove_all(dir);
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (f) {
      std::fputs(out.dump(1).c_str(), f);
      std::fclose(f);
    }
  }
  return 0;
}
