#include "doctor_message.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "common/config/config_node.hpp"
#include "common/config/slot_sizes.hpp"

#include "ingest/decode/decoder.hpp"
#include "ingest/decode/memory_sink.hpp"

namespace peaknet::ctl {

namespace {

using Level = DoctorFinding::Level;

std::string numpy_name(shm::DType t) {
  switch (t) {
    case shm::DType::kU8:
      return "uint8";
    case shm::DType::kU16:
      return "uint16";
    case shm::DType::kU32:
      return "uint32";
    case shm::DType::kU64:
      return "uint64";
    case shm::DType::kI8:
      return "int8";
    case shm::DType::kI16:
      return "int16";
    case shm::DType::kI32:
      return "int32";
    case shm::DType::kI64:
      return "int64";
    case shm::DType::kF32:
      return "float32";
    case shm::DType::kF64:
      return "float64";
  }
  return "unknown";
}

/// An event's stored shape and dtype: what sizes its slots.
struct EventKind {
  uint32_t channels, height, width;
  shm::DType dtype;
  auto tie() const { return std::tie(channels, height, width, dtype); }
  bool operator<(const EventKind& o) const { return tie() < o.tie(); }
  std::vector<int64_t> shape() const { return {channels, height, width}; }
  std::string text() const { return fmt::format("[{}, {}, {}] {}", channels, height, width, numpy_name(dtype)); }
  uint64_t pixel_bytes() const { return uint64_t(channels) * height * width * shm::dtype_size(dtype); }
};

}  // namespace

std::vector<DoctorFinding> check_sample_message(const config::SuiteConfig& cfg, const std::string& path) {
  std::vector<DoctorFinding> out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return {{Level::kFail, "sample message " + path + ": cannot read it", "give a readable file"}};
  const std::vector<char> text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::span<const std::byte> message(reinterpret_cast<const std::byte*>(text.data()), text.size());

  ingest::Decoder decoder(
      ingest::DecoderOptions::from_config(config::ConfigNode(cfg.ingestd.decode, "config.ingestd.decode")));
  ingest::MemorySink sink(/*keep_pixels=*/false);
  const ingest::DecodeResult r = decoder.decode(message, sink);
  const std::string name =
      fmt::format("sample message {} ({}, {} bytes)", path, ingest::to_string(r.format), text.size());
  if (r.reject) {
    out.push_back({Level::kFail, fmt::format("{}: rejected: {}: {}", name, ingest::to_string(*r.reject), r.detail),
                   "fix the producer's format or the config.ingestd.decode keys (docs/decoders.md)"});
  }
  if (sink.events().empty()) {
    if (!r.reject) {
      out.push_back({Level::kWarn,
                     name + ": no detector image in it (" +
                         (r.held ? "a Simplon image waiting for its start message" : "nothing to infer") + ")",
                     "give a message with a detector image"});
    }
    return out;
  }
  std::map<EventKind, uint64_t> kinds;
  for (const auto& e : sink.events()) ++kinds[{e.meta.channels, e.meta.height, e.meta.width, e.meta.dtype}];
  out.push_back({Level::kOk, fmt::format("{}: {} events decoded", name, sink.events().size()), ""});

  const uint64_t q1_slot = uint64_t(cfg.q1.slot_bytes);
  for (const auto& [kind, count] : kinds) {
    const uint64_t q1_needed = config::q1_slot_bytes_for(kind.shape(), numpy_name(kind.dtype));
    const std::string what = fmt::format(
        "{} event(s) of {} ({} bytes of pixels): a Q1 slot needs {} bytes, "
        "config.q1.slot_bytes = {}",
        count, kind.text(), kind.pixel_bytes(), q1_needed, q1_slot);
    if (q1_needed > q1_slot) {
      out.push_back({Level::kFail, what + ": every such event would be dropped (slot_too_small)",
                     fmt::format("--set q1.event_shape='[{}, {}, {}]' --set q1.event_dtype={} --set q1.slot_bytes=0 "
                                 "(auto), or q1.slot_bytes >= {}",
                                 kind.channels, kind.height, kind.width, numpy_name(kind.dtype), q1_needed)});
    } else {
      out.push_back({Level::kOk, what, ""});
    }
    if (!cfg.q1.event_shape.empty() && q1_needed > config::q1_slot_bytes_for(cfg.q1.event_shape, cfg.q1.event_dtype)) {
      out.push_back({Level::kWarn,
                     fmt::format("{} is larger than the declared config.q1.event_shape/event_dtype", kind.text()),
                     "declare the largest event the node takes in q1.event_shape / q1.event_dtype"});
    }
    if (cfg.inferd.write_frames) {
      const uint64_t q2_needed = config::q2_slot_bytes_for(uint64_t(cfg.peaks.max_num_peak), kind.pixel_bytes());
      const std::string q2_what = fmt::format(
          "inferd.write_frames: a Q2 slot with the frame of {} needs {} bytes, "
          "config.q2.slot_bytes = {}",
          kind.text(), q2_needed, cfg.q2.slot_bytes);
      if (q2_needed > uint64_t(cfg.q2.slot_bytes)) {
        out.push_back({Level::kFail, q2_what + ": the frames would be skipped (frames_skipped)",
                       fmt::format("q2.slot_bytes >= {} (or 0 with q1.event_shape declared)", q2_needed)});
      } else {
        out.push_back({Level::kOk, q2_what, ""});
      }
    }
    const auto& w = cfg.inferd.warmup_shape;
    if (cfg.inferd.warmup_iterations > 0 && w.size() == 3 &&
        (w[0] != int64_t(kind.channels) || w[1] != int64_t(kind.height) || w[2] != int64_t(kind.width))) {
      out.push_back({Level::kInfo,
                     fmt::format("inferd.warmup_shape [{}, {}, {}] differs from {}: the first batch of these events "
                                 "pays the warm-up (cuDNN autotuning, CUDA graph capture)",
                                 w[0], w[1], w[2], kind.text()),
                     ""});
    }
  }
  return out;
}

}  // namespace peaknet::ctl
